//! Advisory locks on a pod's lock file `.covlock.<H>` (docs/FORMAT.md,
//! "Pools and compaction"): writers of a pool (the runtime with
//! `COVWRAP_MERGE=1`, `covdata merge --in-place`) hold it exclusively while
//! they replace the pool and delete the files folded into it; readers hold
//! it shared while they list and read the pod's counter files.
//!
//! `flock(2)` locks belong to the open file description, so they are
//! released when the file is closed, also when the process dies.

use std::fs::File;
use std::path::{Path, PathBuf};

use covwrap_rt::format::defs::MetaHash;

use crate::error::{Error, Result};

/// `DIR/.covlock.<H>`.
pub fn lock_path(dir: &Path, hash: &MetaHash) -> PathBuf {
    dir.join(covwrap_rt::format::names::lock_file_name(hash))
}

/// A held lock; released when dropped.
#[derive(Debug)]
pub struct PodLock {
    file: File,
    path: PathBuf,
}

impl PodLock {
    /// Takes the shared lock on `path` if the file exists; `None` when it
    /// does not (readers never create it: input directories may be
    /// read-only).
    pub fn shared_if_exists(path: &Path) -> Result<Option<PodLock>> {
        let file = match sys::open_lock(path, false) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(path, &e)),
        };
        sys::lock(&file, sys::LOCK_SH).map_err(|e| Error::io(path, &e))?;
        Ok(Some(PodLock {
            file,
            path: path.to_path_buf(),
        }))
    }

    /// Takes the exclusive lock on `path`, creating the file if needed; a
    /// symlink there is refused, never followed.
    pub fn exclusive(path: &Path) -> Result<PodLock> {
        let file = sys::open_lock(path, true).map_err(|e| Error::io(path, &e))?;
        sys::lock(&file, sys::LOCK_EX).map_err(|e| Error::io(path, &e))?;
        Ok(PodLock {
            file,
            path: path.to_path_buf(),
        })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PodLock {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first makes the
        // release independent of other descriptors of the same file.
        let _ = sys::lock(&self.file, sys::LOCK_UN);
    }
}

/// The shared rules (docs/FORMAT.md): lock files are opened without
/// following symlinks and locked with `flock(2)`.
#[cfg(unix)]
mod sys {
    pub use covwrap_rt::format::dirfiles::{lock, open_lock, LOCK_EX, LOCK_SH, LOCK_UN};
}

#[cfg(not(unix))]
mod sys {
    use std::fs::File;

    pub const LOCK_SH: i32 = 1;
    pub const LOCK_EX: i32 = 2;
    pub const LOCK_UN: i32 = 8;

    /// Opens the lock file (creating it if asked).
    pub fn open_lock(path: &std::path::Path, create: bool) -> std::io::Result<File> {
        std::fs::OpenOptions::new()
            .read(true)
            .write(create)
            .create(create)
            .truncate(false)
            .open(path)
    }

    /// Without `flock`, locking is a no-op (pools are a Unix feature).
    pub fn lock(_file: &File, _op: i32) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_locks_coexist_and_exclude_an_exclusive_one() {
        let dir = std::env::temp_dir().join(format!("covdata-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = lock_path(&dir, &[7; 16]);
        let _ = std::fs::remove_file(&path);
        assert!(PodLock::shared_if_exists(&path).unwrap().is_none());
        let ex = PodLock::exclusive(&path).unwrap();
        assert!(path.ends_with(".covlock.07070707070707070707070707070707"));
        // A shared lock from another open file waits for the exclusive one.
        let (tx, rx) = std::sync::mpsc::channel();
        let p = path.clone();
        let t = std::thread::spawn(move || {
            let a = PodLock::shared_if_exists(&p).unwrap().unwrap();
            let b = PodLock::shared_if_exists(&p).unwrap().unwrap();
            tx.send(()).unwrap();
            drop((a, b));
        });
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(
            rx.try_recv().is_err(),
            "shared lock taken under an exclusive one"
        );
        drop(ex);
        rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
        t.join().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
