//! Pools and locks: which counter files of a pod a load reads, so that a
//! concurrent `merge --in-place` neither hides nor doubles a run.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use covwrap_rt::format::counters::CountersFile;
use covwrap_rt::format::defs::{arg_keys, MetaHash, POOL_NANOS, POOL_PID};
use covwrap_rt::format::names::{counters_file_name, parse_file_name, FileName};

use crate::error::Result;
use crate::fasthash::FastSet;
use crate::lock::{lock_path, PodLock};
use crate::pods::{list_counter_files, CounterFile, PodFiles};

/// The counter files of a pod to read, directory by directory: where the
/// directory has the pod's lock file, its shared lock is taken and the
/// directory listed again under it; files a pool of the pod lists as
/// `absorbed` are left out (their counts are in the pool). Returns the
/// locks, which the caller holds while it reads.
pub(super) fn locked_counter_files<'a>(
    dirs: &[PathBuf],
    files: &'a PodFiles,
) -> Result<(Vec<PodLock>, Cow<'a, [CounterFile]>)> {
    let distinct = dirs.iter().enumerate().all(|(i, d)| !dirs[..i].contains(d));
    let has_pool = files
        .counters
        .iter()
        .any(|f| f.pid == POOL_PID && f.nanos == POOL_NANOS);
    if distinct && !has_pool && !dirs.iter().any(|d| lock_path(d, &files.hash).exists()) {
        // Nothing to lock and nothing absorbed: discovery's list, sorted by
        // (directory, name), is the list to read. Not copying it keeps
        // memory flat in the number of files.
        return Ok((Vec::new(), Cow::Borrowed(&files.counters)));
    }
    let mut locks = Vec::new();
    let mut out = Vec::with_capacity(files.counters.len());
    for (index, dir) in dirs.iter().enumerate() {
        // A directory given twice is read twice, as discovery lists it.
        let lock = PodLock::shared_if_exists(&lock_path(dir, &files.hash))?;
        let listed: Vec<CounterFile> = if lock.is_some() {
            list_counter_files(dir, index, &files.hash)?
        } else {
            let mut own: Vec<CounterFile> = files
                .counters
                .iter()
                .filter(|f| dirs[f.dir] == *dir)
                .map(|f| CounterFile { dir: index, ..*f })
                .collect();
            own.sort_unstable_by(CounterFile::name_order);
            own.dedup();
            own
        };
        if let Some(lock) = lock {
            locks.push(lock);
        }
        let absorbed = absorbed_files(dir, &files.hash, &listed);
        out.extend(
            listed
                .into_iter()
                .filter(|f| !absorbed.contains(&(f.pid, f.nanos))),
        );
    }
    Ok((locks, Cow::Owned(out)))
}

/// The (pid, nanos) of the files the pod's pool in `dir` lists as
/// `absorbed`, if `listed` has a pool that can be read; an unreadable pool
/// absorbs nothing (it is reported when it is read).
fn absorbed_files(dir: &Path, hash: &MetaHash, listed: &[CounterFile]) -> FastSet<(u64, u64)> {
    if !listed
        .iter()
        .any(|f| f.pid == POOL_PID && f.nanos == POOL_NANOS)
    {
        return FastSet::default();
    }
    let pool = dir.join(counters_file_name(hash, POOL_PID, POOL_NANOS));
    match std::fs::read(&pool) {
        Ok(bytes) => absorbed_in(&bytes, hash),
        Err(_) => FastSet::default(),
    }
}

/// The (pid, nanos) of the files that pool file `bytes` of pod `hash`
/// lists as `absorbed`; nothing when it does not parse.
pub(crate) fn absorbed_in(bytes: &[u8], hash: &MetaHash) -> FastSet<(u64, u64)> {
    let mut out = FastSet::default();
    let Ok(file) = CountersFile::parse(bytes) else {
        return out;
    };
    for (_, name) in file.args().iter().filter(|(k, _)| k == arg_keys::ABSORBED) {
        if let Some(FileName::Counters {
            hash: h,
            pid,
            nanos,
        }) = parse_file_name(name)
        {
            if h == *hash {
                out.insert((pid, nanos));
            }
        }
    }
    out
}
