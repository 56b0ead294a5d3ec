//! The label of a run, for per-test attribution (`covdata tests`): who
//! asked for this process. Decided once at startup; docs/FORMAT.md (`label`)
//! gives the rules.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

use crate::format::defs::{ident_keys, label_source, target_kinds};

const LABEL_VAR: &str = "COVWRAP_LABEL";
/// `<source>:<label>` of the automatic label exported as `COVWRAP_LABEL`,
/// so a child knows the label it inherits is the runner's (a value the
/// user set later no longer matches it).
const SOURCE_VAR: &str = "COVWRAP_LABEL_SOURCE";

/// The label to record, if any, and which runner it comes from (`None`:
/// the user's): a user-set `COVWRAP_LABEL` first, then the test nextest
/// runs in this process, then the test binary `cargo test` runs. An
/// automatic label is exported as `COVWRAP_LABEL`, so the programs a test
/// spawns (`CARGO_BIN_EXE_*`) are attributed to it too.
pub(super) fn of_this_process(argv: &[OsString]) -> Option<(Vec<u8>, Option<&'static str>)> {
    if let Some(set) = std::env::var_os(LABEL_VAR).filter(|v| !v.is_empty()) {
        let inherited = std::env::var_os(SOURCE_VAR).and_then(|s| {
            let s = s.into_vec();
            [label_source::NEXTEST, label_source::CARGO_TEST]
                .into_iter()
                .find(|src| s.strip_prefix(format!("{src}:").as_bytes()) == Some(set.as_bytes()))
        });
        return Some((set.into_vec(), inherited));
    }
    let (label, source) = match nextest_label() {
        Some(l) => (l, label_source::NEXTEST),
        None => (cargo_test_label(argv)?, label_source::CARGO_TEST),
    };
    // SAFETY: this runs in the ELF constructor, before `main`, while the
    // process has a single thread: nothing can read the environment
    // concurrently.
    unsafe {
        std::env::set_var(LABEL_VAR, &label);
        std::env::set_var(SOURCE_VAR, format!("{source}:{label}"));
    }
    Some((label.into_bytes(), Some(source)))
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
/// with cargo's `CARGO_PKG_NAME`), spelled as nextest's binary id, from
/// the cargo target covwrap recorded in the slot: `<package>` for the
/// library's unit tests, `<package>::bin/<bin>` for a binary's,
/// `<package>::<test>` for an integration test, `<package>::bench/<b>`,
/// `<package>::example/<e>`; the target's name is its root file's stem
/// (`src/main.rs`: the package's name), as cargo names targets by default.
/// Without a recorded target, `<package>` or `<package>::<name>`.
fn cargo_test_label(argv: &[OsString]) -> Option<String> {
    let package = std::env::var("CARGO_PKG_NAME").ok()?;
    let exe = std::env::current_exe()
        .ok()
        .or_else(|| argv.first().map(Into::into))?;
    let name = test_binary_name(&exe)?;
    let target = super::init::slot_target();
    let get = |key: &str| {
        target
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let root = get(ident_keys::TARGET_ROOT).map(Path::new);
    // `src/bin/x.rs` and `tests/x/main.rs` are named `x`.
    let stem = root.and_then(|r| {
        let file = r.file_stem()?.to_str()?;
        if file == "main" && r.parent()?.file_name()? != "src" {
            r.parent()?.file_name()?.to_str()
        } else {
            Some(file)
        }
    });
    let is_main = root.is_some_and(|r| r.ends_with("src/main.rs"));
    let id = match (get(ident_keys::TARGET_KIND), stem) {
        (Some(target_kinds::UNIT_TEST), _) if is_main => format!("{package}::bin/{package}"),
        (Some(target_kinds::UNIT_TEST), Some(s))
            if root.is_some_and(|r| r.components().any(|c| c.as_os_str() == "bin")) =>
        {
            format!("{package}::bin/{s}")
        }
        (Some(target_kinds::UNIT_TEST), _) => package,
        (Some(target_kinds::TEST), Some(s)) => format!("{package}::{s}"),
        (Some(target_kinds::BENCH), Some(s)) => format!("{package}::bench/{s}"),
        (Some(target_kinds::EXAMPLE), Some(s)) => format!("{package}::example/{s}"),
        _ if name == package.replace('-', "_") => package,
        _ => format!("{package}::{name}"),
    };
    Some(id)
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
