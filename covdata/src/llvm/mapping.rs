//! A function's coverage mapping (`CoverageMapping[]` of a covfun record):
//! file ids, counter expressions and regions, all ULEB128.
//!
//! ```text
//! NumFileIDs, FileID -> table index x NumFileIDs
//! NumExpressions, (LHS counter, RHS counter) x NumExpressions
//! per file id: NumRegions, region x NumRegions
//! ```
//!
//! A counter is `v & 3`: 0 zero, 1 counter `v >> 2`, 2 subtract expression
//! `v >> 2`, 3 add expression `v >> 2`. An expression's kind is set by the
//! tag of whichever reference LLVM decodes last, so it is kept per
//! expression and overwritten on every reference, exactly like LLVM.

use super::Cursor;
use crate::error::{Error, Result};

/// A counter reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Counter {
    /// The constant 0.
    Zero,
    /// Profile counter number `n` of the function.
    Ref(u32),
    /// Expression number `n` of the function.
    Expr(u32),
}

/// Whether an expression adds or subtracts its operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExprKind {
    /// `LHS - RHS`.
    Subtract,
    /// `LHS + RHS`.
    Add,
}

/// A counter expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Expression {
    /// Add or subtract, from the last reference decoded.
    pub kind: ExprKind,
    /// Left operand.
    pub lhs: Counter,
    /// Right operand.
    pub rhs: Counter,
}

/// LLVM's region kinds, with their numbering in `llvm-cov export`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RegionKind {
    /// Code; counts toward region coverage.
    Code = 0,
    /// A macro or include expansion into another file id.
    Expansion = 1,
    /// Skipped code (no count).
    Skipped = 2,
    /// Whitespace between code; counts only through line rules.
    Gap = 3,
    /// A branch with true and false counters.
    Branch = 4,
    /// An MC/DC decision.
    McdcDecision = 5,
    /// An MC/DC branch (condition).
    McdcBranch = 6,
}

impl RegionKind {
    /// True for the kinds llvm-cov keeps in a function's branch list.
    pub fn is_branch(self) -> bool {
        matches!(self, RegionKind::Branch | RegionKind::McdcBranch)
    }
}

/// MC/DC parameters of a region.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mcdc {
    /// Not an MC/DC region.
    None,
    /// Decision: bitmap byte index and number of conditions.
    Decision {
        /// Index of the decision's bitmap.
        bitmap_idx: u32,
        /// Number of conditions.
        num_conditions: u16,
    },
    /// Condition: its id and the ids reached when false and when true
    /// (`-1` = none).
    Branch {
        /// This condition's id.
        id: i16,
        /// Next condition when false, when true.
        conds: [i16; 2],
    },
}

/// One mapping region.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Region {
    /// The count (the true count of a branch).
    pub count: Counter,
    /// The false count of a branch; `Zero` otherwise.
    pub false_count: Counter,
    /// File id the region is in.
    pub file_id: u32,
    /// For expansions, the file id expanded.
    pub expanded_file_id: u32,
    /// 1-based start line.
    pub line_start: u32,
    /// 1-based start column (bytes).
    pub col_start: u32,
    /// End line.
    pub line_end: u32,
    /// Exclusive end column; `u32::MAX` means end of line.
    pub col_end: u32,
    /// Region kind.
    pub kind: RegionKind,
    /// MC/DC parameters.
    pub mcdc: Mcdc,
}

impl Region {
    /// (line, column) of the start.
    pub fn start(&self) -> (u32, u32) {
        (self.line_start, self.col_start)
    }

    /// (line, column) of the end.
    pub fn end(&self) -> (u32, u32) {
        (self.line_end, self.col_end)
    }
}

/// A decoded mapping.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mapping {
    /// File id → index into the function's filenames table.
    pub file_ids: Vec<u32>,
    /// Counter expressions.
    pub expressions: Vec<Expression>,
    /// Regions, file id by file id, each file's sorted by start.
    pub regions: Vec<Region>,
}

const U32_LIMIT: u64 = u32::MAX as u64;
const I16_LIMIT: u64 = i16::MAX as u64;

