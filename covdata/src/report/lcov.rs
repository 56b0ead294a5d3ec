//! LCOV tracefile, record for record what `llvm-cov export -format=lcov`
//! (LLVM 22, `CoverageExporterLcov.cpp`) writes:
//!
//! ```text
//! SF:<path>            per file, sorted by path
//! FN:<line>,<name>     per function record whose first file is this one
//! FNDA:<count>,<name>  same records, same order
//! FNF/FNH              instantiation groups found / executed
//! DA:<line>,<count>    merged file view, mapped lines
//! BRDA:<line>,<pair>,<branch>,<count|->  two per unfolded branch region
//! BRF/BRH, LF/LH       file summary (groups max-merged)
//! end_of_record
//! ```

use std::io::{self, Write};

use super::Context;
use crate::llvm::mapping::RegionKind;
use crate::model::lines::for_each_mapped_run;
use crate::model::{segments, CountedBranch, CountedRegion, Function};

/// Writes the tracefile.
pub fn write(ctx: &Context, out: &mut dyn Write) -> io::Result<()> {
    let cov = ctx.cov;
    let summaries = ctx.summaries();
    let mut line = String::new();
    for file in ctx.kept_files() {
        let summary = &summaries.files[file as usize];
        writeln!(out, "SF:{}", cov.file_path(file))?;
        let own: Vec<_> = cov
            .functions_in_file(file)
            .filter(|f| f.filenames[0] == file && !f.regions.is_empty())
            .collect();
        let names: Vec<String> = own.iter().map(|f| ctx.function_name(f)).collect();
        for (f, name) in own.iter().zip(&names) {
            writeln!(out, "FN:{},{}", f.regions[0].line_start, name)?;
        }
        for (f, name) in own.iter().zip(&names) {
            writeln!(out, "FNDA:{},{}", f.execution_count, name)?;
        }
        writeln!(out, "FNF:{}", summary.functions.total)?;
        writeln!(out, "FNH:{}", summary.functions.covered)?;

        let mut regions: Vec<CountedRegion> = Vec::new();
        for f in cov.functions_in_file(file) {
            regions.extend(
                f.regions
                    .iter()
                    .filter(|r| f.filenames[r.file_id as usize] == file),
            );
        }
        let segs = segments::build(&mut regions);
        // By runs, to stop at the first failed write: a run can be 2^32
        // lines long.
        let mut err = Ok(());
        for_each_mapped_run(&segs, |first, last, count| {
            for l in first..=last {
                if err.is_err() {
                    return;
                }
                line.clear();
                use std::fmt::Write as _;
                let _ = writeln!(line, "DA:{l},{count}");
                err = out.write_all(line.as_bytes());
            }
        });
        err?;

        write_branches(ctx, file, out)?;
        writeln!(out, "BRF:{}", summary.branches.total)?;
        writeln!(out, "BRH:{}", summary.branches.covered)?;
        writeln!(out, "LF:{}", summary.lines.total)?;
        writeln!(out, "LH:{}", summary.lines.covered)?;
        writeln!(out, "end_of_record")?;
    }
    Ok(())
}

/// A branch with its position for llvm-cov's ordering: the start of the
/// branch (or the chain of expansion starts leading to it), then the
/// order in which it was collected.
struct Nested {
    path: Vec<(u32, u32)>,
    position: usize,
    branch: CountedBranch,
}

fn write_branches(ctx: &Context, file: u32, out: &mut dyn Write) -> io::Result<()> {
    let cov = ctx.cov;
    let mut list: Vec<Nested> = Vec::new();
    for f in cov.functions_in_file(file) {
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
    let mut path = Vec::new();
    for f in cov.functions_in_file(file) {
        if let Some(main) = f.main_file_id.filter(|_| f.main_file() == Some(file)) {
            collect_expansions(f, main, &mut path, &mut position, &mut list);
        }
    }
    list.sort_by(|a, b| a.path.cmp(&b.path).then(a.position.cmp(&b.position)));
    let mut i = 0;
    while i < list.len() {
        let line = list[i].path[0].0;
        let mut pair = 0;
        let mut index = 0;
        while i < list.len() && list[i].path[0].0 == line {
            let b = &list[i].branch;
            // llvm-cov holds these counts in `unsigned` here.
            let (t, f) = (b.true_count as u32, b.false_count as u32);
            for count in [t, f] {
                if t == 0 && f == 0 {
                    writeln!(out, "BRDA:{line},{pair},{index},-")?;
                } else {
                    writeln!(out, "BRDA:{line},{pair},{index},{count}")?;
                }
                index += 1;
            }
            pair += 1;
            i += 1;
        }
    }
    Ok(())
}

/// llvm-cov's `collectNestedBranches`: for each expansion region in
/// `file_id`, the branches of nested expansions first, then those of the
/// expanded file, each keyed by the chain of expansion starts. The walk
/// keeps its own stack, as expansions can nest as deep as a mapping has
/// file ids, and finds each file's expansions and branches through an
/// index, so it is linear in the regions (a file id is expanded at most
/// once).
fn collect_expansions(
    f: &Function,
    file_id: u32,
    path: &mut Vec<(u32, u32)>,
    position: &mut usize,
    out: &mut Vec<Nested>,
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
            *position += 1;
            if !(b.true_folded && b.false_folded) {
                out.push(Nested {
                    path: path.clone(),
                    position: *position - 1,
                    branch: **b,
                });
            }
        }
        path.pop();
    }
}
