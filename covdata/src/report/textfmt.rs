//! Go's legacy text profile (`go tool cover` input): `mode: count`, then
//! `file:startLine.startCol,endLine.endCol numStmt count` per code region.
//! Regions with the same file and range (instantiations, pods) are one
//! line with their counts summed (saturating). numStmt is 1: LLVM regions
//! carry no statement count. Lines are sorted by (file, start line, end
//! line, start column, end column), like Go's `cformat`.
//!
//! Files are sorted once by display path and numbered; files that display
//! the same path share a number, so their regions merge as the path says.
//! Each number collects its regions (the unmerged code regions of the
//! [`view`](super::view)s of its files) keyed by one integer, sorted, then
//! merged and written. It needs no summaries and no segments.

use std::io::{self, Write};

use super::decimal::put_decimal;
use super::Context;
use crate::llvm::mapping::RegionKind;

/// (start line, end line, start column, end column) as one integer, so
/// that integer order is the line order.
fn range_key(ls: u32, le: u32, cs: u32, ce: u32) -> u128 {
    (u128::from(ls) << 96) | (u128::from(le) << 64) | (u128::from(cs) << 32) | u128::from(ce)
}

/// Writes the profile.
pub fn write(ctx: &Context, out: &mut dyn Write) -> io::Result<()> {
    let cov = ctx.cov;
    let mut kept: Vec<(&str, u32)> = (0..cov.files.len() as u32)
        .filter(|&f| ctx.keeps_file(f))
        .map(|f| (ctx.display_path(f), f))
        .collect();
    kept.sort_unstable();
    // File index → rank of its display path; `u32::MAX` for files left out.
    let mut rank = vec![u32::MAX; cov.files.len()];
    let mut paths: Vec<&str> = Vec::new();
    for &(path, file) in &kept {
        if paths.last() != Some(&path) {
            paths.push(path);
        }
        rank[file as usize] = paths.len() as u32 - 1;
    }
    let mut blocks: Vec<Vec<(u128, u64)>> = vec![Vec::new(); paths.len()];
    for &(_, file) in &kept {
        let list = &mut blocks[rank[file as usize] as usize];
        let view = ctx.file_view(file);
        for r in view.raw_regions().filter(|r| r.kind == RegionKind::Code) {
            let key = range_key(r.line_start, r.line_end, r.col_start, r.col_end);
            list.push((key, r.count));
        }
    }
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
    buf.extend_from_slice(b"mode: count\n");
    for (path, list) in paths.iter().zip(&mut blocks) {
        list.sort_unstable_by_key(|&(key, _)| key);
        let mut i = 0;
        while i < list.len() {
            let key = list[i].0;
            let mut count = list[i].1;
            i += 1;
            while i < list.len() && list[i].0 == key {
                count = count.saturating_add(list[i].1);
                i += 1;
            }
            let [ls, le, cs, ce] = [96, 64, 32, 0].map(|shift| (key >> shift) as u32);
            // `:{ls}.{cs},{le}.{ce} 1 {count}\n`, at most 72 bytes.
            let mut tail = [0u8; 80];
            let mut at = 0;
            for (sep, v) in [(b':', ls), (b'.', cs), (b',', le), (b'.', ce)] {
                tail[at] = sep;
                at = put_decimal(&mut tail, at + 1, v.into());
            }
            tail[at..at + 3].copy_from_slice(b" 1 ");
            at = put_decimal(&mut tail, at + 3, count);
            tail[at] = b'\n';
            buf.extend_from_slice(path.as_bytes());
            buf.extend_from_slice(&tail[..=at]);
            if buf.len() >= 1 << 16 {
                out.write_all(&buf)?;
                buf.clear();
            }
        }
        *list = Vec::new();
    }
    out.write_all(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_keys_sort_by_start_then_end() {
        // Decimals: report::decimal's tests.
        let mut keys = [
            range_key(2, 2, 1, 5),
            range_key(1, 3, 1, 1),
            range_key(1, 2, 7, u32::MAX),
            range_key(1, 2, 7, 3),
        ];
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                range_key(1, 2, 7, 3),
                range_key(1, 2, 7, u32::MAX),
                range_key(1, 3, 1, 1),
                range_key(2, 2, 1, 5),
            ]
        );
    }
}
