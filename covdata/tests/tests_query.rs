//! `covdata tests`: which labelled runs reach a line, a function or a
//! change, on a real program whose runs are known (each run's arguments
//! decide which functions it calls); merged directories and pools that lost
//! labels; and `merge --keep-labels` (to a directory and in place, with a
//! crash after a label pool's rename), whose output must answer exactly as
//! its input.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;
use covwrap_rt::format::counters::{encode, CountersFile, CountersHeader};
use covwrap_rt::format::names::counters_file_name;

// Line numbers matter: `parse`'s body is line 2, `render`'s line 5.
const PROGRAM: &str = r#"fn parse(s: &str) -> i32 {
    s.trim().parse().unwrap_or(-1)
}
fn render(n: i32) -> String {
    format!("<{n}>")
}
fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    match a[0].as_str() {
        "parse" => println!("{}", parse(&a[1])),
        "render" => println!("{}", render(a.len() as i32)),
        _ => println!("{}", render(parse(&a[1]))),
    }
}
"#;

/// (label, arguments): `parse` runs parse only, `render` render only,
/// `both` the two. `c::it parse_one` runs twice; the last run has no label.
const RUNS: &[(Option<&str>, &[&str])] = &[
    (Some("c::it parse_one"), &["parse", "7"]),
    (Some("c::it parse_one"), &["parse", "8"]),
    (Some("c::it render_one"), &["render", "x"]),
    (Some("c::it both"), &["both", "5"]),
    (Some("c::unit"), &["parse", "1"]),
    (None, &["parse", "3"]),
];

/// The program, built once per test, and one run of it per argument list,
/// as counter files (pid 1000 + run) in a template directory.
struct Fixture {
    s: Scratch,
    /// Each run's label.
    labels: Vec<Option<&'static str>>,
    /// The meta file's name and bytes.
    meta: (String, Vec<u8>),
    /// Each run's counter file, without a label.
    runs: Vec<Vec<u8>>,
}

impl Fixture {
    fn new(name: &str) -> Fixture {
        Fixture::build(name, PROGRAM, &[], RUNS)
    }

    /// `program` built with `rustc_args` and run once per entry of `runs`.
    fn build(
        name: &str,
        program: &str,
        rustc_args: &[&str],
        runs_of: &[(Option<&'static str>, &[&str])],
    ) -> Fixture {
        let s = Scratch::new(name);
        s.write("main.rs", program);
        let mut args = rustc_args.to_vec();
        args.extend(["main.rs", "-o", "main"]);
        rustc(&s.dir, &args, &[]);
        let bin = s.path("main");
        let template = s.path("template");
        let mut runs = Vec::new();
        let mut meta = None;
        for (i, (_, args)) in runs_of.iter().enumerate() {
            let profraw = s.path(&format!("run{i}.profraw"));
            run_profiled(&bin, args, &profraw);
            let one = template.join(format!("run{i}"));
            make_covdir(&one, std::slice::from_ref(&bin), &[profraw]);
            let file = first_counter_file(&one);
            runs.push(std::fs::read(&file).unwrap());
            let m = first_file_named(&one, "covmeta.");
            meta = Some((
                m.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&m).unwrap(),
            ));
        }
        Fixture {
            s,
            labels: runs_of.iter().map(|(l, _)| *l).collect(),
            meta: meta.unwrap(),
            runs,
        }
    }

    /// A COVDIR with the meta file and the runs `which` (indices into
    /// RUNS), each written as process 1000 + i with its label.
    fn covdir(&self, name: &str, which: &[usize]) -> PathBuf {
        let dir = self.s.path(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(&self.meta.0), &self.meta.1).unwrap();
        for &i in which {
            self.add_run(&dir, i, 1000 + i as u64);
        }
        dir
    }

    /// Writes run `i` of RUNS into `dir` as process `pid`.
    fn add_run(&self, dir: &Path, i: usize, pid: u64) {
        let f = CountersFile::parse(&self.runs[i]).unwrap();
        let ns = 1_800_000_000_000_000_000 + pid;
        let header = CountersHeader {
            pid,
            start_ns: ns - 1,
            write_ns: ns,
            ..*f.header()
        };
        let mut args = f.args().to_vec();
        if let Some(label) = self.labels[i] {
            // As the runtime records them: nextest's `BINARY TEST`,
            // cargo test's `BINARY`.
            let source = if label.contains(' ') {
                "nextest"
            } else {
                "cargo-test"
            };
            args.push(("label".to_string(), label.to_string()));
            args.push(("label-source".to_string(), source.to_string()));
        }
        let bytes = encode(&header, &args, f.entries());
        std::fs::write(
            dir.join(counters_file_name(&header.meta_hash, pid, ns)),
            bytes,
        )
        .unwrap();
    }
}

fn all() -> Vec<usize> {
    (0..RUNS.len()).collect()
}

fn tests(dir: &Path, query: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_covdata"));
    cmd.arg("tests")
        .arg(format!("-i={}", dir.display()))
        .args(query)
        .current_dir(dir.parent().unwrap());
    cmd.output().unwrap()
}

fn stdout_ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "covdata tests failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn answer(dir: &Path, query: &[&str]) -> String {
    stdout_ok(&tests(dir, query))
}

