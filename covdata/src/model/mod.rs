//! The coverage model every report reads: function records with evaluated
//! counts, built the way llvm-cov builds them from several objects and one
//! merged profile.
//!
//! 1. The profile: counters of every pod summed by (NameRef, FuncHash),
//!    like `llvm-profdata merge` of all runs (saturating; duplicate data
//!    records of one binary are summed too).
//! 2. Function records, object by object (pods sorted by H, each pod's
//!    modules in order: a module is one binary), each object's covfun
//!    records in LLVM's reader order: looked up in the profile (unknown →
//!    zeros; same name with another hash → dropped and counted as a
//!    mismatch), LLVM's single-zero-region skip rule, counts evaluated (a
//!    failing evaluation drops the record silently, as llvm-cov does), then
//!    cross-object deduplication on (resolved file list, name): first wins.
//!
//! Before (1), [`builds`] sets aside the records of older builds whose
//! code for a file a newer build changed (their counters stay out of the
//! profile too) and finds the test-code files. [`Loader`] is the one copy
//! of these rules; reports, `merge` and the set operations all use it.
//!
//! Views and summaries over the records live in [`segments`], [`lines`]
//! and [`summary`].

pub mod builds;
pub mod counts;
pub mod lines;
pub mod segments;
pub mod summary;

use crate::crates::crate_of;
use crate::error::{Error, Result};
use crate::fasthash::{FastMap, FastSet};
use crate::llvm::covfun;
use crate::llvm::covmap::FileTables;
use crate::llvm::mapping::{Mapping, RegionKind};
use crate::llvm::names::NameTable;
use crate::parallel;
use crate::reader::{Loaded, Pod};
use counts::{Evaluator, Lookup, Profile};

pub use builds::Target;

/// The most counters a function without profile data may refer to.
const MAX_COUNTERS_WITHOUT_PROFILE: usize = 1 << 24;

/// A region with its evaluated count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountedRegion {
    /// 1-based start line.
    pub line_start: u32,
    /// 1-based start column.
    pub col_start: u32,
    /// End line.
    pub line_end: u32,
    /// Exclusive end column.
    pub col_end: u32,
    /// Evaluated count (negative results wrap, as in llvm-cov).
    pub count: u64,
    /// The function's file id the region is in.
    pub file_id: u32,
    /// The file id an expansion region expands.
    pub expanded_file_id: u32,
    /// Code, expansion, skipped or gap.
    pub kind: RegionKind,
}

impl CountedRegion {
    /// (line, column) of the start.
    pub fn start(&self) -> (u32, u32) {
        (self.line_start, self.col_start)
    }
    /// (line, column) of the end.
    pub fn end(&self) -> (u32, u32) {
        (self.line_end, self.col_end)
    }
}

/// A branch region with its evaluated counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountedBranch {
    /// 1-based start line.
    pub line_start: u32,
    /// 1-based start column.
    pub col_start: u32,
    /// End line.
    pub line_end: u32,
    /// Exclusive end column.
    pub col_end: u32,
    /// Times the condition was true.
    pub true_count: u64,
    /// Times the condition was false.
    pub false_count: u64,
    /// The true counter is the constant zero.
    pub true_folded: bool,
    /// The false counter is the constant zero.
    pub false_folded: bool,
    /// The function's file id the branch is in.
    pub file_id: u32,
    /// Branch or MC/DC branch.
    pub kind: RegionKind,
}

impl CountedBranch {
    /// (line, column) of the start.
    pub fn start(&self) -> (u32, u32) {
        (self.line_start, self.col_start)
    }
}

/// One function record (an instantiation).
#[derive(Clone, Debug)]
pub struct Function {
    /// Mangled name.
    pub name: Box<str>,
    /// MD5 of the name.
    pub name_ref: u64,
    /// Structural hash (0 for unused functions).
    pub func_hash: u64,
    /// Index of the pod the record came from.
    pub pod: usize,
    /// Index of the module (binary) of that pod's meta file.
    pub module: usize,
    /// Index into [`Coverage::crates`].
    pub crate_index: usize,
    /// File id → index into [`Coverage::files`].
    pub filenames: Vec<u32>,
    /// Index into [`Coverage::comp_dirs`] of the table's entry 0.
    pub comp_dir: usize,
    /// Non-branch regions (code, expansion, skipped, gap), decoded order.
    pub regions: Vec<CountedRegion>,
    /// Branch regions, decoded order.
    pub branches: Vec<CountedBranch>,
    /// Count of the first region: how often the function ran.
    pub execution_count: u64,
    /// The lowest file id no expansion targets; `None` if every one is.
    pub main_file_id: Option<u32>,
}

