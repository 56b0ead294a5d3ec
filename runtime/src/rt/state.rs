//! What the runtime decided at startup, read by the exit and signal paths.
//! Set once, before any handler is installed, and never changed, so the
//! handlers read it without locks.

use std::sync::atomic::AtomicU64;
use std::sync::OnceLock;

use crate::format::defs::MetaHash;

/// Everything a counter-file write needs, prepared at startup.
pub struct Config {
    /// Absolute COVDIR, without a trailing slash.
    pub out_dir: Vec<u8>,
    /// H of this binary's meta file, which exists in `out_dir`.
    pub meta_hash: MetaHash,
    /// The encoded args table of this process.
    pub args: Vec<u8>,
    /// The binary's counter array.
    pub counters: &'static [AtomicU64],
    /// `COVWRAP_MERGE`: fold normal exits into the pod's pool file.
    pub merge: bool,
}

/// Set when this process writes coverage data.
pub static CONFIG: OnceLock<Config> = OnceLock::new();

/// The counters this process counts into: in continuous mode the mapped
/// dense file's (where the relocation bias sends every increment), else
/// the binary's own section. Readers outside the COVDIR writer (the agent,
/// fork) must use this, not the section.
pub fn live_counters() -> &'static [AtomicU64] {
    match CONFIG.get() {
        Some(config) => config.counters,
        None => super::llvm::counters(),
    }
}
