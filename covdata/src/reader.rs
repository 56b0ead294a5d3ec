//! Loading pods: each meta file is decoded once; counter files are streamed
//! one at a time into a dense per-pod counter array (summed with
//! saturation), so memory grows with the number of pods, not of runs.
//! Files are read on several threads; results do not depend on the order
//! in which threads finish.

use std::ops::Range;
use std::path::{Path, PathBuf};

use covwrap_rt::format::counters::{CountersFile, CountersHeader};
use covwrap_rt::format::defs::MetaHash;
use covwrap_rt::format::md5::hex;
use covwrap_rt::format::meta::{FuncEntry, MetaFile};

use crate::error::{Error, ErrorKind, Result};
use crate::pods::{discover, no_pods, PodFiles};

/// One process run: what its counter file says about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// The counter file.
    pub path: PathBuf,
    /// Its header (pid, times, end reason, flags).
    pub header: CountersHeader,
    /// Its args table (argv, exe, os, arch, label).
    pub args: Vec<(String, String)>,
}

impl Run {
    /// Values of `key` in the args table, in order.
    pub fn arg_values<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.args
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `key`.
    pub fn arg<'a>(&'a self, key: &'a str) -> Option<&'a str> {
        self.arg_values(key).next()
    }
}

/// A loaded pod: the meta file's contents and the sum of its runs.
#[derive(Clone, Debug)]
pub struct Pod {
    /// The meta hash H.
    pub hash: MetaHash,
    /// Path of the meta file read.
    pub meta_path: PathBuf,
    meta_bytes: Vec<u8>,
    /// Build identity from the meta file.
    pub ident: Vec<(String, String)>,
    /// The function table (`__llvm_prf_data` order).
    pub funcs: Vec<FuncEntry>,
    names: Range<usize>,
    covmap: Range<usize>,
    covfun: Range<usize>,
    /// Every run's counters summed, one per counter of the binary.
    pub counters: Vec<u64>,
    /// Some sum saturated at `u64::MAX` (or an input file says so).
    pub saturated: bool,
    /// The runs that were read, in reading order.
    pub runs: Vec<Run>,
}

impl Pod {
    /// The meta file, byte for byte (for writing it to another COVDIR).
    pub fn meta_bytes(&self) -> &[u8] {
        &self.meta_bytes
    }

    /// H as 32 hex digits.
    pub fn hash_hex(&self) -> String {
        hex(&self.hash)
    }

    /// `__llvm_prf_names`, verbatim.
    pub fn llvm_names(&self) -> &[u8] {
        &self.meta_bytes[self.names.clone()]
    }

    /// `__llvm_covmap`, verbatim.
    pub fn llvm_covmap(&self) -> &[u8] {
        &self.meta_bytes[self.covmap.clone()]
    }

    /// `__llvm_covfun`, verbatim.
    pub fn llvm_covfun(&self) -> &[u8] {
        &self.meta_bytes[self.covfun.clone()]
    }

    /// The first value of an ident key (`build-id`, `machine`, ...).
    pub fn ident_value(&self, key: &str) -> Option<&str> {
        self.ident
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The counters of function-table entry `i`.
    pub fn func_counters(&self, i: usize) -> &[u64] {
        let f = &self.funcs[i];
        let start = f.first_counter as usize;
        &self.counters[start..start + f.num_counters as usize]
    }

    /// Reads and validates a meta file; its runs start empty.
    pub fn open(path: &Path, expected: Option<&MetaHash>) -> Result<Pod> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, &e))?;
        Pod::from_meta_bytes(bytes, expected).map_err(|e| e.at(path))
    }

    /// A pod for meta file `bytes`, without runs. `expected` is the H its
    /// name claims, checked against the content.
    pub fn from_meta_bytes(bytes: Vec<u8>, expected: Option<&MetaHash>) -> Result<Pod> {
        let meta = MetaFile::parse(&bytes).map_err(Error::from)?;
        if let Some(h) = expected {
            if meta.hash() != *h {
                return Err(Error::corrupt(format!(
                    "corrupt: file name says H {} but the content hashes to {}",
                    hex(h),
                    hex(&meta.hash())
                )));
            }
        }
        let [module] = meta.modules() else {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "unsupported: a meta file with {} modules (combined binaries) is not read by this build",
                    meta.modules().len()
                ),
            ));
        };
        let range = |s: &[u8]| {
            let start = s.as_ptr() as usize - bytes.as_ptr() as usize;
            start..start + s.len()
        };
        let names = range(module.llvm_names());
        let covmap = range(module.llvm_covmap());
        let covfun = range(module.llvm_covfun());
        let pod = Pod {
            hash: meta.hash(),
            meta_path: PathBuf::new(),
            ident: module.ident().to_vec(),
            funcs: module.funcs().collect(),
            counters: vec![0; meta.total_counters() as usize],
            names,
            covmap,
            covfun,
            saturated: false,
            runs: Vec::new(),
            meta_bytes: Vec::new(),
        };
        Ok(Pod {
            meta_bytes: bytes,
            ..pod
        })
    }
}

/// How to treat bad input.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoadOptions {
    /// Skip bad files (reported in [`Loaded::skipped`]) instead of failing.
    pub ignore_bad: bool,
    /// Reader threads; 0 means the number of CPUs (at most 8).
    pub threads: usize,
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
        for e in read_runs(&mut pod, &files, opts.threads) {
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

/// What one reader thread produced.
struct Partial {
    counters: Vec<u64>,
    saturated: bool,
    runs: Vec<(usize, Run)>,
    errors: Vec<(usize, Error)>,
}

/// Adds every counter file of `files` into `pod`; returns the bad files'
/// errors in file order (their counters are not added).
fn read_runs(pod: &mut Pod, files: &PodFiles, threads: usize) -> Vec<Error> {
    let n = files.counters.len();
    if n == 0 {
        return Vec::new();
    }
    let threads = match threads {
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
            runs: Vec::new(),
            errors: Vec::new(),
        };
        let mut buf = Vec::new();
        for i in (t..n).step_by(threads) {
            let path = &files.counters[i];
            match read_one(path, &hash, &mut part.counters, &mut buf) {
                Ok((run, saturated)) => {
                    part.saturated |= saturated;
                    part.runs.push((i, run));
                }
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

fn read_one(
    path: &Path,
    hash: &MetaHash,
    dense: &mut [u64],
    buf: &mut Vec<u8>,
) -> Result<(Run, bool)> {
    use std::io::Read;
    buf.clear();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(buf))
        .map_err(|e| Error::io(path, &e))?;
    let file = CountersFile::parse(buf).map_err(Error::from)?;
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
    let saturated = file.add_into(dense)
        | (header.flags & covwrap_rt::format::defs::counter_flags::SATURATED != 0);
    Ok((
        Run {
            path: path.to_path_buf(),
            header,
            args: file.args().to_vec(),
        },
        saturated,
    ))
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
