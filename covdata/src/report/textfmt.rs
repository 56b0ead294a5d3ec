//! Go's legacy text profile (`go tool cover` input): `mode: count`, then
//! `file:startLine.startCol,endLine.endCol numStmt count` per code region.
//! Regions with the same file and range (instantiations, pods) are one
//! line with their counts summed (saturating). numStmt is 1: LLVM regions
//! carry no statement count. Lines are sorted by (file, start line, end
//! line, start column, end column), like Go's `cformat`.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::Context;
use crate::llvm::mapping::RegionKind;

/// Writes the profile.
pub fn write(ctx: &Context, out: &mut dyn Write) -> io::Result<()> {
    let cov = ctx.cov;
    let mut blocks: BTreeMap<(&str, u32, u32, u32, u32), u64> = BTreeMap::new();
    let kept: Vec<bool> = (0..cov.files.len() as u32)
        .map(|f| ctx.keeps_file(f))
        .collect();
    for f in &cov.functions {
        for r in f.regions.iter().filter(|r| r.kind == RegionKind::Code) {
            let file = f.filenames[r.file_id as usize];
            if !kept[file as usize] {
                continue;
            }
            let key = (
                ctx.display_path(file),
                r.line_start,
                r.line_end,
                r.col_start,
                r.col_end,
            );
            let sum = blocks.entry(key).or_insert(0);
            *sum = sum.saturating_add(r.count);
        }
    }
    writeln!(out, "mode: count")?;
    for ((file, ls, le, cs, ce), count) in blocks {
        writeln!(out, "{file}:{ls}.{cs},{le}.{ce} 1 {count}")?;
    }
    Ok(())
}
