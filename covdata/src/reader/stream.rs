//! Streaming counter files into a pod's dense counter array on several
//! threads; the result does not depend on the order threads finish in.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use covwrap_rt::format::counters::{add_saturating, CountersFile, CountersHeader};
use covwrap_rt::format::defs::MetaHash;
use covwrap_rt::format::md5::hex;

use super::pod::{Pod, Run};
use super::summary::RunSummary;
use super::LoadOptions;
use crate::dense::Outcome;
use crate::error::{Error, ErrorKind, Result};
use crate::pods::CounterFile;

/// The counter files of one pod, wherever they are: numbered `0..len()`
/// in reading order.
pub(crate) trait CounterBytes: Sync {
    /// How many files.
    fn len(&self) -> usize;
    /// The path that names file `i` in messages and in [`Run::path`].
    fn path(&self, i: usize) -> PathBuf;
    /// Replaces `buf` with the contents of file `i` as a covcounters file
    /// (a dense file converted, see [`crate::dense`]), or says it is a live
    /// process's dense file, to be skipped.
    fn read(&self, i: usize, buf: &mut Vec<u8>) -> Result<Outcome>;
    /// The contents of file `i` when they are in memory already (kept by
    /// runs so that per-run reports need no file).
    fn shared(&self, _i: usize) -> Option<Arc<[u8]>> {
        None
    }
    /// The pid in file `i`'s name (0 for pools and covdata's own files).
    fn name_pid(&self, i: usize) -> u64;
}

/// Sees what a load reads, for a command that needs more than the sums:
/// `covdata tests` keeps, of every run, the few counters that can decide
/// its query, so that each counter file is read once.
pub trait RunObserver: Sync {
    /// Every pod whose meta file opened, before any counter file is read.
    fn pods(&self, pods: &[&Pod]);
    /// The `files` counter files of pod `hash` are about to be read; a
    /// second call for the same pod (a load that reads a pod again) drops
    /// what was seen of it before.
    fn begin(&self, hash: &MetaHash, files: usize);
    /// One run added to its pod's sums, on the thread that read it.
    fn run(&self, run: &SeenRun<'_>);
}

/// A run as [`RunObserver::run`] sees it.
pub struct SeenRun<'a> {
    /// Its pod.
    pub hash: &'a MetaHash,
    /// The file's number in its pod's reading order.
    pub index: usize,
    /// The pid in the file's name.
    pub name_pid: u64,
    /// The file's header.
    pub header: &'a CountersHeader,
    /// Its args table.
    pub args: &'a [(String, String)],
    /// Its `(counter, value)` entries.
    pub entries: &'a [(u32, u64)],
}

/// Counter files listed in input directories.
pub(crate) struct DirFiles<'a> {
    pub dirs: &'a [PathBuf],
    pub files: &'a [CounterFile],
    pub hash: MetaHash,
    pub include_live: bool,
}

impl CounterBytes for DirFiles<'_> {
    fn len(&self) -> usize {
        self.files.len()
    }
    fn path(&self, i: usize) -> PathBuf {
        self.files[i].path(self.dirs, &self.hash)
    }
    fn read(&self, i: usize, buf: &mut Vec<u8>) -> Result<Outcome> {
        crate::dense::read_counter_file(&self.path(i), buf, self.include_live)
    }
    fn name_pid(&self, i: usize) -> u64 {
        self.files[i].pid
    }
}

/// What one reader thread produced.
struct Partial {
    counters: Vec<u64>,
    saturated: bool,
    summary: RunSummary,
    runs: Vec<(usize, Run)>,
    errors: Vec<(usize, Error)>,
}

