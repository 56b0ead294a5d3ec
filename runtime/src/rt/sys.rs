//! The few libc functions the runtime needs, declared by hand because the
//! runtime may not depend on the `libc` crate. Linux only (glibc and musl
//! agree on every constant used here on the supported architectures).
//!
//! Everything the exit and signal paths call from here is async-signal-safe
//! per POSIX: open, write, close, rename, unlink, getpid, clock_gettime,
//! signal, sigaction, raise, nanosleep, syscall(renameat2).

use std::ffi::{c_char, c_int, c_uint, c_void};

pub const O_WRONLY: c_int = 0o1;
pub const O_CREAT: c_int = 0o100;
pub const O_EXCL: c_int = 0o200;
pub const O_CLOEXEC: c_int = 0o2000000;
/// Per architecture, shared with covdata (docs/FORMAT.md, shared COVDIRs).
pub const O_NOFOLLOW: c_int = crate::format::dirfiles::O_NOFOLLOW;

pub const W_OK: c_int = 2;
pub const X_OK: c_int = 1;

pub const CLOCK_REALTIME: c_int = 0;

pub const SIGHUP: c_int = 1;
pub const SIGINT: c_int = 2;
pub const SIGABRT: c_int = 6;
pub const SIGTERM: c_int = 15;

/// `sighandler_t` values.
pub const SIG_DFL: usize = 0;
pub const SIG_ERR: usize = usize::MAX;

pub const EINTR: i32 = 4;
pub const EEXIST: i32 = 17;
pub const EINVAL: i32 = 22;
pub const ENOSYS: i32 = 38;

pub const PROT_NONE: c_int = 0;
pub const PROT_READ: c_int = 1;
pub const PROT_WRITE: c_int = 2;
pub const MAP_PRIVATE: c_int = 2;
pub const MAP_ANONYMOUS: c_int = 0x20;
pub const MAP_FAILED: usize = usize::MAX;

/// Room for libc's `struct sigaction` on every Linux ABI (glibc's is 152
/// bytes on 64-bit targets); the handler is its first field except on MIPS.
#[repr(C, align(8))]
pub struct SigactionBuf(pub [usize; 32]);

#[repr(C)]
pub struct Timespec {
    pub tv_sec: i64,
    pub tv_nsec: i64,
}

extern "C" {
    pub fn open(path: *const c_char, flags: c_int, ...) -> c_int;
    pub fn write(fd: c_int, buf: *const c_void, count: usize) -> isize;
    pub fn close(fd: c_int) -> c_int;
    pub fn rename(old: *const c_char, new: *const c_char) -> c_int;
    pub fn unlink(path: *const c_char) -> c_int;
    pub fn access(path: *const c_char, mode: c_int) -> c_int;
    pub fn getpid() -> c_int;
    pub fn clock_gettime(clock: c_int, ts: *mut Timespec) -> c_int;
    pub fn nanosleep(req: *const Timespec, rem: *mut Timespec) -> c_int;
    pub fn signal(sig: c_int, handler: usize) -> usize;
    pub fn sigaction(sig: c_int, act: *const SigactionBuf, old: *mut SigactionBuf) -> c_int;
    pub fn mmap(
        addr: *mut c_void,
        len: usize,
        prot: c_int,
        flags: c_int,
        fd: c_int,
        off: i64,
    ) -> usize;
    pub fn mprotect(addr: *mut c_void, len: usize, prot: c_int) -> c_int;
    pub fn syscall(number: i64, ...) -> i64;
    pub fn raise(sig: c_int) -> c_int;
    pub fn atexit(f: extern "C" fn()) -> c_int;
    pub fn pthread_atfork(
        prepare: Option<extern "C" fn()>,
        parent: Option<extern "C" fn()>,
        child: Option<extern "C" fn()>,
    ) -> c_int;
    pub fn pthread_self() -> usize;
}

