//! Live processes for end-to-end tests: signals, a guard that kills and
//! reaps children, polling with a deadline, the service example and its
//! "listening on" line, plain HTTP GETs, and a running `covdata serve`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use super::{assert_success, covdata_exe, stdout, DefaultSignals, Project};

// One copy, shared with covdata's own tests.
#[path = "../../../covdata/tests/common/live.rs"]
mod shared;
pub use shared::{free_local_addr, listening_on, wait_until};

pub const SIGHUP: i32 = 1;
pub const SIGINT: i32 = 2;
pub const SIGKILL: i32 = 9;
pub const SIGUSR1: i32 = 10;
pub const SIGUSR2: i32 = 12;
pub const SIGTERM: i32 = 15;
pub const SIGCONT: i32 = 18;
pub const SIGSTOP: i32 = 19;

extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
}

/// Sends `sig` to `pid`, which must exist (an unreaped child does).
pub fn send_signal(pid: u32, sig: i32) {
    assert!(try_signal(pid, sig), "kill({pid}, {sig}) failed");
}

/// Sends `sig` to `pid`; false if there is no such process.
pub fn try_signal(pid: u32, sig: i32) -> bool {
    // SAFETY: kill(2) touches no memory of ours; the pids are children
    // the tests started.
    unsafe { kill(pid as i32, sig) == 0 }
}

/// Children continued, killed and reaped when dropped.
pub struct Children(pub Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = try_signal(c.id(), SIGCONT);
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The service example, built once for all tests.
pub fn service_example() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let p = Project::example("service");
        p.cargo(&["build"]);
        p.exe("debug", "service")
    })
}

/// `GET path` on `addr` (`host:port`, `http://` allowed) with
/// `Connection: close`; the whole response, status line included.
pub fn http_get(addr: &str, path: &str) -> String {
    let addr = addr.strip_prefix("http://").unwrap_or(addr);
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

/// Spawns `cmd` with stdout piped and reads its `listening on ADDR`
/// line; returns the child and ADDR.
pub fn spawn_listening(cmd: &mut Command) -> (Child, String) {
    let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
    let (addr, _) = listening_on(&mut child, String::new);
    (child, addr)
}

/// Everything a child wrote to one stream, collected by a thread.
pub struct Captured(Arc<Mutex<Vec<u8>>>, Option<thread::JoinHandle<()>>);

impl Captured {
    pub fn drain(from: impl Read + Send + 'static) -> Captured {
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
    pub fn all(&mut self) -> String {
        if let Some(reader) = self.1.take() {
            reader.join().unwrap();
        }
        self.text()
    }

    /// What arrived so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// One row of `covdata agents`.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRow {
    pub id: u64,
    pub pid: u32,
    pub status: String,
}

/// A running `covdata serve` on 127.0.0.1 (stops by itself after two
/// minutes; killed and reaped on drop), its stderr captured.
pub struct Center {
    pub child: Child,
    pub addr: String,
    pub url: String,
    token: Option<String>,
    pub log: Captured,
}

impl Center {
    /// `covdata serve --addr=addr --store=store extra...`.
    pub fn start(addr: &str, store: &str, extra: &[&str]) -> Center {
        Center::start_with_token(addr, store, None, extra)
    }

    /// An in-memory center on a free port.
    pub fn memory() -> Center {
        Center::start("127.0.0.1:0", "memory", &[])
    }

    /// [`Center::start`] requiring `token` from agents and clients.
    pub fn start_with_token(
        addr: &str,
        store: &str,
        token: Option<&str>,
        extra: &[&str],
    ) -> Center {
        let mut cmd = shared::serve_command(&covdata_exe(), addr, store, extra);
        cmd.default_signals()
            .args(token.map(|t| format!("--token={t}")));
        let mut child = cmd.spawn().unwrap();
        let log = Captured::drain(child.stderr.take().unwrap());
        let (addr, rest) = listening_on(&mut child, || format!("; stderr: {}", log.text()));
        // Whatever else it prints is read, so it never blocks on a full pipe.
        let _ = Captured::drain(rest);
        Center {
            child,
            url: format!("http://{addr}"),
            addr,
            token: token.map(str::to_string),
            log,
        }
    }

    /// `covdata args... --center=URL` with this center's token; must succeed.
    pub fn covdata(&self, args: &[&str]) -> Output {
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

    /// The agents `covdata agents` lists.
    pub fn agents(&self) -> Vec<AgentRow> {
        stdout(&self.covdata(&["agents"]))
            .lines()
            .skip(1)
            .map(|row| {
                let c: Vec<&str> = row.split_whitespace().collect();
                AgentRow {
                    id: c[0].parse().unwrap(),
                    pid: c[3].parse().unwrap(),
                    status: c[5].to_string(),
                }
            })
            .collect()
    }

    /// The agent of the process `pid`, if listed.
    pub fn agent(&self, pid: u32) -> Option<AgentRow> {
        self.agents().into_iter().find(|a| a.pid == pid)
    }

    /// Waits until the agent of `pid` has `status`; returns its id.
    pub fn wait_for(&self, pid: u32, status: &str, limit: Duration) -> u64 {
        let start = Instant::now();
        loop {
            match self.agent(pid) {
                Some(a) if a.status == status => return a.id,
                now => assert!(
                    start.elapsed() < limit,
                    "agent of pid {pid} not {status} within {limit:?}: {now:?}; center log: {}",
                    self.log.text()
                ),
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the center (and reaps it).
    pub fn stop(self) {}
}

impl Drop for Center {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
