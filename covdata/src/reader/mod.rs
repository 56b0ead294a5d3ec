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
pub use stream::{saturating_add_into, visit_run_counters};
pub use summary::RunSummary;

use crate::error::{Error, ErrorKind, Result};
use crate::lock::lock_path;
use crate::pods::{discover, no_pods};
use pools::locked_counter_files;
use stream::read_runs;

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
}

/// The pods of a set of input directories.
#[derive(Clone, Debug, Default)]
pub struct Loaded {
    /// Loaded pods, sorted by H.
    pub pods: Vec<Pod>,
    /// Bad inputs that were skipped (only with `ignore_bad`), in order.
    pub skipped: Vec<Error>,
}

/// Discovers and loads every pod of `dirs`. Without `ignore_bad`, the first
/// bad file (in discovery order) is the error, and so is finding no pod;
/// with it, the result may hold no pod (the caller reports the skipped
/// files first).
pub fn load(dirs: &[PathBuf], opts: LoadOptions) -> Result<Loaded> {
    let found = discover(dirs)?;
    let mut out = Loaded::default();
    for problem in found.problems {
        skip_or_fail(&mut out, problem, opts)?;
    }
    for files in found.pods {
        let mut pod = match Pod::open(&files.meta, Some(&files.hash)) {
            Ok(pod) => pod,
            Err(e) => {
                let n = files.counters.len();
                let e = if n > 0 && opts.ignore_bad {
                    let detail = format!("{} (skipped with its {n} counter files)", e.detail());
                    Error::new(e.kind().clone(), detail).at(&files.meta)
                } else {
                    e
                };
                skip_or_fail(&mut out, e, opts)?;
                continue;
            }
        };
        pod.meta_path = files.meta.clone();
        // Under the pod's shared locks, a concurrent compaction can neither
        // add a file to a pool nor delete it while the files are read.
        // Without a lock file, a first compaction may start meanwhile: a
        // file that vanished is then read again, under its lock.
        let mut retried = false;
        let errors = loop {
            let (locks, counters) = match locked_counter_files(dirs, &files) {
                Ok(v) => v,
                Err(e) => break vec![e],
            };
            let errors = read_runs(&mut pod, dirs, &counters, opts);
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
        for e in errors {
            skip_or_fail(&mut out, e, opts)?;
        }
        out.pods.push(pod);
    }
    if out.pods.is_empty() && !opts.ignore_bad {
        return Err(no_pods(dirs));
    }
    Ok(out)
}

fn skip_or_fail(out: &mut Loaded, e: Error, opts: LoadOptions) -> Result<()> {
    if opts.ignore_bad {
        out.skipped.push(e);
        Ok(())
    } else {
        Err(e)
    }
}
