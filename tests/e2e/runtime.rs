//! What instrumented programs do at run time: files written at exit, on
//! panics and on fatal signals; wait statuses preserved; COVDIR handling;
//! behaviour otherwise unchanged.

use std::fs;
use std::io::{BufRead, BufReader};
use std::process::Command;
use std::time::Duration;

use covwrap_rt::format::defs::{arg_keys, end_reason};

use crate::support::*;

fn built_cli() -> Project {
    let p = Project::example("cli");
    p.cargo(&["build"]);
    p
}

#[test]
fn hello_world_writes_one_meta_and_one_counter_file() {
    let p = Project::bin(
        "hello",
        "fn main() {\n    println!(\"Hello, world!\");\n}\n",
        "",
    );
    p.cargo(&["build"]);
    let cov = scratch("hello-cov");
    let out = run(&p.exe("debug", "hello"), &[], Some(&cov));
    assert_success(&out, "hello");
    assert_eq!(stdout(&out), "Hello, world!\n");
    assert_eq!(
        stderr(&out),
        "",
        "nothing extra on stderr when COVDIR is usable"
    );
    let dir = CovDir::read(&cov);
    dir.assert_clean();
    assert_eq!(dir.metas.len(), 1);
    assert_eq!(dir.counters.len(), 1);
    let file = dir.counter_files().next().unwrap();
    assert_eq!(file.header().end, end_reason::EXIT);
    assert!(
        file.entries().count() > 0,
        "main ran, so some counter is non-zero"
    );
    let args: Vec<&str> = file
        .args()
        .iter()
        .filter(|(k, _)| k == arg_keys::ARGV)
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(args.len(), 1);
    assert!(args[0].ends_with("hello"));
}

#[test]
fn ten_cli_runs_write_one_meta_and_ten_counter_files() {
    let p = built_cli();
    let exe = p.exe("debug", "cli");
    let cov = scratch("cli-cov");
    let runs: [&[&str]; 10] = [
        &["words", "a", "bb"],
        &["reverse", "abc"],
        &["fib", "10"],
        &["classify", "-3", "0", "7"],
        &["sum", "1", "2"],
        &["sum", "1", "x"],
        &["help"],
        &[],
        &["bogus"],
        &["fib", "x"],
    ];
    for args in runs {
        run(&exe, args, Some(&cov));
    }
    let meta_mtime = fs::metadata(
        fs::read_dir(&cov)
            .unwrap()
            .flatten()
            .find(|e| e.file_name().to_string_lossy().starts_with("covmeta."))
            .unwrap()
            .path(),
    )
    .unwrap()
    .modified()
    .unwrap();
    let dir = CovDir::read(&cov);
    dir.assert_clean();
    assert_eq!(dir.metas.len(), 1, "one binary, one meta file");
    assert_eq!(dir.counters.len(), 10);
    let pids: std::collections::BTreeSet<u64> =
        dir.counters.iter().map(|(_, pid, _)| *pid).collect();
    assert_eq!(pids.len(), 10, "one file per process");
    // Different arguments take different paths: the counter sets differ.
    let sets: std::collections::BTreeSet<Vec<u32>> = dir
        .counter_files()
        .map(|f| f.entries().map(|(i, _)| i).collect())
        .collect();
    assert!(sets.len() >= 8, "only {} distinct counter sets", sets.len());
    // Another run does not rewrite the meta file.
    std::thread::sleep(Duration::from_millis(20));
    run(&exe, &["help"], Some(&cov));
    let again = fs::read_dir(&cov)
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("covmeta."))
        .unwrap();
    assert_eq!(
        again.metadata().unwrap().modified().unwrap(),
        meta_mtime,
        "meta file was rewritten"
    );
}

#[test]
fn process_exit_and_unwinding_panic_still_write() {
    let p = built_cli();
    let exe = p.exe("debug", "cli");
    let cov = scratch("exit-cov");
    let out = run(&exe, &["exit", "3"], Some(&cov));
    assert_eq!(out.status.code(), Some(3));
    let out = run(&exe, &["panic"], Some(&cov));
    assert_eq!(out.status.code(), Some(101));
    assert!(
        stderr(&out).contains("panicked at src/main.rs:"),
        "{}",
        stderr(&out)
    );
    let dir = CovDir::read(&cov);
    assert_eq!(dir.counters.len(), 2);
    assert!(dir
        .counter_files()
        .all(|f| f.header().end == end_reason::EXIT));
}

