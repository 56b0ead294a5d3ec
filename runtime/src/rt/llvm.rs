//! The LLVM profiling runtime (compiler-rt's profiler_builtins) that rustc
//! links into every binary with instrumented code. We keep it, point its own
//! exit-time writer at /dev/null, and read the counters it owns.

use std::ffi::c_char;
use std::sync::atomic::{AtomicI64, AtomicU64};

extern "C" {
    fn __llvm_profile_set_filename(name: *const c_char);
    fn __llvm_profile_get_filename() -> *const c_char;
    fn __llvm_profile_enable_continuous_mode();
    fn __llvm_profile_set_page_size(page_size: u32);
    fn __llvm_profile_begin_counters() -> *mut u8;
    fn __llvm_profile_end_counters() -> *mut u8;
    fn __llvm_profile_get_version() -> u64;
}

/// The raw profile version whose `__llvm_prf_data` layout covwrap reads.
pub const SUPPORTED_RAW_VERSION: u64 = 10;

/// Keeps LLVM's own writer from writing anything: no `default_*.profraw`
/// anywhere, whatever `LLVM_PROFILE_FILE` says.
///
/// A name set through `__llvm_profile_set_filename` takes precedence over
/// the environment and the default, so LLVM's initializer, which runs after
/// this constructor, keeps `/dev/null`. Then "continuous mode" is switched
/// on: LLVM's initializer does not register its exit-time writer in that
/// mode, which saves gathering and writing the whole profile (about a
/// million instructions per run for ripgrep). Its filename setup returns
/// early (lower precedence), so continuous mode does nothing else. If LLVM's
/// initializer has somehow run first, its writer is registered and would
/// print a note in continuous mode, so then only the redirect is done.
pub fn silence_default_writer() {
    // SAFETY: LLVM's accessor returns a NUL-terminated string ("" before
    // any initialization; it leaks a 1-byte buffer, once).
    let llvm_initialized = unsafe { *__llvm_profile_get_filename() != 0 };
    // SAFETY: a NUL-terminated static string; the runtime copies the pattern.
    unsafe { __llvm_profile_set_filename(c"/dev/null".as_ptr()) }
    if !llvm_initialized {
        // SAFETY: set two plain variables. LLVM counts continuous mode as
        // enabled only once a page size is known; on Linux the page size
        // is used for nothing else.
        unsafe {
            __llvm_profile_set_page_size(4096);
            __llvm_profile_enable_continuous_mode();
        }
    }
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

extern "C" {
    // Defined (hidden, weak, one per link) by every object compiled with
    // `-runtime-counter-relocation`; otherwise compiler-rt's weak alias
    // makes it the same variable as `_default`. Instrumented code adds its
    // value to every counter address.
    static __llvm_profile_counter_bias: AtomicI64;
    static __llvm_profile_counter_bias_default: AtomicI64;
}

/// The counter bias, when the instrumented code was compiled with counter
/// relocation (covwrap always asks for it); `None` otherwise.
pub fn counter_bias() -> Option<&'static AtomicI64> {
    // SAFETY: both are plain 8-byte variables that live for the whole
    // process; only their addresses are compared here.
    unsafe {
        let bias = &__llvm_profile_counter_bias;
        let default = &__llvm_profile_counter_bias_default;
        (!std::ptr::eq(bias, default)).then_some(bias)
    }
}
