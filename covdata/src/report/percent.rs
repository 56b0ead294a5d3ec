//! One line per crate with line, region and function coverage (llvm-cov
//! `report` rules), then a total line equal to llvm-cov's TOTAL when no
//! `--pkg` filter is given. A file counts toward the crate of the first
//! function whose main file it is; files without such a function have
//! nothing to count. Branches are shown when there are any. A serializer of
//! the [`view`](super::view).

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::tabwriter::{render, Padding};
use super::Context;
use crate::model::summary::{FileSummary, Ratio};

/// `84.62% (11/13)`, or `- (0/0)` when there is nothing to cover.
pub fn ratio_cell(r: Ratio) -> String {
    if r.total == 0 {
        "- (0/0)".to_string()
    } else {
        format!("{:.2}% ({}/{})", r.percent(), r.covered, r.total)
    }
}

/// Writes the table.
pub fn write(ctx: &Context, out: &mut dyn Write) -> io::Result<()> {
    let mut by_crate: BTreeMap<&str, FileSummary> = BTreeMap::new();
    for view in ctx.file_views() {
        if let Some(c) = view.crate_name() {
            by_crate.entry(c).or_default().add(view.summary());
        }
    }
    let total = ctx.totals();
    let branches = total.branches.total > 0;
    let mut rows = vec![vec![
        "crate".to_string(),
        "lines".to_string(),
        "regions".to_string(),
        "functions".to_string(),
    ]];
    if branches {
        rows[0].push("branches".to_string());
    }
    let row = |name: &str, s: &FileSummary| {
        let mut r = vec![
            name.to_string(),
            ratio_cell(s.lines),
            ratio_cell(s.regions),
            ratio_cell(s.functions),
        ];
        if branches {
            r.push(ratio_cell(s.branches));
        }
        r
    };
    for (name, s) in &by_crate {
        rows.push(row(name, s));
    }
    rows.push(row("total", &total));
    out.write_all(render(&rows, Padding::Spaces(2)).as_bytes())
}
