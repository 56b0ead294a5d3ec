//! `covdata merge --in-place -i=DIR`: folds every counter file of each pod
//! of DIR into the pod's pool `covcounters.<H>.0.0` (docs/FORMAT.md,
//! "Pools and compaction").
//!
//! Per pod, under the exclusive lock on `DIR/.covlock.<H>`: read the pool
//! (if any) and every other counter file of the pod that the pool does not
//! already list as `absorbed`; write the new pool (counts summed, `runs`
//! summed, `absorbed` = the files folded in now plus earlier absorbed
//! files that still exist) to a temporary file and rename it over the
//! pool; then delete those files; then unlock. A crash after the rename
//! leaves files the pool lists as absorbed, which readers ignore and the
//! next compaction deletes; a crash before it changes nothing.

use std::path::{Path, PathBuf};

use covwrap_rt::format::counters::{encode, CountersFile};
use covwrap_rt::format::defs::{arg_keys, MetaHash, POOL_NANOS, POOL_PID};
use covwrap_rt::format::dirfiles::open_nofollow;
use covwrap_rt::format::md5::hex;
use covwrap_rt::format::names::counters_file_name;

use super::{write_file_atomic, RunSummary};
use crate::error::{Error, ErrorKind, Result};
use crate::fasthash::FastSet;
use crate::lock::PodLock;
use crate::pods::{discover, list_counter_files, no_pods, CounterFile};
use crate::reader::Pod;

/// Test hook: when this variable is set, compaction exits the process
/// right after renaming the new pool into place, before deleting the files
/// it folded in (what a crash at the worst moment leaves behind).
pub const CRASH_AFTER_RENAME_ENV: &str = "COVDATA_TEST_CRASH_AFTER_RENAME";

/// Options of the compaction.
#[derive(Clone, Copy, Debug, Default)]
pub struct CompactOptions {
    /// Leave bad files (and pods with a bad meta file or pool) alone with
    /// a warning instead of failing.
    pub ignore_bad: bool,
}

/// What happened to one pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodCompaction {
    /// The pod.
    pub hash: MetaHash,
    /// Its pool.
    pub pool: PathBuf,
    /// Counter files folded into the pool now.
    pub folded: usize,
    /// Files an earlier compaction had folded in that were deleted now.
    pub leftovers: usize,
    /// The pool's `runs` afterwards (0 when the pod has no pool).
    pub runs: u32,
}

/// The result of compacting a directory.
#[derive(Clone, Debug, Default)]
pub struct CompactReport {
    /// One entry per pod, in H order.
    pub pods: Vec<PodCompaction>,
    /// Bad inputs left alone (with `ignore_bad`).
    pub skipped: Vec<Error>,
    /// Files that could not be deleted after they were folded in (the pool
    /// lists them as absorbed, so readers ignore them).
    pub not_deleted: Vec<Error>,
}

/// Compacts every pod of `dir`.
pub fn compact(dir: &Path, opts: CompactOptions) -> Result<CompactReport> {
    let dirs = [dir.to_path_buf()];
    let found = discover(&dirs)?;
    let mut report = CompactReport::default();
    let fail = |report: &mut CompactReport, e: Error| {
        if opts.ignore_bad {
            report.skipped.push(e);
            Ok(())
        } else {
            Err(e)
        }
    };
    for problem in found.problems {
        fail(&mut report, problem)?;
    }
    if found.pods.is_empty() {
        if opts.ignore_bad {
            return Ok(report);
        }
        return Err(no_pods(&dirs));
    }
    for files in &found.pods {
        let meta = match Pod::open(&files.meta, Some(&files.hash)) {
            Ok(m) => m,
            Err(e) => {
                fail(&mut report, e)?;
                continue;
            }
        };
        match compact_pod(dir, &files.hash, meta.counters.len(), opts, &mut report) {
            Ok(done) => report.pods.push(done),
            Err(e) => fail(&mut report, e)?,
        }
    }
    Ok(report)
}

