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
//!
//! A serializer of the [`view`](super::view).

use std::fmt::Write as _;
use std::io::{self, Write};

use super::view::FileView;
use super::Context;

/// Writes the tracefile.
pub fn write(ctx: &Context, out: &mut dyn Write) -> io::Result<()> {
    for view in ctx.file_views() {
        write_file(ctx, &view, out)?;
    }
    Ok(())
}

/// Writes one file's record, `SF:` to `end_of_record`.
pub fn write_file(ctx: &Context, view: &FileView, out: &mut dyn Write) -> io::Result<()> {
    let mut line = String::new();
    let summary = view.summary();
    writeln!(out, "SF:{}", view.path())?;
    let own: Vec<_> = view.records().collect();
    let names: Vec<String> = own.iter().map(|f| ctx.function_name(f)).collect();
    for (f, name) in own.iter().zip(&names) {
        writeln!(out, "FN:{},{}", f.regions[0].line_start, name)?;
    }
    for (f, name) in own.iter().zip(&names) {
        writeln!(out, "FNDA:{},{}", f.execution_count, name)?;
    }
    writeln!(out, "FNF:{}", summary.functions.total)?;
    writeln!(out, "FNH:{}", summary.functions.covered)?;
    // Line by line within a run, to stop at the first failed write: a
    // run can be 2^32 lines long.
    for run in view.line_runs() {
        for l in run.first..=run.last {
            line.clear();
            let _ = writeln!(line, "DA:{l},{}", run.count);
            out.write_all(line.as_bytes())?;
        }
    }
    write_branches(view, out)?;
    writeln!(out, "BRF:{}", summary.branches.total)?;
    writeln!(out, "BRH:{}", summary.branches.covered)?;
    writeln!(out, "LF:{}", summary.lines.total)?;
    writeln!(out, "LH:{}", summary.lines.covered)?;
    writeln!(out, "end_of_record")?;
    Ok(())
}

/// `BRDA` lines: per line, branch regions numbered as pairs, each with a
/// true and a false entry; `-` for both when neither side ran.
fn write_branches(view: &FileView, out: &mut dyn Write) -> io::Result<()> {
    let list = view.branches();
    let mut i = 0;
    while i < list.len() {
        let line = list[i].line;
        let mut pair = 0;
        let mut index = 0;
        while i < list.len() && list[i].line == line {
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
