//! The agent (`COVWRAP_CENTER`) in real instrumented programs, against the
//! real center (`covdata serve`) on 127.0.0.1: registration, profile and
//! clear while the program runs, the final counters at exit and on
//! SIGTERM, a center that is down, restarted, hung or wants another token.
//! The program's own output and exit status never change.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Output, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::*;

/// A program driven line by line on stdin, so the test knows exactly how
/// often `tick` ran: `run N`, `bg` (tick in a thread until `stop`),
/// `count`, `stop`, `fork N` (a child ticks N times), `exit`.
const PROG: &str = r#"
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

#[inline(never)]
fn tick(i: u64) -> u64 {
    std::hint::black_box(i) ^ 1
}

extern "C" {
    fn fork() -> i32;
    fn waitpid(pid: i32, status: *mut i32, options: i32) -> i32;
}

fn main() {
    let count = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut bg = None;
    let mut out = std::io::stdout();
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        let mut words = line.split_whitespace();
        match (words.next(), words.next().map(|n| n.parse::<u64>().unwrap())) {
            (Some("run"), Some(n)) => {
                for i in 0..n {
                    tick(i);
                }
                writeln!(out, "done {n}").unwrap();
            }
            (Some("bg"), None) => {
                let (c, s) = (count.clone(), stop.clone());
                bg = Some(std::thread::spawn(move || {
                    while !s.load(Ordering::SeqCst) {
                        tick(0);
                        c.fetch_add(1, Ordering::SeqCst);
                    }
                }));
                writeln!(out, "bg").unwrap();
            }
            (Some("count"), None) => writeln!(out, "count {}", count.load(Ordering::SeqCst)).unwrap(),
            (Some("stop"), None) => {
                stop.store(true, Ordering::SeqCst);
                bg.take().unwrap().join().unwrap();
                writeln!(out, "stopped {}", count.load(Ordering::SeqCst)).unwrap();
            }
            (Some("fork"), Some(n)) => {
                out.flush().unwrap();
                let pid = unsafe { fork() };
                if pid == 0 {
                    for i in 0..n {
                        tick(i);
                    }
                    std::process::exit(0);
                }
                let mut status = 0;
                unsafe { waitpid(pid, &mut status, 0) };
                writeln!(out, "forked {status}").unwrap();
            }
            (Some("exit"), None) => {
                writeln!(out, "bye").unwrap();
                std::process::exit(0);
            }
            _ => panic!("bad command {line:?}"),
        }
        out.flush().unwrap();
    }
}
"#;

/// The mangled name of `tick` contains this, and no other function's does.
const TICK: &str = "4tick";

fn prog() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let p = Project::bin("agentprog", PROG, "");
        p.cargo(&["build"]);
        p.exe("debug", "agentprog")
    })
}

fn service() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let p = Project::example("service");
        p.cargo(&["build"]);
        p.exe("debug", "service")
    })
}

extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
    fn signal(sig: i32, handler: usize) -> usize;
}
const SIGHUP: i32 = 1;
const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;
const SIGCONT: i32 = 18;
const SIGSTOP: i32 = 19;

fn send_signal(pid: u32, sig: i32) {
    // SAFETY: plain libc call on a child we started.
    assert_eq!(unsafe { kill(pid as i32, sig) }, 0);
}

/// Children that get signals start with default dispositions, whatever
/// the test runner inherited (a background job ignores SIGINT).
fn default_signals(cmd: &mut Command) {
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            for sig in [SIGHUP, SIGINT, SIGTERM] {
                signal(sig, 0);
            }
            Ok(())
        });
    }
}

/// Everything a child wrote to one stream, collected by a thread.
struct Captured(Arc<Mutex<Vec<u8>>>, Option<thread::JoinHandle<()>>);

