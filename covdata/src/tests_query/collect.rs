//! The one pass over the counter files. Before any is read, the meta files
//! alone give a superset of the counters that can decide the query: those
//! of every function record that the model could choose for the queried
//! lines or function (which records it keeps depends on the summed
//! counts, unknown until every file is read). While the load sums every
//! run, each run keeps only its non-zero values there, interned (runs with
//! the same values share them); [`super::scan`] then resolves nothing
//! again and reads no file.

use std::sync::{Mutex, RwLock};

use covwrap_rt::format::defs::{arg_keys, MetaHash, POOL_PID};

use super::Query;
use crate::diff::coverage::coverage_path;
use crate::fasthash::{FastMap, FastSet};
use crate::llvm::mapping::Mapping;
use crate::model::{decode_pod, decode_records};
use crate::reader::{Pod, RunObserver, SeenRun};
use crate::report::{demangle, strip_generic_args};

/// What the meta files can be searched for.
enum Want {
    /// Regions on `line` of the files `exact` names or that end with `tail`.
    Line {
        exact: String,
        tail: String,
        line: u32,
    },
    /// Records of a function name (as [`super::resolve`] matches it).
    Function(String),
    /// Regions on changed lines of files with a changed file's name.
    Changes(FastMap<String, Vec<u32>>),
    /// Every record (a check of the superset: memory grows with the runs).
    Everything,
}

/// Who a run is, for the tally.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Who {
    /// A labelled run, or an unlabelled one named by its argv.
    Test {
        label: Box<str>,
        labelled: bool,
        /// Index into [`Kept::sources`] of its `label-source`.
        source: Option<u32>,
    },
    /// A file summing runs whose labels are gone.
    Merged,
}

/// One run that has a non-zero value at a candidate counter: 20 bytes,
/// plus its label once.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KeptRun {
    /// Index into [`Kept::pods`].
    pub pod: u32,
    /// Its file's number in the pod's reading order.
    pub index: u32,
    /// The id of its [`Who`].
    pub who: u32,
    /// Index into [`Kept::values`].
    pub values: u32,
    /// The runs it counts as (`runs` of its header; at least 1 for tests).
    pub runs: u32,
}

/// What the pass kept.
#[derive(Default)]
pub(crate) struct Kept {
    /// Per pod: the counter files listed for reading.
    pub files: FastMap<MetaHash, usize>,
    /// The mappings of the candidate records, by (pod, module, NameRef,
    /// FuncHash).
    pub mappings: FastMap<(MetaHash, usize, u64, u64), Mapping>,
    /// The pods of [`KeptRun::pod`].
    pub pods: Vec<MetaHash>,
    /// Distinct run identities and their ids.
    pub whos: FastMap<Who, u32>,
    /// Distinct `label-source` values.
    pub sources: Vec<String>,
    /// Distinct `(counter, value)` lists, non-zero values at candidate
    /// counters.
    pub values: Vec<Box<[(u32, u64)]>>,
    value_ids: FastMap<Box<[(u32, u64)]>, u32>,
    /// The runs, in no particular order.
    pub runs: Vec<KeptRun>,
}

/// A [`RunObserver`] that keeps what a query needs of each run; give it
/// to the load, then to [`super::scan`].
pub struct Collector {
    want: Want,
    /// Per pod: whether each counter is a candidate.
    candidates: RwLock<FastMap<MetaHash, Vec<bool>>>,
    kept: Mutex<Kept>,
}

impl Collector {
    /// A collector for `query`. A change query's anchor is not needed yet:
    /// changed files are matched by file name here, exactly later.
    pub fn new(query: &Query) -> Collector {
        let want = match query {
            Query::Line { path, line, anchor } => Want::Line {
                exact: coverage_path(anchor, path),
                tail: format!("/{}", path.trim_start_matches("./")),
                line: *line,
            },
            Query::Function(name) => Want::Function(name.clone()),
            Query::Changes { files, .. } => {
                let mut by_name: FastMap<String, Vec<u32>> = FastMap::default();
                for f in files.iter().filter(|f| f.path.ends_with(".rs")) {
                    by_name
                        .entry(file_name(&f.path).to_string())
                        .or_default()
                        .extend(f.lines.iter().map(|l| l.line));
                }
                Want::Changes(by_name)
            }
        };
        Collector::with(want)
    }

