//! The few libc functions the runtime needs, declared by hand because the
//! runtime may not depend on the `libc` crate. Linux only (glibc and musl
//! agree on every constant used here on the supported architectures).
//!
//! Everything the exit and signal paths call from here is async-signal-safe
//! per POSIX: open, write, close, rename, unlink, getpid, clock_gettime,
//! signal, raise, nanosleep.

use std::ffi::{c_char, c_int, c_uint, c_void};

pub const O_WRONLY: c_int = 0o1;
pub const O_CREAT: c_int = 0o100;
pub const O_EXCL: c_int = 0o200;
pub const O_CLOEXEC: c_int = 0o2000000;

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

pub const LOCK_EX: c_int = 2;
pub const LOCK_UN: c_int = 8;

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
    pub fn raise(sig: c_int) -> c_int;
    pub fn atexit(f: extern "C" fn()) -> c_int;
    pub fn pthread_atfork(
        prepare: Option<extern "C" fn()>,
        parent: Option<extern "C" fn()>,
        child: Option<extern "C" fn()>,
    ) -> c_int;
    pub fn pthread_self() -> usize;
    pub fn flock(fd: c_int, operation: c_int) -> c_int;
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

/// Opens `path` (NUL-terminated) for exclusive creation with mode 0644.
pub fn create_exclusive(path: &[u8]) -> Result<c_int, i32> {
    debug_assert_eq!(path.last(), Some(&0));
    // SAFETY: `path` is NUL-terminated; the mode argument is the variadic int.
    let fd = unsafe {
        open(
            path.as_ptr().cast(),
            O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
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
