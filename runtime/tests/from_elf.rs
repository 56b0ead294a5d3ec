//! Builds real instrumented binaries with the rustc on PATH and checks the
//! meta file derived from them.

use std::path::{Path, PathBuf};
use std::process::Command;

use covwrap_rt::format::elf::FileReader;
use covwrap_rt::format::from_elf::{build_meta, find_slot};
use covwrap_rt::format::meta::MetaFile;
use covwrap_rt::format::ErrorKind;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("covwrap-rt-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn rustc(dir: &Path, source: &str, extra: &[&str]) -> PathBuf {
    std::fs::write(dir.join("main.rs"), source).unwrap();
    let out = dir.join("main");
    let status = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .args(["--edition", "2021", "main.rs", "-o", "main"])
        .args(extra)
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(status.success());
    out
}

const PROGRAM: &str = r#"
fn classify(n: i32) -> &'static str { if n < 0 { "neg" } else if n == 0 { "zero" } else { "pos" } }
#[allow(dead_code)]
fn never() -> u32 { 7 }
fn main() { for a in std::env::args().skip(1) { println!("{}", classify(a.parse().unwrap())); } }
"#;

#[test]
fn meta_of_an_instrumented_binary() {
    let dir = scratch("instr");
    let exe = rustc(
        &dir,
        PROGRAM,
        &["-C", "instrument-coverage", "-C", "opt-level=1"],
    );
    let reader = FileReader::new(std::fs::File::open(&exe).unwrap()).unwrap();
    let builder = build_meta(&reader).unwrap();
    assert!(builder.funcs.len() >= 2, "{:?}", builder.funcs);
    let total: u32 = builder.funcs.iter().map(|f| f.num_counters).sum();
    assert_eq!(
        total, builder.total_counters,
        "counter ranges tile the array"
    );
    assert!(!builder.covmap.is_empty() && !builder.covfun.is_empty() && !builder.names.is_empty());
    let (bytes, hash) = builder.encode();
    let parsed = MetaFile::parse(&bytes).unwrap();
    assert_eq!(parsed.hash(), hash);
    assert_eq!(parsed.ident_value("machine"), Some(std::env::consts::ARCH));
    assert!(parsed
        .ident_value("producer")
        .unwrap()
        .contains("rustc version"));
    // Same binary, same meta, byte for byte.
    assert_eq!(build_meta(&reader).unwrap().encode().0, bytes);
    // No runtime linked, so no slot.
    assert_eq!(find_slot(&reader).unwrap(), None);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn plain_binary_is_not_instrumented() {
    let dir = scratch("plain");
    let exe = rustc(&dir, PROGRAM, &[]);
    let reader = FileReader::new(std::fs::File::open(&exe).unwrap()).unwrap();
    let err = build_meta(&reader).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotInstrumented);
    assert!(err.to_string().contains("__llvm_covfun"), "{err}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn binary_that_runs_no_instrumented_code_has_an_empty_function_table() {
    // Only unused functions: mapping records, no counters.
    let dir = scratch("unused");
    let source = "pub fn never(x: u32) -> u32 { if x > 3 { x } else { 0 } }\nfn main() {}\n";
    let exe = rustc(
        &dir,
        source,
        &[
            "-C",
            "instrument-coverage",
            "--crate-type",
            "bin",
            "-A",
            "dead_code",
        ],
    );
    let reader = FileReader::new(std::fs::File::open(&exe).unwrap()).unwrap();
    let meta = build_meta(&reader).unwrap();
    assert!(!meta.covfun.is_empty());
    let (bytes, _) = meta.encode();
    MetaFile::parse(&bytes).unwrap();
    std::fs::remove_dir_all(dir).ok();
}
