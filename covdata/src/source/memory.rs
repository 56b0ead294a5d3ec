//! A COVDIR in memory: file names to bytes (a covbundle, the center's
//! memory store), loaded exactly as a directory is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use covwrap_rt::format::defs::{MetaHash, POOL_PID};
use covwrap_rt::format::names::{counters_file_name, meta_file_name, parse_file_name, FileName};

use crate::dense::Outcome;
use crate::error::{Error, ErrorKind, Result};
use crate::fasthash::FastSet;
use crate::pods::{counter_file, CounterFile};
use crate::reader::{
    absorbed_in, read_runs, skip_or_fail, CounterBytes, LoadOptions, Loaded, Pod, RunObserver,
};

/// Files of a coverage directory held in memory. `origin` names it in
/// messages (a center's URL, a bundle's file): a file `F` of it is called
/// `origin/F`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemDir {
    origin: String,
    files: BTreeMap<String, Arc<[u8]>>,
}

impl MemDir {
    /// An empty directory called `origin` in messages.
    pub fn new(origin: impl Into<String>) -> MemDir {
        MemDir {
            origin: origin.into(),
            files: BTreeMap::new(),
        }
    }

    /// What messages call this directory.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Adds or replaces file `name`.
    pub fn insert(&mut self, name: impl Into<String>, bytes: impl Into<Arc<[u8]>>) {
        self.files.insert(name.into(), bytes.into());
    }

    /// Removes file `name`; true if it was there.
    pub fn remove(&mut self, name: &str) -> bool {
        self.files.remove(name).is_some()
    }

    /// The contents of file `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<[u8]>> {
        self.files.get(name)
    }

    /// The files, sorted by name.
    pub fn files(&self) -> impl Iterator<Item = (&str, &Arc<[u8]>)> {
        self.files.iter().map(|(n, b)| (n.as_str(), b))
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// No file at all.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The path messages use for file `name`.
    pub fn path(&self, name: &str) -> PathBuf {
        Path::new(&self.origin).join(name)
    }

    /// Reads every coverage file of directory `dir` (not recursively;
    /// other names are left out, as readers leave them out).
    pub fn read_dir(dir: &Path) -> Result<MemDir> {
        let mut out = MemDir::new(dir.display().to_string());
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, &e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(dir, &e))?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if parse_file_name(&name).is_none()
                || !entry.file_type().map(|t| t.is_file()).unwrap_or(false)
            {
                continue;
            }
            let path = entry.path();
            let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, &e))?;
            out.insert(name, bytes);
        }
        Ok(out)
    }

    /// Writes the files as directory `dir`, atomically as a whole: into a
    /// temporary directory beside it, synced, then renamed into place (an
    /// existing `dir` is replaced).
    pub fn write_dir(&self, dir: &Path) -> Result<()> {
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = dir
            .file_name()
            .ok_or_else(|| Error::new(ErrorKind::Usage, "not a directory name").at(dir))?
            .to_string_lossy()
            .into_owned();
        let pid = std::process::id();
        let tmp = parent.join(format!(".covtmp.{name}.{pid}"));
        let old = parent.join(format!(".covold.{name}.{pid}"));
        let _ = std::fs::remove_dir_all(&tmp);
        let written = (|| -> std::io::Result<()> {
            std::fs::create_dir_all(&tmp)?;
            for (file, bytes) in &self.files {
                let f = std::fs::File::create(tmp.join(file))?;
                let mut w = std::io::BufWriter::new(f);
                std::io::Write::write_all(&mut w, bytes)?;
                w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            }
            std::fs::File::open(&tmp)?.sync_all()?;
            if dir.exists() {
                std::fs::rename(dir, &old)?;
            }
            std::fs::rename(&tmp, dir)?;
            let _ = std::fs::remove_dir_all(&old);
            std::fs::File::open(&parent)?.sync_all()
        })();
        written.map_err(|e| {
            let _ = std::fs::remove_dir_all(&tmp);
            Error::io(dir, &e)
        })
    }
}

