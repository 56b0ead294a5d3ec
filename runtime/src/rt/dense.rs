//! Continuous mode (`COVWRAP_CONTINUOUS=1`): the counters live in a dense
//! file in COVDIR, `covcounters.<H>.<pid>.<start ns>`, mapped `MAP_SHARED`,
//! so the kernel keeps every count up to the instant the process ends,
//! however it ends (SIGKILL, the OOM killer, a crash, exec).
//!
//! rustc's code is compiled with `-runtime-counter-relocation` (covwrap
//! always asks for it): every increment adds `__llvm_profile_counter_bias`
//! to the counter's address. Setting the bias to (mapped counters −
//! `__llvm_prf_cnts`) moves every counter into the file; then
//! [`super::state::Config::counters`] points at the mapping, so every
//! reader of the counters (exit and signal writes, snapshots, pools,
//! fork) follows.
//!
//! The process holds an exclusive `flock` on the file for as long as it
//! runs (the descriptor is close-on-exec, so exec releases it too): that is
//! how covdata tells a live run from a dead one. A normal end (exit or a
//! handled signal) renames the usual sparse file over the dense one, in one
//! step, so a run is never counted twice and disk use does not grow.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI32, AtomicU64, AtomicUsize, Ordering};

use super::emit::{PATH_CAP, START_NS};
use super::state::Config;
use super::sys;
use super::sys_map as m;
use super::text::{eprint_line, StackBuf};
use crate::format::defs::{MetaHash, COUNTERS_FILE_PREFIX, TEMP_FILE_PREFIX};
use crate::format::dense::{self, DenseHeader};
use crate::format::dirfiles::{lock_fd, LOCK_EX};

/// The dense file's descriptor (holding the lock); -1 when inactive.
static FD: AtomicI32 = AtomicI32::new(-1);
/// The mapping: start and length.
static BASE: AtomicUsize = AtomicUsize::new(0);
static LEN: AtomicUsize = AtomicUsize::new(0);
/// The time in the dense file's name (its start time).
static NAME_NS: AtomicU64 = AtomicU64::new(0);

