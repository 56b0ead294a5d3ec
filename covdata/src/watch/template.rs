//! `--on-change` commands. The command is run by `sh -c`; before that,
//! each `{name}` placeholder with a value is replaced by that value,
//! shell-quoted, so a path with spaces or quotes arrives as one argument.
//! Everything else stays as typed: `${name}` is the shell's own expansion,
//! and braces that name no placeholder (`find . -exec rm {} +`) are left
//! alone.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// The placeholders `covdata watch` knows, in the order the help lists
/// them. Those of outputs exist only when that output is written.
pub const NAMES: &[&str] = &[
    "version",
    "lines",
    "lcov",
    "sonar",
    "cobertura",
    "json",
    "textfmt",
    "html",
];

/// The known placeholders `template` uses, in order of first use.
pub fn used(template: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    for (name, _) in placeholders(template.as_bytes(), NAMES) {
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// `template` with each known placeholder replaced by its value, quoted.
/// `values` pairs names of [`NAMES`] with their values.
pub fn expand(template: &str, values: &[(&'static str, OsString)]) -> OsString {
    let bytes = template.as_bytes();
    let names: Vec<&'static str> = values.iter().map(|(n, _)| *n).collect();
    let mut out = Vec::with_capacity(bytes.len());
    let mut from = 0;
    for (name, at) in placeholders(bytes, &names) {
        out.extend_from_slice(&bytes[from..at]);
        let value = &values.iter().find(|(n, _)| *n == name).expect("named").1;
        out.extend_from_slice(&quote(value));
        from = at + name.len() + 2;
    }
    out.extend_from_slice(&bytes[from..]);
    OsString::from_vec(out)
}

/// `(name, offset of its '{')` for each `{name}` of `names` not preceded
/// by `$`.
fn placeholders(bytes: &[u8], names: &[&'static str]) -> Vec<(&'static str, usize)> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'{' && (i == 0 || bytes[i - 1] != b'$') {
            let rest = &bytes[i + 1..];
            let hit = names.iter().find(|n| {
                rest.len() > n.len() && rest.starts_with(n.as_bytes()) && rest[n.len()] == b'}'
            });
            if let Some(name) = hit {
                found.push((*name, i));
                i += name.len() + 2;
                continue;
            }
        }
        i += 1;
    }
    found
}

/// `value` as one shell word: bare when it holds only characters no shell
/// treats specially, else in single quotes (a `'` written as `'\''`).
pub fn quote(value: &OsStr) -> Vec<u8> {
    let bytes = value.as_bytes();
    let plain = |b: &u8| b.is_ascii_alphanumeric() || b"_@%+=:,./-".contains(b);
    if !bytes.is_empty() && bytes.iter().all(plain) {
        return bytes.to_vec();
    }
    let mut out = Vec::with_capacity(bytes.len() + 2);
    out.push(b'\'');
    for &b in bytes {
        if b == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(b);
        }
    }
    out.push(b'\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(s: &str) -> OsString {
        OsString::from(s)
    }

    #[test]
    fn quoting() {
        assert_eq!(quote(&os("out/sonar.xml")), b"out/sonar.xml");
        assert_eq!(quote(&os("12")), b"12");
        assert_eq!(quote(&os("")), b"''");
        assert_eq!(quote(&os("my out/a b.xml")), b"'my out/a b.xml'");
        assert_eq!(quote(&os("it's")), b"'it'\\''s'");
        assert_eq!(quote(&os("$HOME;rm")), b"'$HOME;rm'");
    }

    #[test]
    fn placeholders_are_replaced_and_nothing_else() {
        let values = [("version", os("3")), ("sonar", os("out dir/sonar.xml"))];
        let t = "scan -Dv={version} -Dp={sonar} ${version} {lcov} {} {versionx} {version";
        assert_eq!(
            expand(t, &values),
            os("scan -Dv=3 -Dp='out dir/sonar.xml' ${version} {lcov} {} {versionx} {version")
        );
        assert_eq!(used(t), vec!["version", "sonar", "lcov"]);
        assert_eq!(expand("{version}{version}", &values), os("33"));
    }

    #[test]
    fn expanded_commands_give_the_shell_one_word_per_value() {
        let values = [("html", os("a b/it's $x"))];
        let cmd = expand("printf '%s\\n' {html}", &values);
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&cmd)
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "a b/it's $x\n");
    }
}
