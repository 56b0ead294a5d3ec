//! glibc's malloc, tuned for covdata's reports (docs/ARCHITECTURE.md says
//! why and what it measured, under `model`): heap growth in large steps and on transparent huge pages.
//! glibc reads these settings from `GLIBC_TUNABLES` only when a program
//! starts, and `mallopt` has no huge-page setting, so [`tune`] starts the
//! binary once more with them set.

/// The settings: grow a heap by 64 MiB at a time instead of a few pages
/// (each step of a thread's arena is an `mprotect` that holds the
/// address-space lock the other threads' page faults wait for), keep
/// blocks up to 256 MiB in the heaps instead of single mappings and what
/// was freed instead of trimming it, and back the heaps with transparent
/// huge pages (one fault per 2 MiB instead of 512).
const TUNABLES: &str = "glibc.malloc.top_pad=67108864:\
glibc.malloc.mmap_threshold=268435456:\
glibc.malloc.trim_threshold=268435456:\
glibc.malloc.hugetlb=1";

/// The environment variable glibc reads them from.
const VAR: &str = "GLIBC_TUNABLES";

/// Call first in `main`, before any thread starts. Without `GLIBC_TUNABLES`
/// it executes this binary again (same arguments, same `argv[0]`) with
/// [`TUNABLES`] set, and returns only if that fails. In the process started
/// with them it removes the variable, so that commands covdata runs (git,
/// cargo, the programs under test) start with glibc's defaults. A
/// `GLIBC_TUNABLES` of the user's own is left alone.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    match std::env::var_os(VAR) {
        Some(v) if v == TUNABLES => std::env::remove_var(VAR),
        Some(_) => {}
        None => reexec(),
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn reexec() {
    use std::os::unix::process::CommandExt as _;
    let mut args = std::env::args_os();
    let Some(arg0) = args.next() else { return };
    // Returns only on failure (no /proc, exec refused); the run then goes
    // on with glibc's defaults.
    let _ = std::process::Command::new("/proc/self/exe")
        .arg0(arg0)
        .args(args)
        .env(VAR, TUNABLES)
        .exec();
}
