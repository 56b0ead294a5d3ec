//! Profiled runs of test programs, and the LCOV lines tests read back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{make_covdir, run_profiled};

/// Two profiled runs of `bin` (arguments `a`, then `b`) into DIR/a.profraw
/// and DIR/b.profraw, and DIR/covdir made of them; returns (covdir, runs).
pub fn two_runs_covdir(dir: &Path, bin: &Path, a: &[&str], b: &[&str]) -> (PathBuf, [PathBuf; 2]) {
    let runs = [dir.join("a.profraw"), dir.join("b.profraw")];
    run_profiled(bin, a, &runs[0]);
    run_profiled(bin, b, &runs[1]);
    let covdir = dir.join("covdir");
    make_covdir(&covdir, &[bin.to_path_buf()], &runs);
    (covdir, runs)
}

/// (SF path, line) → count of every `DA` line.
pub fn lcov_da(lcov: &str) -> BTreeMap<(String, u32), u64> {
    let mut out = BTreeMap::new();
    let mut file = String::new();
    for l in lcov.lines() {
        if let Some(f) = l.strip_prefix("SF:") {
            file = f.to_string();
        } else if let Some(rest) = l.strip_prefix("DA:") {
            let (line, count) = rest.split_once(',').unwrap();
            out.insert(
                (file.clone(), line.parse().unwrap()),
                count.parse().unwrap(),
            );
        }
    }
    out
}
