//! `covdata tests` output: text (one test per line with its hits), JSON,
//! and a filterset `cargo nextest run -E` accepts.

use std::io::{self, Write};

use super::{Answer, TestHits};

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `LABEL  HITS`, one test per line, sorted by label.
    Text,
    /// One JSON object (see docs/COVDATA.md).
    Json,
    /// `binary_id(=B) & test(=T)` terms joined by ` | `.
    NextestFilter,
}

/// Writes `answer` in `format`.
pub fn write(answer: &Answer, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Text => write_text(answer, out),
        Format::Json => write_json(answer, out),
        Format::NextestFilter => {
            writeln!(out, "{}", nextest_filter(answer))
        }
    }
}

fn write_text(a: &Answer, out: &mut dyn Write) -> io::Result<()> {
    let width = a.tests.iter().map(|t| t.label.len()).max().unwrap_or(0);
    for t in &a.tests {
        writeln!(out, "{:<width$}  {}", t.label, t.hits)?;
    }
    if let Some(w) = a.lost_labels_warning() {
        writeln!(out, "warning: {w}")?;
    }
    Ok(())
}

fn write_json(a: &Answer, out: &mut dyn Write) -> io::Result<()> {
    let tests: Vec<serde_json::Value> = a
        .tests
        .iter()
        .map(|t| {
            serde_json::json!({
                "label": t.label,
                "labelled": t.labelled,
                "runs": t.runs,
                "hits": t.hits,
                "reached": t.reached,
                "nextest_filter": nextest_term(t),
            })
        })
        .collect();
    let lost = a.unlabelled_merged.map(|(files, runs)| {
        serde_json::json!({ "files": files, "runs": runs, "message": a.lost_labels_warning() })
    });
    let value = serde_json::json!({
        "query": a.query,
        "targets": a.targets,
        "reached_targets": a.reached_targets,
        "counter_files": a.files,
        "tests": tests,
        "labels_lost": lost,
    });
    serde_json::to_writer_pretty(&mut *out, &value).map_err(io::Error::from)?;
    writeln!(out)
}

/// The filterset selecting the answer's tests. Runs whose labels were
/// lost could be any test: then every test (`all()`), never a guess. No
/// test at all is `none()`.
pub fn nextest_filter(a: &Answer) -> String {
    if a.unlabelled_merged.is_some() {
        return "all()".to_string();
    }
    let terms: Vec<String> = a.tests.iter().filter_map(nextest_term).collect();
    if terms.is_empty() {
        "none()".to_string()
    } else {
        terms.join(" | ")
    }
}

/// The filterset term of one label: nextest's own labels (`BINARY TEST`)
/// select that test, `cargo test`'s (`BINARY`) the whole binary. An argv
/// (a program run outside a test) has none.
pub fn nextest_term(t: &TestHits) -> Option<String> {
    if !t.labelled {
        return None;
    }
    let ok = |s: &str| !s.is_empty() && !s.contains(['(', ')', ' ', '|', '&', ',']);
    match t.label.split_once(' ') {
        Some((binary, test)) if ok(binary) && ok(test) => {
            Some(format!("(binary_id(={binary}) & test(={test}))"))
        }
        None if ok(&t.label) => Some(format!("binary_id(={})", t.label)),
        _ => None,
    }
}
