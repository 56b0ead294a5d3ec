//! covdata: reads covwrap coverage directories (COVDIR) and reports
//! coverage with the numbers llvm-cov 22 computes, without llvm-tools.
//!
//! Layers, bottom up:
//!
//! - [`pods`]: finds pods (a `covmeta.<H>` and its `covcounters.<H>.*`
//!   files) in input directories.
//! - [`source`]: where counters come from (directories, memory, a
//!   center); every load goes through a [`Source`].
//! - [`dense`]: dense counter files (continuous mode), read as the
//!   counter files they stand for; live ones skipped.
//! - [`reader`]: loads pods: each meta file once, counter files streamed
//!   into one dense, saturating counter array per pod ([`reader::Pod`]).
//! - [`llvm`]: decoders for the LLVM data a meta file carries verbatim
//!   (names, filename tables, function records, mappings).
//! - [`model`]: function records with evaluated counts, built like
//!   llvm-cov from several objects and a merged profile
//!   ([`model::Coverage`]); segments, line stats and summaries.
//! - [`report`]: the reports (`lcov`, `textfmt`, `percent`, `func`,
//!   `pkglist`, `debugdump`) over one [`report::Context`].
//! - [`diff`]: coverage of changed lines (git or a unified diff) and the
//!   per-file comparison of two data sets.
//! - [`profraw`]: LLVM raw profiles (read and write, version 10).
//! - [`center`]: `covdata serve` and its client.
//! - [`crates`], [`paths`]: crate of a mangled name, `--pkg` globs, paths.
//! - [`gate`]: `--fail-under-*` thresholds over a report's totals.
//! - [`cli`]: the command lines of the `covdata` and `cargo-covwrap`
//!   binaries (clap, anyhow), kept in the library so that both binaries
//!   share one copy of every flag and of the report path.
//! - [`watch`]: what `covdata watch` keeps between rounds (version,
//!   fingerprint), its `--on-change` placeholders and failure reporting.
//!
//! docs/COVDATA.md documents the commands and the decisions behind them.

// The command line refers to the library as `covdata::`, as the binary did.
extern crate self as covdata;

pub mod center;
pub mod cli;
pub mod crates;
pub mod dense;
pub mod diff;
pub mod error;
pub(crate) mod fasthash;
pub mod filefilter;
pub mod gate;
pub mod llvm;
pub mod lock;
pub mod malloc_tuning;
pub mod model;
pub mod ops;
pub mod output;
pub(crate) mod parallel;
pub mod paths;
pub mod pods;
pub mod profraw;
pub mod reader;
pub mod report;
pub mod source;
pub mod tests_query;
pub mod watch;

pub use error::{Error, ErrorKind, Result};
pub use model::Coverage;
pub use reader::{load, LoadOptions, Loaded, Pod};
pub use source::{Source, SourceLoaded};

use std::path::PathBuf;

/// Loads `dirs` and builds the model: the usual first step of a report.
pub fn load_coverage(dirs: &[PathBuf], ignore_bad: bool) -> Result<Coverage> {
    load_coverage_with(
        dirs,
        LoadOptions {
            ignore_bad,
            ..LoadOptions::default()
        },
    )
}

/// [`load_coverage`] with every load option.
pub fn load_coverage_with(dirs: &[PathBuf], opts: LoadOptions) -> Result<Coverage> {
    Coverage::build_with(
        load(dirs, opts)?,
        model::BuildOptions {
            ignore_bad: opts.ignore_bad,
            all_builds: opts.all_builds,
        },
    )
}
