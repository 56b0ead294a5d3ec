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

#[cfg(covwrap_embedded)]
mod rt;

#[cfg(covwrap_embedded)]
pub use rt::api::*;

/// The crate's version, which is also covwrap's.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
