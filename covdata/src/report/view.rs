//! The per-file view every report serializes: one [`FileView`] per kept
//! source file, with llvm-cov's numbers, made by [`Context::file_view`]
//! (or all of them, sorted by path, by [`Context::file_views`]).
//!
//! ```text
//! let ctx = Context::new(&cov, opts);
//! for view in ctx.file_views() {
//!     view.path()             // recorded (absolute) path, as LCOV's SF
//!     view.display_path()     // relative to --root when under it
//!     view.crate_name()       // crate of the file's first function, if any
//!     view.line_runs()        // mapped lines: runs (first, last, count); DA's lines
//!     view.line_count(n)      // one line's count
//!     view.regions()          // merged regions (all instantiations), exact spans and kinds
//!     view.segments()         // llvm-cov's segments of that merge (export's `segments`)
//!     view.branches()         // branch regions with their line, LCOV's BRDA order
//!     view.branch_lines()     // per line: branch outcomes (total, covered)
//!     view.records()          // function records whose first file this is (LCOV's FN)
//!     view.functions()        // instantiation groups: name, span, count, coverage
//!     view.summary()          // lines, regions, functions, branches: total/covered
//! }
//! ctx.totals()                // sum of the kept files' summaries
//! ```
//!
//! Rules (llvm-cov 22's, implemented once in [`crate::model`]):
//! - the file view merges the regions in this file of every record naming
//!   it: identical ranges combined, counts of the same kind summed
//!   (wrapping, as llvm-cov); segments and line stats are built from that,
//!   which gives the mapped lines and their counts (LCOV's `DA`);
//! - functions are instantiation groups (records whose main file this is,
//!   keyed by the start of their first region), as `--hide-instantiations`
//!   shows them; a group's coverage is the max over its instantiations;
//! - summaries are llvm-cov `report`'s (see [`crate::model::summary`]).
//!
//! Cost: nothing is computed until asked. Merged regions, segments and
//! line runs are built together on the first call that needs them and kept
//! in the view; branches likewise. Summaries are computed for all files at
//! once, on the first call to [`FileView::summary`] or
//! [`FileView::functions`] (through [`Context::summaries`]); textfmt and
//! pkglist never pay for them. A view is cheap to create and to drop:
//! build one, write it, drop it, so memory stays per file.

use std::cell::OnceCell;

use super::{strip_generic_args, Context};
use crate::model::lines::for_each_mapped_run;
use crate::model::segments::{self, Segment};
use crate::model::summary::{
    for_each_expansion_branch, FileSummary, FunctionSummary, Group, Ratio,
};
use crate::model::{CountedBranch, CountedRegion, Function};

/// Consecutive mapped lines with one count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LineRun {
    /// First line.
    pub first: u32,
    /// Last line (inclusive).
    pub last: u32,
    /// Execution count of each of these lines.
    pub count: u64,
}

/// A branch region of the file with the line llvm-cov reports it on: its
/// own start line, or for a branch inside a macro expansion the start line
/// of the outermost expansion region in this file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileBranch {
    /// The line it is reported on.
    pub line: u32,
    /// The branch, with its own (possibly expanded-file) span.
    pub branch: CountedBranch,
}

/// Branch outcomes on one line: true and false sides counted separately,
/// folded (constant) sides left out, as in llvm-cov's summaries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BranchLine {
    /// The line.
    pub line: u32,
    /// Outcomes (covered: taken at least once).
    pub outcomes: Ratio,
}

/// One function as reports show it: an instantiation group.
#[derive(Clone, Debug)]
pub struct FunctionView<'a> {
    /// Demangled without generic arguments (mangled with `--mangled`), so
    /// that a generic function's instantiations share one name.
    pub name: String,
    /// Start of the function's first region (line, column).
    pub start: (u32, u32),
    /// Sum of the instantiations' execution counts.
    pub execution_count: u64,
    /// Lines, regions, branches: max over instantiations.
    pub summary: FunctionSummary,
    /// The records of the instantiations, in load order.
    pub instantiations: Vec<&'a Function>,
}

