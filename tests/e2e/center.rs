//! The center (`covdata serve`) with real instrumented services: the
//! service example under traffic (profile, clear, a center restart, SIGTERM)
//! and fifty services of which one is frozen with SIGSTOP. The agent's own
//! behaviour is tested in `agent`; the server alone in covdata/tests/center.rs.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use crate::support::*;

extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
    fn signal(sig: i32, handler: usize) -> usize;
}
const SIGHUP: i32 = 1;
const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;
const SIGCONT: i32 = 18;
const SIGSTOP: i32 = 19;

fn send(pid: u32, sig: i32) {
    // SAFETY: plain libc call on a child this test started.
    assert_eq!(unsafe { kill(pid as i32, sig) }, 0);
}

/// Signals back to their defaults in the child, whatever the runner had.
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

fn service() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let p = Project::example("service");
        p.cargo(&["build"]);
        p.exe("debug", "service")
    })
}

/// Children killed (and reaped) when dropped.
struct Guard(Vec<Child>);

impl Drop for Guard {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = send_quiet(c.id(), SIGCONT);
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn send_quiet(pid: u32, sig: i32) -> i32 {
    // SAFETY: plain libc call on a child this test started.
    unsafe { kill(pid as i32, sig) }
}

/// `covdata serve` on `addr` with `store`; stops by itself after two minutes.
fn start_center(addr: &str, store: &str, extra: &[&str]) -> (Child, String) {
    let mut cmd = Command::new(covdata_exe());
    cmd.args([
        "serve",
        &format!("--addr={addr}"),
        &format!("--store={store}"),
        "--exit-after=120s",
    ])
    .args(extra)
    .env_remove("COVDATA_CENTER_TOKEN")
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    default_signals(&mut cmd);
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_string();
    (child, format!("http://{addr}"))
}

/// A service with an agent; returns it and its base URL.
fn start_service(center: &str, name: &str) -> (Child, String) {
    start_service_with(center, name, &[])
}

/// [`start_service`] with more environment (COVDIR unset unless given).
fn start_service_with(center: &str, name: &str, env: &[(&str, &str)]) -> (Child, String) {
    let mut cmd = Command::new(service());
    cmd.arg("127.0.0.1:0")
        .env("COVWRAP_CENTER", center)
        .env("COVWRAP_SERVICE", name)
        .env_remove("COVDIR")
        .env_remove("COVWRAP_CONTINUOUS")
        .env_remove("COVWRAP_CENTER_TOKEN")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    default_signals(&mut cmd);
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_string();
    (child, url)
}

fn get(base: &str, path: &str) -> String {
    let addr = base.strip_prefix("http://").unwrap();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn covdata(args: &[&str]) -> Output {
    let out = Command::new(covdata_exe())
        .args(args)
        .env_remove("COVDATA_CENTER_TOKEN")
        .output()
        .unwrap();
    assert_success(&out, &format!("covdata {args:?}"));
    out
}

/// (id, status) per pid, from `covdata agents`.
fn agents(center: &str) -> Vec<(u64, u32, String)> {
    let out = stdout(&covdata(&["agents", &format!("--center={center}")]));
    out.lines()
        .skip(1)
        .map(|row| {
            let c: Vec<&str> = row.split_whitespace().collect();
            (
                c[0].parse().unwrap(),
                c[3].parse().unwrap(),
                c[5].to_string(),
            )
        })
        .collect()
}

fn wait_until(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(100));
    }
}

/// The line of the service's source that holds `text`.
fn source_line(text: &str) -> usize {
    let src = std::fs::read_to_string(repo_root().join("examples/service/src/main.rs")).unwrap();
    src.lines()
        .position(|l| l.contains(text))
        .unwrap_or_else(|| panic!("{text}"))
        + 1
}

/// The hit count lcov gives `line` of the service's main.rs.
fn hits(lcov: &str, line: usize) -> u64 {
    let mut in_main = false;
    for l in lcov.lines() {
        if let Some(f) = l.strip_prefix("SF:") {
            in_main = f.ends_with("src/main.rs");
        } else if in_main {
            if let Some(da) = l.strip_prefix("DA:") {
                let (n, c) = da.split_once(',').unwrap();
                if n.parse::<usize>().unwrap() == line {
                    return c.split(',').next().unwrap().parse().unwrap();
                }
            }
        }
    }
    panic!("line {line} not in the lcov report")
}

fn lcov(center: &str, extra: &[&str]) -> String {
    stdout(&covdata(
        &[&["lcov", &format!("--center={center}")], extra].concat(),
    ))
}

