//! `covdata serve`: the center's HTTP server (axum on tokio).
//!
//! - [`state`]: the shared state (store, live links).
//! - [`agents`]: what agents call; [`clients`]: what commands call.
//!
//! Every request is checked for the token first (constant time), then
//! bounded by its route's body limit; every error is a 4xx/5xx with a
//! one-line `text/plain` reason.

mod agents;
mod clients;
mod state;

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;

use super::store::{Store, StoreSpec};
use super::wire;
use state::{Inner, Shared};

/// How to run a center.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// `--addr`: where to listen (`127.0.0.1:7777`; port 0 picks one).
    pub addr: String,
    /// `--store`.
    pub store: StoreSpec,
    /// `--token` / `COVDATA_CENTER_TOKEN`.
    pub token: Option<String>,
    /// `--heartbeat`: silent this long, an agent is disconnected.
    pub heartbeat: Duration,
    /// `--exit-after`: stop by itself after this long (tests, demos).
    pub exit_after: Option<Duration>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            addr: "127.0.0.1:7777".into(),
            store: StoreSpec::Memory,
            token: None,
            heartbeat: Duration::from_secs(30),
            exit_after: None,
        }
    }
}

/// A one-line error answer.
#[derive(Debug)]
pub struct Failure(StatusCode, String);

/// A [`Failure`] with `status` and a one-line `reason`.
pub fn fail(status: StatusCode, reason: impl Into<String>) -> Failure {
    let reason: String = reason.into();
    let line = reason.split_whitespace().collect::<Vec<_>>().join(" ");
    Failure(status, line)
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut resp = (self.0, format!("{}\n", self.1)).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        resp
    }
}

/// Constant-time equality: the time depends on the lengths only.
fn same_secret(given: &[u8], want: &[u8]) -> bool {
    let mut diff = u8::from(given.len() != want.len());
    for (i, w) in want.iter().enumerate() {
        diff |= w ^ given.get(i).copied().unwrap_or(0);
    }
    diff == 0
}

async fn auth(State(sh): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    if let Some(token) = &sh.token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
            .unwrap_or(b"");
        if !same_secret(given, token.as_bytes()) {
            return fail(StatusCode::UNAUTHORIZED, "missing or wrong token").into_response();
        }
    }
    if sh.stopping() {
        return fail(
            StatusCode::SERVICE_UNAVAILABLE,
            "the center is shutting down",
        )
        .into_response();
    }
    // An announced length over the limit is refused before any byte of
    // the body is read (the route's limit also stops chunked bodies).
    let limit = body_limit(req.uri().path());
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        return fail(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "request body of {} bytes over the limit of {limit} bytes",
                announced.unwrap_or(0)
            ),
        )
        .into_response();
    }
    next.run(req).await
}

/// Turns axum's own rejections (body too long, bad path) into one line.
async fn one_line_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    let plain = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/plain; charset=utf-8"));
    if !(status.is_client_error() || status.is_server_error()) || plain {
        return resp;
    }
    let body = axum::body::to_bytes(resp.into_body(), 4096)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body);
    let reason = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "request body over the limit".to_string()
    } else if text.trim().is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        text.into_owned()
    };
    fail(status, reason).into_response()
}

/// The body limit of a path (docs/CENTER.md, Limits).
fn body_limit(path: &str) -> usize {
    if path.starts_with("/v1/meta/") {
        wire::META_LIMIT
    } else if path.ends_with("/counters") {
        wire::COUNTERS_LIMIT
    } else {
        wire::CONTROL_LIMIT
    }
}

fn router(sh: Arc<Shared>) -> Router {
    let control = DefaultBodyLimit::max(wire::CONTROL_LIMIT);
    Router::new()
        .route(
            "/v1/agents",
            post(agents::register).layer(control).get(clients::list),
        )
        .route(
            "/v1/meta/{hash}",
            put(agents::put_meta).layer(DefaultBodyLimit::max(wire::META_LIMIT)),
        )
        .route("/v1/agents/{id}/command", get(agents::poll))
        .route(
            "/v1/agents/{id}/counters",
            post(agents::counters).layer(DefaultBodyLimit::max(wire::COUNTERS_LIMIT)),
        )
        .route("/v1/profile", get(clients::profile))
        .route("/v1/clear", post(clients::clear).layer(control))
        .route("/v1/remove", post(clients::remove).layer(control))
        .route("/v1/init", post(clients::init).layer(control))
        .fallback(|| async {
            fail(
                StatusCode::NOT_FOUND,
                "no such endpoint (the protocol is /v1/...)",
            )
        })
        .layer(middleware::from_fn_with_state(sh.clone(), auth))
        .layer(middleware::from_fn(one_line_errors))
        .with_state(sh)
}

