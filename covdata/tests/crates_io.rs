//! Parity with llvm-cov 22 on real crates from crates.io and their own
//! test suites: each crate's test binaries are built with
//! `-C instrument-coverage`, run, and reported together (one pod per test
//! binary), by covdata and by llvm-cov with every binary as an object.
//!
//! The crates are fetched with cargo into a temporary project; builds go
//! to a shared target directory under the system temp dir, so later runs
//! are incremental.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// Crates with mixed code (generics, closures, macros, traits) and
/// self-contained test suites.
const CRATES: [(&str, &str); 3] = [
    ("semver", "=1.0.26"),
    ("itoa", "=1.0.15"),
    ("strsim", "=0.11.1"),
];

fn shared_dir() -> PathBuf {
    std::env::temp_dir().join("covdata-test-crates-io")
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Fetches the crates and returns their unpacked source directories.
fn fetch_sources(root: &Path) -> Vec<(String, PathBuf)> {
    let project = root.join("fetch");
    std::fs::create_dir_all(project.join("src")).unwrap();
    let mut manifest = String::from(
        "[package]\nname = \"covdata-fetch\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[workspace]\n\n[dependencies]\n",
    );
    for (name, version) in CRATES {
        manifest.push_str(&format!("{name} = \"{version}\"\n"));
    }
    std::fs::write(project.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(project.join("src/lib.rs"), "").unwrap();
    let out = run(cargo()
        .args(["metadata", "--format-version", "1"])
        .current_dir(&project));
    let meta = String::from_utf8(out.stdout).unwrap();
    CRATES
        .iter()
        .map(|(name, version)| {
            let version = version.trim_start_matches('=');
            let needle = format!("{name}-{version}/Cargo.toml\"");
            let end = meta
                .find(&needle)
                .unwrap_or_else(|| panic!("{name} {version} not in cargo metadata"));
            let start = meta[..end].rfind('"').unwrap() + 1;
            let manifest = PathBuf::from(&meta[start..end + needle.len() - 1]);
            (name.to_string(), manifest.parent().unwrap().to_path_buf())
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// Builds a crate's test binaries with coverage; returns their paths.
fn build_tests(crate_dir: &Path, target: &Path) -> Vec<PathBuf> {
    let out = run(cargo()
        .args(["test", "--tests", "--no-run", "--message-format=json"])
        .current_dir(crate_dir)
        .env("CARGO_TARGET_DIR", target)
        .env("RUSTFLAGS", "-Cinstrument-coverage")
        .env_remove("RUSTC_WRAPPER")
        .env_remove("CARGO_ENCODED_RUSTFLAGS"));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut bins: Vec<PathBuf> = text
        .lines()
        .filter_map(|l| {
            let at = l.find("\"executable\":\"")? + "\"executable\":\"".len();
            let end = l[at..].find('"')? + at;
            Some(PathBuf::from(&l[at..end]))
        })
        .collect();
    bins.sort();
    bins.dedup();
    assert!(!bins.is_empty(), "no test binaries in\n{text}");
    bins
}

#[test]
fn crates_io_test_suites() {
    let root = shared_dir();
    let target = root.join("target");
    let sources = fetch_sources(&root);
    for (name, src) in sources {
        let s = Scratch::new(&format!("crate-{name}"));
        let crate_dir = s.path(&name);
        copy_dir(&src, &crate_dir);
        let bins = build_tests(&crate_dir, &target);
        let prof = s.path("prof");
        std::fs::create_dir_all(&prof).unwrap();
        for bin in &bins {
            run(Command::new(bin)
                .arg("--test-threads=2")
                .current_dir(&crate_dir)
                .env("LLVM_PROFILE_FILE", prof.join("run-%p-%m.profraw")));
        }
        let mut profraws: Vec<PathBuf> = std::fs::read_dir(&prof)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        profraws.sort();
        assert!(!profraws.is_empty(), "{name}: no profiles written");
        let covdir = s.path("covdir");
        make_covdir(&covdir, &bins, &profraws);
        // llvm-cov deduplicates across objects in command-line order;
        // covdata in pod (H) order. Give llvm-cov the same order.
        let mut ordered = bins.clone();
        ordered.sort_by_key(|b| write_meta(&s.path("order"), b).0);
        check_against_llvm(&s, &covdir, &ordered, &profraws);
        // The crate under test is there, with its functions.
        let crates = covdata_ok(&["pkglist", &format!("-i={}", covdir.display())]);
        assert!(crates.lines().any(|c| c == name), "{name}: {crates}");
    }
}
