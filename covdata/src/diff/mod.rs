//! `covdata diff`: coverage of what a change touched, and goc's per-file
//! comparison of two data sets.
//!
//! The changed-lines logic is a library others call (`covdata tests
//! --base` reuses it):
//!
//! ```text
//! let changes = diff::changes(&ChangeSource::Git { dir, base: "origin/main" })?;
//! //   or ChangeSource::DiffFile(path): a unified diff from the CI system
//! let anchor = diff::anchor(root_flag, &changes, &ctx);  // what diff paths are relative to
//! let patch = diff::coverage::patch_coverage(&ctx, &changes.files, &anchor);
//! diff::render::write_patch(&patch, Format::Markdown, &mut out)?;
//! if let Some(msg) = diff::gate(&patch, 90.0) { /* exit 1 */ }
//!
//! let cmp = diff::baseline::compare(&base_ctx, &new_ctx);   // --baseline=DIR
//! diff::render::write_baseline(&cmp, Format::Text, &mut out)?;
//! ```
//!
//! - [`patch`]: unified diff → added lines per file (unit-tested parser);
//! - [`git`]: the changes since the merge base of a revision and HEAD,
//!   uncommitted ones included (diff-cover's rule);
//! - [`coverage`]: those lines against the per-file view;
//! - [`baseline`]: base versus new, per file;
//! - [`render`]: text, markdown and JSON.

pub mod baseline;
pub mod coverage;
pub mod git;
pub mod patch;
pub mod render;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::report::Context;
use coverage::PatchCoverage;
use patch::ChangedFile;

/// Where the changed lines come from.
#[derive(Clone, Copy, Debug)]
pub enum ChangeSource<'a> {
    /// `--base=REV`: the repository containing `dir`, since the merge base
    /// of `base` and HEAD, uncommitted changes included.
    Git {
        /// A directory inside the repository.
        dir: &'a Path,
        /// The base revision.
        base: &'a str,
    },
    /// `--diff-file=PATCH`: a unified diff.
    DiffFile(&'a Path),
}

/// Changed lines and what is known about where their paths start.
#[derive(Clone, Debug, Default)]
pub struct Changes {
    /// The changed files with their added lines.
    pub files: Vec<ChangedFile>,
    /// git's top-level directory (the diff's paths are relative to it).
    pub toplevel: Option<PathBuf>,
    /// The merge base the changes are counted from (git only).
    pub merge_base: Option<String>,
}

/// Reads the changes of `source`.
pub fn changes(source: &ChangeSource) -> Result<Changes> {
    match *source {
        ChangeSource::Git { dir, base } => {
            let g = git::changes_since(dir, base)?;
            Ok(Changes {
                files: g.files,
                toplevel: Some(g.toplevel),
                merge_base: Some(g.merge_base),
            })
        }
        ChangeSource::DiffFile(path) => {
            let bytes = std::fs::read(path).map_err(|e| Error::io(path, &e))?;
            let files = patch::parse(&bytes).map_err(|e| e.at(path))?;
            Ok(Changes {
                files,
                ..Changes::default()
            })
        }
    }
}

/// The directory the changes' paths are relative to: `--root` when given,
/// else git's top level, else the report root of the coverage (the
/// recorded compilation directory).
pub fn anchor(root: Option<&str>, changes: &Changes, ctx: &Context) -> String {
    if let Some(r) = root {
        return r.to_string();
    }
    if let Some(t) = &changes.toplevel {
        return t.display().to_string();
    }
    ctx.root().unwrap_or("").to_string()
}

/// `--fail-under=PCT`: the one-line message when the changed lines'
/// coverage is below `threshold` (percent); `None` when it passes. No
/// coverable changed line passes.
pub fn gate(p: &PatchCoverage, threshold: f64) -> Option<String> {
    // The rule of every gate (crate::gate), but no changed line to cover
    // passes here: the change needs no tests.
    (p.total.total > 0 && crate::gate::is_below(p.total, threshold)).then(|| {
        format!(
            "coverage of changed lines {:.2}% ({}/{}) is below --fail-under={threshold}",
            crate::gate::shown_percent(p.total, threshold),
            p.total.covered,
            p.total.total
        )
    })
}
