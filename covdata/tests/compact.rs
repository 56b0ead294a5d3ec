//! `covdata merge --in-place`: compaction of a directory into pools, a
//! crash between the pool's rename and the deletions, and readers running
//! while files are written and compacted.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use common::*;
use covwrap_rt::format::counters::{encode, CountersFile, CountersHeader};
use covwrap_rt::format::names::counters_file_name;

const PROGRAM: &str = r#"fn classify(n: i32) -> &'static str {
    if n < 0 {
        "negative"
    } else if n == 0 {
        "zero"
    } else {
        "positive"
    }
}

fn main() {
    for a in std::env::args().skip(1) {
        println!("{}", classify(a.parse().unwrap()));
    }
}
"#;

/// A COVDIR with the meta file of the program and one counter file of a
/// run; returns the directory and that counter file's bytes.
fn setup(s: &Scratch) -> (PathBuf, Vec<u8>) {
    s.write("main.rs", PROGRAM);
    rustc(&s.dir, &["main.rs", "-o", "main"], &[]);
    let bin = s.path("main");
    let profraw = s.path("a.profraw");
    run_profiled(&bin, &["-1", "0", "5", "7"], &profraw);
    let covdir = s.path("covdir");
    make_covdir(&covdir, std::slice::from_ref(&bin), &[profraw]);
    let file = first_counter_file(&covdir);
    let bytes = std::fs::read(&file).unwrap();
    std::fs::remove_file(file).unwrap();
    (covdir, bytes)
}

/// Writes a copy of the run `base` as if process `pid` wrote it at `ns`,
/// atomically (temporary name, then rename).
fn add_run(dir: &Path, base: &[u8], pid: u64, ns: u64) {
    let f = CountersFile::parse(base).unwrap();
    let header = CountersHeader {
        pid,
        start_ns: ns - 1,
        write_ns: ns,
        ..*f.header()
    };
    let bytes = encode(&header, f.args(), f.entries());
    let name = counters_file_name(&header.meta_hash, pid, ns);
    let tmp = dir.join(format!(".covtmp.{name}.{pid}"));
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(tmp, dir.join(name)).unwrap();
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn compact(dir: &Path, crash: bool) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_covdata"));
    cmd.args(["merge", "--in-place", &format!("-i={}", dir.display())]);
    if crash {
        cmd.env("COVDATA_TEST_CRASH_AFTER_RENAME", "1");
    }
    cmd.output().unwrap()
}

fn lcov(dir: &Path) -> String {
    covdata_ok(&["lcov", &format!("-i={}", dir.display())])
}

fn merged(dir: &Path, out: &Path) -> Vec<(String, Vec<u8>)> {
    covdata_ok(&[
        "merge",
        &format!("-i={}", dir.display()),
        &format!("-o={}", out.display()),
    ]);
    names(out)
        .into_iter()
        .map(|n| {
            let b = std::fs::read(out.join(&n)).unwrap();
            (n, b)
        })
        .collect()
}

#[test]
fn a_crash_after_the_rename_counts_nothing_twice() {
    let s = Scratch::new("compact-crash");
    let (covdir, base) = setup(&s);
    let reference = s.path("reference");
    std::fs::create_dir_all(&reference).unwrap();
    for e in std::fs::read_dir(&covdir).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), reference.join(e.file_name())).unwrap();
    }
    for i in 0..5 {
        add_run(&covdir, &base, 100 + i, 1_800_000_000_000_000_000 + i);
        add_run(&reference, &base, 100 + i, 1_800_000_000_000_000_000 + i);
    }
    let before = lcov(&covdir);
    assert!(before.contains("FNDA:20,main::classify"), "{before}");

    // Crash between the rename and the deletions.
    let out = compact(&covdir, true);
    assert_eq!(
        out.status.code(),
        Some(99),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listing = names(&covdir);
    let pool = listing
        .iter()
        .find(|n| n.ends_with(".0.0"))
        .expect("pool written");
    assert_eq!(
        listing
            .iter()
            .filter(|n| n.starts_with("covcounters."))
            .count(),
        6
    );
    let bytes = std::fs::read(covdir.join(pool)).unwrap();
    let pool_file = CountersFile::parse(&bytes).unwrap();
    assert_eq!(pool_file.header().runs, 5);
    assert_eq!(pool_file.header().pid, 0);
    let absorbed: Vec<&str> = pool_file
        .args()
        .iter()
        .filter(|(k, _)| k == "absorbed")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(absorbed.len(), 5);
    assert_same_text(&lcov(&covdir), &before, "after the crash");

    // Two more runs, then a complete compaction.
    for i in 5..7 {
        add_run(&covdir, &base, 100 + i, 1_800_000_000_000_000_000 + i);
        add_run(&reference, &base, 100 + i, 1_800_000_000_000_000_000 + i);
    }
    let expected = lcov(&reference);
    assert_same_text(&lcov(&covdir), &expected, "before compaction");
    let out = compact(&covdir, false);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\tfolded 2 files\truns 7"), "{text}");
    let listing = names(&covdir);
    assert_eq!(
        listing
            .iter()
            .filter(|n| n.starts_with("covcounters."))
            .collect::<Vec<_>>(),
        [pool]
    );
    assert!(listing.iter().any(|n| n.starts_with(".covlock.")));
    assert!(!listing.iter().any(|n| n.starts_with(".covtmp.")));
    assert_same_text(&lcov(&covdir), &expected, "after compaction");

    // Idempotent; and the pool merges like the files it holds.
    let pool_bytes = std::fs::read(covdir.join(pool)).unwrap();
    let out = compact(&covdir, false);
    assert!(out.status.success());
    assert_eq!(std::fs::read(covdir.join(pool)).unwrap(), pool_bytes);
    assert_eq!(
        merged(&covdir, &s.path("m1")),
        merged(&reference, &s.path("m2"))
    );
}

