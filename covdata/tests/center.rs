//! `covdata serve` over real sockets on 127.0.0.1, with simulated agents
//! speaking the protocol (covdata::center::sim) and the real `covdata`
//! client commands: profile sums, clear, final counters, restarts with ids
//! kept, a frozen agent, tokens, bad bodies, heartbeats, init and remove,
//! versions combined, two centers merged. Every center started here stops
//! by itself (`--exit-after`) and is killed when its handle drops.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use common::*;
use covdata::center::client::{Client, Selection};
use covdata::center::sim::SimAgent;
use covdata::center::wire::Status;

const PROGRAM_V1: &str = r#"
fn orders(n: u32) -> u32 { if n > 2 { n * 2 } else { n + 1 } }
fn payments(n: u32) -> u32 { if n % 2 == 0 { n / 2 } else { 3 * n + 1 } }
fn main() {
    let n: u32 = std::env::args().count() as u32;
    println!("{} {}", orders(n), payments(n));
}
"#;

const PROGRAM_V2: &str = r#"
fn orders(n: u32) -> u32 { if n > 2 { n * 2 } else { n + 1 } }
fn payments(n: u32) -> u32 { if n % 2 == 0 { n / 2 } else { 3 * n + 1 } }
fn refunds(n: u32) -> u32 { if n > 5 { 1 } else { 0 } }
fn main() {
    let n: u32 = std::env::args().count() as u32;
    println!("{} {} {}", orders(n), payments(n), refunds(n));
}
"#;

/// Meta files of the two versions, built once.
fn metas() -> &'static (Vec<u8>, Vec<u8>) {
    static METAS: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    METAS.get_or_init(|| {
        let s = Scratch::new("center-programs");
        let mut out = Vec::new();
        for (name, src) in [("svc1", PROGRAM_V1), ("svc2", PROGRAM_V2)] {
            s.write(&format!("{name}.rs"), src);
            rustc(&s.dir, &[&format!("{name}.rs"), "-o", name], &[]);
            out.push(write_meta(&s.path(&format!("meta-{name}")), &s.path(name)).1);
        }
        (out[0].clone(), out[1].clone())
    })
}

/// A running center; killed on drop.
struct Center {
    child: Child,
    url: String,
    addr: String,
}

impl Center {
    fn start(store: &str, extra: &[&str]) -> Center {
        Center::start_at("127.0.0.1:0", store, extra)
    }

    fn start_at(addr: &str, store: &str, extra: &[&str]) -> Center {
        let mut child = Command::new(env!("CARGO_BIN_EXE_covdata"))
            .args([
                "serve",
                &format!("--addr={addr}"),
                &format!("--store={store}"),
                "--exit-after=120s",
            ])
            .args(extra)
            .env_remove("COVDATA_CENTER_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line {line:?}"))
            .to_string();
        Center {
            child,
            url: format!("http://{addr}"),
            addr,
        }
    }

    fn client(&self) -> Client {
        Client::new(&self.url, None, Duration::from_secs(10)).unwrap()
    }

    /// SIGTERM and wait: the center finishes its writes and exits 0.
    fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let out = std::mem::replace(&mut self.child, Command::new("true").spawn().unwrap())
            .wait_with_output()
            .unwrap();
        assert!(out.status.success(), "center exit {:?}", out.status);
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}

impl Drop for Center {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Simulated agents polling on a runtime of their own until dropped.
struct Fleet {
    rt: tokio::runtime::Runtime,
    stop: Arc<AtomicBool>,
    agents: Vec<SimAgent>,
}

impl Fleet {
    fn new() -> Fleet {
        Fleet {
            rt: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap(),
            stop: Arc::new(AtomicBool::new(false)),
            agents: Vec::new(),
        }
    }