#[test]
fn sigterm_to_the_service_leaves_counters_and_a_sigterm_death() {
    let cov = scratch("service-cov");
    let mut child = spawn(service_example(), &[], &cov);
    let (url, _) = listening_on(&mut child, String::new);
    for path in ["/health", "/sum?a=2&b=40", "/nope"] {
        let body = http_get(&url, path);
        assert!(body.starts_with("HTTP/1.1"), "{body}");
    }
    send_signal(child.id(), SIGTERM);
    let status = wait_with_timeout(&mut child, Duration::from_secs(10));
    assert_eq!(signal_of(status), Some(15), "died of SIGTERM: {status:?}");
    let dir = CovDir::read(&cov);
    dir.assert_clean();
    assert_eq!(dir.counters.len(), 1);
    let file = dir.counter_files().next().unwrap();
    assert_eq!(file.header().end, 15);
    assert!(file.entries().count() > 10, "request handling was counted");
}

const SLEEPER: &str = r#"
use std::io::Write;
fn work(n: u64) -> u64 { (0..n).map(|i| i * i).sum() }
fn main() {
    let total = work(1000);
    println!("ready {total}");
    std::io::stdout().flush().unwrap();
    std::thread::sleep(std::time::Duration::from_secs(60));
    println!("not reached");
}
"#;

#[test]
fn fatal_signals_write_counters_and_keep_the_wait_status() {
    let p = Project::bin("sleeper", SLEEPER, "");
    p.cargo(&["build"]);
    let exe = p.exe("debug", "sleeper");
    for sig in [2, 15, 1, 6] {
        let cov = scratch(&format!("sig{sig}"));
        let mut child = spawn(&exe, &[], &cov);
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.starts_with("ready"));
        send_signal(child.id(), sig);
        let status = wait_with_timeout(&mut child, Duration::from_secs(10));
        assert_eq!(signal_of(status), Some(sig), "signal {sig}: {status:?}");
        let dir = CovDir::read(&cov);
        dir.assert_clean();
        assert_eq!(dir.counters.len(), 1, "signal {sig}");
        let file = dir.counter_files().next().unwrap();
        assert_eq!(file.header().end, sig as u32);
        assert!(
            file.entries().any(|(_, v)| v >= 1000),
            "the loop's count was recorded"
        );
    }
}

#[test]
fn ignored_signals_stay_ignored() {
    // nohup-style: a parent that ignores SIGHUP passes that on; the
    // runtime must not turn it into a fatal (and written) SIGHUP.
    let p = Project::bin("nohup", SLEEPER, "");
    p.cargo(&["build"]);
    let cov = scratch("nohup-cov");
    let mut child = Command::new("sh")
        .default_signals()
        .arg("-c")
        .arg(format!(
            "trap '' HUP; exec {}",
            p.exe("debug", "nohup").display()
        ))
        .env("COVDIR", &cov)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    send_signal(child.id(), SIGHUP);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "SIGHUP was ignored before; it must still be"
    );
    send_signal(child.id(), SIGTERM);
    assert_eq!(
        signal_of(wait_with_timeout(&mut child, Duration::from_secs(10))),
        Some(15)
    );
    assert_eq!(CovDir::read(&cov).counters.len(), 1);
}

#[test]
fn panic_abort_writes_and_dies_of_sigabrt() {
    let p = Project::example("cli");
    p.cargo(&["build", "--config", "profile.dev.panic=\"abort\""]);
    let cov = scratch("abort-cov");
    let out = run(&p.exe("debug", "cli"), &["panic"], Some(&cov));
    assert_eq!(signal_of(out.status), Some(6), "{:?}", out.status);
    let dir = CovDir::read(&cov);
    assert_eq!(dir.counters.len(), 1);
    assert_eq!(dir.counter_files().next().unwrap().header().end, 6);
}

