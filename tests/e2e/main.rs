//! End-to-end tests: real cargo builds with covwrap as RUSTC_WRAPPER, real
//! runs (exits, panics, signals, forks), and the files they leave.
//!
//! - `agent`: COVWRAP_CENTER, the agent against the real center.
//! - `build`: what covwrap does as cargo's wrapper.
//! - `center`: covdata serve with real instrumented services.
//! - `runtime`: what instrumented programs do when they run.
//! - `hardening`: stack overflows, signals on the exit writer, 32-bit targets.
//! - `covdir_files`: planted symlinks and files in a shared COVDIR, writers
//!   killed holding the pool lock, a missing COVDIR.
//! - `continuous`: COVWRAP_CONTINUOUS (mapped counters: SIGKILL, OOM, exec) and exec.
//! - `pool`: COVWRAP_MERGE pools under concurrency and kills.
//! - `parity`: covdata against llvm-cov-22 on covwrap builds.
//! - `rebuild`: edit, rebuild and rerun into one COVDIR.
//! - `testcode`: test, bench and example code left out of reports.
//! - `llvmcov`: covdata against cargo-llvm-cov on crates.io CLIs.
//! - `merge`: covdata merge, subtract, intersect and compaction on covwrap builds.
//! - `diff`: covdata diff (changed-lines coverage) on a real git repository.
//! - `cargo_covwrap`: cargo covwrap, covwrap env and covdata tests on examples/attribution.
//! - `labels`: per-test labels under cargo test and cargo-nextest, and the
//!   nextest filtersets `covdata tests` makes from them.

mod agent;
mod build;
mod cargo_covwrap;
mod center;
mod continuous;
mod covdir_files;
mod diff;
mod hardening;
mod labels;
mod llvmcov;
mod merge;
mod parity;
mod pool;
mod rebuild;
mod runtime;
mod support;
mod testcode;
