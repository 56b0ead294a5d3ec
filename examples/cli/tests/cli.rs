//! Runs the built `cli` binary the way a user would.

use std::process::{Command, Output};

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cli"))
        .args(args)
        .output()
        .expect("failed to run cli")
}

#[test]
fn reverse_prints_reversed_text() {
    let out = cli(&["reverse", "hello", "world"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "dlrow olleh\n");
}

#[test]
fn sum_with_bad_integer_exits_2() {
    let out = cli(&["sum", "1", "two"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an integer: 'two'"));
}

#[test]
fn no_arguments_prints_usage() {
    let out = cli(&[]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("usage: cli"));
}
