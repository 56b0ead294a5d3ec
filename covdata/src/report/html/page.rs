//! One source file's page: summary, function list, then the source with
//! line numbers and hit counts. Everything comes from the file's
//! [`FileView`]: line counts from its line runs, the precise uncovered
//! spans from its segments (llvm-cov's HTML rule: a piece of a line is
//! uncovered where the segment in effect has a zero count; a gap segment
//! only continues an uncovered piece), functions and summaries as they are.

use std::fmt::Write as _;
use std::hash::{Hash, Hasher};

use super::escape::{push_escaped, TextEscaper};
use super::index::{metric_cell, summary_item};
use super::num::{push_decimal, push_fixed, Decimal};
use crate::model::segments::Segment;
use crate::report::view::{FileView, FunctionView, LineRun};

/// The source of a page: its text, or why there is none.
pub enum Source<'s> {
    /// The file's text.
    Text(&'s str),
    /// The file could not be read from this path.
    Missing { path: &'s str, reason: &'s str },
}

/// The code that turns a page's inputs into its bytes, part of every
/// page's fingerprint: a covdata that renders differently never keeps a
/// page an older one rendered. (The view's numbers and names are hashed
/// as computed, so the rules that compute them need not be here; the
/// summary module is, for `Ratio::percent`, which pages print.)
const RENDERER: [&str; 8] = [
    env!("CARGO_PKG_VERSION"),
    include_str!("mod.rs"),
    include_str!("page.rs"),
    include_str!("index.rs"),
    include_str!("escape.rs"),
    include_str!("num.rs"),
    include_str!("../decimal.rs"),
    include_str!("../../model/summary.rs"),
];

/// The fingerprint of everything [`render`] reads (the view's path, crate,
/// summary, functions, line runs, segments and branch lines, the source)
/// and of the renderer: pages with equal fingerprints are byte-identical,
/// so a report written again keeps such a page without rendering it.
/// `buf` is scratch space, reused between pages.
pub fn fingerprint(
    view: &FileView,
    functions: &[FunctionView],
    source: &Source,
    buf: &mut Vec<u8>,
) -> u128 {
    static RENDERER_HASH: std::sync::OnceLock<u128> = std::sync::OnceLock::new();
    let renderer = *RENDERER_HASH.get_or_init(|| {
        let mut bytes = Vec::new();
        RENDERER.hash(&mut Collect(&mut bytes));
        xxhash_rust::xxh3::xxh3_128(&bytes)
    });
    buf.clear();
    let h = &mut Collect(buf);
    renderer.hash(h);
    view.display_path().hash(h);
    view.crate_name().hash(h);
    view.summary().hash(h);
    functions.len().hash(h);
    for f in functions {
        let instantiations = f.instantiations.len();
        (
            &f.name,
            f.start,
            f.execution_count,
            f.summary,
            instantiations,
        )
            .hash(h);
    }
    view.line_runs().hash(h);
    view.segments().hash(h);
    view.branch_lines().hash(h);
    match source {
        Source::Text(_) => 0u8.hash(h),
        Source::Missing { path, reason } => (1u8, path, reason).hash(h),
    }
    // The text, often the largest part, streamed rather than copied.
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    hasher.update(buf);
    if let Source::Text(text) = source {
        hasher.update(text.as_bytes());
    }
    hasher.digest128()
}

/// A `Hasher` that only collects the bytes `Hash` writes, to be hashed
/// at once: one XXH3 pass over them instead of a streaming update per
/// field of every segment.
struct Collect<'b>(&'b mut Vec<u8>);

impl Hasher for Collect<'_> {
    fn write(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    fn finish(&self) -> u64 {
        unreachable!("the collected bytes are hashed by fingerprint, not through finish")
    }
}

