//! What the builds recorded in the meta files decide before any counts are
//! read: which records of older builds are set aside because a newer build
//! of the same source file has other code for it, and which files are
//! test code. docs/COVDATA.md ("Several builds", "Test code") states both
//! rules.
//!
//! An **object** is one module of a pod: one binary, with its link time
//! (`build-time` section) and its cargo target (`target-*` ident keys),
//! both written by covwrap when it links the binary.

use std::hash::{Hash, Hasher};

use covwrap_rt::format::defs::{ident_keys, target_kinds};

use super::DecodedModule;
use crate::crates::crate_of;
use crate::fasthash::{FastHasher, FastMap, FastSet};
use crate::paths;
use crate::reader::{Pod, PodModule};

/// One module of a pod with its LLVM data decoded.
#[derive(Clone, Copy)]
pub(crate) struct Object<'o, 'a> {
    pub(crate) pod: &'o Pod,
    pub(crate) module: usize,
    pub(crate) dec: &'o DecodedModule<'a>,
}

impl Object<'_, '_> {
    fn info(&self) -> &PodModule {
        &self.pod.modules[self.module]
    }
}

/// The cargo target a binary is, as covwrap recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// A `target_kinds` value: `bin`, `unit-test`, `test`, ...
    pub kind: String,
    /// Its crate name.
    pub crate_name: String,
    /// Its crate root, relative to the compilation directory.
    pub root: Option<String>,
}

impl Target {
    /// The target of a module, when the meta file records one.
    pub fn of(module: &PodModule) -> Option<Target> {
        Some(Target {
            kind: module.ident_value(ident_keys::TARGET_KIND)?.to_string(),
            crate_name: module.ident_value(ident_keys::TARGET_CRATE)?.to_string(),
            root: module
                .ident_value(ident_keys::TARGET_ROOT)
                .map(str::to_string),
        })
    }

    /// An integration test, benchmark or example: test code.
    pub fn is_test_code(&self) -> bool {
        [
            target_kinds::TEST,
            target_kinds::BENCH,
            target_kinds::EXAMPLE,
        ]
        .contains(&self.kind.as_str())
    }

    /// A `--test` harness of a lib, bin or proc-macro target.
    pub fn is_unit_test(&self) -> bool {
        [target_kinds::UNIT_TEST, target_kinds::PROC_MACRO_TEST].contains(&self.kind.as_str())
    }
}

/// Records of older builds set aside, per object, and the lines that say so.
#[derive(Clone, Debug, Default)]
pub(crate) struct SetAside {
    /// Per object (in object order): NameRefs of its records set aside.
    pub(crate) names: Vec<FastSet<u64>>,
    /// One line per crate (without the `covdata: warning: ` prefix).
    pub(crate) notes: Vec<String>,
}

impl SetAside {
    /// Whether object `o`'s record `name_ref` is set aside.
    pub(crate) fn contains(&self, o: usize, name_ref: u64) -> bool {
        self.names.get(o).is_some_and(|s| s.contains(&name_ref))
    }
}

/// A source file as one configuration compiles it: the lib and bin code of
/// a crate (`None`), or a crate as one of its `--test` harnesses compiles
/// it (`Some("<crate> <root>")`), where `cfg(test)` may change functions.
type FileKey = (String, Option<String>);

/// What one record says about one of its files: its structural hash and a
/// hash of its regions in that file.
#[derive(Clone, Copy, PartialEq, Eq)]
struct FileSig {
    func_hash: u64,
    regions: u64,
}

impl FileSig {
    /// Two builds compiled the same code for the function in this file.
    /// Hash 0 (a function unused in that binary) matches any hash.
    fn agrees(&self, other: &FileSig) -> bool {
        self.regions == other.regions
            && (self.func_hash == other.func_hash || self.func_hash == 0 || other.func_hash == 0)
    }
}

