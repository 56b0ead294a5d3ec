//! Dense counter files (continuous mode; docs/FORMAT.md "Dense counter
//! files"). A process in that mode counts straight into
//! `covcounters.<H>.<pid>.<start ns>`, mapped, and holds an exclusive
//! `flock` on it while it lives; a normal end renames the sparse file over
//! it. A dense file found by a reader therefore belongs either to a live
//! process (lock held: skipped, unless `--include-live`) or to one that
//! ended without its exit path (SIGKILL, OOM kill, crash, exec): then it is
//! that run, and reads as the covcounters file it stands for
//! ([`end_reason::LOST`]), so every command, merge and pool treats it like
//! any other run.
//!
//! Whether to read live files is the load's choice
//! ([`crate::LoadOptions::include_live`]); the count of live files skipped
//! is process-wide, for the CLI to report once ([`take_live_skipped`]).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use covwrap_rt::format::counters::encode;
use covwrap_rt::format::defs::end_reason;
use covwrap_rt::format::dense::{is_dense, state, DenseFile};
use covwrap_rt::format::dirfiles::{lock, open_nofollow, try_lock, LOCK_EX, LOCK_SH, LOCK_UN};

use crate::error::{Error, Result};

static LIVE_SKIPPED: AtomicUsize = AtomicUsize::new(0);

/// How many live dense files were skipped since the last call.
pub fn take_live_skipped() -> usize {
    LIVE_SKIPPED.swap(0, Ordering::Relaxed)
}

/// What [`read_counter_file`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `buf` holds a covcounters file (read as is, or converted from the
    /// dense file of a finished run or, with `--include-live`, a live one).
    Counters,
    /// A live process's dense file, skipped (and counted).
    Live,
}

/// Reads the counter file at `path` into `buf` (cleared first). A dense
/// file is converted into the covcounters file it stands for, or skipped
/// when its process is alive, unless `include_live` (`--include-live`)
/// asks for a snapshot of it.
pub fn read_counter_file(path: &Path, buf: &mut Vec<u8>, include_live: bool) -> Result<Outcome> {
    buf.clear();
    let mut file = File::open(path).map_err(|e| Error::io(path, &e))?;
    file.read_to_end(buf).map_err(|e| Error::io(path, &e))?;
    if !is_dense(buf) {
        return Ok(Outcome::Counters);
    }
    if is_live(&file, buf) {
        if !include_live {
            LIVE_SKIPPED.fetch_add(1, Ordering::Relaxed);
            return Ok(Outcome::Live);
        }
        // The process writes while we read: take each counter with one
        // atomic load from a mapping, never a torn value.
        *buf = snapshot(&file, path)?;
    } else {
        // It may have died while we read: read its final counts again.
        buf.clear();
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.read_to_end(buf))
            .map_err(|e| Error::io(path, &e))?;
    }
    *buf = to_counters(&file, buf, path)?;
    Ok(Outcome::Counters)
}

/// The dense file of a dead process, claimed for compaction: the exclusive
/// lock is held until the claim is dropped, after the file is folded into
/// the pool and deleted, so no one else folds it too.
#[derive(Debug)]
pub struct Claim {
    _file: File,
}

/// For compaction: reads `path` into `buf` like [`read_counter_file`]; for
/// a dense file, also claims it. `Ok(None)`: a live process's file, left
/// alone.
pub fn read_for_compaction(path: &Path, buf: &mut Vec<u8>) -> Result<Option<Option<Claim>>> {
    buf.clear();
    // Never through a symlink: the directory may be shared, and what is
    // folded in gets deleted.
    let mut file = open_nofollow(path).map_err(|e| Error::io(path, &e))?;
    file.read_to_end(buf).map_err(|e| Error::io(path, &e))?;
    if !is_dense(buf) {
        return Ok(Some(None));
    }
    match try_lock(&file, LOCK_EX) {
        Ok(true) => {}
        Ok(false) => {
            LIVE_SKIPPED.fetch_add(1, Ordering::Relaxed);
            return Ok(None);
        }
        Err(_) if pid_alive(buf) => {
            LIVE_SKIPPED.fetch_add(1, Ordering::Relaxed);
            return Ok(None);
        }
        Err(_) => {}
    }
    // Read again under the lock: the bytes are final now.
    buf.clear();
    let mut again = open_nofollow(path).map_err(|e| Error::io(path, &e))?;
    again.read_to_end(buf).map_err(|e| Error::io(path, &e))?;
    if !is_dense(buf) {
        // The process ended normally meanwhile: its sparse file replaced
        // the dense one under the same name.
        return Ok(Some(None));
    }
    *buf = to_counters(&file, buf, path)?;
    Ok(Some(Some(Claim { _file: file })))
}

/// Live: someone holds the file's lock (the process itself; a fork child
/// closed its copy). Where the filesystem has no `flock`, a process of
/// that pid that has not exec'd counts as live.
fn is_live(file: &File, bytes: &[u8]) -> bool {
    match try_lock(file, LOCK_SH) {
        Ok(true) => {
            let _ = lock(file, LOCK_UN);
            false
        }
        Ok(false) => true,
        Err(_) => pid_alive(bytes),
    }
}

fn pid_alive(bytes: &[u8]) -> bool {
    match DenseFile::parse(bytes) {
        Ok(f) => {
            f.header().state == state::RUNNING
                && Path::new(&format!("/proc/{}", f.header().pid)).exists()
        }
        Err(_) => false,
    }
}

