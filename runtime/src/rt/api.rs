//! In-process access to this program's coverage, for code built with
//! covwrap (the runtime is in the extern prelude of every instrumented
//! crate as `covwrap_rt`). Live collection from running services builds on
//! these: take a snapshot, optionally resetting, without stopping.

use std::io;

use super::emit::{for_each_nonzero, write_counters};
use super::state::CONFIG;
use crate::format::defs::{end_reason, MetaHash};

/// True when this process writes coverage data (COVDIR set and usable).
pub fn active() -> bool {
    CONFIG.get().is_some()
}

/// H of this binary's meta file, when active.
pub fn meta_hash() -> Option<MetaHash> {
    CONFIG.get().map(|c| c.meta_hash)
}

/// The non-zero counters as `(index, value)`. With `reset`, each counter is
/// atomically swapped with zero as it is read, so successive snapshots add
/// up to the whole run: no increment is lost or counted twice.
pub fn snapshot(reset: bool) -> Vec<(u32, u64)> {
    let Some(config) = CONFIG.get() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let _ = for_each_nonzero::<()>(config.counters, reset, |i, v| {
        out.push((i, v));
        Ok(())
    });
    out
}

/// Zeroes every counter.
pub fn reset() {
    snapshot(true);
}

/// Writes a counter file into COVDIR now, marked as a snapshot, through the
/// same writer as exit and signals. With `reset`, the counters restart from
/// zero, so the files written over a run add up to it.
pub fn write_snapshot(reset: bool) -> io::Result<()> {
    let config = CONFIG
        .get()
        .ok_or_else(|| io::Error::other("coverage is not active (COVDIR unset or unusable)"))?;
    write_counters(config, end_reason::SNAPSHOT, reset)
        .map_err(|e| io::Error::other(format!("{e:?}")))
}