fn read_nofollow(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    open_nofollow(path)?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// A counter file read for compaction.
fn read_counters(path: &Path, hash: &MetaHash, total: usize) -> Result<Vec<u8>> {
    // Never through a symlink: the directory may be shared.
    let bytes = read_nofollow(path).map_err(|e| Error::io(path, &e))?;
    check_counters(bytes, path, hash, total)
}

/// Checks that `bytes` are a counter file of the pod.
fn check_counters(bytes: Vec<u8>, path: &Path, hash: &MetaHash, total: usize) -> Result<Vec<u8>> {
    let file = CountersFile::parse(&bytes).map_err(|e| Error::from(e).at(path))?;
    let h = file.header();
    if h.meta_hash != *hash {
        return Err(Error::corrupt(format!(
            "corrupt: file name says H {} but the header says {}",
            hex(hash),
            hex(&h.meta_hash)
        ))
        .at(path));
    }
    if h.num_counters as usize != total {
        return Err(Error::new(
            ErrorKind::CounterMismatch,
            format!(
                "{} counters, but its meta file describes {total}",
                h.num_counters
            ),
        )
        .at(path));
    }
    Ok(bytes)
}

/// Compacts one pod. With `ignore_bad`, bad counter files are left in
/// place (reported in `report.skipped`); a bad pool is an error for the
/// pod, which is then left as it was.
fn compact_pod(
    dir: &Path,
    hash: &MetaHash,
    total: usize,
    opts: CompactOptions,
    report: &mut CompactReport,
) -> Result<PodCompaction> {
    // Also removes pool temp files writers killed holding it left.
    let _lock = PodLock::exclusive_for_pool(dir, hash)?;
    // Files are kept as (pid, nanos) and named when needed: memory grows
    // by little more than the `absorbed` names the new pool must list.
    let listed = list_counter_files(dir, 0, hash)?;
    let dirs = [dir.to_path_buf()];
    let pool = dir.join(counters_file_name(hash, POOL_PID, POOL_NANOS));
    let is_pool = |f: &CounterFile| f.pid == POOL_PID && f.nanos == POOL_NANOS;
    let mut counters = vec![0u64; total];
    let mut summary = RunSummary::default();
    let mut saturated = false;
    let mut absorbed_before: FastSet<String> = FastSet::default();
    if listed.iter().any(is_pool) {
        // A pool that cannot be read cannot be added to without losing
        // its runs: the pod is left alone.
        let bytes = read_counters(&pool, hash, total)?;
        let file = CountersFile::parse(&bytes).map_err(|e| Error::from(e).at(&pool))?;
        saturated |= file.add_into(&mut counters);
        summary.add(file.header(), file.args());
        absorbed_before = file
            .args()
            .iter()
            .filter(|(k, _)| k == arg_keys::ABSORBED)
            .map(|(_, v)| v.clone())
            .collect();
    }
    let mut leftovers = Vec::new();
    let mut folded = Vec::new();
    let mut claims = Vec::new();
    for entry in &listed {
        if is_pool(entry) {
            continue;
        }
        let name = entry.name(hash);
        if absorbed_before.contains(&name) {
            leftovers.push(*entry);
            continue;
        }
        let path = &dir.join(&name);
        // A dense file (continuous mode): a live one is left alone; a dead
        // one is claimed (its lock held until it is deleted) and read as
        // the counter file it stands for (crate::dense).
        let mut bytes = Vec::new();
        let read = match crate::dense::read_for_compaction(path, &mut bytes) {
            Ok(None) => continue,
            Ok(Some(claim)) => {
                claims.extend(claim);
                check_counters(bytes, path, hash, total)
            }
            Err(e) => Err(e),
        };
        let bytes = match read {
            Ok(b) => b,
            Err(e) if opts.ignore_bad => {
                report.skipped.push(e);
                continue;
            }
            Err(e) => return Err(e),
        };
        let file = CountersFile::parse(&bytes).map_err(|e| Error::from(e).at(path))?;
        saturated |= file.add_into(&mut counters);
        summary.add(file.header(), file.args());
        folded.push(*entry);
    }
    let delete = |files: &[CounterFile], report: &mut CompactReport| {
        for f in files {
            let p = f.path(&dirs, hash);
            if let Err(e) = std::fs::remove_file(&p) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    report.not_deleted.push(Error::io(&p, &e));
                }
            }
        }
    };
    if folded.is_empty() {
        delete(&leftovers, report);
        return Ok(PodCompaction {
            hash: *hash,
            pool,
            folded: 0,
            leftovers: leftovers.len(),
            runs: summary.runs,
        });
    }
    let mut absorbed: Vec<String> = folded
        .iter()
        .chain(&leftovers)
        .map(|f| f.name(hash))
        .collect();
    absorbed.sort();
    let mut header = summary.header(*hash, total as u32, saturated);
    header.pid = POOL_PID;
    let mut args = summary.args();
    args.extend(
        absorbed
            .into_iter()
            .map(|n| (arg_keys::ABSORBED.to_string(), n)),
    );
    let entries = counters
        .iter()
        .enumerate()
        .filter(|(_, v)| **v != 0)
        .map(|(i, v)| (i as u32, *v));
    write_file_atomic(&pool, &encode(&header, &args, entries))?;
    if std::env::var_os(CRASH_AFTER_RENAME_ENV).is_some() {
        std::process::exit(99);
    }
    delete(&folded, report);
    delete(&leftovers, report);
    Ok(PodCompaction {
        hash: *hash,
        pool,
        folded: folded.len(),
        leftovers: leftovers.len(),
        runs: header.runs,
    })
}
