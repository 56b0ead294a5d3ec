//! The lines changed since a base revision, as diff-cover finds them: the
//! merge base of BASE and HEAD, diffed against the working tree (so the
//! branch's commits, staged and unstaged changes all count; untracked files
//! do not), with `git diff -U0`, renames detected.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::patch::{self, ChangedFile};
use crate::error::{Error, ErrorKind, Result};

/// What [`changes_since`] found.
#[derive(Clone, Debug)]
pub struct GitChanges {
    /// The repository's top-level directory: the diff's paths are relative
    /// to it.
    pub toplevel: PathBuf,
    /// The merge base of the base revision and HEAD (full hash).
    pub merge_base: String,
    /// The changed files with their added lines.
    pub files: Vec<ChangedFile>,
}

/// The changes of the repository containing `dir` since the merge base of
/// `base` and HEAD.
pub fn changes_since(dir: &Path, base: &str) -> Result<GitChanges> {
    if base.starts_with('-') {
        return Err(Error::new(
            ErrorKind::Usage,
            format!("--base={base:?} is not a revision"),
        ));
    }
    let toplevel = git(dir, &["rev-parse", "--show-toplevel"])?;
    let toplevel = PathBuf::from(String::from_utf8_lossy(&toplevel).trim_end_matches('\n'));
    let merge_base = git(dir, &["merge-base", base, "HEAD"])?;
    let merge_base = String::from_utf8_lossy(&merge_base).trim().to_string();
    // Fixed prefixes and no colour, external diff or textconv, whatever the
    // user's configuration says, so the parser sees git's plain format.
    let diff = git(
        &toplevel,
        &[
            "-c",
            "core.quotepath=off",
            "diff",
            "-U0",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--find-renames",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            &merge_base,
            "--",
        ],
    )?;
    let files = patch::parse(&diff).map_err(|e| e.context("git diff"))?;
    Ok(GitChanges {
        toplevel,
        merge_base,
        files,
    })
}

/// Runs `git -C dir args`; its output, or an error with git's first line.
fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_EXTERNAL_DIFF")
        .output()
        .map_err(|e| Error::new(ErrorKind::Io, format!("cannot run git: {e}")))?;
    if out.status.success() {
        return Ok(out.stdout);
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = stderr
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("no message");
    let what = args
        .iter()
        .find(|a| !a.starts_with('-') && !a.contains('='))
        .unwrap_or(&"");
    Err(Error::new(ErrorKind::Io, format!("git {what} failed: {first}")).at(dir))
}
