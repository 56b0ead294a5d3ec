//! `covwrap env`: the environment that makes cargo build with covwrap and
//! the programs it builds write into the workspace's coverage directory,
//! printed for `eval "$(covwrap env)"`. `cargo covwrap` reads it with
//! `--null`, so this is the one copy of which variables are set and where
//! the coverage directory is.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context as _};

pub const USAGE: &str = "\
usage: covwrap env [--manifest-path=PATH] [--null]

Prints `export NAME='value'` lines for a POSIX shell:
    RUSTC_WRAPPER   this covwrap
    COVDIR          <target dir>/covwrap/cov of the workspace cargo finds here
                    (CARGO_TARGET_DIR or build.target-dir honoured), created if missing
    COVWRAP_RUSTC_WRAPPER  the RUSTC_WRAPPER (or CARGO_BUILD_RUSTC_WRAPPER) already set,
                    e.g. sccache, which covwrap then runs in turn

    eval \"$(covwrap env)\"; cargo test; covdata percent -i=\"$COVDIR\"

--manifest-path=PATH  the workspace of that Cargo.toml instead of the current directory's
--null, -0            NAME=value entries ended by NUL bytes instead (for programs)
";

/// The directory of a workspace's coverage data, under its target directory.
pub fn covdir_of(target_dir: &Path) -> PathBuf {
    target_dir.join("covwrap").join("cov")
}

/// Runs `covwrap env ARGS`.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let mut manifest: Option<&str> = None;
    let mut null = false;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(());
            }
            "-0" | "--null" => null = true,
            "--manifest-path" => {
                manifest = Some(rest.next().context("--manifest-path needs a path")?);
            }
            other => match other.strip_prefix("--manifest-path=") {
                Some(path) => manifest = Some(path),
                None => bail!("env: unknown argument {other:?} (see covwrap env --help)"),
            },
        }
    }
    let vars = environment(manifest)?;
    let mut text = Vec::new();
    for (name, value) in &vars {
        if null {
            text.extend_from_slice(name.as_bytes());
            text.push(b'=');
            text.extend_from_slice(value.as_bytes());
            text.push(0);
        } else {
            text.extend_from_slice(format!("export {name}=").as_bytes());
            text.extend_from_slice(&shell_quote(value));
            text.push(b'\n');
        }
    }
    std::io::stdout()
        .write_all(&text)
        .context("writing to standard output")
}

/// The variables to set, in order.
fn environment(manifest: Option<&str>) -> anyhow::Result<Vec<(&'static str, OsString)>> {
    let me = std::env::current_exe().context("env: cannot find covwrap's own path")?;
    let covdir = covdir_of(&target_dir(manifest)?);
    std::fs::create_dir_all(&covdir)
        .with_context(|| format!("env: cannot create {}", covdir.display()))?;
    let mut vars = vec![
        ("RUSTC_WRAPPER", me.clone().into_os_string()),
        ("COVDIR", covdir.into_os_string()),
    ];
    if let Some(chain) = wrapper_to_chain(&me) {
        vars.push(("COVWRAP_RUSTC_WRAPPER", chain));
    }
    Ok(vars)
}

/// A rustc wrapper the user already had (sccache), which covwrap must run
/// in turn now that it takes RUSTC_WRAPPER's place; not covwrap itself
/// (`eval "$(covwrap env)"` twice), not when one is already chained.
fn wrapper_to_chain(me: &Path) -> Option<OsString> {
    if std::env::var_os("COVWRAP_RUSTC_WRAPPER").is_some_and(|v| !v.is_empty()) {
        return None;
    }
    let set = ["RUSTC_WRAPPER", "CARGO_BUILD_RUSTC_WRAPPER"]
        .into_iter()
        .filter_map(std::env::var_os)
        .find(|v| !v.is_empty())?;
    let is_covwrap = Path::new(&set).file_name() == Some(OsStr::new("covwrap"))
        || std::fs::canonicalize(&set).ok() == std::fs::canonicalize(me).ok();
    (!is_covwrap).then_some(set)
}

/// The workspace's target directory, as cargo itself decides it
/// (CARGO_TARGET_DIR, `build.target-dir`, else `<workspace>/target`).
fn target_dir(manifest: Option<&str>) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.args(["metadata", "--format-version=1", "--no-deps"]);
    if let Some(path) = manifest {
        cmd.args(["--manifest-path", path]);
    }
    let out = cmd
        .output()
        .with_context(|| format!("env: cannot run `{} metadata`", Path::new(&cargo).display()))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let reason = stderr
            .lines()
            .find(|l| l.starts_with("error"))
            .or_else(|| stderr.lines().next())
            .unwrap_or("no message");
        bail!("env: `cargo metadata` failed: {}", reason.trim());
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("env: `cargo metadata` printed bad JSON")?;
    match meta.get("target_directory").and_then(|v| v.as_str()) {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => bail!("env: `cargo metadata` gave no target_directory"),
    }
}

/// `value` in single quotes for a POSIX shell (a `'` becomes `'\''`); any
/// bytes are fine inside them.
fn shell_quote(value: &OsStr) -> Vec<u8> {
    let mut out = vec![b'\''];
    for &b in value.as_bytes() {
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

    #[test]
    fn quoting_survives_a_shell() {
        for value in ["plain", "with space", "it's", "'", "$HOME `x` \\n", ""] {
            let quoted = shell_quote(OsStr::new(value));
            let out = Command::new("sh")
                .arg("-c")
                .arg(OsStr::from_bytes(
                    &[b"printf %s ".as_slice(), quoted.as_slice()].concat(),
                ))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout), value);
        }
    }
}