/// The covcounters encoding of dense `bytes`.
fn to_counters(file: &File, bytes: &[u8], path: &Path) -> Result<Vec<u8>> {
    let dense = DenseFile::parse(bytes).map_err(|e| Error::from(e).at(path))?;
    let write_ns = file
        .metadata()
        .ok()
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(dense.header().start_ns, |d| d.as_nanos() as u64);
    let mut header = dense.counters_header(write_ns.max(dense.header().start_ns));
    debug_assert_eq!(header.end, end_reason::LOST);
    header.end = end_reason::LOST;
    Ok(encode(&header, dense.args(), dense.nonzero()))
}

/// The dense file's bytes, each counter read with one atomic load from a
/// read-only shared mapping of the file.
fn snapshot(file: &File, path: &Path) -> Result<Vec<u8>> {
    let len = file.metadata().map_err(|e| Error::io(path, &e))?.len() as usize;
    let map = sys::Map::new(file, len).map_err(|e| Error::io(path, &e))?;
    let bytes = map.bytes();
    let mut out = bytes.to_vec();
    if let Ok(dense) = DenseFile::parse(bytes) {
        let offset = dense.header().counters_offset as usize;
        for i in 0..dense.header().num_counters as usize {
            let at = offset + 8 * i;
            // SAFETY: `at` is 8-aligned (page-aligned offset) and inside
            // the mapping (parse checked the length); the process updates
            // these words only with atomic instructions.
            let v =
                unsafe { (*(bytes.as_ptr().add(at) as *const AtomicU64)).load(Ordering::Relaxed) };
            out[at..at + 8].copy_from_slice(&v.to_le_bytes());
        }
    }
    Ok(out)
}

mod sys {
    use std::fs::File;
    use std::os::unix::io::AsRawFd;

    const PROT_READ: i32 = 1;
    const MAP_SHARED: i32 = 1;

    extern "C" {
        fn mmap(addr: *mut u8, len: usize, prot: i32, flags: i32, fd: i32, off: i64) -> *mut u8;
        fn munmap(addr: *mut u8, len: usize) -> i32;
    }

    /// A read-only shared mapping of a whole file.
    pub struct Map {
        ptr: *mut u8,
        len: usize,
    }

    impl Map {
        pub fn new(file: &File, len: usize) -> std::io::Result<Map> {
            if len == 0 {
                return Err(std::io::Error::other("empty file"));
            }
            // SAFETY: maps `len` bytes of an open file read-only; the
            // mapping is ours until dropped.
            let ptr = unsafe {
                mmap(
                    std::ptr::null_mut(),
                    len,
                    PROT_READ,
                    MAP_SHARED,
                    file.as_raw_fd(),
                    0,
                )
            };
            if ptr as usize == usize::MAX {
                return Err(std::io::Error::last_os_error());
            }
            Ok(Map { ptr, len })
        }

        /// The mapped bytes. A file truncated by someone else would make
        /// reading past its end fault; dense files are never truncated.
        pub fn bytes(&self) -> &[u8] {
            // SAFETY: `len` readable bytes at `ptr` while `self` lives.
            unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
        }
    }

    impl Drop for Map {
        fn drop(&mut self) {
            // SAFETY: our own mapping, unmapped once.
            unsafe { munmap(self.ptr, self.len) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use covwrap_rt::format::counters::CountersFile;
    use covwrap_rt::format::dense::{counters_offset, encode as encode_dense, DenseHeader};

    fn write_dense(dir: &Path, counters: &[u64]) -> std::path::PathBuf {
        let mut args = Vec::new();
        covwrap_rt::format::kv::encode(&[("argv", "x")], &mut args);
        let header = DenseHeader {
            state: state::RUNNING,
            meta_hash: [3; 16],
            pid: 77,
            start_ns: 5,
            num_counters: counters.len() as u32,
            counters_offset: counters_offset(args.len(), 4096) as u64,
        };
        let path = dir.join("covcounters.03030303030303030303030303030303.77.5");
        std::fs::write(&path, encode_dense(&header, &args, counters)).unwrap();
        path
    }

    #[test]
    fn dead_reads_as_counters_live_is_skipped_then_snapshotted() {
        let dir = std::env::temp_dir().join(format!("covdata-dense-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = write_dense(&dir, &[0, 4, 0, 9]);
        let mut buf = Vec::new();
        assert_eq!(
            read_counter_file(&path, &mut buf, false).unwrap(),
            Outcome::Counters
        );
        let file = CountersFile::parse(&buf).unwrap();
        assert_eq!(file.entries().collect::<Vec<_>>(), vec![(1, 4), (3, 9)]);
        assert_eq!(
            (file.header().end, file.header().pid),
            (end_reason::LOST, 77)
        );

        let holder = File::open(&path).unwrap();
        assert!(try_lock(&holder, LOCK_EX).unwrap());
        take_live_skipped();
        assert_eq!(
            read_counter_file(&path, &mut buf, false).unwrap(),
            Outcome::Live
        );
        assert_eq!(take_live_skipped(), 1);
        assert!(read_for_compaction(&path, &mut buf).unwrap().is_none());
        assert_eq!(
            read_counter_file(&path, &mut buf, true).unwrap(),
            Outcome::Counters
        );
        assert_eq!(CountersFile::parse(&buf).unwrap().entries().count(), 2);
        drop(holder);
        let claim = read_for_compaction(&path, &mut buf).unwrap().unwrap();
        assert!(claim.is_some());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
