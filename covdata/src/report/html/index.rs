//! The index page: one row per crate, per directory (crates with many
//! files) and per file, each with line, region and function coverage (and
//! branches when there are any), then a total row equal to `covdata
//! percent`'s. Rows carry their numbers in `data-c`/`data-t` and their
//! place in the tree in `data-id`/`data-p`, which report.js sorts,
//! filters and hides by.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::escape::push_escaped;
use super::num::{push_decimal, push_fixed};
use crate::model::summary::{FileSummary, Ratio};

/// Files of a crate above which its rows are grouped by directory.
const FLAT_MAX: usize = 12;

/// What the index shows of one file.
pub struct FileRow<'a> {
    /// Display path.
    pub path: &'a str,
    /// Crate, if the file has functions of its own.
    pub crate_name: Option<&'a str>,
    /// The page's file name under `files/`.
    pub page: &'a str,
    /// The file's summary.
    pub summary: FileSummary,
}

/// One item of a summary bar (index totals, a page's header): the metric's
/// key and counts for the script, its label, its ratio.
pub fn summary_item(out: &mut String, key: &str, label: &str, r: Ratio) {
    let _ = write!(
        out,
        "<span data-k=\"{key}\" data-c=\"{}\" data-t=\"{}\"><span class=\"k\">{label}</span>",
        r.covered, r.total
    );
    push_ratio_text(out, r);
    out.push_str("</span>");
}

/// `84.62% (11/13)`-like text: the percentage with two decimals, or `-`
/// when there is nothing to cover, then the counts.
pub fn push_ratio_text(out: &mut String, r: Ratio) {
    push_ratio_text_of(out, r, r.percent());
}

/// [`push_ratio_text`] with `r.percent()` already computed.
fn push_ratio_text_of(out: &mut String, r: Ratio, percent: f64) {
    if r.total == 0 {
        out.push_str("<span class=\"pct\">-</span>");
    } else {
        out.push_str("<span class=\"pct\">");
        push_fixed(out, percent, 2);
        out.push_str("%</span>");
    }
    out.push_str("<span class=\"ct\">");
    push_decimal(out, r.covered);
    out.push('/');
    push_decimal(out, r.total);
    out.push_str("</span>");
}

/// A table cell with a bar, the percentage and the counts.
pub fn metric_cell(out: &mut String, r: Ratio) {
    let percent = r.percent();
    let level = if r.total == 0 {
        " none"
    } else if r.covered == r.total || percent >= 80.0 {
        ""
    } else if percent >= 50.0 {
        " mid"
    } else {
        " lo"
    };
    out.push_str("<td class=\"m");
    out.push_str(level);
    out.push_str("\" data-c=\"");
    push_decimal(out, r.covered);
    out.push_str("\" data-t=\"");
    push_decimal(out, r.total);
    out.push_str("\"><span class=\"bar\"><i style=\"width:");
    push_fixed(out, percent, 1);
    out.push_str("%\"></i></span>");
    push_ratio_text_of(out, r, percent);
    out.push_str("</td>");
}

/// The columns after the name.
fn metrics(s: &FileSummary, branches: bool) -> Vec<Ratio> {
    let mut m = vec![s.lines, s.regions, s.functions];
    if branches {
        m.push(s.branches);
    }
    m
}

/// One row of the tree.
struct Row {
    kind: &'static str,
    name: String,
    /// Full display path (files) or prefix (directories), for the filter.
    path: String,
    depth: usize,
    parent: Option<usize>,
    link: Option<String>,
    summary: FileSummary,
}

/// A directory node while the tree is built.
#[derive(Default)]
struct Dir {
    dirs: BTreeMap<String, Dir>,
    files: Vec<usize>,
}

impl Dir {
    fn insert(&mut self, parts: &[&str], file: usize) {
        match parts {
            [] | [_] => self.files.push(file),
            [dir, rest @ ..] => self
                .dirs
                .entry(dir.to_string())
                .or_default()
                .insert(rest, file),
        }
    }
}

