//! Coverage of changed lines: each changed Rust source file's added lines
//! looked up in the per-file [`view`](crate::report::view).
//!
//! - A diff path is matched to the coverage file whose recorded path is
//!   `ANCHOR/path` (normalised as LLVM normalises paths): ANCHOR is the
//!   directory the diff's paths are relative to (`--root`, or git's top
//!   level).
//! - Only `.rs` files count; other changed files are listed as skipped.
//! - A matched file's coverable changed lines are those its view maps
//!   (llvm-cov's line rules, `lcov`'s `DA` lines); covered when their count
//!   is non-zero.
//! - A changed `.rs` file with no coverage data counts as uncovered, not
//!   skipped: its added lines that hold code (not blank, not only a `//`
//!   comment) are coverable and uncovered.
//! - A matched file of a crate `--pkg` leaves out is skipped.

use std::collections::HashMap;

use super::patch::ChangedFile;
use crate::model::summary::Ratio;
use crate::paths;
use crate::report::Context;

/// One changed source file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileCoverage {
    /// The path as the diff names it.
    pub path: String,
    /// Whether the coverage data has the file.
    pub has_data: bool,
    /// Coverable changed lines, and how many of them ran.
    pub lines: Ratio,
    /// The coverable changed lines that did not run, as inclusive ranges
    /// of consecutive line numbers.
    pub uncovered: Vec<(u32, u32)>,
}

/// The coverage of a change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatchCoverage {
    /// Changed Rust files with coverable changed lines, in diff order.
    pub files: Vec<FileCoverage>,
    /// Sum over `files`.
    pub total: Ratio,
    /// Changed Rust files whose changed lines hold nothing coverable.
    pub without_coverable_lines: Vec<String>,
    /// Changed files that are not Rust sources.
    pub not_rust: Vec<String>,
    /// Changed Rust files `--pkg` leaves out.
    pub filtered_out: Vec<String>,
    /// Set when changed Rust files exist but none of them is in the
    /// coverage data: a sentence saying so, with an example of each side.
    pub nothing_matched: Option<String>,
}

impl PatchCoverage {
    /// The total as a percentage; 100 when no changed line is coverable
    /// (nothing to gate on).
    pub fn percent(&self) -> f64 {
        if self.total.total == 0 {
            100.0
        } else {
            self.total.percent()
        }
    }
}

/// Whether an added line holds code (for files without coverage data).
fn holds_code(text: &str) -> bool {
    let t = text.trim();
    !t.is_empty() && !t.starts_with("//")
}

/// The recorded path a diff's `path` (relative to `anchor`) stands for.
pub fn coverage_path(anchor: &str, path: &str) -> String {
    if paths::is_absolute(path) {
        paths::remove_dots(path)
    } else {
        paths::join_normalized(anchor, path)
    }
}

/// The coverage of `changes`, whose paths are relative to `anchor`.
pub fn patch_coverage(ctx: &Context, changes: &[ChangedFile], anchor: &str) -> PatchCoverage {
    let cov = ctx.cov;
    let by_path: HashMap<&str, u32> = (0..cov.files.len() as u32)
        .map(|f| (cov.file_path(f), f))
        .collect();
    let mut out = PatchCoverage::default();
    let mut rust_files = 0;
    let mut matched = 0;
    for change in changes {
        if !change.path.ends_with(".rs") {
            out.not_rust.push(change.path.clone());
            continue;
        }
        rust_files += 1;
        let file = by_path
            .get(coverage_path(anchor, &change.path).as_str())
            .copied();
        let mut lines = Ratio::default();
        let mut uncovered: Vec<(u32, u32)> = Vec::new();
        let mut miss = |line: u32| match uncovered.last_mut() {
            Some(last) if last.1.checked_add(1) == Some(line) => last.1 = line,
            _ => uncovered.push((line, line)),
        };
        match file {
            Some(file) => {
                matched += 1;
                if !ctx.keeps_file(file) {
                    out.filtered_out.push(change.path.clone());
                    continue;
                }
                let view = ctx.file_view(file);
                for added in &change.lines {
                    let Some(count) = view.line_count(added.line) else {
                        continue;
                    };
                    lines.total += 1;
                    if count > 0 {
                        lines.covered += 1;
                    } else {
                        miss(added.line);
                    }
                }
            }
            None => {
                for added in change.lines.iter().filter(|l| holds_code(&l.text)) {
                    lines.total += 1;
                    miss(added.line);
                }
            }
        }
        if lines.total == 0 {
            out.without_coverable_lines.push(change.path.clone());
            continue;
        }
        out.total.add(lines);
        out.files.push(FileCoverage {
            path: change.path.clone(),
            has_data: file.is_some(),
            lines,
            uncovered,
        });
    }
    if rust_files > 0 && matched == 0 {
        let example = changes
            .iter()
            .find(|c| c.path.ends_with(".rs"))
            .map_or("", |c| c.path.as_str());
        let theirs = cov
            .sorted_files()
            .first()
            .map_or("(none)".to_string(), |&f| cov.file_path(f).to_string());
        out.nothing_matched = Some(format!(
            "none of the {rust_files} changed Rust files is in the coverage data: {example} was looked up as {}, while the coverage has files such as {theirs}; pass --root=DIR, the directory the diff's paths are relative to",
            paths::join_normalized(anchor, example)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_lines_of_files_without_data() {
        assert!(holds_code("    let x = 1;"));
        assert!(holds_code("}"));
        assert!(!holds_code("   "));
        assert!(!holds_code("  // note"));
        assert!(!holds_code("/// doc"));
    }
}
