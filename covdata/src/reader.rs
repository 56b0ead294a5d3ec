//! Loading pods: each meta file is decoded once; counter files are streamed
//! one at a time into a dense per-pod counter array (summed with
//! saturation), so memory grows with the number of pods, not of runs.
//! Files are read on several threads; results do not depend on the order
//! in which threads finish.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use covwrap_rt::format::counters::{add_saturating, CountersFile, CountersHeader};
use covwrap_rt::format::defs::{arg_keys, counter_flags, end_reason, MetaHash, POOL_PID};
use covwrap_rt::format::md5::hex;
use covwrap_rt::format::meta::{FuncEntry, MetaFile};
use covwrap_rt::format::names::{counters_file_name, parse_file_name, FileName};

use crate::error::{Error, ErrorKind, Result};
use crate::fasthash::FastSet;
use crate::lock::{lock_path, PodLock};
use crate::pods::{discover, list_counter_files, no_pods, CounterFile, PodFiles};

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

/// One module of a pod's meta file: the coverage data of one binary.
/// Readers treat each module as a separate object, in module order (as
/// llvm-cov treats several `-object` arguments).
#[derive(Clone, Debug)]
pub struct PodModule {
    /// Build identity of the binary.
    pub ident: Vec<(String, String)>,
    /// When the binary was linked (ns since the Unix epoch), if recorded.
    pub build_time_ns: Option<u64>,
    /// Index of the module's first counter in [`Pod::counters`].
    pub counter_base: u32,
    /// Length of the module's counter array.
    pub total_counters: u32,
    /// The module's entries in [`Pod::funcs`].
    pub funcs: Range<usize>,
    names: Range<usize>,
    covmap: Range<usize>,
    covfun: Range<usize>,
}

impl PodModule {
    /// The first value of an ident key of this module.
    pub fn ident_value(&self, key: &str) -> Option<&str> {
        self.ident
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
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
    /// Build identity from the meta file (of its first module).
    pub ident: Vec<(String, String)>,
    /// The function tables of every module, in module order (each module's
    /// in `__llvm_prf_data` order), with `first_counter` relative to the
    /// whole pod's counter array.
    pub funcs: Vec<FuncEntry>,
    /// The modules, in order; one for a meta file written by a process.
    pub modules: Vec<PodModule>,
    /// Every run's counters summed, one per counter of the binary.
    pub counters: Vec<u64>,
    /// Some sum saturated at `u64::MAX` (or an input file says so).
    pub saturated: bool,
    /// What the counter files read say about their runs, in a fixed size
    /// whatever their number.
    pub summary: RunSummary,
    /// The runs that were read, in reading order; kept only when
    /// [`LoadOptions::keep_runs`] asks (their args grow with the number of
    /// files).
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

    /// `__llvm_prf_names` of the first module, verbatim.
    pub fn llvm_names(&self) -> &[u8] {
        self.module_names(0)
    }

    /// `__llvm_covmap` of the first module, verbatim.
    pub fn llvm_covmap(&self) -> &[u8] {
        self.module_covmap(0)
    }

    /// `__llvm_covfun` of the first module, verbatim.
    pub fn llvm_covfun(&self) -> &[u8] {
        self.module_covfun(0)
    }

    /// `__llvm_prf_names` of module `m`, verbatim.
    pub fn module_names(&self, m: usize) -> &[u8] {
        &self.meta_bytes[self.modules[m].names.clone()]
    }

    /// `__llvm_covmap` of module `m`, verbatim.
    pub fn module_covmap(&self, m: usize) -> &[u8] {
        &self.meta_bytes[self.modules[m].covmap.clone()]
    }

    /// `__llvm_covfun` of module `m`, verbatim.
    pub fn module_covfun(&self, m: usize) -> &[u8] {
        &self.meta_bytes[self.modules[m].covfun.clone()]
    }

    /// The function-table entries of module `m` (pod-wide `first_counter`).
    pub fn module_funcs(&self, m: usize) -> &[FuncEntry] {
        &self.funcs[self.modules[m].funcs.clone()]
    }

    /// The summed counters of module `m`.
    pub fn module_counters(&self, m: usize) -> &[u64] {
        let module = &self.modules[m];
        let start = module.counter_base as usize;
        &self.counters[start..start + module.total_counters as usize]
    }

    /// The first value of an ident key (`build-id`, `machine`, ...) of the
    /// first module.
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

    /// The number of process runs the pod's counter files sum (each file's
    /// `runs` field).
    pub fn total_runs(&self) -> u64 {
        u64::from(self.summary.runs)
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
        let range = |s: &[u8]| {
            let start = s.as_ptr() as usize - bytes.as_ptr() as usize;
            start..start + s.len()
        };
        let mut funcs = Vec::new();
        let mut modules = Vec::with_capacity(meta.modules().len());
        for module in meta.modules() {
            let base = module.counter_base();
            let first = funcs.len();
            funcs.extend(module.funcs().map(|f| FuncEntry {
                first_counter: f.first_counter + base,
                ..f
            }));
            modules.push(PodModule {
                ident: module.ident().to_vec(),
                build_time_ns: module.build_time_ns(),
                counter_base: base,
                total_counters: module.total_counters(),
                funcs: first..funcs.len(),
                names: range(module.llvm_names()),
                covmap: range(module.llvm_covmap()),
                covfun: range(module.llvm_covfun()),
            });
        }
        let pod = Pod {
            hash: meta.hash(),
            meta_path: PathBuf::new(),
            ident: modules[0].ident.clone(),
            funcs,
            modules,
            counters: vec![0; meta.total_counters() as usize],
            saturated: false,
            summary: RunSummary::default(),
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
    /// Keep every run's header and args in [`Pod::runs`] (debugdump);
    /// otherwise only [`Pod::summary`], so memory does not grow with the
    /// number of counter files.
    pub keep_runs: bool,
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
        let Ok(file) = CountersFile::parse(&bytes) else {
            continue;
        };
        let absorbed = absorbed_names(hash, file.args());
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
    summary: RunSummary,
    runs: Vec<(usize, Run)>,
    errors: Vec<(usize, Error)>,
}

/// Adds every counter file of `files` into `pod`; returns the bad files'
/// errors in file order (their counters are not added).
fn read_runs(
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
pub use covwrap_rt::format::counters::add_all_saturating as saturating_add_into;

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
    let file = read_checked(path, hash, dense.len(), buf, entries)?;
    let header = *file.header();
    // Every index is below num_counters, which is dense.len().
    let mut saturated = header.flags & covwrap_rt::format::defs::counter_flags::SATURATED != 0;
    for &(i, v) in entries.iter() {
        saturated |= add_saturating(&mut dense[i as usize], v);
    }
    seen(&header, file.args());
    Ok(saturated)
}

/// Reads and checks one counter file of pod `hash` (`total` counters):
/// its entries go to `entries`. Errors do not name the path.
pub(crate) fn read_checked<'a>(
    path: &Path,
    hash: &MetaHash,
    total: usize,
    buf: &'a mut Vec<u8>,
    entries: &mut Vec<(u32, u64)>,
) -> Result<CountersFile<'a>> {
    use std::io::Read;
    buf.clear();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(buf))
        .map_err(|e| Error::io(path, &e))?;
    let file = CountersFile::parse_into(buf, entries).map_err(Error::from)?;
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
                header.num_counters,
            ),
        ));
    }
    Ok(file)
}

