//! The client side of the center: what `covdata agents|profile|clear|
//! remove|init` and `--center` inputs send. Blocking calls, each on a
//! small tokio runtime of its own, each bounded by the client's timeout.

use std::time::Duration;

use bytes::Bytes;
use hyper::{Method, StatusCode};
use serde::de::DeserializeOwned;

use super::http::{exchange, Answer, CenterUrl};
use super::wire::{self, AgentInfo, AgentList, Cleared, Initialized, Removed};
use crate::source::MemDir;

/// A failed call: one line naming the center.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientError {
    /// The center's URL.
    pub url: String,
    /// What went wrong.
    pub detail: String,
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "center {}: {}", self.url, self.detail)
    }
}

impl std::error::Error for ClientError {}

/// Which agents a call is about; empty means all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// Exact service names.
    pub services: Vec<String>,
    /// Agent ids.
    pub ids: Vec<u64>,
    /// A regex the whole label must match.
    pub label: Option<String>,
}

impl Selection {
    /// The query parameters (`service=..&id=..&label=..`), each value
    /// percent-encoded; empty for all agents.
    pub fn query(&self) -> String {
        let mut parts = Vec::new();
        if !self.services.is_empty() {
            parts.push(format!("service={}", encode(&self.services.join(","))));
        }
        if !self.ids.is_empty() {
            let ids: Vec<String> = self.ids.iter().map(u64::to_string).collect();
            parts.push(format!("id={}", ids.join(",")));
        }
        if let Some(l) = &self.label {
            parts.push(format!("label={}", encode(l)));
        }
        parts.join("&")
    }
}

/// Percent-encodes everything but unreserved characters and `,`.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~,".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What a profile brought back.
#[derive(Clone, Debug)]
pub struct Profile {
    /// The files of the bundle.
    pub files: MemDir,
    /// One line per agent that was left out (the center's
    /// `Covwrap-Skipped` headers).
    pub skipped: Vec<String>,
}

/// A connection to one center.
#[derive(Clone, Debug)]
pub struct Client {
    center: CenterUrl,
    token: Option<String>,
    timeout: Duration,
}

impl Client {
    /// A client of `url` (http://HOST:PORT); `timeout` bounds each call.
    pub fn new(url: &str, token: Option<String>, timeout: Duration) -> Result<Client, ClientError> {
        let center = CenterUrl::parse(url).map_err(|detail| ClientError {
            url: url.to_string(),
            detail: detail
                .strip_prefix(&format!("{url}: "))
                .unwrap_or(&detail)
                .to_string(),
        })?;
        Ok(Client {
            center,
            token: token.filter(|t| !t.is_empty()),
            timeout,
        })
    }

    /// The center's URL.
    pub fn url(&self) -> &str {
        &self.center.url
    }

    fn fail(&self, detail: impl Into<String>) -> ClientError {
        ClientError {
            url: self.center.url.clone(),
            detail: detail.into(),
        }
    }

    fn call(
        &self,
        method: Method,
        path: &str,
        limit: usize,
        deadline: Duration,
    ) -> Result<Answer, ClientError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| self.fail(format!("cannot start the client runtime: {e}")))?;
        let answer = rt
            .block_on(exchange(
                &self.center,
                method,
                path,
                self.token.as_deref(),
                None,
                Bytes::new(),
                limit,
                deadline,
            ))
            .map_err(|e| self.fail(e))?;
        if answer.status == StatusCode::UNAUTHORIZED {
            return Err(self.fail(format!(
                "{} (give the center's token with --token or COVDATA_CENTER_TOKEN)",
                answer.reason()
            )));
        }
        if !answer.status.is_success() {
            return Err(self.fail(answer.reason()));
        }
        Ok(answer)
    }

    fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        deadline: Duration,
    ) -> Result<T, ClientError> {
        let answer = self.call(method, path, 64 << 20, deadline)?;
        serde_json::from_slice(&answer.body)
            .map_err(|e| self.fail(format!("bad answer to {path}: {e}")))
    }

    fn with_query(path: &str, query: &[String]) -> String {
        let q: Vec<&str> = query
            .iter()
            .map(String::as_str)
            .filter(|s| !s.is_empty())
            .collect();
        if q.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{}", q.join("&"))
        }
    }

    /// `GET /v1/agents`.
    pub fn agents(&self, sel: &Selection) -> Result<Vec<AgentInfo>, ClientError> {
        let path = Self::with_query("/v1/agents", &[sel.query()]);
        let list: AgentList = self.json(Method::GET, &path, self.timeout)?;
        Ok(list.agents)
    }

    /// `GET /v1/profile`: each agent gets `agent_timeout`; the whole call
    /// gets that plus the client's timeout.
    pub fn profile(
        &self,
        sel: &Selection,
        agent_timeout: Duration,
        pcombine: bool,
    ) -> Result<Profile, ClientError> {
        let mut query = vec![
            sel.query(),
            format!("timeout={}", agent_timeout.as_millis()),
        ];
        if pcombine {
            query.push("pcombine=1".into());
        }
        let path = Self::with_query("/v1/profile", &query);
        let answer = self.call(Method::GET, &path, usize::MAX, agent_timeout + self.timeout)?;
        let skipped = answer
            .headers
            .get_all(wire::SKIPPED_HEADER)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        let files = super::bundle::decode(&answer.body, &self.center.url)
            .map_err(|e| self.fail(e.to_string()))?;
        Ok(Profile { files, skipped })
    }

    /// `POST /v1/clear`.
    pub fn clear(&self, sel: &Selection, agent_timeout: Duration) -> Result<Cleared, ClientError> {
        let path = Self::with_query(
            "/v1/clear",
            &[
                sel.query(),
                format!("timeout={}", agent_timeout.as_millis()),
            ],
        );
        self.json(Method::POST, &path, agent_timeout + self.timeout)
    }

    /// `POST /v1/remove`.
    pub fn remove(&self, sel: &Selection, data: bool) -> Result<Removed, ClientError> {
        let path = Self::with_query(
            "/v1/remove",
            &[sel.query(), format!("data={}", u8::from(data))],
        );
        self.json(Method::POST, &path, self.timeout)
    }

    /// `POST /v1/init`.
    pub fn init(&self, agent_timeout: Duration) -> Result<Initialized, ClientError> {
        let path = format!("/v1/init?timeout={}", agent_timeout.as_millis());
        self.json(Method::POST, &path, agent_timeout + self.timeout)
    }
}