/// Renders the page of `view`, whose functions are `functions` (its
/// [`FileView::functions`]), into `out`.
pub fn render(out: &mut String, view: &FileView, functions: &[FunctionView], source: Source) {
    let path = view.display_path();
    let s = view.summary();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    out.push_str("<title>");
    push_escaped(out, path);
    let _ = write!(out, " — {:.2}% lines</title>", s.lines.percent());
    out.push_str("<link rel=\"stylesheet\" href=\"../style.css\"><script src=\"../report.js\" defer></script></head>\n");
    out.push_str(
        "<body class=\"file\"><header><nav class=\"crumbs\"><a href=\"../index.html\">index</a>",
    );
    if let Some(c) = view.crate_name() {
        out.push_str(" / ");
        push_escaped(out, c);
    }
    out.push_str("</nav><h1>");
    push_escaped(out, path);
    out.push_str("</h1><div class=\"summary\" id=\"summary\">");
    summary_item(out, "lines", "Lines", s.lines);
    summary_item(out, "regions", "Regions", s.regions);
    summary_item(out, "functions", "Functions", s.functions);
    if s.branches.total > 0 {
        summary_item(out, "branches", "Branches", s.branches);
    }
    if s.instantiations.total != s.functions.total {
        summary_item(out, "instantiations", "Instantiations", s.instantiations);
    }
    out.push_str("</div><div class=\"controls\"><button id=\"prev\" type=\"button\">&#9650; previous uncovered <kbd>k</kbd></button>");
    out.push_str("<button id=\"next\" type=\"button\">next uncovered <kbd>j</kbd> &#9660;</button><span id=\"spot\"></span>");
    out.push_str("<span class=\"legend\"><span class=\"lc\">covered</span><span class=\"lp\">partly covered</span><span class=\"lu\">not covered</span><span class=\"lr\">region not executed</span></span></div></header>\n<main>");
    if let Source::Missing { path, reason } = &source {
        out.push_str("<p class=\"missing\" id=\"missing\">Source file not found: <code>");
        push_escaped(out, path);
        out.push_str("</code> (");
        push_escaped(out, reason);
        out.push_str("). The lines below are the mapped lines with their counts; pass <code>--root=DIR</code> to read the sources from elsewhere.</p>");
    }
    functions_table(out, functions, s.branches.total > 0);
    source_table(out, view, &source);
    out.push_str("</main><div id=\"tip\"></div></body></html>\n");
}

fn functions_table(out: &mut String, functions: &[FunctionView], branches: bool) {
    let _ = write!(
        out,
        "<details class=\"functions\" open><summary>Functions ({})</summary>",
        functions.len()
    );
    if functions.is_empty() {
        out.push_str(
            "<p class=\"empty\">No function has this file as its main file.</p></details>\n",
        );
        return;
    }
    out.push_str("<table class=\"tree funcs\" id=\"functions\"><thead><tr><th>Function</th><th>Line</th><th>Executions</th><th>Lines</th><th>Regions</th>");
    if branches {
        out.push_str("<th>Branches</th>");
    }
    out.push_str("<th>Instantiations</th></tr></thead><tbody>\n");
    for f in functions {
        let (line, _) = f.start;
        out.push_str("<tr><td class=\"name\"><a href=\"#L");
        push_decimal(out, line.into());
        out.push_str("\">");
        push_escaped(out, &f.name);
        out.push_str("</a></td><td>");
        push_decimal(out, line.into());
        out.push_str("</td><td>");
        push_decimal(out, f.execution_count);
        out.push_str("</td>");
        metric_cell(out, f.summary.lines);
        metric_cell(out, f.summary.regions);
        if branches {
            metric_cell(out, f.summary.branches);
        }
        out.push_str("<td>");
        push_decimal(out, f.instantiations.len() as u64);
        out.push_str("</td></tr>\n");
    }
    out.push_str("</tbody></table></details>\n");
}

/// A count as the count column shows it: exact below 10,000, else
/// abbreviated (12.3k, 4.56M); the exact value goes into `data-n`. Source
/// rows leave out the optional end tags of `th` and of all but their last
/// `td`, and class names (the stylesheet finds cells by position): page
/// weight is per line.
fn push_count(out: &mut String, count: u64) {
    if count < 10_000 {
        out.push_str("<td>");
        push_decimal(out, count);
        return;
    }
    let (value, unit) = [
        (1e18, "E"),
        (1e15, "P"),
        (1e12, "T"),
        (1e9, "G"),
        (1e6, "M"),
        (1e3, "k"),
    ]
    .into_iter()
    .find(|&(scale, _)| count as f64 >= scale)
    .map(|(scale, unit)| (count as f64 / scale, unit))
    .expect("count >= 10,000");
    let digits = if value < 10.0 {
        2
    } else if value < 100.0 {
        1
    } else {
        0
    };
    out.push_str("<td data-n=");
    push_decimal(out, count);
    out.push('>');
    push_fixed(out, value, digits);
    out.push_str(unit);
}

/// Walks the line runs in step with the lines of the page.
struct Counts<'v> {
    runs: &'v [LineRun],
    next: usize,
}

impl Counts<'_> {
    fn get(&mut self, line: u32) -> Option<u64> {
        while self.next < self.runs.len() && self.runs[self.next].last < line {
            self.next += 1;
        }
        self.runs
            .get(self.next)
            .filter(|r| r.first <= line)
            .map(|r| r.count)
    }
}

