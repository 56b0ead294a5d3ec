//! Encoders for LLVM's coverage data, the inverses of the decoders: a
//! function's mapping ([`encode_mapping`]), whole covfun records
//! ([`super::covfun::encode_record`]), stored name blobs
//! ([`super::names::encode_stored`]), plus raw walks over covfun and covmap
//! sections that keep every record's bytes, for writing filtered copies.
//!
//! `encode_mapping(Mapping::decode(bytes))` gives `bytes` back for mappings
//! LLVM wrote: expressions keep their order and operands, each reference
//! carries its expression's kind as its tag (as LLVM writes it), regions
//! keep their file-by-file order, and whole-line and gap regions get their
//! special column encodings back.

use covwrap_rt::format::leb128::push;
use covwrap_rt::format::md5::md5_u64;

use super::mapping::{Counter, ExprKind, Mapping, Mcdc, RegionKind};
use super::Cursor;
use crate::error::{Error, Result};

const GAP_BIT: u32 = 1 << 31;

/// Encodes a counter reference; an expression's tag is its kind.
fn counter_value(m: &Mapping, c: Counter) -> u64 {
    match c {
        Counter::Zero => 0,
        Counter::Ref(id) => u64::from(id) << 2 | 1,
        Counter::Expr(id) => {
            let tag = match m.expressions.get(id as usize).map(|e| e.kind) {
                Some(ExprKind::Add) => 3,
                _ => 2,
            };
            u64::from(id) << 2 | tag
        }
    }
}

/// Encodes a mapping (`CoverageMapping[]` of a covfun record). Regions are
/// written file id by file id, each file's in the order they appear in
/// `m.regions`; the counts of expansion regions are not stored (a reader
/// takes them from the expanded file's first region).
pub fn encode_mapping(m: &Mapping) -> Vec<u8> {
    let mut out = Vec::new();
    push(&mut out, m.file_ids.len() as u64);
    for &f in &m.file_ids {
        push(&mut out, u64::from(f));
    }
    push(&mut out, m.expressions.len() as u64);
    for e in &m.expressions {
        push(&mut out, counter_value(m, e.lhs));
        push(&mut out, counter_value(m, e.rhs));
    }
    for file_id in 0..m.file_ids.len() as u32 {
        let regions: Vec<_> = m.regions.iter().filter(|r| r.file_id == file_id).collect();
        push(&mut out, regions.len() as u64);
        let mut prev_line: u32 = 0;
        for r in regions {
            match r.kind {
                RegionKind::Code | RegionKind::Gap => push(&mut out, counter_value(m, r.count)),
                RegionKind::Expansion => push(&mut out, 4 | u64::from(r.expanded_file_id) << 3),
                RegionKind::Skipped => push(&mut out, 2 << 3),
                RegionKind::Branch => {
                    push(&mut out, 4 << 3);
                    push(&mut out, counter_value(m, r.count));
                    push(&mut out, counter_value(m, r.false_count));
                }
                RegionKind::McdcDecision => {
                    push(&mut out, 5 << 3);
                    let (bitmap_idx, n) = match r.mcdc {
                        Mcdc::Decision {
                            bitmap_idx,
                            num_conditions,
                        } => (bitmap_idx, num_conditions),
                        _ => (0, 0),
                    };
                    push(&mut out, u64::from(bitmap_idx));
                    push(&mut out, u64::from(n));
                }
                RegionKind::McdcBranch => {
                    push(&mut out, 6 << 3);
                    push(&mut out, counter_value(m, r.count));
                    push(&mut out, counter_value(m, r.false_count));
                    let (id, conds) = match r.mcdc {
                        Mcdc::Branch { id, conds } => (id, conds),
                        _ => (0, [-1, -1]),
                    };
                    // Stored as ID+1, TrueID+1, FalseID+1; conds is [false, true].
                    for v in [id, conds[1], conds[0]] {
                        push(&mut out, (i32::from(v) + 1).max(0) as u64);
                    }
                }
            }
            let (mut col_start, mut col_end) = (r.col_start, r.col_end);
            if col_start == 1 && col_end == u32::MAX {
                // A whole-line region, stored as columns 0 and 0.
                (col_start, col_end) = (0, 0);
            }
            if r.kind == RegionKind::Gap {
                col_end |= GAP_BIT;
            }
            push(&mut out, u64::from(r.line_start.wrapping_sub(prev_line)));
            push(&mut out, u64::from(col_start));
            push(&mut out, u64::from(r.line_end.wrapping_sub(r.line_start)));
            push(&mut out, u64::from(col_end));
            prev_line = r.line_start;
        }
    }
    out
}

/// One covmap record as stored: its FilenamesRef and its bytes (header,
/// filenames blob, padding to 8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawCovMap<'a> {
    /// MD5 of the record's filenames blob.
    pub filenames_ref: u64,
    /// The whole record, padded to a multiple of 8.
    pub bytes: &'a [u8],
}

/// Every record of a covmap section, in section order. Versions are not
/// checked here ([`super::covmap::FileTables::decode`] does).
pub fn raw_covmap_records(section: &[u8]) -> Result<Vec<RawCovMap<'_>>> {
    let mut out = Vec::new();
    let mut c = Cursor::new(section);
    while !c.at_end() {
        let start = c.pos();
        if c.remaining() < 16 {
            return Err(Error::truncated(format!(
                "covmap header at offset {start} overruns the section"
            )));
        }
        let n_records = c.u32()? as usize;
        let filenames_size = c.u32()? as usize;
        c.u32()?;
        c.u32()?;
        c.bytes(n_records.saturating_mul(28))?;
        let blob = c.bytes(filenames_size)?;
        c.align8();
        let end = c.pos().min(section.len());
        out.push(RawCovMap {
            filenames_ref: md5_u64(blob),
            bytes: &section[start..end],
        });
    }
    Ok(out)
}

