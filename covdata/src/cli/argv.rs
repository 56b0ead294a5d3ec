//! Go's flag spellings on top of clap.
//!
//! Go's `flag` package (and so Go's `covdata`) accepts a long flag with one
//! dash (`-pkg=GLOBS`, `-root=DIR`); clap reads `-pkg` as the short flags
//! `-p -k -g`. Before clap sees argv, a single-dash argument whose name (up
//! to `=`) is a known long flag of two or more characters gets a second
//! dash. One-character names (`-i=DIR`, `-o=FILE`) are clap's own short
//! flags and stay as they are; so does everything after `--`.

use std::collections::BTreeSet;
use std::ffi::OsString;

/// `argv` (without the program name) with Go's single-dash long flags
/// spelled `--name`, for the long flag names in `longs`.
pub fn normalise(argv: Vec<OsString>, longs: &BTreeSet<String>) -> Vec<OsString> {
    let mut out = Vec::with_capacity(argv.len());
    let mut rest = false;
    for arg in argv {
        if rest {
            out.push(arg);
            continue;
        }
        if arg == "--" {
            rest = true;
            out.push(arg);
            continue;
        }
        let bytes = arg.as_encoded_bytes();
        let single_dash_long = bytes.len() > 2 && bytes[0] == b'-' && bytes[1] != b'-' && {
            let body = &bytes[1..];
            let name = body.split(|&b| b == b'=').next().unwrap_or(body);
            name.len() >= 2 && std::str::from_utf8(name).is_ok_and(|name| longs.contains(name))
        };
        if single_dash_long {
            let mut long = OsString::from("-");
            long.push(&arg);
            out.push(long);
        } else {
            out.push(arg);
        }
    }
    out
}

/// Every long flag name and long alias of `cmd` and its subcommands.
pub fn long_flags(cmd: &clap::Command) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    collect(cmd, &mut names);
    names
}

fn collect(cmd: &clap::Command, names: &mut BTreeSet<String>) {
    for arg in cmd.get_arguments() {
        if let Some(long) = arg.get_long() {
            names.insert(long.to_string());
        }
        for alias in arg.get_all_aliases().into_iter().flatten() {
            names.insert(alias.to_string());
        }
    }
    names.insert("help".to_string());
    names.insert("version".to_string());
    for sub in cmd.get_subcommands() {
        collect(sub, names);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Vec<String> {
        let longs: BTreeSet<String> = ["pkg", "root", "input", "ignore-bad", "i", "help"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        normalise(args.iter().map(OsString::from).collect(), &longs)
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn single_dash_long_flags_get_two_dashes() {
        assert_eq!(
            run(&[
                "percent",
                "-pkg=a*,b",
                "-root",
                "/r",
                "-ignore-bad",
                "-help"
            ]),
            [
                "percent",
                "--pkg=a*,b",
                "--root",
                "/r",
                "--ignore-bad",
                "--help"
            ]
        );
        assert_eq!(run(&["-input=/x=y"]), ["--input=/x=y"]);
    }

    #[test]
    fn short_flags_unknown_names_and_values_stay() {
        assert_eq!(
            run(&["-i=/a,/b", "-i", "-o=f", "-ix", "-pk=x", "--pkg=a", "-", "--root=r"]),
            ["-i=/a,/b", "-i", "-o=f", "-ix", "-pk=x", "--pkg=a", "-", "--root=r"]
        );
        assert_eq!(run(&["x", "--", "-pkg=a"]), ["x", "--", "-pkg=a"]);
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_arguments_pass_through() {
        use std::os::unix::ffi::OsStrExt;
        let longs = BTreeSet::from(["pkg".to_string()]);
        let bad = std::ffi::OsStr::from_bytes(b"-pkg=\xff").to_os_string();
        let other = std::ffi::OsStr::from_bytes(b"-\xff=1").to_os_string();
        let out = normalise(vec![bad, other.clone()], &longs);
        assert_eq!(out[0].as_bytes(), b"--pkg=\xff");
        assert_eq!(out[1], other);
    }
}
