//! JSON in the schema of `llvm-cov export -format=text` (LLVM 22,
//! `CoverageExporterJson.cpp`, version `3.1.0`), which Codecov, cargo-llvm-cov
//! `--json` users and the Code Climate reporter read. A serializer of the
//! [`view`](super::view):
//!
//! ```text
//! {"data":[{"files":[File], "functions":[Function], "totals":Summary}],
//!  "type":"llvm.coverage.json.export", "version":"3.1.0"}
//! File:      {"branches":[Branch], "expansions":[Expansion], "filename", "mcdc_records":[],
//!             "segments":[[line, col, count, hasCount, isRegionEntry, isGap]], "summary"}
//! Function:  {"branches", "count", "filenames", "mcdc_records":[], "name", "regions"}
//! Region:    [lineStart, colStart, lineEnd, colEnd, count, fileID, expandedFileID, kind]
//! Branch:    [lineStart, colStart, lineEnd, colEnd, trueCount, falseCount, fileID, 0, kind]
//! Expansion: {"branches", "filenames", "source_region", "target_regions"}
//! Summary:   {"branches", "functions", "instantiations", "lines", "mcdc", "regions"}
//!            each {"count", "covered", ["notcovered",] "percent"}
//! ```
//!
//! As llvm-cov writes it: keys sorted, no whitespace, no final newline,
//! counts clamped to `i64::MAX`, percents as `%.17g` (`covered / count *
//! 100`, 0 when there is nothing), files sorted by path (the recorded,
//! absolute path, as `lcov`'s `SF`), functions in load order. With
//! `--mangled` the output is byte for byte llvm-cov's for the same
//! profile; without, names are demangled as in every covdata report. The
//! profile carries no MC/DC decisions, so `mcdc_records` are empty and the
//! `mcdc` summary is zero.

use std::io::{self, Write};

use serde::ser::{SerializeSeq, Serializer};
use serde::Serialize;

use super::view::FileView;
use super::Context;
use crate::model::segments::Segment;
use crate::model::summary::{for_each_expansion_branch, FileSummary, Ratio};
use crate::model::{CountedBranch, CountedRegion, Function};

/// The `version` llvm-cov 22 writes.
pub const EXPORT_VERSION: &str = "3.1.0";

/// The `type` llvm-cov writes.
pub const EXPORT_TYPE: &str = "llvm.coverage.json.export";

/// Writes the export.
pub fn write(ctx: &Context, out: &mut dyn Write) -> io::Result<()> {
    let root = Root {
        data: [Export {
            files: Files(ctx),
            functions: Functions(ctx),
            totals: Summary::of(&ctx.totals()),
        }],
        kind: EXPORT_TYPE,
        version: EXPORT_VERSION,
    };
    let mut ser = serde_json::Serializer::with_formatter(out, LlvmFormatter);
    root.serialize(&mut ser).map_err(io::Error::from)
}

/// serde_json's compact output, but doubles as llvm's JSON writer prints
/// them (`%.17g`).
struct LlvmFormatter;

impl serde_json::ser::Formatter for LlvmFormatter {
    fn write_f64<W: ?Sized + Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        writer.write_all(format_g17(value).as_bytes())
    }
}

/// C's `%.17g`: 17 significant digits, fixed notation for exponents from
/// -4 to 16, trailing zeros dropped.
pub fn format_g17(v: f64) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            "nan"
        } else if v > 0.0 {
            "inf"
        } else {
            "-inf"
        }
        .to_string();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let sci = format!("{v:.16e}");
    let (mantissa, exp) = sci.split_once('e').expect("exponent");
    let exp: i32 = exp.parse().expect("exponent digits");
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if (-4..17).contains(&exp) {
        trim(&format!("{v:.*}", (16 - exp) as usize))
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa), exp.abs())
    }
}

/// llvm-cov's clamp of unsigned counts into JSON's signed integers.
fn clamp(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

#[derive(Serialize)]
struct Root<'c, 'a> {
    data: [Export<'c, 'a>; 1],
    #[serde(rename = "type")]
    kind: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Export<'c, 'a> {
    files: Files<'c, 'a>,
    functions: Functions<'c, 'a>,
    totals: Summary,
}

/// The kept files, one view at a time.
struct Files<'c, 'a>(&'c Context<'a>);

impl Serialize for Files<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for view in self.0.file_views() {
            seq.serialize_element(&File::of(&view))?;
        }
        seq.end()
    }
}

/// The function records of the kept crates, in load order.
struct Functions<'c, 'a>(&'c Context<'a>);

impl Serialize for Functions<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ctx = self.0;
        let mut seq = s.serialize_seq(None)?;
        for f in ctx.cov.functions.iter().filter(|f| ctx.keeps_function(f)) {
            seq.serialize_element(&FunctionJson {
                branches: unfolded(&f.branches),
                count: clamp(f.execution_count),
                filenames: filenames(ctx, f),
                mcdc_records: [],
                name: ctx.function_name(f),
                regions: f.regions.iter().map(region).collect(),
            })?;
        }
        seq.end()
    }
}

type RegionJson = (u32, u32, u32, u32, i64, u32, u32, u8);
type BranchJson = (u32, u32, u32, u32, i64, i64, u32, u32, u8);
type SegmentJson = (u32, u32, i64, bool, bool, bool);

fn region(r: &CountedRegion) -> RegionJson {
    (
        r.line_start,
        r.col_start,
        r.line_end,
        r.col_end,
        clamp(r.count),
        r.file_id,
        r.expanded_file_id,
        r.kind as u8,
    )
}