impl Function {
    /// The global file index of the function's main file.
    pub fn main_file(&self) -> Option<u32> {
        self.main_file_id.map(|id| self.filenames[id as usize])
    }

    /// Start of the first region in the main file: the key of the
    /// function's instantiation group.
    pub fn group_start(&self) -> Option<(u32, u32)> {
        let main = self.main_file_id?;
        self.regions
            .iter()
            .find(|r| r.file_id == main)
            .map(|r| r.start())
    }
}

/// The loaded coverage of a set of pods.
#[derive(Clone, Debug, Default)]
pub struct Coverage {
    /// The pods, sorted by H.
    pub pods: Vec<Pod>,
    /// Bad inputs skipped (with `--ignore-bad`).
    pub skipped: Vec<Error>,
    /// Every source file named by a function (resolved path).
    pub files: Vec<String>,
    /// Compilation directories (entry 0 of filename tables).
    pub comp_dirs: Vec<String>,
    /// Crate names, each that of at least one function.
    pub crates: Vec<String>,
    /// Function records, in load order, after deduplication.
    pub functions: Vec<Function>,
    /// Records dropped because the profile has their name with another hash.
    pub hash_mismatches: Vec<(String, u64)>,
    /// Profile records not merged because their counter count differed.
    pub count_mismatches: usize,
    /// Lines about older builds set aside, one per crate (for standard
    /// error, without the `covdata: warning: ` prefix).
    pub build_notes: Vec<String>,
    /// Per file index: the file is test code (see [`builds::test_files`]).
    pub test_files: Vec<bool>,
    file_functions: Vec<Vec<u32>>,
    sorted_files: Vec<u32>,
}

/// The LLVM data of one module (one binary) of a pod, decoded.
pub(crate) struct DecodedModule<'a> {
    /// `__llvm_prf_names`.
    pub(crate) names: NameTable,
    /// `__llvm_covmap`.
    pub(crate) tables: FileTables,
    /// The function records LLVM's reader keeps (first wins by NameRef,
    /// a real record replaces a dummy), in its order, with their mappings.
    pub(crate) records: Vec<(covfun::CovFunRecord<'a>, Mapping)>,
}

/// Decodes one module's three LLVM sections. With several CPUs the names
/// (inflating and hashing every name) are decoded on a thread of their
/// own while the filename tables, function records and mappings are
/// decoded here; the first error is the one a decoding in that order
/// meets first.
pub(crate) fn decode_module<'a>(
    names: &[u8],
    covmap: &[u8],
    covfun_section: &'a [u8],
) -> Result<DecodedModule<'a>> {
    let decode_names = || NameTable::decode(names).map_err(|e| e.context("__llvm_prf_names"));
    let (names, rest) = if parallel::several_cpus() {
        std::thread::scope(|s| {
            let names = s.spawn(decode_names);
            let rest = decode_records(covmap, covfun_section);
            (names.join().expect("names thread panicked"), rest)
        })
    } else {
        (decode_names(), decode_records(covmap, covfun_section))
    };
    let names = names?;
    let (tables, records, error, mappings) = rest?;
    let records =
        covfun::check_names(records, error, &names).map_err(|e| e.context("__llvm_covfun"))?;
    let mut out = Vec::with_capacity(records.len());
    for (r, mapping) in records.into_iter().zip(mappings) {
        let mapping = mapping.map_err(|e| {
            let name = names.get(r.name_ref).unwrap_or("?");
            e.context(&format!("coverage mapping of {name}"))
        })?;
        out.push((r, mapping));
    }
    Ok(DecodedModule {
        names,
        tables,
        records: out,
    })
}

