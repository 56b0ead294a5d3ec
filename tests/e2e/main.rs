//! End-to-end tests: real cargo builds with covwrap as RUSTC_WRAPPER, real
//! runs (exits, panics, signals, forks), and the files they leave.
//!
//! - `build`: what covwrap does as cargo's wrapper.
//! - `runtime`: what instrumented programs do when they run.
//! - `pool`: COVWRAP_MERGE pools under concurrency and kills.
//! - `parity`: covdata against llvm-cov-22 on covwrap builds.
//! - `merge`: covdata merge, subtract, intersect and compaction on covwrap builds.
//! - `diff`: covdata diff (changed-lines coverage) on a real git repository.

mod build;
mod diff;
mod merge;
mod parity;
mod pool;
mod runtime;
mod support;