/// Renders the index.
pub fn render(out: &mut String, title: &str, files: &[FileRow], totals: &FileSummary) {
    let branches = totals.branches.total > 0;
    let rows = tree(files);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>");
    push_escaped(out, title);
    out.push_str("</title><link rel=\"stylesheet\" href=\"style.css\"><script src=\"report.js\" defer></script></head>\n");
    out.push_str("<body class=\"index\"><header><h1>");
    push_escaped(out, title);
    out.push_str("</h1><div class=\"totals\" id=\"totals\">");
    let mut labels = vec![
        ("lines", "Lines"),
        ("regions", "Regions"),
        ("functions", "Functions"),
    ];
    if branches {
        labels.push(("branches", "Branches"));
    }
    for ((key, label), r) in labels.iter().zip(metrics(totals, branches)) {
        summary_item(out, key, label, r);
    }
    let _ = write!(
        out,
        "<span><span class=\"k\">Files</span>{}</span></div>",
        files.len()
    );
    out.push_str("<div class=\"controls\"><input type=\"search\" id=\"filter\" placeholder=\"filter files (/)\" aria-label=\"filter files\">");
    out.push_str("<label><input type=\"checkbox\" id=\"hide-covered\"> hide fully covered</label></div></header>\n<main>");
    out.push_str("<table class=\"tree\" id=\"index\"><thead><tr><th data-col=\"name\">Name</th>");
    for (key, label) in &labels {
        let _ = write!(out, "<th data-col=\"{key}\">{label}</th>");
    }
    out.push_str("</tr></thead><tbody>\n");
    for (i, row) in rows.iter().enumerate() {
        let open = if row.kind == "file" { "" } else { " open" };
        let _ = write!(out, "<tr class=\"{}{open}\" data-id=\"{i}\"", row.kind);
        if let Some(p) = row.parent {
            let _ = write!(out, " data-p=\"{p}\"");
        }
        out.push_str(" data-path=\"");
        push_escaped(out, &row.path);
        let _ = write!(
            out,
            "\"><td class=\"name\" style=\"padding-left:{:.1}em\" data-s=\"",
            0.8 + 1.4 * row.depth as f64
        );
        push_escaped(out, &row.name);
        out.push_str("\"><span class=\"tw\"></span>");
        match &row.link {
            Some(link) => {
                out.push_str("<a href=\"files/");
                push_escaped(out, link);
                out.push_str("\">");
                push_escaped(out, &row.name);
                out.push_str("</a>");
            }
            None => push_escaped(out, &row.name),
        }
        out.push_str("</td>");
        for r in metrics(&row.summary, branches) {
            metric_cell(out, r);
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody><tfoot><tr id=\"total\"><td class=\"name\">Total</td>");
    for r in metrics(totals, branches) {
        metric_cell(out, r);
    }
    out.push_str(
        "</tr></tfoot></table><p class=\"empty\" id=\"no-match\" hidden>No file matches.</p>",
    );
    out.push_str("<p class=\"empty\">Keys on file pages: <kbd>j</kbd>/<kbd>n</kbd> next uncovered, <kbd>k</kbd>/<kbd>p</kbd> previous. Click a column to sort.</p>");
    out.push_str("</main></body></html>\n");
}

/// The rows in display order: crates by name (files without a crate
/// last), then each crate's files, flat or as a directory tree (chains of
/// single directories collapsed into one row).
fn tree(files: &[FileRow]) -> Vec<Row> {
    let mut by_crate: BTreeMap<(bool, &str), Vec<usize>> = BTreeMap::new();
    for (i, f) in files.iter().enumerate() {
        let key = match f.crate_name {
            Some(c) => (false, c),
            None => (true, "(files without functions of their own)"),
        };
        by_crate.entry(key).or_default().push(i);
    }
    let mut rows = Vec::new();
    for ((_, name), list) in by_crate {
        let crate_row = rows.len();
        rows.push(Row {
            kind: "crate",
            name: name.to_string(),
            path: String::new(),
            depth: 0,
            parent: None,
            link: None,
            summary: FileSummary::default(),
        });
        if list.len() <= FLAT_MAX {
            // One row for the directory the files share, if any, then the
            // files with their paths below it.
            let common = common_dir(list.iter().map(|&i| files[i].path));
            let (parent, depth) = if common.is_empty() {
                (crate_row, 1)
            } else {
                rows.push(Row {
                    kind: "dir",
                    name: common.to_string(),
                    path: common.to_string(),
                    depth: 1,
                    parent: Some(crate_row),
                    link: None,
                    summary: FileSummary::default(),
                });
                (rows.len() - 1, 2)
            };
            for &i in &list {
                let name = files[i].path[common.len()..].to_string();
                push_file(&mut rows, files, i, name, parent, depth);
            }
            if parent != crate_row {
                let mut sum = FileSummary::default();
                for &i in &list {
                    sum.add(&files[i].summary);
                }
                rows[parent].summary = sum;
            }
        } else {
            let mut root = Dir::default();
            for &i in &list {
                let parts: Vec<&str> = files[i].path.split('/').collect();
                root.insert(&parts, i);
            }
            push_dir(&mut rows, files, &root, "", crate_row, 1);
        }
        let mut sum = FileSummary::default();
        for &i in &list {
            sum.add(&files[i].summary);
        }
        rows[crate_row].summary = sum;
    }
    rows
}

/// The longest directory prefix (ending in `/`) all `paths` share.
fn common_dir<'p>(mut paths: impl Iterator<Item = &'p str>) -> &'p str {
    let Some(first) = paths.next() else {
        return "";
    };
    let mut len = first.rfind('/').map_or(0, |i| i + 1);
    for p in paths {
        while len > 0 && !(p.len() > len && p.as_bytes()[..len] == first.as_bytes()[..len]) {
            len = first[..len - 1].rfind('/').map_or(0, |i| i + 1);
        }
    }
    &first[..len]
}

