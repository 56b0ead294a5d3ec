//! Generates `$OUT_DIR/generated.rs`, which `src/main.rs` includes. The hash is
//! computed here with `shared`, and checked again at run time with the same code.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let greeting = "hello from build.rs";
    let code = format!(
        "/// Written by build.rs.\n\
         pub const GREETING: &str = {greeting:?};\n\
         /// `shared::fnv1a(GREETING)`, computed by build.rs.\n\
         pub const GREETING_HASH: u32 = {:#010x};\n",
        shared::fnv1a(greeting.as_bytes())
    );
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out.join("generated.rs"), code).expect("write generated.rs");
}
