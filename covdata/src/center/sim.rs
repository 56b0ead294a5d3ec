//! A simulated agent: a process-less client speaking the agent side of the
//! protocol with real HTTP, for the center's tests and its benchmark
//! (covdata/examples/simagents.rs). It holds a dense counter array like a
//! program's and answers commands as the runtime's agent does.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::center::now_ns;

use bytes::Bytes;
use hyper::{Method, StatusCode};

use super::http::{exchange, Answer, CenterUrl};
use super::wire::{Cmd, Command, Register, Registered};
use covwrap_rt::format::counters::{encode, CountersHeader};
use covwrap_rt::format::defs::{end_reason, MetaHash};
use covwrap_rt::format::md5::hex;
use covwrap_rt::format::meta::MetaFile;

/// One simulated agent.
#[derive(Clone, Debug)]
pub struct SimAgent {
    center: CenterUrl,
    token: Option<String>,
    /// What it registers with; `id` is the center's answer.
    pub reg: Register,
    meta: Bytes,
    hash: MetaHash,
    /// The program's counters, shared by clones.
    counters: Arc<Mutex<Vec<u64>>>,
    /// Set, the agent takes commands but never answers (a frozen process).
    pub frozen: Arc<AtomicBool>,
    /// Each request's deadline.
    pub deadline: Duration,
}