#[test]
fn readers_never_miss_or_double_count_during_compaction() {
    for with_lock_file in [false, true] {
        let s = Scratch::new(&format!("compact-race-{with_lock_file}"));
        let (covdir, base) = setup(&s);
        if with_lock_file {
            let meta = names(&covdir)
                .into_iter()
                .find(|n| n.starts_with("covmeta."))
                .unwrap();
            std::fs::write(
                covdir.join(format!(".covlock.{}", &meta["covmeta.".len()..])),
                b"",
            )
            .unwrap();
        }
        let base_counts: Vec<u64> = {
            let f = CountersFile::parse(&base).unwrap();
            let mut dense = vec![0; f.header().num_counters as usize];
            f.add_into(&mut dense);
            dense
        };
        // A run is "started" before its file becomes visible and "finished"
        // after, so a reader must count between finished (read before it
        // loads) and started (read after).
        let started = Arc::new(AtomicU64::new(0));
        let finished = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicBool::new(false));
        const RUNS: u64 = 60;
        let writer = {
            let (dir, base, started, finished) = (
                covdir.clone(),
                base.clone(),
                started.clone(),
                finished.clone(),
            );
            std::thread::spawn(move || {
                for i in 0..RUNS {
                    started.fetch_add(1, Ordering::SeqCst);
                    add_run(&dir, &base, 1000 + i, 1_800_000_000_000_000_000 + i);
                    finished.fetch_add(1, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(3));
                }
            })
        };
        let compactor = {
            let (dir, done) = (covdir.clone(), done.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !done.load(Ordering::SeqCst) {
                    let out = compact(&dir, false);
                    assert!(
                        out.status.success(),
                        "{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                    n += 1;
                }
                n
            })
        };
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let (dir, started, finished, done, base_counts) = (
                    covdir.clone(),
                    started.clone(),
                    finished.clone(),
                    done.clone(),
                    base_counts.clone(),
                );
                std::thread::spawn(move || {
                    let mut reads = 0;
                    while !done.load(Ordering::SeqCst) {
                        let lo = finished.load(Ordering::SeqCst);
                        let loaded = covdata::load(std::slice::from_ref(&dir), Default::default())
                            .unwrap_or_else(|e| panic!("read failed: {e}"));
                        let hi = started.load(Ordering::SeqCst);
                        let counters = &loaded.pods[0].counters;
                        let i = base_counts.iter().position(|&c| c > 0).unwrap();
                        let k = counters[i] / base_counts[i];
                        assert!(
                            counters.iter().zip(&base_counts).all(|(c, b)| *c == k * b),
                            "not a whole number of runs"
                        );
                        assert!(lo <= k && k <= hi, "{k} runs counted, {lo}..={hi} written");
                        assert_eq!(loaded.pods[0].total_runs(), k);
                        reads += 1;
                    }
                    reads
                })
            })
            .collect();
        writer.join().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
        done.store(true, Ordering::SeqCst);
        let compactions = compactor.join().unwrap();
        let reads: usize = readers.into_iter().map(|r| r.join().unwrap()).sum();
        assert!(
            compactions > 1 && reads > 1,
            "{compactions} compactions, {reads} reads"
        );
        let out = compact(&covdir, false);
        assert!(out.status.success());
        let loaded = covdata::load(std::slice::from_ref(&covdir), Default::default()).unwrap();
        let expected: Vec<u64> = base_counts.iter().map(|c| c * RUNS).collect();
        assert_eq!(loaded.pods[0].counters, expected);
        assert_eq!(
            names(&covdir)
                .iter()
                .filter(|n| n.starts_with("covcounters."))
                .count(),
            1
        );
    }
}

#[test]
fn bad_files_stop_compaction_or_are_left_alone() {
    let s = Scratch::new("compact-bad");
    let (covdir, base) = setup(&s);
    add_run(&covdir, &base, 7, 1_800_000_000_000_000_000);
    let bad = covdir.join(counters_file_name(
        &CountersFile::parse(&base).unwrap().header().meta_hash,
        8,
        1_800_000_000_000_000_001,
    ));
    std::fs::write(&bad, &base[..base.len() - 3]).unwrap();
    let before = names(&covdir);
    let out = compact(&covdir, false);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!("covdata: {}: truncated", bad.display())),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(
        names(&covdir)
            .into_iter()
            .filter(|n| !n.starts_with(".covlock"))
            .collect::<Vec<_>>(),
        before
    );

    let out = Command::new(env!("CARGO_BIN_EXE_covdata"))
        .args([
            "merge",
            "--in-place",
            "--ignore-bad",
            &format!("-i={}", covdir.display()),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.ends_with("covdata: warning: skipped 1 bad input\n"),
        "{err}"
    );
    // The bad file stays; the good one is in the pool.
    assert!(bad.exists());
    assert_eq!(
        names(&covdir)
            .iter()
            .filter(|n| n.starts_with("covcounters."))
            .count(),
        2
    );

    // Usage errors.
    for args in [
        vec!["merge", "--in-place"],
        vec!["merge", "--in-place", "-i=a,b"],
        vec!["merge", "--in-place", "-i=a", "-o=b"],
        vec!["merge", "--in-place", "--pcombine", "-i=a"],
        vec!["lcov", "--in-place", "-i=a"],
    ] {
        let out = covdata(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