#[test]
fn the_service_under_traffic_profile_clear_restart_and_sigterm() {
    let dir = scratch("center-service");
    let store = dir.join("store");
    let store_s = store.to_str().unwrap();
    let (c, center) = start_center("127.0.0.1:0", store_s, &["--heartbeat=3s"]);
    let mut guard = Guard(vec![c]);
    let (svc, base) = start_service(&center, "orders");
    let pid = svc.id();
    guard.0.push(svc);
    wait_until("the service's agent", Duration::from_secs(20), || {
        agents(&center)
            .iter()
            .any(|a| a.1 == pid && a.2 == "connected")
    });
    let id = agents(&center)[0].0;
    let hello = source_line("hello, {name}!");
    let sum = source_line("Some(sum) => Response::new(200");
    for _ in 0..3 {
        assert!(get(&base, "/hello?name=x").contains("hello, x!"));
    }
    assert!(get(&base, "/sum?a=40&b=2").ends_with("42\n"));
    let report = lcov(&center, &["--service=orders"]);
    assert_eq!((hits(&report, hello), hits(&report, sum)), (3, 1));

    // clear: the handlers at zero; more requests count again.
    covdata(&["clear", &format!("--center={center}"), "--service=orders"]);
    let report = lcov(&center, &[]);
    assert_eq!((hits(&report, hello), hits(&report, sum)), (0, 0));
    get(&base, "/hello");
    let report = lcov(&center, &[]);
    assert_eq!((hits(&report, hello), hits(&report, sum)), (1, 0));

    // The center restarts in the middle: nothing lost, the id kept.
    let addr = center.strip_prefix("http://").unwrap().to_string();
    send(guard.0[0].id(), SIGTERM);
    assert!(wait_with_timeout(&mut guard.0[0], Duration::from_secs(10)).success());
    get(&base, "/hello");
    let (c, again) = start_center(&addr, store_s, &["--heartbeat=3s"]);
    guard.0[0] = c;
    assert_eq!(again, center);
    wait_until("the agent back", Duration::from_secs(30), || {
        agents(&center)
            .iter()
            .any(|a| a.0 == id && a.2 == "connected")
    });
    assert_eq!(agents(&center).len(), 1);
    assert_eq!(hits(&lcov(&center, &[]), hello), 2);

    // SIGTERM: the final counters are at the center, and in its store.
    get(&base, "/sum?a=1&b=2");
    send(pid, SIGTERM);
    let status = wait_with_timeout(&mut guard.0[1], Duration::from_secs(10));
    assert_eq!(
        signal_of(status),
        Some(SIGTERM),
        "the service ends as it would without us"
    );
    wait_until("exited", Duration::from_secs(10), || {
        agents(&center).iter().any(|a| a.0 == id && a.2 == "exited")
    });
    let report = lcov(&center, &[]);
    assert_eq!((hits(&report, hello), hits(&report, sum)), (2, 1));
    let snap = dir.join("snap");
    covdata(&[
        "profile",
        &format!("--center={center}"),
        &format!("-o={}", snap.display()),
    ]);
    let from_store = stdout(&covdata(&[
        "lcov",
        &format!("-i={}", store.join("cov").display()),
    ]));
    assert_eq!(hits(&from_store, hello), 2);
    let from_snap = stdout(&covdata(&["lcov", &format!("-i={}", snap.display())]));
    assert_eq!(from_snap, report);
}

#[test]
fn fifty_services_one_frozen_profile_returns_in_time_and_names_it() {
    let (c, center) = start_center("127.0.0.1:0", "memory", &[]);
    let mut guard = Guard(vec![c]);
    let mut bases = Vec::new();
    for i in 0..50 {
        let (svc, base) = start_service(&center, if i % 2 == 0 { "orders" } else { "payments" });
        guard.0.push(svc);
        bases.push(base);
    }
    wait_until("fifty agents", Duration::from_secs(60), || {
        agents(&center)
            .iter()
            .filter(|a| a.2 == "connected")
            .count()
            == 50
    });
    for base in &bases {
        get(base, "/hello");
    }
    let frozen_pid = guard.0[7].id();
    let frozen_id = agents(&center)
        .iter()
        .find(|a| a.1 == frozen_pid)
        .unwrap()
        .0;
    send(frozen_pid, SIGSTOP);
    let snap = scratch("center-fifty").join("snap");
    let start = Instant::now();
    let out = covdata(&[
        "profile",
        &format!("--center={center}"),
        "--timeout=2s",
        &format!("-o={}", snap.display()),
    ]);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(6), "profile took {took:?}");
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("id={frozen_id} ")) && err.contains("timeout after 2000 ms"),
        "{err}"
    );
    let counter_files = std::fs::read_dir(&snap)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("covcounters.")
        })
        .count();
    assert_eq!(counter_files, 49);
    let hello = source_line("hello, {name}!");
    assert_eq!(
        hits(
            &stdout(&covdata(&["lcov", &format!("-i={}", snap.display())])),
            hello
        ),
        49
    );
    send(frozen_pid, SIGCONT);
}

#[test]
fn continuous_mode_counts_reach_the_center_and_survive_sigkill() {
    // In continuous mode the counters live in the mapped dense file: the
    // agent must snapshot those, not the binary's own (stale) section.
    let dir = scratch("center-continuous");
    let covdir = dir.join("cov");
    std::fs::create_dir_all(&covdir).unwrap();
    let store = dir.join("store");
    let (c, center) = start_center("127.0.0.1:0", store.to_str().unwrap(), &[]);
    let mut guard = Guard(vec![c]);
    let (svc, base) = start_service_with(
        &center,
        "orders",
        &[
            ("COVDIR", covdir.to_str().unwrap()),
            ("COVWRAP_CONTINUOUS", "1"),
        ],
    );
    let pid = svc.id();
    guard.0.push(svc);
    wait_until("the service's agent", Duration::from_secs(20), || {
        agents(&center)
            .iter()
            .any(|a| a.1 == pid && a.2 == "connected")
    });
    let hello = source_line("hello, {name}!");
    for _ in 0..3 {
        assert!(get(&base, "/hello?name=x").contains("hello, x!"));
    }
    assert_eq!(hits(&lcov(&center, &["--service=orders"]), hello), 3);
    get(&base, "/hello");
    send(pid, 9);
    let _ = wait_with_timeout(&mut guard.0[1], Duration::from_secs(10));
    let local = stdout(&covdata(&["lcov", &format!("-i={}", covdir.display())]));
    assert_eq!(hits(&local, hello), 4, "the killed run's dense file");
}