/// The calling thread's errno. Reading it does not allocate.
pub fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Wall-clock time in ns since the Unix epoch.
pub fn realtime_ns() -> u64 {
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    unsafe { clock_gettime(CLOCK_REALTIME, &mut ts) };
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

/// Sleeps for `ms` milliseconds.
pub fn sleep_ms(ms: u64) {
    let ts = Timespec {
        tv_sec: (ms / 1000) as i64,
        tv_nsec: ((ms % 1000) * 1_000_000) as i64,
    };
    // SAFETY: `ts` is valid; the remainder is not needed.
    unsafe { nanosleep(&ts, std::ptr::null_mut()) };
}

/// The handler currently installed for `sig` (`SIG_DFL`, `SIG_IGN` = 1,
/// or a function), queried without changing it.
pub fn current_handler(sig: c_int) -> usize {
    let mut old = SigactionBuf([0; 32]);
    // SAFETY: a null `act` only reads the disposition into `old`, which is
    // larger than libc's struct sigaction.
    if unsafe { sigaction(sig, std::ptr::null(), &mut old) } != 0 {
        return SIG_ERR;
    }
    // MIPS puts `sa_flags` (padded to 8 bytes) before the handler.
    old.0[if cfg!(target_arch = "mips64") { 1 } else { 0 }]
}

/// A number that differs between calls and processes and is hard to guess
/// from outside: wall-clock ns, pid, a stack address (ASLR) and a counter,
/// mixed (splitmix64). For temp-file names, without allocating.
pub fn unpredictable_u64() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let local = 0u8;
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { getpid() } as u64;
    let mut z = realtime_ns()
        ^ (pid << 40)
        ^ (&local as *const u8 as u64).rotate_left(17)
        ^ CALLS.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `renameat2` system call numbers; other architectures use plain rename.
#[cfg(target_arch = "x86_64")]
const SYS_RENAMEAT2: Option<i64> = Some(316);
#[cfg(any(
    target_arch = "aarch64",
    target_arch = "riscv64",
    target_arch = "loongarch64"
))]
const SYS_RENAMEAT2: Option<i64> = Some(276);
#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64",
    target_arch = "loongarch64"
)))]
const SYS_RENAMEAT2: Option<i64> = None;

/// Renames `old` to `new` (both NUL-terminated) unless `new` exists (a
/// file or a symlink someone planted: EEXIST, nothing followed). Where the
/// kernel or file system lacks `RENAME_NOREPLACE`, a plain rename, which
/// replaces a planted symlink itself and never writes through it.
pub fn rename_noreplace(old: &[u8], new: &[u8]) -> Result<(), i32> {
    const AT_FDCWD: c_int = -100;
    const RENAME_NOREPLACE: c_uint = 1;
    debug_assert!(old.last() == Some(&0) && new.last() == Some(&0));
    if let Some(number) = SYS_RENAMEAT2 {
        // SAFETY: renameat2(AT_FDCWD, old, AT_FDCWD, new, flags) with
        // NUL-terminated paths; the variadic arguments are the syscall's.
        let rc = unsafe {
            syscall(
                number,
                AT_FDCWD,
                old.as_ptr(),
                AT_FDCWD,
                new.as_ptr(),
                RENAME_NOREPLACE,
            )
        };
        if rc == 0 {
            return Ok(());
        }
        let e = errno();
        if e != EINVAL && e != ENOSYS {
            return Err(e);
        }
    }
    // SAFETY: both paths are NUL-terminated.
    if unsafe { rename(old.as_ptr().cast(), new.as_ptr().cast()) } == 0 {
        Ok(())
    } else {
        Err(errno())
    }
}

/// Opens `path` (NUL-terminated) for exclusive creation with mode 0644,
/// never through a symlink, write-only.
pub fn create_exclusive(path: &[u8]) -> Result<c_int, i32> {
    create_exclusive_with(path, O_WRONLY)
}

/// [`create_exclusive`] with access mode `access` (`O_WRONLY`, or
/// `O_RDWR` for a file that will be mapped shared and writable).
pub fn create_exclusive_with(path: &[u8], access: c_int) -> Result<c_int, i32> {
    debug_assert_eq!(path.last(), Some(&0));
    // SAFETY: `path` is NUL-terminated; the mode argument is the variadic int.
    let fd = unsafe {
        open(
            path.as_ptr().cast(),
            access | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
            0o644 as c_uint,
        )
    };
    if fd < 0 {
        Err(errno())
    } else {
        Ok(fd)
    }
}

/// Writes all of `data` to `fd`, retrying on EINTR and short writes.
pub fn write_all(fd: c_int, mut data: &[u8]) -> Result<(), i32> {
    while !data.is_empty() {
        // SAFETY: `data` is a valid readable buffer of the given length.
        let n = unsafe { write(fd, data.as_ptr().cast(), data.len()) };
        if n < 0 {
            let e = errno();
            if e == EINTR {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            return Err(28); // ENOSPC: a zero-length write means no progress
        }
        data = &data[n as usize..];
    }
    Ok(())
}

/// A short name for common errno values, for one-line messages that cannot
/// call strerror (not async-signal-safe).
pub fn errno_name(e: i32) -> &'static str {
    match e {
        1 => "operation not permitted",
        2 => "no such file or directory",
        5 => "input/output error",
        13 => "permission denied",
        17 => "file exists",
        20 => "not a directory",
        21 => "is a directory",
        24 => "too many open files",
        28 => "no space left on device",
        30 => "read-only file system",
        36 => "file name too long",
        122 => "disk quota exceeded",
        _ => "os error",
    }
}
