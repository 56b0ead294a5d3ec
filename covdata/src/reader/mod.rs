//! Loading pods: each meta file is decoded once; counter files are streamed
//! one at a time into a dense per-pod counter array (summed with
//! saturation), so memory grows with the number of pods, not of runs.
//! Files are read on several threads; results do not depend on the order
//! in which threads finish.
//!
//! - [`pod`]: what a load produces ([`Pod`], [`Run`]).
//! - [`pools`]: which counter files to read under pools and locks.
//! - [`stream`]: the parallel streaming of counter files.
//! - [`summary`]: [`RunSummary`], run metadata in a fixed size.

mod pod;
mod pools;
mod stream;
mod summary;

use std::path::PathBuf;

pub use pod::{Pod, PodModule, Run};
pub use stream::{saturating_add_into, visit_run_counters, RunObserver, SeenRun};
pub use summary::RunSummary;

pub(crate) use pools::{absorbed_in, absorbed_lists};
pub(crate) use stream::{read_runs, CounterBytes};

use crate::error::{Error, ErrorKind, Result};
use crate::lock::lock_path;
use crate::pods::{discover, no_pods};
pub(crate) use pools::locked_counter_files;
use stream::DirFiles;

/// How to treat bad input.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoadOptions {
    /// Skip bad files (reported in [`Loaded::skipped`]) instead of failing.
    pub ignore_bad: bool,
    /// Reader threads; 0 means the number of CPUs (at most 8).
    pub threads: usize,
    /// Keep every run's header and args in [`Pod::runs`] (debugdump);
    /// otherwise only [`Pod::summary`], so memory does not grow with the
    /// number of counter files.
    pub keep_runs: bool,
    /// `--include-live`: read running processes' dense counter files (a
    /// snapshot) instead of skipping them (see [`crate::dense`]).
    pub include_live: bool,
    /// `--all-builds`: load every build's records (see
    /// [`crate::model::BuildOptions`]); used by [`crate::load_coverage_with`].
    pub all_builds: bool,
}

/// The pods of a set of input directories.
#[derive(Clone, Debug, Default)]
pub struct Loaded {
    /// Loaded pods, sorted by H.
    pub pods: Vec<Pod>,
    /// Bad inputs that were skipped (only with `ignore_bad`), in order, and
    /// empty input directories next to ones with data ([`ErrorKind::NoData`]).
    pub skipped: Vec<Error>,
}

/// Discovers and loads every pod of `dirs`. Without `ignore_bad`, the first
/// bad file (in discovery order) is the error, and so is finding no pod;
/// with it, the result may hold no pod (the caller reports the skipped
/// files first).
pub fn load(dirs: &[PathBuf], opts: LoadOptions) -> Result<Loaded> {
    load_observed(dirs, opts, None)
}

/// [`load`], showing `observer` every pod that opened (before any counter
/// file is read) and every run added to the sums.
pub fn load_observed(
    dirs: &[PathBuf],
    opts: LoadOptions,
    observer: Option<&dyn RunObserver>,
) -> Result<Loaded> {
    let found = discover(dirs)?;
    let mut out = Loaded::default();
    for problem in found.problems {
        // An empty directory next to one with data is only a warning.
        if *problem.kind() == ErrorKind::NoData && !found.pods.is_empty() {
            out.skipped.push(problem);
            continue;
        }
        skip_or_fail(&mut out, problem, opts)?;
    }
    // H is checked on a thread of its own while the runs are read (hashing
    // a big meta file costs as much as reading its runs), unless an
    // observer must only ever see pods that are sound.
    let check_meanwhile = observer.is_none() && crate::parallel::several_cpus();
    std::thread::scope(|s| {
        // Every meta file first, so that an observer knows all pods before
        // it sees a run; errors are still reported in discovery order below.
        let opened: Vec<Result<Pod>> = found
            .pods
            .iter()
            .map(|files| {
                let pod = if check_meanwhile {
                    Pod::open_unchecked(&files.meta)
                } else {
                    Pod::open(&files.meta, Some(&files.hash))
                };
                pod.map(|mut pod| {
                    pod.meta_path = files.meta.clone();
                    pod
                })
            })
            .collect();
        // The checks, in pod order, each pod's result as it comes.
        let (checked, check_results) = std::sync::mpsc::channel::<Result<()>>();
        if check_meanwhile {
            let to_check: Vec<_> = found
                .pods
                .iter()
                .zip(&opened)
                .filter_map(|(files, pod)| {
                    let pod = pod.as_ref().ok()?;
                    Some((pod.shared_meta_bytes(), files.hash, files.meta.clone()))
                })
                .collect();
            s.spawn(move || {
                for (bytes, hash, path) in to_check {
                    let result = Pod::check_hash(&bytes, Some(&hash)).map_err(|e| e.at(&path));
                    if checked.send(result).is_err() {
                        break;
                    }
                }
            });
        }
        if let Some(o) = observer {
            o.pods(
                &opened
                    .iter()
                    .filter_map(|p| p.as_ref().ok())
                    .collect::<Vec<_>>(),
            );
        }
        let meta_error = |out: &mut Loaded, files: &crate::pods::PodFiles, e: Error| {
            let n = files.counters.len();
            let e = if n > 0 && opts.ignore_bad {
                let detail = format!("{} (skipped with its {n} counter files)", e.detail());
                Error::new(e.kind().clone(), detail).at(&files.meta)
            } else {
                e
            };
            skip_or_fail(out, e, opts)
        };
        for (files, opened) in found.pods.iter().zip(opened) {
            let mut pod = match opened {
                Ok(pod) => pod,
                Err(e) => {
                    meta_error(&mut out, files, e)?;
                    continue;
                }
            };
            // Under the pod's shared locks, a concurrent compaction can
            // neither add a file to a pool nor delete it while the files
            // are read. Without a lock file, a first compaction may start
            // meanwhile: a file that vanished is then read again, under its
            // lock.
            let mut retried = false;
            let errors = loop {
                let (locks, counters) = match locked_counter_files(dirs, files) {
                    Ok(v) => v,
                    Err(e) => break vec![e],
                };
                let source = DirFiles {
                    dirs,
                    files: &counters,
                    hash: files.hash,
                    include_live: opts.include_live,
                };
                let errors = read_runs(&mut pod, &source, opts, observer);
                let vanished = errors.iter().any(|e| *e.kind() == ErrorKind::NotFound);
                if !retried
                    && locks.is_empty()
                    && vanished
                    && dirs.iter().any(|d| lock_path(d, &files.hash).exists())
                {
                    retried = true;
                    pod.counters.iter_mut().for_each(|c| *c = 0);
                    pod.runs.clear();
                    pod.summary = RunSummary::default();
                    pod.saturated = false;
                    continue;
                }
                break errors;
            };
            // A meta file whose H is wrong fails as if it had not opened:
            // what its runs gave is dropped.
            if check_meanwhile {
                let check = check_results
                    .recv()
                    .expect("the checker sends one result per pod");
                if let Err(e) = check {
                    meta_error(&mut out, files, e)?;
                    continue;
                }
            }
            for e in errors {
                skip_or_fail(&mut out, e, opts)?;
            }
            out.pods.push(pod);
        }
        Ok::<(), Error>(())
    })?;
    if out.pods.is_empty() && !opts.ignore_bad {
        return Err(no_pods(dirs));
    }
    Ok(out)
}

pub(crate) fn skip_or_fail(out: &mut Loaded, e: Error, opts: LoadOptions) -> Result<()> {
    if opts.ignore_bad {
        out.skipped.push(e);
        Ok(())
    } else {
        Err(e)
    }
}
