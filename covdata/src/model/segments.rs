//! Coverage segments, built from regions exactly as llvm-cov's
//! `SegmentBuilder` does: sort (start ascending, outer before inner, then
//! kind), combine identical ranges (summing counts of the same kind), then
//! sweep with a stack of active regions, emitting a segment wherever the
//! innermost count changes.

use super::CountedRegion;
use crate::llvm::mapping::RegionKind;

/// A point from which a count applies, up to the next segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Segment {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
    /// The count from here on (0 without a count).
    pub count: u64,
    /// False where nothing is mapped (or skipped code) from here on.
    pub has_count: bool,
    /// A region starts here.
    pub is_region_entry: bool,
    /// The count comes from a gap region.
    pub is_gap: bool,
}

/// Builds the segments of `regions` (which it sorts and combines in place).
pub fn build(regions: &mut Vec<CountedRegion>) -> Vec<Segment> {
    let mut segments = Vec::new();
    build_into(regions, &mut segments, &mut Scratch::default());
    segments
}

/// Space [`build_into`] reuses from one call to the next.
#[derive(Clone, Debug, Default)]
pub struct Scratch {
    active: Vec<usize>,
    done: Vec<usize>,
}

/// [`build`] into `segments` (cleared first), with `scratch` for the
/// builder's own lists, so that building many functions' segments
/// allocates only when a list grows.
pub fn build_into(
    regions: &mut Vec<CountedRegion>,
    segments: &mut Vec<Segment>,
    scratch: &mut Scratch,
) {
    segments.clear();
    // By start, then longest first, then kind: one packed key compares
    // faster than the three tuples.
    regions.sort_unstable_by_key(|r| {
        let start = u64::from(r.line_start) << 32 | u64::from(r.col_start);
        let end = u64::from(r.line_end) << 32 | u64::from(r.col_end);
        (u128::from(start) << 64 | u128::from(!end), r.kind)
    });
    combine(regions);
    scratch.active.clear();
    scratch.done.clear();
    let mut b = Builder {
        segments,
        active: &mut scratch.active,
        done: &mut scratch.done,
        regions,
    };
    b.run();
}

/// Merges regions with identical ranges into the first of them, adding the
/// counts of those of the same kind.
fn combine(regions: &mut Vec<CountedRegion>) {
    if regions.is_empty() {
        return;
    }
    let mut active = 0;
    for i in 1..regions.len() {
        let r = regions[i];
        let a = &mut regions[active];
        if a.start() != r.start() || a.end() != r.end() {
            active += 1;
            regions[active] = r;
            continue;
        }
        if r.kind == a.kind {
            a.count = a.count.wrapping_add(r.count);
        }
    }
    regions.truncate(active + 1);
}

struct Builder<'a> {
    segments: &'a mut Vec<Segment>,
    /// Indices into `regions` of the regions still open.
    active: &'a mut Vec<usize>,
    /// Scratch: the regions of `active` that end at a new region's start.
    done: &'a mut Vec<usize>,
    regions: &'a [CountedRegion],
}

