//! The label of a run, for per-test attribution (`covdata tests`): who
//! asked for this process. Decided once at startup; docs/FORMAT.md (`label`)
//! gives the rules.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

const LABEL_VAR: &str = "COVWRAP_LABEL";

/// The label to record, if any: a user-set `COVWRAP_LABEL` first, then the
/// test nextest runs in this process, then the test binary `cargo test`
/// runs. An automatic label is exported as `COVWRAP_LABEL`, so the
/// programs a test spawns (`CARGO_BIN_EXE_*`) are attributed to it too.
pub(super) fn of_this_process(argv: &[OsString]) -> Option<Vec<u8>> {
    if let Some(user) = std::env::var_os(LABEL_VAR).filter(|v| !v.is_empty()) {
        return Some(user.into_vec());
    }
    let label = nextest_label().or_else(|| cargo_test_label(argv))?;
    // SAFETY: this runs in the ELF constructor, before `main`, while the
    // process has a single thread: nothing can read the environment
    // concurrently.
    unsafe { std::env::set_var(LABEL_VAR, &label) };
    Some(label.into_bytes())
}

/// Under cargo-nextest (one process per test) the binary id and the test's
/// name, as nextest prints them: `my-crate::integration tests::parses`.
/// While nextest lists tests there is no test name: the binary id alone.
fn nextest_label() -> Option<String> {
    std::env::var_os("NEXTEST")?;
    let binary = std::env::var("NEXTEST_BINARY_ID").ok()?;
    match std::env::var("NEXTEST_TEST_NAME") {
        Ok(test) if !test.is_empty() => Some(format!("{binary} {test}")),
        _ => Some(binary),
    }
}

/// A test binary `cargo test` runs (`target/<profile>/deps/<name>-<hash>`,
/// with cargo's `CARGO_PKG_NAME`): the test binary, spelled like nextest's
/// binary id, `<package>` for the library's unit tests and
/// `<package>::<name>` otherwise.
fn cargo_test_label(argv: &[OsString]) -> Option<String> {
    let package = std::env::var("CARGO_PKG_NAME").ok()?;
    let exe = std::env::current_exe()
        .ok()
        .or_else(|| argv.first().map(Into::into))?;
    let name = test_binary_name(&exe)?;
    if name == package.replace('-', "_") {
        Some(package)
    } else {
        Some(format!("{package}::{name}"))
    }
}

/// `<name>` of `.../deps/<name>-<16 hex digits>`.
fn test_binary_name(exe: &Path) -> Option<String> {
    if exe.parent()?.file_name()?.as_bytes() != b"deps" {
        return None;
    }
    let file = exe.file_name()?.to_str()?;
    let (name, hash) = file.rsplit_once('-')?;
    let is_hash = hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit());
    (is_hash && !name.is_empty()).then(|| name.to_string())
}
