//! Test code stays out of reports by default: files only test, bench and
//! example targets (and `#[cfg(test)]` modules) compile, classified from
//! the targets covwrap records at build time. Proc-macro unit tests are
//! not measured unless COVWRAP_PKG names the crate.

use std::fs;
use std::path::Path;
use std::process::Output;

use crate::support::*;

const MANIFEST: &str =
    "[package]\nname = \"tc\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n";

const LIB: &str = "//! Library code.

#[cfg(test)]
mod tests;
pub mod types;

/// Adds.
///
/// ```
/// assert_eq!(tc::add(1, 2), 3);
/// ```
pub fn add(a: i64, b: i64) -> i64 {
    a + b
}

pub fn never_called() -> i64 {
    7
}
";

const UNIT_TESTS: &str = "use super::*;

#[test]
fn adds() {
    assert_eq!(add(2, 2), 4);
}
";

/// Types without functions, and an inline `#[cfg(test)]` module: its only
/// functions are tests (cargo-llvm-cov reports it, covdata does not).
const TYPES: &str = "pub struct Pair {
    pub a: i64,
    pub b: i64,
}

#[cfg(test)]
mod tests {
    #[test]
    fn pair() {
        let p = super::Pair { a: 1, b: 2 };
        assert_eq!(p.a + p.b, 3);
    }
}
";

const MAIN: &str = "fn main() {
    let n: i64 = std::env::args().nth(1).map_or(1, |a| a.parse().unwrap());
    println!(\"{}\", tc::add(n, n));
}
";

const IT: &str = "mod common;

