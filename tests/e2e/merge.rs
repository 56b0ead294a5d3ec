//! `covdata merge`, `--pcombine`, `subtract`, `intersect` and
//! `merge --in-place` on covwrap builds: the workspace example's test
//! binaries and its app, and a program run concurrently with compaction.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use covdata::model::Function;

use crate::support::*;

fn covdata(args: &[&str]) -> String {
    let out = Command::new(covdata_exe()).args(args).output().unwrap();
    assert_success(&out, &format!("covdata {}", args.join(" ")));
    assert_eq!(stderr(&out), "", "covdata {}", args.join(" "));
    stdout(&out)
}

fn same(a: &str, b: &str, what: &str) {
    if a != b {
        let line = a
            .lines()
            .zip(b.lines())
            .position(|(x, y)| x != y)
            .unwrap_or(0);
        panic!(
            "{what}: differ at line {}:\n{:?}\n{:?}",
            line + 1,
            a.lines().nth(line),
            b.lines().nth(line)
        );
    }
}

/// The workspace example: `cargo test` (every test binary, doctests
/// included) into one COVDIR, two runs of the app into another.
fn workspace_data() -> (PathBuf, PathBuf) {
    let p = Project::example("workspace");
    let tests = scratch("ws-merge-tests");
    p.cargo_with(&["test"], &[("COVDIR", tests.as_ref())]);
    p.cargo(&["build"]);
    let app_cov = scratch("ws-merge-app");
    let app = p.exe("debug", "app");
    for args in [&[][..], &["--verbose", "3", "1", "2"]] {
        let out = run(&app, args, Some(&app_cov));
        assert!(out.status.success(), "{}", stderr(&out));
    }
    (tests, app_cov)
}

/// Reports of `dirs` read together.
fn reports(dirs: &str) -> Vec<String> {
    let i = format!("-i={dirs}");
    ["lcov", "percent", "func", "textfmt", "pkglist"]
        .iter()
        .map(|c| covdata(&[c, &i]))
        .collect()
}

fn load(dir: &Path) -> covdata::Coverage {
    covdata::load_coverage(&[dir.to_path_buf()], false).unwrap()
}

#[test]
fn merged_and_combined_workspace_data_reports_like_its_inputs() {
    let (tests, app) = workspace_data();
    let both = format!("{},{}", tests.display(), app.display());
    let expected = reports(&both);
    assert!(expected[0].contains("SF:"));
    let pods = CovDir::read(&tests).metas.len() + CovDir::read(&app).metas.len();
    assert!(pods >= 6, "{pods} pods");
    for pcombine in [false, true] {
        let out = scratch("ws-merged");
        let mut args = vec![
            "merge".to_string(),
            format!("-i={both}"),
            format!("-o={}", out.display()),
        ];
        if pcombine {
            args.push("--pcombine".into());
        }
        let cmd = Command::new(covdata_exe()).args(&args).output().unwrap();
        assert_success(&cmd, "covdata merge");
        let dir = CovDir::read(&out);
        dir.assert_clean();
        assert_eq!(dir.metas.len(), if pcombine { 1 } else { pods });
        let names: Vec<String> = ["lcov", "percent", "func", "textfmt", "pkglist"]
            .map(String::from)
            .to_vec();
        for (report, (got, want)) in names
            .iter()
            .zip(reports(&out.display().to_string()).iter().zip(&expected))
        {
            same(got, want, &format!("{report} (pcombine: {pcombine})"));
        }
        let runs: u32 = dir.counter_files().map(|f| f.header().runs).sum();
        let input_runs = CovDir::read(&tests).counters.len() + 2;
        assert_eq!(runs as usize, input_runs);
    }
}

/// A region's start, end, kind and count.
type Place = ((u32, u32), (u32, u32), u8, u64);

/// The regions of a function, to compare across inputs.
fn places(f: &Function) -> Vec<Place> {
    f.regions
        .iter()
        .map(|r| (r.start(), r.end(), r.kind as u8, r.count))
        .collect()
}