impl SimAgent {
    /// An agent of `service` for meta file `meta`, counters at zero.
    pub fn new(
        center: &str,
        token: Option<&str>,
        service: &str,
        pid: u64,
        meta: &[u8],
    ) -> Result<SimAgent, String> {
        let center = CenterUrl::parse(center)?;
        let parsed = MetaFile::parse(meta).map_err(|e| e.to_string())?;
        let hash = parsed.hash();
        Ok(SimAgent {
            center,
            token: token.map(str::to_string),
            reg: Register {
                id: None,
                service: service.to_string(),
                host: "sim".into(),
                pid,
                argv: vec![format!("sim-{service}")],
                start_time_ns: now_ns(),
                meta_hash: hex(&hash),
                label: String::new(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            meta: Bytes::copy_from_slice(meta),
            hash,
            counters: Arc::new(Mutex::new(vec![0; parsed.total_counters() as usize])),
            frozen: Arc::new(AtomicBool::new(false)),
            deadline: Duration::from_secs(10),
        })
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Bytes,
        ct: &str,
    ) -> Result<Answer, String> {
        exchange(
            &self.center,
            method,
            path,
            self.token.as_deref(),
            Some(ct),
            body,
            1 << 20,
            self.deadline,
        )
        .await
    }

    fn ok(answer: Answer, what: &str) -> Result<Answer, String> {
        if answer.status.is_success() {
            Ok(answer)
        } else {
            Err(format!("{what}: {}", answer.reason()))
        }
    }

    /// Registers (again, with its id once it has one); uploads the meta
    /// file when the center asks for it.
    pub async fn register(&mut self) -> Result<Registered, String> {
        let body = serde_json::to_vec(&self.reg).expect("serializes");
        let answer = self
            .call(Method::POST, "/v1/agents", body.into(), "application/json")
            .await?;
        let answer = Self::ok(answer, "register")?;
        let reg: Registered = serde_json::from_slice(&answer.body).map_err(|e| e.to_string())?;
        self.reg.id = Some(reg.id);
        if reg.need_meta {
            let path = format!("/v1/meta/{}", hex(&self.hash));
            let answer = self
                .call(
                    Method::PUT,
                    &path,
                    self.meta.clone(),
                    "application/octet-stream",
                )
                .await?;
            Self::ok(answer, "meta upload")?;
        }
        Ok(reg)
    }

    /// Adds `n` to counter `i` (as running code does).
    pub fn bump(&self, i: usize, n: u64) {
        let mut c = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        c[i] = c[i].saturating_add(n);
    }

    /// Sets every counter.
    pub fn set_counters(&self, values: &[u64]) {
        let mut c = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        c.copy_from_slice(values);
    }

    /// The counters now.
    pub fn counts(&self) -> Vec<u64> {
        self.counters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn take(&self, reset: bool) -> Vec<u64> {
        let mut c = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        let out = c.clone();
        if reset {
            c.iter_mut().for_each(|v| *v = 0);
        }
        out
    }

    /// The counters as a covcounters file with end reason `end`.
    pub fn counters_file(&self, end: u32) -> Vec<u8> {
        self.encode(&self.counts(), end)
    }

    fn encode(&self, counters: &[u64], end: u32) -> Vec<u8> {
        let header = CountersHeader {
            flags: 0,
            meta_hash: self.hash,
            pid: self.reg.pid,
            start_ns: self.reg.start_time_ns,
            write_ns: now_ns(),
            num_counters: counters.len() as u32,
            end,
            runs: 1,
        };
        let args = vec![("argv".to_string(), self.reg.argv.join(" "))];
        let entries = counters
            .iter()
            .enumerate()
            .filter(|(_, v)| **v != 0)
            .map(|(i, v)| (i as u32, *v));
        encode(&header, &args, entries)
    }

    fn id(&self) -> u64 {
        self.reg.id.unwrap_or(0)
    }

    /// One command poll and its answer; returns the command handled.
    /// An unknown id registers again.
    pub async fn poll_once(&mut self, wait: u64) -> Result<Cmd, String> {
        let path = format!("/v1/agents/{}/command?wait={wait}", self.id());
        let mut poll = self.clone();
        poll.deadline = Duration::from_secs(wait) + self.deadline;
        let answer = poll
            .call(Method::GET, &path, Bytes::new(), "application/json")
            .await?;
        if answer.status == StatusCode::NOT_FOUND {
            self.register().await?;
            return Ok(Cmd::None);
        }
        let answer = Self::ok(answer, "poll")?;
        let cmd: Command = serde_json::from_slice(&answer.body).map_err(|e| e.to_string())?;
        let seq = cmd.seq.unwrap_or(0);
        if cmd.cmd != Cmd::None && self.frozen.load(Ordering::SeqCst) {
            return Ok(cmd.cmd);
        }
        let body = match cmd.cmd {
            Cmd::None => return Ok(Cmd::None),
            Cmd::Snapshot => self.counters_file(end_reason::SNAPSHOT),
            Cmd::SnapshotReset => self.encode(&self.take(true), end_reason::SNAPSHOT),
            Cmd::Reset => {
                self.take(true);
                Vec::new()
            }
        };
        let path = format!("/v1/agents/{}/counters?seq={seq}&final=0", self.id());
        let answer = self
            .call(Method::POST, &path, body.into(), "application/octet-stream")
            .await?;
        Self::ok(answer, "counters")?;
        Ok(cmd.cmd)
    }

    /// Polls and answers until `stop` is set; errors (the center down)
    /// are retried after `backoff`, registering again.
    pub async fn run_until(mut self, stop: Arc<AtomicBool>, wait: u64, backoff: Duration) {
        let mut registered = self.reg.id.is_some();
        while !stop.load(Ordering::SeqCst) {
            let step = if registered {
                self.poll_once(wait).await.map(|_| ())
            } else {
                self.register().await.map(|_| ())
            };
            match step {
                Ok(()) => registered = true,
                Err(_) => {
                    registered = false;
                    tokio::time::sleep(backoff).await;
                }
            }
        }
    }

    /// Sends the final counters (`final=1`), as a program does at exit.
    pub async fn exit(&self) -> Result<(), String> {
        let path = format!("/v1/agents/{}/counters?final=1", self.id());
        let body = self.counters_file(end_reason::EXIT);
        let answer = self
            .call(Method::POST, &path, body.into(), "application/octet-stream")
            .await?;
        Self::ok(answer, "final counters").map(|_| ())
    }
}
