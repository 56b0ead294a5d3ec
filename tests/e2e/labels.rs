//! Per-test labels as the runtime records them under real `cargo test` and
//! `cargo nextest run` (one process per test), on a package with a
//! library, a binary, unit tests in both, and two integration tests (one
//! with a dash in its name, one spawning the binary); and `covdata tests
//! --format=nextest-filter` output that real nextest accepts and that
//! selects exactly the tests (or binaries) that reached the code.

use std::collections::BTreeSet;
use std::fs;
use std::process::Command;

use covwrap_rt::format::defs::arg_keys;

use crate::support::*;

const LIB: &str = r#"pub fn parse(s: &str) -> i32 {
    s.trim().parse().unwrap_or(-1)
}

pub fn render(n: i32) -> String {
    format!("<{n}>")
}

#[cfg(test)]
mod tests {
    #[test]
    fn unit_parse() {
        assert_eq!(super::parse(" 4 "), 4);
    }
}
"#;

const MAIN: &str = r#"fn main() {
    let n = std::env::args().count() as i32 - 1;
    println!("{}", lbl_demo::render(n));
}

#[cfg(test)]
mod tests {
    #[test]
    fn bin_unit() {
        assert_eq!(lbl_demo::render(2), "<2>");
    }
}
"#;

const IT: &str = r#"#[test]
fn parses() {
    assert_eq!(lbl_demo::parse("7"), 7);
}

#[test]
fn spawns() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lbl-demo"))
        .arg("x")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "<1>");
}
"#;

const IT_TWO: &str = r#"#[test]
fn dashed() {
    assert_eq!(lbl_demo::parse("1"), 1);
}
"#;

fn project() -> Project {
    let p = Project::bin("lbl-demo", MAIN, "");
    fs::write(p.dir.join("src/lib.rs"), LIB).unwrap();
    fs::create_dir_all(p.dir.join("tests")).unwrap();
    fs::write(p.dir.join("tests/it.rs"), IT).unwrap();
    fs::write(p.dir.join("tests/it-two.rs"), IT_TWO).unwrap();
    p
}

/// `cargo <args>` with covwrap into `cov`, with no label or nextest
/// variable inherited from whatever runs this suite.
fn cargo_into(p: &Project, args: &[&str], cov: &std::path::Path) {
    let mut cmd = p.cargo_cmd(args, true);
    cmd.env("COVDIR", cov);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("NEXTEST") || k.starts_with("COVWRAP_LABEL") {
            cmd.env_remove(&k);
        }
    }
    let out = cmd.output().unwrap();
    assert_success(&out, &format!("cargo {}", args.join(" ")));
}

/// Every (label, label-source) the COVDIR's runs recorded.
fn labels(cov: &std::path::Path) -> BTreeSet<(String, String)> {
    CovDir::read(cov)
        .counter_files()
        .filter_map(|f| {
            let get = |key: &str| {
                f.args()
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| v.clone())
            };
            Some((get(arg_keys::LABEL)?, get(arg_keys::LABEL_SOURCE)?))
        })
        .collect()
}

fn filter(cov: &std::path::Path, query: &str) -> String {
    let out = Command::new(covdata_exe())
        .args(["tests", &format!("-i={}", cov.display()), query])
        .arg("--format=nextest-filter")
        .output()
        .unwrap();
    assert_success(&out, "covdata tests");
    stdout(&out).trim().to_string()
}

/// The tests `cargo nextest list -E FILTER` selects.
fn nextest_list(p: &Project, filter: &str) -> BTreeSet<String> {
    let out = p.cargo(&["nextest", "list", "-E", filter]);
    stdout(&out)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn cargo_test_and_nextest_labels_are_nextest_ids_and_their_filters_select_the_tests() {
    let p = project();
    let pair = |l: &str, s: &str| (l.to_string(), s.to_string());

    // cargo test: one label per test binary, spelled as nextest's binary
    // ids; the spawned binary carries its test's label.
    let cov = scratch("labels-cargo-test");
    cargo_into(&p, &["test", "-q"], &cov);
    assert_eq!(
        labels(&cov),
        [
            pair("lbl-demo", "cargo-test"),
            pair("lbl-demo::bin/lbl-demo", "cargo-test"),
            pair("lbl-demo::it", "cargo-test"),
            pair("lbl-demo::it-two", "cargo-test"),
        ]
        .into_iter()
        .collect()
    );
    // parse() is reached by the library's unit tests, `it` and `it-two`.
    let f = filter(&cov, "--function=parse");
    assert_eq!(
        f,
        "binary_id(=lbl-demo) | binary_id(=lbl-demo::it) | binary_id(=lbl-demo::it-two)"
    );
    assert_eq!(
        nextest_list(&p, &f),
        set(&[
            "lbl-demo tests::unit_parse",
            "lbl-demo::it parses",
            "lbl-demo::it spawns",
            "lbl-demo::it-two dashed",
        ])
    );

    // nextest: one label per test; listing runs carry the binary id.
    let cov = scratch("labels-nextest");
    cargo_into(&p, &["nextest", "run"], &cov);
    let recorded = labels(&cov);
    for l in [
        "lbl-demo tests::unit_parse",
        "lbl-demo::bin/lbl-demo tests::bin_unit",
        "lbl-demo::it parses",
        "lbl-demo::it spawns",
        "lbl-demo::it-two dashed",
    ] {
        assert!(recorded.contains(&pair(l, "nextest")), "{l}: {recorded:?}");
    }
    // render() is reached by the binary's unit test and by the test that
    // spawns the binary: exactly those two.
    let f = filter(&cov, "--function=render");
    assert_eq!(
        f,
        "(binary_id(=lbl-demo::bin/lbl-demo) & test(=tests::bin_unit)) | (binary_id(=lbl-demo::it) & test(=spawns))"
    );
    assert_eq!(
        nextest_list(&p, &f),
        set(&[
            "lbl-demo::bin/lbl-demo tests::bin_unit",
            "lbl-demo::it spawns"
        ])
    );

    // A label the user sets wins, and is no test nextest can select.
    let out = run(&p.exe("debug", "lbl-demo"), &["a"], Some(&cov));
    assert_success(&out, "lbl-demo");
    let out = Command::new(p.exe("debug", "lbl-demo"))
        .arg("b")
        .env("COVDIR", &cov)
        .env("COVWRAP_LABEL", "smoke: render")
        .output()
        .unwrap();
    assert_success(&out, "lbl-demo with a label");
    let out = Command::new(covdata_exe())
        .args([
            "tests",
            &format!("-i={}", cov.display()),
            "--function=render",
        ])
        .output()
        .unwrap();
    assert_success(&out, "covdata tests");
    assert!(stdout(&out).contains("smoke: render  "), "{}", stdout(&out));
    assert_eq!(filter(&cov, "--function=render"), f);
}
