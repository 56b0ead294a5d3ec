//! Cobertura, Sonar and JSON on a real program built with
//! `rustc -C instrument-coverage -Zcoverage-options=branch` (two source
//! files, one with `&` and `<` in its name), run twice:
//!
//! - JSON equals `llvm-cov export -format=text` of the same profile byte for
//!   byte with `--mangled` (and, as the issue asks, totals and file list);
//! - Cobertura is valid against coverage-04.dtd's structure (xmllint), its
//!   line hits are `lcov`'s `DA` counts, and `<source>` + filename names the
//!   file on disk (GitLab's mapping);
//! - Sonar is valid against Sonar's generic-coverage schema (xmllint), with
//!   `DA`'s lines and BRDA's branch outcomes per line;
//! - every report is byte-identical when written again.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::lcov_da as da;
use common::*;
use covdata::crates::CrateFilter;
use covdata::report::{self, Context, ReportOptions};
use covdata::Coverage;

const MAIN_RS: &str = r#"mod util;
#[path = "odd & <name>.rs"]
mod odd;

fn check(a: i32, b: bool) -> &'static str {
    if a > 3 && b {
        "big"
    } else if a < 0 || !b {
        "odd"
    } else {
        "small"
    }
}

#[allow(dead_code)]
fn never() -> u32 {
    let x = 3;
    x * 2
}

fn main() {
    let n = std::env::args().count() as i32;
    for i in -1..n + 2 {
        println!("{} {}", check(i, i % 2 == 0), util::twice(i));
    }
    println!("{}", util::show(n));
    println!("{}", util::show("s"));
    println!("{}", odd::odd(n));
}
"#;

const UTIL_RS: &str = r#"pub fn twice(x: i32) -> i32 {
    if x > 100 {
        return 0;
    }
    x * 2
}

pub fn show<T: std::fmt::Debug>(t: T) -> String {
    format!("{:?}", t)
}
"#;

const ODD_RS: &str = r#"pub fn odd(n: i32) -> bool {
    n % 2 == 1
}
"#;

/// The program, its runs and their COVDIR.
struct Built {
    scratch: Scratch,
    bin: PathBuf,
    profraws: Vec<PathBuf>,
    covdir: PathBuf,
}

/// The program, built and run once for all tests here (in the target's
/// temp directory: statics are never dropped).
fn built() -> &'static Built {
    static BUILT: std::sync::OnceLock<Built> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| build("reports"))
}

fn build(name: &str) -> Built {
    let scratch = Scratch::shared(name);
    scratch.write("src/main.rs", MAIN_RS);
    scratch.write("src/util.rs", UTIL_RS);
    scratch.write("src/odd & <name>.rs", ODD_RS);
    rustc_branch(&scratch.dir, &["src/main.rs", "-o", "main"]);
    let bin = scratch.path("main");
    let (covdir, profraws) = two_runs_covdir(&scratch.dir, &bin, &["1"], &["1", "2", "3", "4"]);
    let profraws = profraws.to_vec();
    Built {
        scratch,
        bin,
        profraws,
        covdir,
    }
}

fn load(dir: &Path) -> Coverage {
    covdata::load_coverage(&[dir.to_path_buf()], false).unwrap()
}

type Writer = fn(&Context, &mut dyn std::io::Write) -> std::io::Result<()>;