/// The counter files of one pod of a [`MemDir`].
struct MemFiles<'a> {
    mem: &'a MemDir,
    hash: MetaHash,
    files: Vec<CounterFile>,
}

impl MemFiles<'_> {
    fn name(&self, i: usize) -> String {
        counters_file_name(&self.hash, self.files[i].pid, self.files[i].nanos)
    }
}

impl CounterBytes for MemFiles<'_> {
    fn len(&self) -> usize {
        self.files.len()
    }
    fn path(&self, i: usize) -> PathBuf {
        self.mem.path(&self.name(i))
    }
    fn read(&self, i: usize, buf: &mut Vec<u8>) -> Result<Outcome> {
        buf.clear();
        match self.mem.get(&self.name(i)) {
            Some(bytes) => {
                // Files in memory are finished covcounters files: agents
                // send sparse counts, never a dense file.
                buf.extend_from_slice(bytes);
                Ok(Outcome::Counters)
            }
            None => Err(Error::io(
                &self.path(i),
                &std::io::ErrorKind::NotFound.into(),
            )),
        }
    }
    fn shared(&self, i: usize) -> Option<Arc<[u8]>> {
        self.mem.get(&self.name(i)).cloned()
    }
    fn name_pid(&self, i: usize) -> u64 {
        self.files[i].pid
    }
}

/// Loads the pods of `mem` with the rules of [`crate::load`]: canonical
/// names only, counter files a pool lists as absorbed left out, a counter
/// file without its meta file a bad input.
pub fn load_memory(mem: &MemDir, opts: LoadOptions) -> Result<Loaded> {
    load_memory_observed(mem, opts, None)
}