/// The merged view of a file: built together, once.
#[derive(Debug, Default)]
struct Merged {
    regions: Vec<CountedRegion>,
    segments: Vec<Segment>,
    runs: Vec<LineRun>,
}

/// The view of one source file. See the module documentation.
pub struct FileView<'c, 'a> {
    ctx: &'c Context<'a>,
    file: u32,
    merged: OnceCell<Merged>,
    branches: OnceCell<Vec<FileBranch>>,
}

impl<'a> Context<'a> {
    /// The view of `file` (a file index of the model).
    pub fn file_view(&self, file: u32) -> FileView<'_, 'a> {
        FileView {
            ctx: self,
            file,
            merged: OnceCell::new(),
            branches: OnceCell::new(),
        }
    }

    /// The views of the files `--pkg` keeps, sorted by path.
    pub fn file_views(&self) -> impl Iterator<Item = FileView<'_, 'a>> + '_ {
        self.kept_files().map(|f| self.file_view(f))
    }
}

impl<'c, 'a> FileView<'c, 'a> {
    /// The file index in the model.
    pub fn file(&self) -> u32 {
        self.file
    }

    /// The context the view belongs to.
    pub fn context(&self) -> &'c Context<'a> {
        self.ctx
    }

    /// The path as recorded in the binaries (absolute unless rustc was
    /// given a relative one).
    pub fn path(&self) -> &'a str {
        self.ctx.cov.file_path(self.file)
    }

    /// The path relative to the root (`--root`, or the recorded
    /// compilation directory) when under it, else [`FileView::path`].
    pub fn display_path(&self) -> &'c str {
        self.ctx.display_path(self.file)
    }

    /// The crate of the first function whose main file this is; `None`
    /// for files with no function of their own (only expanded into
    /// others).
    pub fn crate_name(&self) -> Option<&'c str> {
        self.ctx.file_crate(self.file)
    }

    /// The records naming this file, in load order (each once).
    fn functions_naming(&self) -> impl Iterator<Item = &'a Function> + 'c {
        self.ctx.cov.functions_in_file(self.file)
    }

    /// Every region located in this file, of every record, unmerged, in
    /// load order (record by record, each in decoded order).
    pub fn raw_regions(&self) -> impl Iterator<Item = &'a CountedRegion> + 'c {
        let file = self.file;
        self.functions_naming().flat_map(move |f| {
            f.regions
                .iter()
                .filter(move |r| f.filenames[r.file_id as usize] == file)
        })
    }

    fn merged(&self) -> &Merged {
        self.merged.get_or_init(|| {
            let mut regions: Vec<CountedRegion> = self.raw_regions().copied().collect();
            let segments = segments::build(&mut regions);
            let mut runs = Vec::new();
            for_each_mapped_run(&segments, |first, last, count| {
                runs.push(LineRun { first, last, count })
            });
            Merged {
                regions,
                segments,
                runs,
            }
        })
    }

    /// The merged regions of the file view: sorted by start (outer before
    /// inner, then kind), identical ranges combined into one with the
    /// counts of the same kind summed. All kinds (code, expansion,
    /// skipped, gap).
    pub fn regions(&self) -> &[CountedRegion] {
        &self.merged().regions
    }

    /// llvm-cov's segments of the merged view.
    pub fn segments(&self) -> &[Segment] {
        &self.merged().segments
    }

    /// The mapped lines in order, as runs: lines that only continue one
    /// segment come as one run, so a region spanning 2^32 lines costs one.
    pub fn line_runs(&self) -> &[LineRun] {
        &self.merged().runs
    }

    /// The count of `line`, or `None` if it is not mapped.
    pub fn line_count(&self, line: u32) -> Option<u64> {
        let runs = self.line_runs();
        let i = runs.partition_point(|r| r.last < line);
        runs.get(i).filter(|r| r.first <= line).map(|r| r.count)
    }

    /// The branch regions reported in this file, in llvm-cov's order
    /// (LCOV's `BRDA`): by the start of the branch (or the chain of
    /// expansion starts leading to it), then collection order. Branches
    /// with both sides folded are left out.
    pub fn branches(&self) -> &[FileBranch] {
        self.branches.get_or_init(|| collect_branches(self))
    }

    /// Branch outcomes per line, lines in order; lines whose branches are
    /// all folded are left out.
    pub fn branch_lines(&self) -> Vec<BranchLine> {
        let mut out: Vec<BranchLine> = Vec::new();
        for b in self.branches() {
            let r = crate::model::summary::branch_ratio([&b.branch]);
            if r.total == 0 {
                continue;
            }
            match out.last_mut() {
                Some(last) if last.line == b.line => last.outcomes.add(r),
                _ => out.push(BranchLine {
                    line: b.line,
                    outcomes: r,
                }),
            }
        }
        out
    }

    /// Function records whose first file is this one and that have
    /// regions, in load order: llvm-cov's per-record function list (LCOV's
    /// `FN`/`FNDA`, export's `functions`).
    pub fn records(&self) -> impl Iterator<Item = &'a Function> + 'c {
        let file = self.file;
        self.functions_naming()
            .filter(move |f| f.filenames[0] == file && !f.regions.is_empty())
    }

    /// The instantiation groups of the file, sorted by start.
    pub fn groups(&self) -> &'c [Group] {
        self.ctx.groups(self.file)
    }

    /// The functions of the file (instantiation groups), sorted by start.
    /// Computes the summaries if not done yet.
    pub fn functions(&self) -> Vec<FunctionView<'a>> {
        let ctx = self.ctx;
        let cov = ctx.cov;
        let summaries = ctx.summaries();
        self.groups()
            .iter()
            .map(|g| {
                let instantiations: Vec<&'a Function> = g
                    .functions
                    .iter()
                    .map(|&i| &cov.functions[i as usize])
                    .collect();
                let first = instantiations[0];
                let s = summaries.group_summary(g);
                FunctionView {
                    name: group_name(ctx, first),
                    start: (g.line, g.col),
                    execution_count: s.execution_count,
                    summary: s,
                    instantiations,
                }
            })
            .collect()
    }

    /// The file's summary. Computes the summaries if not done yet.
    pub fn summary(&self) -> &'c FileSummary {
        &self.ctx.summaries().files[self.file as usize]
    }
}