/// Decides which records of `objects` are set aside: objects are taken
/// newest first (by build time; objects without one are older than any
/// with one, and among equals the earlier in object order counts as
/// newer); a file is kept from the first object that has it, and a later
/// (older) object's view of the file is set aside when a function both
/// have in it differs (structural hash or regions); otherwise the older
/// object's functions in it join the file. A record is set aside when any
/// of its files is. With `all_builds`, nothing is.
pub(crate) fn set_aside(objects: &[Object], all_builds: bool) -> SetAside {
    let mut out = SetAside {
        names: vec![FastSet::default(); objects.len()],
        notes: Vec::new(),
    };
    if all_builds || objects.len() < 2 {
        return out;
    }
    let mut order: Vec<usize> = (0..objects.len()).collect();
    order.sort_by_key(|&o| {
        std::cmp::Reverse(
            objects[o]
                .info()
                .build_time_ns
                .map(|t| (1, t))
                .unwrap_or((0, 0)),
        )
    });
    let mut reference: FastMap<FileKey, FastMap<u64, FileSig>> = FastMap::default();
    // Per crate: objects set aside, and the files.
    let mut by_crate: FastMap<String, (FastSet<usize>, FastSet<String>)> = FastMap::default();
    for &o in &order {
        let obj = objects[o];
        let target = Target::of(obj.info());
        let mut local: FastMap<FileKey, Vec<(u64, FileSig)>> = FastMap::default();
        let mut record_keys: Vec<Vec<FileKey>> = Vec::with_capacity(obj.dec.records.len());
        for (record, mapping) in &obj.dec.records {
            let name = obj.dec.names.get(record.name_ref).unwrap_or_default();
            let harness = target
                .as_ref()
                .filter(|t| t.is_unit_test() && t.crate_name == crate_of(name))
                .map(|t| format!("{} {}", t.crate_name, t.root.as_deref().unwrap_or("")));
            let table = &obj.dec.tables.tables[record.table];
            let mut keys = Vec::with_capacity(mapping.file_ids.len());
            for (fid, &entry) in mapping.file_ids.iter().enumerate() {
                let mut h = FastHasher::default();
                for r in mapping.regions.iter().filter(|r| r.file_id == fid as u32) {
                    (r.kind, r.line_start, r.col_start, r.line_end, r.col_end).hash(&mut h);
                }
                let key = (table.files[entry as usize].clone(), harness.clone());
                local.entry(key.clone()).or_default().push((
                    record.name_ref,
                    FileSig {
                        func_hash: record.func_hash,
                        regions: h.finish(),
                    },
                ));
                keys.push(key);
            }
            record_keys.push(keys);
        }
        let mut aside_files: FastSet<FileKey> = FastSet::default();
        for (key, sigs) in local {
            let known = reference.entry(key.clone()).or_default();
            let differs = sigs
                .iter()
                .any(|(n, sig)| known.get(n).is_some_and(|k| !k.agrees(sig)));
            if differs {
                aside_files.insert(key);
            } else {
                for (n, sig) in sigs {
                    known.entry(n).or_insert(sig);
                }
            }
        }
        if aside_files.is_empty() {
            continue;
        }
        for ((record, _), keys) in obj.dec.records.iter().zip(&record_keys) {
            let changed: Vec<&FileKey> = keys.iter().filter(|k| aside_files.contains(*k)).collect();
            if changed.is_empty() {
                continue;
            }
            out.names[o].insert(record.name_ref);
            let name = obj.dec.names.get(record.name_ref).unwrap_or_default();
            let entry = by_crate.entry(crate_of(name)).or_default();
            entry.0.insert(o);
            entry.1.extend(changed.into_iter().map(|k| k.0.clone()));
        }
    }
    let mut crates: Vec<_> = by_crate.into_iter().collect();
    crates.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, (objs, files)) in crates {
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        out.notes.push(format!(
            "crate {name}: {} set aside for {} that a newer build changed (each file is reported from the newest build that has it; --all-builds counts every build)",
            plural(objs.len(), "older build"),
            plural(files.len(), "file"),
        ));
    }
    out
}

/// How a record's object compiled it, for classifying files.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Library or binary code.
    Code,
    /// An integration test, benchmark or example.
    Test,
    /// A crate's own `--test` harness (index into the crate list).
    Harness,
}

/// Which source files are test code (path → true), from every record of
/// every object: a file is test code when it is named only by records of
/// test, bench and example targets and of `--test` harnesses, and for each
/// harness crate the data also holds that crate's lib or bin build (which
/// then shows the file is not part of it, e.g. a `#[cfg(test)]` module).
/// A file named by a record of an object without a recorded target (older
/// meta files, rustdoc's doctests) is code.
pub(crate) fn test_files(objects: &[Object], crates: &[Vec<String>]) -> FastSet<String> {
    // Per file: named by code; the harness crates naming it; named at all.
    let mut code: FastSet<&str> = FastSet::default();
    let mut harness: FastMap<&str, FastSet<String>> = FastMap::default();
    let mut named: FastSet<&str> = FastSet::default();
    let mut plain_crates: FastSet<String> = FastSet::default();
    for (obj, crates) in objects.iter().zip(crates) {
        let target = Target::of(obj.info());
        for ((record, mapping), krate) in obj.dec.records.iter().zip(crates) {
            let table = &obj.dec.tables.tables[record.table];
            let files: Vec<&str> = mapping
                .file_ids
                .iter()
                .map(|&e| table.files[e as usize].as_str())
                .collect();
            let class = match &target {
                Some(t) if t.crate_name == *krate && t.is_unit_test() => Class::Harness,
                Some(t) if t.crate_name == *krate && t.is_test_code() => {
                    // A test named like the package's lib: functions of the
                    // project outside the test's own directory are the
                    // lib's. Functions a dependency's macro defines (main
                    // file outside the project) stay the test's.
                    let dir = t.root.as_deref().map(|root| {
                        let root = if paths::is_absolute(root) {
                            paths::remove_dots(root)
                        } else {
                            paths::join_normalized(table.compilation_dir(), root)
                        };
                        match root.rfind('/') {
                            Some(i) => root[..i].to_string(),
                            None => String::new(),
                        }
                    });
                    let project = table.compilation_dir();
                    match (dir, files.first()) {
                        (Some(dir), Some(main))
                            if paths::relative_to(main, &dir) == *main
                                && paths::relative_to(main, project) != *main =>
                        {
                            Class::Code
                        }
                        _ => Class::Test,
                    }
                }
                _ => Class::Code,
            };
            if class == Class::Code {
                plain_crates.insert(krate.clone());
            }
            for f in files {
                named.insert(f);
                match class {
                    Class::Code => {
                        code.insert(f);
                    }
                    Class::Harness => {
                        harness.entry(f).or_default().insert(krate.clone());
                    }
                    Class::Test => {}
                }
            }
        }
    }
    named
        .into_iter()
        .filter(|f| !code.contains(f))
        .filter(|f| {
            harness
                .get(f)
                .is_none_or(|crates| crates.iter().all(|c| plain_crates.contains(c)))
        })
        .map(str::to_string)
        .collect()
}
