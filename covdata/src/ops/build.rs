//! Reading a pod's modules for rewriting, and writing new meta files.
//!
//! A [`Source`] is one module of a loaded pod with its LLVM sections
//! decoded and walked raw (every covfun and covmap record with its bytes).
//! A [`ModuleOut`] is a module to write: function-table entries with their
//! counters, covfun records, and the names and covmap sections that go
//! with them. [`assemble`] encodes modules into one meta file and its
//! counter array.

use std::collections::HashSet;

use covwrap_rt::format::defs::MetaHash;
use covwrap_rt::format::meta::{encode_modules, FuncEntry, MetaBuilder};

use crate::crates::{crate_of, CrateFilter};
use crate::error::Result;
use crate::llvm::covfun::{encode_record, raw_records, RawCovFun};
use crate::llvm::mapping::{Expression, Mapping, Region};
use crate::llvm::names::encode_stored;
use crate::llvm::write::{push_padded, raw_covmap_records, RawCovMap};
use crate::model::{decode_module, DecodedModule};
use crate::reader::Pod;

/// One module of a loaded pod, decoded.
pub(crate) struct Source<'a> {
    pub(crate) pod: &'a Pod,
    pub(crate) pod_index: usize,
    pub(crate) module: usize,
    pub(crate) dec: DecodedModule<'a>,
    pub(crate) raw_covfun: Vec<RawCovFun<'a>>,
    pub(crate) raw_covmap: Vec<RawCovMap<'a>>,
    /// For each raw covfun record, the index in `dec.records` of the record
    /// LLVM's reader keeps, when it is this one.
    pub(crate) chosen: Vec<Option<usize>>,
}

/// The identity of a function across binaries and inputs.
pub(crate) type Identity = (u64, u64);

/// A function's mapping with its files resolved: equal signatures mean
/// llvm-cov treats two records of one identity exactly alike.
pub(crate) type Signature = (Vec<String>, Vec<Expression>, Vec<Region>);

