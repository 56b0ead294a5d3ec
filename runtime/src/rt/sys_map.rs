//! The libc functions and constants continuous mode needs on top of
//! [`super::sys`] (sharing, sizing and unmapping files), declared by hand for
//! the same reason. Linux only; every call here is async-signal-safe, which
//! the fork-child path needs.

use std::ffi::{c_int, c_long, c_void};

pub const O_RDWR: c_int = 0o2;

pub const MAP_SHARED: c_int = 0x01;
pub const MAP_FIXED: c_int = 0x10;

pub const SC_PAGESIZE: c_int = 30;

pub const EOPNOTSUPP: i32 = 95;

extern "C" {
    pub fn munmap(addr: *mut c_void, len: usize) -> c_int;
    pub fn fallocate(fd: c_int, mode: c_int, offset: i64, len: i64) -> c_int;
    pub fn sysconf(name: c_int) -> c_long;
}

/// The page size (4096 if the system will not say).
pub fn page_size() -> usize {
    // SAFETY: a pure query.
    let n = unsafe { sysconf(SC_PAGESIZE) };
    if n > 0 && (n as usize).is_power_of_two() {
        n as usize
    } else {
        4096
    }
}