/// What a pod's counter files say about their runs, in a fixed size: the
/// header fields a file summing them needs, and the latest run's binary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Sum of the files' `runs` (saturating at `u32::MAX`).
    pub runs: u32,
    /// Earliest start time.
    pub start_ns: Option<u64>,
    /// Latest write time.
    pub write_ns: u64,
    /// Some file had the saturated flag.
    pub saturated: bool,
    /// Per kept key (`os`, `arch`): its values, while every file so far
    /// had exactly these; `None` once two files disagreed.
    agreed: BTreeMap<&'static str, Option<Vec<String>>>,
    /// `exe` (else first `argv`) of the latest-written file, and its time.
    latest_exe: Option<(u64, String)>,
    files: usize,
}

/// Args keys a merged counter file keeps when every input agrees on them.
const AGREED_KEYS: [&str; 2] = [arg_keys::OS, arg_keys::ARCH];

impl RunSummary {
    /// Adds one counter file's header and args.
    pub fn add(&mut self, header: &CountersHeader, args: &[(String, String)]) {
        let mut one = RunSummary {
            runs: header.runs,
            start_ns: Some(header.start_ns),
            write_ns: header.write_ns,
            saturated: header.flags & counter_flags::SATURATED != 0,
            agreed: BTreeMap::new(),
            latest_exe: None,
            files: 1,
        };
        for key in AGREED_KEYS {
            let values = args
                .iter()
                .filter(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .collect();
            one.agreed.insert(key, Some(values));
        }
        let arg = |key: &str| args.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        one.latest_exe = arg(arg_keys::EXE)
            .or_else(|| arg(arg_keys::ARGV))
            .map(|e| (header.write_ns, e));
        self.merge(&one);
    }

    /// Adds a run.
    pub fn add_run(&mut self, run: &Run) {
        self.add(&run.header, &run.args);
    }

    /// Adds everything `other` summarizes. Order does not matter.
    pub fn merge(&mut self, other: &RunSummary) {
        if other.files == 0 {
            return;
        }
        if self.files == 0 {
            *self = other.clone();
            return;
        }
        self.runs = self.runs.saturating_add(other.runs);
        self.start_ns = match (self.start_ns, other.start_ns) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.write_ns = self.write_ns.max(other.write_ns);
        self.saturated |= other.saturated;
        for key in AGREED_KEYS {
            let theirs = other.agreed.get(key).cloned().flatten();
            let slot = self.agreed.entry(key).or_insert(None);
            if slot.is_some() && *slot != theirs {
                *slot = None;
            }
        }
        // Ties broken by the name, so the result is order-free.
        if other.latest_exe > self.latest_exe {
            self.latest_exe = other.latest_exe.clone();
        }
        self.files += other.files;
    }

    /// Number of files added.
    pub fn files(&self) -> usize {
        self.files
    }

    /// The binary of the latest-written file, to pair a raw profile with.
    pub fn latest_exe(&self) -> Option<&str> {
        self.latest_exe.as_ref().map(|(_, e)| e.as_str())
    }

    /// `os` and `arch`, each where every file had the same values.
    pub fn args(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for key in AGREED_KEYS {
            if let Some(Some(values)) = self.agreed.get(key) {
                out.extend(values.iter().map(|v| (key.to_string(), v.clone())));
            }
        }
        out
    }

    /// The header of the merged file for `hash` and `num_counters`.
    pub fn header(&self, hash: MetaHash, num_counters: u32, saturated: bool) -> CountersHeader {
        CountersHeader {
            flags: if saturated || self.saturated {
                counter_flags::SATURATED
            } else {
                0
            },
            meta_hash: hash,
            pid: 0,
            start_ns: self.start_ns.unwrap_or(0),
            write_ns: self.write_ns,
            num_counters,
            end: end_reason::MERGED,
            runs: self.runs,
        }
    }
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
