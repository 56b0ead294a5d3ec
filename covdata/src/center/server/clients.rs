//! The client side of the protocol: list, profile, clear, remove, init.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use covwrap_rt::format::names::meta_file_name;
use tokio::sync::oneshot;

use super::agents::{parse_hash, wait_flush};
use super::state::{query_pairs, Inner, Shared};
use super::{fail, Failure};
use crate::center::bundle;
use crate::center::registry::{selection_from_query, AgentRecord, Filter};
use crate::center::wire::{self, AgentList, Cleared, Cmd, Initialized, Removed, Skipped, Status};
use crate::source::{load_memory, MemDir};

/// Longest per-agent timeout a request may ask for.
const MAX_TIMEOUT: Duration = Duration::from_secs(600);
/// Per-agent timeout when a request gives none.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

struct Request {
    filter: Filter,
    timeout: Duration,
    query: std::collections::BTreeMap<String, String>,
}

fn request(query: Option<&str>) -> Result<Request, Failure> {
    let q = query_pairs(query);
    let sel = selection_from_query(&q).map_err(|e| fail(StatusCode::BAD_REQUEST, e))?;
    let filter = Filter::new(&sel).map_err(|e| fail(StatusCode::BAD_REQUEST, e))?;
    let timeout = match q.get("timeout") {
        Some(t) => Duration::from_millis(t.parse::<u64>().map_err(|_| {
            fail(
                StatusCode::BAD_REQUEST,
                format!("bad timeout {t:?} (milliseconds)"),
            )
        })?)
        .min(MAX_TIMEOUT),
        None => DEFAULT_TIMEOUT,
    };
    Ok(Request {
        filter,
        timeout,
        query: q,
    })
}

