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

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use covwrap_rt::format::counters::{encode, CountersFile};
use covwrap_rt::format::defs::{arg_keys, MetaHash, POOL_NANOS, POOL_PID};
use covwrap_rt::format::dirfiles::open_nofollow;
use covwrap_rt::format::md5::hex;

use super::labels::{is_label_slot, Group, Slots};
use super::{write_file_atomic, RunSummary};
use crate::error::{Error, ErrorKind, Result};
use crate::fasthash::{FastMap, FastSet};
use crate::lock::PodLock;
use crate::pods::{discover, list_counter_files, no_pods, CounterFile};
use crate::reader::{absorbed_lists, Pod};

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
    /// `--keep-labels`: fold the runs of each label into a label pool of
    /// their own, and only the runs without a label into the pool.
    pub keep_labels: bool,
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
    /// The `runs` of the pool and label pools afterwards (0 when the pod
    /// has none).
    pub runs: u32,
    /// Label pools the pod has afterwards (`keep_labels`).
    pub label_pools: usize,
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

/// The counter files a compaction folds, each read through
/// [`crate::dense::read_for_compaction`]: a dense file (continuous mode) of
/// a live process is left alone; a dead one is claimed, its lock held
/// until the compaction is over (after the file is deleted), and read as
/// the counter file it stands for, once.
#[derive(Default)]
struct FoldReads {
    claims: Vec<crate::dense::Claim>,
    converted: FastMap<CounterFile, Vec<u8>>,
}

impl FoldReads {
    /// File `f` of pod `hash` as a checked counter file, or `None` for a
    /// live process's dense file.
    fn read(
        &mut self,
        dir: &Path,
        f: &CounterFile,
        hash: &MetaHash,
        total: usize,
    ) -> Result<Option<Vec<u8>>> {
        if let Some(bytes) = self.converted.get(f) {
            return Ok(Some(bytes.clone()));
        }
        let path = dir.join(f.name(hash));
        let mut bytes = Vec::new();
        let Some(claim) = crate::dense::read_for_compaction(&path, &mut bytes)? else {
            return Ok(None);
        };
        let bytes = check_counters(bytes, &path, hash, total)?;
        if let Some(claim) = claim {
            self.claims.push(claim);
            self.converted.insert(*f, bytes.clone());
        }
        Ok(Some(bytes))
    }
}

