//! Advisory locks on a pod's lock file `.covlock.<H>` (docs/FORMAT.md,
//! "Pools and compaction"): writers of a pool (the runtime with
//! `COVWRAP_MERGE=1`, `covdata merge --in-place`) hold it exclusively while
//! they replace the pool and delete the files folded into it; readers hold
//! it shared while they list and read the pod's counter files.
//!
//! `flock(2)` locks belong to the open file description, so they are
//! released when the file is closed, also when the process dies.

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
    _held: sys::Held,
    path: PathBuf,
}

impl PodLock {
    /// Takes the shared lock on `path` if the file exists; `None` when it
    /// does not (readers never create it: input directories may be
    /// read-only).
    pub fn shared_if_exists(path: &Path) -> Result<Option<PodLock>> {
        Ok(sys::Held::shared_if_exists(path)
            .map_err(|e| Error::io(path, &e))?
            .map(|held| PodLock {
                _held: held,
                path: path.to_path_buf(),
            }))
    }

    /// Takes the exclusive lock of the pod `hash` in `dir` for writing its
    /// pool, as every pool writer does (docs/FORMAT.md): the lock file is
    /// created if needed (a symlink there is refused, never followed), and
    /// pool temp files of writers killed holding the lock are removed.
    pub fn exclusive_for_pool(dir: &Path, hash: &MetaHash) -> Result<PodLock> {
        let path = lock_path(dir, hash);
        let held = sys::Held::exclusive_for_pool(dir, hash).map_err(|e| Error::io(&path, &e))?;
        Ok(PodLock { _held: held, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The one implementation, shared with the runtime.
#[cfg(unix)]
mod sys {
    pub use covwrap_rt::format::dirfiles::PodLock as Held;
}

/// Without `flock`, locking is a no-op (pools are a Unix feature).
#[cfg(not(unix))]
mod sys {
    use std::path::Path;

    use covwrap_rt::format::defs::MetaHash;

    #[derive(Debug)]
    pub struct Held;

    impl Held {
        pub fn shared_if_exists(path: &Path) -> std::io::Result<Option<Held>> {
            Ok(path.exists().then_some(Held))
        }

        pub fn exclusive_for_pool(_dir: &Path, _hash: &MetaHash) -> std::io::Result<Held> {
            Ok(Held)
        }
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
        let ex = PodLock::exclusive_for_pool(&dir, &[7; 16]).unwrap();
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