/// [`load_memory`] with an observer (see [`crate::reader::load_observed`]).
pub fn load_memory_observed(
    mem: &MemDir,
    opts: LoadOptions,
    observer: Option<&dyn RunObserver>,
) -> Result<Loaded> {
    let mut out = Loaded::default();
    let origin = Path::new(mem.origin());
    let mut metas: BTreeMap<MetaHash, &str> = BTreeMap::new();
    let mut counters: BTreeMap<MetaHash, Vec<CounterFile>> = BTreeMap::new();
    for (name, _) in mem.files() {
        match parse_file_name(name) {
            Some(FileName::Meta(h)) if meta_file_name(&h) == name => {
                metas.insert(h, name);
            }
            Some(FileName::Counters { .. }) => {
                if let Some((h, file)) = counter_file(name, 0, None) {
                    counters.entry(h).or_default().push(file);
                }
            }
            _ => {}
        }
    }
    if metas.is_empty() && counters.is_empty() {
        let e = Error::new(ErrorKind::NoData, "no covmeta or covcounters files").at(origin);
        skip_or_fail(&mut out, e, opts)?;
    }
    let orphans: Vec<(MetaHash, Vec<CounterFile>)> = counters
        .iter()
        .filter(|(h, _)| !metas.contains_key(*h))
        .map(|(h, f)| (*h, f.clone()))
        .collect();
    for (hash, mut files) in orphans {
        files.sort_unstable_by(CounterFile::name_order);
        for f in files {
            let e = Error::new(
                ErrorKind::MissingMeta,
                format!("no {} for this counter file", meta_file_name(&hash)),
            )
            .at(&mem.path(&f.name(&hash)));
            skip_or_fail(&mut out, e, opts)?;
        }
    }
    // Every meta file first, so that an observer knows all pods before it
    // sees a run; errors are still reported in order below.
    let opened: Vec<(MetaHash, Result<Pod>)> = metas
        .into_iter()
        .map(|(hash, meta_name)| {
            let meta_path = mem.path(meta_name);
            let bytes = mem.get(meta_name).expect("listed").to_vec();
            let pod = Pod::from_meta_bytes(bytes, Some(&hash)).map(|mut pod| {
                pod.meta_path = meta_path.clone();
                pod
            });
            (hash, pod.map_err(|e| e.at(&meta_path)))
        })
        .collect();
    if let Some(o) = observer {
        o.pods(
            &opened
                .iter()
                .filter_map(|(_, p)| p.as_ref().ok())
                .collect::<Vec<_>>(),
        );
    }
    for (hash, opened) in opened {
        let mut pod = match opened {
            Ok(p) => p,
            Err(e) => {
                skip_or_fail(&mut out, e, opts)?;
                continue;
            }
        };
        let mut files = counters.remove(&hash).unwrap_or_default();
        files.sort_unstable_by(CounterFile::name_order);
        // Pools, label pools and merge outputs (pid 0) may list absorbed
        // files, as in a directory (reader::pools).
        let absorbed: FastSet<(u64, u64)> = files
            .iter()
            .filter(|f| f.pid == POOL_PID)
            .filter_map(|f| mem.get(&counters_file_name(&hash, f.pid, f.nanos)))
            .flat_map(|bytes| absorbed_in(bytes, &hash))
            .collect();
        files.retain(|f| !absorbed.contains(&(f.pid, f.nanos)));
        let source = MemFiles { mem, hash, files };
        let errors = read_runs(&mut pod, &source, opts, observer);
        for e in errors {
            skip_or_fail(&mut out, e, opts)?;
        }
        out.pods.push(pod);
    }
    if out.pods.is_empty() && !opts.ignore_bad {
        return Err(Error::new(ErrorKind::NoData, "no coverage data (no covmeta file)").at(origin));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use covwrap_rt::format::counters::{encode, CountersHeader};
    use covwrap_rt::format::defs::{arg_keys, end_reason, POOL_NANOS};
    use covwrap_rt::format::meta::{FuncEntry, MetaBuilder};

    /// A meta file of one function with four counters (no LLVM data:
    /// loading does not decode it).
    fn meta() -> (Vec<u8>, MetaHash) {
        MetaBuilder {
            ident: vec![("build-id".into(), "ab".into())],
            funcs: vec![FuncEntry {
                name_ref: 1,
                func_hash: 2,
                first_counter: 0,
                num_counters: 4,
            }],
            total_counters: 4,
            names: Vec::new(),
            covmap: Vec::new(),
            covfun: Vec::new(),
            build_time_ns: None,
        }
        .encode()
    }

    fn counters(
        hash: MetaHash,
        pid: u64,
        values: [u64; 4],
        args: &[(&str, &str)],
    ) -> (String, Vec<u8>) {
        let header = CountersHeader {
            flags: 0,
            meta_hash: hash,
            pid,
            start_ns: 100 + pid,
            write_ns: 1000 + pid,
            num_counters: 4,
            end: end_reason::EXIT,
            runs: 1,
        };
        let args: Vec<(String, String)> = args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let entries = values
            .iter()
            .enumerate()
            .filter(|(_, v)| **v != 0)
            .map(|(i, v)| (i as u32, *v));
        (
            counters_file_name(&hash, pid, 1000 + pid),
            encode(&header, &args, entries),
        )
    }

    fn sample() -> MemDir {
        let (meta, hash) = meta();
        let mut dir = MemDir::new("mem");
        dir.insert(meta_file_name(&hash), meta);
        for (pid, v, label) in [
            (1, [1, 0, 2, 0], "a"),
            (2, [0, 5, 0, 1], "b"),
            (3, [3, 3, 3, 3], "a"),
            (4, [u64::MAX, 0, 0, 0], ""),
        ] {
            let args = if label.is_empty() {
                vec![]
            } else {
                vec![(arg_keys::LABEL, label)]
            };
            let (name, bytes) = counters(hash, pid, v, &args);
            dir.insert(name, bytes);
        }
        dir
    }

    #[test]
    fn memory_loads_as_the_directory_does_on_any_number_of_threads() {
        let mem = sample();
        let tmp = std::env::temp_dir().join(format!("covdata-mem-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        mem.write_dir(&tmp).unwrap();
        assert_eq!(MemDir::read_dir(&tmp).unwrap().files().count(), mem.len());
        let from_dir = crate::load(std::slice::from_ref(&tmp), LoadOptions::default()).unwrap();
        for threads in [1, 2, 3, 8] {
            let opts = LoadOptions {
                threads,
                ..Default::default()
            };
            let from_mem = load_memory(&mem, opts).unwrap();
            assert_eq!(from_mem.pods.len(), 1);
            assert_eq!(from_mem.pods[0].counters, from_dir.pods[0].counters);
            assert_eq!(from_mem.pods[0].summary, from_dir.pods[0].summary);
            assert_eq!(from_mem.pods[0].counters, vec![u64::MAX, 8, 5, 4]);
            assert!(from_mem.pods[0].saturated);
            assert_eq!(from_mem.pods[0].total_runs(), 4);
        }
        // Writing again replaces the directory as a whole.
        let mut smaller = MemDir::new("mem");
        let (meta, hash) = meta();
        smaller.insert(meta_file_name(&hash), meta);
        smaller.write_dir(&tmp).unwrap();
        assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 1);
        let _ = std::fs::remove_dir_all(&tmp);
    }

    #[test]
    fn runs_from_memory_sum_and_stream_again() {
        let opts = LoadOptions {
            keep_runs: true,
            ..Default::default()
        };
        let loaded = load_memory(&sample(), opts).unwrap();
        assert_eq!(loaded.pods.len(), 1);
        let pod = &loaded.pods[0];
        assert_eq!(pod.counters, vec![u64::MAX, 8, 5, 4]);
        assert_eq!(pod.runs.len(), 4);
        // Runs from memory can be streamed again without files.
        let streamed: Vec<Vec<(u32, u64)>> = pod
            .runs
            .iter()
            .map(|run| {
                let mut seen = Vec::new();
                crate::reader::visit_run_counters(run, |e| seen.extend(e)).unwrap();
                seen
            })
            .collect();
        assert!(streamed.contains(&vec![(1, 5), (3, 1)]), "{streamed:?}");
    }

    #[test]
    fn pools_absorb_and_bad_files_are_named() {
        let (meta, hash) = meta();
        let mut mem = sample();
        // A pool that absorbed pid 1's file: that file is not read again.
        let absorbed = counters_file_name(&hash, 1, 1001);
        let header = CountersHeader {
            flags: 0,
            meta_hash: hash,
            pid: POOL_PID,
            start_ns: 0,
            write_ns: POOL_NANOS,
            num_counters: 4,
            end: end_reason::MERGED,
            runs: 1,
        };
        let args = vec![(
            covwrap_rt::format::defs::arg_keys::ABSORBED.to_string(),
            absorbed,
        )];
        mem.insert(
            counters_file_name(&hash, POOL_PID, POOL_NANOS),
            encode(&header, &args, [(0u32, 1u64), (2, 2)]),
        );
        let loaded = load_memory(&mem, LoadOptions::default()).unwrap();
        assert_eq!(loaded.pods[0].counters, vec![u64::MAX, 8, 5, 4]);
        // A corrupt file fails the load, naming it; --ignore-bad skips it.
        mem.insert(counters_file_name(&hash, 9, 9), vec![1u8, 2, 3]);
        let e = load_memory(&mem, LoadOptions::default()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with(&format!("mem/{}", counters_file_name(&hash, 9, 9))),
            "{e}"
        );
        let opts = LoadOptions {
            ignore_bad: true,
            ..Default::default()
        };
        assert_eq!(load_memory(&mem, opts).unwrap().skipped.len(), 1);
        // A counter file without its meta file; an empty directory.
        let mut orphan = MemDir::new("o");
        let (name, bytes) = counters(hash, 1, [1, 0, 0, 0], &[]);
        orphan.insert(name, bytes);
        assert_eq!(
            *load_memory(&orphan, LoadOptions::default())
                .unwrap_err()
                .kind(),
            ErrorKind::MissingMeta
        );
        assert_eq!(
            *load_memory(&MemDir::new("e"), LoadOptions::default())
                .unwrap_err()
                .kind(),
            ErrorKind::NoData
        );
        let _ = meta;
    }
}
