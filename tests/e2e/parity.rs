//! Parity with LLVM's own tools, on covwrap builds of the examples and of
//! real crates from crates.io running their own test suites:
//!
//! 1. from the same runs, `covdata lcov` equals llvm-cov-22's LCOV for the
//!    raw profiles `covdata profraw` exports, and `covdata percent` totals
//!    equal `llvm-cov-22 report` totals;
//! 2. an independent plain `RUSTFLAGS=-Cinstrument-coverage` build, run the
//!    same way with LLVM's own profile files, gives every line of the
//!    project's own files the same covered/uncovered status.
//!
//! Requires llvm-profdata-22 and llvm-cov-22 (`.ci/run` installs them).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

fn llvm(tool: &str) -> Command {
    let name = format!("{tool}-22");
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(&name).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "{name} not found on PATH; install Debian's llvm-22 (.ci/run does)"
    );
    Command::new(name)
}

fn covdata(args: &[&str]) -> String {
    let out = Command::new(covdata_exe()).args(args).output().unwrap();
    assert_success(&out, &format!("covdata {}", args.join(" ")));
    stdout(&out)
}

fn ok(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap();
    assert_success(&out, what);
    stdout(&out)
}

/// How to exercise a project: a cargo command run by both builds, plus
/// direct runs of one of its binaries.
struct Workload<'a> {
    cargo: &'a [&'a str],
    runs: &'a [&'a [&'a str]],
    bin: &'a str,
    /// COVWRAP_PKG for the covwrap build (proc-macro unit tests are
    /// measured only when named, the plain build measures them).
    pkg: &'a str,
}

/// `llvm-profdata merge` of `profraws` into `profdata`.
fn llvm_merge(profraws: &[PathBuf], profdata: &Path, what: &str) {
    ok(
        llvm("llvm-profdata")
            .arg("merge")
            .args(profraws)
            .arg("-o")
            .arg(profdata),
        what,
    );
}

/// `llvm-cov <args> -instr-profile <profdata>` over `objects` (the first
/// as the main object, the others as `-object`s).
fn llvm_cov(args: &[&str], profdata: &Path, objects: &[impl AsRef<OsStr>]) -> Command {
    let mut cmd = llvm("llvm-cov");
    cmd.args(args)
        .arg("-instr-profile")
        .arg(profdata)
        .arg(&objects[0]);
    for o in &objects[1..] {
        cmd.arg("-object").arg(o);
    }
    cmd
}

/// Check 1 on a COVDIR written by covwrap builds.
fn check_against_exported_profraw(covdir: &Path, scratch_dir: &Path) {
    let i = format!("-i={}", covdir.display());
    // llvm-cov reports every file: so does covdata with --include-tests.
    let ours = covdata(&["lcov", "--mangled", "--include-tests", &i]);
    let exported = scratch_dir.join("exported");
    // One line per pod, in pod order: "<profraw>\tbuild-id=..\texe=..".
    let listing = covdata(&["profraw", &i, &format!("-o={}", exported.display())]);
    let mut profraws = Vec::new();
    let mut objects = Vec::new();
    for line in listing.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        profraws.push(PathBuf::from(fields[0]));
        let exe = fields.iter().find_map(|f| f.strip_prefix("exe=")).unwrap();
        assert!(Path::new(exe).exists(), "binary {exe} is gone");
        objects.push(exe.to_string());
    }
    let profdata = scratch_dir.join("exported.profdata");
    llvm_merge(&profraws, &profdata, "llvm-profdata merge");
    let theirs = ok(
        &mut llvm_cov(&["export", "-format=lcov"], &profdata, &objects),
        "llvm-cov export",
    );
    assert_same_lines(
        &ours,
        &theirs,
        "covdata lcov vs llvm-cov on exported profraw",
    );
    let llvm_total = totals_from_llvm_report(&ok(
        &mut llvm_cov(&["report"], &profdata, &objects),
        "llvm-cov report",
    ));
    let our_total = totals_from_percent(&covdata(&["percent", "--include-tests", &i]));
    assert_eq!(
        our_total, llvm_total,
        "percent totals (lines, regions, functions)"
    );
}

fn assert_same_lines(ours: &str, theirs: &str, what: &str) {
    if ours != theirs {
        let (a, b): (Vec<&str>, Vec<&str>) = (ours.lines().collect(), theirs.lines().collect());
        let first = a
            .iter()
            .zip(&b)
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len()));
        panic!(
            "{what}: first difference at line {}:\n ours:   {:?}\n theirs: {:?}\n({} vs {} lines)",
            first + 1,
            a.get(first),
            b.get(first),
            a.len(),
            b.len()
        );
    }
}

/// (covered, total) for lines, regions, functions.
type Totals = [(u64, u64); 3];

fn totals_from_llvm_report(text: &str) -> Totals {
    // TOTAL  regions missed cover%  functions missed executed%  lines missed cover%  [branches...]
    let total = text
        .lines()
        .find(|l| l.starts_with("TOTAL"))
        .expect("TOTAL line");
    let n: Vec<u64> = total
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    let pair = |count: u64, missed: u64| (count - missed, count);
    [pair(n[4], n[5]), pair(n[0], n[1]), pair(n[2], n[3])]
}

fn totals_from_percent(text: &str) -> Totals {
    // total  L% (covered/total)  R% (covered/total)  F% (covered/total)
    let total = text
        .lines()
        .find(|l| l.starts_with("total"))
        .expect("total line");
    let pairs: Vec<(u64, u64)> = total
        .split('(')
        .skip(1)
        .map(|p| {
            let inner = p.split(')').next().unwrap();
            let (c, t) = inner.split_once('/').unwrap();
            (c.trim().parse().unwrap(), t.trim().parse().unwrap())
        })
        .collect();
    [pairs[0], pairs[1], pairs[2]]
}

