//! Function, instantiation-group and file summaries with llvm-cov's
//! `report` rules (`CoverageSummaryInfo.cpp`, `CoverageReport.cpp`):
//!
//! - a function record: code regions of all its files (covered if the
//!   count is non-zero), lines of its function view (main file only),
//!   branches of its main file and of expansions in it;
//! - an instantiation group (records of one file starting at the same
//!   line and column): the **maximum** over instantiations of covered and
//!   of total, separately; executed if the sum of execution counts is > 0;
//! - a file: sums over its groups; functions = groups, instantiations =
//!   records.

use std::collections::BTreeMap;

use super::lines::line_totals;
use super::segments;
use super::{CountedBranch, CountedRegion, Coverage, Function};
use crate::llvm::mapping::RegionKind;
use crate::parallel;

/// Covered out of total.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Ratio {
    /// Covered items.
    pub covered: u64,
    /// All items.
    pub total: u64,
}

impl Ratio {
    /// Adds another ratio.
    pub fn add(&mut self, o: Ratio) {
        self.covered += o.covered;
        self.total += o.total;
    }

    /// llvm-cov's instantiation merge: max of each part.
    pub fn merge_max(&mut self, o: Ratio) {
        self.covered = self.covered.max(o.covered);
        self.total = self.total.max(o.total);
    }

    /// Percentage covered; 0 when there is nothing (as llvm-cov).
    pub fn percent(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.covered as f64 * 100.0 / self.total as f64
        }
    }

    /// Items not covered.
    pub fn missed(&self) -> u64 {
        self.total - self.covered
    }
}

/// Summary of one function record or one group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FunctionSummary {
    /// Code regions.
    pub regions: Ratio,
    /// Lines of the function view.
    pub lines: Ratio,
    /// Branch outcomes (true and false count separately).
    pub branches: Ratio,
    /// Execution count (for a group: the sum over instantiations).
    pub execution_count: u64,
}

/// Summary of one source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FileSummary {
    /// Code regions (sum over groups).
    pub regions: Ratio,
    /// Lines (sum over groups).
    pub lines: Ratio,
    /// Branch outcomes (sum over groups).
    pub branches: Ratio,
    /// Groups, executed if their summed count is > 0.
    pub functions: Ratio,
    /// Function records.
    pub instantiations: Ratio,
}

impl FileSummary {
    /// Adds another file's summary (for totals).
    pub fn add(&mut self, o: &FileSummary) {
        self.regions.add(o.regions);
        self.lines.add(o.lines);
        self.branches.add(o.branches);
        self.functions.add(o.functions);
        self.instantiations.add(o.instantiations);
    }
}

/// Records of one file starting at the same place: the instantiations of
/// one function (generics, closures' copies, `#[inline]` copies).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// Line of the first region.
    pub line: u32,
    /// Column of the first region.
    pub col: u32,
    /// Function indices, in load order.
    pub functions: Vec<u32>,
}

/// Branch outcomes of `branches`, skipping folded sides.
pub fn branch_ratio<'a>(branches: impl IntoIterator<Item = &'a CountedBranch>) -> Ratio {
    let mut r = Ratio::default();
    for b in branches {
        if !b.true_folded {
            r.total += 1;
            r.covered += u64::from(b.true_count > 0);
        }
        if !b.false_folded {
            r.total += 1;
            r.covered += u64::from(b.false_count > 0);
        }
    }
    r
}

/// Visits the branches reached through expansion regions located in
/// `file_id`, recursively, in llvm-cov's order (`collectNestedBranches`:
/// for each expansion region, the branches of nested expansions first,
/// then those of the expanded file), each with the chain of expansion
/// starts leading to it (outermost first). The walk keeps its own stack,
/// as expansions can nest as deep as a mapping has file ids, and finds
/// each file's expansions and branches through an index, so it is linear
/// in the regions (a file id is expanded at most once).
pub fn for_each_expansion_branch(
    f: &Function,
    file_id: u32,
    mut visit: impl FnMut(&[(u32, u32)], &CountedBranch),
) {
    let files = f.filenames.len();
    let mut expansions: Vec<Vec<&CountedRegion>> = vec![Vec::new(); files];
    for r in f.regions.iter().filter(|r| r.kind == RegionKind::Expansion) {
        expansions[r.file_id as usize].push(r);
    }
    let mut branches: Vec<Vec<&CountedBranch>> = vec![Vec::new(); files];
    for b in &f.branches {
        branches[b.file_id as usize].push(b);
    }
    // (file id whose expansion regions are walked, next of them); `path`
    // holds the start of the expansion region of each frame but the first.
    let mut path: Vec<(u32, u32)> = Vec::new();
    let mut stack = vec![(file_id, 0)];
    while let Some(top) = stack.last_mut() {
        let (file, next) = *top;
        let found = match expansions.get(file as usize) {
            Some(list) if path.len() <= files => list.get(next).copied(),
            _ => None,
        };
        if let Some(e) = found {
            top.1 = next + 1;
            path.push(e.start());
            stack.push((e.expanded_file_id, 0));
            continue;
        }
        stack.pop();
        if stack.is_empty() {
            break;
        }
        // Back in the expansion region that led to `file`.
        for b in branches.get(file as usize).into_iter().flatten() {
            visit(&path, b);
        }
        path.pop();
    }
}

