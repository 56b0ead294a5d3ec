//! `covdata watch` as a real process over real coverage: the CLI example
//! built with covwrap writes into a COVDIR in bursts while watch runs with
//! `--every=1s`; a recording script stands in for sonar-scanner. Every
//! wait is bounded, every watch ends by SIGTERM or `--rounds`.

use std::ffi::OsString;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::support::*;

/// The CLI example, built once for every test here.
fn cli() -> &'static Project {
    static BUILT: OnceLock<Project> = OnceLock::new();
    BUILT.get_or_init(|| {
        let p = Project::example("cli");
        p.cargo(&["build"]);
        p
    })
}

/// Runs the CLI into `cov` once per argument list.
fn burst(cov: &Path, runs: &[&[&str]]) {
    for args in runs {
        let out = run(&cli().exe("debug", "cli"), args, Some(cov));
        assert!(out.status.code().is_some(), "cli {args:?}: {}", out.status);
    }
}

/// How long any single wait here may take before the test fails.
const LIMIT: Duration = Duration::from_secs(60);

/// A running `covdata watch` whose output lines are collected by threads.
struct Watching {
    child: Child,
    out: Arc<Mutex<Vec<String>>>,
    err: Arc<Mutex<Vec<String>>>,
    /// Status lines already returned by [`Watching::next`].
    seen: usize,
}

fn collect(stream: impl Read + Send + 'static) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            sink.lock().unwrap().push(line);
        }
    });
    lines
}

impl Watching {
    fn start(args: &[OsString]) -> Watching {
        let mut child = Command::new(covdata_exe())
            .default_signals()
            .arg("watch")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = collect(child.stdout.take().unwrap());
        let err = collect(child.stderr.take().unwrap());
        Watching {
            child,
            out,
            err,
            seen: 0,
        }
    }