/// Runs `work` on a covwrap build of `project`: checks 1 and 2.
fn check_project(project: &Project, work: &Workload<'_>) {
    let base = scratch("parity");
    // covwrap build, runs into a COVDIR.
    let covdir = base.join("cov");
    std::fs::create_dir_all(&covdir).unwrap();
    let out = project
        .cargo_cmd(work.cargo, true)
        .env("COVDIR", &covdir)
        .env("COVWRAP_PKG", work.pkg)
        .output()
        .unwrap();
    assert_success(&out, &format!("covwrap cargo {}", work.cargo.join(" ")));
    let exe = project.exe("debug", work.bin);
    for args in work.runs {
        run(&exe, args, Some(&covdir));
    }
    check_against_exported_profraw(&covdir, &base);

    // Independent plain build, run the same way with LLVM's own files.
    let plain_target = base.join("plain-target");
    let profiles = base.join("profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    let pattern = profiles.join("run-%p-%m.profraw");
    let out = project
        .cargo_cmd(work.cargo, false)
        .env("CARGO_TARGET_DIR", &plain_target)
        .env("RUSTFLAGS", "-Cinstrument-coverage")
        .env("LLVM_PROFILE_FILE", &pattern)
        .output()
        .unwrap();
    assert_success(&out, &format!("plain cargo {}", work.cargo.join(" ")));
    let mut objects = Vec::new();
    if !work.runs.is_empty() {
        let plain_exe = plain_target.join("debug").join(work.bin);
        for args in work.runs {
            Command::new(&plain_exe)
                .args(*args)
                .env("LLVM_PROFILE_FILE", &pattern)
                .output()
                .unwrap();
        }
        objects.push(plain_exe);
    }
    objects.extend(test_executables(project, work.cargo, &plain_target));
    let raws: Vec<PathBuf> = std::fs::read_dir(&profiles)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let profdata = base.join("plain.profdata");
    llvm_merge(&raws, &profdata, "llvm-profdata merge (plain)");
    let theirs = lcov_line_status(
        &ok(
            &mut llvm_cov(&["export", "-format=lcov"], &profdata, &objects),
            "llvm-cov export (plain)",
        ),
        &project.dir,
    );
    let ours = lcov_line_status(
        &covdata(&[
            "lcov",
            "--include-tests",
            &format!("-i={}", covdir.display()),
        ]),
        &project.dir,
    );
    assert!(!ours.is_empty(), "no lines of the project's own files");
    assert_same_line_status("covwrap build vs plain build", &ours, &theirs);
}

/// The test executables cargo builds for `cargo_args` (plain build).
fn test_executables(project: &Project, cargo_args: &[&str], target: &Path) -> Vec<PathBuf> {
    let mut args = cargo_args.to_vec();
    if args.first() != Some(&"test") {
        return Vec::new();
    }
    args.extend(["--no-run", "--message-format=json"]);
    let out = project
        .cargo_cmd(&args, false)
        .env("CARGO_TARGET_DIR", target)
        .env("RUSTFLAGS", "-Cinstrument-coverage")
        .output()
        .unwrap();
    assert_success(&out, "cargo test --no-run");
    let mut bins: Vec<PathBuf> = stdout(&out)
        .lines()
        .filter_map(|l| {
            let at = l.find("\"executable\":\"")? + "\"executable\":\"".len();
            Some(PathBuf::from(&l[at..at + l[at..].find('"')?]))
        })
        .collect();
    bins.sort();
    bins.dedup();
    bins
}

const TESTS: &[&str] = &["test", "--lib", "--bins", "--tests"];

#[test]
fn cli_example_matches_llvm() {
    let p = Project::example("cli");
    check_project(
        &p,
        &Workload {
            cargo: &["test", "--bins", "--tests"],
            runs: &[
                &["words", "a", "b"],
                &["fib", "30"],
                &["classify", "-1", "0"],
                &["sum", "x"],
                &["exit", "2"],
            ],
            bin: "cli",
            pkg: "",
        },
    );
}

#[test]
fn workspace_example_matches_llvm() {
    let p = Project::example("workspace");
    let tests = ["test", "--workspace", "--lib", "--bins", "--tests"];
    check_project(
        &p,
        &Workload {
            cargo: &tests,
            runs: &[&[], &["--verbose", "3", "1"]],
            bin: "app",
            pkg: "wsmacros",
        },
    );
}

#[test]
fn service_killed_by_sigterm_matches_llvm() {
    // LLVM's own writer loses a SIGTERMed service's data, so only check 1
    // applies: covwrap's data, exported, is what llvm-cov reports.
    let base = scratch("service-parity");
    let cov = base.join("cov");
    std::fs::create_dir_all(&cov).unwrap();
    let mut child = spawn(service_example(), &[], &cov);
    let (url, _) = listening_on(&mut child, String::new);
    for path in ["/hello?name=x", "/sum?a=1&b=q", "/stats"] {
        http_get(&url, path);
    }
    send_signal(child.id(), SIGTERM);
    wait_with_timeout(&mut child, std::time::Duration::from_secs(10));
    check_against_exported_profraw(&cov, &base);
}

/// Crates with mixed code (generics, closures, macros, traits) and their
/// own test suites.
const CRATES: [(&str, &str); 3] = [
    ("semver", "1.0.26"),
    ("itoa", "1.0.15"),
    ("strsim", "0.11.1"),
];

#[test]
fn crates_io_test_suites_match_llvm() {
    for (name, version) in CRATES {
        let project = crates_io_project(name, version);
        check_project(
            &project,
            &Workload {
                cargo: TESTS,
                runs: &[],
                bin: "",
                pkg: "",
            },
        );
    }
}
