//! The agent thread: register, upload the meta if the center lacks it,
//! long-poll for commands and answer them; on any failure, back off
//! (capped, jittered) and register again with the same id, forever. It
//! logs one line when the center first fails and one when it is back.

use std::fmt::Write as _;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::unix::ffi::OsStrExt as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::super::emit::{for_each_nonzero, START_NS};
use super::super::init::{encode_args, meta_from_exe, slot_hash};
use super::super::state::CONFIG;
use super::super::text::eprint_line;
use super::super::{llvm, sys};
use super::exit::{self, Prepared};
use super::wire::http::{self, HttpError, Request, Response};
use super::wire::json::{self, Value};
use super::{running, Setup};
use crate::format::counters::{CountersHeader, CountersWriter};
use crate::format::defs::{end_reason, MetaHash};
use crate::format::dirfiles::open_nofollow;
use crate::format::md5::hex;
use crate::format::names::meta_file_name;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Registration, meta upload and counters: per request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const META_TIMEOUT: Duration = Duration::from_secs(60);
/// Added to the long poll's wait for the answer's own way back.
const POLL_MARGIN: Duration = Duration::from_secs(10);
const MAX_ANSWER: usize = 64 * 1024;
const FIRST_BACKOFF_MS: u64 = 250;
const MAX_BACKOFF_MS: u64 = 30_000;

/// Why a session with the center ended.
enum Failure {
    /// No answer: down, unreachable, slow, broken.
    Unreachable(String),
    /// An answer we cannot go on with (401, 400, 5xx...).
    Refused(String),
    /// The center does not know our id (`remove`, `init`): register anew.
    UnknownId,
}

struct Agent<'a> {
    setup: &'a Setup,
    meta_hash: MetaHash,
    /// Meta file bytes, when they had to be built to learn the hash.
    meta_bytes: Option<Vec<u8>>,
    hostname: String,
    argv: Vec<String>,
    counters: &'static [std::sync::atomic::AtomicU64],
    args: Vec<u8>,
    id: Option<u64>,
    addrs: Vec<SocketAddr>,
    /// Registered in the current session.
    connected: bool,
    /// Failed since the last registration (or never registered yet).
    failing: bool,
    /// Said "connected" at least once.
    announced: bool,
}

pub fn run(setup: &Setup) {
    block_fatal_signals();
    let Some(mut agent) = Agent::prepare(setup) else {
        return;
    };
    let mut backoff_ms = FIRST_BACKOFF_MS;
    // The first attempt runs even when the program is already exiting (a
    // CLI that ends at once may get there before this thread has started):
    // the exit path waits for it to register, then sends the final
    // counters; the session itself serves no command once exiting.
    let mut first = true;
    loop {
        if !first && !running() {
            return;
        }
        first = false;
        let started = Instant::now();
        let outcome = agent.session();
        exit::first_try_over();
        if !running() {
            return;
        }
        let failure = match outcome {
            Ok(()) => return,
            Err(f) => f,
        };
        if agent.connected {
            agent.connected = false;
            if started.elapsed() > Duration::from_secs(10) {
                // A session that went well for a while: try again soon.
                backoff_ms = FIRST_BACKOFF_MS;
            }
        }
        match failure {
            Failure::UnknownId => {
                // Removed or wiped by the center: register anew, soon
                // unless that keeps happening.
                agent.id = None;
                if started.elapsed() > Duration::from_secs(10) {
                    sleep_jittered(FIRST_BACKOFF_MS);
                    continue;
                }
            }
            Failure::Unreachable(why) if !agent.failing => {
                agent.failing = true;
                if !setup.quiet {
                    eprint_line(format_args!(
                        "covwrap: center {} unreachable ({why}), retrying",
                        setup.url
                    ));
                }
            }
            Failure::Refused(why) if !agent.failing => {
                agent.failing = true;
                eprint_line(format_args!(
                    "covwrap: center {} refused the agent ({why}), retrying",
                    setup.url
                ));
            }
            _ => {}
        }
        sleep_jittered(backoff_ms);
        backoff_ms = (backoff_ms * 2).min(MAX_BACKOFF_MS);
    }
}