/// Compacts one pod. With `ignore_bad`, bad counter files are left in
/// place (reported in `report.skipped`); a bad pool is an error for the
/// pod, which is then left as it was.
///
/// Every target (the pool; with `keep_labels` also one label pool per
/// label) follows the same protocol: its new version lists as `absorbed`
/// the files folded into it now and the leftovers its old version (or a
/// file folded now) listed; it is renamed into place before any of those
/// files is deleted.
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
    // by little more than the `absorbed` names the new pools must list.
    let listed = list_counter_files(dir, 0, hash)?;
    let dirs = [dir.to_path_buf()];
    let pool_entry = CounterFile {
        dir: 0,
        pid: POOL_PID,
        nanos: POOL_NANOS,
    };
    let pool = dir.join(pool_entry.name(hash));
    if listed.contains(&pool_entry) {
        // A pool that cannot be read cannot be added to without losing
        // its runs: the pod is left alone.
        read_counters(&pool, hash, total)?;
    }
    // Who absorbed what: files some pool lists are leftovers, never read.
    let lists: FastMap<CounterFile, Vec<(u64, u64)>> =
        absorbed_lists(dir, hash, &listed).into_iter().collect();
    let present: FastSet<(u64, u64)> = listed.iter().map(|f| (f.pid, f.nanos)).collect();
    let absorbed: FastSet<(u64, u64)> = lists
        .values()
        .flatten()
        .copied()
        .filter(|k| present.contains(k))
        .collect();
    let live: Vec<CounterFile> = listed
        .iter()
        .filter(|f| !absorbed.contains(&(f.pid, f.nanos)))
        .copied()
        .collect();
    // The targets: the pool for runs without a label (all runs without
    // `keep_labels`), and a label pool per label.
    let mut groups: BTreeMap<Group, Vec<CounterFile>> = BTreeMap::new();
    let lost = Group::Command(Vec::new());
    let mut slots = Slots::default();
    let mut reads = FoldReads::default();
    if opts.keep_labels {
        for f in &live {
            let path = dir.join(f.name(hash));
            let label = match reads.read(dir, f, hash, total) {
                // A live process's dense file: not folded now.
                Ok(None) => continue,
                Ok(Some(bytes)) => {
                    let file = CountersFile::parse(&bytes).map_err(|e| Error::from(e).at(&path))?;
                    // The pool holds the runs that lost who they were,
                    // whatever it says.
                    let group = if *f == pool_entry {
                        lost.clone()
                    } else {
                        Group::of(file.args())
                    };
                    if !group.is_lost() && is_label_slot(f.pid, f.nanos) {
                        slots.hold_group(f.nanos, &group);
                    }
                    group
                }
                Err(e) if opts.ignore_bad => {
                    report.skipped.push(e);
                    if is_label_slot(f.pid, f.nanos) {
                        // Never claimed by a label, so never overwritten.
                        slots.hold(f.nanos, "\0unreadable");
                    }
                    continue;
                }
                Err(e) => return Err(e),
            };
            groups.entry(label).or_default().push(*f);
        }
    } else {
        groups.insert(lost.clone(), live);
    }
    let mut done = PodCompaction {
        hash: *hash,
        pool: pool.clone(),
        folded: 0,
        leftovers: 0,
        runs: 0,
        label_pools: 0,
    };
    let mut deletions: Vec<CounterFile> = Vec::new();
    for (group, files) in &groups {
        let target = if group.is_lost() {
            pool_entry
        } else {
            CounterFile {
                dir: 0,
                pid: POOL_PID,
                nanos: slots.claim_group(group),
            }
        };
        let had_target = files.contains(&target);
        let folded: Vec<CounterFile> = files.iter().filter(|f| **f != target).copied().collect();
        // Leftovers of the target's old version and of the files folded now.
        let mut leftovers: Vec<CounterFile> = std::iter::once(&target)
            .chain(&folded)
            .filter_map(|f| lists.get(f))
            .flatten()
            .filter(|k| present.contains(k))
            .map(|&(pid, nanos)| CounterFile { dir: 0, pid, nanos })
            .collect();
        leftovers.sort_unstable_by(CounterFile::name_order);
        leftovers.dedup();
        let mut counters = vec![0u64; total];
        let mut summary = RunSummary::default();
        let mut saturated = false;
        let mut folded_ok = Vec::with_capacity(folded.len());
        for f in std::iter::once(&target)
            .filter(|_| had_target)
            .chain(&folded)
        {
            let path = &dir.join(f.name(hash));
            let bytes = match reads.read(dir, f, hash, total) {
                // A live process's dense file: not folded now.
                Ok(None) => continue,
                Ok(Some(b)) => b,
                Err(e) if opts.ignore_bad && *f != pool_entry => {
                    if !opts.keep_labels {
                        report.skipped.push(e);
                    }
                    continue;
                }
                Err(e) => return Err(e),
            };
            let file = CountersFile::parse(&bytes).map_err(|e| Error::from(e).at(path))?;
            saturated |= file.add_into(&mut counters);
            summary.add(file.header(), file.args());
            if *f != target {
                folded_ok.push(*f);
            }
        }
        done.leftovers += leftovers.len();
        if folded_ok.is_empty() {
            deletions.extend(leftovers);
            if had_target {
                done.runs = done.runs.saturating_add(summary.runs);
                done.label_pools += usize::from(!group.is_lost());
            }
            continue;
        }
        let mut absorbed: Vec<String> = folded_ok
            .iter()
            .chain(&leftovers)
            .map(|f| f.name(hash))
            .collect();
        absorbed.sort();
        let mut header = summary.header(*hash, total as u32, saturated);
        header.pid = POOL_PID;
        let mut args = summary.args();
        args.extend(group.args());
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
        write_file_atomic(
            &dir.join(target.name(hash)),
            &encode(&header, &args, entries),
        )?;
        if std::env::var_os(CRASH_AFTER_RENAME_ENV).is_some() {
            std::process::exit(99);
        }
        // Each target's files go right after its rename: a crash later
        // leaves only files some pool lists as absorbed.
        delete(&dirs, hash, &folded_ok, report);
        delete(&dirs, hash, &leftovers, report);
        done.folded += folded_ok.len();
        done.runs = done.runs.saturating_add(header.runs);
        done.label_pools += usize::from(!group.is_lost());
    }
    delete(&dirs, hash, &deletions, report);
    Ok(done)
}

/// Deletes `files` (already gone is fine; other failures are reported).
fn delete(dirs: &[PathBuf], hash: &MetaHash, files: &[CounterFile], report: &mut CompactReport) {
    for f in files {
        let p = f.path(dirs, hash);
        if let Err(e) = std::fs::remove_file(&p) {
            if e.kind() != std::io::ErrorKind::NotFound {
                report.not_deleted.push(Error::io(&p, &e));
            }
        }
    }
}
