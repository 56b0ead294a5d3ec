//! Reports. Each consumes the same loaded [`Coverage`] through a
//! [`Context`], which adds what several reports share: instantiation
//! groups, summaries (computed on first use: `textfmt`, `pkglist` and
//! `debugdump` need none), the crate of each file, the `--pkg` filter,
//! display paths and demangling. The file reports are serializers of one
//! [`view::FileView`] per kept file (see [`view`]); none computes coverage
//! itself.
//!
//! Which view each report uses (see docs/COVDATA.md):
//! - `lcov`: `DA` from the merged file view (counts of identical regions of
//!   all instantiations summed), `LF`/`LH`/`FNF`/`FNH`/`BRF`/`BRH` from
//!   llvm-cov's summaries (instantiation groups max-merged), exactly as
//!   `llvm-cov export -format=lcov`;
//! - `percent`, `func`: the summaries;
//! - `textfmt`: code regions, counts summed per (file, range).
//! - `cobertura`, `sonar`: the view's mapped lines (`DA`) and per-line
//!   branch outcomes; `json`: llvm-cov export's file view (segments,
//!   branches, expansions) and summaries.

pub mod cobertura;
pub mod debugdump;
mod decimal;
pub mod func;
pub mod html;
pub mod json;
pub mod lcov;
pub mod percent;
pub mod pkglist;
pub mod sonar;
pub mod tabwriter;
pub mod textfmt;
pub mod view;
pub mod xml;

use std::sync::OnceLock;

use crate::crates::CrateFilter;
use crate::filefilter::FileFilter;
use crate::model::summary::{all_file_groups, FileSummary, Group, Summaries};
use crate::model::{Coverage, Function};
use crate::paths;

/// Options shared by the reports.
#[derive(Clone, Debug, Default)]
pub struct ReportOptions {
    /// `--pkg`: crates to keep.
    pub crates: CrateFilter,
    /// `--root`: the directory report paths are made relative to.
    pub root: Option<String>,
    /// `--mangled`: print mangled names where reports print names.
    pub mangled: bool,
    /// Which files (test code, `--include-files`, `--exclude-files`).
    pub files: FileFilter,
}

/// A model plus what the reports derive from it.
pub struct Context<'a> {
    /// The model.
    pub cov: &'a Coverage,
    /// The options.
    pub opts: ReportOptions,
    /// Per file index: its instantiation groups, sorted by (line, column).
    groups: Vec<Vec<Group>>,
    summaries: OnceLock<Summaries>,
    file_crates: Vec<Option<usize>>,
    root: Option<String>,
    /// With a `--root` unrelated to the recorded compilation directory
    /// (the sources checked out elsewhere than where they were built):
    /// that directory, whose files are shown relative to it.
    moved_from: Option<String>,
}

impl<'a> Context<'a> {
    /// Computes instantiation groups and file crates; summaries wait for
    /// [`Context::summaries`].
    pub fn new(cov: &'a Coverage, opts: ReportOptions) -> Context<'a> {
        let groups = all_file_groups(cov);
        // A file's crate is that of the first function (first group, first
        // instantiation) whose main file it is.
        let file_crates = groups
            .iter()
            .map(|groups| {
                groups
                    .first()
                    .map(|g| cov.functions[g.functions[0] as usize].crate_index)
            })
            .collect();
        let root = opts
            .root
            .clone()
            .or_else(|| cov.default_root().map(String::from));
        let moved_from = opts.root.as_deref().and_then(|root| {
            let built = cov.default_root()?;
            (!paths::is_within(built, root) && !paths::is_within(root, built))
                .then(|| built.to_string())
        });
        Context {
            cov,
            opts,
            groups,
            summaries: OnceLock::new(),
            file_crates,
            root,
            moved_from,
        }
    }

    /// The instantiation groups of a file, sorted by (line, column).
    pub fn groups(&self, file: u32) -> &[Group] {
        &self.groups[file as usize]
    }

    /// Function and file summaries, computed on first use.
    pub fn summaries(&self) -> &Summaries {
        self.summaries
            .get_or_init(|| Summaries::compute(self.cov, &self.groups))
    }

    /// The crate of a file, if any function has it as its main file.
    pub fn file_crate(&self, file: u32) -> Option<&str> {
        self.file_crates[file as usize].map(|i| self.cov.crates[i].as_str())
    }

    /// Whether `--pkg` and the file filter keep a file. Files without
    /// functions of their own are kept only without a `--pkg` filter.
    pub fn keeps_file(&self, file: u32) -> bool {
        let by_crate = match self.file_crate(file) {
            Some(c) => self.opts.crates.matches(c),
            None => self.opts.crates.is_empty(),
        };
        by_crate
            && self.opts.files.keeps(
                self.display_path(file),
                self.cov.file_path(file),
                self.cov.is_test_file(file),
            )
    }

    /// Whether `--pkg` keeps a function.
    pub fn keeps_function(&self, f: &Function) -> bool {
        self.opts.crates.matches(self.cov.crate_name(f))
    }

    /// Files kept by the filter, sorted by path.
    pub fn kept_files(&self) -> impl Iterator<Item = u32> + '_ {
        self.cov
            .sorted_files()
            .iter()
            .copied()
            .filter(|&f| self.keeps_file(f))
    }

