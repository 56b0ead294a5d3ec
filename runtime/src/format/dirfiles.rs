//! Files in a COVDIR, which may be shared (a world-writable directory with
//! the sticky bit, a volume several services mount): one copy of the rules
//! for the runtime's normal paths and for covdata (docs/FORMAT.md, "Files
//! in a shared COVDIR" and "Pools and compaction").
//!
//! - Every file is created with `O_CREAT|O_EXCL|O_NOFOLLOW` under a name
//!   another user cannot plant in advance (pid plus a random suffix,
//!   another suffix when the name is taken), then renamed into place.
//! - A symlink at a name we open or replace is refused, never followed.
//! - Pools are written under the pod's exclusive `flock`, so a pool temp
//!   file seen while holding that lock belongs to a dead writer.
//!
//! The runtime's signal path cannot allocate and has its own copy of the
//! creation rule in `rt::sys`, with the same flags.

use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use super::defs::{MetaHash, COUNTERS_FILE_PREFIX, TEMP_FILE_PREFIX};
use super::md5::hex;

/// `O_NOFOLLOW` of the target (it differs between architectures).
#[cfg(all(
    target_os = "linux",
    any(
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "powerpc",
        target_arch = "powerpc64"
    )
))]
pub const O_NOFOLLOW: i32 = 0o100000;
/// `O_NOFOLLOW` of the target (it differs between architectures).
#[cfg(all(
    target_os = "linux",
    not(any(
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "powerpc",
        target_arch = "powerpc64"
    ))
))]
pub const O_NOFOLLOW: i32 = 0o400000;
/// `O_NOFOLLOW` of the target (macOS and the BSDs).
#[cfg(not(target_os = "linux"))]
pub const O_NOFOLLOW: i32 = 0x100;

/// `flock(2)` operations (the same values on Linux, the BSDs and macOS).
pub const LOCK_SH: i32 = 1;
/// See [`LOCK_SH`].
pub const LOCK_EX: i32 = 2;
/// See [`LOCK_SH`].
pub const LOCK_NB: i32 = 4;
/// See [`LOCK_SH`].
pub const LOCK_UN: i32 = 8;

/// How many names [`create_temp`] tries before giving up.
const CREATE_ATTEMPTS: u32 = 16;

/// A random 64-bit value (std's hash keys come from the OS's random source).
pub fn random_u64() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::process::id().into());
    h.finish()
}

/// The error for a symlink found where a COVDIR file goes.
pub fn symlink_error(path: &Path) -> io::Error {
    io::Error::other(format!(
        "{} is a symbolic link; covwrap never follows symlinks in a coverage directory",
        path.display()
    ))
}

