//! `covdata tests` output: text (one test per line with its hits), JSON,
//! and a filterset `cargo nextest run -E` accepts.

use std::collections::BTreeMap;
use std::io::{self, Write};

use covwrap_rt::format::defs::label_source;

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
    // Lost labels are a warning on standard error (the command's), so
    // this stays one test per line.
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
                "source": t.source,
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

/// The filterset selecting the answer's tests, one term per test binary:
/// `binary_id(=B)` for a whole binary (`cargo test`'s labels), else
/// `(binary_id(=B) & (test(=T1) | test(=T2)))`. Runs whose labels were
/// lost could be any test: then every test (`all()`), never a guess. No
/// test at all is `none()`.
pub fn nextest_filter(a: &Answer) -> String {
    if a.unlabelled_merged.is_some() {
        return "all()".to_string();
    }
    // Per binary: None for the whole binary, else its tests.
    let mut binaries: BTreeMap<&str, Option<Vec<String>>> = BTreeMap::new();
    for t in a.tests.iter().filter(|t| nextest_term(t).is_some()) {
        match t.label.split_once(' ') {
            Some((binary, test)) => {
                let test = matcher_text(test).expect("nextest_term checked it");
                if let Some(tests) = binaries.entry(binary).or_insert_with(|| Some(Vec::new())) {
                    tests.push(format!("test(={test})"));
                }
            }
            None => {
                binaries.insert(&t.label, None);
            }
        }
    }
    if binaries.is_empty() {
        return "none()".to_string();
    }
    let terms: Vec<String> = binaries
        .into_iter()
        .map(|(binary, tests)| match tests {
            None => format!("binary_id(={binary})"),
            Some(tests) if tests.len() == 1 => format!("(binary_id(={binary}) & {})", tests[0]),
            Some(tests) => format!("(binary_id(={binary}) & ({}))", tests.join(" | ")),
        })
        .collect();
    terms.join(" | ")
}

/// The filterset term of one label: nextest's own labels (`BINARY TEST`)
/// select that test, `cargo test`'s (`BINARY`) the whole binary. A label
/// the user set, an argv (a program run outside a test) have none, nor
/// has a name nextest's matcher cannot spell exactly (empty, or with
/// leading or trailing spaces, which it trims, or control characters).
pub fn nextest_term(t: &TestHits) -> Option<String> {
    if !t.labelled {
        return None;
    }
    let whole_binary = match t.source.as_deref() {
        Some(label_source::NEXTEST) => false,
        Some(label_source::CARGO_TEST) => true,
        _ => return None,
    };
    let binary_ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '/'))
    };
    match t.label.split_once(' ') {
        Some((binary, test)) if !whole_binary && binary_ok(binary) => {
            let test = matcher_text(test)?;
            Some(format!("(binary_id(={binary}) & test(={test}))"))
        }
        // nextest's listing runs name the binary alone.
        None if binary_ok(&t.label) => Some(format!("binary_id(={})", t.label)),
        _ => None,
    }
}

/// `s` as the text of an `=` matcher: nextest's escapes for the
/// characters that end or split one (`\\`, `\)`, `\,`).
fn matcher_text(s: &str) -> Option<String> {
    if s.is_empty() || s.trim() != s || s.chars().any(char::is_control) {
        return None;
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | ')' | ',') {
            out.push('\\');
        }
        out.push(c);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(label: &str, labelled: bool) -> TestHits {
        let source = match label.contains(' ') {
            true => label_source::NEXTEST,
            false => label_source::CARGO_TEST,
        };
        TestHits {
            label: label.to_string(),
            labelled,
            source: labelled.then(|| source.to_string()),
            runs: 1,
            hits: 3,
            reached: 1,
        }
    }

    #[test]
    fn nextest_terms_select_a_test_or_a_binary() {
        let term = |l: &str| nextest_term(&hit(l, true));
        assert_eq!(
            term("my-crate::integration tests::parses").as_deref(),
            Some("(binary_id(=my-crate::integration) & test(=tests::parses))")
        );
        assert_eq!(term("my-crate").as_deref(), Some("binary_id(=my-crate)"));
        assert_eq!(
            term("my-crate::bench/perf").as_deref(),
            Some("binary_id(=my-crate::bench/perf)")
        );
        // Characters that end or split a matcher are escaped; others are text.
        assert_eq!(
            term("c::it case(1, \\x)").as_deref(),
            Some("(binary_id(=c::it) & test(=case(1\\, \\\\x\\)))")
        );
        assert_eq!(
            term("c::it a b|c&d").as_deref(),
            Some("(binary_id(=c::it) & test(=a b|c&d))")
        );
        // A label the user set is no test nextest knows.
        let user = TestHits {
            source: None,
            ..hit("c::it a", true)
        };
        assert_eq!(nextest_term(&user), None);
        // What a matcher cannot spell, and argv fallbacks, have no term.
        assert_eq!(term("c::it  padded"), None);
        assert_eq!(term("c::it tab\there"), None);
        assert_eq!(term("not(a binary) t"), None);
        assert_eq!(nextest_term(&hit("./app --flag", false)), None);
    }

    #[test]
    fn filters_union_the_tests_and_never_guess() {
        let mut a = Answer {
            tests: vec![
                hit("c::it a", true),
                hit("c", true),
                hit("c::it b\\", true),
                hit("./app", false),
                hit("c tests::x", true),
                hit("d::it z", true),
            ],
            ..Answer::default()
        };
        // One term per binary; a whole binary covers its tests.
        assert_eq!(
            nextest_filter(&a),
            "binary_id(=c) | (binary_id(=c::it) & (test(=a) | test(=b\\\\))) | (binary_id(=d::it) & test(=z))"
        );
        a.tests.clear();
        assert_eq!(nextest_filter(&a), "none()");
        a.unlabelled_merged = Some((1, 5));
        assert_eq!(nextest_filter(&a), "all()");
    }

    #[test]
    fn text_is_one_test_per_line_with_hits_and_json_names_lost_runs() {
        let a = Answer {
            query: "src/a.rs:3".into(),
            targets: 1,
            reached_targets: 1,
            tests: vec![hit("c::it a", true), hit("long-crate::it b", true)],
            files: 2,
            unlabelled_merged: Some((1, 4)),
        };
        let mut text = Vec::new();
        write(&a, Format::Text, &mut text).unwrap();
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "c::it a           3\nlong-crate::it b  3\n"
        );
        let mut json = Vec::new();
        write(&a, Format::Json, &mut json).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["tests"][1]["label"], "long-crate::it b");
        assert_eq!(
            v["tests"][0]["nextest_filter"],
            "(binary_id(=c::it) & test(=a))"
        );
        assert_eq!(v["labels_lost"]["runs"], 4);
        assert_eq!(v["reached_targets"], 1);
    }
}
