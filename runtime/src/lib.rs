//! covwrap's coverage runtime and on-disk formats.
//!
//! This crate has two lives:
//!
//! - As an ordinary library (what crates.io and cargo see), it exposes
//!   [`format`]: the covmeta/covcounters encoders and decoders that covwrap
//!   and covdata share with the runtime.
//! - Compiled by covwrap with `--cfg covwrap_embedded` and the user's own
//!   rustc, it is also the runtime linked into instrumented programs: it
//!   redirects LLVM's profile writer to /dev/null and writes COVDIR files at
//!   exit and on fatal signals (module `rt`).
//!
//! It uses only std, because covwrap must be able to compile it anywhere.

#![warn(missing_docs)]

pub mod format;

#[cfg(not(covwrap_embedded))]
pub mod sources;

#[cfg(all(covwrap_embedded, target_os = "linux"))]
mod rt;

/// The agent's wire code is plain std: unit-tested in ordinary builds too.
#[cfg(all(test, not(covwrap_embedded)))]
#[allow(dead_code)] // what only the embedded agent calls
#[path = "rt/agent/wire/mod.rs"]
mod agent_wire;

#[cfg(all(covwrap_embedded, target_os = "linux"))]
pub use rt::api::*;

#[cfg(all(covwrap_embedded, not(target_os = "linux")))]
compile_error!("covwrap's runtime supports Linux targets only");

/// The crate's version, which is also covwrap's.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
