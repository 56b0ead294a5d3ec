//! The center's JSON messages (docs/CENTER.md), shared by the server, the
//! client commands and the simulated agents.

use serde::{Deserialize, Serialize};

/// `POST /v1/agents`: an agent registers (or registers again).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Register {
    /// The id the center gave earlier; `None` the first time.
    #[serde(default)]
    pub id: Option<u64>,
    pub service: String,
    #[serde(default)]
    pub host: String,
    pub pid: u64,
    #[serde(default)]
    pub argv: Vec<String>,
    pub start_time_ns: u64,
    /// H of the program's meta file, 32 hex digits.
    pub meta_hash: String,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub version: String,
}

/// The answer to [`Register`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registered {
    pub id: u64,
    /// The center has no meta file for the hash: upload it first.
    pub need_meta: bool,
    /// The `wait` to use in command polls.
    pub poll_seconds: u64,
}

/// What an agent is asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cmd {
    None,
    Snapshot,
    SnapshotReset,
    Reset,
}

/// The answer to a command poll.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    pub cmd: Cmd,
    /// Numbers commands per agent; absent with `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
}

/// How an agent is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Connected,
    Disconnected,
    Exited,
}

impl Status {
    /// The word `covdata agents` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Connected => "connected",
            Status::Disconnected => "disconnected",
            Status::Exited => "exited",
        }
    }
}

/// One row of `GET /v1/agents`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentInfo {
    pub id: u64,
    pub service: String,
    pub host: String,
    pub pid: u64,
    pub argv: Vec<String>,
    pub label: String,
    pub meta_hash: String,
    pub version: String,
    pub start_time_ns: u64,
    pub status: Status,
    pub last_seen_ns: u64,
}

/// `GET /v1/agents`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentList {
    pub agents: Vec<AgentInfo>,
}

/// An agent a command could not reach.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub id: u64,
    pub reason: String,
}

/// `POST /v1/clear`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cleared {
    pub cleared: Vec<u64>,
    pub skipped: Vec<Skipped>,
}

/// `POST /v1/remove`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removed {
    pub removed: Vec<u64>,
}

/// `POST /v1/init`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Initialized {
    pub reset: Vec<u64>,
    pub skipped: Vec<Skipped>,
}

/// The response header naming an agent a profile left out.
pub const SKIPPED_HEADER: &str = "covwrap-skipped";

/// Control bodies at most this long.
pub const CONTROL_LIMIT: usize = 64 << 10;
/// A covmeta upload at most this long.
pub const META_LIMIT: usize = 256 << 20;
/// A covcounters upload at most this long.
pub const COUNTERS_LIMIT: usize = 64 << 20;
/// The longest command poll.
pub const MAX_WAIT_SECONDS: u64 = 60;