impl Mapping {
    /// Decodes `data` for a function whose filenames table has
    /// `table_len` entries, then propagates counts into expansion regions.
    pub fn decode(data: &[u8], table_len: usize) -> Result<Mapping> {
        let mut c = Cursor::new(data);
        let mut m = Mapping::default();
        let num_files = c.size("file id count")?;
        for _ in 0..num_files {
            m.file_ids
                .push(c.uleb_below(table_len as u64, "filename index")? as u32);
        }
        let num_exprs = c.size("expression count")?;
        let placeholder = Expression {
            kind: ExprKind::Subtract,
            lhs: Counter::Zero,
            rhs: Counter::Zero,
        };
        m.expressions = vec![placeholder; num_exprs];
        for i in 0..num_exprs {
            let lhs = m.read_counter(&mut c)?;
            let rhs = m.read_counter(&mut c)?;
            m.expressions[i].lhs = lhs;
            m.expressions[i].rhs = rhs;
        }
        let mut expanded = vec![false; num_files];
        for file_id in 0..num_files as u32 {
            m.read_regions(&mut c, file_id, &mut expanded)?;
        }
        m.propagate_expansion_counts()?;
        Ok(m)
    }

    fn decode_counter(&mut self, value: u64) -> Result<Counter> {
        let id = (value >> 2) as u32;
        match value & 3 {
            0 => Ok(Counter::Zero),
            1 => Ok(Counter::Ref(id)),
            tag => {
                let Some(e) = self.expressions.get_mut(id as usize) else {
                    return Err(Error::corrupt(format!(
                        "counter expression {id} is invalid"
                    )));
                };
                e.kind = if tag == 2 {
                    ExprKind::Subtract
                } else {
                    ExprKind::Add
                };
                Ok(Counter::Expr(id))
            }
        }
    }

    fn read_counter(&mut self, c: &mut Cursor) -> Result<Counter> {
        let v = c.uleb_below(U32_LIMIT, "counter")?;
        self.decode_counter(v)
    }

    /// Reads the regions of `file_id`; `expanded` marks the file ids an
    /// expansion region already targets.
    fn read_regions(&mut self, c: &mut Cursor, file_id: u32, expanded: &mut [bool]) -> Result<()> {
        let count = c.size("region count")?;
        // A region takes at least five bytes (five LEB128 numbers).
        self.regions.reserve(count.min(c.remaining() / 5));
        let mut line_start: u32 = 0;
        for _ in 0..count {
            let mut kind = RegionKind::Code;
            let mut count = Counter::Zero;
            let mut false_count = Counter::Zero;
            let mut expanded_file_id = 0;
            let mut mcdc = Mcdc::None;
            let header = c.uleb_below(U32_LIMIT, "region header")?;
            if header & 3 != 0 {
                count = self.decode_counter(header)?;
            } else if header & 4 != 0 {
                kind = RegionKind::Expansion;
                let id = header >> 3;
                if id >= expanded.len() as u64 {
                    return Err(Error::corrupt(format!("expanded file id {id} is invalid")));
                }
                // LLVM asserts that a file id is expanded at most once: with
                // several expansions of one file, every walk over nested
                // expansions (branches, lcov's order) is exponential.
                if std::mem::replace(&mut expanded[id as usize], true) {
                    return Err(Error::corrupt(format!("file id {id} is expanded twice")));
                }
                expanded_file_id = id as u32;
            } else {
                match header >> 3 {
                    0 => {}
                    2 => kind = RegionKind::Skipped,
                    4 => {
                        kind = RegionKind::Branch;
                        count = self.read_counter(c)?;
                        false_count = self.read_counter(c)?;
                    }
                    5 => {
                        kind = RegionKind::McdcDecision;
                        let bitmap_idx = c.uleb_below(U32_LIMIT, "MC/DC bitmap index")? as u32;
                        let n = c.uleb_below(I16_LIMIT, "MC/DC condition count")? as u16;
                        mcdc = Mcdc::Decision {
                            bitmap_idx,
                            num_conditions: n,
                        };
                    }
                    6 => {
                        kind = RegionKind::McdcBranch;
                        count = self.read_counter(c)?;
                        false_count = self.read_counter(c)?;
                        let id1 = c.uleb_below(I16_LIMIT, "MC/DC condition id")?;
                        let true1 = c.uleb_below(I16_LIMIT, "MC/DC condition id")?;
                        let false1 = c.uleb_below(I16_LIMIT, "MC/DC condition id")?;
                        if id1 == 0 {
                            return Err(Error::corrupt("MC/DC condition id is zero"));
                        }
                        mcdc = Mcdc::Branch {
                            id: id1 as i16 - 1,
                            conds: [false1 as i16 - 1, true1 as i16 - 1],
                        };
                    }
                    k => return Err(Error::corrupt(format!("region kind {k} is invalid"))),
                }
            }
            let delta = c.uleb_below(U32_LIMIT, "line delta")? as u32;
            let col_start = c.uleb()?;
            if col_start > U32_LIMIT {
                return Err(Error::corrupt("start column is too big"));
            }
            let num_lines = c.uleb_below(U32_LIMIT, "line count")? as u32;
            let mut col_end = c.uleb_below(U32_LIMIT, "end column")? as u32;
            let mut col_start = col_start as u32;
            line_start = line_start.wrapping_add(delta);
            if col_end & (1 << 31) != 0 {
                kind = RegionKind::Gap;
                col_end &= !(1 << 31);
            }
            if col_start == 0 && col_end == 0 {
                col_start = 1;
                col_end = u32::MAX;
            }
            let region = Region {
                count,
                false_count,
                file_id,
                expanded_file_id,
                line_start,
                col_start,
                line_end: line_start.wrapping_add(num_lines),
                col_end,
                kind,
                mcdc,
            };
            if region.start() > region.end() {
                return Err(Error::corrupt(format!(
                    "region {}:{} ends before it starts",
                    region.line_start, region.col_start
                )));
            }
            self.regions.push(region);
        }
        Ok(())
    }