    /// The root report paths are relative to.
    pub fn root(&self) -> Option<&str> {
        self.root.as_deref()
    }

    /// A file's path relative to the root when under it; with a `--root`
    /// elsewhere than the recorded compilation directory, a file under
    /// that directory is shown at its path relative to it, which is where
    /// it is under `--root` (a checkout of the sources built elsewhere).
    pub fn display_path(&self, file: u32) -> &str {
        let path = self.cov.file_path(file);
        let Some(root) = &self.root else {
            return path;
        };
        let under_root = paths::relative_to(path, root);
        if under_root != path {
            return under_root;
        }
        match &self.moved_from {
            Some(built) => paths::relative_to(path, built),
            None => path,
        }
    }

    /// A function name as reports print it.
    pub fn function_name(&self, f: &Function) -> String {
        if self.opts.mangled {
            f.name.to_string()
        } else {
            demangle(&f.name)
        }
    }

    /// Totals over the kept files: the sum of their views' summaries.
    pub fn totals(&self) -> FileSummary {
        let mut t = FileSummary::default();
        for view in self.file_views() {
            t.add(view.summary());
        }
        t
    }
}

/// rustc-demangle's alternate form (no hash), as cargo-llvm-cov prints.
pub fn demangle(name: &str) -> String {
    use std::fmt::Write as _;
    // Room for the usual expansion of backrefs up front: the printer
    // writes in many small pieces.
    let mut out = String::with_capacity(name.len() * 2);
    let _ = write!(out, "{:#}", rustc_demangle::demangle(name));
    out
}

/// Removes turbofish generic arguments (`::<...>`) from a demangled name,
/// so the instantiations of a generic function share one name.
pub fn strip_generic_args(name: &str) -> String {
    let bytes = name.as_bytes();
    let mut out = String::with_capacity(name.len());
    let mut i = 0;
    while let Some(found) = name[i..].find("::<") {
        let start = i + found;
        out.push_str(&name[i..start]);
        // Skip to the `>` that closes the `<` (or to the end).
        let mut depth = 0usize;
        let mut j = start + 2;
        while j < bytes.len() {
            match bytes[j] {
                b'<' => depth += 1,
                b'>' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            j += 1;
        }
        i = (j + 1).min(name.len());
    }
    out.push_str(&name[i..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_turbofish_only() {
        assert_eq!(strip_generic_args("main::show::<i32>"), "main::show");
        assert_eq!(
            strip_generic_args("a::f::<alloc::vec::Vec<u8>>::{closure#0}"),
            "a::f::{closure#0}"
        );
        assert_eq!(
            strip_generic_args("<a::Foo<u8> as core::fmt::Display>::fmt"),
            "<a::Foo<u8> as core::fmt::Display>::fmt"
        );
        assert_eq!(strip_generic_args("a::f::<u8"), "a::f");
        assert_eq!(strip_generic_args("é::<x>::<y<z>>::g::<>ü"), "é::gü");
        assert_eq!(strip_generic_args("::<"), "");
        assert_eq!(strip_generic_args("a::<b>"), "a");
    }

    #[test]
    fn demangles_v0_without_hash() {
        assert_eq!(
            demangle("_RNvCs32gj3y4fnmh_4main8classify"),
            "main::classify"
        );
        assert_eq!(
            demangle("_RINvCs32gj3y4fnmh_4main4showlEB2_"),
            "main::show::<i32>"
        );
        assert_eq!(demangle("not mangled"), "not mangled");
    }
}