/// The summary of one function record.
pub fn function_summary(f: &Function) -> FunctionSummary {
    function_summary_with(f, &mut SummaryScratch::default())
}

/// Space [`function_summary_with`] reuses from one function to the next.
#[derive(Clone, Debug, Default)]
pub struct SummaryScratch {
    view: Vec<CountedRegion>,
    segments: Vec<segments::Segment>,
    builder: segments::Scratch,
}

/// [`function_summary`] with reused scratch space.
pub fn function_summary_with(f: &Function, scratch: &mut SummaryScratch) -> FunctionSummary {
    let mut regions = Ratio::default();
    for r in f.regions.iter().filter(|r| r.kind == RegionKind::Code) {
        regions.total += 1;
        regions.covered += u64::from(r.count != 0);
    }
    let mut s = FunctionSummary {
        regions,
        execution_count: f.execution_count,
        ..FunctionSummary::default()
    };
    if let Some(main) = f.main_file_id {
        let view = &mut scratch.view;
        view.clear();
        view.extend(f.regions.iter().filter(|r| r.file_id == main));
        segments::build_into(view, &mut scratch.segments, &mut scratch.builder);
        let (total, covered) = line_totals(&scratch.segments);
        s.lines = Ratio { covered, total };
        // Only the function's own branch regions count, here and in its
        // expansions.
        if !f.branches.is_empty() {
            let mut branches: Vec<CountedBranch> = f
                .branches
                .iter()
                .filter(|b| b.file_id == main)
                .copied()
                .collect();
            for_each_expansion_branch(f, main, |_, b| branches.push(*b));
            s.branches = branch_ratio(&branches);
        }
    }
    s
}

/// Summaries of every function and file of a model.
#[derive(Clone, Debug, Default)]
pub struct Summaries {
    /// Per function record, indexed like [`Coverage::functions`].
    pub functions: Vec<FunctionSummary>,
    /// Per file index.
    pub files: Vec<FileSummary>,
}

impl Summaries {
    /// Computes every function's summary (on several threads) and every
    /// file's from `groups`, the instantiation groups of each file index
    /// ([`all_file_groups`]).
    pub fn compute(cov: &Coverage, groups: &[Vec<Group>]) -> Summaries {
        let functions = parallel::map(
            &cov.functions,
            SummaryScratch::default,
            function_summary_with,
        );
        let files = groups.iter().map(|g| file_summary(g, &functions)).collect();
        Summaries { functions, files }
    }

    /// A group's summary.
    pub fn group_summary(&self, g: &Group) -> FunctionSummary {
        group_summary(g, &self.functions)
    }
}

/// The instantiation groups of every file index, as [`file_groups`].
pub fn all_file_groups(cov: &Coverage) -> Vec<Vec<Group>> {
    let files: Vec<u32> = (0..cov.files.len() as u32).collect();
    parallel::map(&files, || (), |&file, _| file_groups(cov, file))
}

/// The instantiation groups of `file`: records whose main file it is,
/// keyed by the start of their first region there.
pub fn file_groups(cov: &Coverage, file: u32) -> Vec<Group> {
    let mut map: BTreeMap<(u32, u32), Vec<u32>> = BTreeMap::new();
    for &i in cov.function_indices_in_file(file) {
        let f = &cov.functions[i as usize];
        if f.main_file() != Some(file) {
            continue;
        }
        if let Some(start) = f.group_start() {
            map.entry(start).or_default().push(i);
        }
    }
    map.into_iter()
        .map(|((line, col), functions)| Group {
            line,
            col,
            functions,
        })
        .collect()
}

fn group_summary(g: &Group, functions: &[FunctionSummary]) -> FunctionSummary {
    let first = functions[g.functions[0] as usize];
    let mut s = first;
    s.execution_count = 0;
    for &i in &g.functions {
        let f = &functions[i as usize];
        s.regions.merge_max(f.regions);
        s.lines.merge_max(f.lines);
        s.branches.merge_max(f.branches);
        s.execution_count = s.execution_count.wrapping_add(f.execution_count);
    }
    s
}

fn file_summary(groups: &[Group], functions: &[FunctionSummary]) -> FileSummary {
    let mut s = FileSummary::default();
    for g in groups {
        for &i in &g.functions {
            s.instantiations.total += 1;
            s.instantiations.covered += u64::from(functions[i as usize].execution_count > 0);
        }
        let gs = group_summary(g, functions);
        s.regions.add(gs.regions);
        s.lines.add(gs.lines);
        s.branches.add(gs.branches);
        s.functions.total += 1;
        s.functions.covered += u64::from(gs.execution_count > 0);
    }
    s
}
