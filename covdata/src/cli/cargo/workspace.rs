//! The workspace `cargo covwrap` works on: the environment `covwrap env`
//! gives for it, its coverage directory, and the cargo command run in it.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

use anyhow::{bail, Context as _};
use covwrap_rt::format::names::{parse_file_name, FileName};

/// A workspace, with the environment its cargo commands run in.
#[derive(Debug)]
pub struct Workspace {
    /// What `covwrap env` exports, in its order.
    env: Vec<(OsString, OsString)>,
    /// `<target dir>/covwrap/cov`.
    pub covdir: PathBuf,
}

impl Workspace {
    /// Finds covwrap and asks it (`covwrap env --null`) for the workspace's
    /// environment: the one copy of which variables are set and where the
    /// coverage goes, shared with `eval "$(covwrap env)"`.
    pub fn find(manifest: Option<&Path>) -> anyhow::Result<Workspace> {
        let covwrap = find_covwrap()?;
        let mut cmd = Command::new(&covwrap);
        cmd.args(["env", "--null"]);
        if let Some(path) = manifest {
            cmd.arg("--manifest-path").arg(path);
        }
        let out = cmd
            .output()
            .with_context(|| format!("cannot run {}", covwrap.display()))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let message = stderr.trim();
            bail!(
                "{}",
                message.strip_prefix("covwrap: env: ").unwrap_or(message)
            );
        }
        let mut env = Vec::new();
        for entry in out.stdout.split(|&b| b == 0).filter(|e| !e.is_empty()) {
            let Some(eq) = entry.iter().position(|&b| b == b'=') else {
                bail!("{}: `env --null` printed {entry:?}", covwrap.display());
            };
            env.push((
                OsStr::from_bytes(&entry[..eq]).to_os_string(),
                OsStr::from_bytes(&entry[eq + 1..]).to_os_string(),
            ));
        }
        let covdir = env
            .iter()
            .find(|(name, _)| name == "COVDIR")
            .map(|(_, dir)| PathBuf::from(dir))
            .with_context(|| format!("{}: `env` gave no COVDIR", covwrap.display()))?;
        Ok(Workspace { env, covdir })
    }

    /// `<target dir>/covwrap`: the coverage directory and the default HTML
    /// report.
    pub fn base(&self) -> &Path {
        self.covdir.parent().unwrap_or(&self.covdir)
    }

    /// Where `--html` without a directory writes.
    pub fn default_html(&self) -> PathBuf {
        self.base().join("html")
    }

    /// Empties the coverage directory (a run that starts clean).
    pub fn empty_covdir(&self) -> anyhow::Result<()> {
        remove_if_present(&self.covdir)?;
        std::fs::create_dir_all(&self.covdir)
            .with_context(|| format!("cannot create {}", self.covdir.display()))
    }

    /// Removes `<target dir>/covwrap` (`cargo covwrap clean`).
    pub fn remove(&self) -> anyhow::Result<()> {
        remove_if_present(self.base())
    }

    /// Whether any program has written coverage here yet.
    pub fn has_coverage(&self) -> bool {
        std::fs::read_dir(&self.covdir).is_ok_and(|entries| {
            entries.flatten().any(|e| {
                e.file_name()
                    .to_str()
                    .is_some_and(|name| matches!(parse_file_name(name), Some(FileName::Meta(_))))
            })
        })
    }

    /// Runs `cargo ARGS` (the cargo that ran us, `$CARGO`) in this
    /// environment, with the terminal.
    pub fn cargo(&self, args: &[OsString]) -> anyhow::Result<ExitStatus> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        Command::new(&cargo)
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .status()
            .with_context(|| format!("cannot run {}", Path::new(&cargo).display()))
    }
}

fn remove_if_present(dir: &Path) -> anyhow::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", dir.display()))
        }
        _ => Ok(()),
    }
}

/// The covwrap wrapper: beside this executable (both are installed into
/// the same bin directory), else on PATH.
fn find_covwrap() -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe().context("cannot find cargo-covwrap's own path")?;
    let beside = me.with_file_name("covwrap");
    if is_executable(&beside) {
        return Ok(beside);
    }
    let on_path = std::env::var_os("PATH").map(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("covwrap"))
            .find(|p| is_executable(p))
    });
    match on_path.flatten() {
        Some(path) => Ok(path),
        None => bail!(
            "covwrap (the RUSTC_WRAPPER) is neither beside {} nor on PATH; install it with `cargo install --path .` in covwrap's checkout",
            me.display()
        ),
    }
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
