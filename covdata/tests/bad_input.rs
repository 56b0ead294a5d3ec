//! Bad input: every problem is one line `covdata: <path>: <problem>` on
//! stderr and exit status 1 (2 for usage), never a panic; `--ignore-bad`
//! turns bad files into warnings and still reports.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use common::*;
use covwrap_rt::format::meta::MetaFile;

const PROGRAM: &str = r#"
fn classify(n: i32) -> &'static str { if n < 0 { "neg" } else if n == 0 { "zero" } else { "pos" } }
fn main() { for a in std::env::args().skip(1) { println!("{}", classify(a.parse().unwrap())); } }
"#;

/// The files of a valid COVDIR (one meta, two counter files), built once
/// and kept in memory.
fn fixture() -> &'static Vec<(String, Vec<u8>)> {
    static FILES: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    FILES.get_or_init(|| {
        let s = Scratch::new("bad-fixture");
        s.write("main.rs", PROGRAM);
        rustc(&s.dir, &["main.rs", "-o", "main"], &[]);
        let bin = s.path("main");
        two_runs_covdir(&s.dir, &bin, &["1", "-2"], &["0"]);
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(s.path("covdir"))
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let name = e.file_name().to_string_lossy().into_owned();
                (name, std::fs::read(e.path()).unwrap())
            })
            .collect();
        files.sort();
        files
    })
}

/// A copy of the fixture in its own scratch directory.
fn covdir(s: &Scratch) -> PathBuf {
    let dir = s.path("covdir");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in fixture() {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    dir
}

/// The fixture's meta file.
fn fixture_meta() -> &'static [u8] {
    &fixture()
        .iter()
        .find(|(n, _)| n.starts_with("covmeta."))
        .unwrap()
        .1
}

fn files(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect();
    v.sort();
    v
}

/// Runs covdata and checks the exit code and the exact stderr.
fn expect_error(args: &[&str], code: i32, stderr: &str) {
    let out = covdata(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err, stderr, "covdata {args:?}");
    assert_eq!(out.status.code(), Some(code), "covdata {args:?}: {err}");
    assert!(out.stdout.is_empty(), "covdata {args:?} wrote a report");
}

fn input(dir: &Path) -> String {
    format!("-i={}", dir.display())
}

#[test]
fn valid_fixture_reports() {
    let s = Scratch::new("bad-valid");
    let dir = covdir(&s);
    let out = covdata_ok(&["percent", &input(&dir)]);
    assert!(out.contains("total"), "{out}");
}

#[test]
fn truncated_counter_file() {
    let s = Scratch::new("bad-trunc");
    let dir = covdir(&s);
    let c = &files(&dir, "covcounters.")[0];
    let bytes = std::fs::read(c).unwrap();
    std::fs::write(c, &bytes[..bytes.len() - 8]).unwrap();
    expect_error(
        &["lcov", &input(&dir)],
        1,
        &format!(
            "covdata: {}: truncated: no valid footer in {} bytes (the writer did not finish)\n",
            c.display(),
            bytes.len() - 8
        ),
    );
}

#[test]
fn corrupt_counter_file() {
    let s = Scratch::new("bad-corrupt");
    let dir = covdir(&s);
    let c = &files(&dir, "covcounters.")[1];
    let mut bytes = std::fs::read(c).unwrap();
    let at = bytes.len() - 20;
    bytes[at] ^= 0x55;
    std::fs::write(c, &bytes).unwrap();
    expect_error(
        &["percent", &input(&dir)],
        1,
        &format!("covdata: {}: corrupt: checksum mismatch\n", c.display()),
    );
}

#[test]
fn foreign_meta_file() {
    let s = Scratch::new("bad-foreign");
    let dir = covdir(&s);
    let m = &files(&dir, "covmeta.")[0];
    std::fs::write(m, "this is not coverage data\n").unwrap();
    expect_error(
        &["func", &input(&dir)],
        1,
        &format!(
            "covdata: {}: wrong magic: not a covmeta file\n",
            m.display()
        ),
    );
}

