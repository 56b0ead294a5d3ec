//! Runs the built `app` binary.

use std::process::Command;

fn app(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_app"))
        .args(args)
        .output()
        .expect("failed to run app");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into(),
    )
}

#[test]
fn summarises_given_numbers() {
    let (code, out) = app(&["1500", "2500"]);
    assert_eq!(code, Some(0));
    assert!(out.starts_with("== app 0.1.0 =="), "{out}");
    assert!(out.contains("(hash 0x"), "{out}");
    assert!(out.contains(", verified)"), "{out}");
    assert!(out.contains("count 2 min 1500 max 2500 mean 2000.00 total 4,000"));
    assert!(out.contains("as sizes: 3.9 KiB, 3.9 MiB"), "{out}");
    assert!(out.contains("settings: Settings { numbers, verbose }"));
}

#[test]
fn help_and_bad_arguments() {
    let (code, out) = app(&["--help"]);
    assert_eq!(code, Some(0));
    assert!(out.starts_with("usage: app"));
    assert_eq!(app(&["x"]).0, Some(2));
}
