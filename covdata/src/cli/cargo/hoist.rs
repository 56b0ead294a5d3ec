//! `cargo covwrap test --html --open`: our flags may also follow the cargo
//! command, as cargo-llvm-cov's do after `cargo llvm-cov test`. Before clap
//! parses, every flag of ours found after the cargo command and before its
//! `--` is moved in front of it, unless that cargo command has a flag of
//! the same name (`cargo doc --open`, `cargo install --root`), which stays
//! cargo's.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};

/// Flags of ours that cargo itself shares: never taken from cargo's
/// arguments, whatever the command.
const CARGO_TOO: [&str; 3] = ["help", "version", "manifest-path"];

/// Cargo commands with a flag of the same name as one of ours.
const CARGO_COMMAND_OWN: [(&str, &str); 3] =
    [("doc", "open"), ("rustdoc", "open"), ("install", "root")];

/// Our long flags (top level only), each with whether a value may follow
/// it as the next argument (`--lcov FILE`; `--html` takes `=DIR` only).
fn our_flags() -> BTreeMap<String, bool> {
    let cmd = <super::CargoCli as clap::CommandFactory>::command();
    let mut flags = BTreeMap::new();
    for arg in cmd.get_arguments() {
        let separate_value = arg.get_action().takes_values()
            && !arg.is_require_equals_set()
            && arg.get_num_args().is_none_or(|n| n.min_values() > 0);
        for name in arg
            .get_long()
            .into_iter()
            .chain(arg.get_all_aliases().into_iter().flatten())
        {
            flags.insert(name.to_string(), separate_value);
        }
    }
    flags
}

/// The long flag name of `arg` (`--lcov=f` → `lcov`), if it is one.
fn long_name(arg: &OsStr) -> Option<(&str, bool)> {
    let rest = arg.to_str()?.strip_prefix("--")?;
    match rest.split_once('=') {
        Some((name, _)) => Some((name, true)),
        None if !rest.is_empty() => Some((rest, false)),
        None => None,
    }
}

/// `argv` (without the program name) with our flags moved before the cargo
/// command.
pub fn hoist(argv: Vec<OsString>) -> Vec<OsString> {
    let ours = our_flags();
    // Where the cargo command starts: the first word that is not a flag of
    // ours or the value of one.
    let mut i = 0;
    while i < argv.len() {
        if argv[i] == "--" {
            return argv;
        }
        match long_name(&argv[i]) {
            Some((name, has_value)) => {
                if !has_value && ours.get(name) == Some(&true) {
                    i += 1;
                }
            }
            None if argv[i].to_string_lossy().starts_with('-') => {}
            None => break,
        }
        i += 1;
    }
    let Some(command) = argv.get(i).and_then(|c| c.to_str()) else {
        return argv;
    };
    if command == "report" || command == "clean" {
        return argv;
    }
    let command = command.to_string();
    let (mut front, rest) = (argv[..i].to_vec(), &argv[i..]);
    let mut cargo = vec![rest[0].clone()];
    let mut j = 1;
    while j < rest.len() {
        let arg = &rest[j];
        if arg == "--" {
            cargo.extend_from_slice(&rest[j..]);
            break;
        }
        let hoisted = long_name(arg).and_then(|(name, has_value)| {
            let separate = *ours.get(name)?;
            let cargo_own =
                CARGO_TOO.contains(&name) || CARGO_COMMAND_OWN.contains(&(command.as_str(), name));
            (!cargo_own).then_some(separate && !has_value)
        });
        match hoisted {
            Some(takes_next) => {
                front.push(arg.clone());
                if takes_next && j + 1 < rest.len() {
                    j += 1;
                    front.push(rest[j].clone());
                }
            }
            None => cargo.push(arg.clone()),
        }
        j += 1;
    }
    front.extend(cargo);
    front
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hoisted(args: &[&str]) -> Vec<String> {
        hoist(args.iter().map(OsString::from).collect())
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn flags_after_the_cargo_command_move_before_it() {
        assert_eq!(
            hoisted(&["test", "--html", "--open"]),
            ["--html", "--open", "test"]
        );
        assert_eq!(
            hoisted(&[
                "nextest",
                "run",
                "--lcov",
                "l.info",
                "-E",
                "test(a)",
                "--fail-under-lines=80"
            ]),
            [
                "--lcov",
                "l.info",
                "--fail-under-lines=80",
                "nextest",
                "run",
                "-E",
                "test(a)"
            ]
        );
        assert_eq!(
            hoisted(&["--no-clean", "--lcov", "test", "test", "--release"]),
            ["--no-clean", "--lcov", "test", "test", "--release"]
        );
    }

    #[test]
    fn cargo_keeps_what_is_its_own_and_what_follows_its_double_dash() {
        assert_eq!(
            hoisted(&["run", "--bin", "app", "--", "--html", "--open"]),
            ["run", "--bin", "app", "--", "--html", "--open"]
        );
        assert_eq!(
            hoisted(&["doc", "--open", "--html"]),
            ["--html", "doc", "--open"]
        );
        assert_eq!(
            hoisted(&["install", "--root", "r", "--path", "."]),
            ["install", "--root", "r", "--path", "."]
        );
        assert_eq!(
            hoisted(&["test", "--manifest-path", "a/Cargo.toml", "--release"]),
            ["test", "--manifest-path", "a/Cargo.toml", "--release"]
        );
        assert_eq!(hoisted(&["report", "--html"]), ["report", "--html"]);
        assert_eq!(hoisted(&["test", "--features=x"]), ["test", "--features=x"]);
    }
}
