//! Finding pods in input directories, like Go's `internal/coverage/pods`.
//!
//! A pod is one `covmeta.<H>` plus every `covcounters.<H>.<pid>.<ns>` of
//! the same H, across all input directories. Other names (temporary files,
//! foreign files) and subdirectories are ignored. Pods are sorted by H;
//! inside a pod, counter files are sorted by (input directory index, file
//! name). If several directories hold `covmeta.<H>`, the first is used.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use covwrap_rt::format::defs::MetaHash;
use covwrap_rt::format::md5::hex;
use covwrap_rt::format::names::{meta_file_name, parse_file_name, FileName};

use crate::error::{Error, ErrorKind, Result};

/// The files of one pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodFiles {
    /// The meta hash H.
    pub hash: MetaHash,
    /// The meta file.
    pub meta: PathBuf,
    /// The counter files, in reading order.
    pub counters: Vec<PathBuf>,
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
/// error. Finding no pod is left to the caller, which first reports the
/// problems found.
pub fn discover(dirs: &[PathBuf]) -> Result<Discovery> {
    if dirs.is_empty() {
        return Err(Error::new(
            ErrorKind::Usage,
            "no input directories (use -i=DIR)",
        ));
    }
    let mut metas: BTreeMap<MetaHash, PathBuf> = BTreeMap::new();
    let mut counters: BTreeMap<MetaHash, Vec<(usize, String, PathBuf)>> = BTreeMap::new();
    let mut problems = Vec::new();
    for (index, dir) in dirs.iter().enumerate() {
        let meta = std::fs::metadata(dir).map_err(|e| Error::io(dir, &e))?;
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
            let Some(kind) = parse_file_name(&name) else {
                continue;
            };
            if !entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
                continue;
            }
            found += 1;
            let path = entry.path();
            match kind {
                FileName::Meta(h) => {
                    // Keep the first directory's copy.
                    metas.entry(h).or_insert(path);
                }
                FileName::Counters { hash, .. } => {
                    counters.entry(hash).or_default().push((index, name, path));
                }
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
    for (hash, meta) in &metas {
        let mut files = counters.remove(hash).unwrap_or_default();
        files.sort();
        pods.push(PodFiles {
            hash: *hash,
            meta: meta.clone(),
            counters: files.into_iter().map(|(_, _, p)| p).collect(),
        });
    }
    for (hash, files) in counters {
        let mut files = files;
        files.sort();
        for (_, _, path) in files {
            problems.push(orphan(&path, &hash));
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

/// The counter files of pod `hash` in `dir`, sorted by name: a fresh
/// listing, taken by the reader under the pod's shared lock.
pub fn list_counter_files(dir: &Path, hash: &MetaHash) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, &e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, &e))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        match parse_file_name(&name) {
            Some(FileName::Counters { hash: h, .. }) if h == *hash => {}
            _ => continue,
        }
        if !entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
            continue;
        }
        out.push((name, entry.path()));
    }
    out.sort();
    Ok(out.into_iter().map(|(_, p)| p).collect())
}

/// `covmeta.<H>` hex of a hash, for messages.
pub fn hash_hex(hash: &MetaHash) -> String {
    hex(hash)
}