const ALLOCATOR_STRESS: &str = r#"
use std::io::Write;
fn churn(seed: usize) -> usize {
    let mut kept: Vec<Vec<u8>> = Vec::new();
    let mut x = seed;
    loop {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let v = vec![x as u8; 16 + (x >> 40) % 4096];
        if kept.len() > 64 { kept.swap_remove(x % 64); }
        kept.push(v);
        let s = format!("{x}");
        if s.len() == 1000 { return s.len(); }
    }
}
fn main() {
    for t in 0..4 { std::thread::spawn(move || churn(t)); }
    println!("ready");
    std::io::stdout().flush().unwrap();
    churn(99);
}
"#;

#[test]
fn signals_are_safe_while_threads_hold_the_allocator() {
    let p = Project::bin("stress", ALLOCATOR_STRESS, "");
    p.cargo(&["build"]);
    let exe = p.exe("debug", "stress");
    let cov = scratch("stress-cov");
    for round in 0..25u64 {
        let mut child = spawn(&exe, &[], &cov);
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        std::thread::sleep(Duration::from_millis(5 + (round * 7) % 40));
        let sig = if round % 2 == 0 { 15 } else { 2 };
        send_signal(child.id(), sig);
        // A handler that allocated could deadlock on malloc's lock here.
        let status = wait_with_timeout(&mut child, Duration::from_secs(20));
        assert_eq!(signal_of(status), Some(sig), "round {round}: {status:?}");
    }
    let dir = CovDir::read(&cov);
    dir.assert_clean();
    assert_eq!(
        dir.counters.len(),
        25,
        "one valid counter file per killed process"
    );
}

#[test]
fn covdir_unset_or_unusable_says_one_line_and_changes_nothing_else() {
    let p = built_cli();
    let exe = p.exe("debug", "cli");
    let plain = Project::example("cli");
    plain.cargo_plain(&["build"]);
    let plain_exe = plain.exe("debug", "cli");
    let blocker = scratch("not-a-dir").join("file");
    fs::write(&blocker, "x").unwrap();
    let cases: [&[&str]; 5] = [
        &["words", "a b", "c"],
        &["sum", "1", "x"],
        &["exit", "4"],
        &["bogus"],
        &["help"],
    ];
    for args in cases {
        let want = run(&plain_exe, args, None);
        let unset = run(&exe, args, None);
        assert_eq!(unset.status.code(), want.status.code(), "{args:?}");
        assert_eq!(stdout(&unset), stdout(&want), "{args:?}");
        assert_eq!(
            stderr(&unset),
            format!(
                "warning: COVDIR not set, no coverage data emitted\n{}",
                stderr(&want)
            )
        );
        let missing = run(
            &exe,
            args,
            Some(std::path::Path::new("/nonexistent/covdir")),
        );
        assert_eq!(missing.status.code(), want.status.code());
        assert_eq!(stdout(&missing), stdout(&want));
        let first = stderr(&missing)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        assert_eq!(
            first,
            "error: covwrap: COVDIR \"/nonexistent/covdir\" is not a writable directory (cannot create it: no such file or directory; create it first, e.g. with `mkdir -p`); no coverage data written"
        );
        assert_eq!(
            stderr(&missing).lines().count(),
            1 + stderr(&want).lines().count()
        );
        let not_dir = run(&exe, args, Some(&blocker));
        assert!(
            stderr(&not_dir).starts_with("error: covwrap: COVDIR"),
            "{}",
            stderr(&not_dir)
        );
        assert_eq!(stdout(&not_dir), stdout(&want));
    }
    // COVWRAP_QUIET silences the unset warning, as Go users asked for.
    let quiet = Command::new(&exe)
        .arg("help")
        .env_remove("COVDIR")
        .env("COVWRAP_QUIET", "1")
        .output()
        .unwrap();
    assert_eq!(stderr(&quiet), "");
    // No LLVM profile anywhere: rustc's profile runtime would write
    // default_*.profraw into the working directory of every run.
    let cwd = scratch("cwd");
    for covdir in [None, Some(scratch("cwd-cov"))] {
        let mut cmd = Command::new(&exe);
        cmd.arg("fib")
            .arg("9")
            .current_dir(&cwd)
            .env_remove("COVDIR");
        if let Some(d) = &covdir {
            cmd.env("COVDIR", d);
        }
        assert_success(&cmd.output().unwrap(), "cli fib");
    }
    assert_eq!(
        find_profraw(&[&p.dir, &p.target, &cwd]),
        Vec::<std::path::PathBuf>::new()
    );
    assert_eq!(
        std::fs::read_dir(&cwd).unwrap().count(),
        0,
        "the run left files in its working directory"
    );
}

