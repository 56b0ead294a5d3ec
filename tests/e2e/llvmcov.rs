//! Side by side with cargo-llvm-cov on real crates.io crates whose
//! integration tests spawn their binaries: `cargo test` under covwrap and
//! `cargo llvm-cov` must report the same files (test code left out by
//! both) and give every line of them the same covered/uncovered status.
//!
//! The suite runs `hexyl`; `COVWRAP_LLVM_COV_CRATES=name@version,...`
//! picks others (`scripts/compare-llvm-cov.sh` adds ripgrep). Suites that
//! draw random inputs (proptest) cannot be compared line by line.
//! Requires `cargo-llvm-cov` (`.ci/run` installs it) and llvm-cov-22.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use crate::support::*;

const DEFAULT_CRATES: &str = "hexyl@0.16.0";

fn files(status: &BTreeMap<(String, u32), bool>) -> BTreeSet<String> {
    status.keys().map(|(f, _)| f.clone()).collect()
}

/// llvm-cov-22 and llvm-profdata-22, where `.ci/run` installs them.
fn llvm_tool(name: &str) -> String {
    let versioned = format!("/usr/lib/llvm-22/bin/{name}");
    if Path::new(&versioned).exists() {
        versioned
    } else {
        format!("{name}-22")
    }
}

fn compare(name: &str, version: &str) {
    let project = crates_io_project(name, version);
    let cov = scratch(&format!("llvmcov-{name}"));
    project.cargo_with(&["test"], &[("COVDIR", cov.as_ref())]);
    let lcov = |extra: &[&str]| {
        let out = Command::new(covdata_exe())
            .arg("lcov")
            .arg(format!("-i={}", cov.display()))
            .args(extra)
            .output()
            .unwrap();
        assert_success(&out, "covdata lcov");
        lcov_line_status(&stdout(&out), &project.dir)
    };
    let mut ours = lcov(&[]);
    let with_tests = lcov(&["--include-tests"]);

    let theirs_path = cov.with_extension("llvm-cov.info");
    let out = project
        .cargo_cmd(
            &[
                "llvm-cov",
                "--lcov",
                "--output-path",
                &theirs_path.to_string_lossy(),
            ],
            false,
        )
        .env(
            "CARGO_TARGET_DIR",
            project.target.with_extension("llvm-cov"),
        )
        .env("LLVM_COV", llvm_tool("llvm-cov"))
        .env("LLVM_PROFDATA", llvm_tool("llvm-profdata"))
        .output()
        .expect("cargo llvm-cov (install it with `cargo install --locked cargo-llvm-cov`)");
    assert_success(&out, "cargo llvm-cov");
    let theirs = lcov_line_status(
        &std::fs::read_to_string(&theirs_path).unwrap(),
        &project.dir,
    );

    assert!(!ours.is_empty(), "{name}: no lines");
    let (our_files, their_files) = (files(&ours), files(&theirs));
    assert!(
        our_files.is_subset(&their_files),
        "{name}: covdata reports files cargo-llvm-cov leaves out: {:?}",
        our_files.difference(&their_files).collect::<Vec<_>>()
    );
    // The one known difference (docs/COVDATA.md, "Test code"): a file
    // whose only functions are `#[cfg(test)]` ones (the rest of it types
    // without functions) is test code for covdata. It must be that:
    // reported with --include-tests, line for line as cargo-llvm-cov does.
    for file in their_files.difference(&our_files) {
        let theirs_in = theirs.iter().filter(|((f, _), _)| f == file);
        for (key, covered) in theirs_in {
            assert_eq!(
                with_tests.get(key),
                Some(covered),
                "{name}: {file} is neither reported nor test code for covdata ({key:?})"
            );
            ours.insert(key.clone(), *covered);
        }
        eprintln!("{name}: {file}: only #[cfg(test)] functions, test code for covdata");
    }
    assert_same_line_status(name, &ours, &theirs);
}

#[test]
fn crates_io_clis_match_cargo_llvm_cov_line_by_line() {
    let list = std::env::var("COVWRAP_LLVM_COV_CRATES").unwrap_or(DEFAULT_CRATES.to_string());
    for spec in list.split(',').filter(|s| !s.is_empty()) {
        let (name, version) = spec
            .split_once('@')
            .unwrap_or_else(|| panic!("{spec}: want name@version"));
        compare(name, version);
    }
}
