//! The agent: with `COVWRAP_CENTER=URL`, a background thread named
//! `covwrap-agent` registers this process with a coverage center
//! (`covdata serve`), answers its commands (snapshot, snapshot-reset,
//! reset) and, at exit or on a fatal signal, the final counters go there
//! too. The protocol is docs/CENTER.md.
//!
//! - [`run`]: the thread (register, upload the meta, long-poll, answer).
//! - [`exit`]: the final send, allocation-free, from preallocated state.
//! - [`wire`]: URL, JSON and HTTP, plain std.
//!
//! Nothing here runs on the program's threads except [`start`] (in the
//! constructor: read the environment, spawn the thread) and the exit path.

mod exit;
mod run;
mod wire;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use super::text::eprint_line;
use wire::url::CenterUrl;

pub use exit::send_final;

/// What the environment asked for, fixed at startup.
pub struct Setup {
    pub url: CenterUrl,
    pub service: String,
    pub token: Option<String>,
    pub label: String,
    /// `COVWRAP_QUIET`: no connected/unreachable lines.
    pub quiet: bool,
}

static SETUP: OnceLock<Setup> = OnceLock::new();

/// The agent's life: off, running, or finished (final sent, or a forked
/// child, which must never speak for its parent).
static STATE: AtomicU32 = AtomicU32::new(OFF);
const OFF: u32 = 0;
const RUNNING: u32 = 1;
const FINISHED: u32 = 2;

fn running() -> bool {
    STATE.load(Ordering::Acquire) == RUNNING
}

/// True when `COVWRAP_CENTER` asks for an agent (valid or not).
pub fn configured() -> bool {
    std::env::var_os("COVWRAP_CENTER").is_some_and(|v| !v.is_empty())
}

/// Called once by the constructor: reads the environment and starts the
/// thread. True when the agent runs (the caller then installs the exit and
/// signal hooks). Without `COVWRAP_CENTER` this is one `getenv`.
pub fn start() -> bool {
    if !configured() {
        return false;
    }
    std::panic::catch_unwind(start_inner).unwrap_or(false)
}

fn start_inner() -> bool {
    let text = std::env::var("COVWRAP_CENTER").unwrap_or_default();
    let url = match CenterUrl::parse(&text) {
        Ok(u) => u,
        Err(why) => {
            eprint_line(format_args!(
                "warning: covwrap: COVWRAP_CENTER \"{}\" is not a usable center URL ({why}); agent off",
                text.escape_debug()
            ));
            return false;
        }
    };
    let version = super::llvm::raw_version();
    if version != super::llvm::SUPPORTED_RAW_VERSION {
        eprint_line(format_args!(
            "error: covwrap: LLVM raw profile version {version} is not supported (expected {}); agent off",
            super::llvm::SUPPORTED_RAW_VERSION
        ));
        return false;
    }
    if super::llvm::counters().is_empty() {
        return false;
    }
    let env = |name: &str| {
        std::env::var_os(name)
            .map(|v| v.to_string_lossy().into_owned())
            .filter(|v| !v.is_empty())
    };
    let setup = Setup {
        url,
        service: env("COVWRAP_SERVICE").unwrap_or_else(default_service),
        token: env("COVWRAP_CENTER_TOKEN"),
        label: env("COVWRAP_LABEL").unwrap_or_default(),
        quiet: env("COVWRAP_QUIET").is_some(),
    };
    if SETUP.set(setup).is_err() {
        return false;
    }
    STATE.store(RUNNING, Ordering::Release);
    let spawned = std::thread::Builder::new()
        .name("covwrap-agent".into())
        .spawn(|| {
            if let Some(setup) = SETUP.get() {
                // The thread must never take the program down.
                let _ = std::panic::catch_unwind(|| run::run(setup));
            }
        });
    if let Err(e) = spawned {
        STATE.store(OFF, Ordering::Release);
        eprint_line(format_args!(
            "error: covwrap: cannot start the center agent ({e}); agent off"
        ));
        return false;
    }
    true
}

/// The binary's file name.
fn default_service() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// In a forked child (called from the `pthread_atfork` child hook): the
/// child has no agent thread and must not send its counters as its
/// parent's, so its agent is off for good. Its counters still go to COVDIR.
pub fn after_fork() {
    if STATE.load(Ordering::Acquire) != OFF {
        STATE.store(FINISHED, Ordering::Release);
    }
}