/// What [`decode_records`] returns: the filename tables, the function
/// records kept before the first error of the covfun walk and that error,
/// and the mappings of those records up to and including the first that
/// does not decode (none after a walk error).
pub(crate) type Records<'a> = (
    FileTables,
    Vec<covfun::CovFunRecord<'a>>,
    Option<Error>,
    Vec<Result<Mapping>>,
);

/// The part of [`decode_module`] that needs no names.
pub(crate) fn decode_records<'a>(covmap: &[u8], covfun_section: &'a [u8]) -> Result<Records<'a>> {
    let tables = FileTables::decode(covmap)?;
    let (records, error) = covfun::decode_unnamed(covfun_section, &tables);
    let mut mappings = Vec::new();
    if error.is_none() {
        // Each mapping decodes on its own: on several threads, then cut
        // after the first that fails.
        mappings = parallel::map(
            &records,
            || (),
            |r, _| Mapping::decode(r.mapping, tables.tables[r.table].files.len()),
        );
        if let Some(failed) = mappings.iter().position(Result::is_err) {
            mappings.truncate(failed + 1);
        }
    }
    Ok((tables, records, error, mappings))
}

/// Decodes every module of a pod; an error names the module when the
/// pod has several.
pub(crate) fn decode_pod(pod: &Pod) -> Result<Vec<DecodedModule<'_>>> {
    let several = pod.modules.len() > 1;
    (0..pod.modules.len())
        .map(|m| {
            decode_module(
                pod.module_names(m),
                pod.module_covmap(m),
                pod.module_covfun(m),
            )
            .map_err(|e| {
                if several {
                    e.context(&format!("module {m}"))
                } else {
                    e
                }
            })
        })
        .collect()
}

/// What llvm-cov's loader (with covdata's rule for several builds) does
/// with one function record.
pub(crate) enum Load {
    /// An older build's record of a file a newer build changed.
    SetAside,
    /// The profile has the name with another hash only: dropped.
    HashMismatch,
    /// Dropped: a one-zero-region copy of a function that ran, a failing
    /// evaluation, or too many counters for a function without data.
    Dropped,
    /// Evaluated; `profiled` is false when the profile has no record of
    /// the function (all counts zero).
    Evaluated {
        regions: Vec<CountedRegion>,
        branches: Vec<CountedBranch>,
        profiled: bool,
    },
}

/// The one copy of the loading rules: which records are set aside, the
/// profile of what is left, and each record's fate.
pub(crate) struct Loader {
    pub(crate) profile: Profile,
    pub(crate) aside: builds::SetAside,
    evaluator: Evaluator,
}

impl Loader {
    /// Decides over `objects` (object order) and sums their profile,
    /// leaving out the counters of set-aside records.
    pub(crate) fn new(objects: &[builds::Object], all_builds: bool) -> Loader {
        let aside = builds::set_aside(objects, all_builds);
        let mut profile = Profile::default();
        for (o, obj) in objects.iter().enumerate() {
            profile.add_module(obj.pod, obj.module, &aside.names[o]);
        }
        Loader {
            profile,
            aside,
            evaluator: Evaluator::default(),
        }
    }

    /// The fate of record (`name_ref`, `func_hash`) with `mapping` of
    /// object `object`.
    pub(crate) fn load(
        &mut self,
        object: usize,
        name_ref: u64,
        func_hash: u64,
        mapping: &Mapping,
    ) -> Load {
        let mut evaluator = std::mem::take(&mut self.evaluator);
        let load = self.load_with(&mut evaluator, object, name_ref, func_hash, mapping);
        self.evaluator = evaluator;
        load
    }