fn in_dir(flag: &str, dir: &Path) -> String {
    format!("{flag}={}", dir.display())
}

/// The answers every directory holding RUNS must give, in all formats.
fn answers(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for q in [
        vec!["--line=main.rs:2"],
        vec!["--line=main.rs:5"],
        vec!["--function=render"],
        vec!["--function=parse", "--format=nextest-filter"],
        vec!["--line=main.rs:5", "--format=nextest-filter"],
        vec!["--line=main.rs:2", "--format=json"],
    ] {
        let mut text = answer(dir, &q);
        if q.contains(&"--format=json") {
            // The only field that counts files, not runs.
            let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
            v["counter_files"] = serde_json::Value::Null;
            text = v.to_string();
        }
        out.push(text);
    }
    out
}

#[test]
fn lines_functions_and_changes_name_the_runs_that_reached_them() {
    let f = Fixture::new("tests-query");
    let dir = f.covdir("cov", &all());
    // (The fixture's runs record the binary as argv.)
    let unlabelled = f.s.path("main").display().to_string();

    // parse's body: the two parse_one runs (hits summed), both, the
    // unit-test binary, and the unlabelled run under its argv.
    let text = answer(&dir, &["--line=main.rs:2"]);
    let width = unlabelled.len();
    let row = |l: &str, h: u64| format!("{l:<width$}  {h}\n");
    assert_eq!(
        text,
        [
            row(&unlabelled, 1),
            row("c::it both", 1),
            row("c::it parse_one", 2),
            row("c::unit", 1),
        ]
        .concat()
    );
    // render's body, by line and by function: render_one and both.
    let render = "c::it both        1\nc::it render_one  1\n";
    assert_eq!(answer(&dir, &["--line=main.rs:5"]), render);
    assert_eq!(answer(&dir, &["--function=render"]), render);
    assert_eq!(answer(&dir, &["--function=main::render"]), render);
    // A path relative to --root, and an absolute one.
    assert_eq!(
        answer(&dir, &["--line=main.rs:5", &in_dir("--root", &f.s.dir)]),
        render
    );
    assert_eq!(
        answer(
            &dir,
            &[&format!("--line={}:5", f.s.path("main.rs").display())]
        ),
        render
    );

    // A change to render's body, as covdata diff reads it.
    let patch = f.s.write(
        "change.patch",
        "--- a/main.rs\n+++ b/main.rs\n@@ -5 +5 @@\n-    format!(\"<{n}>\")\n+    format!(\"[{n}]\")\n",
    );
    let root = in_dir("--root", &f.s.dir);
    let by_change = [&in_dir("--diff-file", &patch), root.as_str()];
    assert_eq!(answer(&dir, &by_change), render);
    let filter = answer(
        &dir,
        &[by_change[0], by_change[1], "--format=nextest-filter"],
    );
    assert_eq!(
        filter,
        "(binary_id(=c::it) & (test(=both) | test(=render_one)))\n"
    );
    // The unit-test binary's label selects its whole binary; the
    // unlabelled run is left out, with a note.
    let out = tests(&dir, &["--line=main.rs:2", "--format=nextest-filter"]);
    assert_eq!(
        stdout_ok(&out),
        "(binary_id(=c::it) & (test(=both) | test(=parse_one))) | binary_id(=c::unit)\n"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a test nextest can select"));
    // A change elsewhere: no test, and nextest's empty set.
    let other = f.s.write(
        "other.patch",
        "--- a/other.rs\n+++ b/other.rs\n@@ -1 +1 @@\n-a\n+b\n",
    );
    let out = tests(
        &dir,
        &[
            &in_dir("--diff-file", &other),
            &root,
            "--format=nextest-filter",
        ],
    );
    assert_eq!(stdout_ok(&out), "none()\n");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is in the coverage data"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // JSON: runs, hits, targets reached, each test's term.
    let json: serde_json::Value =
        serde_json::from_str(&answer(&dir, &["--line=main.rs:2", "--format=json"])).unwrap();
    assert_eq!(json["targets"], 1);
    assert_eq!(json["reached_targets"], 1);
    assert_eq!(json["counter_files"], RUNS.len());
    assert_eq!(json["labels_lost"], serde_json::Value::Null);
    let parse_one = &json["tests"][2];
    assert_eq!(parse_one["label"], "c::it parse_one");
    assert_eq!(parse_one["runs"], 2);
    assert_eq!(parse_one["hits"], 2);
    assert_eq!(parse_one["labelled"], true);
    assert_eq!(
        parse_one["nextest_filter"],
        "(binary_id(=c::it) & test(=parse_one))"
    );
    assert_eq!(json["tests"][0]["labelled"], false);
    assert_eq!(json["tests"][0]["nextest_filter"], serde_json::Value::Null);
}

#[test]
fn bad_queries_are_one_line_usage_errors() {
    let f = Fixture::new("tests-query-bad");
    let dir = f.covdir("cov", &[0]);
    for (query, message) in [
        (
            "--line=nope.rs:2",
            "--line=nope.rs: no such file in the coverage data",
        ),
        ("--line=main.rs:1000", "line 1000 holds no code"),
        ("--line=main.rs", "expected FILE:LINE"),
        ("--line=main.rs:0", "expected FILE:LINE"),
        ("--function=nothing_here", "no function of that name"),
    ] {
        let out = tests(&dir, &[query]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{query}");
        assert!(err.contains(message), "{query}: {err}");
        assert!(!err.contains("panicked"), "{query}: {err}");
    }
    // A query is required, and only one.
    let out = tests(&dir, &[]);
    assert_eq!(out.status.code(), Some(2));
    let out = tests(&dir, &["--line=main.rs:2", "--function=parse"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn merges_and_pools_that_lost_labels_say_so_and_select_everything() {
    let f = Fixture::new("tests-query-lost");
    let dir = f.covdir("cov", &all());
    let merged = f.s.path("merged");
    covdata_ok(&["merge", &in_dir("-i", &dir), &in_dir("-o", &merged)]);
    let pooled = f.covdir("pooled", &all());
    covdata_ok(&["merge", "--in-place", &in_dir("-i", &pooled)]);
    for d in [&merged, &pooled] {
        let out = tests(d, &["--line=main.rs:5"]);
        assert_eq!(stdout_ok(&out), "", "{}", d.display());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("1 counter file(s) summing 6 runs without labels reached the query"),
            "{err}"
        );
        assert!(err.contains("--keep-labels"), "{err}");
        let out = tests(d, &["--line=main.rs:5", "--format=nextest-filter"]);
        assert_eq!(stdout_ok(&out), "all()\n");
        let json: serde_json::Value =
            serde_json::from_str(&answer(d, &["--line=main.rs:5", "--format=json"])).unwrap();
        assert_eq!(json["labels_lost"]["runs"], 6);
    }
    // A labelled run next to a pool: known, and the rest still lost.
    f.add_run(&pooled, 2, 5000);
    let out = tests(&pooled, &["--line=main.rs:5"]);
    assert_eq!(stdout_ok(&out), "c::it render_one  1\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("without labels"));
}

#[test]
fn keep_labels_merges_answer_exactly_as_the_runs_they_merge() {
    let f = Fixture::new("tests-query-keep");
    let dir = f.covdir("cov", &all());
    let expected = answers(&dir);
    let lcov = |d: &Path| covdata_ok(&["lcov", &in_dir("-i", d)]);
    let percent = |d: &Path| covdata_ok(&["percent", &in_dir("-i", d)]);

    // To a directory: one file per label, plus one for the unlabelled
    // run's command line.
    let kept = f.s.path("kept");
    covdata_ok(&[
        "merge",
        "--keep-labels",
        &in_dir("-i", &dir),
        &in_dir("-o", &kept),
    ]);
    let counters = |d: &Path| {
        std::fs::read_dir(d)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with("covcounters.")
            })
            .count()
    };
    assert_eq!(counters(&kept), 5);
    assert_eq!(answers(&kept), expected);
    assert_eq!(lcov(&kept), lcov(&dir));
    assert_eq!(percent(&kept), percent(&dir));
    // Merging the merge again changes nothing, byte for byte.
    let again = f.s.path("again");
    covdata_ok(&[
        "merge",
        "--keep-labels",
        &in_dir("-i", &kept),
        &in_dir("-o", &again),
    ]);
    assert_eq!(dir_files(&again), dir_files(&kept));

    // In place, twice: label pools, and new runs added to them.
    let compact_keeping_labels =
        |d: &Path| covdata_ok(&["merge", "--in-place", "--keep-labels", &in_dir("-i", d)]);
    let place = f.covdir("in-place", &all());
    let out = compact_keeping_labels(&place);
    assert!(
        out.contains("folded 6 files\truns 6\tlabel pools 5"),
        "{out}"
    );
    assert_eq!(counters(&place), 5);
    assert_eq!(answers(&place), expected);
    assert_eq!(lcov(&place), lcov(&dir));
    f.add_run(&place, 0, 7000);
    f.add_run(&dir, 0, 7000);
    let expected = answers(&dir);
    assert_eq!(answers(&place), expected);
    let out = compact_keeping_labels(&place);
    assert!(
        out.contains("folded 1 files\truns 7\tlabel pools 5"),
        "{out}"
    );
    assert_eq!(counters(&place), 5);
    assert_eq!(answers(&place), expected);
    assert_eq!(lcov(&place), lcov(&dir));

    // A compaction that dies right after writing a label pool: its runs
    // are counted once (the pool lists them as absorbed), and the next
    // compaction finishes the job.
    // (Labelled runs only, so the first target written is a label pool.)
    let labelled = [0, 1, 2, 3, 4];
    let crashy = f.covdir("crashy", &labelled);
    let fresh = f.covdir("fresh", &labelled);
    let out = Command::new(env!("CARGO_BIN_EXE_covdata"))
        .args([
            "merge",
            "--in-place",
            "--keep-labels",
            &in_dir("-i", &crashy),
        ])
        .env("COVDATA_TEST_CRASH_AFTER_RENAME", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(99));
    assert_eq!(
        counters(&crashy),
        6,
        "one label pool, and the files it folded left over"
    );
    assert_eq!(answers(&crashy), answers(&fresh));
    assert_eq!(lcov(&crashy), lcov(&fresh));
    covdata_ok(&[
        "merge",
        "--in-place",
        "--keep-labels",
        &in_dir("-i", &crashy),
    ]);
    assert_eq!(counters(&crashy), 4);
    assert_eq!(answers(&crashy), answers(&fresh));
    assert_eq!(lcov(&crashy), lcov(&fresh));

    // Without --keep-labels, a compaction folds the label pools too.
    covdata_ok(&["merge", "--in-place", &in_dir("-i", &place)]);
    assert_eq!(counters(&place), 1);
    assert_eq!(lcov(&place), lcov(&dir));
    let out = tests(&place, &["--line=main.rs:5"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("summing 7 runs without labels"));

    // Not with --pcombine or --pkg.
    for extra in ["--pcombine", "--pkg=main"] {
        let out = covdata(&[
            "merge",
            "--keep-labels",
            extra,
            &in_dir("-i", &dir),
            &in_dir("-o", &f.s.path("never")),
        ]);
        assert_eq!(out.status.code(), Some(2), "{extra}");
    }
}

/// The shared [`INLINE_COPY_MODULES`] with a `main` that calls one module
/// or the other by its first argument (`b` or `c`).
fn inline_copies() -> String {
    format!("{INLINE_COPY_MODULES}{INLINE_COPIES_MAIN}")
}

const INLINE_COPIES_MAIN: &str = r#"fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n = args.len() as u32 + 1;
    if args[1] == "b" {
        println!("{}", b::use_b(n));
    } else {
        println!("{}", c::use_c(n));
    }
}
"#;

/// `-C opt-level=1 -C codegen-units=4`: `inl` has a copy in each codegen
/// unit that calls it, each with its own counters; a run is attributed
/// whichever copy it ran.
#[test]
fn every_copy_of_an_inline_function_counts_for_its_run() {
    let f = Fixture::build(
        "tests-query-copies",
        &inline_copies(),
        &["-C", "opt-level=1", "-C", "codegen-units=4"],
        &[(Some("c::it via_b"), &["b"]), (Some("c::it via_c"), &["c"])],
    );
    let dir = f.covdir("cov", &[0, 1]);
    assert_has_duplicate_records(&dir);
    // `x * 2`, reached by both runs through their own copies.
    assert_eq!(
        answer(&dir, &["--line=main.rs:5"]),
        "c::it via_b  1\nc::it via_c  1\n"
    );
    assert_eq!(
        answer(&dir, &["--function=a::inl"]),
        "c::it via_b  1\nc::it via_c  1\n"
    );
}

/// [`inline_copies`] and a generic module: `show` instantiated in both
/// codegen units that call it, `never` not at all (an unused function's
/// record, which the model keeps or drops by the summed counts).
const COPIES_AND_GENERICS: &str = r#"
mod g {
    pub fn show<T: std::fmt::Debug>(t: T) -> usize {
        let s = format!("{t:?}");
        if s.len() > 3 {
            s.len()
        } else {
            0
        }
    }

    pub fn never<T: Clone>(t: &T) -> T {
        t.clone()
    }
}
"#;

/// The answer of `query` over `dir` with `collector` keeping the runs'
/// counters during the load; `None` when the query does not resolve.
fn one_pass(
    dir: &Path,
    query: &covdata::tests_query::Query,
    collector: &covdata::tests_query::Collector,
) -> Option<covdata::tests_query::Answer> {
    use covdata::tests_query::{resolve, scan};
    let loaded =
        covdata::reader::load_observed(&[dir.to_path_buf()], Default::default(), Some(collector))
            .unwrap();
    let cov = covdata::Coverage::build(loaded, false).unwrap();
    let ctx = covdata::report::Context::new(&cov, Default::default());
    let targets = resolve(&ctx, query).ok()?;
    Some(scan(&ctx, &targets, collector).unwrap())
}

/// The one pass keeps, of each run, only the counters that the meta files
/// say can decide the query; its answers must be those of whole runs (the
/// old second pass, which read every counter file again), for every line
/// and function of a program built with `-C codegen-units=16`: an inline
/// function's copies and a generic's instantiations in several codegen
/// units (duplicate data records the model sums), an unused generic (a
/// record the model keeps or drops by the summed counts).
#[test]
fn one_pass_answers_as_whole_runs_do() {
    use covdata::tests_query::{Collector, Query};
    let program = format!("{}{COPIES_AND_GENERICS}", inline_copies())
        .replace(
            "crate::a::inl(x) +",
            "crate::a::inl(x) + crate::g::show(x) as u32 +",
        )
        .replace(
            "crate::a::inl(x + 1) +",
            "crate::a::inl(x + 1) + crate::g::show(\"c\") as u32 +",
        );
    let f = Fixture::build(
        "tests-query-one-pass",
        &program,
        &["-C", "opt-level=1", "-C", "codegen-units=16"],
        &[
            (Some("c::it via_b"), &["b"]),
            (Some("c::it via_c"), &["c"]),
            (Some("c::it via_c"), &["c", "again"]),
            (None, &["b", "unlabelled"]),
        ],
    );
    let dir = f.covdir("cov", &[0, 1, 2, 3]);
    assert_has_duplicate_records(&dir);
    let anchor = f.s.dir.display().to_string();
    let mut queries: Vec<Query> = (1..=program.lines().count() as u32)
        .map(|line| Query::Line {
            path: "main.rs".into(),
            line,
            anchor: anchor.clone(),
        })
        .collect();
    for name in ["inl", "g::show", "never", "use_b", "use_c", "main"] {
        queries.push(Query::Function(name.into()));
    }
    let mut answered = 0;
    for q in &queries {
        let whole = one_pass(&dir, q, &Collector::keeping_every_counter());
        let kept = one_pass(&dir, q, &Collector::new(q));
        assert_eq!(kept, whole, "{q:?}");
        answered += usize::from(whole.is_some_and(|a| !a.tests.is_empty()));
    }
    assert!(answered > 15, "only {answered} queries named tests");
}
