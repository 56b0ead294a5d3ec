//! Streaming counter files into a pod's dense counter array on several
//! threads; the result does not depend on the order threads finish in.

use std::path::{Path, PathBuf};

use covwrap_rt::format::counters::{CountersFile, CountersHeader};
use covwrap_rt::format::defs::MetaHash;
use covwrap_rt::format::md5::hex;

use super::pod::{Pod, Run};
use super::summary::RunSummary;
use super::LoadOptions;
use crate::error::{Error, ErrorKind, Result};
use crate::pods::CounterFile;

/// What one reader thread produced.
struct Partial {
    counters: Vec<u64>,
    saturated: bool,
    summary: RunSummary,
    runs: Vec<(usize, Run)>,
    errors: Vec<(usize, Error)>,
}

/// Adds every counter file of `files` into `pod`; returns the bad files'
/// errors in file order (their counters are not added).
pub(super) fn read_runs(
    pod: &mut Pod,
    dirs: &[PathBuf],
    files: &[CounterFile],
    opts: LoadOptions,
) -> Vec<Error> {
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
            let path = &files[i].path(dirs, &hash);
            let read = read_one(
                path,
                &hash,
                &mut part.counters,
                &mut buf,
                &mut entries,
                |header, args| {
                    part.summary.add(header, args);
                    if opts.keep_runs {
                        let run = Run {
                            path: path.clone(),
                            header: *header,
                            args: args.to_vec(),
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
pub fn saturating_add_into(dst: &mut [u64], src: &[u64]) -> bool {
    let mut saturated = false;
    for (d, s) in dst.iter_mut().zip(src) {
        let (sum, overflow) = d.overflowing_add(*s);
        *d = if overflow { u64::MAX } else { sum };
        saturated |= overflow;
    }
    saturated
}

/// Reads one counter file into `dense`; `seen` gets its header and args.
/// Returns whether a sum saturated.
fn read_one(
    path: &Path,
    hash: &MetaHash,
    dense: &mut [u64],
    buf: &mut Vec<u8>,
    entries: &mut Vec<(u32, u64)>,
    seen: impl FnOnce(&CountersHeader, &[(String, String)]),
) -> Result<bool> {
    use std::io::Read;
    buf.clear();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(buf))
        .map_err(|e| Error::io(path, &e))?;
    let file = CountersFile::parse_into(buf, entries).map_err(Error::from)?;
    let header = *file.header();
    if header.meta_hash != *hash {
        return Err(Error::corrupt(format!(
            "corrupt: file name says H {} but the header says {}",
            hex(hash),
            hex(&header.meta_hash)
        )));
    }
    if header.num_counters as usize != dense.len() {
        return Err(Error::new(
            ErrorKind::CounterMismatch,
            format!(
                "{} counters, but its meta file describes {}",
                header.num_counters,
                dense.len()
            ),
        ));
    }
    // Every index is below num_counters, which is dense.len().
    let mut saturated = header.flags & covwrap_rt::format::defs::counter_flags::SATURATED != 0;
    for &(i, v) in entries.iter() {
        let slot = &mut dense[i as usize];
        let (sum, overflow) = slot.overflowing_add(v);
        *slot = if overflow { u64::MAX } else { sum };
        saturated |= overflow;
    }
    seen(&header, file.args());
    Ok(saturated)
}

/// Streams the counters of each run of `pod` again, one file at a time, for
/// reports that need per-run values (debugdump). `visit` gets the run and
/// its `(index, value)` entries.
pub fn visit_run_counters(
    run: &Run,
    mut visit: impl FnMut(&mut dyn Iterator<Item = (u32, u64)>),
) -> Result<()> {
    let bytes = std::fs::read(&run.path).map_err(|e| Error::io(&run.path, &e))?;
    let file = CountersFile::parse(&bytes).map_err(|e| Error::from(e).at(&run.path))?;
    visit(&mut file.entries());
    Ok(())
}