    /// A collector that keeps every non-zero counter of every run: the
    /// answer a query gets from whole runs, to check [`Collector::new`]'s
    /// superset against. Memory grows with the runs.
    pub fn keeping_every_counter() -> Collector {
        Collector::with(Want::Everything)
    }

    fn with(want: Want) -> Collector {
        Collector {
            want,
            candidates: RwLock::new(FastMap::default()),
            kept: Mutex::new(Kept::default()),
        }
    }

    /// What was kept.
    pub(crate) fn kept(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept.lock().expect("collector poisoned")
    }

    /// Whether record `mapping` (named `name`, files `files`) can decide
    /// the query.
    fn wants(&self, name: &str, files: &[String], mapping: &Mapping) -> bool {
        match &self.want {
            Want::Everything => true,
            Want::Line { exact, tail, line } => on_lines(mapping, files, |p| {
                (p == exact || p.ends_with(tail.as_str())).then_some(std::slice::from_ref(line))
            }),
            Want::Changes(by_name) => on_lines(mapping, files, |p| {
                by_name.get(file_name(p)).map(Vec::as_slice)
            }),
            Want::Function(wanted) => {
                // Demangled (the reports' names) or mangled (--mangled).
                let suffix = format!("::{wanted}");
                [
                    strip_generic_args(&demangle(name)),
                    strip_generic_args(name),
                ]
                .iter()
                .any(|n| n == wanted || n.ends_with(&suffix))
                    || name == wanted
                    || name.ends_with(&suffix)
            }
        }
    }

    /// Adds record `(name_ref, func_hash)` of module `m` of pod `hash`, named
    /// `name`, with `mapping` over the file table `files`, to the
    /// candidates (`keys`, `mappings`) when it can decide the query.
    #[allow(clippy::too_many_arguments)]
    fn consider(
        &self,
        (hash, m): (MetaHash, usize),
        (name_ref, func_hash): (u64, u64),
        name: &str,
        files: &[String],
        mapping: &Mapping,
        keys: &mut FastSet<(u64, u64)>,
        mappings: &mut FastMap<(MetaHash, usize, u64, u64), Mapping>,
    ) {
        if !self.wants(name, files, mapping) {
            return;
        }
        keys.insert((name_ref, func_hash));
        mappings
            .entry((hash, m, name_ref, func_hash))
            .or_insert_with(|| mapping.clone());
    }

    /// The candidate records of one pod into `keys` and `mappings`. Only a
    /// function query needs the names, the costliest part of a decode: the
    /// others walk the records without them (a superset of the records the
    /// model keeps, which is all a candidate list must be).
    fn search(
        &self,
        pod: &Pod,
        keys: &mut FastSet<(u64, u64)>,
        mappings: &mut FastMap<(MetaHash, usize, u64, u64), Mapping>,
    ) {
        if matches!(self.want, Want::Function(_)) {
            // A pod that does not decode has no records (the model reports it).
            let Ok(decoded) = decode_pod(pod) else {
                return;
            };
            for (m, d) in decoded.iter().enumerate() {
                for (record, mapping) in &d.records {
                    let name = d.names.get(record.name_ref).unwrap_or_default();
                    let files = &d.tables.tables[record.table].files;
                    let key = (record.name_ref, record.func_hash);
                    self.consider((pod.hash, m), key, name, files, mapping, keys, mappings);
                }
            }
            return;
        }
        for m in 0..pod.modules.len() {
            let Ok((tables, records, _, decoded)) =
                decode_records(pod.module_covmap(m), pod.module_covfun(m))
            else {
                continue;
            };
            for (record, mapping) in records.iter().zip(decoded) {
                let Ok(mapping) = mapping else {
                    break;
                };
                let files = &tables.tables[record.table].files;
                let key = (record.name_ref, record.func_hash);
                self.consider((pod.hash, m), key, "", files, &mapping, keys, mappings);
            }
        }
    }
}

/// Whether a region of `mapping` (whose file table is `files`) overlaps
/// one of the lines `lines_of` gives for its file.
fn on_lines<'w>(
    mapping: &Mapping,
    files: &[String],
    lines_of: impl Fn(&str) -> Option<&'w [u32]>,
) -> bool {
    mapping.regions.iter().any(|r| {
        let path = mapping
            .file_ids
            .get(r.file_id as usize)
            .and_then(|&i| files.get(i as usize));
        path.and_then(|p| lines_of(p))
            .is_some_and(|lines| lines.iter().any(|&l| r.line_start <= l && l <= r.line_end))
    })
}