impl<'a> Source<'a> {
    /// Decodes module `module` of `pod`.
    pub(crate) fn open(pod: &'a Pod, pod_index: usize, module: usize) -> Result<Source<'a>> {
        let covfun = pod.module_covfun(module);
        let dec = decode_module(pod.module_names(module), pod.module_covmap(module), covfun)
            .map_err(|e| {
                let e = if pod.modules.len() > 1 {
                    e.context(&format!("module {module}"))
                } else {
                    e
                };
                e.at(&pod.meta_path)
            })?;
        let raw_covfun =
            raw_records(covfun).map_err(|e| e.context("__llvm_covfun").at(&pod.meta_path))?;
        let raw_covmap = raw_covmap_records(pod.module_covmap(module))
            .map_err(|e| e.context("__llvm_covmap").at(&pod.meta_path))?;
        // Both walks slice the same section: a kept record is recognized
        // by the address of its mapping.
        let by_addr: std::collections::HashMap<(usize, usize), usize> = dec
            .records
            .iter()
            .enumerate()
            .map(|(i, (r, _))| ((r.mapping.as_ptr() as usize, r.mapping.len()), i))
            .collect();
        let chosen = raw_covfun
            .iter()
            .map(|raw| {
                by_addr
                    .get(&(raw.mapping.as_ptr() as usize, raw.mapping.len()))
                    .copied()
            })
            .collect();
        Ok(Source {
            pod,
            pod_index,
            module,
            dec,
            raw_covfun,
            raw_covmap,
            chosen,
        })
    }

    /// Every module of every pod, in object order (pods in H order, each
    /// pod's modules in order). A pod whose LLVM data does not decode is
    /// an error, or with `ignore_bad` is left out and reported in
    /// `skipped` (its index is in the returned list of bad pods).
    pub(crate) fn open_all(
        pods: &'a [Pod],
        ignore_bad: bool,
        skipped: &mut Vec<crate::Error>,
    ) -> Result<(Vec<Source<'a>>, Vec<bool>)> {
        let mut out = Vec::new();
        let mut good = vec![true; pods.len()];
        for (p, pod) in pods.iter().enumerate() {
            let mut mine = Vec::new();
            for m in 0..pod.modules.len() {
                match Source::open(pod, p, m) {
                    Ok(s) => mine.push(s),
                    Err(e) if ignore_bad => {
                        skipped.push(e);
                        good[p] = false;
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
            if good[p] {
                out.extend(mine);
            }
        }
        Ok((out, good))
    }

    /// The mangled name of a NameRef ("" when the names section lacks it).
    pub(crate) fn name(&self, name_ref: u64) -> &str {
        self.dec.names.get(name_ref).unwrap_or("")
    }

    /// Whether `--pkg` keeps the function named by `name_ref`.
    pub(crate) fn keeps(&self, crates: &CrateFilter, name_ref: u64) -> bool {
        crates.is_empty() || crates.matches(&crate_of(self.name(name_ref)))
    }

    /// The function-table entries of this module (pod-wide counter
    /// positions) with their index in [`Pod::funcs`].
    pub(crate) fn funcs(&self) -> impl Iterator<Item = (usize, &'a FuncEntry)> + 'a {
        let range = self.pod.modules[self.module].funcs.clone();
        let start = range.start;
        self.pod.funcs[range]
            .iter()
            .enumerate()
            .map(move |(i, f)| (start + i, f))
    }

    /// The resolved files of decoded record `r`, in file-id order.
    pub(crate) fn files_of(&self, r: usize) -> Vec<String> {
        let (record, mapping) = &self.dec.records[r];
        let table = &self.dec.tables.tables[record.table];
        mapping
            .file_ids
            .iter()
            .map(|&i| table.files[i as usize].clone())
            .collect()
    }

    /// The signature of decoded record `r`.
    pub(crate) fn signature(&self, r: usize) -> Signature {
        let mapping: &Mapping = &self.dec.records[r].1;
        (
            self.files_of(r),
            mapping.expressions.clone(),
            mapping.regions.clone(),
        )
    }

    /// A raw covfun record re-encoded as stored (header, mapping, padding).
    pub(crate) fn raw_record(&self, i: usize) -> RecordOut {
        let r = &self.raw_covfun[i];
        RecordOut {
            name_ref: r.name_ref,
            filenames_ref: r.filenames_ref,
            bytes: encode_record(r.name_ref, r.func_hash, r.filenames_ref, r.mapping),
        }
    }
}

/// A function-table entry to write, with its counters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FuncOut {
    pub(crate) name_ref: u64,
    pub(crate) func_hash: u64,
    pub(crate) counters: Vec<u64>,
}

/// A covfun record to write.
#[derive(Clone, Debug)]
pub(crate) struct RecordOut {
    pub(crate) name_ref: u64,
    pub(crate) filenames_ref: u64,
    /// Header, mapping, padding to 8.
    pub(crate) bytes: Vec<u8>,
}

/// A module to write.
#[derive(Clone, Debug)]
pub(crate) struct ModuleOut {
    pub(crate) ident: Vec<(String, String)>,
    pub(crate) build_time_ns: Option<u64>,
    pub(crate) funcs: Vec<FuncOut>,
    pub(crate) names: Vec<u8>,
    pub(crate) covmap: Vec<u8>,
    pub(crate) covfun: Vec<u8>,
}

impl ModuleOut {
    /// A module with no function left.
    pub(crate) fn is_empty(&self) -> bool {
        self.funcs.is_empty() && self.covfun.is_empty()
    }
}

/// How a module's sections are rebuilt.
pub(crate) struct Rebuild {
    /// The covfun records are the source's, unchanged and complete.
    pub(crate) covfun_unchanged: bool,
    /// Write a names section of exactly the names the module uses (stored,
    /// uncompressed) instead of the source's.
    pub(crate) rebuild_names: bool,
}

/// Builds a module from `src`'s identity and the entries and records to
/// keep: covmap records are those the records reference (the section is
/// kept verbatim when it has no other); names are verbatim or rebuilt.
pub(crate) fn finish_module(
    src: &Source,
    funcs: Vec<FuncOut>,
    records: Vec<RecordOut>,
    how: Rebuild,
) -> ModuleOut {
    let covfun = if how.covfun_unchanged {
        src.pod.module_covfun(src.module).to_vec()
    } else {
        let mut section = Vec::new();
        for r in &records {
            push_padded(&mut section, &r.bytes);
        }
        section
    };
    let referenced: HashSet<u64> = records.iter().map(|r| r.filenames_ref).collect();
    let covmap = if src
        .raw_covmap
        .iter()
        .all(|m| referenced.contains(&m.filenames_ref))
    {
        src.pod.module_covmap(src.module).to_vec()
    } else {
        let mut section = Vec::new();
        let mut seen: HashSet<&[u8]> = HashSet::new();
        for m in &src.raw_covmap {
            if referenced.contains(&m.filenames_ref) && seen.insert(m.bytes) {
                push_padded(&mut section, m.bytes);
            }
        }
        section
    };
    let names = if how.rebuild_names {
        let mut used: Vec<&str> = records
            .iter()
            .map(|r| r.name_ref)
            .chain(funcs.iter().map(|f| f.name_ref))
            .filter_map(|n| src.dec.names.get(n))
            .collect();
        used.sort_unstable();
        used.dedup();
        if used.is_empty() {
            Vec::new()
        } else {
            encode_stored(&used)
        }
    } else {
        src.pod.module_names(src.module).to_vec()
    };
    ModuleOut {
        ident: src.pod.modules[src.module].ident.clone(),
        build_time_ns: src.pod.modules[src.module].build_time_ns,
        funcs,
        names,
        covmap,
        covfun,
    }
}

/// The unchanged function-table entries of `src` with the pod's counters,
/// those `crates` keeps.
pub(crate) fn kept_funcs(src: &Source, crates: &CrateFilter) -> Vec<FuncOut> {
    src.funcs()
        .filter(|(_, f)| src.keeps(crates, f.name_ref))
        .map(|(i, f)| FuncOut {
            name_ref: f.name_ref,
            func_hash: f.func_hash,
            counters: src.pod.func_counters(i).to_vec(),
        })
        .collect()
}

/// Encodes `modules` as one meta file; returns its bytes, H and the
/// counter array (the modules' counters concatenated).
pub(crate) fn assemble(modules: &[ModuleOut]) -> (Vec<u8>, MetaHash, Vec<u64>) {
    let mut counters = Vec::new();
    let builders: Vec<MetaBuilder> = modules
        .iter()
        .map(|m| {
            let mut funcs = Vec::with_capacity(m.funcs.len());
            let mut next = 0u32;
            for f in &m.funcs {
                funcs.push(FuncEntry {
                    name_ref: f.name_ref,
                    func_hash: f.func_hash,
                    first_counter: next,
                    num_counters: f.counters.len() as u32,
                });
                next += f.counters.len() as u32;
                counters.extend_from_slice(&f.counters);
            }
            MetaBuilder {
                ident: m.ident.clone(),
                funcs,
                total_counters: next,
                names: m.names.clone(),
                covmap: m.covmap.clone(),
                covfun: m.covfun.clone(),
                build_time_ns: m.build_time_ns,
            }
        })
        .collect();
    let (bytes, hash) = encode_modules(&builders);
    (bytes, hash, counters)
}