    /// An expansion region takes the counter of the first region of the
    /// file it expands, which for nested expansions is itself an expansion
    /// region's: the fixed point of LLVM's passes over all regions (one
    /// pass per nesting level). As a file id is expanded at most once,
    /// each chain of expansions is followed once, so this is linear where
    /// the passes are quadratic. Expansion regions carry no counter of
    /// their own, so a cycle of them stays zero, as under the passes.
    fn propagate_expansion_counts(&mut self) -> Result<()> {
        if !self.regions.iter().any(|r| r.kind == RegionKind::Expansion) {
            return Ok(());
        }
        let mut first: Vec<Option<usize>> = vec![None; self.file_ids.len()];
        for (i, r) in self.regions.iter().enumerate() {
            first[r.file_id as usize].get_or_insert(i);
        }
        let mut settled = vec![false; self.regions.len()];
        let mut on_chain = vec![false; self.regions.len()];
        let mut chain = Vec::new();
        for start in 0..self.regions.len() {
            // Follow the expansions from `start` to the region whose
            // counter they all take: one that is settled or not an
            // expansion, the last expansion of a file without regions, or
            // the first repeated one of a cycle.
            let mut i = start;
            while !settled[i] && !on_chain[i] && self.regions[i].kind == RegionKind::Expansion {
                on_chain[i] = true;
                chain.push(i);
                match first[self.regions[i].expanded_file_id as usize] {
                    Some(next) => i = next,
                    None => break,
                }
            }
            let count = self.regions[i].count;
            for j in chain.drain(..) {
                self.regions[j].count = count;
                settled[j] = true;
                on_chain[j] = false;
            }
        }
        Ok(())
    }

    /// The largest counter id any region's primary counter refers to
    /// (directly or through expressions), or 0: the length of the zero
    /// vector llvm-cov uses for functions without profile data is this + 1.
    pub fn max_counter_id(&self) -> u32 {
        let mut max = 0;
        let mut seen = vec![false; self.expressions.len()];
        let mut stack = Vec::new();
        for r in &self.regions {
            stack.push(r.count);
            while let Some(c) = stack.pop() {
                match c {
                    Counter::Zero => {}
                    Counter::Ref(id) => max = max.max(id),
                    Counter::Expr(id) => {
                        if let Some(s) = seen.get_mut(id as usize) {
                            if !*s {
                                *s = true;
                                let e = self.expressions[id as usize];
                                stack.push(e.lhs);
                                stack.push(e.rhs);
                            }
                        }
                    }
                }
            }
        }
        max
    }
}