#[test]
fn meta_renamed_to_another_hash() {
    let s = Scratch::new("bad-renamed");
    let dir = covdir(&s);
    let m = &files(&dir, "covmeta.")[0];
    let real = m.file_name().unwrap().to_string_lossy()["covmeta.".len()..].to_string();
    let fake = "0123456789abcdef0123456789abcdef";
    let moved = dir.join(format!("covmeta.{fake}"));
    std::fs::rename(m, &moved).unwrap();
    // The counter files are orphans now and the meta file lies about H.
    let counters = files(&dir, "covcounters.");
    expect_error(
        &["pkglist", &input(&dir)],
        1,
        &format!(
            "covdata: {}: no covmeta.{real} in the input directories for this counter file\n",
            counters[0].display()
        ),
    );
    for c in &counters {
        std::fs::remove_file(c).unwrap();
    }
    expect_error(
        &["pkglist", &input(&dir)],
        1,
        &format!(
            "covdata: {}: corrupt: file name says H {fake} but the content hashes to {real}\n",
            moved.display()
        ),
    );
}

#[test]
fn orphan_counter_file() {
    let s = Scratch::new("bad-orphan");
    let dir = covdir(&s);
    let m = &files(&dir, "covmeta.")[0];
    let name = m.file_name().unwrap().to_string_lossy().into_owned();
    std::fs::remove_file(m).unwrap();
    let c = &files(&dir, "covcounters.")[0];
    expect_error(
        &["lcov", &input(&dir)],
        1,
        &format!(
            "covdata: {}: no {name} in the input directories for this counter file\n",
            c.display()
        ),
    );
    // With --ignore-bad every orphan is a warning, and no pod is left.
    let out = covdata(&["lcov", &input(&dir), "--ignore-bad"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 4, "{err}");
    assert!(
        lines[0].starts_with("covdata: warning: ") && lines[0].ends_with("for this counter file")
    );
    assert_eq!(lines[2], "covdata: warning: skipped 2 bad inputs");
    assert_eq!(
        lines[3],
        format!(
            "covdata: {}: no coverage data (no covmeta file)",
            dir.display()
        )
    );
}

#[test]
fn unknown_meta_version() {
    let s = Scratch::new("bad-version");
    let dir = covdir(&s);
    let m = &files(&dir, "covmeta.")[0];
    let mut bytes = std::fs::read(m).unwrap();
    bytes[8] = 3;
    std::fs::write(m, &bytes).unwrap();
    expect_error(
        &["textfmt", &input(&dir)],
        1,
        &format!(
            "covdata: {}: unsupported version: covmeta version 3; this build reads versions 1 to 2\n",
            m.display()
        ),
    );
}

#[test]
fn unknown_llvm_coverage_mapping_version() {
    let s = Scratch::new("bad-covmap");
    let dir = s.path("covdir");
    std::fs::create_dir_all(&dir).unwrap();
    let mut b = MetaFile::parse(fixture_meta())
        .unwrap()
        .to_builders()
        .remove(0);
    b.covmap[12] = 7; // the first covmap header's Version field
    let (bytes, hash) = b.encode();
    let m = dir.join(covwrap_rt::format::names::meta_file_name(&hash));
    std::fs::write(&m, bytes).unwrap();
    expect_error(
        &["lcov", &input(&dir)],
        1,
        &format!(
            "covdata: {}: LLVM coverage mapping version 8 (stored as 7) is not supported; \
             covdata reads version 7 (stored as 6), as written by LLVM 18 to 22\n",
            m.display()
        ),
    );
}

#[test]
fn counter_count_mismatch() {
    let s = Scratch::new("bad-count");
    let dir = covdir(&s);
    let c = &files(&dir, "covcounters.")[0];
    let bytes = std::fs::read(c).unwrap();
    let f = covwrap_rt::format::counters::CountersFile::parse(&bytes).unwrap();
    let mut header = *f.header();
    let real = header.num_counters;
    header.num_counters = real + 5;
    let entries: Vec<_> = f.entries().collect();
    std::fs::write(
        c,
        covwrap_rt::format::counters::encode(&header, f.args(), entries),
    )
    .unwrap();
    expect_error(
        &["percent", &input(&dir)],
        1,
        &format!(
            "covdata: {}: {} counters, but its meta file describes {real}\n",
            c.display(),
            real + 5
        ),
    );
}

#[test]
fn empty_and_missing_directories() {
    let s = Scratch::new("bad-dirs");
    let empty = s.path("empty");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("notes.txt"), "ignored").unwrap();
    expect_error(
        &["percent", &input(&empty)],
        1,
        &format!(
            "covdata: {}: no covmeta or covcounters files in this directory\n",
            empty.display()
        ),
    );
    let missing = s.path("missing");
    expect_error(
        &["percent", &input(&missing)],
        1,
        &format!(
            "covdata: input directory {} does not exist\n",
            missing.display()
        ),
    );
    // An empty directory next to a good one: a warning, not a bad input.
    let good = covdir(&s);
    let both = format!("-i={},{}", good.display(), empty.display());
    for extra in [None, Some("--ignore-bad")] {
        let mut args = vec!["percent", both.as_str()];
        args.extend(extra);
        let out = covdata(&args);
        assert!(out.status.success(), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!(
                "covdata: warning: {}: no covmeta or covcounters files in this directory\n",
                empty.display()
            )
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("total"));
    }
}