pub async fn list(
    State(sh): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Result<Json<AgentList>, Failure> {
    let req = request(query.as_deref())?;
    let inner = sh.lock();
    let agents = inner
        .selected(&req.filter)
        .iter()
        .map(|a| a.info(inner.status(a, sh.heartbeat)))
        .collect();
    Ok(Json(AgentList { agents }))
}

/// A command sent to one agent, awaiting its answer.
struct Sent {
    agent: AgentRecord,
    seq: u64,
    rx: oneshot::Receiver<Bytes>,
}

/// Sends `cmd` to every selected connected agent; the others are returned
/// apart.
fn send_all(
    sh: &Shared,
    inner: &mut Inner,
    agents: Vec<AgentRecord>,
    cmd: Cmd,
) -> (Vec<Sent>, Vec<AgentRecord>) {
    let mut sent = Vec::new();
    let mut idle = Vec::new();
    for agent in agents {
        if inner.status(&agent, sh.heartbeat) == Status::Connected {
            let (seq, rx) = inner.send(agent.id, cmd);
            sent.push(Sent { agent, seq, rx });
        } else {
            idle.push(agent);
        }
    }
    (sent, idle)
}

/// Awaits every answer until `timeout` from now (all agents run at once,
/// so one deadline bounds the whole wait); answers and failures.
async fn collect(
    sh: &Shared,
    sent: Vec<Sent>,
    timeout: Duration,
) -> (Vec<(AgentRecord, Bytes)>, Vec<(AgentRecord, String)>) {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    for s in sent {
        match tokio::time::timeout_at(deadline, s.rx).await {
            Ok(Ok(bytes)) => ok.push((s.agent, bytes)),
            Ok(Err(_)) => failed.push((s.agent, "the agent went away".to_string())),
            Err(_) => {
                sh.lock().forget(s.agent.id, s.seq);
                failed.push((s.agent, format!("timeout after {} ms", timeout.as_millis())));
            }
        }
    }
    (ok, failed)
}

fn skipped_header(agent: &AgentRecord, reason: &str) -> HeaderValue {
    let text = format!(
        "id={} service={} host={} reason={reason}",
        agent.id, agent.service, agent.host
    );
    let clean: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    HeaderValue::from_str(&clean)
        .unwrap_or_else(|_| HeaderValue::from_static("id=? reason=unprintable"))
}

pub async fn profile(
    State(sh): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Result<Response, Failure> {
    let req = request(query.as_deref())?;
    let pcombine = match req.query.get("pcombine").map(String::as_str) {
        None | Some("0") => false,
        Some("1") => true,
        Some(p) => {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                format!("bad pcombine {p:?} (0 or 1)"),
            ))
        }
    };
    let (sent, idle) = {
        let mut inner = sh.lock();
        let agents = inner.selected(&req.filter);
        send_all(&sh, &mut inner, agents, Cmd::Snapshot)
    };
    let (answers, failed) = collect(&sh, sent, req.timeout).await;
    let mut dir = MemDir::new("profile");
    let mut skipped: Vec<HeaderValue> = failed.iter().map(|(a, r)| skipped_header(a, r)).collect();
    {
        let inner = sh.lock();
        let add_meta = |dir: &mut MemDir, agent: &AgentRecord| -> bool {
            let Some(hash) = parse_hash(&agent.meta_hash) else {
                return false;
            };
            let name = meta_file_name(&hash);
            match inner.store.cov.get(&name) {
                Some(bytes) => {
                    dir.insert(name, bytes.clone());
                    true
                }
                None => false,
            }
        };
        for (agent, bytes) in &answers {
            if bytes.is_empty() {
                continue;
            }
            if add_meta(&mut dir, agent) {
                dir.insert(agent.counters_name.clone(), &bytes[..]);
            } else {
                skipped.push(skipped_header(agent, "no meta file uploaded"));
            }
        }
        for agent in &idle {
            if let Some(bytes) = inner.store.cov.get(&agent.counters_name) {
                if add_meta(&mut dir, agent) {
                    dir.insert(agent.counters_name.clone(), bytes.clone());
                }
            }
        }
    }
    let body = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, String> {
        if !pcombine || dir.is_empty() {
            return Ok(bundle::encode(&dir));
        }
        // The same code as `covdata merge --pcombine`.
        let loaded = load_memory(&dir, crate::LoadOptions::default()).map_err(|e| e.to_string())?;
        let out = crate::ops::merge(
            &loaded,
            &crate::ops::MergeOptions {
                pcombine: true,
                ..Default::default()
            },
        )
        .map_err(|e| e.to_string())?;
        let mut merged = MemDir::new("profile");
        for f in out.files {
            merged.insert(f.name, f.bytes);
        }
        Ok(bundle::encode(&merged))
    })
    .await
    .map_err(|e| fail(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
    .map_err(|e| {
        fail(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("combining the profile failed: {e}"),
        )
    })?;
    let mut resp = body.into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    for s in skipped {
        headers.append(wire::SKIPPED_HEADER, s);
    }
    Ok(resp)
}

pub async fn clear(
    State(sh): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Result<Json<Cleared>, Failure> {
    let req = request(query.as_deref())?;
    let (sent, idle) = {
        let mut inner = sh.lock();
        let agents = inner.selected(&req.filter);
        // Stored counters go first: an answer racing with the reset is
        // before it (min_seq drops it) or after it (it counts anew).
        for a in &agents {
            inner.store.remove(&a.counters_name);
        }
        send_all(&sh, &mut inner, agents, Cmd::Reset)
    };
    let (answers, failed) = collect(&sh, sent, req.timeout).await;
    let mut cleared: Vec<u64> = answers
        .iter()
        .map(|(a, _)| a.id)
        .chain(idle.iter().map(|a| a.id))
        .collect();
    cleared.sort_unstable();
    let skipped = failed
        .into_iter()
        .map(|(a, reason)| Skipped { id: a.id, reason })
        .collect();
    let done = sh.lock().store.flush();
    wait_flush(done).await;
    Ok(Json(Cleared { cleared, skipped }))
}

pub async fn remove(
    State(sh): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Result<Json<Removed>, Failure> {
    let req = request(query.as_deref())?;
    let data = match req.query.get("data").map(String::as_str) {
        None | Some("0") => false,
        Some("1") => true,
        Some(d) => {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                format!("bad data {d:?} (0 or 1)"),
            ))
        }
    };
    let done = {
        let mut inner = sh.lock();
        let agents = inner.selected(&req.filter);
        let mut removed = Vec::new();
        for a in agents {
            inner.store.registry.agents.remove(&a.id);
            if let Some(link) = inner.links.remove(&a.id) {
                link.notify.notify_waiters();
            }
            if data {
                inner.store.remove(&a.counters_name);
            }
            removed.push(a.id);
        }
        inner.store.save_registry();
        (removed, inner.store.flush())
    };
    wait_flush(done.1).await;
    Ok(Json(Removed { removed: done.0 }))
}

pub async fn init(
    State(sh): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Result<Json<Initialized>, Failure> {
    let req = request(query.as_deref())?;
    let sent = {
        let mut inner = sh.lock();
        let agents = inner.selected(&Filter::default());
        send_all(&sh, &mut inner, agents, Cmd::Reset).0
    };
    let (answers, failed) = collect(&sh, sent, req.timeout).await;
    let done = {
        let mut inner = sh.lock();
        inner.store.wipe();
        inner.meta_counters.clear();
        for (_, link) in inner.links.drain() {
            link.notify.notify_waiters();
        }
        inner.store.flush()
    };
    wait_flush(done).await;
    let mut reset: Vec<u64> = answers.iter().map(|(a, _)| a.id).collect();
    reset.sort_unstable();
    let skipped = failed
        .into_iter()
        .map(|(a, reason)| Skipped { id: a.id, reason })
        .collect();
    Ok(Json(Initialized { reset, skipped }))
}
