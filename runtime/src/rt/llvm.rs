//! The LLVM profiling runtime (compiler-rt's profiler_builtins) that rustc
//! links into every binary with instrumented code. We keep it, point its own
//! exit-time writer at /dev/null, and read the counters it owns.

use std::ffi::c_char;
use std::sync::atomic::AtomicU64;

extern "C" {
    fn __llvm_profile_set_filename(name: *const c_char);
    fn __llvm_profile_begin_counters() -> *mut u8;
    fn __llvm_profile_end_counters() -> *mut u8;
    fn __llvm_profile_get_version() -> u64;
}

/// The raw profile version whose `__llvm_prf_data` layout covwrap reads.
pub const SUPPORTED_RAW_VERSION: u64 = 10;

/// Sends LLVM's own writer to /dev/null: no `default_*.profraw` anywhere,
/// whatever `LLVM_PROFILE_FILE` says. A name set through this call takes
/// precedence over the environment and the default.
pub fn silence_default_writer() {
    // SAFETY: a NUL-terminated static string; the runtime copies the pattern.
    unsafe { __llvm_profile_set_filename(c"/dev/null".as_ptr()) }
}

/// LLVM's raw profile version (low 32 bits; the high bits are variant flags).
pub fn raw_version() -> u64 {
    // SAFETY: a pure accessor of a constant.
    unsafe { __llvm_profile_get_version() & 0xffff_ffff }
}

/// The binary's counter array. rustc's increments are atomic (`lock inc`)
/// since Rust 1.71, so reading and resetting through atomics is sound.
pub fn counters() -> &'static [AtomicU64] {
    // SAFETY: LLVM's accessors bound the `__llvm_prf_cnts` section, which
    // lives for the whole process, is 8-aligned and holds u64 counters.
    unsafe {
        let begin = __llvm_profile_begin_counters();
        let end = __llvm_profile_end_counters();
        let len = (end as usize).saturating_sub(begin as usize) / 8;
        if begin.is_null() || len == 0 {
            return &[];
        }
        std::slice::from_raw_parts(begin.cast::<AtomicU64>(), len)
    }
}