#[test]
fn ignore_bad_skips_a_bad_counter_file() {
    let s = Scratch::new("bad-ignore");
    let dir = covdir(&s);
    let counters = files(&dir, "covcounters.");
    let good = covdata_ok(&["lcov", &input(&dir)]);
    // Only the second run's counters remain once the first is truncated.
    let bytes = std::fs::read(&counters[0]).unwrap();
    std::fs::write(&counters[0], &bytes[..100]).unwrap();
    let out = covdata(&["lcov", &input(&dir), "--ignore-bad"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err,
        format!(
            "covdata: warning: {}: truncated: no valid footer in 100 bytes (the writer did not finish)\n\
             covdata: warning: skipped 1 bad input\n",
            counters[0].display()
        )
    );
    let partial = String::from_utf8(out.stdout).unwrap();
    assert!(partial.contains("end_of_record"));
    assert_ne!(partial, good, "the bad file's counts must be left out");
}

#[test]
fn usage_errors() {
    let out = covdata(&["frobnicate", "-i=x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .starts_with("covdata: unknown command \"frobnicate\"\n"));
    let out = covdata(&["lcov"]);
    assert_eq!(out.status.code(), Some(2));
    let out = covdata(&["lcov", "-i=x", "--bogus"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(covdata(&["--help"]).status.success());
}

#[test]
fn flag_spellings_and_output_file() {
    let s = Scratch::new("bad-flags");
    let dir = covdir(&s);
    let d = dir.display().to_string();
    let reference = covdata_ok(&["pkglist", &format!("-i={d}")]);
    for args in [
        vec!["pkglist", "-i", &d],
        vec!["pkglist", "--i", &d],
        vec!["pkglist", &format!("--i={d}")],
        vec!["pkglist", "--input", &d],
        vec!["pkglist", &format!("--input={d}"), "-pkg=ma*"],
        vec!["pkglist", &format!("--input={d}"), "--pkg", "m?in,zzz"],
    ] {
        assert_eq!(covdata_ok(&args), reference, "{args:?}");
    }
    expect_error(
        &["pkglist", "-i", &d, "--pkg=other"],
        1,
        "covdata: --pkg=other matches no crate of the inputs (crates present: main)\n",
    );
    let out = s.path("cov.txt");
    let o = format!("-o={}", out.display());
    assert_eq!(covdata_ok(&["textfmt", "-i", &d, &o]), "");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("mode: count\n"), "{text}");
    // Nothing but the output is left in its directory.
    let names: Vec<_> = std::fs::read_dir(&s.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("tmp"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

#[test]
fn closed_stdout_is_not_an_error() {
    let s = Scratch::new("bad-pipe");
    let dir = covdir(&s);
    let mut child = Command::new(env!("CARGO_BIN_EXE_covdata"))
        .args(["debugdump", &input(&dir)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Flipped or cut bytes anywhere in the LLVM sections of a valid meta
/// file give an error or a report, never a panic.
#[test]
fn corrupted_llvm_sections_never_panic() {
    let base = MetaFile::parse(fixture_meta())
        .unwrap()
        .to_builders()
        .remove(0);
    let build = |b: &covwrap_rt::format::meta::MetaBuilder| {
        let (bytes, hash) = b.encode();
        let pod = covdata::Pod::from_meta_bytes(bytes, Some(&hash)).unwrap();
        let loaded = covdata::Loaded {
            pods: vec![pod],
            skipped: Vec::new(),
        };
        if let Ok(cov) = covdata::Coverage::build(loaded, false) {
            let ctx = covdata::report::Context::new(&cov, Default::default());
            let mut sink = Vec::new();
            covdata::report::lcov::write(&ctx, &mut sink).unwrap();
            covdata::report::textfmt::write(&ctx, &mut sink).unwrap();
        }
    };
    type Section = fn(&mut covwrap_rt::format::meta::MetaBuilder) -> &mut Vec<u8>;
    let sections: [Section; 3] = [|b| &mut b.names, |b| &mut b.covmap, |b| &mut b.covfun];
    for section in sections {
        let len = section(&mut base.clone()).len();
        for i in 0..len {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut b = base.clone();
                section(&mut b)[i] ^= mask;
                build(&b);
            }
            let mut b = base.clone();
            section(&mut b).truncate(i);
            build(&b);
        }
    }
}

/// A covmeta of the fixture's program whose names section is a zlib bomb:
/// about 1 MB of deflate (kept in tests/fixtures/bombs) that inflates to
/// 1 GiB of zeros and says so. Once took 2.1 GB and seconds to reject.
fn names_bomb_covdir(s: &Scratch) -> (PathBuf, PathBuf) {
    use covwrap_rt::format::meta::encode_modules;
    let stream = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bombs/names-1gib-of-zeros.zlib"),
    )
    .unwrap();
    let mut modules = MetaFile::parse(fixture_meta()).unwrap().to_builders();
    let mut names = Vec::new();
    covwrap_rt::format::leb128::push(&mut names, 1 << 30);
    covwrap_rt::format::leb128::push(&mut names, stream.len() as u64);
    names.extend_from_slice(&stream);
    modules[0].names = names;
    let (bytes, hash) = encode_modules(&modules);
    let dir = s.path("bomb");
    std::fs::create_dir_all(&dir).unwrap();
    let meta = dir.join(covwrap_rt::format::names::meta_file_name(&hash));
    std::fs::write(&meta, bytes).unwrap();
    (dir, meta)
}

/// covdata with its address space limited to `mib` MiB (RLIMIT_AS): an
/// allocation beyond it fails, so success means the input was rejected
/// without allocating what it claims.
fn covdata_within(mib: u64, args: &[&str]) -> std::process::Output {
    Command::new("prlimit")
        .arg(format!("--as={}", mib << 20))
        .arg(env!("CARGO_BIN_EXE_covdata"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("prlimit (util-linux)")
}

#[test]
fn names_zlib_bomb_is_rejected_without_allocating_what_it_claims() {
    let s = Scratch::new("bad-bomb");
    let (dir, meta) = names_bomb_covdir(&s);
    let out_dir = s.path("merged");
    let bomb = input(&dir);
    let output = format!("-o={}", out_dir.display());
    let text = format!("-o={}", s.path("cov.txt").display());
    for args in [
        vec!["percent", &bomb],
        vec!["textfmt", &bomb, &text],
        vec!["merge", &bomb, &output],
    ] {
        // Far below the 1 GiB claimed; the same limit lets the valid
        // fixture through (checked below).
        let out = covdata_within(256, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with(&format!("covdata: {}: ", meta.display()))
                && err.contains("decompression bomb"),
            "{args:?}: {err}"
        );
    }
    assert!(!out_dir.exists(), "merge copied the bomb");
    let valid = covdir(&s);
    let out = covdata_within(256, &["percent", &input(&valid)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn meta_whose_content_changed_fails_with_its_runs() {
    // H is checked while the runs are read: a meta file that decodes but
    // does not hash to its H still fails the load, before any report,
    // and with --ignore-bad its runs are set aside with it.
    let s = Scratch::new("bad-meta-content");
    let dir = covdir(&s);
    let m = files(&dir, "covmeta.")[0].clone();
    let mut bytes = std::fs::read(&m).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&m, &bytes).unwrap();
    expect_error(
        &["lcov", &input(&dir)],
        1,
        &format!(
            "covdata: {}: corrupt: content does not match its hash\n",
            m.display()
        ),
    );
    let out = covdata(&["lcov", &input(&dir), "--ignore-bad"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(out.stdout.is_empty(), "a report without data: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "covdata: warning: {}: corrupt: content does not match its hash (skipped with its 2 counter files)",
            m.display()
        ),
        "{err}"
    );
}