    /// The next status line (lines of the `--on-change` script's own
    /// output are not status lines: they do not start with the year).
    fn next(&mut self) -> String {
        let start = Instant::now();
        loop {
            {
                let out = self.out.lock().unwrap();
                let status: Vec<&String> = out.iter().filter(|l| l.starts_with("20")).collect();
                if let Some(line) = status.get(self.seen) {
                    self.seen += 1;
                    return line.to_string();
                }
            }
            if start.elapsed() > LIMIT || self.child.try_wait().unwrap().is_some() {
                panic!(
                    "no status line {} within {LIMIT:?}\n{}",
                    self.seen + 1,
                    self.transcript()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Status lines until one contains `needle`; returns them all.
    fn until(&mut self, needle: &str) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let line = self.next();
            let done = line.contains(needle);
            lines.push(line);
            if done {
                return lines;
            }
        }
    }

    fn signal(&self, sig: i32) {
        send_signal(self.child.id(), sig);
    }

    fn stderr(&self) -> Vec<String> {
        self.err.lock().unwrap().clone()
    }

    fn transcript(&self) -> String {
        format!(
            "--- stdout\n{}\n--- stderr\n{}",
            self.out.lock().unwrap().join("\n"),
            self.err.lock().unwrap().join("\n")
        )
    }

    /// Waits for the exit; the status, with the output complete.
    fn finish(&mut self) -> ExitStatus {
        let status = wait_with_timeout(&mut self.child, LIMIT);
        // The collecting threads see the end of the pipes right after.
        std::thread::sleep(Duration::from_millis(100));
        status
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn os(s: impl Into<OsString>) -> OsString {
    s.into()
}

fn flag(name: &str, path: &Path) -> OsString {
    let mut f = OsString::from(format!("--{name}="));
    f.push(path);
    f
}

/// A script that appends one line per call to `log`: `call [arg] [arg]...`.
fn recorder(dir: &Path, log: &Path) -> PathBuf {
    let script = dir.join("record.sh");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\n{{ printf call; for a in \"$@\"; do printf ' [%s]' \"$a\"; done; echo; }} >> '{}'\n",
            log.display()
        ),
    )
    .unwrap();
    let status = Command::new("chmod")
        .arg("+x")
        .arg(&script)
        .status()
        .unwrap();
    assert!(status.success());
    script
}

fn calls(log: &Path) -> Vec<String> {
    fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

/// Names in `dir` (recursively) that are temporary files of a writer.
fn temp_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for e in fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if e.file_name().to_string_lossy().starts_with(".covtmp.") {
            found.push(p.clone());
        }
        if p.is_dir() && !p.is_symlink() {
            found.extend(temp_files(&p));
        }
    }
    found
}

/// xmllint accepts `file` against the Sonar generic coverage schema the
/// reports tests use.
fn assert_valid_sonar(file: &Path) {
    let xsd = repo_root().join("covdata/tests/fixtures/xml/sonar-generic-coverage.xsd");
    let out = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(&xsd)
        .arg(file)
        .output()
        .expect("xmllint (Debian package libxml2-utils) is required");
    assert!(
        out.status.success(),
        "xmllint {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The bytes of every output, to tell whether a round wrote them.
fn snapshot(out: &Path) -> Vec<(String, Vec<u8>)> {
    ["lcov.info", "sonar.xml", "coverage.xml", "html/index.html"]
        .iter()
        .map(|n| (n.to_string(), fs::read(out.join(n)).unwrap()))
        .collect()
}

/// The flags of a watch over `cov` writing every report into `out`, with
/// the recorder as the sonar-scanner of `--on-change`.
fn watch_args(cov: &Path, out: &Path, script: &Path, extra: &[OsString]) -> Vec<OsString> {
    let root = &cli().dir;
    let mut args = vec![
        flag("input", cov),
        os("--every=1s"),
        flag("root", root),
        flag("lcov", &out.join("lcov.info")),
        flag("sonar", &out.join("sonar.xml")),
        flag("cobertura", &out.join("coverage.xml")),
        flag("html", &out.join("html")),
        os(format!(
            "--on-change={} sonar-scanner -Dsonar.projectKey=cli -Dsonar.projectBaseDir={} -Dsonar.coverageReportPaths={{sonar}} -Dsonar.projectVersion={{version}}",
            script.display(),
            root.display()
        )),
    ];
    args.extend_from_slice(extra);
    args
}

/// The line the recorder logs for version `v`.
fn scanner_call(out: &Path, v: u64) -> String {
    format!(
        "call [sonar-scanner] [-Dsonar.projectKey=cli] [-Dsonar.projectBaseDir={}] [-Dsonar.coverageReportPaths={}] [-Dsonar.projectVersion={v}]",
        cli().dir.display(),
        out.join("sonar.xml").display()
    )
}

#[test]
fn outputs_change_exactly_after_each_burst_and_the_version_survives_restarts() {
    let cov = scratch("watch-bursts-cov");
    let out = scratch("watch-bursts-out");
    let log = out.join("calls.log");
    let script = recorder(&out, &log);
    let args = watch_args(&cov, &out, &script, &[]);
    let mut w = Watching::start(&args);
    // No coverage yet: the round fails, once on stderr.
    assert!(w.next().contains("version 0: source failed"));
    let bursts: [&[&[&str]]; 3] = [
        &[&["words", "a", "b"]],
        &[&["fib", "10"], &["reverse", "hi"]],
        &[&["classify", "-3", "0", "42"], &["sum", "1", "2"]],
    ];
    let mut before: Option<Vec<(String, Vec<u8>)>> = None;
    for (i, runs) in bursts.iter().enumerate() {
        let v = i as u64 + 1;
        // Right after a status line: the next round is a second away.
        burst(&cov, runs);
        let lines = w.until(&format!("version {v}: wrote"));
        assert!(
            lines[..lines.len() - 1]
                .iter()
                .all(|l| !l.contains("wrote")),
            "{lines:?}"
        );
        let wrote = lines.last().unwrap();
        assert!(
            wrote.ends_with("wrote lcov, sonar, cobertura, html; ran --on-change"),
            "{wrote}"
        );
        let now = snapshot(&out);
        if let Some(b) = &before {
            for ((name, old), (_, new)) in b.iter().zip(&now) {
                assert_ne!(old, new, "{name} did not change after burst {v}");
            }
        }
        // Unchanged rounds write nothing and run nothing.
        for _ in 0..2 {
            let line = w.next();
            assert!(line.ends_with(&format!("version {v}: unchanged")), "{line}");
        }
        assert_eq!(snapshot(&out), now, "rewritten without a change");
        let expected: Vec<String> = (1..=v).map(|n| scanner_call(&out, n)).collect();
        assert_eq!(calls(&log), expected);
        before = Some(now);
    }
    assert_valid_sonar(&out.join("sonar.xml"));
    let sonar = fs::read_to_string(out.join("sonar.xml")).unwrap();
    assert!(sonar.contains("<file path=\"src/main.rs\">"), "{sonar}");
    assert!(cli().dir.join("src/main.rs").is_file());

    w.signal(SIGTERM);
    assert_eq!(w.finish().code(), Some(0), "{}", w.transcript());
    assert!(w
        .out
        .lock()
        .unwrap()
        .last()
        .unwrap()
        .ends_with("stopped by SIGTERM"));
    assert_eq!(
        w.stderr(),
        [
            "covdata: watch: source: ".to_string()
                + &cov.display().to_string()
                + ": no covmeta or covcounters files in this directory",
            "covdata: watch: source: working again".to_string()
        ]
    );
    assert!(temp_files(&out).is_empty(), "{:?}", temp_files(&out));

    // A restart over the same coverage writes nothing and runs nothing;
    // more coverage continues at version 4.
    let mut again = args.clone();
    again.push(os("--rounds=1"));
    let mut w = Watching::start(&again);
    assert!(w.next().ends_with("version 3: unchanged"));
    assert_eq!(w.finish().code(), Some(0));
    burst(&cov, &[&["reverse", "again"]]);
    let mut w = Watching::start(&again);
    assert!(w
        .next()
        .ends_with("version 4: wrote lcov, sonar, cobertura, html; ran --on-change"));
    assert_eq!(w.finish().code(), Some(0));
    assert_eq!(calls(&log).last().unwrap(), &scanner_call(&out, 4));
    assert_eq!(calls(&log).len(), 4);
}

#[test]
fn a_source_that_goes_away_is_reported_once_and_the_loop_resumes() {
    let cov = scratch("watch-away-cov");
    let out = scratch("watch-away-out");
    let log = out.join("calls.log");
    let script = recorder(&out, &log);
    burst(&cov, &[&["words", "x"]]);
    let mut w = Watching::start(&watch_args(&cov, &out, &script, &[]));
    w.until("version 1: wrote");
    let away = cov.with_extension("away");
    fs::rename(&cov, &away).unwrap();
    let lines = w.until("source failed");
    for _ in 0..3 {
        assert!(w.next().ends_with("version 1: source failed (see stderr)"));
    }
    fs::rename(&away, &cov).unwrap();
    // Back with the same coverage: nothing to write; then it goes on.
    let back = w.until("version 1: unchanged");
    assert!(
        back.iter().all(|l| !l.contains("wrote")),
        "{lines:?} {back:?}"
    );
    burst(&cov, &[&["fib", "5"]]);
    w.until("version 2: wrote");
    w.signal(SIGINT);
    assert_eq!(w.finish().code(), Some(0), "{}", w.transcript());
    assert_eq!(
        w.stderr(),
        [
            format!(
                "covdata: watch: source: input directory {} does not exist",
                cov.display()
            ),
            "covdata: watch: source: working again".to_string()
        ]
    );
    assert_eq!(calls(&log), [scanner_call(&out, 1), scanner_call(&out, 2)]);
}

#[test]
fn the_pause_file_and_sigusr1_sigusr2_pause_and_resume() {
    let cov = scratch("watch-pause-cov");
    let out = scratch("watch-pause-out");
    let log = out.join("calls.log");
    let script = recorder(&out, &log);
    let pause = out.join("pause");
    burst(&cov, &[&["words", "x"]]);
    let mut w = Watching::start(&watch_args(
        &cov,
        &out,
        &script,
        &[flag("pause-file", &pause)],
    ));
    w.until("version 1: wrote");

    fs::write(&pause, "").unwrap();
    w.until("paused (pause file");
    burst(&cov, &[&["fib", "5"]]);
    for _ in 0..2 {
        let line = w.next();
        assert!(
            line.ends_with(&format!(
                "version 1: paused (pause file {} exists)",
                pause.display()
            )),
            "{line}"
        );
    }
    assert_eq!(calls(&log).len(), 1);
    fs::remove_file(&pause).unwrap();
    w.until("version 2: wrote");

    w.signal(SIGUSR1);
    w.until("paused (SIGUSR1");
    burst(&cov, &[&["sum", "4", "5"]]);
    for _ in 0..2 {
        let line = w.next();
        assert!(
            line.ends_with("version 2: paused (SIGUSR1; SIGUSR2 resumes)"),
            "{line}"
        );
    }
    assert_eq!(calls(&log).len(), 2);
    w.signal(SIGUSR2);
    let lines = w.until("version 3: wrote");
    assert!(
        lines[..lines.len() - 1]
            .iter()
            .all(|l| l.contains("paused")),
        "{lines:?}"
    );
    w.signal(SIGTERM);
    assert_eq!(w.finish().code(), Some(0), "{}", w.transcript());
    assert_eq!(calls(&log), [1, 2, 3].map(|v| scanner_call(&out, v)));
    assert!(w.stderr().is_empty(), "{:?}", w.stderr());
}

#[test]
fn sigterm_in_the_middle_of_a_round_finishes_its_writes_and_leaves_no_temp_files() {
    let cov = scratch("watch-term-cov");
    let out = scratch("watch-term-out");
    let log = out.join("calls.log");
    let script = recorder(&out, &log);
    burst(&cov, &[&["words", "x"], &["fib", "7"]]);
    // A FIFO as the textfmt output holds the round in the middle of its
    // writes (after lcov, sonar and cobertura, before html) until the
    // test reads it.
    let fifo = out.join("textfmt.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let args = watch_args(&cov, &out, &script, &[flag("textfmt", &fifo)]);
    let mut w = Watching::start(&args);
    let start = Instant::now();
    while !out.join("coverage.xml").exists() {
        assert!(start.elapsed() < LIMIT, "{}", w.transcript());
        std::thread::sleep(Duration::from_millis(20));
    }
    w.signal(SIGTERM);
    std::thread::sleep(Duration::from_millis(300));
    assert!(w.child.try_wait().unwrap().is_none(), "{}", w.transcript());
    let mut textfmt = String::new();
    fs::File::open(&fifo)
        .unwrap()
        .read_to_string(&mut textfmt)
        .unwrap();
    assert_eq!(w.finish().code(), Some(0), "{}", w.transcript());
    assert!(textfmt.starts_with("mode: count\n"), "{textfmt}");
    assert!(textfmt.ends_with('\n'));
    // Every output is complete, the on-change did not start after the
    // stop, and no temporary file is left.
    let lines = w.out.lock().unwrap().clone();
    assert!(
        lines[0].ends_with("version 1: wrote lcov, sonar, cobertura, textfmt, html"),
        "{lines:?}"
    );
    assert!(lines[1].ends_with("stopped by SIGTERM"), "{lines:?}");
    assert_valid_sonar(&out.join("sonar.xml"));
    assert!(fs::read_to_string(out.join("lcov.info"))
        .unwrap()
        .ends_with("end_of_record\n"));
    assert!(fs::read_to_string(out.join("html/index.html"))
        .unwrap()
        .contains("</html>"));
    assert!(temp_files(&out).is_empty(), "{:?}", temp_files(&out));
    assert!(calls(&log).is_empty());

    // The command owed for version 1 runs at the next start, and the
    // unchanged outputs are not written again (the FIFO is not opened).
    let mut again = args.clone();
    again.push(os("--rounds=1"));
    let mut w = Watching::start(&again);
    let line = w.next();
    assert!(
        line.ends_with("version 1: unchanged; ran --on-change"),
        "{line}"
    );
    assert_eq!(w.finish().code(), Some(0));
    assert_eq!(calls(&log), [scanner_call(&out, 1)]);
}

#[test]
fn failing_commands_and_full_disks_are_reported_once_and_retried() {
    let cov = scratch("watch-fail-cov");
    let out = scratch("watch-fail-out");
    burst(&cov, &[&["words", "x"]]);
    let ok = out.join("ok");
    let command = format!(
        "--on-change=test -e '{}' || {{ echo first >&2; echo 'last words' >&2; exit 3; }}",
        ok.display()
    );
    let args = vec![
        flag("input", &cov),
        os("--every=100ms"),
        flag("lcov", &out.join("lcov.info")),
        os(command),
    ];
    let mut bounded = args.clone();
    bounded.push(os("--rounds=3"));
    let mut w = Watching::start(&bounded);
    let lines = [w.next(), w.next(), w.next()];
    assert_eq!(w.finish().code(), Some(0), "{}", w.transcript());
    assert!(
        lines[0].ends_with(
            "version 1: wrote lcov; --on-change failed (exit status 3; again next round)"
        ),
        "{lines:?}"
    );
    for l in &lines[1..] {
        assert!(
            l.ends_with(
                "version 1: unchanged; --on-change failed (exit status 3; again next round)"
            ),
            "{lines:?}"
        );
    }
    assert_eq!(
        w.stderr(),
        ["covdata: watch: --on-change: exit status 3: last words"]
    );
    // It is still owed after a restart, and runs once it can.
    fs::write(&ok, "").unwrap();
    let mut once = args.clone();
    once.push(os("--rounds=1"));
    let mut w = Watching::start(&once);
    assert!(w.next().ends_with("version 1: unchanged; ran --on-change"));
    assert_eq!(w.finish().code(), Some(0));
    assert!(w.stderr().is_empty(), "{:?}", w.stderr());

    // A full disk (/dev/full answers every write with ENOSPC).
    let full = vec![
        flag("input", &cov),
        os("--every=100ms"),
        os("--lcov=/dev/full"),
        flag("state", &out.join("full.state")),
        os("--rounds=3"),
    ];
    let mut w = Watching::start(&full);
    for _ in 0..3 {
        let line = w.next();
        assert!(
            line.ends_with("version 0: writing lcov failed (see stderr)"),
            "{line}"
        );
    }
    assert_eq!(w.finish().code(), Some(0));
    assert_eq!(
        w.stderr(),
        ["covdata: watch: --lcov: /dev/full: No space left on device (os error 28)"]
    );
}

#[test]
fn bad_usage_and_a_shared_state_are_refused_in_one_line() {
    let out = scratch("watch-usage");
    let cov = scratch("watch-usage-cov");
    let covdata = |args: &[OsString]| {
        Command::new(covdata_exe())
            .arg("watch")
            .args(args)
            .output()
            .unwrap()
    };
    let lcov = flag("lcov", &out.join("lcov.info"));
    for (args, says) in [
        (vec![flag("input", &cov)], "nothing to do"),
        (
            vec![
                flag("input", &cov),
                lcov.clone(),
                os("--on-change=scan {sonar}"),
            ],
            "--on-change uses {sonar}, but no --sonar is written",
        ),
        (
            vec![flag("input", &cov), lcov.clone(), os("--every=0s")],
            "longer than 0",
        ),
        (
            vec![flag("input", &cov), lcov.clone(), os("--every=soon")],
            "not a duration",
        ),
    ] {
        let o = covdata(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
    }
    // Two watchers on one state: the second is refused at once.
    burst(&cov, &[&["words", "x"]]);
    let mut first = Watching::start(&[flag("input", &cov), lcov.clone(), os("--every=1s")]);
    first.until("version 1");
    let o = covdata(&[flag("input", &cov), lcov.clone(), os("--rounds=1")]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        format!(
            "covdata: {}: another covdata watch uses this state; give each watcher its own --state\n",
            out.join(".covdata-watch.lock").display()
        )
    );
    first.signal(SIGTERM);
    assert_eq!(first.finish().code(), Some(0));
    // A damaged state is named, nothing is written.
    fs::write(out.join(".covdata-watch"), "{").unwrap();
    let o = covdata(&[flag("input", &cov), lcov, os("--rounds=1")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("not a covdata watch state"),
        "{}",
        stderr(&o)
    );
    assert_eq!(stderr(&o).lines().count(), 1);
}

#[test]
fn a_source_tree_checked_out_elsewhere_is_the_root_of_sonar_and_html() {
    let cov = scratch("watch-root-cov");
    let out = scratch("watch-root-out");
    let checkout = scratch("watch-root-checkout");
    copy_tree(&cli().dir.join("src"), &checkout.join("src"));
    // A marker after the last line: the lines the coverage maps stay put.
    let main_rs = checkout.join("src/main.rs");
    let mut text = fs::read_to_string(&main_rs).unwrap();
    text.push_str("// the checked-out copy\n");
    fs::write(&main_rs, text).unwrap();
    burst(&cov, &[&["words", "x"]]);
    let mut w = Watching::start(&[
        flag("input", &cov),
        flag("root", &checkout),
        flag("sonar", &out.join("sonar.xml")),
        flag("html", &out.join("html")),
        os("--rounds=1"),
    ]);
    assert!(w.next().ends_with("version 1: wrote sonar, html"));
    assert_eq!(w.finish().code(), Some(0), "{}", w.transcript());
    assert!(w.stderr().is_empty(), "{:?}", w.stderr());
    let sonar = fs::read_to_string(out.join("sonar.xml")).unwrap();
    assert!(sonar.contains("<file path=\"src/main.rs\">"), "{sonar}");
    assert_valid_sonar(&out.join("sonar.xml"));
    let pages: String = fs::read_dir(out.join("html/files"))
        .unwrap()
        .map(|e| fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert!(pages.contains("the checked-out copy"));
}

/// The service example with an agent, a center on loopback, and watch
/// profiling the center every second: requests in bursts, the outputs
/// written (and the recorded sonar-scanner run) exactly once per burst;
/// the center stops for some rounds and comes back with its store.
#[test]
fn a_center_through_bursts_of_requests_and_an_outage() {
    use crate::center::start_service;
    let dir = scratch("watch-center");
    let store = dir.join("store");
    let store = store.to_str().unwrap();
    let out = dir.join("out");
    fs::create_dir_all(&out).unwrap();
    let log = out.join("calls.log");
    let script = recorder(&out, &log);
    let mut hub = Center::start("127.0.0.1:0", store, &[]);
    let center = hub.url.clone();
    let (svc, base) = start_service(&hub, "orders");
    let pid = svc.id();
    let _service = Children(vec![svc]);
    hub.wait_for(pid, "connected", LIMIT);
    let bursts: [&[&str]; 4] = [
        &["/hello?name=a", "/hello?name=b"],
        &["/sum?a=1&b=2", "/sum?a=x"],
        &["/stats", "/nope"],
        &["/health"],
    ];
    // The sources as checked out here, not where the service was built.
    let root = repo_root().join("examples/service");
    let scanner = |v: u64| {
        format!(
            "call [sonar-scanner] [-Dsonar.projectKey=orders] [-Dsonar.coverageReportPaths={}] [-Dsonar.projectVersion={v}]",
            out.join("sonar.xml").display()
        )
    };
    let args = vec![
        os(format!("--center={center}")),
        os("--service=orders"),
        os("--every=1s"),
        flag("root", &root),
        flag("lcov", &out.join("lcov.info")),
        flag("sonar", &out.join("sonar.xml")),
        flag("html", &out.join("html")),
        os(format!(
            "--on-change={} sonar-scanner -Dsonar.projectKey=orders -Dsonar.coverageReportPaths={{sonar}} -Dsonar.projectVersion={{version}}",
            script.display()
        )),
    ];
    // The first burst before watch starts: version 1 is the start-up code
    // and that burst.
    for path in bursts[0] {
        http_get(&base, path);
    }
    let mut w = Watching::start(&args);
    let line = w.next();
    assert!(
        line.ends_with("version 1: wrote lcov, sonar, html; ran --on-change"),
        "{line}"
    );
    let read = || fs::read(out.join("lcov.info")).unwrap();
    let mut before = read();
    for (i, burst) in bursts[1..3].iter().enumerate() {
        let v = i as u64 + 2;
        for _ in 0..2 {
            let line = w.next();
            assert!(
                line.ends_with(&format!("version {}: unchanged", v - 1)),
                "{line}"
            );
        }
        assert_eq!(read(), before);
        assert_eq!(calls(&log), (1..v).map(scanner).collect::<Vec<_>>());
        // Right after a status line: the next round is a second away.
        for path in *burst {
            http_get(&base, path);
        }
        let line = w.next();
        assert!(
            line.ends_with(&format!(
                "version {v}: wrote lcov, sonar, html; ran --on-change"
            )),
            "{line}"
        );
        assert_ne!(read(), before, "burst {v}");
        before = read();
    }
    assert_eq!(calls(&log), [1, 2, 3].map(scanner));
    assert!(w.stderr().is_empty(), "{}", w.transcript());

    // The center goes away for some rounds and comes back on its address
    // with its store: reported once, the loop goes on, and resumes.
    w.next();
    send_signal(hub.child.id(), SIGTERM);
    assert!(wait_with_timeout(&mut hub.child, LIMIT).success());
    for _ in 0..3 {
        let line = w.until("version 3:");
        assert!(
            line.last()
                .unwrap()
                .ends_with("version 3: source failed (see stderr)"),
            "{line:?}"
        );
    }
    let addr = hub.addr.clone();
    hub.stop();
    let hub = Center::start(&addr, store, &[]);
    assert_eq!(hub.url, center);
    let back = w.until("version 3: unchanged");
    assert!(back.iter().all(|l| !l.contains("wrote")), "{back:?}");
    let errors: Vec<String> = w
        .stderr()
        .into_iter()
        .filter(|l| !l.starts_with("covdata: warning: agent skipped"))
        .collect();
    assert!(
        errors[0].starts_with(&format!(
            "covdata: watch: source: center {center}: cannot connect"
        )),
        "{errors:?}"
    );
    assert_eq!(
        errors.last().unwrap(),
        "covdata: watch: source: working again"
    );
    // At most one other line between: the center is back before the
    // agent has reconnected, with nothing to profile yet.
    assert!(
        errors.len() == 2 || (errors.len() == 3 && errors[1].contains("holds no coverage data")),
        "{errors:?}"
    );
    w.next();
    for path in bursts[3] {
        http_get(&base, path);
    }
    w.until("version 4: wrote lcov, sonar, html; ran --on-change");
    w.signal(SIGTERM);
    assert_eq!(w.finish().code(), Some(0), "{}", w.transcript());
    assert_eq!(calls(&log), [1, 2, 3, 4].map(scanner));
    assert_valid_sonar(&out.join("sonar.xml"));
    let sonar = fs::read_to_string(out.join("sonar.xml")).unwrap();
    assert!(sonar.contains("<file path=\"src/main.rs\">"), "{sonar}");
    assert!(temp_files(&out).is_empty(), "{:?}", temp_files(&out));
}