fn push_file(
    rows: &mut Vec<Row>,
    files: &[FileRow],
    i: usize,
    name: String,
    parent: usize,
    depth: usize,
) {
    rows.push(Row {
        kind: "file",
        name,
        path: files[i].path.to_string(),
        depth,
        parent: Some(parent),
        link: Some(files[i].page.to_string()),
        summary: files[i].summary,
    });
}

/// Rows for the directories and files of `dir` (whose path is `prefix`);
/// returns the summary of everything under it.
fn push_dir(
    rows: &mut Vec<Row>,
    files: &[FileRow],
    dir: &Dir,
    prefix: &str,
    parent: usize,
    depth: usize,
) -> FileSummary {
    let mut sum = FileSummary::default();
    for (name, sub) in &dir.dirs {
        // Collapse a chain of directories that hold one directory each.
        let mut label = name.clone();
        let mut node = sub;
        while node.files.is_empty() && node.dirs.len() == 1 {
            let (n, s) = node.dirs.iter().next().expect("one directory");
            label = format!("{label}/{n}");
            node = s;
        }
        let path = format!("{prefix}{label}/");
        let row = rows.len();
        rows.push(Row {
            kind: "dir",
            name: format!("{label}/"),
            path: path.clone(),
            depth,
            parent: Some(parent),
            link: None,
            summary: FileSummary::default(),
        });
        let s = push_dir(rows, files, node, &path, row, depth + 1);
        rows[row].summary = s;
        sum.add(&s);
    }
    for &i in &dir.files {
        let name = files[i].path.rsplit('/').next().unwrap_or(files[i].path);
        push_file(rows, files, i, name.to_string(), parent, depth);
        sum.add(&files[i].summary);
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row<'a>(path: &'a str, krate: &'a str, lines: (u64, u64)) -> FileRow<'a> {
        let summary = FileSummary {
            lines: Ratio {
                covered: lines.0,
                total: lines.1,
            },
            ..FileSummary::default()
        };
        FileRow {
            path,
            crate_name: Some(krate),
            page: path,
            summary,
        }
    }

    #[test]
    fn big_crates_are_grouped_by_directory() {
        let mut paths: Vec<String> = (0..13).map(|i| format!("src/a/b/f{i:02}.rs")).collect();
        paths.push("src/main.rs".into());
        let files: Vec<FileRow> = paths.iter().map(|p| row(p, "big", (1, 2))).collect();
        let rows = tree(&files);
        let names: Vec<(&str, &str, usize)> = rows
            .iter()
            .map(|r| (r.kind, r.name.as_str(), r.depth))
            .collect();
        assert_eq!(names[0], ("crate", "big", 0));
        assert_eq!(names[1], ("dir", "src/", 1));
        assert_eq!(names[2], ("dir", "a/b/", 2));
        assert_eq!(names[3], ("file", "f00.rs", 3));
        assert_eq!(names.last().unwrap(), &("file", "main.rs", 2));
        assert_eq!(
            rows[1].summary.lines,
            Ratio {
                covered: 14,
                total: 28
            }
        );
        assert_eq!(
            rows[2].summary.lines,
            Ratio {
                covered: 13,
                total: 26
            }
        );
        assert_eq!(
            rows[0].summary.lines,
            Ratio {
                covered: 14,
                total: 28
            }
        );
    }

    #[test]
    fn small_crates_are_flat() {
        let files = [
            row("src/main.rs", "a", (1, 1)),
            row("src/x/y.rs", "a", (0, 1)),
        ];
        let rows = tree(&files);
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["a", "src/", "main.rs", "x/y.rs"]);
        assert_eq!(
            rows[1].summary.lines,
            Ratio {
                covered: 1,
                total: 2
            }
        );
        let files = [row("/r/a.rs", "b", (1, 1)), row("other.rs", "b", (0, 1))];
        let names: Vec<String> = tree(&files).into_iter().map(|r| r.name).collect();
        assert_eq!(names, ["b", "/r/a.rs", "other.rs"]);
        assert_eq!(common_dir(["/a/bc/x.rs", "/a/b/y.rs"].into_iter()), "/a/");
        assert_eq!(common_dir(["/a/b/x.rs"].into_iter()), "/a/b/");
    }
}