impl Builder<'_> {
    fn start_segment(&mut self, r: usize, loc: (u32, u32), is_entry: bool, as_skipped: bool) {
        let region = &self.regions[r];
        let has_count = !as_skipped && region.kind != RegionKind::Skipped;
        if !is_entry && !as_skipped {
            if let Some(last) = self.segments.last() {
                if last.has_count == has_count
                    && last.count == region.count
                    && !last.is_region_entry
                {
                    return;
                }
            }
        }
        self.segments.push(if has_count {
            Segment {
                line: loc.0,
                col: loc.1,
                count: region.count,
                has_count: true,
                is_region_entry: is_entry,
                is_gap: region.kind == RegionKind::Gap,
            }
        } else {
            Segment {
                line: loc.0,
                col: loc.1,
                count: 0,
                has_count: false,
                is_region_entry: is_entry,
                is_gap: false,
            }
        });
    }

    /// Emits the segments of active regions `active[first_completed..]`,
    /// which end at or before `loc` (`None`: everything ends).
    fn complete_until(&mut self, loc: Option<(u32, u32)>, first_completed: usize) {
        let regions = self.regions;
        self.active[first_completed..].sort_by_key(|&i| regions[i].end());
        let n = self.active.len();
        for i in first_completed + 1..n {
            let mut completed = self.active[i];
            let prev = self.active[i - 1];
            let seg_loc = regions[prev].end();
            if loc == Some(seg_loc) {
                break;
            }
            if seg_loc == regions[completed].end() {
                continue;
            }
            for j in i + 1..n {
                if regions[completed].end() == regions[self.active[j]].end() {
                    completed = self.active[j];
                }
            }
            self.start_segment(completed, seg_loc, false, false);
        }
        let last = *self.active.last().expect("active regions");
        let last_end = regions[last].end();
        if first_completed > 0 && Some(last_end) != loc {
            let open = self.active[first_completed - 1];
            self.start_segment(open, last_end, false, false);
        } else if first_completed == 0 && loc != Some(last_end) {
            self.start_segment(last, last_end, false, true);
        }
        self.active.truncate(first_completed);
    }

    fn run(&mut self) {
        let regions = self.regions;
        for (i, r) in regions.iter().enumerate() {
            let start = r.start();
            // Regions ending at or before this start are completed; keep
            // the others first, both groups in their order.
            if self.active.iter().any(|&a| regions[a].end() <= start) {
                self.done.clear();
                let mut open = 0;
                for j in 0..self.active.len() {
                    let a = self.active[j];
                    if regions[a].end() > start {
                        self.active[open] = a;
                        open += 1;
                    } else {
                        self.done.push(a);
                    }
                }
                self.active.truncate(open);
                self.active.extend_from_slice(self.done);
                self.complete_until(Some(start), open);
            }
            let gap = r.kind == RegionKind::Gap;
            if start == r.end() {
                // Zero-length: never active. Last region or skipped: a
                // no-count entry, then the enclosing count again.
                let skipped = i + 1 == regions.len() || r.kind == RegionKind::Skipped;
                let from = self.active.last().copied().unwrap_or(i);
                self.start_segment(from, start, !gap, skipped);
                if skipped {
                    if let Some(&top) = self.active.last() {
                        self.start_segment(top, start, false, false);
                    }
                }
                continue;
            }
            if i + 1 == regions.len() || regions[i + 1].start() != start {
                self.start_segment(i, start, !gap, false);
            }
            self.active.push(i);
        }
        if !self.active.is_empty() {
            self.complete_until(None, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(ls: u32, cs: u32, le: u32, ce: u32, count: u64, kind: RegionKind) -> CountedRegion {
        CountedRegion {
            line_start: ls,
            col_start: cs,
            line_end: le,
            col_end: ce,
            count,
            file_id: 0,
            expanded_file_id: 0,
            kind,
        }
    }

    fn tuples(s: &[Segment]) -> Vec<(u32, u32, u64, bool, bool, bool)> {
        s.iter()
            .map(|s| {
                (
                    s.line,
                    s.col,
                    s.count,
                    s.has_count,
                    s.is_region_entry,
                    s.is_gap,
                )
            })
            .collect()
    }

    #[test]
    fn classify_segments() {
        use RegionKind::Code;
        let mut regions = vec![
            region(5, 1, 5, 36, 4, Code),
            region(6, 8, 6, 13, 4, Code),
            region(7, 9, 7, 19, 1, Code),
            region(8, 15, 8, 21, 3, Code),
            region(9, 9, 9, 15, 1, Code),
            region(11, 9, 11, 19, 2, Code),
            region(13, 1, 13, 2, 4, Code),
        ];
        let s = build(&mut regions);
        assert_eq!(
            tuples(&s),
            [
                (5, 1, 4, true, true, false),
                (5, 36, 0, false, false, false),
                (6, 8, 4, true, true, false),
                (6, 13, 0, false, false, false),
                (7, 9, 1, true, true, false),
                (7, 19, 0, false, false, false),
                (8, 15, 3, true, true, false),
                (8, 21, 0, false, false, false),
                (9, 9, 1, true, true, false),
                (9, 15, 0, false, false, false),
                (11, 9, 2, true, true, false),
                (11, 19, 0, false, false, false),
                (13, 1, 4, true, true, false),
                (13, 2, 0, false, false, false),
            ]
        );
    }

    #[test]
    fn nested_identical_and_gap_regions() {
        use RegionKind::{Code, Gap};
        let mut regions = vec![
            region(1, 1, 10, 2, 5, Code),
            region(2, 5, 4, 6, 3, Code),
            region(2, 5, 4, 6, 2, Code),
            region(4, 6, 6, 1, 1, Gap),
            region(6, 1, 6, 9, 0, Code),
        ];
        let s = build(&mut regions);
        assert_eq!(
            tuples(&s),
            [
                (1, 1, 5, true, true, false),
                (2, 5, 5, true, true, false),
                (4, 6, 1, true, false, true),
                (6, 1, 0, true, true, false),
                (6, 9, 5, true, false, false),
                (10, 2, 0, false, false, false),
            ]
        );
    }
}
