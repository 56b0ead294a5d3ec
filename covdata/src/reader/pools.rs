//! Pools and locks: which counter files of a pod a load reads, so that a
//! concurrent `merge --in-place` neither hides nor doubles a run.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use covwrap_rt::format::counters::CountersFile;
use covwrap_rt::format::defs::{arg_keys, MetaHash, POOL_PID};
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
pub(crate) fn locked_counter_files<'a>(
    dirs: &[PathBuf],
    files: &'a PodFiles,
) -> Result<(Vec<PodLock>, Cow<'a, [CounterFile]>)> {
    let distinct = dirs.iter().enumerate().all(|(i, d)| !dirs[..i].contains(d));
    // Pools, label pools and merge outputs (pid 0) may list absorbed files.
    let has_pool = files.counters.iter().any(|f| f.pid == POOL_PID);
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

/// The (pid, nanos) of the files that a pool of the pod in `dir` (the
/// pool `covcounters.<H>.0.0`, a label pool, any file of pid 0 in
/// `listed`) lists as `absorbed`; a file that cannot be read absorbs
/// nothing (it is reported when it is read).
fn absorbed_files(dir: &Path, hash: &MetaHash, listed: &[CounterFile]) -> FastSet<(u64, u64)> {
    absorbed_lists(dir, hash, listed)
        .into_iter()
        .flat_map(|(_, absorbed)| absorbed)
        .collect()
}

/// Each file of pid 0 in `listed` that can be read and lists files as
/// `absorbed`, with the (pid, nanos) of those files of pod `hash`.
pub(crate) fn absorbed_lists(
    dir: &Path,
    hash: &MetaHash,
    listed: &[CounterFile],
) -> Vec<(CounterFile, Vec<(u64, u64)>)> {
    let mut out = Vec::new();
    for f in listed.iter().filter(|f| f.pid == POOL_PID) {
        let path = dir.join(counters_file_name(hash, f.pid, f.nanos));
        // Most such files (merge outputs, label pools after a clean
        // compaction) absorb nothing, which their args alone show; only a
        // file whose args name absorbed files is read and checked whole.
        if !args_name_absorbed(&path) {
            continue;
        }
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let absorbed = absorbed_in(&bytes, hash);
        if !absorbed.is_empty() {
            out.push((*f, absorbed));
        }
    }
    out
}

/// Whether the args table at the start of the counter file at `path` has
/// an `absorbed` entry (or cannot be read that far: then the whole file
/// decides). Reads the header and the args table only.
fn args_name_absorbed(path: &Path) -> bool {
    use covwrap_rt::format::defs::COUNTERS_HEADER_LEN;
    use std::io::Read;
    let Ok(mut file) = std::fs::File::open(path) else {
        return true;
    };
    let mut header = [0u8; COUNTERS_HEADER_LEN];
    if file.read_exact(&mut header).is_err() {
        return true;
    }
    // The args table's length (docs/FORMAT.md: offset 64), bounded by
    // what a sane file holds.
    let len = u32::from_le_bytes(header[64..68].try_into().expect("4 bytes")) as usize;
    let mut args = vec![0u8; len.min(1 << 24)];
    if file.read_exact(&mut args).is_err() {
        return true;
    }
    match covwrap_rt::format::kv::decode(&args, "args") {
        Ok(pairs) => pairs.iter().any(|(k, _)| k == arg_keys::ABSORBED),
        Err(_) => true,
    }
}

/// The (pid, nanos) of the files that pool file `bytes` of pod `hash`
/// lists as `absorbed`, in its order; nothing when it does not parse.
pub(crate) fn absorbed_in(bytes: &[u8], hash: &MetaHash) -> Vec<(u64, u64)> {
    match CountersFile::parse(bytes) {
        Ok(file) => absorbed_names(hash, file.args()),
        Err(_) => Vec::new(),
    }
}

/// The (pid, nanos) of the `absorbed` entries in `args` naming files of
/// pod `hash`.
pub(crate) fn absorbed_names(hash: &MetaHash, args: &[(String, String)]) -> Vec<(u64, u64)> {
    args.iter()
        .filter(|(k, _)| k == arg_keys::ABSORBED)
        .filter_map(|(_, name)| match parse_file_name(name) {
            Some(FileName::Counters {
                hash: h,
                pid,
                nanos,
            }) if h == *hash => Some((pid, nanos)),
            _ => None,
        })
        .collect()
}