impl Captured {
    fn drain(from: impl Read + Send + 'static) -> Captured {
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let sink = bytes.clone();
        let reader = thread::spawn(move || {
            let mut from = from;
            let mut buf = [0u8; 4096];
            while let Ok(n) = from.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Captured(bytes, Some(reader))
    }

    /// Everything, once the stream has ended.
    fn all(&mut self) -> String {
        if let Some(reader) = self.1.take() {
            reader.join().unwrap();
        }
        self.text()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// A running `covdata serve`.
struct Center {
    child: Child,
    addr: String,
    url: String,
    token: Option<String>,
    log: Captured,
}

impl Center {
    fn start(addr: &str, store: &str, token: Option<&str>) -> Center {
        Center::start_with(addr, store, token, &[])
    }

    fn start_with(addr: &str, store: &str, token: Option<&str>, extra: &[&str]) -> Center {
        let mut cmd = Command::new(covdata_exe());
        cmd.args([
            "serve",
            &format!("--addr={addr}"),
            &format!("--store={store}"),
        ])
        .args(extra)
        .env_remove("COVDATA_CENTER_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        if let Some(t) = token {
            cmd.arg(format!("--token={t}"));
        }
        default_signals(&mut cmd);
        let mut child = cmd.spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let log = Captured::drain(child.stderr.take().unwrap());
        let _out = Captured::drain(stdout);
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("covdata serve said {line:?}; stderr: {}", log.text()))
            .to_string();
        Center {
            child,
            url: format!("http://{addr}"),
            addr,
            token: token.map(str::to_string),
            log,
        }
    }

    fn memory() -> Center {
        Center::start("127.0.0.1:0", "memory", None)
    }

    fn covdata(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(covdata_exe());
        cmd.args(args)
            .arg(format!("--center={}", self.url))
            .env_remove("COVDATA_CENTER_TOKEN");
        if let Some(t) = &self.token {
            cmd.env("COVDATA_CENTER_TOKEN", t);
        }
        let out = cmd.output().unwrap();
        assert_success(
            &out,
            &format!("covdata {args:?} (center log: {})", self.log.text()),
        );
        out
    }

    /// (id, status) of the agent with this pid, if listed.
    fn agent(&self, pid: u32) -> Option<(u64, String)> {
        let out = stdout(&self.covdata(&["agents"]));
        let pid = pid.to_string();
        out.lines().find_map(|row| {
            let cells: Vec<&str> = row.split_whitespace().collect();
            if !cells.contains(&pid.as_str()) {
                return None;
            }
            let status = cells
                .iter()
                .find(|c| ["connected", "disconnected", "exited"].contains(c))?;
            Some((cells[0].parse().ok()?, status.to_string()))
        })
    }

    /// Waits until the agent with this pid has `status`; returns its id.
    fn wait_for(&self, pid: u32, status: &str, limit: Duration) -> u64 {
        let start = Instant::now();
        loop {
            if let Some((id, s)) = self.agent(pid) {
                if s == status {
                    return id;
                }
            }
            assert!(
                start.elapsed() < limit,
                "agent of pid {pid} not {status} within {limit:?}: {:?}; center log: {}",
                self.agent(pid),
                self.log.text()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// How often `tick` ran, as `covdata profile` collects it now.
    fn profile_ticks(&self) -> u64 {
        let dir = scratch("profile");
        let out = dir.join("snap");
        self.covdata(&["profile", &format!("-o={}", out.display())]);
        runs_and_executions(&out, TICK).1
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Center {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The test program with an agent, driven over its stdin.
struct Prog {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    err: Captured,
    said: String,
}

impl Prog {
    fn start(center_url: &str, envs: &[(&str, &str)]) -> Prog {
        let mut cmd = Command::new(prog());
        cmd.env("COVWRAP_CENTER", center_url)
            .env("COVWRAP_SERVICE", "prog")
            .env_remove("COVDIR")
            .env_remove("COVWRAP_QUIET")
            .env_remove("COVWRAP_LABEL")
            .env_remove("COVWRAP_CENTER_TOKEN")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        default_signals(&mut cmd);
        let mut child = cmd.spawn().unwrap();
        Prog {
            stdin: child.stdin.take().unwrap(),
            stdout: BufReader::new(child.stdout.take().unwrap()),
            err: Captured::drain(child.stderr.take().unwrap()),
            child,
            said: String::new(),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends one command and returns the program's one-line answer.
    fn ask(&mut self, command: &str) -> String {
        writeln!(self.stdin, "{command}").unwrap();
        self.stdin.flush().unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        self.said.push_str(&line);
        line.trim().to_string()
    }

    fn number(&mut self, command: &str) -> u64 {
        let answer = self.ask(command);
        answer
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap_or_else(|_| panic!("{answer}"))
    }

    /// `exit`, then the wait: (exit code, everything said on stdout, stderr, time taken).
    fn exit(mut self) -> (Option<i32>, String, String, Duration) {
        writeln!(self.stdin, "exit").unwrap();
        let start = Instant::now();
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).unwrap();
        let status = wait_with_timeout(&mut self.child, Duration::from_secs(10));
        let took = start.elapsed();
        self.said.push_str(&rest);
        (status.code(), self.said, self.err.all(), took)
    }
}

fn lines_with(text: &str, needle: &str) -> usize {
    text.lines().filter(|l| l.contains(needle)).count()
}

#[test]
fn the_agent_registers_and_profile_clear_and_exit_are_exact() {
    let center = Center::memory();
    let mut p = Prog::start(&center.url, &[]);
    let id = center.wait_for(p.pid(), "connected", Duration::from_secs(20));
    assert_eq!(p.ask("run 100"), "done 100");
    assert_eq!(center.profile_ticks(), 100);
    // Profiling does not reset: the same again, then more.
    assert_eq!(center.profile_ticks(), 100);
    assert_eq!(p.ask("run 5"), "done 5");
    assert_eq!(center.profile_ticks(), 105);
    center.covdata(&["clear"]);
    assert_eq!(center.profile_ticks(), 0);
    assert_eq!(p.ask("run 7"), "done 7");
    assert_eq!(center.profile_ticks(), 7);
    let pid = p.pid();
    let (code, said, err, _) = p.exit();
    assert_eq!(code, Some(0));
    assert_eq!(said, "done 100\ndone 5\ndone 7\nbye\n");
    assert_eq!(
        err,
        format!(
            "covwrap: connected to center {} as agent {id}\n",
            center.url
        ),
        "one line on stderr"
    );
    // The final counters are stored: the exited agent still counts.
    assert_eq!(center.wait_for(pid, "exited", Duration::from_secs(10)), id);
    assert_eq!(center.profile_ticks(), 7);
}

#[test]
fn clear_while_traffic_continues_loses_and_doubles_nothing() {
    let center = Center::memory();
    let mut p = Prog::start(&center.url, &[]);
    center.wait_for(p.pid(), "connected", Duration::from_secs(20));
    assert_eq!(p.ask("bg"), "bg");
    let mut last = 0;
    for _ in 0..3 {
        // While `tick` runs, successive profiles only grow.
        let now = center.profile_ticks();
        assert!(now >= last, "{now} < {last}");
        last = now;
    }
    let before = p.number("count");
    center.covdata(&["clear"]);
    let after = p.number("count");
    let total = p.number("stop");
    // tick runs before the program counts it: at the reset, between
    // `before` and `after + 1` ticks had run, and the rest is kept.
    let kept = center.profile_ticks();
    assert!(
        kept <= total - before && kept + after + 1 >= total,
        "kept {kept}, total {total}, reset between {before} and {after}"
    );
    assert_eq!(center.profile_ticks(), kept, "nothing moves once idle");
    let (code, _, _, _) = p.exit();
    assert_eq!(code, Some(0));
    assert_eq!(
        center.profile_ticks(),
        kept,
        "the final counters are the live ones"
    );
}

#[test]
fn a_center_that_comes_up_later_gets_the_agent_and_the_program_never_notices() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let mut p = Prog::start(&url, &[]);
    assert_eq!(p.ask("run 5"), "done 5");
    thread::sleep(Duration::from_millis(1500));
    assert_eq!(p.ask("run 6"), "done 6");
    let center = Center::start(&format!("127.0.0.1:{port}"), "memory", None);
    let id = center.wait_for(p.pid(), "connected", Duration::from_secs(20));
    assert_eq!(center.profile_ticks(), 11);
    let (code, said, err, _) = p.exit();
    assert_eq!(code, Some(0));
    assert_eq!(said, "done 5\ndone 6\nbye\n");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "one line down, one line up: {err}");
    assert!(
        lines[0].starts_with(&format!("covwrap: center {url} unreachable ("))
            && lines[0].ends_with("), retrying"),
        "{err}"
    );
    assert_eq!(
        lines[1],
        format!("covwrap: connected to center {url} as agent {id}")
    );
}

#[test]
fn after_a_center_restart_the_agent_comes_back_with_its_id() {
    let store = scratch("restart-store");
    let store = store.to_str().unwrap();
    let center = Center::start("127.0.0.1:0", store, None);
    let addr = center.addr.clone();
    let mut p = Prog::start(&center.url, &[]);
    let id = center.wait_for(p.pid(), "connected", Duration::from_secs(20));
    assert_eq!(p.ask("run 3"), "done 3");
    assert_eq!(center.profile_ticks(), 3);
    center.stop();
    assert_eq!(p.ask("run 4"), "done 4");
    let center = Center::start(&addr, store, None);
    let again = center.wait_for(p.pid(), "connected", Duration::from_secs(20));
    assert_eq!(again, id, "same id after the restart");
    assert_eq!(center.profile_ticks(), 7);
    let (code, said, err, _) = p.exit();
    assert_eq!(code, Some(0));
    assert_eq!(said, "done 3\ndone 4\nbye\n");
    assert_eq!(lines_with(&err, &format!("as agent {id}")), 2, "{err}");
    assert_eq!(lines_with(&err, "unreachable"), 1, "{err}");
    assert_eq!(err.lines().count(), 3, "{err}");
}

#[test]
fn sigterm_sends_the_final_counters_to_the_center_and_to_covdir() {
    let center = Center::memory();
    let cov = scratch("agent-sigterm-cov");
    let mut cmd = Command::new(service());
    cmd.env("COVWRAP_CENTER", &center.url)
        .env("COVWRAP_SERVICE", "orders")
        .env("COVDIR", &cov)
        .env_remove("COVWRAP_LABEL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    default_signals(&mut cmd);
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let mut err = Captured::drain(child.stderr.take().unwrap());
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap()
        .to_string();
    center.wait_for(child.id(), "connected", Duration::from_secs(20));
    for _ in 0..3 {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        write!(
            s,
            "GET /hello?name=x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut body = String::new();
        s.read_to_string(&mut body).unwrap();
        assert!(body.ends_with("hello, x!\n"), "{body}");
    }
    send_signal(child.id(), SIGTERM);
    let status = wait_with_timeout(&mut child, Duration::from_secs(10));
    assert_eq!(signal_of(status), Some(SIGTERM), "still dies of SIGTERM");
    center.wait_for(child.id(), "exited", Duration::from_secs(10));
    // The same counts at the center and in COVDIR.
    let snap = scratch("agent-sigterm-snap").join("snap");
    center.covdata(&["profile", &format!("-o={}", snap.display())]);
    // `route` ran once per request.
    assert_eq!(runs_and_executions(&cov, "5route").1, 3);
    assert_eq!(runs_and_executions(&snap, "5route").1, 3);
    let err = err.all();
    assert_eq!(lines_with(&err, "covwrap:"), 1, "{err}");
}

#[test]
fn a_wrong_token_is_one_line_and_the_program_runs_on() {
    let center = Center::start("127.0.0.1:0", "memory", Some("right"));
    let mut p = Prog::start(&center.url, &[("COVWRAP_CENTER_TOKEN", "wrong")]);
    assert_eq!(p.ask("run 2"), "done 2");
    let start = Instant::now();
    while p.err.text().is_empty() && start.elapsed() < Duration::from_secs(10) {
        thread::sleep(Duration::from_millis(20));
    }
    // Retries go on (backoff), without another line.
    thread::sleep(Duration::from_millis(1500));
    assert!(center.agent(p.pid()).is_none());
    let (code, said, err, _) = p.exit();
    assert_eq!(code, Some(0));
    assert_eq!(said, "done 2\nbye\n");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("refused the agent") && err.contains("401"),
        "{err}"
    );
}

#[test]
fn exit_is_delayed_at_most_half_a_second_by_a_hung_center() {
    let center = Center::memory();
    let mut p = Prog::start(&center.url, &[]);
    center.wait_for(p.pid(), "connected", Duration::from_secs(20));
    assert_eq!(p.ask("run 1"), "done 1");
    // A stopped center still completes TCP handshakes (the kernel does)
    // but never answers.
    send_signal(center.child.id(), SIGSTOP);
    let (code, said, err, took) = p.exit();
    send_signal(center.child.id(), SIGCONT);
    assert_eq!(code, Some(0));
    assert_eq!(said, "done 1\nbye\n");
    assert!(took < Duration::from_millis(1200), "exit took {took:?}");
    assert!(
        err.contains("final counters not sent") && err.contains("timed out"),
        "{err}"
    );
}

#[test]
fn a_forked_child_does_not_speak_for_its_parent() {
    let center = Center::memory();
    let mut p = Prog::start(&center.url, &[]);
    let id = center.wait_for(p.pid(), "connected", Duration::from_secs(20));
    assert_eq!(p.ask("run 2"), "done 2");
    assert_eq!(p.ask("fork 50"), "forked 0");
    assert_eq!(
        center.profile_ticks(),
        2,
        "the child's ticks are not the parent's"
    );
    let pid = p.pid();
    let (code, _, err, _) = p.exit();
    assert_eq!(code, Some(0));
    assert_eq!(center.wait_for(pid, "exited", Duration::from_secs(10)), id);
    assert_eq!(center.profile_ticks(), 2);
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn a_removed_agent_registers_again_and_keeps_serving() {
    // A short heartbeat makes the polls short, so the removal is seen soon.
    let center = Center::start_with("127.0.0.1:0", "memory", None, &["--heartbeat=3s"]);
    let mut p = Prog::start(&center.url, &[]);
    let id = center.wait_for(p.pid(), "connected", Duration::from_secs(20));
    assert_eq!(p.ask("run 4"), "done 4");
    center.covdata(&["remove", &format!("--id={id}")]);
    let start = Instant::now();
    loop {
        if let Some((_, status)) = center.agent(p.pid()) {
            if status == "connected" {
                break;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "never registered again: {}",
            center.log.text()
        );
        thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(p.ask("run 1"), "done 1");
    // Nothing was reset: the live counters still hold every tick.
    assert_eq!(center.profile_ticks(), 5);
    let (code, _, err, _) = p.exit();
    assert_eq!(code, Some(0));
    assert_eq!(err.lines().count(), 1, "no line for a removal: {err}");
}

#[test]
fn a_program_that_ends_at_once_still_reaches_the_center() {
    let center = Center::memory();
    for _ in 0..3 {
        // No waiting for the registration: the exit path waits for it. Both
        // commands are in the pipe before the program reads, so it usually
        // exits before its agent thread has even started (the race this
        // test is about).
        let mut p = Prog::start(&center.url, &[]);
        writeln!(p.stdin, "run 3").unwrap();
        let pid = p.pid();
        let (code, said, _, took) = p.exit();
        assert_eq!((code, said.as_str()), (Some(0), "done 3\nbye\n"));
        assert!(took < Duration::from_millis(1500), "{took:?}");
        center.wait_for(pid, "exited", Duration::from_secs(10));
    }
    assert_eq!(center.profile_ticks(), 9, "three runs of 3");
}

#[test]
fn a_bad_center_url_is_one_warning_and_nothing_else() {
    for (url, why) in [
        ("https://127.0.0.1:1", "https is not supported"),
        ("127.0.0.1:7777", "it must start with http://"),
        ("http://h:99999", "bad port"),
    ] {
        let mut p = Prog::start(url, &[]);
        assert_eq!(p.ask("run 3"), "done 3");
        let (code, said, err, _) = p.exit();
        assert_eq!(code, Some(0));
        assert_eq!(said, "done 3\nbye\n");
        let warning =
            format!("warning: covwrap: COVWRAP_CENTER \"{url}\" is not a usable center URL ({why}");
        assert!(
            err.starts_with(&warning) && err.ends_with("); agent off\n"),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}