    /// [`Loader::load`] with the caller's evaluator, so that several
    /// threads can decide records of one loader.
    pub(crate) fn load_with(
        &self,
        evaluator: &mut Evaluator,
        object: usize,
        name_ref: u64,
        func_hash: u64,
        mapping: &Mapping,
    ) -> Load {
        if self.aside.contains(object, name_ref) {
            return Load::SetAside;
        }
        let zeros;
        let (counts, profiled): (&[u64], bool) = match self.profile.lookup(name_ref, func_hash) {
            Lookup::Found(c) => (c, true),
            Lookup::HashMismatch => return Load::HashMismatch,
            Lookup::Unknown => {
                let len = mapping.max_counter_id() as usize + 1;
                // Real functions have far fewer counters; a larger id is
                // garbage that must not drive an allocation.
                if len > MAX_COUNTERS_WITHOUT_PROFILE {
                    return Load::Dropped;
                }
                zeros = vec![0; len];
                (&zeros, false)
            }
        };
        // An unused copy (one zero region) of a function that ran.
        if mapping.regions.len() == 1
            && mapping.regions[0].count == crate::llvm::mapping::Counter::Zero
            && counts[0] > 0
        {
            return Load::Dropped;
        }
        match evaluator.evaluate(mapping, counts) {
            Some((regions, branches)) => Load::Evaluated {
                regions,
                branches,
                profiled,
            },
            None => Load::Dropped,
        }
    }
}

/// Options of [`Coverage::build_with`].
#[derive(Clone, Copy, Debug, Default)]
pub struct BuildOptions {
    /// Skip pods whose LLVM data does not decode instead of failing.
    pub ignore_bad: bool,
    /// `--all-builds`: load every build's records, as llvm-cov does,
    /// instead of reporting each file from its newest build.
    pub all_builds: bool,
}

impl Coverage {
    /// Builds the model from loaded pods. A pod whose LLVM data does not
    /// decode is an error, or with `ignore_bad` is skipped and reported.
    pub fn build(loaded: Loaded, ignore_bad: bool) -> Result<Coverage> {
        Coverage::build_with(
            loaded,
            BuildOptions {
                ignore_bad,
                ..BuildOptions::default()
            },
        )
    }