/// `COVWRAP_CONTINUOUS` set to anything but empty or `0`.
pub fn requested() -> bool {
    std::env::var_os("COVWRAP_CONTINUOUS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Why the dense file could not be set up.
#[derive(Clone, Copy, Debug)]
pub struct Failure {
    step: &'static str,
    errno: i32,
}

/// A mapped, locked dense file.
struct Mapped {
    fd: i32,
    base: usize,
    len: usize,
    offset: usize,
}

/// Moves the counters into a new dense file in COVDIR. Runs in the
/// constructor, before `main` and before any other thread exists: counts
/// made before (by earlier constructors) are copied into the file, then the
/// bias is switched. Returns the counters to use from now on.
pub fn start(
    dir: &[u8],
    hash: &MetaHash,
    args: &[u8],
    original: &'static [std::sync::atomic::AtomicU64],
) -> Result<&'static [std::sync::atomic::AtomicU64], String> {
    let Some(bias) = super::llvm::counter_bias() else {
        return Err("warning: covwrap: COVWRAP_CONTINUOUS is set but this binary was built without counter relocation (rebuild it with this covwrap); counting in memory".into());
    };
    if original.is_empty() {
        return Ok(original);
    }
    let start_ns = START_NS.load(Ordering::Relaxed);
    let mapped = create(dir, hash, start_ns, args, original.len(), None).map_err(|f| {
        format!(
            "warning: covwrap: cannot set up the counter file for COVWRAP_CONTINUOUS in \"{}\" ({} failed: {}, errno {}); counting in memory",
            super::emit::path_display(dir),
            f.step,
            sys::errno_name(f.errno),
            f.errno
        )
    })?;
    let counters_addr = mapped.base + mapped.offset;
    // SAFETY: the mapping is `len` bytes, readable and writable, 8-aligned
    // (page-aligned offset), holds `original.len()` u64s from `offset`, and
    // stays mapped for the rest of the process (never unmapped; a fork
    // child replaces it in place at the same address).
    let counters: &'static [std::sync::atomic::AtomicU64] =
        unsafe { std::slice::from_raw_parts(counters_addr as *const _, original.len()) };
    // Only non-zero counts (few, this early): storing zeros would fault in
    // and dirty every page of the file.
    for (to, from) in counters.iter().zip(original) {
        let v = from.load(Ordering::Relaxed);
        if v != 0 {
            to.store(v, Ordering::Relaxed);
        }
    }
    let delta = (counters_addr as i64).wrapping_sub(original.as_ptr() as i64);
    bias.store(delta, Ordering::SeqCst);
    FD.store(mapped.fd, Ordering::Release);
    BASE.store(mapped.base, Ordering::Release);
    LEN.store(mapped.len, Ordering::Release);
    NAME_NS.store(start_ns, Ordering::Release);
    Ok(counters)
}

/// The time to put in the final file's name: the dense file's, so that the
/// final write's rename replaces it atomically. `None` when inactive.
pub fn final_name_ns() -> Option<u64> {
    (FD.load(Ordering::Acquire) >= 0).then(|| NAME_NS.load(Ordering::Acquire))
}

/// The dense file's name, for a pool's `absorbed` list (the pool now holds
/// its counts; [`discard`] removes it afterwards).
pub fn absorbed_name(config: &Config) -> Option<String> {
    final_name_ns().map(|ns| {
        crate::format::names::counters_file_name(
            &config.meta_hash,
            u64::from(std::process::id()),
            ns,
        )
    })
}

/// Removes the dense file after its counts went into a pool. The process
/// keeps counting into the (now nameless) mapping until it is gone.
pub fn discard(config: &Config) {
    let Some(ns) = final_name_ns() else { return };
    let mut path = StackBuf::<PATH_CAP>::new();
    // SAFETY: getpid has no preconditions.
    push_path(
        &mut path,
        &config.out_dir,
        &config.meta_hash,
        unsafe { sys::getpid() } as u64,
        ns,
    );
    if let Some(p) = path.c_path() {
        // SAFETY: a NUL-terminated path.
        unsafe { sys::unlink(p.as_ptr().cast()) };
    }
}

/// In a fork child: the mapping is shared with the parent, so the child
/// gets a fresh dense file of its own, mapped over the same address (the
/// bias stays valid), starting from zero. Returns false when continuous
/// mode is off (the caller zeroes the counters itself). Allocation-free.
pub fn after_fork_child(config: &Config) -> bool {
    let fd = FD.swap(-1, Ordering::AcqRel);
    if fd < 0 {
        return false;
    }
    // The parent's descriptor: closing this copy keeps the parent's lock.
    // SAFETY: our own descriptor, closed once.
    unsafe { sys::close(fd) };
    let base = BASE.load(Ordering::Acquire);
    let len = LEN.load(Ordering::Acquire);
    let start_ns = START_NS.load(Ordering::Relaxed);
    match create(
        &config.out_dir,
        &config.meta_hash,
        start_ns,
        &config.args,
        config.counters.len(),
        Some((base, len)),
    ) {
        Ok(mapped) => {
            FD.store(mapped.fd, Ordering::Release);
            NAME_NS.store(start_ns, Ordering::Release);
        }
        Err(f) => {
            // Never count into the parent's file: private zeroed memory
            // instead, written at exit as in the default mode.
            // SAFETY: replaces our own mapping of `len` bytes at `base`.
            unsafe {
                sys::mmap(
                    base as *mut _,
                    len,
                    sys::PROT_READ | sys::PROT_WRITE,
                    sys::MAP_PRIVATE | sys::MAP_ANONYMOUS | m::MAP_FIXED,
                    -1,
                    0,
                )
            };
            eprint_line(format_args!(
                "warning: covwrap: forked child cannot set up its counter file for COVWRAP_CONTINUOUS ({} failed: {}, errno {}); counting in memory",
                f.step,
                sys::errno_name(f.errno),
                f.errno
            ));
        }
    }
    true
}

/// Before exec (continuous mode): marks the file as ended by exec. Its
/// counts are already in the file; the lock goes with the close-on-exec
/// descriptor, so readers see a finished run.
pub fn mark_exec() {
    if FD.load(Ordering::Acquire) < 0 {
        return;
    }
    let state = BASE.load(Ordering::Acquire) + dense::STATE_OFFSET;
    // SAFETY: the state word lies in the first page of our live mapping,
    // 4-aligned.
    unsafe {
        (*(state as *const std::sync::atomic::AtomicU32))
            .store(dense::state::EXECED, Ordering::Release)
    };
}

/// After a failed exec: the process goes on, and so does its run.
pub fn unmark_exec() {
    if FD.load(Ordering::Acquire) < 0 {
        return;
    }
    let state = BASE.load(Ordering::Acquire) + dense::STATE_OFFSET;
    // SAFETY: as in `mark_exec`.
    unsafe {
        (*(state as *const std::sync::atomic::AtomicU32))
            .store(dense::state::RUNNING, Ordering::Release)
    };
}

/// `dir/covcounters.<H>.<pid>.<ns>`.
fn push_path<const N: usize>(
    out: &mut StackBuf<N>,
    dir: &[u8],
    hash: &MetaHash,
    pid: u64,
    ns: u64,
) {
    out.push(dir);
    out.push(b"/");
    push_name(out, hash, pid, ns);
}

fn push_name<const N: usize>(out: &mut StackBuf<N>, hash: &MetaHash, pid: u64, ns: u64) {
    let _ = write!(out, "{COUNTERS_FILE_PREFIX}");
    for b in hash {
        let _ = write!(out, "{b:02x}");
    }
    let _ = write!(out, ".{pid}.{ns}");
}

/// Creates a temporary file for the dense file `name` in `dir` under the
/// rules of every COVDIR file (docs/FORMAT.md, "Files in a shared
/// COVDIR"): `.covtmp.<name>.<pid>.<16 hex digits>`, hard to guess,
/// `O_EXCL|O_NOFOLLOW` (a planted file or symlink is never opened or
/// followed; a taken name is skipped for another), read-write for the
/// shared mapping. Returns the descriptor; `temp` holds the path.
fn create_temp(
    temp: &mut StackBuf<PATH_CAP>,
    dir: &[u8],
    name: &StackBuf<NAME_CAP>,
    pid: u64,
) -> Result<i32, Failure> {
    let mut attempts = 0;
    loop {
        temp.truncate(0);
        temp.push(dir);
        temp.push(b"/");
        temp.push(TEMP_FILE_PREFIX.as_bytes());
        temp.push(name.as_bytes());
        let _ = write!(temp, ".{pid}.{:016x}", sys::unpredictable_u64());
        let path = temp.c_path().ok_or(TOO_LONG)?;
        match sys::create_exclusive_with(path, m::O_RDWR) {
            Ok(fd) => return Ok(fd),
            Err(sys::EEXIST) if attempts < 16 => attempts += 1,
            Err(errno) => {
                return Err(Failure {
                    step: "create",
                    errno,
                })
            }
        }
    }
}

const TOO_LONG: Failure = Failure {
    step: "name",
    errno: 36,
};
const NAME_CAP: usize = 128;

/// Creates, locks, sizes and maps a zeroed dense file with its header, then
/// gives it its final name. `fixed` maps it over an existing mapping of
/// that size. No heap, async-signal-safe calls only.
fn create(
    dir: &[u8],
    hash: &MetaHash,
    start_ns: u64,
    args: &[u8],
    num_counters: usize,
    fixed: Option<(usize, usize)>,
) -> Result<Mapped, Failure> {
    let fail = |step| Failure {
        step,
        errno: sys::errno(),
    };
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { sys::getpid() } as u64;
    let mut name = StackBuf::<NAME_CAP>::new();
    push_name(&mut name, hash, pid, start_ns);
    let mut target = StackBuf::<PATH_CAP>::new();
    push_path(&mut target, dir, hash, pid, start_ns);
    let target = target.c_path().ok_or(TOO_LONG)?;
    let offset = dense::counters_offset(args.len(), m::page_size());
    let len = dense::file_len(offset, num_counters);
    if fixed.is_some_and(|(_, l)| l != len) {
        return Err(Failure {
            step: "layout",
            errno: 22,
        });
    }
    let mut temp_buf = StackBuf::<PATH_CAP>::new();
    let fd = create_temp(&mut temp_buf, dir, &name, pid)?;
    let temp = temp_buf.c_path().ok_or(TOO_LONG)?;
    let cleanup = |f: Failure| {
        // SAFETY: our descriptor and the temp path we created.
        unsafe {
            sys::close(fd);
            sys::unlink(temp.as_ptr().cast());
        }
        f
    };
    // A new file: nobody else holds its lock.
    if let Err(e) = lock_fd(fd, LOCK_EX) {
        return Err(cleanup(Failure {
            step: "lock",
            errno: e.raw_os_error().unwrap_or(0),
        }));
    }
    // Blocks are reserved now: a full disk must fail here with a message,
    // not as SIGBUS at some counter increment later.
    // SAFETY: a valid descriptor.
    if unsafe { m::fallocate(fd, 0, 0, len as i64) } != 0 {
        let e = sys::errno();
        if e != m::EOPNOTSUPP && e != sys::ENOSYS {
            return Err(cleanup(fail("reserve space")));
        }
        if let Err(errno) = write_zeros(fd, len) {
            return Err(cleanup(Failure {
                step: "reserve space",
                errno,
            }));
        }
    }
    let (addr, flags) = match fixed {
        Some((base, _)) => (base as *mut std::ffi::c_void, m::MAP_SHARED | m::MAP_FIXED),
        None => (std::ptr::null_mut(), m::MAP_SHARED),
    };
    // SAFETY: maps `len` bytes of our file; with MAP_FIXED it replaces our
    // own mapping of exactly that size at that address.
    let base = unsafe { sys::mmap(addr, len, sys::PROT_READ | sys::PROT_WRITE, flags, fd, 0) };
    if base == sys::MAP_FAILED {
        return Err(cleanup(fail("map")));
    }
    let header = DenseHeader {
        state: dense::state::RUNNING,
        meta_hash: *hash,
        pid,
        start_ns,
        num_counters: num_counters as u32,
        counters_offset: offset as u64,
    };
    // SAFETY: the first `offset` bytes of the fresh mapping are ours and
    // hold the header and args (`offset >= 64 + args.len()`).
    let head = unsafe { std::slice::from_raw_parts_mut(base as *mut u8, offset) };
    dense::write_header(head, &header, args);
    // A file or symlink already at this run's name was planted: refused
    // (EEXIST), never replaced or followed, as for every run's file.
    if let Err(errno) = sys::rename_noreplace(temp, target) {
        if fixed.is_none() {
            // SAFETY: the mapping made above, not yet shared with anyone.
            unsafe { m::munmap(base as *mut std::ffi::c_void, len) };
        }
        return Err(cleanup(Failure {
            step: "rename",
            errno,
        }));
    }
    Ok(Mapped {
        fd,
        base,
        len,
        offset,
    })
}

/// Fills a file with `len` zero bytes where `fallocate` is not supported.
fn write_zeros(fd: i32, mut len: usize) -> Result<(), i32> {
    static ZEROS: [u8; 4096] = [0; 4096];
    while len > 0 {
        let n = len.min(ZEROS.len());
        sys::write_all(fd, &ZEROS[..n])?;
        len -= n;
    }
    Ok(())
}