/// SIGINT, SIGTERM and SIGHUP go to the program's threads, never to this
/// one: the final write then never interrupts a snapshot-reset halfway, and
/// this thread's system calls see no EINTR. (SIGABRT stays: `abort` here
/// must still work.)
fn block_fatal_signals() {
    #[repr(C)]
    struct SigSet([u64; 16]);
    extern "C" {
        fn sigemptyset(set: *mut SigSet) -> i32;
        fn sigaddset(set: *mut SigSet, sig: i32) -> i32;
        fn pthread_sigmask(how: i32, set: *const SigSet, old: *mut SigSet) -> i32;
    }
    const SIG_BLOCK: i32 = 0;
    let mut set = SigSet([0; 16]);
    // SAFETY: `set` is a sigset_t-sized buffer (128 bytes on Linux),
    // initialized by sigemptyset before use.
    unsafe {
        sigemptyset(&mut set);
        for sig in [sys::SIGINT, sys::SIGTERM, sys::SIGHUP] {
            sigaddset(&mut set, sig);
        }
        pthread_sigmask(SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// Sleeps between half of `ms` and `ms`, so restarted fleets spread out.
fn sleep_jittered(ms: u64) {
    static SEED: AtomicU64 = AtomicU64::new(0);
    let mut x = SEED.load(Ordering::Relaxed) ^ sys::realtime_ns() ^ u64::from(std::process::id());
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    SEED.store(x, Ordering::Relaxed);
    let half = ms / 2;
    std::thread::sleep(Duration::from_millis(half + x % (ms - half + 1)));
}

impl<'a> Agent<'a> {
    /// Everything registration and the exit path need, built here in the
    /// agent thread rather than on the program's startup path.
    fn prepare(setup: &'a Setup) -> Option<Agent<'a>> {
        let counters = super::super::state::live_counters();
        let config = CONFIG.get();
        let (meta_hash, meta_bytes) = match config.map(|c| c.meta_hash).or_else(slot_hash) {
            Some(h) => (h, None),
            None => match meta_from_exe(counters.len()) {
                Ok(Some((bytes, hash))) => (hash, Some(bytes)),
                Ok(None) => return None,
                Err(message) => {
                    eprint_line(format_args!("{message}; center agent off"));
                    return None;
                }
            },
        };
        let args = config.map_or_else(encode_args, |c| c.args.clone());
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_default();
        let argv = std::env::args_os()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let url = &setup.url;
        let mut after_id = format!(
            "/counters?final=1 HTTP/1.1\r\nHost: {}\r\nUser-Agent: covwrap-agent/{}\r\nConnection: close\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n",
            url.host_header(),
            crate::VERSION
        );
        if let Some(token) = &setup.token {
            let _ = write!(after_id, "Authorization: Bearer {token}\r\n");
        }
        after_id.push_str("\r\n");
        exit::publish(Prepared {
            meta_hash,
            args: args.clone(),
            before_id: format!("POST {}/v1/agents/", url.prefix),
            after_id,
        });
        Some(Agent {
            setup,
            meta_hash,
            meta_bytes,
            hostname,
            argv,
            counters,
            args,
            id: None,
            addrs: Vec::new(),
            connected: false,
            failing: false,
            announced: false,
        })
    }

    /// Registers, then serves commands until something fails.
    fn session(&mut self) -> Result<(), Failure> {
        self.addrs = (self.setup.url.host.as_str(), self.setup.url.port)
            .to_socket_addrs()
            .map_err(|e| {
                Failure::Unreachable(format!("cannot resolve {}: {e}", self.setup.url.host))
            })?
            .collect();
        let (id, need_meta, poll_seconds) = self.register()?;
        self.id = Some(id);
        if need_meta {
            self.upload_meta()?;
        }
        // Only now can the center take final counters (409 before the meta).
        exit::set_id(id);
        self.connected = true;
        if self.failing || !self.announced {
            self.failing = false;
            self.announced = true;
            if !self.setup.quiet {
                eprint_line(format_args!(
                    "covwrap: connected to center {} as agent {id}",
                    self.setup.url
                ));
            }
        }
        loop {
            if !running() {
                return Ok(());
            }
            let target = format!("/v1/agents/{id}/command?wait={poll_seconds}");
            let wait = Duration::from_secs(poll_seconds) + POLL_MARGIN;
            let answer = self.call("GET", &target, "", b"", wait)?;
            let v = json_answer(&answer)?;
            let seq = v.get("seq").and_then(Value::as_u64);
            match (v.get("cmd").and_then(Value::as_str), seq) {
                (Some("snapshot"), Some(seq)) => self.send_snapshot(id, seq, false)?,
                (Some("snapshot-reset"), Some(seq)) => self.send_snapshot(id, seq, true)?,
                (Some("reset"), Some(seq)) => {
                    let _ = for_each_nonzero::<()>(self.counters, true, |_, _| Ok(()));
                    self.post_counters(id, seq, &[])?;
                }
                // `none`, or a command a newer center knows and we don't.
                _ => {}
            }
        }
    }

    fn register(&mut self) -> Result<(u64, bool, u64), Failure> {
        let mut body = String::with_capacity(512);
        let id = self
            .id
            .map_or_else(|| "null".to_string(), |id| id.to_string());
        let _ = write!(body, "{{\"id\":{id},\"service\":");
        json::write_str(&mut body, &self.setup.service);
        body.push_str(",\"host\":");
        json::write_str(&mut body, &self.hostname);
        let _ = write!(body, ",\"pid\":{},\"argv\":[", std::process::id());
        // Bounded: the center refuses control bodies over 64 KiB.
        let mut budget = 32 * 1024;
        for (i, a) in self.argv.iter().enumerate() {
            if a.len() > budget {
                break;
            }
            budget -= a.len();
            if i > 0 {
                body.push(',');
            }
            json::write_str(&mut body, a);
        }
        let _ = write!(
            body,
            "],\"start_time_ns\":{},\"meta_hash\":\"{}\",\"label\":",
            START_NS.load(Ordering::Relaxed),
            hex(&self.meta_hash)
        );
        let label: String = self.setup.label.chars().take(4096).collect();
        json::write_str(&mut body, &label);
        body.push_str(",\"version\":");
        json::write_str(&mut body, crate::VERSION);
        body.push('}');
        let answer = self.call(
            "POST",
            "/v1/agents",
            "application/json",
            body.as_bytes(),
            REQUEST_TIMEOUT,
        )?;
        let v = json_answer(&answer)?;
        let id = v
            .get("id")
            .and_then(Value::as_u64)
            .ok_or_else(|| Failure::Refused("registration answer without an id".into()))?;
        let need_meta = v.get("need_meta").and_then(Value::as_bool).unwrap_or(false);
        let poll = v
            .get("poll_seconds")
            .and_then(Value::as_u64)
            .unwrap_or(20)
            .clamp(1, 60);
        Ok((id, need_meta, poll))
    }

    fn upload_meta(&mut self) -> Result<(), Failure> {
        // Bytes built to learn the hash are kept (the center may ask again
        // after a restart); otherwise they are read when asked for.
        let bytes = match &self.meta_bytes {
            Some(b) => std::borrow::Cow::Borrowed(b.as_slice()),
            None => std::borrow::Cow::Owned(self.read_meta()?),
        };
        let target = format!("/v1/meta/{}", hex(&self.meta_hash));
        self.call(
            "PUT",
            &target,
            "application/octet-stream",
            &bytes,
            META_TIMEOUT,
        )
        .map(|_| ())
    }

    /// The meta file: COVDIR's copy, or built from the executable.
    fn read_meta(&self) -> Result<Vec<u8>, Failure> {
        if let Some(config) = CONFIG.get() {
            let dir = std::path::Path::new(std::ffi::OsStr::from_bytes(&config.out_dir));
            // A shared COVDIR's symlinks are never followed (docs/FORMAT.md).
            let path = dir.join(meta_file_name(&self.meta_hash));
            let mut bytes = Vec::new();
            if open_nofollow(&path)
                .and_then(|mut f| std::io::Read::read_to_end(&mut f, &mut bytes))
                .is_ok()
            {
                return Ok(bytes);
            }
        }
        match meta_from_exe(self.counters.len()) {
            Ok(Some((bytes, _))) => Ok(bytes),
            Ok(None) => Err(Failure::Refused(
                "this binary holds no instrumented code".into(),
            )),
            Err(message) => Err(Failure::Refused(message)),
        }
    }

    /// Answers a snapshot command. With `reset`, the counters read are
    /// added back if the center did not take them, so nothing is lost.
    fn send_snapshot(&self, id: u64, seq: u64, reset: bool) -> Result<(), Failure> {
        let mut taken: Vec<(u32, u64)> = Vec::new();
        let _ = for_each_nonzero::<()>(self.counters, reset, |i, v| {
            taken.push((i, v));
            Ok(())
        });
        let header = CountersHeader {
            flags: 0,
            meta_hash: self.meta_hash,
            pid: u64::from(std::process::id()),
            start_ns: START_NS.load(Ordering::Relaxed),
            write_ns: sys::realtime_ns(),
            num_counters: self.counters.len() as u32,
            end: end_reason::SNAPSHOT,
            runs: 1,
        };
        let Ok(mut w) = CountersWriter::begin(
            Vec::with_capacity(taken.len() * 4 + 256),
            &header,
            &self.args,
        );
        for &(i, v) in &taken {
            let Ok(()) = w.counter(i, v);
        }
        let Ok(body) = w.finish();
        let result = self.post_counters(id, seq, &body);
        if result.is_err() && reset {
            for (i, v) in taken {
                self.counters[i as usize].fetch_add(v, Ordering::Relaxed);
            }
        }
        result
    }

    fn post_counters(&self, id: u64, seq: u64, body: &[u8]) -> Result<(), Failure> {
        let target = format!("/v1/agents/{id}/counters?seq={seq}&final=0");
        self.call(
            "POST",
            &target,
            "application/octet-stream",
            body,
            REQUEST_TIMEOUT,
        )
        .map(|_| ())
    }

    /// One request; a 2xx answer is returned, anything else is a failure.
    fn call(
        &self,
        method: &str,
        target: &str,
        content_type: &str,
        body: &[u8],
        timeout: Duration,
    ) -> Result<Response, Failure> {
        let deadline = Instant::now() + timeout;
        let mut stream: TcpStream =
            http::connect(&self.addrs, CONNECT_TIMEOUT).map_err(unreachable)?;
        if let Ok(peer) = stream.peer_addr() {
            exit::set_peer(peer);
        }
        let full_target = format!("{}{target}", self.setup.url.prefix);
        let host = self.setup.url.host_header();
        let req = Request {
            method,
            target: &full_target,
            host: &host,
            token: self.setup.token.as_deref(),
            content_type,
            body,
        };
        let answer =
            http::exchange(&mut stream, &req, deadline, MAX_ANSWER).map_err(unreachable)?;
        match answer.status {
            200..=299 => Ok(answer),
            404 if target.starts_with("/v1/agents/") => Err(Failure::UnknownId),
            status => Err(Failure::Refused(format!(
                "{method} {full_target}: HTTP {status}: {}",
                answer.reason()
            ))),
        }
    }
}

fn unreachable(e: HttpError) -> Failure {
    Failure::Unreachable(e.to_string())
}

fn json_answer(answer: &Response) -> Result<Value, Failure> {
    json::parse(&answer.body).map_err(|e| Failure::Refused(format!("center answer: {e}")))
}
