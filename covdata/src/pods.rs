//! Finding pods in input directories, like Go's `internal/coverage/pods`.
//!
//! A pod is one `covmeta.<H>` plus every `covcounters.<H>.<pid>.<ns>` of
//! the same H, across all input directories. Other names (temporary files,
//! foreign files) and subdirectories are ignored, and so are counter file
//! names that are not canonical (a pid or time with leading zeros, which
//! the runtime never writes). Pods are sorted by H; inside a pod, counter
//! files are sorted by (input directory index, file name). If several
//! directories hold `covmeta.<H>`, the first is used.
//!
//! A counter file is listed as a [`CounterFile`] (its directory's index
//! and the two numbers of its name) rather than a path: 24 bytes a file,
//! so that listing 100,000 runs costs 2.4 MB, not tens of MB of paths.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use covwrap_rt::format::defs::MetaHash;
use covwrap_rt::format::md5::hex;
use covwrap_rt::format::names::{counters_file_name, meta_file_name, parse_file_name, FileName};

use crate::error::{Error, ErrorKind, Result};

/// The files of one pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodFiles {
    /// The meta hash H.
    pub hash: MetaHash,
    /// The meta file.
    pub meta: PathBuf,
    /// The counter files, in reading order.
    pub counters: Vec<CounterFile>,
}

/// One counter file of a pod: `covcounters.<H>.<pid>.<nanos>` in input
/// directory number `dir`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CounterFile {
    /// Index of its directory in the input directories.
    pub dir: usize,
    /// The writer's pid, from the name.
    pub pid: u64,
    /// The write time, from the name.
    pub nanos: u64,
}

impl CounterFile {
    /// The file's name in a pod of meta hash `hash`.
    pub fn name(&self, hash: &MetaHash) -> String {
        counters_file_name(hash, self.pid, self.nanos)
    }

    /// The file's path, given the input directories.
    pub fn path(&self, dirs: &[PathBuf], hash: &MetaHash) -> PathBuf {
        dirs[self.dir].join(self.name(hash))
    }

    /// The order of (directory index, file name), without building names:
    /// within a pod, names differ only in `<pid>.<nanos>`.
    pub fn name_order(&self, other: &CounterFile) -> Ordering {
        self.dir
            .cmp(&other.dir)
            .then_with(|| decimal_order(self.pid, other.pid))
            .then_with(|| decimal_order(self.nanos, other.nanos))
    }
}

/// How the decimal strings of `a` and `b` compare as strings. Where one
/// string is a prefix of the other the shorter comes first, which is also
/// how `<pid>.` compares with a longer pid: '.' sorts before every digit.
fn decimal_order(a: u64, b: u64) -> Ordering {
    let (da, db) = (digits(a), digits(b));
    match da.cmp(&db) {
        Ordering::Equal => a.cmp(&b),
        Ordering::Greater => (a / 10u64.pow(da - db)).cmp(&b).then(Ordering::Greater),
        Ordering::Less => a.cmp(&(b / 10u64.pow(db - da))).then(Ordering::Less),
    }
}

fn digits(v: u64) -> u32 {
    v.checked_ilog10().map_or(1, |d| d + 1)
}

/// The counter file a directory entry named `name` is, in pod `hash` when
/// given: `None` for other names and for names that are not canonical.
pub(crate) fn counter_file(
    name: &str,
    dir: usize,
    hash: Option<&MetaHash>,
) -> Option<(MetaHash, CounterFile)> {
    let Some(FileName::Counters {
        hash: h,
        pid,
        nanos,
    }) = parse_file_name(name)
    else {
        return None;
    };
    if hash.is_some_and(|want| *want != h) || counters_file_name(&h, pid, nanos) != name {
        return None;
    }
    Some((h, CounterFile { dir, pid, nanos }))
}

/// The result of scanning the input directories.
#[derive(Clone, Debug, Default)]
pub struct Discovery {
    /// Complete pods, sorted by H.
    pub pods: Vec<PodFiles>,
    /// Problems that do not stop a report with `--ignore-bad`: empty
    /// directories and counter files without a meta file.
    pub problems: Vec<Error>,
}