    /// Registers an agent and starts its poll loop; returns its index.
    fn add(&mut self, center: &str, token: Option<&str>, service: &str, meta: &[u8]) -> usize {
        let pid = 1000 + self.agents.len() as u64;
        let mut agent = SimAgent::new(center, token, service, pid, meta).unwrap();
        self.rt.block_on(agent.register()).unwrap();
        self.rt.spawn(
            agent
                .clone()
                .run_until(self.stop.clone(), 1, Duration::from_millis(100)),
        );
        self.agents.push(agent);
        self.agents.len() - 1
    }

    /// Starts an agent that keeps trying to register (the center may be down).
    fn add_unregistered(&mut self, center: &str, service: &str, meta: &[u8]) -> usize {
        let agent = SimAgent::new(center, None, service, 5000, meta).unwrap();
        self.rt.spawn(
            agent
                .clone()
                .run_until(self.stop.clone(), 1, Duration::from_millis(100)),
        );
        self.agents.push(agent);
        self.agents.len() - 1
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn covdata_cmd(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_covdata"))
        .args(args)
        .env_remove("COVDATA_CENTER_TOKEN")
        .output()
        .unwrap()
}

/// `covdata profile` into `dir`; returns stderr.
fn profile(url: &str, dir: &Path, extra: &[&str]) -> String {
    let out = covdata_cmd(
        &[
            &[
                "profile",
                &format!("--center={url}"),
                &format!("-o={}", dir.display()),
            ],
            extra,
        ]
        .concat(),
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "profile failed: {err}");
    err
}

/// The summed counters of the single pod of `dir`.
fn pod_counts(dir: &Path) -> Vec<u64> {
    let loaded = covdata::load(&[dir.to_path_buf()], Default::default()).unwrap();
    assert_eq!(loaded.pods.len(), 1, "{}", dir.display());
    loaded.pods[0].counters.clone()
}

fn sum(a: &[u64], b: &[u64]) -> Vec<u64> {
    a.iter().zip(b).map(|(x, y)| x + y).collect()
}

fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn pattern(n: usize, k: u64) -> Vec<u64> {
    (0..n)
        .map(|i| if i % 3 == 0 { 0 } else { k * (i as u64 + 1) })
        .collect()
}

#[test]
fn profile_clear_exit_and_restart_keep_everything() {
    let (meta, _) = metas();
    let s = Scratch::new("center-lifecycle");
    let store = s.path("store");
    let center = Center::start(store.to_str().unwrap(), &["--heartbeat=3s"]);
    let mut fleet = Fleet::new();
    let a = fleet.add(&center.url, None, "orders", meta);
    let b = fleet.add(&center.url, None, "orders", meta);
    let c = fleet.add(&center.url, None, "payments", meta);
    let n = fleet.agents[a].counts().len();
    fleet.agents[a].set_counters(&pattern(n, 1));
    fleet.agents[b].set_counters(&pattern(n, 10));
    fleet.agents[c].set_counters(&pattern(n, 100));

    // agents: one row each, connected.
    let out = covdata_cmd(&["agents", &format!("--center={}", center.url)]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert_eq!(table.lines().count(), 4, "{table}");
    assert_eq!(table.matches("connected").count(), 3, "{table}");

    // profile --service sums that service's live counters.
    let snap = s.path("snap1");
    profile(&center.url, &snap, &["--service=orders"]);
    assert_eq!(pod_counts(&snap), sum(&pattern(n, 1), &pattern(n, 10)));
    // Reports read the center directly and agree with the COVDIR.
    let direct = covdata_cmd(&[
        "textfmt",
        &format!("--center={}", center.url),
        "--service=orders",
    ]);
    assert!(
        direct.status.success(),
        "{}",
        String::from_utf8_lossy(&direct.stderr)
    );
    let from_dir = covdata_ok(&["textfmt", &format!("-i={}", snap.display())]);
    assert_eq!(String::from_utf8_lossy(&direct.stdout), from_dir);

    // The report commands' own flags work with --center: --pkg, --root.
    let pct = covdata_ok(&["percent", &format!("--center={}", center.url), "--pkg=svc*"]);
    assert!(pct.starts_with("crate") && pct.contains("svc1"), "{pct}");
    let none = covdata_cmd(&[
        "percent",
        &format!("--center={}", center.url),
        "--pkg=nothing",
    ]);
    assert_eq!(none.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&none.stderr).contains("matches no crate"));
    // -i and --center are one or the other; --service needs --center.
    assert_eq!(
        covdata_cmd(&["percent", "-i=/tmp", &format!("--center={}", center.url)])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        covdata_cmd(&["percent", "-i=/tmp", "--service=x"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        covdata_cmd(&["agents", "--center=https://x"]).status.code(),
        Some(2)
    );

    // clear: zero everywhere, then counts again.
    let out = covdata_cmd(&[
        "clear",
        &format!("--center={}", center.url),
        "--service=orders",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fleet.agents[a].counts(), vec![0; n]);
    let snap = s.path("snap2");
    profile(&center.url, &snap, &["--service=orders"]);
    assert_eq!(pod_counts(&snap), vec![0; n]);
    fleet.agents[a].bump(1, 7);
    let snap = s.path("snap3");
    profile(&center.url, &snap, &["--service=orders"]);
    assert_eq!(pod_counts(&snap)[1], 7);

    // c exits: its final counters stay at the center.
    fleet.rt.block_on(fleet.agents[c].exit()).unwrap();
    let client = center.client();
    let agents = client.agents(&Selection::default()).unwrap();
    let c_id = fleet.agents[c].reg.id.unwrap();
    assert_eq!(
        agents.iter().find(|x| x.id == c_id).unwrap().status,
        Status::Exited
    );
    let ids_before: Vec<u64> = agents.iter().map(|x| x.id).collect();

    // Restart the center on the same address and store.
    let addr = center.addr.clone();
    center.stop();
    let center = Center::start_at(&addr, store.to_str().unwrap(), &["--heartbeat=3s"]);
    // The store is a COVDIR on its own.
    let percent = covdata_ok(&["percent", &format!("-i={}", store.join("cov").display())]);
    assert!(percent.contains("total"), "{percent}");
    let client = center.client();
    wait_for("agents to reconnect", Duration::from_secs(20), || {
        client
            .agents(&Selection::default())
            .unwrap()
            .iter()
            .filter(|x| x.status == Status::Connected)
            .count()
            == 2
    });
    let agents = client.agents(&Selection::default()).unwrap();
    assert_eq!(
        agents.iter().map(|x| x.id).collect::<Vec<_>>(),
        ids_before,
        "ids kept"
    );
    let snap = s.path("snap4");
    profile(&center.url, &snap, &[]);
    // a: 7 at index 1 since the clear (b was cleared with it); c: final.
    let mut b_now = fleet.agents[b].counts();
    b_now[1] += 7;
    assert_eq!(pod_counts(&snap), sum(&b_now, &pattern(n, 100)));
    drop(fleet);
    let stderr = center.stop();
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_frozen_agent_is_skipped_and_named_within_the_timeout() {
    let (meta, _) = metas();
    let s = Scratch::new("center-frozen");
    let center = Center::start("memory", &[]);
    let mut fleet = Fleet::new();
    for i in 0..6 {
        let k = fleet.add(&center.url, None, "orders", meta);
        fleet.agents[k].bump(1, 1 + i);
    }
    fleet.agents[2].frozen.store(true, Ordering::SeqCst);
    let frozen_id = fleet.agents[2].reg.id.unwrap();
    let start = Instant::now();
    let err = profile(&center.url, &s.path("snap"), &["--timeout=1s"]);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(4), "profile took {took:?}");
    assert_eq!(err.matches("warning").count(), 1, "{err}");
    assert!(
        err.contains(&format!("id={frozen_id} ")) && err.contains("timeout after 1000 ms"),
        "{err}"
    );
    // The other five are in: agent i counted 1 + i, the frozen one 3.
    let got = pod_counts(&s.path("snap"))[1];
    assert_eq!(got, (1..=6).sum::<u64>() - 3);
}

#[test]
fn tokens_are_required_from_agents_and_clients() {
    let (meta, _) = metas();
    let center = Center::start("memory", &["--token=s3cret"]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for token in [None, Some("wrong"), Some("s3cre"), Some("s3cret!")] {
        let mut agent = SimAgent::new(&center.url, token, "orders", 1, meta).unwrap();
        let err = rt.block_on(agent.register()).unwrap_err();
        assert!(err.contains("401"), "{err}");
        let mut args = vec!["agents".to_string(), format!("--center={}", center.url)];
        if let Some(t) = token {
            args.push(format!("--token={t}"));
        }
        let out = covdata_cmd(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            err.contains("401") && err.contains(&center.url) && err.lines().count() == 1,
            "{err}"
        );
    }
    let mut agent = SimAgent::new(&center.url, Some("s3cret"), "orders", 1, meta).unwrap();
    rt.block_on(agent.register()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_covdata"))
        .args(["agents", &format!("--center={}", center.url)])
        .env("COVDATA_CENTER_TOKEN", "s3cret")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("orders"));
}

/// Raw HTTP exchange: status line and body.
fn raw(addr: &str, request: &[u8]) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

#[test]
fn bad_and_oversized_bodies_get_a_4xx_and_the_center_keeps_serving() {
    let (meta, _) = metas();
    let center = Center::start("memory", &[]);
    let mut fleet = Fleet::new();
    let a = fleet.add(&center.url, None, "orders", meta);
    fleet.agents[a].bump(1, 5);
    let id = fleet.agents[a].reg.id.unwrap();
    let post = |path: &str, body: &[u8]| {
        let mut req = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        req.extend_from_slice(body);
        raw(&center.addr, &req)
    };
    let cases: Vec<(String, Vec<u8>, u16)> = vec![
        ("/v1/agents".into(), b"not json".to_vec(), 400),
        (
            "/v1/agents".into(),
            br#"{"service":"x","pid":1,"start_time_ns":1,"meta_hash":"zz"}"#.to_vec(),
            400,
        ),
        ("/v1/agents".into(), vec![b'{'; 70 << 10], 413),
        (
            format!("/v1/agents/{id}/counters?seq=1"),
            b"garbage".to_vec(),
            400,
        ),
        (
            format!("/v1/agents/{id}/counters?final=1"),
            meta.clone(),
            400,
        ),
        (
            format!("/v1/agents/{id}/counters?final=maybe"),
            b"x".to_vec(),
            400,
        ),
        ("/v1/agents/999/counters?final=1".into(), b"x".to_vec(), 404),
        ("/v1/clear?id=abc".into(), Vec::new(), 400),
        ("/v1/clear?label=(".into(), Vec::new(), 400),
    ];
    for (path, body, want) in cases {
        let (status, reason) = post(&path, &body);
        assert_eq!(status, want, "{path}: {reason}");
        assert_eq!(reason.trim_end().lines().count(), 1, "{path}: {reason:?}");
    }
    let (status, _) = raw(&center.addr, b"PUT /v1/meta/00112233445566778899aabbccddeeff HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc");
    assert_eq!(status, 400);
    let (status, _) = raw(&center.addr, b"GARBAGE\r\n\r\n");
    assert!((400..500).contains(&status), "{status}");
    // A counters body over 64 MiB announced: refused before it is read.
    let (status, _) = raw(
        &center.addr,
        format!("POST /v1/agents/{id}/counters?seq=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n", 65 << 20).as_bytes(),
    );
    assert_eq!(status, 413);
    // Still serving, the agent's data intact.
    let s = Scratch::new("center-bad");
    profile(&center.url, &s.path("snap"), &[]);
    assert_eq!(pod_counts(&s.path("snap"))[1], 5);
}

#[test]
fn a_center_that_comes_up_late_gets_its_agents() {
    let (meta, _) = metas();
    // Find a free port, then start the center on it later.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut fleet = Fleet::new();
    let a = fleet.add_unregistered(&format!("http://{addr}"), "orders", meta);
    fleet.agents[a].bump(2, 9);
    std::thread::sleep(Duration::from_millis(500));
    let center = Center::start_at(&addr, "memory", &[]);
    let client = center.client();
    wait_for("the late agent", Duration::from_secs(10), || {
        client.agents(&Selection::default()).unwrap().len() == 1
    });
    let s = Scratch::new("center-late");
    profile(&center.url, &s.path("snap"), &[]);
    assert_eq!(pod_counts(&s.path("snap"))[2], 9);
}

#[test]
fn heartbeat_init_and_remove() {
    let (meta, _) = metas();
    let s = Scratch::new("center-admin");
    let store = s.path("store");
    let center = Center::start(store.to_str().unwrap(), &["--heartbeat=1s"]);
    let mut fleet = Fleet::new();
    let a = fleet.add(&center.url, None, "orders", meta);
    fleet.agents[a].bump(1, 3);
    // A registered agent that never polls goes disconnected.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut silent = SimAgent::new(&center.url, None, "silent", 77, meta).unwrap();
    rt.block_on(silent.register()).unwrap();
    silent.bump(1, 100);
    let silent_id = silent.reg.id.unwrap();
    let client = center.client();
    wait_for("disconnected", Duration::from_secs(10), || {
        let agents = client.agents(&Selection::default()).unwrap();
        agents
            .iter()
            .any(|x| x.id == silent_id && x.status == Status::Disconnected)
    });
    let table = String::from_utf8_lossy(
        &covdata_cmd(&["agents", &format!("--center={}", center.url)]).stdout,
    )
    .into_owned();
    assert!(
        table.contains("disconnected") && table.contains("connected"),
        "{table}"
    );
    // Its exit counters are kept and shown with the others.
    rt.block_on(silent.exit()).unwrap();
    profile(&center.url, &s.path("snap1"), &[]);
    assert_eq!(pod_counts(&s.path("snap1"))[1], 103);
    // remove --data drops it for good.
    let out = covdata_cmd(&[
        "remove",
        &format!("--center={}", center.url),
        &format!("--id={silent_id}"),
        "--data",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(client.agents(&Selection::default()).unwrap().len(), 1);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "removed 1 agent\n");
    // An id that is not there (any more) is an error, not "removed 0".
    let out = covdata_cmd(&[
        "remove",
        &format!("--center={}", center.url),
        &format!("--id={silent_id}"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "covdata: center {}: no agent matches the selection; nothing removed\n",
            center.url
        )
    );
    profile(&center.url, &s.path("snap2"), &[]);
    assert_eq!(pod_counts(&s.path("snap2"))[1], 3);
    // init: registry and data emptied, the live agent's counters reset.
    let out = covdata_cmd(&["init", &format!("--center={}", center.url)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fleet.agents[a].counts()[1], 0);
    // init answers once the store's writes are on disk: no counter file is
    // left. (A meta file may be back already: the live agent registers
    // again at once and uploads its meta to the emptied center.)
    let counter_files: Vec<String> = std::fs::read_dir(store.join("cov"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("covcounters."))
        .collect();
    assert_eq!(counter_files, Vec::<String>::new());
    // The live agent registers again (its id kept) and counts anew.
    wait_for("re-registration", Duration::from_secs(10), || {
        client.agents(&Selection::default()).unwrap().len() == 1
    });
    fleet.agents[a].bump(1, 4);
    profile(&center.url, &s.path("snap3"), &[]);
    assert_eq!(pod_counts(&s.path("snap3"))[1], 4);
}

#[test]
fn versions_combine_and_two_centers_merge_to_one() {
    let (v1, v2) = metas();
    let s = Scratch::new("center-versions");
    let one = Center::start(s.path("one").to_str().unwrap(), &[]);
    let east = Center::start(s.path("east").to_str().unwrap(), &[]);
    let west = Center::start(s.path("west").to_str().unwrap(), &[]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Old and new versions of a service, each exiting into two centers:
    // one center for all, or east/west for halves.
    for (i, meta) in [v1, v2, v1, v2].iter().enumerate() {
        let regional = if i % 2 == 0 { &east } else { &west };
        for center in [&one, regional] {
            let mut agent =
                SimAgent::new(&center.url, None, "orders", 100 + i as u64, meta).unwrap();
            rt.block_on(agent.register()).unwrap();
            let n = agent.counts().len();
            agent.set_counters(&pattern(n, i as u64 + 1));
            rt.block_on(agent.exit()).unwrap();
        }
    }
    // Both versions, folded by the center as merge --pcombine does.
    let err = profile(&one.url, &s.path("combined"), &["--pcombine"]);
    assert!(!err.contains("error"), "{err}");
    let pct = covdata_ok(&["percent", &format!("-i={}", s.path("combined").display())]);
    assert!(pct.contains("total"), "{pct}");
    // Without --pcombine the two versions are two pods: reports read them
    // together, straight from the center, as from a COVDIR of both.
    let live = covdata_ok(&["percent", &format!("--center={}", one.url)]);
    let dir = s.path("both");
    profile(&one.url, &dir, &[]);
    assert_eq!(
        covdata::load(std::slice::from_ref(&dir), Default::default())
            .unwrap()
            .pods
            .len(),
        2
    );
    assert_eq!(
        live,
        covdata_ok(&["percent", &format!("-i={}", dir.display())])
    );
    // One center's store equals east + west merged.
    let stores: Vec<PathBuf> = ["one", "east", "west"].iter().map(|n| s.path(n)).collect();
    for c in [one, east, west] {
        c.stop();
    }
    let merged_one = s.path("merged-one");
    let merged_two = s.path("merged-two");
    covdata_ok(&[
        "merge",
        &format!("-i={}", stores[0].join("cov").display()),
        &format!("-o={}", merged_one.display()),
    ]);
    covdata_ok(&[
        "merge",
        &format!(
            "-i={},{}",
            stores[1].join("cov").display(),
            stores[2].join("cov").display()
        ),
        &format!("-o={}", merged_two.display()),
    ]);
    let a = covdata_ok(&["textfmt", &format!("-i={}", merged_one.display())]);
    let b = covdata_ok(&["textfmt", &format!("-i={}", merged_two.display())]);
    assert_eq!(a, b);
    let names = |d: &Path| {
        let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    // Same inputs (times aside, which differ per run), same pods.
    assert_eq!(
        names(&merged_one)
            .iter()
            .filter(|(n, _)| n.starts_with("covmeta."))
            .collect::<Vec<_>>(),
        names(&merged_two)
            .iter()
            .filter(|(n, _)| n.starts_with("covmeta."))
            .collect::<Vec<_>>()
    );
}

#[test]
fn ids_are_kept_by_the_same_process_and_never_taken_over() {
    let (meta, _) = metas();
    let center = Center::start("memory", &[]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // A process coming back to a center that lost its memory keeps its id.
    let mut back = SimAgent::new(&center.url, None, "orders", 1, meta).unwrap();
    back.reg.id = Some(5);
    assert_eq!(rt.block_on(back.register()).unwrap().id, 5);
    // Another process claiming that id gets its own; so does a wild id.
    let mut other = SimAgent::new(&center.url, None, "orders", 2, meta).unwrap();
    other.reg.id = Some(5);
    let id = rt.block_on(other.register()).unwrap().id;
    assert_eq!(id, 6, "the next id after the highest given");
    let mut wild = SimAgent::new(&center.url, None, "orders", 3, meta).unwrap();
    wild.reg.id = Some(u64::MAX);
    assert_eq!(rt.block_on(wild.register()).unwrap().id, 7);
    // The same process registering again keeps its id.
    assert_eq!(rt.block_on(back.register()).unwrap().id, 5);
}
