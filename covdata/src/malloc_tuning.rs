//! glibc's malloc, tuned for covdata's reports through `mallopt`
//! (docs/ARCHITECTURE.md says why and what it measured, under `model`).
//!
//! No huge pages: a transparent huge page must come from a free 2 MiB
//! block, and this VM hands such blocks back to its host once they have
//! been free a while, so each one costs a host fault for every page of it
//! (a report after 3 s idle took 0.22 s with them, 0.13-0.15 s without),
//! where 4 KiB pages mostly come from pages freed moments ago.

/// glibc's `mallopt` parameters (malloc.h).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod param {
    pub const TRIM_THRESHOLD: i32 = -1;
    pub const TOP_PAD: i32 = -2;
    pub const MMAP_THRESHOLD: i32 = -3;
}

/// Heaps grow by this much at a time instead of a few pages: each step of
/// a thread's arena is an `mprotect` that holds the address-space lock
/// the other threads' page faults wait for.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TOP_PAD: i32 = 64 << 20;
/// Blocks up to this size stay in the heaps instead of single mappings,
/// and freed memory up to it is kept instead of trimmed (a report frees
/// its load before it writes, and touches the same pages again).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const KEEP: i32 = 256 << 20;

/// Call first in `main`, before any thread starts.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn mallopt(param: std::ffi::c_int, value: std::ffi::c_int) -> std::ffi::c_int;
        }
        // SAFETY: glibc's mallopt takes any parameter and value (it
        // returns 0 for a value it refuses) and changes only malloc's own
        // settings; no other thread exists yet.
        let set = |param, value| unsafe { mallopt(param, value) } != 0;
        // The threshold first: older glibc refuses one above 32 MiB, and
        // each of the settings turns off glibc's own threshold adjustment,
        // so without it all stay at their defaults.
        if set(param::MMAP_THRESHOLD, KEEP) {
            set(param::TRIM_THRESHOLD, KEEP);
            set(param::TOP_PAD, TOP_PAD);
        }
    }
}
