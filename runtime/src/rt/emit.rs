//! The one writer of counter files, shared by the exit path, the signal
//! handlers and in-process snapshots. It neither allocates nor takes locks,
//! so it is safe in a signal handler that interrupted `malloc`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};

use super::state::{Config, CONFIG};
use super::sys;
use super::text::{eprint_line, StackBuf};
use crate::format::counters::{CountersHeader, CountersWriter, Sink};
use crate::format::defs::{COUNTERS_FILE_PREFIX, TEMP_FILE_PREFIX};

/// Room for COVDIR plus a file name; longer directories are refused at
/// startup rather than truncated here.
pub const PATH_CAP: usize = 4096;
const NAME_CAP: usize = 128;

/// What the final (exit or fatal-signal) write has done so far: `IDLE`,
/// `DONE`, or, while it is being written, the `pthread_self` of the writing
/// thread. Claim and owner are one value, set by one compare-and-swap, so a
/// signal landing on the writer right after the claim already sees itself
/// as the owner (a `pthread_t` is a non-null, aligned pointer: never 1).
static FINAL_STATE: AtomicUsize = AtomicUsize::new(IDLE);
const IDLE: usize = 0;
const DONE: usize = 1;
/// A fatal signal that arrived on the writing thread itself; re-raised when
/// the write is done.
static DEFERRED_SIGNAL: AtomicU32 = AtomicU32::new(0);

/// When this process started, or forked from its parent.
pub static START_NS: AtomicU64 = AtomicU64::new(0);

/// How a final write attempt went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Final {
    /// This call wrote the file (or failed and said so on stderr).
    Written,
    /// Another thread wrote it, or it was already written.
    AlreadyDone,
    /// This thread is in the middle of writing it (a signal interrupted the
    /// writer); the signal has been recorded for re-raising afterwards.
    Deferred,
}

/// Where a final write comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    /// The exit hook: a normal context, which may allocate (and merge into
    /// a pool).
    Exit,
    /// A signal handler: allocation-free writing only.
    Signal,
}

/// Writes this process's counter file once, whichever of exit or a fatal
/// signal gets here first. `end` is [`crate::format::defs::end_reason`].
pub fn write_final(end: u32, path: Path) -> Final {
    // SAFETY: pthread_self has no preconditions and is async-signal-safe.
    let me = unsafe { sys::pthread_self() };
    match FINAL_STATE.compare_exchange(IDLE, me, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => {
            if let Some(config) = CONFIG.get() {
                let pooled = config.merge && path == Path::Exit && {
                    match super::pool::merge_into_pool(config) {
                        Ok(()) => true,
                        Err(why) => {
                            eprint_line(format_args!(
                                "warning: covwrap: {why}; writing a separate counter file"
                            ));
                            false
                        }
                    }
                };
                if pooled {
                    super::dense::discard(config);
                } else {
                    // Continuous mode: the dense file's name, so the rename
                    // replaces it in one step (rt::dense).
                    let name_ns = super::dense::final_name_ns();
                    if let Err(e) = write_counters_named(config, end, false, name_ns) {
                        e.report(config);
                    }
                }
            }
            // COVDIR first, then the center (COVWRAP_CENTER), bounded.
            super::agent::send_final(end);
            FINAL_STATE.store(DONE, Ordering::Release);
            Final::Written
        }
        Err(owner) if owner == me => {
            DEFERRED_SIGNAL.store(end, Ordering::Release);
            Final::Deferred
        }
        Err(_) => {
            // Another thread is writing: let it finish before this thread
            // lets the process die, or the file would be lost. Bounded, in
            // case that thread is stuck.
            for _ in 0..2000 {
                if FINAL_STATE.load(Ordering::Acquire) == DONE {
                    break;
                }
                sys::sleep_ms(1);
            }
            Final::AlreadyDone
        }
    }
}

/// A fatal signal that interrupted the final write on its own thread.
pub fn take_deferred_signal() -> Option<i32> {
    match DEFERRED_SIGNAL.swap(0, Ordering::AcqRel) {
        0 => None,
        sig => Some(sig as i32),
    }
}

/// After `fork`, the child starts with no final write done.
pub fn reset_after_fork() {
    FINAL_STATE.store(IDLE, Ordering::Release);
    DEFERRED_SIGNAL.store(0, Ordering::Release);
    START_NS.store(sys::realtime_ns(), Ordering::Relaxed);
}

/// Why a counter file could not be written.
#[derive(Clone, Copy, Debug)]
pub struct EmitError {
    step: &'static str,
    errno: i32,
}

impl EmitError {
    /// One line on stderr, without allocating.
    pub fn report(&self, config: &Config) {
        eprint_line(format_args!(
            "error: covwrap: cannot {} coverage counters in \"{}\" ({}, errno {}); no coverage data written",
            self.step,
            path_display(&config.out_dir),
            sys::errno_name(self.errno),
            self.errno
        ));
    }
}

/// Path bytes for a message, without allocating.
pub fn path_display(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or("<non-UTF-8 path>")
}

struct FdSink(i32);

impl Sink for FdSink {
    type Error = i32;
    fn write_all(&mut self, data: &[u8]) -> Result<(), i32> {
        sys::write_all(self.0, data)
    }
}