fn render(cov: &Coverage, mangled: bool, write: Writer) -> String {
    let ctx = Context::new(
        cov,
        ReportOptions {
            crates: CrateFilter::default(),
            root: None,
            mangled,
            ..ReportOptions::default()
        },
    );
    let mut out = Vec::new();
    write(&ctx, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn cobertura_at(cov: &Coverage, timestamp: u64) -> String {
    let ctx = Context::new(cov, ReportOptions::default());
    let mut out = Vec::new();
    report::cobertura::write_with(&ctx, timestamp, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// (SF path, line) → (outcomes, outcomes taken) of the `BRDA` lines.
fn brda(lcov: &str) -> BTreeMap<(String, u32), (u64, u64)> {
    let mut out: BTreeMap<(String, u32), (u64, u64)> = BTreeMap::new();
    let mut file = String::new();
    for l in lcov.lines() {
        if let Some(f) = l.strip_prefix("SF:") {
            file = f.to_string();
        } else if let Some(rest) = l.strip_prefix("BRDA:") {
            let fields: Vec<&str> = rest.split(',').collect();
            let e = out
                .entry((file.clone(), fields[0].parse().unwrap()))
                .or_default();
            e.0 += 1;
            e.1 += u64::from(fields[3] != "-" && fields[3] != "0");
        }
    }
    out
}

/// The value of attribute `name` in the element text `tag`, unescaped.
fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = start + tag[start..].find('"')?;
    Some(
        tag[start..end]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/xml")
        .join(name)
}

/// xmllint (Debian's libxml2-utils) accepts `file` with `args`.
fn xmllint_accepts(file: &Path, args: &[&str]) {
    let out = Command::new("xmllint")
        .args(["--noout", "--nonet"])
        .args(args)
        .arg(file)
        .output()
        .expect("xmllint (Debian package libxml2-utils) is required");
    assert!(
        out.status.success(),
        "xmllint {args:?} {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn json_is_llvm_cov_export() {
    let b = built();
    let cov = load(&b.covdir);
    let ours = render(&cov, true, report::json::write);
    let profdata = b.scratch.path("json.profdata");
    llvm_merge(&b.profraws, &profdata);
    let out = run(Command::new(llvm_tool("llvm-cov"))
        .arg("export")
        .arg("-format=text")
        .arg(format!("-instr-profile={}", profdata.display()))
        .arg(&b.bin));
    let theirs = String::from_utf8(out.stdout).unwrap();
    // What the issue asks for, checked on its own: the totals and the file
    // list are llvm-cov's.
    let parse = |text: &str| -> serde_json::Value { serde_json::from_str(text).unwrap() };
    let (a, t) = (parse(&ours), parse(&theirs));
    assert_eq!(a["data"][0]["totals"], t["data"][0]["totals"]);
    let files = |v: &serde_json::Value| -> Vec<String> {
        v["data"][0]["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["filename"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(files(&a), files(&t));
    assert_eq!(files(&a).len(), 3, "{:?}", files(&a));
    assert!(
        a["data"][0]["totals"]["branches"]["count"]
            .as_u64()
            .unwrap()
            > 0
    );
    // And the rest too, byte for byte.
    assert_same_text(&ours, &theirs, "json --mangled against llvm-cov export");

    // Without --mangled only the names differ, demangled.
    let demangled = parse(&render(&cov, false, report::json::write));
    let names = |v: &serde_json::Value| -> Vec<String> {
        v["data"][0]["functions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap().to_string())
            .collect()
    };
    let expected: Vec<String> = names(&t)
        .iter()
        .map(|n| format!("{:#}", rustc_demangle::demangle(n)))
        .collect();
    assert_eq!(names(&demangled), expected);
    assert!(expected.contains(&"main::util::show::<i32>".to_string()));
}

#[test]
fn cobertura_is_valid_and_equals_lcov_lines() {
    let b = built();
    let cov = load(&b.covdir);
    let xml = cobertura_at(&cov, 1_700_000_000_000);
    let path = b.scratch.write("coverage.xml", &xml);
    // The DTD in tests/fixtures/xml is written from coverage-04.dtd's
    // published declarations (not a copy of the file).
    let dtd = fixture("coverage-04.dtd");
    xmllint_accepts(&path, &["--dtdvalid", dtd.to_str().unwrap()]);

    // <sources>: the recorded compilation directory; filenames relative
    // to it, joined they name the file (GitLab's mapping).
    let sources: Vec<&str> = xml
        .lines()
        .filter_map(|l| l.trim().strip_prefix("<source>"))
        .map(|l| l.strip_suffix("</source>").unwrap())
        .collect();
    assert_eq!(sources, [b.scratch.dir.to_str().unwrap()]);
    let lcov = render(&cov, false, report::lcov::write);
    let (da, brda) = (da(&lcov), brda(&lcov));
    let mut lines = BTreeMap::new();
    let mut branches = BTreeMap::new();
    let mut file = String::new();
    let mut in_method = false;
    let mut classes = Vec::new();
    for l in xml.lines().map(str::trim) {
        if l.starts_with("<class ") {
            let name = attr(l, "filename").unwrap();
            assert!(!name.starts_with('/'), "{name}");
            let on_disk = Path::new(sources[0]).join(&name);
            assert!(on_disk.is_file(), "{}", on_disk.display());
            file = on_disk.display().to_string();
            classes.push(name);
        } else if l.starts_with("<method ") {
            in_method = true;
        } else if l.starts_with("</method>") {
            in_method = false;
        } else if l.starts_with("<line ") && !in_method {
            let number: u32 = attr(l, "number").unwrap().parse().unwrap();
            let hits: u64 = attr(l, "hits").unwrap().parse().unwrap();
            assert!(lines.insert((file.clone(), number), hits).is_none());
            if attr(l, "branch").as_deref() == Some("true") {
                let cc = attr(l, "condition-coverage").unwrap();
                let (c, t) = cc
                    .split_once('(')
                    .unwrap()
                    .1
                    .trim_end_matches(')')
                    .split_once('/')
                    .unwrap();
                branches.insert(
                    (file.clone(), number),
                    (t.parse().unwrap(), c.parse().unwrap()),
                );
            }
        }
    }
    assert_eq!(
        classes,
        ["src/main.rs", "src/odd & <name>.rs", "src/util.rs"]
    );
    assert_eq!(lines, da, "Cobertura line hits are lcov's DA counts");
    assert!(!branches.is_empty());
    assert_eq!(
        branches, brda,
        "condition-coverage is BRDA's outcomes per line"
    );
    // The totals are the lines'.
    let head = xml.lines().find(|l| l.starts_with("<coverage ")).unwrap();
    let covered = da.values().filter(|&&c| c > 0).count();
    assert_eq!(attr(head, "lines-valid").unwrap(), da.len().to_string());
    assert_eq!(attr(head, "lines-covered").unwrap(), covered.to_string());
    assert_eq!(attr(head, "timestamp").unwrap(), "1700000000000");
    assert!(xml.contains("<package name=\"main\" "), "{xml}");
    assert!(xml.contains("<method name=\"main::util::show\" "), "{xml}");
}

/// The commands: `covdata cobertura|sonar|json` write what the library
/// writes; Cobertura's timestamp is the latest run of the inputs, or
/// SOURCE_DATE_EPOCH (set for the child only).
#[test]
fn commands_write_the_reports_and_the_timestamp_is_reproducible() {
    let b = built();
    let cov = load(&b.covdir);
    let input = format!("-i={}", b.covdir.display());
    let cli = |args: &[&str], epoch: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_covdata"));
        cmd.args(args).env_remove("SOURCE_DATE_EPOCH");
        if let Some(e) = epoch {
            cmd.env("SOURCE_DATE_EPOCH", e);
        }
        cmd.output().unwrap()
    };
    let ok = |args: &[&str], epoch: Option<&str>| {
        let out = cli(args, epoch);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    // make_covdir writes runs at 1_700_000_001_000_000_000 ns + seq.
    let first = ok(&["cobertura", &input], None);
    assert_eq!(first, cobertura_at(&cov, 1_700_000_001_000));
    assert_eq!(first, ok(&["cobertura", &input], None));
    assert_eq!(
        ok(&["cobertura", &input], Some("1234567890")),
        cobertura_at(&cov, 1_234_567_890_000)
    );
    let bad = cli(&["cobertura", &input], Some("yesterday"));
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("SOURCE_DATE_EPOCH=\"yesterday\""), "{err}");
    assert_eq!(
        ok(&["sonar", &input], None),
        render(&cov, false, report::sonar::write)
    );
    assert_eq!(
        ok(&["json", &input], None),
        render(&cov, false, report::json::write)
    );
    assert_eq!(
        ok(&["json", &input, "--mangled"], None),
        render(&cov, true, report::json::write)
    );
    // -o writes the file; a gate fails after writing it.
    let path = b.scratch.path("gated.xml");
    let out = cli(
        &[
            "cobertura",
            &input,
            &format!("-o={}", path.display()),
            "--fail-under-lines=100",
        ],
        Some("5"),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--fail-under-lines=100"));
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        cobertura_at(&cov, 5000)
    );
}

#[test]
fn sonar_is_valid_and_equals_lcov_lines() {
    let b = built();
    let cov = load(&b.covdir);
    let xml = render(&cov, false, report::sonar::write);
    let path = b.scratch.write("sonar.xml", &xml);
    // The schema in tests/fixtures/xml is written from Sonar's
    // documentation of the generic coverage format.
    let xsd = fixture("sonar-generic-coverage.xsd");
    xmllint_accepts(&path, &["--schema", xsd.to_str().unwrap()]);
    assert!(xml.contains("\n<coverage version=\"1\">\n"));

    let lcov = render(&cov, false, report::lcov::write);
    let (da, brda) = (da(&lcov), brda(&lcov));
    let mut lines = BTreeMap::new();
    let mut branches = BTreeMap::new();
    let mut file = String::new();
    let mut paths = Vec::new();
    for l in xml.lines().map(str::trim) {
        if l.starts_with("<file ") {
            let p = attr(l, "path").unwrap();
            file = b.scratch.dir.join(&p).display().to_string();
            paths.push(p);
        } else if l.starts_with("<lineToCover ") {
            let n: u32 = attr(l, "lineNumber").unwrap().parse().unwrap();
            lines.insert((file.clone(), n), attr(l, "covered").unwrap() == "true");
            if let Some(t) = attr(l, "branchesToCover") {
                let c = attr(l, "coveredBranches").unwrap();
                branches.insert((file.clone(), n), (t.parse().unwrap(), c.parse().unwrap()));
            }
        }
    }
    assert_eq!(paths, ["src/main.rs", "src/odd & <name>.rs", "src/util.rs"]);
    let expected: BTreeMap<_, _> = da.iter().map(|(k, &c)| (k.clone(), c > 0)).collect();
    assert_eq!(lines, expected);
    assert!(!branches.is_empty());
    assert_eq!(branches, brda);
    assert!(lines.values().any(|c| !c), "some line is uncovered");
}

#[test]
fn reports_are_byte_identical_when_written_again() {
    let b = built();
    let writers: [(&str, Writer); 3] = [
        ("json", report::json::write),
        ("sonar", report::sonar::write),
        ("lcov", report::lcov::write),
    ];
    // A second load of the same directory, so nothing is shared.
    let (one, two) = (load(&b.covdir), load(&b.covdir));
    for (name, write) in writers {
        assert_eq!(
            render(&one, false, write),
            render(&two, false, write),
            "{name}"
        );
    }
    assert_eq!(cobertura_at(&one, 5), cobertura_at(&two, 5));
}
