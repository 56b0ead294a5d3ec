//! End-to-end tests: real cargo builds with covwrap as RUSTC_WRAPPER, real
//! runs (exits, panics, signals, forks), and the files they leave.
//!
//! - `agent`: COVWRAP_CENTER, the agent against the real center.
//! - `build`: what covwrap does as cargo's wrapper.
//! - `center`: covdata serve with real instrumented services.
//! - `runtime`: what instrumented programs do when they run.
//! - `pool`: COVWRAP_MERGE pools under concurrency and kills.
//! - `parity`: covdata against llvm-cov-22 on covwrap builds.
//! - `merge`: covdata merge, subtract, intersect and compaction on covwrap builds.

mod agent;
mod build;
mod center;
mod merge;
mod parity;
mod pool;
mod runtime;
mod support;
