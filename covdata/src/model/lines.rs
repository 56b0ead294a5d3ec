//! Line coverage from segments, as llvm-cov's `LineCoverageStats`: a line
//! is mapped if it is not the start of a skipped region and either the
//! segment in effect when it begins (the "wrapped" segment) has a count or
//! a non-gap region starts on it; its count is the wrapped count raised to
//! the largest count of a non-gap region starting on it.

use super::segments::Segment;

/// One mapped line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineCount {
    /// 1-based line.
    pub line: u32,
    /// Execution count.
    pub count: u64,
}

/// Visits every mapped line in order, from line 1 to the last segment's.
pub fn for_each_mapped_line(segments: &[Segment], mut visit: impl FnMut(LineCount)) {
    for_each_mapped_run(segments, |first, last, count| {
        for line in first..=last {
            visit(LineCount { line, count });
        }
    });
}

/// Like [`for_each_mapped_line`], but lines that only continue the
/// wrapped segment come as one run `(first line, last line, count)`, so
/// the work is proportional to the number of segments, not of lines (one
/// region can span 2^32 lines).
pub fn for_each_mapped_run(segments: &[Segment], mut visit: impl FnMut(u32, u32, u64)) {
    let Some(last) = segments.last() else {
        return;
    };
    let mut next = 0;
    let mut wrapped: Option<&Segment> = None;
    let mut line = segments[0].line;
    while line <= last.line {
        let start = next;
        while next < segments.len() && segments[next].line == line {
            next += 1;
        }
        let here = &segments[start..next];
        if here.is_empty() {
            // Lines between segments keep the wrapped segment's state.
            // Only reached between segments, so `next` is in range and
            // its line is past this one.
            let upto = segments[next].line - 1;
            if let Some(w) = wrapped.filter(|w| w.has_count) {
                visit(line, upto, w.count);
            }
            line = upto + 1;
            continue;
        }
        if let Some(stats) = line_stats(here, wrapped) {
            visit(line, line, stats);
        }
        wrapped = here.last();
        if line == u32::MAX {
            break;
        }
        line += 1;
    }
}

/// The count of a line with segments `here`, or `None` if unmapped.
fn line_stats(here: &[Segment], wrapped: Option<&Segment>) -> Option<u64> {
    let is_start = |s: &Segment| !s.is_gap && s.has_count && s.is_region_entry;
    let starts = here.iter().filter(|s| is_start(s)).count();
    let start_of_skipped = !here[0].has_count && here[0].is_region_entry;
    let mapped = (!start_of_skipped && (wrapped.is_some_and(|w| w.has_count) || starts > 0))
        || here.iter().any(|s| s.is_region_entry && s.has_count);
    if !mapped {
        return None;
    }
    let mut count = wrapped.map_or(0, |w| w.count);
    if starts > 0 {
        for s in here.iter().filter(|s| is_start(s)) {
            count = count.max(s.count);
        }
    }
    Some(count)
}

/// (mapped lines, lines with a non-zero count).
pub fn line_totals(segments: &[Segment]) -> (u64, u64) {
    let (mut mapped, mut covered) = (0, 0);
    for_each_mapped_run(segments, |first, last, count| {
        let lines = u64::from(last - first) + 1;
        mapped += lines;
        if count > 0 {
            covered += lines;
        }
    });
    (mapped, covered)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(line: u32, col: u32, count: u64, has: bool, entry: bool, gap: bool) -> Segment {
        Segment {
            line,
            col,
            count,
            has_count: has,
            is_region_entry: entry,
            is_gap: gap,
        }
    }

    #[test]
    fn wrapped_gap_and_skipped_lines() {
        let segments = [
            seg(2, 1, 10, true, true, false),
            seg(3, 5, 0, true, true, false), // count-0 region inside: line stays 10
            seg(3, 9, 10, true, false, false),
            seg(5, 1, 4, true, false, true), // gap: lines 5..6 get 4 via wrapping
            seg(7, 1, 0, false, true, false), // skipped region start: unmapped
            seg(9, 1, 0, false, false, false),
        ];
        let mut got = Vec::new();
        for_each_mapped_line(&segments, |l| got.push((l.line, l.count)));
        assert_eq!(got, [(2, 10), (3, 10), (4, 10), (5, 10), (6, 4)]);
    }
}