/// Appends `record` to a section being built, padded to a multiple of 8.
pub fn push_padded(section: &mut Vec<u8>, record: &[u8]) {
    section.extend_from_slice(record);
    section.resize(section.len().div_ceil(8) * 8, 0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llvm::covfun::{encode_record, raw_records as raw_covfun_records};
    use crate::llvm::covmap::encode_record as covmap_record;
    use crate::llvm::mapping::{Expression, Region, CLASSIFY};

    #[test]
    fn decoded_mappings_encode_to_the_same_bytes() {
        let m = Mapping::decode(&CLASSIFY, 2).unwrap();
        assert_eq!(encode_mapping(&m), CLASSIFY);
        let unused = [
            0x01, 0x01, 0x00, 0x05, 0x00, 0x19, 0x01, 0x00, 0x1f, 0x00, 0x01, 0x08, 0x00, 0x0e,
            0x00, 0x00, 0x11, 0x00, 0x16, 0x00, 0x00, 0x20, 0x00, 0x25, 0x00, 0x01, 0x01, 0x00,
            0x02,
        ];
        assert_eq!(
            encode_mapping(&Mapping::decode(&unused, 2).unwrap()),
            unused
        );
    }

    #[test]
    fn every_region_kind_round_trips() {
        // The decoder's own test input: two file ids, an add expression,
        // expansion, skipped, gap with a counter, branch, whole-line,
        // MC/DC decision and branch.
        let bytes: &[u8] = &[
            2, 0, 1, // file ids
            1, 1, 5, // E0 = (#0, #1)
            6, // regions in file 0
            0x03, 1, 1, 5, 10, // code, E0 (add)
            0x0c, 1, 3, 0, 8, // expansion of file 1
            0x10, 1, 1, 0, 4, // skipped
            0x05, 1, 2, 0, 0x85, 0x80, 0x80, 0x80, 0x08, // gap (#1)
            0x20, 0x05, 0x00, 1, 3, 0, 9, // branch
            0x00, 0, 0, 0, 0, // whole line
            3, // regions in file 1
            0x09, 1, 1, 0, 9, // code #2
            0x28, 9, 2, 0, 3, 0, 6, // decision
            0x30, 0x05, 0x09, 1, 2, 0, 0, 3, 0, 6, // MC/DC branch
        ];
        let m = Mapping::decode(bytes, 3).unwrap();
        let again = encode_mapping(&m);
        assert_eq!(Mapping::decode(&again, 3).unwrap(), m);
        assert_eq!(again, bytes);
    }

    #[test]
    fn hand_built_mappings_round_trip() {
        use Counter::*;
        let region = |count, kind, line_start, col_start, line_end, col_end| Region {
            count,
            false_count: Zero,
            file_id: 0,
            expanded_file_id: 0,
            line_start,
            col_start,
            line_end,
            col_end,
            kind,
            mcdc: Mcdc::None,
        };
        let m = Mapping {
            file_ids: vec![1],
            expressions: vec![
                Expression {
                    kind: ExprKind::Subtract,
                    lhs: Ref(0),
                    rhs: Expr(1),
                },
                Expression {
                    kind: ExprKind::Add,
                    lhs: Ref(1),
                    rhs: Ref(2),
                },
            ],
            regions: vec![
                region(Ref(0), RegionKind::Code, 3, 1, 9, 2),
                region(Expr(0), RegionKind::Code, 4, 5, 4, 9),
                region(Ref(1), RegionKind::Gap, 4, 9, 5, 1),
                region(Zero, RegionKind::Gap, 6, 1, 6, u32::MAX),
                region(Zero, RegionKind::Skipped, 7, 1, 7, 20),
                Region {
                    false_count: Expr(1),
                    ..region(Ref(2), RegionKind::Branch, 8, 4, 8, 9)
                },
            ],
        };
        let bytes = encode_mapping(&m);
        assert_eq!(Mapping::decode(&bytes, 2).unwrap(), m);
    }

    #[test]
    fn raw_walks_keep_every_record() {
        let mut covfun = encode_record(1, 2, 3, &CLASSIFY);
        covfun.extend(encode_record(1, 0, 3, &[1, 1, 0, 1, 0, 1, 1, 0, 2]));
        let raw = raw_covfun_records(&covfun).unwrap();
        assert_eq!(raw.len(), 2);
        assert_eq!((raw[1].name_ref, raw[1].func_hash), (1, 0));
        assert_eq!(raw[0].mapping, CLASSIFY);
        let mut again = Vec::new();
        for r in &raw {
            push_padded(
                &mut again,
                &encode_record(r.name_ref, r.func_hash, r.filenames_ref, r.mapping),
            );
        }
        assert_eq!(again, covfun);
        assert!(raw_covfun_records(&covfun[..covfun.len() - 20]).is_err());

        let mut covmap = covmap_record(&["/w", "/w/a.rs"], 6);
        let first = covmap.len();
        covmap.extend(covmap_record(&["/w", "/w/b.rs"], 6));
        let maps = raw_covmap_records(&covmap).unwrap();
        assert_eq!(maps.len(), 2);
        assert_eq!(maps[0].bytes, &covmap[..first]);
        assert_eq!(
            maps[1].filenames_ref,
            md5_u64(&crate::llvm::covmap::encode_filenames(&["/w", "/w/b.rs"]))
        );
        assert!(raw_covmap_records(&covmap[..first + 10]).is_err());
    }
}