/// Writes a counter file for the current counters into COVDIR, through a
/// temporary file and a rename. With `reset`, each counter is swapped with
/// zero as it is read, so no increment is lost or counted twice between
/// successive snapshots.
pub fn write_counters(config: &Config, end: u32, reset: bool) -> Result<(), EmitError> {
    write_counters_named(config, end, reset, None)
}

/// [`write_counters`], named with `name_ns` instead of the write time:
/// the name of this run's dense file (continuous mode), which the new
/// file replaces.
pub fn write_counters_named(
    config: &Config,
    end: u32,
    reset: bool,
    name_ns: Option<u64>,
) -> Result<(), EmitError> {
    let counters = config.counters;
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { sys::getpid() } as u64;
    let now = sys::realtime_ns();
    let mut name = StackBuf::<NAME_CAP>::new();
    let _ = write!(name, "{COUNTERS_FILE_PREFIX}");
    for b in config.meta_hash {
        let _ = write!(name, "{b:02x}");
    }
    let _ = write!(name, ".{pid}.{}", name_ns.unwrap_or(now));
    let mut final_path = StackBuf::<PATH_CAP>::new();
    final_path.push(&config.out_dir);
    final_path.push(b"/");
    final_path.push(name.as_bytes());
    let too_long = EmitError {
        step: "name",
        errno: 36,
    };
    // A name nobody can plant in advance (docs/FORMAT.md, shared COVDIRs);
    // one that is taken anyway is skipped for another.
    let mut temp_path = StackBuf::<PATH_CAP>::new();
    let mut attempts = 0;
    let fd = loop {
        temp_path.truncate(0);
        temp_path.push(&config.out_dir);
        temp_path.push(b"/");
        temp_path.push(TEMP_FILE_PREFIX.as_bytes());
        temp_path.push(name.as_bytes());
        let _ = write!(temp_path, ".{pid}.{:016x}", sys::unpredictable_u64());
        let temp = temp_path.c_path().ok_or(too_long)?;
        match sys::create_exclusive(temp) {
            Ok(fd) => break fd,
            Err(sys::EEXIST) if attempts < 16 => attempts += 1,
            Err(errno) => {
                return Err(EmitError {
                    step: "create",
                    errno,
                })
            }
        }
    };
    let temp = temp_path.c_path().ok_or(too_long)?;
    let header = CountersHeader {
        flags: 0,
        meta_hash: config.meta_hash,
        pid,
        start_ns: START_NS.load(Ordering::Relaxed),
        write_ns: now,
        num_counters: counters.len() as u32,
        end,
        runs: 1,
    };
    let result = (|| {
        let mut w = CountersWriter::begin(FdSink(fd), &header, &config.args)?;
        for_each_nonzero(counters, reset, |i, v| w.counter(i, v))?;
        w.finish().map(|_| ())
    })();
    // SAFETY: `fd` is ours and closed exactly once.
    let closed = unsafe { sys::close(fd) };
    let renamed = match (result, closed) {
        (Err(errno), _) => Err(EmitError {
            step: "write",
            errno,
        }),
        (Ok(()), c) if c != 0 => Err(EmitError {
            step: "write",
            errno: sys::errno(),
        }),
        (Ok(()), _) => {
            let target = final_path.c_path().ok_or(too_long)?;
            // A file or symlink already at this run's own name was planted:
            // refused (EEXIST), never replaced or followed. In continuous
            // mode the name is this run's own dense file, which this
            // process created exclusively (rt::dense) and now replaces in
            // one step; rename never follows a symlink at its target.
            let renamed = if name_ns.is_some() {
                // SAFETY: both paths are NUL-terminated.
                match unsafe { sys::rename(temp.as_ptr().cast(), target.as_ptr().cast()) } {
                    0 => Ok(()),
                    _ => Err(sys::errno()),
                }
            } else {
                sys::rename_noreplace(temp, target)
            };
            match renamed {
                Ok(()) => return Ok(()),
                Err(errno) => Err(EmitError {
                    step: "rename",
                    errno,
                }),
            }
        }
    };
    // SAFETY: NUL-terminated path of the file this call created.
    unsafe { sys::unlink(temp.as_ptr().cast()) };
    renamed
}

/// Calls `f(index, value)` for every non-zero counter, in index order; with
/// `reset`, each of those is swapped with zero as it is read. Most counters
/// of a run are zero, so they are tested eight at a time; a counter that
/// becomes non-zero after its group was tested is simply left for the next
/// reader, never lost.
pub fn for_each_nonzero<E>(
    counters: &[AtomicU64],
    reset: bool,
    mut f: impl FnMut(u32, u64) -> Result<(), E>,
) -> Result<(), E> {
    for (g, group) in counters.chunks(8).enumerate() {
        if group
            .iter()
            .fold(0, |any, c| any | c.load(Ordering::Relaxed))
            == 0
        {
            continue;
        }
        for (j, c) in group.iter().enumerate() {
            let v = if reset {
                c.swap(0, Ordering::Relaxed)
            } else {
                c.load(Ordering::Relaxed)
            };
            if v != 0 {
                f((g * 8 + j) as u32, v)?;
            }
        }
    }
    Ok(())
}