/// LLVM's dummy check for deduplication: hash 0 and exactly one file id,
/// no expressions, one region whose header is a zero counter.
pub fn is_dummy(func_hash: u64, data: &[u8]) -> Result<bool> {
    if func_hash != 0 {
        return Ok(false);
    }
    let mut c = Cursor::new(data);
    if c.size("file id count")? != 1 {
        return Ok(false);
    }
    c.uleb_below(U32_LIMIT, "filename index")?;
    if c.size("expression count")? != 0 {
        return Ok(false);
    }
    if c.size("region count")? != 1 {
        return Ok(false);
    }
    Ok(c.uleb_below(U32_LIMIT, "region header")? & 3 == 0)
}

/// `classify` from the reference's worked example (§5.8), for tests.
#[cfg(test)]
pub(crate) const CLASSIFY: [u8; 45] = [
    0x01, 0x01, 0x03, 0x01, 0x05, 0x01, 0x0b, 0x05, 0x09, 0x07, 0x01, 0x05, 0x01, 0x00, 0x24, 0x01,
    0x01, 0x08, 0x00, 0x0d, 0x05, 0x01, 0x09, 0x00, 0x13, 0x02, 0x01, 0x0f, 0x00, 0x15, 0x09, 0x01,
    0x09, 0x00, 0x0f, 0x06, 0x02, 0x09, 0x00, 0x13, 0x01, 0x02, 0x01, 0x00, 0x02,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_classify() {
        let m = Mapping::decode(&CLASSIFY, 2).unwrap();
        assert_eq!(m.file_ids, [1]);
        use Counter::*;
        assert_eq!(
            m.expressions,
            [
                Expression {
                    kind: ExprKind::Subtract,
                    lhs: Ref(0),
                    rhs: Ref(1)
                },
                Expression {
                    kind: ExprKind::Subtract,
                    lhs: Ref(0),
                    rhs: Expr(2)
                },
                Expression {
                    kind: ExprKind::Add,
                    lhs: Ref(1),
                    rhs: Ref(2)
                },
            ]
        );
        let spans: Vec<_> = m
            .regions
            .iter()
            .map(|r| {
                (
                    r.count,
                    r.line_start,
                    r.col_start,
                    r.line_end,
                    r.col_end,
                    r.kind,
                )
            })
            .collect();
        use RegionKind::Code;
        assert_eq!(
            spans,
            [
                (Ref(0), 5, 1, 5, 36, Code),
                (Ref(0), 6, 8, 6, 13, Code),
                (Ref(1), 7, 9, 7, 19, Code),
                (Expr(0), 8, 15, 8, 21, Code),
                (Ref(2), 9, 9, 9, 15, Code),
                (Expr(1), 11, 9, 11, 19, Code),
                (Ref(0), 13, 1, 13, 2, Code),
            ]
        );
        assert_eq!(m.max_counter_id(), 2);
        assert!(!is_dummy(0, &CLASSIFY).unwrap());
    }

    #[test]
    fn decodes_unused_function() {
        let bytes = [
            0x01, 0x01, 0x00, 0x05, 0x00, 0x19, 0x01, 0x00, 0x1f, 0x00, 0x01, 0x08, 0x00, 0x0e,
            0x00, 0x00, 0x11, 0x00, 0x16, 0x00, 0x00, 0x20, 0x00, 0x25, 0x00, 0x01, 0x01, 0x00,
            0x02,
        ];
        let m = Mapping::decode(&bytes, 2).unwrap();
        assert_eq!(m.regions.len(), 5);
        assert!(m
            .regions
            .iter()
            .all(|r| r.count == Counter::Zero && r.kind == RegionKind::Code));
        assert_eq!(m.regions[0].start(), (25, 1));
        assert_eq!(m.regions[4].end(), (27, 2));
        assert_eq!(m.max_counter_id(), 0);
        // Many regions: not a dummy in LLVM's strict sense.
        assert!(!is_dummy(0, &bytes).unwrap());
        assert!(is_dummy(0, &[1, 1, 0, 1, 0, 1, 1, 0, 2]).unwrap());
        assert!(!is_dummy(5, &[1, 1, 0, 1, 0, 1, 1, 0, 2]).unwrap());
    }

    #[test]
    fn decodes_every_region_kind() {
        // Two file ids; expressions: E0 referenced as add.
        let bytes = [
            2, 0, 1, // file ids
            1, 1, 5, // E0 = #0 ? #1, kind set by the tag-3 reference below
            6, // regions in file 0
            0x03, 1, 1, 5, 10, // code, E0 (add), 1:1-6:10
            0x0c, 1, 3, 0, 8, // expansion of file 1, 2:3-2:8
            0x10, 1, 1, 0, 4, // skipped, 3:1-3:4
            0x05, 1, 2, 0, 0x85, 0x80, 0x80, 0x80, 0x08, // gap (#1), 4:2-4:5
            0x20, 0x05, 0x00, 1, 3, 0, 9, // branch true #1 false 0, 5:3-5:9
            0x00, 0, 0, 0, 0, // zero code region, whole line 5
            3, // regions in file 1
            0x09, 1, 1, 0, 9, // code #2, 1:1-1:9
            0x28, 9, 2, 0, 3, 0, 6, // decision bitmap 9, 2 conditions
            0x30, 0x05, 0x09, 1, 2, 0, 0, 3, 0, 6, // MC/DC branch id 0, true -> 1
        ];
        let m = Mapping::decode(&bytes, 3).unwrap();
        let kinds: Vec<_> = m.regions.iter().map(|r| r.kind).collect();
        use RegionKind::*;
        assert_eq!(
            kinds,
            [
                Code,
                Expansion,
                Skipped,
                Gap,
                Branch,
                Code,
                Code,
                McdcDecision,
                McdcBranch
            ]
        );
        assert_eq!(m.expressions[0].kind, ExprKind::Add);
        assert_eq!(m.regions[1].expanded_file_id, 1);
        // The expansion takes the counter of file 1's first region.
        assert_eq!(m.regions[1].count, Counter::Ref(2));
        assert_eq!(m.regions[3].end(), (4, 5));
        assert_eq!(m.regions[4].count, Counter::Ref(1));
        assert_eq!(m.regions[4].false_count, Counter::Zero);
        assert_eq!(
            (m.regions[5].col_start, m.regions[5].col_end),
            (1, u32::MAX)
        );
        assert_eq!(
            m.regions[7].mcdc,
            Mcdc::Decision {
                bitmap_idx: 9,
                num_conditions: 2
            }
        );
        assert_eq!(
            m.regions[8].mcdc,
            Mcdc::Branch {
                id: 0,
                conds: [-1, 1]
            }
        );
        assert_eq!(m.regions[8].count, Counter::Ref(1));
        assert_eq!(m.regions[8].false_count, Counter::Ref(2));
        assert_eq!(m.max_counter_id(), 2);
    }

    #[test]
    fn malformed_mappings_are_errors() {
        // Truncations of classify.
        for len in 0..CLASSIFY.len() {
            assert!(Mapping::decode(&CLASSIFY[..len], 2).is_err(), "{len}");
        }
        // Filename index past the table.
        assert!(Mapping::decode(&CLASSIFY, 1).is_err());
        // Expression reference past the table.
        assert!(Mapping::decode(&[1, 0, 0, 1, 0x0e, 1, 1, 0, 2], 1).is_err());
        // Unknown pseudo-counter kind.
        assert!(Mapping::decode(&[1, 0, 0, 1, 0x08, 1, 1, 0, 2], 1).is_err());
        // End before start.
        assert!(Mapping::decode(&[1, 0, 0, 1, 0x01, 3, 5, 0, 2], 1).is_err());
        // Expansion of an unknown file id.
        assert!(Mapping::decode(&[1, 0, 0, 1, 0x0c, 1, 1, 0, 2], 1).is_err());
    }
}