/// Fails if `path` is a symlink; a missing file is fine.
pub fn refuse_symlink(path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(symlink_error(path)),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Opens `path` for reading without following a symlink (refused with
/// [`symlink_error`]).
pub fn open_nofollow(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(O_NOFOLLOW)
        .open(path)
        .map_err(|e| nofollow_error(path, e))
}

/// ELOOP from `O_NOFOLLOW` means a symlink: say so.
fn nofollow_error(path: &Path, e: io::Error) -> io::Error {
    if e.raw_os_error() == Some(40) || e.raw_os_error() == Some(62) {
        symlink_error(path)
    } else {
        e
    }
}

/// Creates a new temporary file for `final_name` in `dir`:
/// `.covtmp.<final_name>.<pid>.<random hex>`, exclusively, never through a
/// symlink; a name that is taken (planted or not) is skipped for another.
pub fn create_temp(dir: &Path, final_name: &str) -> io::Result<(File, PathBuf)> {
    let mut last = None;
    for _ in 0..CREATE_ATTEMPTS {
        let path = dir.join(format!(
            "{TEMP_FILE_PREFIX}{final_name}.{}.{:016x}",
            std::process::id(),
            random_u64()
        ));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .custom_flags(O_NOFOLLOW)
            .open(&path)
        {
            Ok(f) => return Ok((f, path)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temporary file name")))
}

/// Writes `bytes` to `dir/name` through [`create_temp`] and a rename,
/// refusing a symlink at `dir/name`. With `replace` false an existing file
/// is left as it is (content-addressed files such as meta files).
pub fn write_new_file(dir: &Path, name: &str, bytes: &[u8], replace: bool) -> io::Result<()> {
    use std::io::Write;
    let target = dir.join(name);
    refuse_symlink(&target)?;
    if !replace && target.exists() {
        return Ok(());
    }
    let (mut file, temp) = create_temp(dir, name)?;
    let result = file
        .write_all(bytes)
        .and_then(|()| refuse_symlink(&target))
        .and_then(|()| std::fs::rename(&temp, &target));
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Opens a lock file, creating it (mode 0644) if `create`; a symlink is
/// refused. Read-only is enough for `flock`.
pub fn open_lock(path: &Path, create: bool) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).custom_flags(O_NOFOLLOW);
    if create {
        // O_CREAT without O_TRUNC: `create(true)` needs write access in
        // std's checks, so the flag is passed directly.
        options.custom_flags(O_NOFOLLOW | O_CREAT).mode(0o644);
    }
    options.open(path).map_err(|e| nofollow_error(path, e))
}

#[cfg(target_os = "linux")]
const O_CREAT: i32 = 0o100;
#[cfg(not(target_os = "linux"))]
const O_CREAT: i32 = 0x200;

extern "C" {
    fn flock(fd: i32, operation: i32) -> i32;
}

/// `flock(2)` on `file`, retried when a signal interrupts the wait.
pub fn lock(file: &File, op: i32) -> io::Result<()> {
    lock_fd(file.as_raw_fd(), op)
}

/// [`lock`] on a raw descriptor (the runtime's mapped counter files, set
/// up where nothing may allocate; an `io::Error` of an errno does not).
pub fn lock_fd(fd: i32, op: i32) -> io::Result<()> {
    loop {
        // SAFETY: `flock` only reads its two integer arguments; the
        // caller keeps the descriptor open for the duration of the call.
        if unsafe { flock(fd, op) } == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// A non-blocking [`lock`]: `Ok(false)` when another open file holds a
/// conflicting lock; an error where the file system cannot lock at all.
pub fn try_lock(file: &File, op: i32) -> io::Result<bool> {
    match lock(file, op | LOCK_NB) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
        Err(e) => Err(e),
    }
}

/// A held lock on a pod's `.covlock.<H>` (docs/FORMAT.md, pools): an
/// `flock`, released when dropped, or by the kernel when the process dies.
#[derive(Debug)]
pub struct PodLock(File);

impl PodLock {
    /// Steps 1 and 2 of the pool protocol, for every pool writer: the
    /// exclusive lock (creating the lock file, refusing a symlink), then
    /// removal of the pool temp files writers killed holding it left.
    pub fn exclusive_for_pool(dir: &Path, hash: &MetaHash) -> io::Result<PodLock> {
        let path = dir.join(super::names::lock_file_name(hash));
        let file = open_lock(&path, true)?;
        lock(&file, LOCK_EX)?;
        remove_stale_pool_temps(dir, hash);
        Ok(PodLock(file))
    }

    /// For readers: the shared lock, if the lock file exists (readers
    /// never create it: input directories may be read-only).
    pub fn shared_if_exists(path: &Path) -> io::Result<Option<PodLock>> {
        let file = match open_lock(path, false) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        lock(&file, LOCK_SH)?;
        Ok(Some(PodLock(file)))
    }
}

impl Drop for PodLock {
    fn drop(&mut self) {
        // Closing releases it too; unlocking first makes the release
        // independent of other descriptors of the same open file.
        let _ = lock(&self.0, LOCK_UN);
    }
}

/// Names of a pod's pool temp files begin with this:
/// `.covtmp.covcounters.<H>.0.0.` (no other counter file has nanotime 0).
pub fn pool_temp_prefix(hash: &MetaHash) -> String {
    format!("{TEMP_FILE_PREFIX}{COUNTERS_FILE_PREFIX}{}.0.0.", hex(hash))
}

/// Removes the pod's pool temp files ([`PodLock::exclusive_for_pool`]
/// does). Call only while holding the pod's exclusive lock: every pool writer holds it from creating its temp file
/// to renaming it, so any such file seen then was left by a writer that
/// died (SIGKILL) holding the lock, whatever its pid has become since.
/// Returns how many were removed.
pub fn remove_stale_pool_temps(dir: &Path, hash: &MetaHash) -> usize {
    let prefix = pool_temp_prefix(hash);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(&prefix))
        })
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("covwrap-dirfiles-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn symlinks_are_refused_and_never_followed() {
        let dir = scratch("links");
        let victim = dir.join("victim");
        std::fs::write(&victim, "keep").unwrap();
        std::os::unix::fs::symlink(&victim, dir.join("covmeta.x")).unwrap();
        let e = write_new_file(&dir, "covmeta.x", b"data", true).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        std::os::unix::fs::symlink(&victim, dir.join(".covlock.x")).unwrap();
        let e = open_lock(&dir.join(".covlock.x"), true).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        let e = open_nofollow(&dir.join("covmeta.x")).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn temp_names_differ_and_stale_pool_temps_are_removed() {
        let dir = scratch("temps");
        let (_, a) = create_temp(&dir, "n").unwrap();
        let (_, b) = create_temp(&dir, "n").unwrap();
        assert_ne!(a, b);
        let hash = [3u8; 16];
        let stale = dir.join(format!("{}123.abc", pool_temp_prefix(&hash)));
        std::fs::write(&stale, "").unwrap();
        let other = dir.join(format!(".covtmp.covcounters.{}.0.17.5.x", hex(&hash)));
        std::fs::write(&other, "").unwrap();
        assert_eq!(remove_stale_pool_temps(&dir, &hash), 1);
        assert!(!stale.exists() && other.exists());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