/// Runs a center until SIGTERM, SIGINT or `exit_after`; prints
/// `listening on ADDR` as the first line on stdout once it listens.
/// Errors are one line.
pub fn serve(opts: ServeOptions) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    rt.block_on(run(opts))
}

async fn run(opts: ServeOptions) -> Result<(), String> {
    let store = Store::open(&opts.store)?;
    let mut meta_counters = HashMap::new();
    for (name, bytes) in store.cov.files() {
        if let Some(hex) = name.strip_prefix("covmeta.") {
            if let Ok(pod) = crate::reader::Pod::from_meta_bytes(bytes.to_vec(), None) {
                meta_counters.insert(hex.to_string(), pod.counters.len() as u32);
            }
        }
    }
    let listener = listen(&opts.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", opts.addr))?;
    let addr: SocketAddr = listener.local_addr().map_err(|e| e.to_string())?;
    let token = opts.token.filter(|t| !t.is_empty());
    if !addr.ip().is_loopback() && token.is_none() {
        eprintln!(
            "covdata serve: warning: listening on {addr} without a token: anyone who reaches it can read and reset coverage (give --token or COVDATA_CENTER_TOKEN)"
        );
    }
    let sh = Arc::new(Shared::new(
        Inner {
            store,
            links: HashMap::new(),
            meta_counters,
        },
        token,
        opts.heartbeat,
    ));
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {addr}")
            .and_then(|()| out.flush())
            .map_err(|e| format!("standard output: {e}"))?;
    }
    let stop = {
        let sh = sh.clone();
        let exit_after = opts.exit_after;
        async move {
            stop_signal(exit_after).await;
            sh.stopping.store(true, Ordering::SeqCst);
            sh.wake_all();
        }
    };
    // Registrations are written in batches, a few times a second.
    {
        let sh = sh.clone();
        tokio::spawn(async move {
            while !sh.stopping() {
                tokio::time::sleep(Duration::from_millis(250)).await;
                sh.lock().store.save_if_dirty();
            }
        });
    }
    let server = axum::serve(listener, router(sh.clone())).with_graceful_shutdown(stop);
    let stopped = Arc::new(tokio::sync::Notify::new());
    let serving = {
        let stopped = stopped.clone();
        async move {
            let r = server.await;
            stopped.notify_one();
            r
        }
    };
    // Connections still open a few seconds after the signal (a client
    // that keeps one idle) do not hold the center up.
    let watchdog = {
        let sh = sh.clone();
        async move {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if sh.stopping() {
                    tokio::time::sleep(Duration::from_secs(3)).await;
                    return;
                }
            }
        }
    };
    tokio::select! {
        r = serving => r.map_err(|e| format!("serving on {addr}: {e}"))?,
        () = watchdog => {}
    }
    let done = {
        let mut inner = sh.lock();
        inner.store.save_if_dirty();
        inner.store.flush()
    };
    if let Some(rx) = done {
        let _ = tokio::task::spawn_blocking(move || rx.recv()).await;
    }
    Ok(())
}

/// Binds `addr` with a deep accept queue: a profile makes every agent
/// connect at once (1,000 agents, 1,000 connections within milliseconds),
/// and a full queue drops SYNs that the client retries only after a
/// second. The kernel caps the depth at `net.core.somaxconn`.
async fn listen(addr: &str) -> std::io::Result<tokio::net::TcpListener> {
    let mut last = None;
    for a in tokio::net::lookup_host(addr).await? {
        let socket = if a.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        match socket.bind(a).and_then(|()| socket.listen(8192)) {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("the address resolves to nothing")))
}

async fn stop_signal(exit_after: Option<Duration>) {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).ok();
    let mut int = signal(SignalKind::interrupt()).ok();
    let after = async {
        match exit_after {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    let term = async {
        match term.as_mut() {
            Some(s) => {
                s.recv().await;
            }
            None => std::future::pending().await,
        }
    };
    let int = async {
        match int.as_mut() {
            Some(s) => {
                s.recv().await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        () = after => {}
        () = term => {}
        () = int => {}
    }
}

#[cfg(test)]
mod tests {
    use super::same_secret;

    #[test]
    fn secrets_compare() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abd", b"abc"));
        assert!(!same_secret(b"ab", b"abc"));
        assert!(!same_secret(b"abcd", b"abc"));
        assert!(!same_secret(b"", b"abc"));
    }
}
