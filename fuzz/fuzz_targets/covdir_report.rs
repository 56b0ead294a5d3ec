//! `covdir_report`: see covdata/tests/fuzz_harness/mod.rs, which
//! covdata/tests/fuzz_regressions.rs also replays saved inputs through.
//! Each process writes its COVDIR into one temporary directory of its own.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

#[path = "../../covdata/tests/fuzz_harness/mod.rs"]
mod harness;

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        std::env::temp_dir().join(format!("covwrap-fuzz-covdir-{}", std::process::id()))
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = harness::covdir_report(data, dir());
});