#[test]
fn subtract_and_intersect_across_binaries() {
    let (tests, app) = workspace_data();
    let sub = scratch("ws-sub");
    let int = scratch("ws-int");
    let pair = format!("-i={},{}", app.display(), tests.display());
    covdata(&["subtract", &pair, &format!("-o={}", sub.display())]);
    covdata(&["intersect", &pair, &format!("-o={}", int.display())]);
    let (a, b, s, i) = (load(&app), load(&tests), load(&sub), load(&int));
    assert_eq!(a.functions.len(), s.functions.len());
    assert_eq!(a.functions.len(), i.functions.len());
    let in_tests = |f: &Function| {
        b.functions
            .iter()
            .find(|g| (g.name_ref, g.func_hash) == (f.name_ref, f.func_hash))
            .map(places)
    };
    let (mut kept, mut dropped, mut shared) = (0, 0, 0);
    for ((fa, fs), fi) in a.functions.iter().zip(&s.functions).zip(&i.functions) {
        assert_eq!((&fa.name, fa.func_hash), (&fs.name, fs.func_hash));
        let other = in_tests(fa);
        for (n, ((ra, rs), ri)) in places(fa)
            .iter()
            .zip(places(fs))
            .zip(places(fi))
            .enumerate()
        {
            assert_eq!((ra.0, ra.1, ra.2), (rs.0, rs.1, rs.2));
            // The count of the same place in the tests (0 if absent).
            let tb = other
                .as_ref()
                .and_then(|o| {
                    o.iter()
                        .filter(|p| (p.0, p.1, p.2) == (ra.0, ra.1, ra.2))
                        .nth(
                            places(fa)[..n]
                                .iter()
                                .filter(|p| (p.0, p.1, p.2) == (ra.0, ra.1, ra.2))
                                .count(),
                        )
                })
                .map_or(0, |p| p.3);
            assert_eq!(
                rs.3,
                if tb == 0 { ra.3 } else { 0 },
                "subtract: {} {:?}",
                fa.name,
                ra
            );
            assert_eq!(
                ri.3,
                if tb != 0 { ra.3 } else { 0 },
                "intersect: {} {:?}",
                fa.name,
                ra
            );
            match (ra.3 != 0, rs.3 != 0) {
                (true, true) => kept += 1,
                (true, false) => dropped += 1,
                _ => {}
            }
            shared += usize::from(ri.3 != 0);
        }
    }
    // The app reaches code no test reaches (its main), and both reach
    // the libraries.
    assert!(
        kept > 0 && dropped > 0 && shared > 0,
        "{kept} {dropped} {shared}"
    );
}

const PROGRAM: &str = r#"
#[inline(never)]
fn marker() -> u64 { 7 }
fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    std::thread::sleep(std::time::Duration::from_millis(n % 5));
    println!("{}", marker() + n);
}
"#;

/// (runs, marker executions) of a COVDIR, as every covdata command reads it.
fn tally(cov: &Path) -> (u64, u64) {
    runs_and_executions(cov, "6marker")
}

#[test]
fn compaction_while_programs_run_and_readers_read() {
    let p = Project::bin("compacted", PROGRAM, "");
    p.cargo(&["build"]);
    let exe = p.exe("debug", "compacted");
    let cov = scratch("compact-e2e");
    const RUNS: u64 = 80;
    let finished = Arc::new(AtomicU64::new(0));
    let started = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let runner = {
        let (exe, cov, finished, started) =
            (exe.clone(), cov.clone(), finished.clone(), started.clone());
        std::thread::spawn(move || {
            for batch in 0..RUNS / 4 {
                let children: Vec<_> = (0..4)
                    .map(|k| {
                        started.fetch_add(1, Ordering::SeqCst);
                        let mut cmd = Command::new(&exe);
                        cmd.arg((batch * 4 + k).to_string())
                            .env("COVDIR", &cov)
                            .stdout(Stdio::null());
                        // Half fold into the pool themselves.
                        if k % 2 == 0 {
                            cmd.env("COVWRAP_MERGE", "1");
                        }
                        cmd.spawn().unwrap()
                    })
                    .collect();
                for mut c in children {
                    assert!(c.wait().unwrap().success());
                    finished.fetch_add(1, Ordering::SeqCst);
                }
            }
        })
    };
    let compactor = {
        let (cov, done) = (cov.clone(), done.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !done.load(Ordering::SeqCst) {
                std::thread::sleep(std::time::Duration::from_millis(5));
                if std::fs::read_dir(&cov).map_or(true, |d| d.count() == 0) {
                    continue;
                }
                let out = Command::new(covdata_exe())
                    .args(["merge", "--in-place", &format!("-i={}", cov.display())])
                    .output()
                    .unwrap();
                assert_success(&out, "covdata merge --in-place");
                n += 1;
            }
            n
        })
    };
    let mut reads = 0;
    while !runner.is_finished() {
        std::thread::sleep(std::time::Duration::from_millis(5));
        let lo = finished.load(Ordering::SeqCst);
        if lo == 0 {
            continue;
        }
        let (runs, marker) = tally(&cov);
        let hi = started.load(Ordering::SeqCst);
        assert_eq!(runs, marker, "runs and counts disagree");
        assert!(
            lo <= marker && marker <= hi,
            "{marker} runs counted, {lo}..={hi}"
        );
        reads += 1;
    }
    runner.join().unwrap();
    done.store(true, Ordering::SeqCst);
    let compactions = compactor.join().unwrap();
    assert!(
        reads > 0 && compactions > 0,
        "{reads} reads, {compactions} compactions"
    );
    assert_eq!(tally(&cov), (RUNS, RUNS));
    let out = Command::new(covdata_exe())
        .args(["merge", "--in-place", &format!("-i={}", cov.display())])
        .output()
        .unwrap();
    assert_success(&out, "final compaction");
    let dir = CovDir::read(&cov);
    assert_eq!(dir.counters.len(), 1, "everything is in the pool");
    assert_eq!(tally(&cov), (RUNS, RUNS));
}
