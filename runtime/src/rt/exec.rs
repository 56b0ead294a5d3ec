//! exec() replaces the process image without running exit handlers, so
//! counts up to an exec would vanish. Linux has no hook for it, so the
//! runtime defines the exec functions programs call (`execve`, `execv`,
//! `execvp`, `execvpe`, `fexecve`; std's `Command::exec` and its fork
//! path use `execvp`): definitions in the executable take precedence over
//! libc's for the executable's own calls. Each one saves the counts, then
//! calls libc's function, found once at startup with `dlsym(RTLD_NEXT)`
//! (a post-fork child must not call the dynamic loader).
//!
//! - Default mode: the counts so far go into a counter file marked
//!   [`end_reason::EXEC`], and the counters restart from zero, so if the
//!   exec fails the process's exit file adds the rest: nothing is counted
//!   twice. A run with no counts (a fork child about to exec) writes none.
//! - Continuous mode: the counts are in the dense file already; it is
//!   marked exec'd (its lock goes with the close-on-exec descriptor). A
//!   fork child's file with no counts is removed instead.
//!
//! Not covered: the variadic `execl*` functions (Rust cannot define them),
//! raw `syscall(SYS_execve)`, libc-internal callers (`system`, `popen`,
//! `posix_spawn`, which do not replace the calling image anyway), and
//! static glibc or musl builds, where there is no `RTLD_NEXT`: there,
//! continuous mode keeps exec'd counts.

use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::dense;
use super::emit::{for_each_nonzero, write_counters};
use super::state::CONFIG;
use crate::format::defs::end_reason;

extern "C" {
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
}
const RTLD_NEXT: *mut c_void = -1isize as *mut c_void;

static REAL_EXECVE: AtomicUsize = AtomicUsize::new(0);
static REAL_EXECV: AtomicUsize = AtomicUsize::new(0);
static REAL_EXECVP: AtomicUsize = AtomicUsize::new(0);
static REAL_EXECVPE: AtomicUsize = AtomicUsize::new(0);
static REAL_FEXECVE: AtomicUsize = AtomicUsize::new(0);

type Argv = *const *const c_char;

/// Finds libc's exec functions. Called from the constructor, in every
/// process (the wrappers must forward even when coverage is off).
pub fn resolve() {
    for (slot, name) in [
        (&REAL_EXECVE, c"execve"),
        (&REAL_EXECV, c"execv"),
        (&REAL_EXECVP, c"execvp"),
        (&REAL_EXECVPE, c"execvpe"),
        (&REAL_FEXECVE, c"fexecve"),
    ] {
        // SAFETY: a NUL-terminated name; RTLD_NEXT is valid in an object
        // loaded by the dynamic linker.
        let f = unsafe { dlsym(RTLD_NEXT, name.as_ptr()) };
        slot.store(f as usize, Ordering::Release);
    }
}

/// libc's function in `slot`, resolving it now if the constructor has not
/// run yet (an exec from an earlier constructor).
fn real(slot: &AtomicUsize) -> usize {
    let f = slot.load(Ordering::Acquire);
    if f != 0 {
        return f;
    }
    resolve();
    slot.load(Ordering::Acquire)
}

/// What [`before_exec`] did, for undoing it if exec fails.
struct Saved {
    marked: bool,
}

fn before_exec() -> Saved {
    let Some(config) = CONFIG.get() else {
        return Saved { marked: false };
    };
    let any = for_each_nonzero(config.counters, false, |_, _| Err(())).is_err();
    if dense::final_name_ns().is_some() {
        if !any {
            dense::discard(config);
            return Saved { marked: false };
        }
        dense::mark_exec();
        return Saved { marked: true };
    }
    if any {
        if let Err(e) = write_counters(config, end_reason::EXEC, true) {
            e.report(config);
        }
    }
    Saved { marked: false }
}

fn after_failed_exec(saved: Saved) {
    if saved.marked {
        dense::unmark_exec();
    }
}

/// ENOSYS when libc's function cannot be found.
fn missing() -> c_int {
    // SAFETY: errno is thread-local and writable.
    unsafe { *__errno_location() = 38 };
    -1
}

extern "C" {
    fn __errno_location() -> *mut c_int;
}

macro_rules! forward {
    ($slot:expr, $ty:ty, ($($arg:expr),*)) => {{
        let f = real($slot);
        if f == 0 {
            return missing();
        }
        let saved = before_exec();
        // SAFETY: `f` is libc's function of exactly this signature, found
        // by name; the arguments are the caller's, passed through.
        let rc = unsafe { std::mem::transmute::<usize, $ty>(f)($($arg),*) };
        after_failed_exec(saved);
        rc
    }};
}

/// `execve(2)`, after saving this image's counts.
///
/// # Safety
/// As libc's `execve`.
#[no_mangle]
pub unsafe extern "C" fn execve(path: *const c_char, argv: Argv, envp: Argv) -> c_int {
    forward!(
        &REAL_EXECVE,
        unsafe extern "C" fn(*const c_char, Argv, Argv) -> c_int,
        (path, argv, envp)
    )
}

/// `execv(3)`, after saving this image's counts.
///
/// # Safety
/// As libc's `execv`.
#[no_mangle]
pub unsafe extern "C" fn execv(path: *const c_char, argv: Argv) -> c_int {
    forward!(
        &REAL_EXECV,
        unsafe extern "C" fn(*const c_char, Argv) -> c_int,
        (path, argv)
    )
}

/// `execvp(3)`, after saving this image's counts.
///
/// # Safety
/// As libc's `execvp`.
#[no_mangle]
pub unsafe extern "C" fn execvp(file: *const c_char, argv: Argv) -> c_int {
    forward!(
        &REAL_EXECVP,
        unsafe extern "C" fn(*const c_char, Argv) -> c_int,
        (file, argv)
    )
}

/// `execvpe(3)`, after saving this image's counts.
///
/// # Safety
/// As libc's `execvpe`.
#[no_mangle]
pub unsafe extern "C" fn execvpe(file: *const c_char, argv: Argv, envp: Argv) -> c_int {
    forward!(
        &REAL_EXECVPE,
        unsafe extern "C" fn(*const c_char, Argv, Argv) -> c_int,
        (file, argv, envp)
    )
}

/// `fexecve(3)`, after saving this image's counts.
///
/// # Safety
/// As libc's `fexecve`.
#[no_mangle]
pub unsafe extern "C" fn fexecve(fd: c_int, argv: Argv, envp: Argv) -> c_int {
    forward!(
        &REAL_FEXECVE,
        unsafe extern "C" fn(c_int, Argv, Argv) -> c_int,
        (fd, argv, envp)
    )
}
