//! The runtime linked into instrumented programs.
//!
//! - [`init`]: the constructor; decides what this process does, checks
//!   COVDIR, writes the meta file, prepares everything the exit path needs.
//! - [`emit`]: the single counter-file writer (allocation-free), shared by
//!   [`init`]'s exit hook, [`signals`] and [`api`] snapshots.
//! - [`pool`]: `COVWRAP_MERGE`, folding a run into the pod's pool file.
//! - [`dense`]: `COVWRAP_CONTINUOUS`, counters in a mapped file.
//! - `exec`: the exec functions, saving counts before the image goes.
//! - [`llvm`]: the compiler-rt profile runtime we sit next to.
//! - [`sys`], [`text`]: raw libc and fixed-size buffers.
//! - [`agent`]: `COVWRAP_CENTER`, the thread that serves a coverage center.

mod agent;
pub mod api;
mod dense;
mod emit;
#[cfg(all(target_env = "gnu", not(target_feature = "crt-static")))]
mod exec;
mod init;
mod label;
mod llvm;
mod pool;
mod signals;
mod state;
mod sys;
mod sys_map;
mod text;