/// Scans `dirs` (not recursively). A missing or unreadable directory is an
/// error; an empty one is a problem ([`ErrorKind::NoData`]). Finding no pod is left to the caller, which first reports the
/// problems found.
pub fn discover(dirs: &[PathBuf]) -> Result<Discovery> {
    if dirs.is_empty() {
        return Err(Error::new(
            ErrorKind::Usage,
            "no input directories (use -i=DIR)",
        ));
    }
    let mut metas: BTreeMap<MetaHash, PathBuf> = BTreeMap::new();
    let mut counters: BTreeMap<MetaHash, Vec<CounterFile>> = BTreeMap::new();
    let mut problems = Vec::new();
    for (index, dir) in dirs.iter().enumerate() {
        let meta = std::fs::metadata(dir).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::new(
                ErrorKind::NotFound,
                format!("input directory {} does not exist", dir.display()),
            ),
            _ => Error::io(dir, &e),
        })?;
        if !meta.is_dir() {
            return Err(Error::new(ErrorKind::NotADirectory, "not a directory").at(dir));
        }
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, &e))?;
        let mut found = 0;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(dir, &e))?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let meta_hash = match parse_file_name(&name) {
                Some(FileName::Meta(h)) => Some(h),
                Some(FileName::Counters { .. }) => None,
                None => continue,
            };
            let counter = match meta_hash {
                Some(_) => None,
                None => match counter_file(&name, index, None) {
                    Some(c) => Some(c),
                    None => continue,
                },
            };
            if !entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
                continue;
            }
            found += 1;
            if let Some(h) = meta_hash {
                // Keep the first directory's copy.
                metas.entry(h).or_insert_with(|| entry.path());
            }
            if let Some((hash, file)) = counter {
                counters.entry(hash).or_default().push(file);
            }
        }
        if found == 0 {
            problems.push(
                Error::new(
                    ErrorKind::NoData,
                    "no covmeta or covcounters files in this directory",
                )
                .at(dir),
            );
        }
    }
    let mut pods = Vec::new();
    for (hash, meta) in metas {
        let mut files = counters.remove(&hash).unwrap_or_default();
        files.sort_unstable_by(CounterFile::name_order);
        files.shrink_to_fit();
        pods.push(PodFiles {
            hash,
            meta,
            counters: files,
        });
    }
    for (hash, mut files) in counters {
        files.sort_unstable_by(CounterFile::name_order);
        for file in files {
            problems.push(orphan(&file.path(dirs, &hash), &hash));
        }
    }
    Ok(Discovery { pods, problems })
}

fn orphan(path: &Path, hash: &MetaHash) -> Error {
    Error::new(
        ErrorKind::MissingMeta,
        format!(
            "no {} in the input directories for this counter file",
            meta_file_name(hash)
        ),
    )
    .at(path)
}

/// The error for inputs without a single pod.
pub fn no_pods(dirs: &[PathBuf]) -> Error {
    let list: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    Error::new(ErrorKind::NoData, "no coverage data (no covmeta file)")
        .at(Path::new(&list.join(",")))
}

/// The counter files of pod `hash` in `dir` (input directory number
/// `index`), sorted by name: a fresh listing, taken by the reader under the
/// pod's shared lock.
pub fn list_counter_files(dir: &Path, index: usize, hash: &MetaHash) -> Result<Vec<CounterFile>> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, &e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, &e))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let Some((_, file)) = counter_file(&name, index, Some(hash)) else {
            continue;
        };
        if !entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
            continue;
        }
        out.push(file);
    }
    out.sort_unstable_by(CounterFile::name_order);
    Ok(out)
}

/// `covmeta.<H>` hex of a hash, for messages.
pub fn hash_hex(hash: &MetaHash) -> String {
    hex(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_order_is_the_order_of_the_names() {
        let values = [
            0,
            1,
            2,
            9,
            10,
            11,
            12,
            19,
            99,
            100,
            101,
            120,
            1234,
            12345,
            u64::MAX,
            u64::MAX / 10,
        ];
        let hash = [0xab; 16];
        let mut files = Vec::new();
        for dir in [1, 0] {
            for &pid in &values {
                for &nanos in &values {
                    files.push(CounterFile { dir, pid, nanos });
                }
            }
        }
        let mut by_order = files.clone();
        by_order.sort_by(CounterFile::name_order);
        let mut by_name = files;
        by_name.sort_by_key(|f| (f.dir, f.name(&hash)));
        assert_eq!(by_order, by_name);
    }

    #[test]
    fn only_canonical_counter_names_count() {
        let hash = [0x1f; 16];
        let name = counters_file_name(&hash, 12, 345);
        assert_eq!(
            counter_file(&name, 3, Some(&hash)),
            Some((
                hash,
                CounterFile {
                    dir: 3,
                    pid: 12,
                    nanos: 345
                }
            ))
        );
        assert_eq!(counter_file(&name, 3, Some(&[0; 16])), None);
        let padded = name.replace(".12.", ".012.");
        assert!(parse_file_name(&padded).is_some());
        assert_eq!(counter_file(&padded, 3, None), None);
    }
}
