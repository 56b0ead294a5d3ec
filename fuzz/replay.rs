//! The saved inputs of the fuzz targets, for the crates' regression tests
//! (`covdata/tests/fuzz_regressions.rs`, `runtime/tests/fuzz_regressions.rs`
//! include this file by path). `tests/fixtures/fuzz/<target>/` is relative
//! to the including crate.

use std::path::{Path, PathBuf};

/// The directory of `target`'s saved inputs.
pub fn fixture_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz")
        .join(target)
}

/// Every saved input of `target`, sorted by name.
pub fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = fixture_dir(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(e.path()).unwrap())
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no inputs in {}", dir.display());
    out
}

/// One saved input of `target`.
pub fn input(target: &str, name: &str) -> Vec<u8> {
    let path = fixture_dir(target).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