/// Adds every counter file of `files` into `pod`; returns the bad files'
/// errors in file order (their counters are not added). `observer` is
/// told the pod and the number of files, then sees every run added.
pub(crate) fn read_runs(
    pod: &mut Pod,
    files: &dyn CounterBytes,
    opts: LoadOptions,
    observer: Option<&dyn RunObserver>,
) -> Vec<Error> {
    if let Some(o) = observer {
        o.begin(&pod.hash, files.len());
    }
    let n = files.len();
    if n == 0 {
        return Vec::new();
    }
    let threads = match opts.threads {
        0 => std::thread::available_parallelism().map_or(1, |p| p.get().min(8)),
        t => t,
    }
    .min(n);
    let total = pod.counters.len();
    let hash = pod.hash;
    let work = |t: usize| {
        let mut part = Partial {
            counters: vec![0; total],
            saturated: false,
            summary: RunSummary::default(),
            runs: Vec::new(),
            errors: Vec::new(),
        };
        let mut buf = Vec::new();
        let mut entries = Vec::new();
        for i in (t..n).step_by(threads) {
            let path = &files.path(i);
            let read = read_one(
                files,
                i,
                path,
                &hash,
                &mut part.counters,
                &mut buf,
                &mut entries,
                observer,
                |header, args| {
                    part.summary.add(header, args);
                    if opts.keep_runs {
                        let run = Run {
                            path: path.clone(),
                            header: *header,
                            args: args.to_vec(),
                            data: files.shared(i),
                        };
                        part.runs.push((i, run));
                    }
                },
            );
            match read {
                Ok(saturated) => part.saturated |= saturated,
                Err(e) => part.errors.push((i, e.at(path))),
            }
        }
        part
    };
    let parts: Vec<Partial> = if threads == 1 {
        vec![work(0)]
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads).map(|t| s.spawn(move || work(t))).collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("reader thread panicked"))
                .collect()
        })
    };
    let mut runs = Vec::with_capacity(n);
    let mut errors = Vec::new();
    for part in parts {
        pod.summary.merge(&part.summary);
        pod.saturated |= part.saturated;
        pod.saturated |= saturating_add_into(&mut pod.counters, &part.counters);
        runs.extend(part.runs);
        errors.extend(part.errors);
    }
    runs.sort_by_key(|(i, _)| *i);
    errors.sort_by_key(|(i, _)| *i);
    pod.runs.extend(runs.into_iter().map(|(_, r)| r));
    errors.into_iter().map(|(_, e)| e).collect()
}

/// Adds `src` into `dst` with saturation; true if anything saturated.
pub use covwrap_rt::format::counters::add_all_saturating as saturating_add_into;

/// Reads counter file `i` of `files` into `dense`; `seen` gets its header
/// and args first. Returns whether a sum saturated.
#[allow(clippy::too_many_arguments)]
fn read_one(
    files: &dyn CounterBytes,
    i: usize,
    path: &Path,
    hash: &MetaHash,
    dense: &mut [u64],
    buf: &mut Vec<u8>,
    entries: &mut Vec<(u32, u64)>,
    observer: Option<&dyn RunObserver>,
    seen: impl FnOnce(&CountersHeader, &[(String, String)]),
) -> Result<bool> {
    if files.read(i, buf).map_err(|e| e.at(path))? == Outcome::Live {
        return Ok(false);
    }
    let file = CountersFile::parse_into(buf, entries).map_err(Error::from)?;
    check_header(&file, hash, dense.len())?;
    let header = *file.header();
    seen(&header, file.args());
    if let Some(o) = observer {
        o.run(&SeenRun {
            hash,
            index: i,
            name_pid: files.name_pid(i),
            header: &header,
            args: file.args(),
            entries,
        });
    }
    // Every index is below num_counters, which is dense.len().
    let mut saturated = header.flags & covwrap_rt::format::defs::counter_flags::SATURATED != 0;
    for &(i, v) in entries.iter() {
        saturated |= add_saturating(&mut dense[i as usize], v);
    }
    Ok(saturated)
}

/// A counter file belongs to pod `hash` of `total` counters.
fn check_header(file: &CountersFile, hash: &MetaHash, total: usize) -> Result<()> {
    let header = file.header();
    if header.meta_hash != *hash {
        return Err(Error::corrupt(format!(
            "corrupt: file name says H {} but the header says {}",
            hex(hash),
            hex(&header.meta_hash)
        )));
    }
    if header.num_counters as usize != total {
        return Err(Error::new(
            ErrorKind::CounterMismatch,
            format!(
                "{} counters, but its meta file describes {total}",
                header.num_counters
            ),
        ));
    }
    Ok(())
}

/// Streams the counters of each run of `pod` again, one file at a time, for
/// reports that need per-run values (debugdump). `visit` gets the run and
/// its `(index, value)` entries.
pub fn visit_run_counters(
    run: &Run,
    mut visit: impl FnMut(&mut dyn Iterator<Item = (u32, u64)>),
) -> Result<()> {
    let read;
    let bytes: &[u8] = match &run.data {
        Some(data) => data,
        None => {
            let mut bytes = Vec::new();
            // The load read this run, so a live file was asked for.
            crate::dense::read_counter_file(&run.path, &mut bytes, true)?;
            read = bytes;
            &read
        }
    };
    let file = CountersFile::parse(bytes).map_err(|e| Error::from(e).at(&run.path))?;
    visit(&mut file.entries());
    Ok(())
}
