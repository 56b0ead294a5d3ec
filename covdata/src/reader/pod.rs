//! What a load produces: pods (a meta file and the sum of its runs), their
//! modules, and the runs read.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use covwrap_rt::format::counters::CountersHeader;
use covwrap_rt::format::defs::MetaHash;
use covwrap_rt::format::md5::hex;
use covwrap_rt::format::meta::{FuncEntry, MetaFile};

use super::summary::RunSummary;
use crate::error::{Error, Result};

/// One process run: what its counter file says about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// The counter file.
    pub path: PathBuf,
    /// Its header (pid, times, end reason, flags).
    pub header: CountersHeader,
    /// Its args table (argv, exe, os, arch, label).
    pub args: Vec<(String, String)>,
    /// The file's bytes, when it was loaded from memory.
    pub(crate) data: Option<std::sync::Arc<[u8]>>,
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
    /// Shared with a thread checking H while the runs are read.
    meta_bytes: Arc<Vec<u8>>,
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

    /// [`Pod::open`] but for H: the caller checks it with
    /// [`Pod::check_hash`] before trusting the pod.
    pub(crate) fn open_unchecked(path: &Path) -> Result<Pod> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, &e))?;
        Pod::from_unchecked(bytes).map_err(|e| e.at(path))
    }

    /// A pod for meta file `bytes`, without runs. `expected` is the H its
    /// name claims, checked against the content.
    pub fn from_meta_bytes(bytes: Vec<u8>, expected: Option<&MetaHash>) -> Result<Pod> {
        let pod = Pod::from_unchecked(bytes)?;
        Pod::check_hash(&pod.meta_bytes, expected)?;
        Ok(pod)
    }

    /// The meta file's bytes, for [`Pod::check_hash`] on another thread.
    pub(crate) fn shared_meta_bytes(&self) -> Arc<Vec<u8>> {
        Arc::clone(&self.meta_bytes)
    }

    /// The check [`Pod::from_meta_bytes`] makes after decoding: H is the
    /// hash of the content, and the one the file's name claims.
    pub(crate) fn check_hash(bytes: &[u8], expected: Option<&MetaHash>) -> Result<()> {
        MetaFile::check_hash(bytes).map_err(Error::from)?;
        let stored = &bytes[covwrap_rt::format::defs::META_HASH_RANGE];
        if let Some(h) = expected.filter(|h| h[..] != *stored) {
            return Err(Error::corrupt(format!(
                "corrupt: file name says H {} but the content hashes to {}",
                hex(h),
                hex(stored)
            )));
        }
        Ok(())
    }

    /// Decodes a meta file without checking H.
    fn from_unchecked(bytes: Vec<u8>) -> Result<Pod> {
        let meta = match MetaFile::parse_unchecked(&bytes) {
            Ok(meta) => meta,
            // The error a checking parse meets first.
            Err(e) => return Err(MetaFile::parse(&bytes).err().unwrap_or(e).into()),
        };
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
            meta_bytes: Arc::default(),
        };
        Ok(Pod {
            // Moved, not copied (an `Arc<[u8]>` would copy the file).
            meta_bytes: Arc::new(bytes),
            ..pod
        })
    }
}
