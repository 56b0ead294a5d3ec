//! Fatal-signal handling: on SIGINT, SIGTERM, SIGHUP and SIGABRT (which
//! `panic = "abort"` and Rust's stack-overflow handler raise), write the
//! counters, then die of the same signal so the parent sees exactly the
//! wait status it would have seen.
//!
//! The writer needs about 26 KiB of stack (measured by painting the
//! handler stack: two path buffers, the encoder's buffer, formatting). A signal can land where little is left: on the small
//! alternate stack Rust's std gives each thread for its stack-overflow
//! handler (which raises SIGABRT from there), or at the end of a nearly
//! full thread stack. So the handler moves to a stack of its own
//! ([`HANDLER_STACK_SIZE`], with a guard page) before writing, on every
//! thread, whatever alternate stack that thread has. SIGSEGV and SIGBUS are
//! not handled (docs/ARCHITECTURE.md): memory is not trustworthy then, and
//! std's handler must keep turning a stack overflow into its SIGABRT.

use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::emit::{write_final, Final, Path};
use super::sys;

const FATAL: [c_int; 4] = [sys::SIGINT, sys::SIGTERM, sys::SIGHUP, sys::SIGABRT];

/// The handler's own stack: ten times what the writer uses (pages are
/// only committed when touched).
pub const HANDLER_STACK_SIZE: usize = 256 * 1024;
const GUARD: usize = 4096;

/// 16-aligned top of the handler stack; 0 when there is none (allocation
/// failed, or an architecture without [`run_on_stack`]).
static STACK_TOP: AtomicUsize = AtomicUsize::new(0);
/// One thread at a time runs on it; another signal at the same time runs
/// where it landed (it only waits for the first one's write).
static STACK_BUSY: AtomicBool = AtomicBool::new(false);

/// Installs the handler for each signal still at its default disposition,
/// asked first without changing anything: a signal the parent left ignored
/// (nohup's SIGHUP) stays ignored throughout, and a handler someone
/// installed earlier stays in place; a handler the program installs later
/// replaces ours, and its own shutdown then reaches the exit path.
pub fn install() {
    allocate_stack();
    for sig in FATAL {
        if sys::current_handler(sig) != sys::SIG_DFL {
            continue;
        }
        // SAFETY: `on_signal` is an `extern "C" fn(c_int)`, a valid handler.
        unsafe { sys::signal(sig, on_signal as extern "C" fn(c_int) as usize) };
    }
}

/// Maps the handler stack with a guard page below it (an overrun faults
/// instead of corrupting memory).
fn allocate_stack() {
    if !cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
        return;
    }
    let len = HANDLER_STACK_SIZE + GUARD;
    // SAFETY: an anonymous private mapping at an address of the kernel's
    // choosing; no existing memory is affected.
    let base = unsafe {
        sys::mmap(
            std::ptr::null_mut(),
            len,
            sys::PROT_READ | sys::PROT_WRITE,
            sys::MAP_PRIVATE | sys::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if base == sys::MAP_FAILED || base == 0 {
        return;
    }
    // SAFETY: the lowest page of the mapping just created.
    if unsafe { sys::mprotect(base as *mut c_void, GUARD, sys::PROT_NONE) } != 0 {
        return;
    }
    STACK_TOP.store((base + len) & !15, Ordering::Release);
}

/// After `fork`, only the forking thread exists: nobody is on the stack.
pub fn reset_after_fork() {
    STACK_BUSY.store(false, Ordering::Release);
}

extern "C" fn on_signal(sig: c_int) {
    let top = STACK_TOP.load(Ordering::Acquire);
    if top != 0 && !STACK_BUSY.swap(true, Ordering::AcqRel) {
        // SAFETY: `top` is the 16-aligned top of a live mapping of
        // HANDLER_STACK_SIZE bytes that only this thread uses now (the
        // busy flag), and `handle` is a C-ABI function taking one int.
        unsafe { run_on_stack(top, handle, sig) };
        STACK_BUSY.store(false, Ordering::Release);
    } else {
        handle(sig);
    }
}

extern "C" fn handle(sig: c_int) {
    if write_final(sig as u32, Path::Signal) == Final::Deferred {
        // This thread was itself writing; it re-raises the signal when done.
        return;
    }
    die(sig);
}

/// Calls `f(arg)` with the stack pointer at `top`, then switches back.
///
/// # Safety
/// `top` must be the 16-aligned top of writable memory large enough for
/// `f`, used by nothing else during the call.
#[cfg(target_arch = "x86_64")]
unsafe fn run_on_stack(top: usize, f: extern "C" fn(c_int), arg: c_int) {
    // SAFETY: the caller's contract; r12 (callee-saved, so `f` keeps it)
    // holds the old stack pointer across the call.
    unsafe {
        std::arch::asm!(
            "mov r12, rsp",
            "mov rsp, {top}",
            "call {f}",
            "mov rsp, r12",
            top = in(reg) top,
            f = in(reg) f,
            in("edi") arg,
            out("r12") _,
            clobber_abi("C"),
        );
    }
}

/// See the x86_64 version.
///
/// # Safety
/// As there.
#[cfg(target_arch = "aarch64")]
unsafe fn run_on_stack(top: usize, f: extern "C" fn(c_int), arg: c_int) {
    // SAFETY: the caller's contract; x20 (callee-saved) holds the old stack
    // pointer across the call.
    unsafe {
        std::arch::asm!(
            "mov x20, sp",
            "mov sp, {top}",
            "blr {f}",
            "mov sp, x20",
            top = in(reg) top,
            f = in(reg) f,
            in("w0") arg,
            out("x20") _,
            clobber_abi("C"),
        );
    }
}

/// Without a stack switch for this architecture the handler runs where the
/// signal landed (`STACK_TOP` stays 0, so this is never called).
///
/// # Safety
/// None needed.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
unsafe fn run_on_stack(_top: usize, f: extern "C" fn(c_int), arg: c_int) {
    f(arg)
}

/// Restores the default action and raises `sig`. Inside the handler the
/// signal is blocked, so it is delivered (fatally) when the handler returns.
pub fn die(sig: c_int) {
    // SAFETY: plain libc calls with valid arguments.
    unsafe {
        sys::signal(sig, sys::SIG_DFL);
        sys::raise(sig);
    }
}