    /// [`Coverage::build`] with every option.
    pub fn build_with(loaded: Loaded, opts: BuildOptions) -> Result<Coverage> {
        let ignore_bad = opts.ignore_bad;
        let Loaded { pods, mut skipped } = loaded;
        let mut decoded: Vec<Option<Vec<DecodedModule>>> = Vec::with_capacity(pods.len());
        for pod in &pods {
            match decode_pod(pod) {
                Ok(d) => decoded.push(Some(d)),
                Err(e) => {
                    let e = e.at(&pod.meta_path);
                    if !ignore_bad {
                        return Err(e);
                    }
                    skipped.push(e);
                    decoded.push(None);
                }
            }
        }
        // Objects in order (pods by H, each pod's modules), with the index
        // of their pod among the pods that decoded.
        let mut objects = Vec::new();
        let mut object_pods = Vec::new();
        for (p, (pod, d)) in pods
            .iter()
            .zip(&decoded)
            .filter_map(|(pod, d)| d.as_ref().map(|d| (pod, d)))
            .enumerate()
        {
            for (m, dec) in d.iter().enumerate() {
                objects.push(builds::Object {
                    pod,
                    module: m,
                    dec,
                });
                object_pods.push((p, m));
            }
        }
        let mut loader = Loader::new(&objects, opts.all_builds);
        // Each record's fate, crate, name and main file depend on that
        // record only: decided on several threads, then taken in order.
        let items: Vec<(usize, &(covfun::CovFunRecord, Mapping))> = objects
            .iter()
            .enumerate()
            .flat_map(|(o, obj)| obj.dec.records.iter().map(move |r| (o, r)))
            .collect();
        let decided: Vec<(String, Fate)> =
            parallel::map(&items, Evaluator::default, |&(o, (record, mapping)), ev| {
                let name = objects[o]
                    .dec
                    .names
                    .get(record.name_ref)
                    .unwrap_or_default();
                let load = loader.load_with(ev, o, record.name_ref, record.func_hash, mapping);
                let (main_file_id, owned_name) = match &load {
                    Load::Evaluated { regions, .. } => (
                        main_file_id(regions, mapping.file_ids.len()),
                        Box::from(name),
                    ),
                    _ => (None, Box::default()),
                };
                let fate = Fate {
                    load,
                    name,
                    owned_name,
                    main_file_id,
                };
                (crate_of(name), fate)
            });
        drop(items);
        let mut decided = decided.into_iter();
        let mut cov = Coverage {
            skipped,
            count_mismatches: loader.profile.count_mismatches(),
            build_notes: std::mem::take(&mut loader.aside.notes),
            ..Coverage::default()
        };
        // Per object, its records' crates (for the test-code files).
        let mut crates: Vec<Vec<String>> = Vec::with_capacity(objects.len());
        let mut fates: Vec<Vec<Fate>> = Vec::with_capacity(objects.len());
        for obj in &objects {
            let (krates, these): (Vec<String>, Vec<Fate>) =
                decided.by_ref().take(obj.dec.records.len()).unzip();
            crates.push(krates);
            fates.push(these);
        }
        drop(decided);
        // The test-code files, meanwhile, from the same records.
        let test_paths = std::thread::scope(|s| {
            let test_paths = s.spawn(|| builds::test_files(&objects, &crates));
            let mut interner = Interner::default();
            let records: usize = fates.iter().map(Vec::len).sum();
            // llvm-cov keeps one record per (filenames, name hash); the
            // NameRef is the name's hash.
            let mut seen: FastSet<(Vec<u32>, u64)> = FastSet::default();
            seen.reserve(records);
            cov.functions.reserve(records);
            // Records of one crate mostly come in a row.
            let mut last_crate: Option<(&str, usize)> = None;
            for (o, (d, fates)) in objects.iter().map(|o| o.dec).zip(fates).enumerate() {
                let (pod_index, module_index) = object_pods[o];
                // Per filename table of this object, its files' global
                // indices once interned (interning stays in record order).
                let mut table_files: Vec<Vec<u32>> = d
                    .tables
                    .tables
                    .iter()
                    .map(|t| vec![u32::MAX; t.files.len()])
                    .collect();
                let mut table_dirs: Vec<Option<usize>> = vec![None; d.tables.tables.len()];
                let records = d.records.iter().zip(&crates[o]).zip(fates);
                for (((record, mapping), krate), fate) in records {
                    let Fate {
                        load,
                        name,
                        owned_name,
                        main_file_id,
                    } = fate;
                    let (regions, branches) = match load {
                        Load::Evaluated {
                            regions, branches, ..
                        } => (regions, branches),
                        Load::HashMismatch => {
                            cov.hash_mismatches
                                .push((name.to_string(), record.func_hash));
                            continue;
                        }
                        Load::SetAside | Load::Dropped => continue,
                    };
                    let table = &d.tables.tables[record.table];
                    let cache = &mut table_files[record.table];
                    let filenames: Vec<u32> = mapping
                        .file_ids
                        .iter()
                        .map(|&i| {
                            let slot = &mut cache[i as usize];
                            if *slot == u32::MAX {
                                *slot = interner.file(&mut cov.files, &table.files[i as usize]);
                            }
                            *slot
                        })
                        .collect();
                    if !seen.insert((filenames.clone(), record.name_ref)) {
                        continue;
                    }
                    let comp_dir = *table_dirs[record.table].get_or_insert_with(|| {
                        interner.comp_dir(&mut cov.comp_dirs, table.compilation_dir())
                    });
                    let crate_index = match last_crate {
                        Some((last, i)) if last == krate => i,
                        _ => interner.crate_index(&mut cov.crates, krate),
                    };
                    last_crate = Some((krate, crate_index));
                    cov.functions.push(Function {
                        name: owned_name,
                        name_ref: record.name_ref,
                        func_hash: record.func_hash,
                        pod: pod_index,
                        module: module_index,
                        crate_index,
                        filenames,
                        comp_dir,
                        execution_count: regions.first().map_or(0, |r| r.count),
                        regions,
                        branches,
                        main_file_id,
                    });
                }
            }
            test_paths.join().expect("test files thread panicked")
        });
        cov.test_files = cov.files.iter().map(|f| test_paths.contains(f)).collect();
        drop(test_paths);
        drop(objects);
        let kept: Vec<bool> = decoded.iter().map(Option::is_some).collect();
        // The decoded mappings are many small allocations: freed on another
        // thread while the files are indexed.
        std::thread::scope(|s| {
            s.spawn(move || drop(decoded));
            cov.index_files();
        });
        cov.pods = pods
            .into_iter()
            .zip(kept)
            .filter_map(|(p, k)| k.then_some(p))
            .collect();
        Ok(cov)
    }

