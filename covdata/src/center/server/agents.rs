//! The agent side of the protocol: register, meta upload, command polls,
//! counter uploads.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use covwrap_rt::format::counters::CountersFile;
use covwrap_rt::format::defs::MetaHash;
use covwrap_rt::format::md5::hex;
use covwrap_rt::format::names::meta_file_name;

use super::state::{query_pairs, Shared};
use super::{fail, Failure};
use crate::center::now_ns;
use crate::center::registry::AgentRecord;
use crate::center::wire::{self, Cmd, Command, Register, Registered};
use crate::reader::Pod;

/// Parses 32 hex digits (the file-name rule, of either case).
pub fn parse_hash(s: &str) -> Option<MetaHash> {
    covwrap_rt::format::names::parse_hash(&s.to_ascii_lowercase())
}

pub async fn register(
    State(sh): State<Arc<Shared>>,
    body: Bytes,
) -> Result<Json<Registered>, Failure> {
    let reg: Register = serde_json::from_slice(&body)
        .map_err(|e| fail(StatusCode::BAD_REQUEST, format!("bad registration: {e}")))?;
    let Some(hash) = parse_hash(&reg.meta_hash) else {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "bad registration: meta_hash is not 32 hex digits",
        ));
    };
    if reg.service.is_empty() {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "bad registration: empty service",
        ));
    }
    let mut inner = sh.lock();
    let registry = &inner.store.registry;
    // The same process keeps its id; an id the store has never given (a
    // center that lost its store) is granted again while it is free.
    let id = match reg.id {
        Some(id) => match registry.agents.get(&id) {
            Some(a) if a.same_process(&reg) => Some(id),
            Some(_) => None,
            // Ids are small counters; anything else is not one we gave.
            None if (1..u64::MAX / 2).contains(&id) => Some(id),
            None => None,
        },
        None => None,
    };
    let id = id.unwrap_or(inner.store.registry.next_id);
    let registry = &mut inner.store.registry;
    registry.next_id = registry.next_id.max(id.saturating_add(1));
    let counters_name = match registry.agents.get(&id) {
        Some(a) => a.counters_name.clone(),
        None => registry.counters_name(&reg, &hash),
    };
    registry.agents.insert(
        id,
        AgentRecord {
            id,
            service: reg.service,
            host: reg.host,
            pid: reg.pid,
            argv: reg.argv,
            start_time_ns: reg.start_time_ns,
            meta_hash: hex(&hash),
            label: reg.label,
            version: reg.version,
            exited: false,
            last_seen_ns: now_ns(),
            counters_name,
        },
    );
    inner.links.entry(id).or_default();
    inner.store.registry_changed();
    let need_meta = inner.store.cov.get(&meta_file_name(&hash)).is_none();
    Ok(Json(Registered {
        id,
        need_meta,
        poll_seconds: sh.poll_seconds(),
    }))
}