/// Walks the segments in step with the lines of the page: for each line,
/// the segment in effect at its start and the segments on it.
struct Segments<'v> {
    segments: &'v [Segment],
    next: usize,
    wrapped: Option<&'v Segment>,
}

impl<'v> Segments<'v> {
    fn on_line(&mut self, line: u32) -> (Option<&'v Segment>, &'v [Segment]) {
        while self.next < self.segments.len() && self.segments[self.next].line < line {
            self.wrapped = Some(&self.segments[self.next]);
            self.next += 1;
        }
        let start = self.next;
        let mut end = start;
        while end < self.segments.len() && self.segments[end].line == line {
            end += 1;
        }
        (self.wrapped, &self.segments[start..end])
    }
}

/// llvm-cov's rule for a piece of a line: not executed when its segment
/// has a zero count and is not a gap, or is a gap continuing a piece that
/// is not executed.
fn uncovered(s: Option<&Segment>, previous: bool) -> bool {
    s.is_some_and(|s| s.has_count && s.count == 0 && (!s.is_gap || previous))
}

/// The pieces of a line of `len` bytes not executed, as byte ranges.
/// Puts into `pieces` the pieces of a line of `len` bytes not executed,
/// as byte ranges.
fn uncovered_pieces(
    len: usize,
    wrapped: Option<&Segment>,
    here: &[Segment],
    pieces: &mut Vec<(usize, usize)>,
) {
    pieces.clear();
    let mut red = uncovered(wrapped, false);
    let mut from = 0usize;
    for s in here {
        let to = (s.col as usize).saturating_sub(1).min(len);
        if red && to > from {
            pieces.push((from, to));
        }
        from = from.max(to);
        red = uncovered(Some(s), red);
    }
    if red && len > from {
        pieces.push((from, len));
    }
}

fn source_table(out: &mut String, view: &FileView, source: &Source) {
    let mut counts = Counts {
        runs: view.line_runs(),
        next: 0,
    };
    let mut segments = Segments {
        segments: view.segments(),
        next: 0,
        wrapped: None,
    };
    let branch_lines = view.branch_lines();
    let mut branches = branch_lines.iter().peekable();
    out.push_str("<table class=\"src\" id=\"src\"><tbody>\n");
    let mut pieces: Vec<(usize, usize)> = Vec::new();
    // Rows end with a newline and no end tags: a trailing newline in a
    // `white-space: pre` cell adds no height.
    let mut escaper = match source {
        Source::Text(text) => TextEscaper::new(text),
        Source::Missing { .. } => TextEscaper::new(""),
    };
    // `text`: the line and where it starts in the source.
    let mut write_line = |out: &mut String, line: u32, text: Option<(usize, &str)>| {
        let (offset, text) = match text {
            Some((offset, t)) => (offset, Some(t)),
            None => (0, None),
        };
        let count = counts.get(line);
        let (wrapped, here) = segments.on_line(line);
        let code = text.unwrap_or("");
        match text {
            Some(t) => {
                uncovered_pieces(t.len(), wrapped, here, &mut pieces);
                if !pieces.is_empty() {
                    pieces.retain(|&(a, b)| t[floor(t, a)..ceil(t, b)].trim() != "");
                }
            }
            None => uncovered_pieces(usize::MAX, wrapped, here, &mut pieces),
        }
        let number = Decimal::new(line.into());
        // Room for the row's markup and its text (escapes and spans may
        // still grow it).
        out.reserve(96 + code.len());
        out.push_str("<tr id=L");
        out.push_str(number.as_str());
        // Literal per arm: fixed-length copies, no memcpy call per row.
        match count {
            None => {}
            Some(0) => out.push_str(" class=u"),
            Some(_) if !pieces.is_empty() => out.push_str(" class=p"),
            Some(_) => out.push_str(" class=c"),
        }
        while branches.peek().is_some_and(|b| b.line < line) {
            branches.next();
        }
        if let Some(b) = branches.peek().filter(|b| b.line == line) {
            out.push_str(" data-b=\"");
            push_decimal(out, b.outcomes.covered);
            out.push('/');
            push_decimal(out, b.outcomes.total);
            out.push('"');
        }
        out.push_str("><th>");
        out.push_str(number.as_str());
        match count {
            Some(c) => {
                push_count(out, c);
                out.push_str("<td>");
            }
            None => out.push_str("<td><td>"),
        }
        if text.is_some() {
            let mut at = 0;
            for &(a, b) in &pieces {
                let (a, b) = (floor(code, a).max(at), ceil(code, b));
                if a >= b {
                    continue;
                }
                escaper.push(out, offset + at, offset + a);
                out.push_str("<span class=z data-r=\"");
                if a + 1 != b {
                    push_decimal(out, (a + 1) as u64);
                    out.push_str("&#8211;");
                }
                push_decimal(out, b as u64);
                out.push_str("\">");
                escaper.push(out, offset + a, offset + b);
                out.push_str("</span>");
                at = b;
            }
            escaper.push(out, offset + at, offset + code.len());
        }
        out.push('\n');
    };
    match source {
        Source::Text(text) => {
            let mut line = 0u32;
            for (offset, l) in lines(text) {
                line += 1;
                let l = l.strip_suffix('\r').unwrap_or(l);
                write_line(out, line, Some((offset, l)));
            }
            // Mapped lines past the end of the file on disk (it changed
            // since the build) still show their counts.
            let last = view.line_runs().last().map_or(0, |r| r.last);
            while line < last.min(line.saturating_add(100_000)) {
                line += 1;
                write_line(out, line, None);
            }
        }
        Source::Missing { .. } => {
            let runs: Vec<LineRun> = view.line_runs().to_vec();
            for r in runs {
                // A run can span 2^32 lines; a page shows at most 100,000
                // of them.
                for line in r.first..=r.last.min(r.first.saturating_add(100_000)) {
                    write_line(out, line, None);
                }
            }
        }
    }
    out.push_str("</tbody></table>\n");
}

