//! `COVWRAP_MERGE=1`: fold this run into the pod's pool file instead of
//! writing a file of its own, so a suite of 100 000 processes leaves one
//! file per binary. The protocol is in docs/FORMAT.md ("Pools and
//! compaction"): an exclusive flock on `.covlock.<H>`, read, add, write a
//! temporary file, rename. Only the exit path merges: it may allocate,
//! where a signal handler may not.

use std::ffi::OsStr;
use std::io::Read as _;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::Ordering;

use super::emit::START_NS;
use super::state::Config;
use super::sys;
use crate::format::counters::{add_saturating, encode, CountersFile, CountersHeader};
use crate::format::defs::{arg_keys, counter_flags, end_reason, POOL_NANOS, POOL_PID};
use crate::format::dirfiles;
use crate::format::names::{self, counters_file_name};

/// Adds this process's counters to the pool. On error nothing was changed
/// and the caller writes a counter file of its own instead.
pub fn merge_into_pool(config: &Config) -> Result<(), String> {
    let dir = Path::new(OsStr::from_bytes(&config.out_dir));
    let lock = dirfiles::PodLock::exclusive_for_pool(dir, &config.meta_hash).map_err(|e| {
        let name = names::lock_file_name(&config.meta_hash);
        format!("cannot lock {} ({e})", dir.join(name).display())
    })?;
    let pool_name = counters_file_name(&config.meta_hash, POOL_PID, POOL_NANOS);
    let pool_path = dir.join(&pool_name);
    let n = config.counters.len();
    let mut sums = vec![0u64; n];
    let mut header = CountersHeader {
        flags: 0,
        meta_hash: config.meta_hash,
        pid: POOL_PID,
        start_ns: START_NS.load(Ordering::Relaxed),
        write_ns: sys::realtime_ns(),
        num_counters: n as u32,
        end: end_reason::MERGED,
        runs: 0,
    };
    let mut args = vec![
        (arg_keys::OS.to_string(), std::env::consts::OS.to_string()),
        (
            arg_keys::ARCH.to_string(),
            std::env::consts::ARCH.to_string(),
        ),
    ];
    let read = dirfiles::open_nofollow(&pool_path).and_then(|mut f| {
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).map(|_| bytes)
    });
    match read {
        Ok(bytes) => {
            let pool = CountersFile::parse(&bytes)
                .map_err(|e| format!("pool {} is unreadable ({e})", pool_path.display()))?;
            let old = pool.header();
            if old.meta_hash != config.meta_hash || old.num_counters as usize != n {
                return Err(format!(
                    "pool {} belongs to another binary",
                    pool_path.display()
                ));
            }
            if pool.add_into(&mut sums) {
                header.flags |= counter_flags::SATURATED;
            }
            header.flags |= old.flags & counter_flags::SATURATED;
            header.runs = old.runs;
            header.start_ns = header.start_ns.min(old.start_ns);
            // Files a compaction folded in but could not delete yet stay
            // listed, or a reader would count them twice.
            args.extend(
                pool.args()
                    .iter()
                    .filter(|(k, v)| k == arg_keys::ABSORBED && dir.join(v).exists())
                    .cloned(),
            );
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot read pool {} ({e})", pool_path.display())),
    }
    // Continuous mode: the dense file stays until it is removed after this
    // write; listed, so a reader never counts it twice meanwhile.
    args.extend(super::dense::absorbed_name(config).map(|n| (arg_keys::ABSORBED.to_string(), n)));
    for (slot, c) in sums.iter_mut().zip(config.counters) {
        if add_saturating(slot, c.load(Ordering::Relaxed)) {
            header.flags |= counter_flags::SATURATED;
        }
    }
    header.runs = header.runs.saturating_add(1);
    let bytes = encode(
        &header,
        &args,
        sums.iter().enumerate().map(|(i, v)| (i as u32, *v)),
    );
    dirfiles::write_new_file(dir, &pool_name, &bytes, true)
        .map_err(|e| format!("cannot write pool {} ({e})", pool_path.display()))?;
    drop(lock);
    Ok(())
}
