//! Commands that write coverage directories: `merge` (with `--pcombine`
//! and `--pkg`), `subtract`, `intersect`, and `merge --in-place`
//! (compaction of pools). Their output is itself a COVDIR: a meta file and
//! one counter file (pid 0) per pod, so every command runs on it again.
//!
//! Every output is a pure function of its inputs: pods are processed in H
//! order, counts are summed (order-free, saturating), times are the
//! minimum start and maximum write time of the inputs, so the same inputs
//! in any order give byte-identical files. docs/COVDATA.md defines each
//! operation.

mod build;
pub mod compact;
pub mod labels;
pub mod merge;
pub mod setops;

use std::path::Path;

use covwrap_rt::format::counters::encode;
use covwrap_rt::format::defs::MetaHash;
use covwrap_rt::format::names::counters_file_name;

use crate::crates::CrateFilter;
use crate::error::{Error, Result};
pub use crate::reader::RunSummary;

pub use compact::{compact, CompactOptions, CompactReport};
pub use merge::{merge, MergeOptions};
pub use setops::{intersect, subtract};

/// One file of an output directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutFile {
    /// File name (`covmeta.<H>` or `covcounters.<H>.0.<ns>`).
    pub name: String,
    /// Contents.
    pub bytes: Vec<u8>,
}

/// What a command writes, and what it has to say about it.
#[derive(Clone, Debug, Default)]
pub struct Output {
    /// Meta files first, then counter files, each group sorted by name.
    pub files: Vec<OutFile>,
    /// Bad inputs skipped (with `ignore_bad`).
    pub skipped: Vec<Error>,
    /// Lines for standard error (warnings and notes, without the
    /// `covdata: ` prefix).
    pub notes: Vec<String>,
    /// Some count saturated at `u64::MAX`.
    pub saturated: bool,
}

impl Output {
    fn sort(&mut self) {
        self.files.sort_by(|a, b| {
            let meta = |f: &OutFile| !f.name.starts_with("covmeta.");
            (meta(a), &a.name).cmp(&(meta(b), &b.name))
        });
        self.files.dedup_by(|a, b| a.name == b.name);
    }

    /// Writes the files into `dir` (created if missing), each atomically,
    /// meta files before counter files.
    pub fn write_to(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, &e))?;
        for f in &self.files {
            write_file_atomic(&dir.join(&f.name), &f.bytes)?;
        }
        Ok(())
    }
}

/// Options shared by the writing commands.
#[derive(Clone, Debug, Default)]
pub struct OpOptions {
    /// `--pkg`: keep only functions of matching crates.
    pub crates: CrateFilter,
    /// Skip bad inputs instead of failing.
    pub ignore_bad: bool,
    /// `--all-builds`: keep every build's records, as llvm-cov does,
    /// instead of each file's newest build (see docs/COVDATA.md).
    pub all_builds: bool,
}

/// Writes `path` as a COVDIR writer does: `.covtmp.<name>.<pid>` in the
/// same directory, synced, then renamed into place (see [`crate::output`]).
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    crate::output::write_bytes(path, bytes)
}

/// The merged counter file of a pod: `covcounters.<H>.0.<write ns>`.
pub fn counter_file(
    hash: MetaHash,
    counters: &[u64],
    summary: &RunSummary,
    saturated: bool,
) -> OutFile {
    let header = summary.header(hash, counters.len() as u32, saturated);
    let entries = counters
        .iter()
        .enumerate()
        .filter(|(_, v)| **v != 0)
        .map(|(i, v)| (i as u32, *v));
    OutFile {
        name: counters_file_name(&hash, 0, header.write_ns),
        bytes: encode(&header, &summary.args(), entries),
    }
}

/// Adds `src` into `dst` element-wise with saturation; true if anything
/// saturated.
pub(crate) fn add_saturating(dst: &mut [u64], src: &[u64]) -> bool {
    crate::reader::saturating_add_into(dst, src)
}

/// "N bad inputs" for the skipped-inputs warning.
pub fn skipped_line(n: usize) -> String {
    format!("skipped {n} bad input{}", if n == 1 { "" } else { "s" })
}