/// The lines of `text` without their `\n`, as `split_inclusive('\n')`
/// cuts them (no empty line after a final newline), found with memchr,
/// each with the offset where it starts.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut newlines = memchr::memchr_iter(b'\n', text.as_bytes());
    let mut from = 0;
    std::iter::from_fn(move || {
        let end = match newlines.next() {
            Some(nl) => nl,
            None if from < text.len() => text.len(),
            None => return None,
        };
        let l = (from, &text[from..end]);
        from = end + 1;
        Some(l)
    })
}

/// The char boundary at or before `i`.
fn floor(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The char boundary at or after `i`.
fn ceil(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(line: u32, col: u32, count: u64, has: bool, gap: bool) -> Segment {
        Segment {
            line,
            col,
            count,
            has_count: has,
            is_region_entry: true,
            is_gap: gap,
        }
    }

    #[test]
    fn pieces_follow_segments() {
        let pieces = |len, wrapped: Option<&Segment>, here: &[Segment]| {
            let mut out = Vec::new();
            uncovered_pieces(len, wrapped, here, &mut out);
            out
        };
        // `    if x { a } else { b }`: the else block (cols 21..26) not run.
        let here = [
            seg(1, 5, 3, true, false),
            seg(1, 21, 0, true, false),
            seg(1, 26, 3, true, false),
        ];
        assert_eq!(pieces(26, None, &here), [(20, 25)]);
        // Wrapped zero count: the whole line up to a covered segment.
        let w = seg(1, 1, 0, true, false);
        assert_eq!(pieces(10, Some(&w), &[seg(2, 4, 1, true, false)]), [(0, 3)]);
        // A gap continues red, but does not start it.
        let here = [
            seg(2, 3, 0, true, false),
            seg(2, 6, 0, true, true),
            seg(2, 8, 1, true, false),
        ];
        assert_eq!(pieces(9, None, &here), [(2, 5), (5, 7)]);
        assert_eq!(pieces(9, None, &[seg(2, 3, 0, true, true)]), []);
        // No count: nothing to mark.
        assert_eq!(pieces(9, None, &[seg(2, 3, 0, false, false)]), []);
    }

    #[test]
    fn counts_are_abbreviated_with_the_exact_value_kept() {
        let mut s = String::new();
        push_count(&mut s, 9999);
        push_count(&mut s, 12_345);
        push_count(&mut s, 4_560_000);
        assert_eq!(s, "<td>9999<td data-n=12345>12.3k<td data-n=4560000>4.56M");
    }

    #[test]
    fn lines_are_split_inclusive_without_newlines() {
        for text in ["", "a", "a\n", "a\nb", "\n\n", "a\r\n\nb\n", "\nx"] {
            let ours: Vec<&str> = lines(text).map(|(at, l)| &text[at..at + l.len()]).collect();
            let std: Vec<&str> = text
                .split_inclusive('\n')
                .map(|l| l.strip_suffix('\n').unwrap_or(l))
                .collect();
            assert_eq!(ours, std, "{text:?}");
        }
    }

    #[test]
    fn boundaries_stay_on_chars() {
        let s = "aé b";
        assert_eq!(floor(s, 2), 1);
        assert_eq!(ceil(s, 2), 3);
        assert_eq!(ceil(s, 99), s.len());
    }
}
