//! Fatal-signal handling: on SIGINT, SIGTERM, SIGHUP and SIGABRT (which
//! `panic = "abort"` raises), write the counters, then die of the same
//! signal so the parent sees exactly the wait status it would have seen.

use std::ffi::c_int;

use super::emit::{write_final, Final, Path};
use super::sys;

const FATAL: [c_int; 4] = [sys::SIGINT, sys::SIGTERM, sys::SIGHUP, sys::SIGABRT];

/// Installs the handler for each signal still at its default disposition.
/// A signal the parent left ignored (nohup's SIGHUP) stays ignored, and a
/// handler someone installed earlier stays in place; a handler the program
/// installs later replaces ours, and its own shutdown then reaches the exit
/// path.
pub fn install() {
    for sig in FATAL {
        // SAFETY: `on_signal` is an `extern "C" fn(c_int)`, a valid handler.
        let previous = unsafe { sys::signal(sig, on_signal as extern "C" fn(c_int) as usize) };
        if previous != sys::SIG_DFL && previous != sys::SIG_ERR {
            // SAFETY: restores exactly what was there.
            unsafe { sys::signal(sig, previous) };
        }
    }
}

extern "C" fn on_signal(sig: c_int) {
    if write_final(sig as u32, Path::Signal) == Final::Deferred {
        // This thread was itself writing; it re-raises the signal when done.
        return;
    }
    die(sig);
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