#[test]
fn spawns_the_binary() {
    let out = std::process::Command::new(env!(\"CARGO_BIN_EXE_tc\"))
        .arg(\"21\")
        .output()
        .unwrap();
    assert_eq!(common::trimmed(&out.stdout), \"42\");
}

#[test]
fn calls_the_library() {
    assert_eq!(tc::add(1, 1), 2);
}
";

const COMMON: &str = "pub fn trimmed(b: &[u8]) -> String {
    String::from_utf8_lossy(b).trim().to_string()
}
";

const EXAMPLE: &str = "fn main() {
    println!(\"{}\", tc::add(3, 4));
}
";

fn project() -> Project {
    let p = Project::bin("tc", MAIN, "");
    fs::write(p.dir.join("Cargo.toml"), MANIFEST).unwrap();
    for (path, text) in [
        ("src/lib.rs", LIB),
        ("src/tests.rs", UNIT_TESTS),
        ("src/types.rs", TYPES),
        ("tests/it.rs", IT),
        ("tests/common/mod.rs", COMMON),
        ("examples/demo.rs", EXAMPLE),
    ] {
        let file = p.dir.join(path);
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(file, text).unwrap();
    }
    p
}

fn covdata(args: &[&str]) -> Output {
    std::process::Command::new(covdata_exe())
        .args(args)
        .output()
        .unwrap()
}

fn covdata_ok(args: &[&str]) -> String {
    let out = covdata(args);
    assert_success(&out, &format!("covdata {}", args.join(" ")));
    assert_eq!(stderr(&out), "", "covdata {}", args.join(" "));
    stdout(&out)
}

/// The `SF:` paths of an LCOV file, relative to `root`.
fn lcov_files(lcov: &str, root: &Path) -> Vec<String> {
    lcov.lines()
        .filter_map(|l| l.strip_prefix("SF:"))
        .map(|f| {
            Path::new(f)
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

/// The sum of `key:` values of an LCOV file (`LF`, `LH`).
fn lcov_sum(lcov: &str, key: &str) -> u64 {
    lcov.lines()
        .filter_map(|l| l.strip_prefix(&format!("{key}:")))
        .map(|v| v.parse::<u64>().unwrap())
        .sum()
}

#[test]
fn test_bench_and_example_code_is_left_out_by_default() {
    let p = project();
    let cov = scratch("testcode-cov");
    p.cargo_with(&["test"], &[("COVDIR", cov.as_ref())]);
    p.cargo_with(&["run", "--example", "demo"], &[("COVDIR", cov.as_ref())]);
    let i = format!("-i={}", cov.display());

    let lcov = covdata_ok(&["lcov", &i]);
    assert_eq!(lcov_files(&lcov, &p.dir), ["src/lib.rs", "src/main.rs"]);
    // The library lines the tests and the spawned binary reach count.
    assert!(lcov.contains("DA:12,"), "{lcov}");
    let all = covdata_ok(&["lcov", &i, "--include-tests"]);
    assert_eq!(
        lcov_files(&all, &p.dir),
        [
            "examples/demo.rs",
            "src/lib.rs",
            "src/main.rs",
            "src/tests.rs",
            "src/types.rs",
            "tests/common/mod.rs",
            "tests/it.rs"
        ]
    );
    let only = covdata_ok(&["lcov", &i, "--include-files=tests/**"]);
    assert_eq!(
        lcov_files(&only, &p.dir),
        ["tests/common/mod.rs", "tests/it.rs"]
    );
    let less = covdata_ok(&["lcov", &i, "--exclude-files=main.rs"]);
    assert_eq!(lcov_files(&less, &p.dir), ["src/lib.rs"]);

    // percent's total, func's total and textfmt cover the same files.
    let percent = covdata_ok(&["percent", &i]);
    let total = percent.lines().last().unwrap();
    let (lf, lh) = (lcov_sum(&lcov, "LF"), lcov_sum(&lcov, "LH"));
    assert!(total.contains(&format!("({lh}/{lf})")), "{percent}\n{lcov}");
    let func = covdata_ok(&["func", &i]);
    assert!(
        !func.contains("tests/") && !func.contains("examples/"),
        "{func}"
    );
    assert!(func.contains("src/lib.rs"), "{func}");
    let text = covdata_ok(&["textfmt", &i]);
    let files: std::collections::BTreeSet<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(
        files.into_iter().collect::<Vec<_>>(),
        ["src/lib.rs", "src/main.rs"]
    );
}

#[test]
fn cfg_test_modules_count_when_no_plain_build_shows_them_apart() {
    let p = project();
    let cov = scratch("testcode-lib-only");
    // Only the unit-test harness: nothing shows which of its files the
    // library proper has, so all of them are reported.
    p.cargo_with(&["test", "--lib"], &[("COVDIR", cov.as_ref())]);
    let lcov = covdata_ok(&["lcov", &format!("-i={}", cov.display())]);
    assert_eq!(
        lcov_files(&lcov, &p.dir),
        ["src/lib.rs", "src/tests.rs", "src/types.rs"]
    );
}

#[test]
fn proc_macro_unit_tests_are_measured_only_when_named() {
    let p = Project::bin("pm", "", "[lib]\nproc-macro = true\n");
    fs::remove_file(p.dir.join("src/main.rs")).unwrap();
    fs::write(
        p.dir.join("src/lib.rs"),
        "use proc_macro::TokenStream;

#[proc_macro]
pub fn shout(input: TokenStream) -> TokenStream {
    input
}

fn helper(s: &str) -> String {
    s.to_uppercase()
}

#[test]
fn helper_shouts() {
    assert_eq!(helper(\"a\"), \"A\");
}
",
    )
    .unwrap();
    let cov = scratch("testcode-pm");
    p.cargo_with(&["test", "--lib"], &[("COVDIR", cov.as_ref())]);
    assert!(
        CovDir::read(&cov).metas.is_empty(),
        "proc-macro tests measured by default"
    );
    let out = p.cargo_with(
        &["test", "--lib"],
        &[("COVDIR", cov.as_ref()), ("COVWRAP_PKG", "pm".as_ref())],
    );
    assert!(stdout(&out).contains("1 passed"), "{}", stdout(&out));
    let percent = covdata_ok(&["percent", &format!("-i={}", cov.display())]);
    assert!(percent.lines().any(|l| l.starts_with("pm ")), "{percent}");
}
