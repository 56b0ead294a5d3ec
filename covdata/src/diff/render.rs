//! `covdata diff` output: text (aligned columns), markdown (a PR comment)
//! and JSON (stable keys, in the order documented in docs/COVDATA.md).

use std::io::{self, Write};

use serde::Serialize;

use super::baseline::Baseline;
use super::coverage::PatchCoverage;
use crate::model::summary::Ratio;
use crate::report::tabwriter::{render as columns, Padding};

/// An output format of `covdata diff`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns.
    #[default]
    Text,
    /// A markdown table.
    Markdown,
    /// JSON.
    Json,
}

fn pct(p: f64) -> String {
    format!("{p:.2}%")
}

/// `1-3,7`.
fn ranges(r: &[(u32, u32)]) -> String {
    r.iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A path inside markdown code: backticks and pipes made harmless.
fn md_code(path: &str) -> String {
    format!("`{}`", path.replace('`', "'").replace('|', "\\|"))
}

/// The notes below a changed-lines report.
fn notes(p: &PatchCoverage) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(w) = &p.nothing_matched {
        out.push(format!("warning: {w}"));
    }
    let list = |v: &[String]| {
        let mut s = v.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
        if v.len() > 5 {
            s.push_str(&format!(", and {} more", v.len() - 5));
        }
        s
    };
    if p.files.iter().any(|f| !f.has_data) {
        out.push(
            "files marked (no coverage data) are not in the coverage data: their changed code lines count as uncovered"
                .to_string(),
        );
    }
    if !p.without_coverable_lines.is_empty() {
        out.push(format!(
            "no coverable changed lines: {}",
            list(&p.without_coverable_lines)
        ));
    }
    if !p.filtered_out.is_empty() {
        out.push(format!("left out by --pkg: {}", list(&p.filtered_out)));
    }
    if !p.not_rust.is_empty() {
        out.push(format!("not Rust sources: {}", list(&p.not_rust)));
    }
    out
}

/// Writes the coverage of changed lines.
pub fn write_patch(p: &PatchCoverage, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Text => {
            let mut rows = vec![vec![
                "file".to_string(),
                "changed".to_string(),
                "covered".to_string(),
                "percent".to_string(),
                "uncovered lines".to_string(),
            ]];
            for f in &p.files {
                let mut missing = ranges(&f.uncovered);
                if !f.has_data {
                    missing.push_str(" (no coverage data)");
                }
                rows.push(vec![
                    f.path.clone(),
                    f.lines.total.to_string(),
                    f.lines.covered.to_string(),
                    pct(f.lines.percent()),
                    missing,
                ]);
            }
            rows.push(vec![
                "total".to_string(),
                p.total.total.to_string(),
                p.total.covered.to_string(),
                pct(p.percent()),
                String::new(),
            ]);
            out.write_all(columns(&rows, Padding::Spaces(2)).as_bytes())?;
            for n in notes(p) {
                writeln!(out, "{n}")?;
            }
            Ok(())
        }
        Format::Markdown => {
            writeln!(
                out,
                "### Coverage of changed lines: {} ({}/{})",
                pct(p.percent()),
                p.total.covered,
                p.total.total
            )?;
            writeln!(out)?;
            writeln!(
                out,
                "| File | Changed lines | Covered | Coverage | Uncovered lines |"
            )?;
            writeln!(out, "|---|---:|---:|---:|---|")?;
            for f in &p.files {
                let mut missing = ranges(&f.uncovered);
                if !f.has_data {
                    missing.push_str(" (no coverage data)");
                }
                writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    md_code(&f.path),
                    f.lines.total,
                    f.lines.covered,
                    pct(f.lines.percent()),
                    missing
                )?;
            }
            writeln!(
                out,
                "| **Total** | **{}** | **{}** | **{}** | |",
                p.total.total,
                p.total.covered,
                pct(p.percent())
            )?;
            let notes = notes(p);
            if !notes.is_empty() {
                writeln!(out)?;
                for n in notes {
                    writeln!(out, "- {}", n.replace('|', "\\|"))?;
                }
            }
            Ok(())
        }
        Format::Json => {
            #[derive(Serialize)]
            struct File<'a> {
                path: &'a str,
                has_coverage_data: bool,
                coverable: u64,
                covered: u64,
                percent: f64,
                uncovered: &'a [(u32, u32)],
            }
            #[derive(Serialize)]
            struct Skipped<'a> {
                no_coverable_lines: &'a [String],
                filtered_out: &'a [String],
                not_rust: &'a [String],
            }
            #[derive(Serialize)]
            struct Report<'a> {
                files: Vec<File<'a>>,
                total: Lines,
                skipped: Skipped<'a>,
                warning: Option<&'a str>,
            }
            let report = Report {
                files: p
                    .files
                    .iter()
                    .map(|f| File {
                        path: &f.path,
                        has_coverage_data: f.has_data,
                        coverable: f.lines.total,
                        covered: f.lines.covered,
                        percent: f.lines.percent(),
                        uncovered: &f.uncovered,
                    })
                    .collect(),
                total: Lines {
                    coverable: p.total.total,
                    covered: p.total.covered,
                    percent: p.percent(),
                },
                skipped: Skipped {
                    no_coverable_lines: &p.without_coverable_lines,
                    filtered_out: &p.filtered_out,
                    not_rust: &p.not_rust,
                },
                warning: p.nothing_matched.as_deref(),
            };
            json_out(&report, out)
        }
    }
}