    fn index_files(&mut self) {
        self.file_functions = vec![Vec::new(); self.files.len()];
        for (i, f) in self.functions.iter().enumerate() {
            for &file in &f.filenames {
                let list = &mut self.file_functions[file as usize];
                if list.last() != Some(&(i as u32)) {
                    list.push(i as u32);
                }
            }
        }
        let mut sorted: Vec<u32> = (0..self.files.len() as u32).collect();
        sorted.sort_by(|a, b| self.files[*a as usize].cmp(&self.files[*b as usize]));
        self.sorted_files = sorted;
    }

    /// File indices sorted by path (llvm-cov's unique source files).
    pub fn sorted_files(&self) -> &[u32] {
        &self.sorted_files
    }

    /// Functions naming `file` among their files, in load order.
    pub fn functions_in_file(&self, file: u32) -> impl Iterator<Item = &Function> + '_ {
        self.file_functions[file as usize]
            .iter()
            .map(move |&i| &self.functions[i as usize])
    }

    /// Indices of the functions naming `file`, in load order.
    pub fn function_indices_in_file(&self, file: u32) -> &[u32] {
        &self.file_functions[file as usize]
    }

    /// Whether a file is test code: only test, bench and example targets
    /// and `--test` harnesses compiled it (see docs/COVDATA.md).
    pub fn is_test_file(&self, file: u32) -> bool {
        self.test_files.get(file as usize).copied().unwrap_or(false)
    }

    /// The crate name of a function.
    pub fn crate_name(&self, f: &Function) -> &str {
        &self.crates[f.crate_index]
    }

    /// The path of a file index.
    pub fn file_path(&self, file: u32) -> &str {
        &self.files[file as usize]
    }

    /// The workspace root: the compilation directory shared by the most
    /// functions, ties broken by the smallest path; `None` without functions.
    pub fn default_root(&self) -> Option<&str> {
        let mut counts = vec![0usize; self.comp_dirs.len()];
        for f in &self.functions {
            counts[f.comp_dir] += 1;
        }
        (0..self.comp_dirs.len())
            .filter(|&i| counts[i] > 0)
            .max_by(|&a, &b| {
                counts[a]
                    .cmp(&counts[b])
                    .then_with(|| self.comp_dirs[b].cmp(&self.comp_dirs[a]))
            })
            .map(|i| self.comp_dirs[i].as_str())
    }
}

/// What the parallel pass decides of one record (besides its crate).
struct Fate<'a> {
    load: Load,
    /// The record's name, in its object's name table.
    name: &'a str,
    /// For an evaluated record, its name (else empty).
    owned_name: Box<str>,
    /// For an evaluated record, [`Function::main_file_id`].
    main_file_id: Option<u32>,
}

/// The lowest file id no expansion region of `regions` targets.
fn main_file_id(regions: &[CountedRegion], files: usize) -> Option<u32> {
    let mut expanded = vec![false; files];
    for r in regions {
        if r.kind == RegionKind::Expansion {
            expanded[r.expanded_file_id as usize] = true;
        }
    }
    expanded.iter().position(|e| !e).map(|i| i as u32)
}

#[derive(Default)]
struct Interner {
    files: FastMap<String, u32>,
    comp_dirs: FastMap<String, usize>,
    crates: FastMap<String, usize>,
}

impl Interner {
    fn file(&mut self, files: &mut Vec<String>, path: &str) -> u32 {
        if let Some(&i) = self.files.get(path) {
            return i;
        }
        files.push(path.to_string());
        let i = files.len() as u32 - 1;
        self.files.insert(path.to_string(), i);
        i
    }

    fn comp_dir(&mut self, dirs: &mut Vec<String>, dir: &str) -> usize {
        if let Some(&i) = self.comp_dirs.get(dir) {
            return i;
        }
        dirs.push(dir.to_string());
        self.comp_dirs.insert(dir.to_string(), dirs.len() - 1);
        dirs.len() - 1
    }

    fn crate_index(&mut self, crates: &mut Vec<String>, name: &str) -> usize {
        if let Some(&i) = self.crates.get(name) {
            return i;
        }
        crates.push(name.to_string());
        self.crates.insert(name.to_string(), crates.len() - 1);
        crates.len() - 1
    }
}