#[test]
fn relative_covdir_is_fixed_at_startup_and_read_only_dir_is_reported() {
    let src = r#"
fn main() {
    std::env::set_current_dir("/").unwrap();
    println!("moved");
}
"#;
    let p = Project::bin("chdir", src, "");
    p.cargo(&["build"]);
    let base = scratch("rel");
    fs::create_dir(base.join("cov")).unwrap();
    let out = Command::new(p.exe("debug", "chdir"))
        .current_dir(&base)
        .env("COVDIR", "cov")
        .output()
        .unwrap();
    assert_success(&out, "chdir");
    assert_eq!(CovDir::read(&base.join("cov")).counters.len(), 1);
    if unsafe { geteuid() } != 0 {
        let ro = scratch("ro");
        let mut perms = fs::metadata(&ro).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o555);
        fs::set_permissions(&ro, perms).unwrap();
        let out = run(&p.exe("debug", "chdir"), &[], Some(&ro));
        assert!(
            stderr(&out).contains("is not a writable directory (permission denied)"),
            "{}",
            stderr(&out)
        );
    }
}

extern "C" {
    fn geteuid() -> u32;
}

#[test]
fn label_and_arguments_are_recorded() {
    let p = built_cli();
    let cov = scratch("label-cov");
    let out = Command::new(p.exe("debug", "cli"))
        .args(["words", "two words"])
        .env("COVDIR", &cov)
        .env("COVWRAP_LABEL", "suite::case_1")
        .output()
        .unwrap();
    assert_success(&out, "cli");
    let dir = CovDir::read(&cov);
    let file = dir.counter_files().next().unwrap();
    let get = |k: &str| {
        file.args()
            .iter()
            .filter(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(get(arg_keys::LABEL), vec!["suite::case_1".to_string()]);
    assert_eq!(
        &get(arg_keys::ARGV)[1..],
        &["words".to_string(), "two words".to_string()]
    );
    assert_eq!(get(arg_keys::OS), vec![std::env::consts::OS.to_string()]);
    assert!(get(arg_keys::EXE)[0].ends_with("/cli"));
    assert!(file.header().start_ns <= file.header().write_ns);
}

#[test]
fn snapshots_with_reset_add_up_to_the_whole_run() {
    // covwrap_rt is in the extern prelude of instrumented crates: the API
    // that live collection will use.
    let src = r#"
fn step(n: u64) -> u64 { (0..n).sum() }
fn main() {
    let mut acc = step(10);
    covwrap_rt::write_snapshot(true).unwrap();
    acc += step(20);
    covwrap_rt::write_snapshot(true).unwrap();
    acc += step(30);
    assert!(covwrap_rt::active());
    println!("{acc}");
}
"#;
    let p = Project::bin("snap", src, "");
    p.cargo(&["build"]);
    let cov = scratch("snap-cov");
    assert_success(&run(&p.exe("debug", "snap"), &[], Some(&cov)), "snap");
    let dir = CovDir::read(&cov);
    assert_eq!(dir.counters.len(), 3);
    let ends: Vec<u32> = dir.counter_files().map(|f| f.header().end).collect();
    assert_eq!(
        ends.iter().filter(|&&e| e == end_reason::SNAPSHOT).count(),
        2
    );
    // The three parts sum to exactly what one undivided run counts.
    let total = |files: Vec<covwrap_rt::format::counters::CountersFile<'_>>| {
        let mut sum = vec![0u64; files[0].header().num_counters as usize];
        for f in files {
            f.add_into(&mut sum);
        }
        sum
    };
    let parts = total(dir.counter_files().collect());
    let src_once = src.replace("covwrap_rt::write_snapshot(true).unwrap();", "");
    fs::write(p.dir.join("src/main.rs"), src_once).unwrap();
    let whole = {
        // Same functions and counter layout except main's snapshot calls,
        // so compare only the per-iteration counts of `step`'s loop.
        let cov2 = scratch("snap-cov2");
        p.cargo(&["build"]);
        run(&p.exe("debug", "snap"), &[], Some(&cov2));
        let d = CovDir::read(&cov2);
        total(d.counter_files().collect())
    };
    let mut a: Vec<u64> = parts.iter().copied().filter(|&v| v > 1).collect();
    let mut b: Vec<u64> = whole.iter().copied().filter(|&v| v > 1).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

const FORKER: &str = r#"
extern "C" {
    fn fork() -> i32;
    fn waitpid(pid: i32, status: *mut i32, options: i32) -> i32;
}
#[inline(never)]
fn before(i: u64) -> u64 { i ^ 3 }
#[inline(never)]
fn in_child(i: u64) -> u64 { i ^ 5 }
#[inline(never)]
fn in_parent(i: u64) -> u64 { i ^ 7 }
fn main() {
    let mut acc = 0;
    for i in 0..1000 { acc += before(i); }
    let pid = unsafe { fork() };
    if pid == 0 {
        for i in 0..777 { acc += in_child(i); }
        std::process::exit((acc % 2) as i32 * 0);
    }
    for i in 0..555 { acc += in_parent(i); }
    let mut status = 0;
    unsafe { waitpid(pid, &mut status, 0) };
    println!("{acc} {status}");
}
"#;

#[test]
fn forked_child_reports_only_what_it_ran() {
    let p = Project::bin("forker", FORKER, "");
    p.cargo(&["build"]);
    let cov = scratch("fork-cov");
    let out = run(&p.exe("debug", "forker"), &[], Some(&cov));
    assert_success(&out, "forker");
    let dir = CovDir::read(&cov);
    dir.assert_clean();
    assert_eq!(dir.metas.len(), 1);
    assert_eq!(
        dir.counters.len(),
        2,
        "parent and child each write one file"
    );
    // A forked child's start time is the fork, after the parent's start.
    let start = |b: &Vec<u8>| {
        covwrap_rt::format::counters::CountersFile::parse(b)
            .unwrap()
            .header()
            .start_ns
    };
    let parent_pid = dir
        .counters
        .iter()
        .min_by_key(|(_, _, b)| start(b))
        .map(|(_, pid, _)| *pid)
        .unwrap();
    let values = |want_parent: bool| -> Vec<u64> {
        dir.counters
            .iter()
            .filter(|(_, pid, _)| (*pid == parent_pid) == want_parent)
            .flat_map(|(_, _, b)| {
                covwrap_rt::format::counters::CountersFile::parse(b)
                    .unwrap()
                    .entries()
                    .map(|(_, v)| v)
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let (parent, child) = (values(true), values(false));
    // Loop bodies count their iterations: 1000 before the fork (parent
    // only), 777 in the child, 555 in the parent.
    assert!(
        parent.contains(&1000) && parent.contains(&555) && !parent.contains(&777),
        "{parent:?}"
    );
    assert!(
        child.contains(&777) && !child.contains(&1000) && !child.contains(&555),
        "{child:?}"
    );
}

#[test]
fn debugdump_shows_functions_that_ran_and_those_that_did_not() {
    let p = built_cli();
    let cov = scratch("dump-cov");
    assert_success(
        &run(&p.exe("debug", "cli"), &["classify", "5"], Some(&cov)),
        "cli classify",
    );
    let out = Command::new(covdata_exe())
        .arg("debugdump")
        .arg(format!("-i={}", cov.display()))
        .output()
        .unwrap();
    assert_success(&out, "covdata debugdump");
    let dump = stdout(&out);
    let function = |name: &str| {
        dump.lines()
            .find(|l| l.trim_start().starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} in\n{dump}"))
            .to_string()
    };
    assert!(
        function("cli::classify").contains(" count=1 "),
        "{}",
        function("cli::classify")
    );
    assert!(function("cli::main").contains(" count=1 "));
    assert!(
        function("cli::word_stats").contains(" count=0 "),
        "{}",
        function("cli::word_stats")
    );
    assert!(dump.contains("crates: cli"));
    assert!(dump.contains("end: exit"));
}