pub async fn put_meta(
    State(sh): State<Arc<Shared>>,
    Path(hash_text): Path<String>,
    body: Bytes,
) -> Result<StatusCode, Failure> {
    let Some(hash) = parse_hash(&hash_text) else {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            format!("bad meta hash {hash_text:?}"),
        ));
    };
    let name = meta_file_name(&hash);
    if sh.lock().store.cov.get(&name).is_some() {
        return Ok(StatusCode::NO_CONTENT);
    }
    let checked = tokio::task::spawn_blocking(move || {
        Pod::from_meta_bytes(body.to_vec(), Some(&hash))
            .map(|pod| (pod.counters.len() as u32, body))
    })
    .await
    .map_err(|e| fail(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let (total, body) = checked.map_err(|e| {
        fail(
            StatusCode::BAD_REQUEST,
            format!("bad meta file: {}", e.detail()),
        )
    })?;
    let done = {
        let mut inner = sh.lock();
        inner.meta_counters.insert(hex(&hash), total);
        inner.store.put(&name, Arc::from(&body[..]), true);
        inner.store.flush()
    };
    wait_flush(done).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Waits for a store flush without holding a runtime thread.
pub async fn wait_flush(done: Option<std::sync::mpsc::Receiver<()>>) {
    if let Some(rx) = done {
        let _ = tokio::task::spawn_blocking(move || rx.recv()).await;
    }
}

/// Ends a poll: counts it out, notes the time.
struct PollGuard {
    sh: Arc<Shared>,
    id: u64,
}

impl Drop for PollGuard {
    fn drop(&mut self) {
        let mut inner = self.sh.lock();
        if let Some(link) = inner.links.get_mut(&self.id) {
            link.polls = link.polls.saturating_sub(1);
        }
        if let Some(a) = inner.store.registry.agents.get_mut(&self.id) {
            a.last_seen_ns = now_ns();
        }
    }
}

pub async fn poll(
    State(sh): State<Arc<Shared>>,
    Path(id): Path<u64>,
    RawQuery(query): RawQuery,
) -> Result<Json<Command>, Failure> {
    let q = query_pairs(query.as_deref());
    let wait = match q.get("wait") {
        Some(w) => w
            .parse::<u64>()
            .map_err(|_| fail(StatusCode::BAD_REQUEST, format!("bad wait {w:?}")))?,
        None => sh.poll_seconds(),
    }
    .min(wire::MAX_WAIT_SECONDS);
    let notify = {
        let mut inner = sh.lock();
        let Some(agent) = inner.store.registry.agents.get_mut(&id) else {
            return Err(unknown(id));
        };
        agent.last_seen_ns = now_ns();
        let link = inner.links.entry(id).or_default();
        link.polls += 1;
        link.notify.clone()
    };
    let _guard = PollGuard { sh: sh.clone(), id };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
    loop {
        let notified = notify.notified();
        {
            let mut inner = sh.lock();
            if sh.stopping() {
                return Err(fail(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the center is shutting down",
                ));
            }
            if !inner.store.registry.agents.contains_key(&id) {
                return Err(unknown(id));
            }
            if let Some(cmd) = inner.links.get_mut(&id).and_then(|l| l.queue.pop_front()) {
                return Ok(Json(cmd));
            }
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return Ok(Json(Command {
                cmd: Cmd::None,
                seq: None,
            }));
        }
    }
}

fn unknown(id: u64) -> Failure {
    fail(
        StatusCode::NOT_FOUND,
        format!("unknown agent id {id} (register again)"),
    )
}

pub async fn counters(
    State(sh): State<Arc<Shared>>,
    Path(id): Path<u64>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, Failure> {
    let q = query_pairs(query.as_deref());
    let seq = match q.get("seq") {
        Some(s) => Some(
            s.parse::<u64>()
                .map_err(|_| fail(StatusCode::BAD_REQUEST, format!("bad seq {s:?}")))?,
        ),
        None => None,
    };
    let is_final = match q.get("final").map(String::as_str) {
        None | Some("0") => false,
        Some("1") => true,
        Some(f) => {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                format!("bad final {f:?} (0 or 1)"),
            ))
        }
    };
    if !is_final && seq.is_none() {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "counters need seq=N or final=1",
        ));
    }
    let (hash, total) = {
        let inner = sh.lock();
        let Some(agent) = inner.store.registry.agents.get(&id) else {
            return Err(unknown(id));
        };
        (
            agent.meta_hash.clone(),
            inner.meta_counters.get(&agent.meta_hash).copied(),
        )
    };
    if !body.is_empty() {
        let file = CountersFile::parse(&body).map_err(|e| {
            fail(
                StatusCode::BAD_REQUEST,
                format!("bad counters file: {}", e.detail()),
            )
        })?;
        let h = file.header();
        if hex(&h.meta_hash) != hash {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                format!(
                    "counters of meta {} but agent {id} registered meta {hash}",
                    hex(&h.meta_hash)
                ),
            ));
        }
        match total {
            None => {
                return Err(fail(
                    StatusCode::CONFLICT,
                    format!("no meta file {hash} yet (upload it first)"),
                ));
            }
            Some(t) if t != h.num_counters => {
                return Err(fail(
                    StatusCode::BAD_REQUEST,
                    format!("{} counters, but meta {hash} describes {t}", h.num_counters),
                ));
            }
            Some(_) => {}
        }
    } else if is_final {
        return Err(fail(StatusCode::BAD_REQUEST, "final counters need a body"));
    }
    let done = {
        let mut inner = sh.lock();
        let Some(agent) = inner.store.registry.agents.get_mut(&id) else {
            return Err(unknown(id));
        };
        agent.last_seen_ns = now_ns();
        let name = agent.counters_name.clone();
        if is_final {
            agent.exited = true;
        }
        let link = inner.links.entry(id).or_default();
        let keep = !body.is_empty() && (is_final || seq.is_some_and(|s| s >= link.min_seq));
        if let Some(tx) = seq.and_then(|s| link.pending.remove(&s)) {
            let _ = tx.send(body.clone());
        }
        if keep {
            inner.store.put(&name, Arc::from(&body[..]), is_final);
        }
        if is_final {
            // The counters are synced before the answer; the registry's
            // `exited` follows with the next batch (a stored counter file
            // is in every profile either way).
            inner.store.registry_changed();
            inner.store.flush()
        } else {
            None
        }
    };
    wait_flush(done).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}