/// The last component of a `/`-separated path.
fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

impl RunObserver for Collector {
    fn pods(&self, pods: &[&Pod]) {
        let mut keys = FastSet::default();
        let mut mappings = FastMap::default();
        for pod in pods {
            self.search(pod, &mut keys, &mut mappings);
        }
        // A record is evaluated with the counters of every pod's data
        // entries of its (NameRef, FuncHash), as the model sums them.
        let mut candidates = self.candidates.write().expect("collector poisoned");
        for pod in pods {
            let mut c = vec![false; pod.counters.len()];
            for e in pod
                .funcs
                .iter()
                .filter(|e| keys.contains(&(e.name_ref, e.func_hash)))
            {
                let start = (e.first_counter as usize).min(c.len());
                let end = (start + e.num_counters as usize).min(c.len());
                c[start..end].iter_mut().for_each(|x| *x = true);
            }
            candidates.insert(pod.hash, c);
        }
        self.kept().mappings = mappings;
    }

    fn begin(&self, hash: &MetaHash, files: usize) {
        let mut kept = self.kept();
        kept.files.insert(*hash, files);
        if let Some(pod) = kept.pods.iter().position(|p| p == hash) {
            kept.runs.retain(|r| r.pod as usize != pod);
        }
    }

    fn run(&self, run: &SeenRun<'_>) {
        let values: Box<[(u32, u64)]> = {
            let candidates = self.candidates.read().expect("collector poisoned");
            let Some(c) = candidates.get(run.hash) else {
                return;
            };
            run.entries
                .iter()
                .filter(|&&(i, v)| v != 0 && c.get(i as usize).copied().unwrap_or(false))
                .copied()
                .collect()
        };
        // A run with no count there reaches nothing the query asks about.
        if values.is_empty() {
            return;
        }
        let mut guard = self.kept();
        let kept = &mut *guard;
        let (who, runs) = who_of(run, &mut kept.sources);
        let next = kept.whos.len() as u32;
        let who = *kept.whos.entry(who).or_insert(next);
        let pod = match kept.pods.iter().position(|p| p == run.hash) {
            Some(p) => p as u32,
            None => {
                kept.pods.push(*run.hash);
                kept.pods.len() as u32 - 1
            }
        };
        let values = match kept.value_ids.get(&values) {
            Some(&id) => id,
            None => {
                kept.values.push(values.clone());
                let id = kept.values.len() as u32 - 1;
                kept.value_ids.insert(values, id);
                id
            }
        };
        kept.runs.push(KeptRun {
            pod,
            index: run.index as u32,
            who,
            values,
            runs,
        });
    }
}

/// Who a run is and how many runs it counts as. Files covdata or a pool
/// writer made (pid 0) sum runs whose labels are gone, even a single run,
/// unless they kept a label or a command line (`merge --keep-labels`).
fn who_of(run: &SeenRun<'_>, sources: &mut Vec<String>) -> (Who, u32) {
    let args = run.args;
    let value = |key: &str| args.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let header = run.header;
    let several = header.runs > 1 || header.pid == 0 || run.name_pid == POOL_PID;
    let named = args
        .iter()
        .any(|(k, _)| k == arg_keys::ARGV || k == arg_keys::EXE);
    let (label, labelled) = match value(arg_keys::LABEL) {
        Some(l) => (l, true),
        None if several && !named => return (Who::Merged, header.runs),
        None => (argv_label(args), false),
    };
    let source =
        value(arg_keys::LABEL_SOURCE).map(|s| match sources.iter().position(|k| *k == s) {
            Some(i) => i as u32,
            None => {
                sources.push(s);
                sources.len() as u32 - 1
            }
        });
    let who = Who::Test {
        label: label.into(),
        labelled,
        source,
    };
    (who, header.runs.max(1))
}

/// An unlabelled run is named by its command line.
fn argv_label(args: &[(String, String)]) -> String {
    let argv: Vec<&str> = args
        .iter()
        .filter(|(k, _)| k == arg_keys::ARGV)
        .map(|(_, v)| v.as_str())
        .collect();
    if argv.is_empty() {
        args.iter()
            .find(|(k, _)| k == arg_keys::EXE)
            .map_or_else(|| "(unknown program)".to_string(), |(_, v)| v.clone())
    } else {
        argv.join(" ")
    }
}