/// The name of an instantiation group: its first record's, demangled
/// without generic arguments, or mangled with `--mangled`.
pub fn group_name(ctx: &Context, first: &Function) -> String {
    if ctx.opts.mangled {
        first.name.to_string()
    } else {
        strip_generic_args(&ctx.function_name(first))
    }
}

/// A branch with its position for llvm-cov's ordering: the start of the
/// branch (or the chain of expansion starts leading to it), then the
/// order in which it was collected.
struct Nested {
    path: Vec<(u32, u32)>,
    position: usize,
    branch: CountedBranch,
}

/// llvm-cov's file branches (`CoverageExporterLcov`'s order): the branch
/// regions located in the file, then for each record whose main file it
/// is, the branches reached through its expansions
/// ([`for_each_expansion_branch`]), sorted by path and collection order.
fn collect_branches(view: &FileView) -> Vec<FileBranch> {
    let file = view.file;
    let mut list: Vec<Nested> = Vec::new();
    for f in view.functions_naming() {
        for b in f
            .branches
            .iter()
            .filter(|b| f.filenames[b.file_id as usize] == file)
        {
            if b.true_folded && b.false_folded {
                continue;
            }
            list.push(Nested {
                path: vec![b.start()],
                position: list.len(),
                branch: *b,
            });
        }
    }
    let mut position = 0;
    for f in view.functions_naming() {
        if let Some(main) = f.main_file_id.filter(|_| f.main_file() == Some(file)) {
            for_each_expansion_branch(f, main, |path, b| {
                position += 1;
                if !(b.true_folded && b.false_folded) {
                    list.push(Nested {
                        path: path.to_vec(),
                        position: position - 1,
                        branch: *b,
                    });
                }
            });
        }
    }
    list.sort_by(|a, b| a.path.cmp(&b.path).then(a.position.cmp(&b.position)));
    list.into_iter()
        .map(|n| FileBranch {
            line: n.path[0].0,
            branch: n.branch,
        })
        .collect()
}