fn branch(b: &CountedBranch) -> BranchJson {
    (
        b.line_start,
        b.col_start,
        b.line_end,
        b.col_end,
        clamp(b.true_count),
        clamp(b.false_count),
        b.file_id,
        0,
        b.kind as u8,
    )
}

fn segment(s: &Segment) -> SegmentJson {
    (
        s.line,
        s.col,
        clamp(s.count),
        s.has_count,
        s.is_region_entry,
        s.is_gap,
    )
}

/// Branches but those with both sides folded (llvm's `renderBranchRegions`).
fn unfolded<'b>(branches: impl IntoIterator<Item = &'b CountedBranch>) -> Vec<BranchJson> {
    branches
        .into_iter()
        .filter(|b| !(b.true_folded && b.false_folded))
        .map(branch)
        .collect()
}

fn filenames<'a>(ctx: &Context<'a>, f: &Function) -> Vec<&'a str> {
    f.filenames.iter().map(|&i| ctx.cov.file_path(i)).collect()
}

#[derive(Serialize)]
struct FunctionJson<'a> {
    branches: Vec<BranchJson>,
    count: i64,
    filenames: Vec<&'a str>,
    mcdc_records: [(); 0],
    name: String,
    regions: Vec<RegionJson>,
}

#[derive(Serialize)]
struct File<'a> {
    branches: Vec<BranchJson>,
    expansions: Vec<Expansion<'a>>,
    filename: &'a str,
    mcdc_records: [(); 0],
    segments: Vec<SegmentJson>,
    summary: Summary,
}

#[derive(Serialize)]
struct Expansion<'a> {
    branches: Vec<BranchJson>,
    filenames: Vec<&'a str>,
    source_region: RegionJson,
    target_regions: Vec<RegionJson>,
}

impl<'a> File<'a> {
    /// llvm-cov's `getCoverageForFile`: the branches located in the file
    /// (every record, unfiltered), the expansion regions in the main file
    /// of each record whose main file it is, the merged view's segments.
    fn of(view: &FileView<'_, 'a>) -> File<'a> {
        let ctx = view.context();
        let file = view.file();
        let mut branches = Vec::new();
        let mut expansions = Vec::new();
        for f in ctx.cov.functions_in_file(file) {
            branches.extend(
                f.branches
                    .iter()
                    .filter(|b| f.filenames[b.file_id as usize] == file)
                    .map(branch),
            );
            let Some(main) = f.main_file_id.filter(|_| f.main_file() == Some(file)) else {
                continue;
            };
            for e in f.regions.iter().filter(|r| {
                r.file_id == main && r.kind == crate::llvm::mapping::RegionKind::Expansion
            }) {
                expansions.push(expansion(ctx, f, e));
            }
        }
        File {
            branches,
            expansions,
            filename: view.path(),
            mcdc_records: [],
            segments: view.segments().iter().map(segment).collect(),
            summary: Summary::of(view.summary()),
        }
    }
}

/// llvm-cov's `renderExpansion`: the expansion region, every region of the
/// record, and the branches reached through the expansion (nested
/// expansions first, then the expanded file's own).
fn expansion<'a>(ctx: &Context<'a>, f: &Function, e: &CountedRegion) -> Expansion<'a> {
    let mut reached: Vec<CountedBranch> = Vec::new();
    for_each_expansion_branch(f, e.expanded_file_id, |_, b| reached.push(*b));
    reached.extend(
        f.branches
            .iter()
            .filter(|b| b.file_id == e.expanded_file_id)
            .copied(),
    );
    Expansion {
        branches: unfolded(&reached),
        filenames: filenames(ctx, f),
        source_region: region(e),
        target_regions: f.regions.iter().map(region).collect(),
    }
}

#[derive(Serialize)]
struct Summary {
    branches: Counted,
    functions: Executed,
    instantiations: Executed,
    lines: Executed,
    mcdc: Counted,
    regions: Counted,
}

/// `{count, covered, notcovered, percent}`.
#[derive(Serialize)]
struct Counted {
    count: u64,
    covered: u64,
    notcovered: u64,
    percent: f64,
}

/// `{count, covered, percent}`.
#[derive(Serialize)]
struct Executed {
    count: u64,
    covered: u64,
    percent: f64,
}

/// llvm-cov's `getPercentCovered`: `covered / count * 100`, 0 when empty.
fn percent(r: Ratio) -> f64 {
    if r.total == 0 {
        0.0
    } else {
        r.covered as f64 / r.total as f64 * 100.0
    }
}

impl Counted {
    fn of(r: Ratio) -> Counted {
        Counted {
            count: r.total,
            covered: r.covered,
            notcovered: r.missed(),
            percent: percent(r),
        }
    }
}

impl Executed {
    fn of(r: Ratio) -> Executed {
        Executed {
            count: r.total,
            covered: r.covered,
            percent: percent(r),
        }
    }
}

impl Summary {
    fn of(s: &FileSummary) -> Summary {
        Summary {
            branches: Counted::of(s.branches),
            functions: Executed::of(s.functions),
            instantiations: Executed::of(s.instantiations),
            lines: Executed::of(s.lines),
            mcdc: Counted::of(Ratio::default()),
            regions: Counted::of(s.regions),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_as_c_g17() {
        for (v, text) in [
            (100.0, "100"),
            (0.0, "0"),
            (87.5, "87.5"),
            (48.0 / 56.0 * 100.0, "85.714285714285708"),
            (10.0 / 13.0 * 100.0, "76.923076923076934"),
            (1e17, "1e+17"),
            (1.5e-5, "1.5e-05"),
            (0.1, "0.10000000000000001"),
            (0.0001, "0.0001"),
            (12345678901234567.0, "12345678901234568"),
        ] {
            assert_eq!(format_g17(v), text, "{v}");
        }
    }
}
