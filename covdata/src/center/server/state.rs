//! The center's state: the store plus, per agent, its live link (queued
//! commands, polls in flight, snapshots awaited). One mutex, never held
//! across an await.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{oneshot, Notify};

use super::super::registry::{AgentRecord, Filter};
use super::super::store::Store;
use super::super::wire::{Cmd, Command, Status};

use crate::center::now_ns;

/// An agent's live side.
#[derive(Default)]
pub struct Link {
    pub queue: VecDeque<Command>,
    pub notify: Arc<Notify>,
    /// Command polls in flight.
    pub polls: usize,
    pub next_seq: u64,
    /// Answers awaited, by seq.
    pub pending: HashMap<u64, oneshot::Sender<Bytes>>,
    /// Snapshots of commands before this seq predate a reset: not kept.
    pub min_seq: u64,
}

/// Everything behind the mutex.
pub struct Inner {
    pub store: Store,
    pub links: HashMap<u64, Link>,
    /// Counters per meta hash (hex), for checking uploads.
    pub meta_counters: HashMap<String, u32>,
}

/// The state every handler shares.
pub struct Shared {
    inner: Mutex<Inner>,
    pub token: Option<String>,
    pub heartbeat: Duration,
    pub stopping: AtomicBool,
}

impl Shared {
    pub fn new(inner: Inner, token: Option<String>, heartbeat: Duration) -> Shared {
        Shared {
            inner: Mutex::new(inner),
            token,
            heartbeat,
            stopping: AtomicBool::new(false),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        // A handler that panicked left the state consistent enough: every
        // change under the lock is a few field writes.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Wakes every poll, so that they end (shutdown, removal).
    pub fn wake_all(&self) {
        let inner = self.lock();
        for link in inner.links.values() {
            link.notify.notify_waiters();
            link.notify.notify_one();
        }
    }

    /// The poll interval given to agents: a third of the heartbeat
    /// timeout, between 1 and 20 s, so a live agent is never marked
    /// disconnected between two polls.
    pub fn poll_seconds(&self) -> u64 {
        (self.heartbeat.as_secs() / 3).clamp(1, 20)
    }
}

impl Inner {
    /// The agent's status now.
    pub fn status(&self, agent: &AgentRecord, heartbeat: Duration) -> Status {
        if agent.exited {
            return Status::Exited;
        }
        let polling = self.links.get(&agent.id).is_some_and(|l| l.polls > 0);
        let recent = now_ns().saturating_sub(agent.last_seen_ns) <= heartbeat.as_nanos() as u64;
        if polling || recent {
            Status::Connected
        } else {
            Status::Disconnected
        }
    }

    /// The selected agents, by id.
    pub fn selected(&self, filter: &Filter) -> Vec<AgentRecord> {
        self.store
            .registry
            .agents
            .values()
            .filter(|a| filter.matches(a))
            .cloned()
            .collect()
    }

    /// Queues `cmd` for agent `id`; returns its seq and the receiver of
    /// the agent's answer.
    pub fn send(&mut self, id: u64, cmd: Cmd) -> (u64, oneshot::Receiver<Bytes>) {
        let link = self.links.entry(id).or_default();
        link.next_seq += 1;
        let seq = link.next_seq;
        let (tx, rx) = oneshot::channel();
        link.pending.insert(seq, tx);
        link.queue.push_back(Command {
            cmd,
            seq: Some(seq),
        });
        if cmd != Cmd::Snapshot {
            // Snapshots asked before a reset are not kept once it is sent.
            link.min_seq = seq;
        }
        link.notify.notify_one();
        (seq, rx)
    }

    /// Forgets command `seq` of agent `id` (it timed out).
    pub fn forget(&mut self, id: u64, seq: u64) {
        if let Some(link) = self.links.get_mut(&id) {
            link.pending.remove(&seq);
            link.queue.retain(|c| c.seq != Some(seq));
        }
    }
}

/// Parses a query string into its (decoded) pairs; the last of a key wins.
pub fn query_pairs(query: Option<&str>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        out.insert(decode(k), decode(v));
    }
    out
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                    16,
                ) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_decode() {
        let q = query_pairs(Some("service=a%2Cb&label=x%2B.*&id=1,2&empty&t=%zz"));
        assert_eq!(q["service"], "a,b");
        assert_eq!(q["label"], "x+.*");
        assert_eq!(q["id"], "1,2");
        assert_eq!(q["empty"], "");
        assert_eq!(q["t"], "%zz");
        assert!(query_pairs(None).is_empty());
        assert_eq!(query_pairs(Some("a=%4"))["a"], "%4");
    }
}