#[derive(Serialize)]
struct Lines {
    coverable: u64,
    covered: u64,
    percent: f64,
}

fn json_out(value: &impl Serialize, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(io::Error::from)?;
    writeln!(out)
}

/// `75.00% (3/4)`, or `-` for a missing side.
fn side(r: Option<Ratio>) -> String {
    match r {
        Some(r) => format!("{} ({}/{})", pct(r.percent()), r.covered, r.total),
        None => "-".to_string(),
    }
}

fn delta(d: f64) -> String {
    // No "-0.00%".
    let d = if d.abs() < 0.005 { 0.0 } else { d };
    format!("{d:+.2}%")
}

/// Writes the base-versus-new comparison.
pub fn write_baseline(b: &Baseline, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Text => {
            let mut rows = vec![vec![
                "file".to_string(),
                "base".to_string(),
                "new".to_string(),
                "delta".to_string(),
            ]];
            for r in &b.rows {
                rows.push(vec![
                    r.path.clone(),
                    side(r.base),
                    side(r.new),
                    delta(r.delta()),
                ]);
            }
            rows.push(vec![
                "total".to_string(),
                side(Some(b.base_total)),
                side(Some(b.new_total)),
                delta(b.delta()),
            ]);
            out.write_all(columns(&rows, Padding::Spaces(2)).as_bytes())
        }
        Format::Markdown => {
            writeln!(out, "### Coverage: base vs new")?;
            writeln!(out)?;
            writeln!(out, "| File | Base | New | Delta |")?;
            writeln!(out, "|---|---:|---:|---:|")?;
            for r in &b.rows {
                writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    md_code(&r.path),
                    side(r.base),
                    side(r.new),
                    delta(r.delta())
                )?;
            }
            writeln!(
                out,
                "| **Total** | **{}** | **{}** | **{}** |",
                side(Some(b.base_total)),
                side(Some(b.new_total)),
                delta(b.delta())
            )
        }
        Format::Json => {
            #[derive(Serialize)]
            struct Side {
                covered: u64,
                total: u64,
                percent: f64,
            }
            let side = |r: Option<Ratio>| {
                r.map(|r| Side {
                    covered: r.covered,
                    total: r.total,
                    percent: r.percent(),
                })
            };
            #[derive(Serialize)]
            struct Row<'a> {
                path: &'a str,
                base: Option<Side>,
                new: Option<Side>,
                delta: f64,
            }
            #[derive(Serialize)]
            struct Total {
                base: Option<Side>,
                new: Option<Side>,
                delta: f64,
            }
            #[derive(Serialize)]
            struct Report<'a> {
                files: Vec<Row<'a>>,
                total: Total,
            }
            let report = Report {
                files: b
                    .rows
                    .iter()
                    .map(|r| Row {
                        path: &r.path,
                        base: side(r.base),
                        new: side(r.new),
                        delta: r.delta(),
                    })
                    .collect(),
                total: Total {
                    base: side(Some(b.base_total)),
                    new: side(Some(b.new_total)),
                    delta: b.delta(),
                },
            };
            json_out(&report, out)
        }
    }
}
