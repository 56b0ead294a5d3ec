//! Startup: runs as an ELF constructor, before `main`, in every process whose
//! binary contains instrumented code. All the expensive or allocating work
//! happens here (deciding, checking COVDIR, writing the meta file, encoding
//! the args), so the exit and signal paths only have to stream counters.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use super::emit::{self, write_final, Path as WritePath, PATH_CAP, START_NS};
use super::state::{Config, CONFIG};
use super::{agent, dense, llvm, signals, sys};
use crate::format::defs::{arg_keys, end_reason::EXIT, slot, MetaHash};
use crate::format::dirfiles::{refuse_symlink, write_new_file};
use crate::format::elf::FileReader;
use crate::format::from_elf::{build_meta, SlotInfo};
use crate::format::kv;
use crate::format::names::meta_file_name;
use crate::format::ErrorKind;

/// Runs before `main`. Priority 101 puts it after std's own argument setup
/// (priority 99 on glibc) and before default-priority constructors such as
/// LLVM's profile runtime initializer.
#[used]
#[unsafe(link_section = ".init_array.00101")]
static INIT: extern "C" fn() = init;

/// The slot covwrap fills with H after linking (see docs/FORMAT.md).
#[used]
#[unsafe(link_section = ".covwrap_meta_id")]
static SLOT: [u8; slot::LEN] = {
    let mut s = [0u8; slot::LEN];
    let mut i = 0;
    while i < 16 {
        s[i] = slot::UNSET[i];
        i += 1;
    }
    s
};

extern "C" fn init() {
    // The exec wrappers forward to libc in every process (rt::exec).
    #[cfg(all(target_env = "gnu", not(target_feature = "crt-static")))]
    super::exec::resolve();
    // Always, even when we write nothing: rustc's profile runtime would
    // otherwise leave default_*.profraw files in the working directory.
    llvm::silence_default_writer();
    if is_build_time_process() {
        return;
    }
    START_NS.store(sys::realtime_ns(), Ordering::Relaxed);
    // A constructor must not unwind; a bug here must not kill the program.
    let outcome = std::panic::catch_unwind(setup);
    match outcome {
        Ok(Ok(Some(config))) => {
            if CONFIG.set(config).is_ok() {
                install_hooks();
            }
        }
        Ok(Ok(None)) => {}
        Ok(Err(message)) => eprintln_quietly(&message),
        Err(_) => {
            eprintln_quietly("error: covwrap: internal error at startup; no coverage data written")
        }
    }
    // COVWRAP_CENTER: after COVDIR, whose meta file the agent can reuse.
    if agent::start() && CONFIG.get().is_none() {
        install_hooks();
    }
}

/// Build scripts and proc-macros run during the build; they must never write
/// coverage files. covwrap marks every rustc it runs (proc-macros run inside
/// rustc), and cargo gives every build script `CARGO_CFG_*`, `OUT_DIR` and
/// `HOST`, which it gives no other program.
fn is_build_time_process() -> bool {
    let set = |name: &str| std::env::var_os(name).is_some();
    set("COVWRAP_IN_RUSTC") || (set("CARGO_CFG_TARGET_ARCH") && set("OUT_DIR") && set("HOST"))
}

fn setup() -> Result<Option<Config>, String> {
    let dir = match std::env::var_os("COVDIR") {
        Some(d) if !d.is_empty() => d,
        _ => {
            if std::env::var_os("COVWRAP_QUIET").is_none_or(|v| v.is_empty())
                && !agent::configured()
            {
                return Err("warning: COVDIR not set, no coverage data emitted".into());
            }
            return Ok(None);
        }
    };
    let version = llvm::raw_version();
    if version != llvm::SUPPORTED_RAW_VERSION {
        return Err(format!(
            "error: covwrap: LLVM raw profile version {version} is not supported (expected {}); no coverage data written",
            llvm::SUPPORTED_RAW_VERSION
        ));
    }
    let dir = absolute(Path::new(&dir));
    check_dir(&dir)?;
    let counters = llvm::counters();
    let Some(meta_hash) = ensure_meta(&dir, counters.len())? else {
        return Ok(None);
    };
    // COVWRAP_MERGE=1: fold normal exits into the pod's pool (rt::pool).
    let merge = std::env::var_os("COVWRAP_MERGE").is_some_and(|v| !v.is_empty() && v != "0");
    let out_dir = dir.into_os_string().into_vec();
    let args = encode_args();
    // COVWRAP_CONTINUOUS=1: the counters move into a mapped file (rt::dense).
    let counters = if dense::requested() {
        dense::start(&out_dir, &meta_hash, &args, counters).unwrap_or_else(|message| {
            eprintln_quietly(&message);
            counters
        })
    } else {
        counters
    };
    Ok(Some(Config {
        out_dir,
        meta_hash,
        args,
        counters,
        merge,
    }))
}

fn absolute(dir: &Path) -> PathBuf {
    if dir.is_absolute() {
        return dir.to_path_buf();
    }
    match std::env::current_dir() {
        Ok(cwd) => cwd.join(dir),
        Err(_) => dir.to_path_buf(),
    }
}

fn check_dir(dir: &Path) -> Result<(), String> {
    let fail = |why: String| {
        Err(format!(
            "error: covwrap: COVDIR \"{}\" is not a writable directory ({why}); no coverage data written",
            dir.display()
        ))
    };
    if dir.as_os_str().len() > PATH_CAP - 200 {
        return fail("path too long".into());
    }
    match fs::metadata(dir) {
        // One level, private to this user: a directory another user could
        // write into must be created deliberately (README).
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            use std::os::unix::fs::DirBuilderExt;
            let created = fs::DirBuilder::new().mode(0o700).create(dir);
            if let Err(e) = created {
                if e.kind() != std::io::ErrorKind::AlreadyExists {
                    let why = e
                        .raw_os_error()
                        .map_or_else(|| e.to_string(), |n| sys::errno_name(n).to_string());
                    return fail(format!(
                        "cannot create it: {why}; create it first, e.g. with `mkdir -p`"
                    ));
                }
            }
        }
        Err(e) => {
            return fail(
                e.raw_os_error()
                    .map_or_else(|| e.to_string(), |n| sys::errno_name(n).to_string()),
            )
        }
        Ok(m) if !m.is_dir() => return fail("not a directory".into()),
        Ok(_) => {}
    }
    let mut c_path = dir.as_os_str().as_bytes().to_vec();
    c_path.push(0);
    // SAFETY: NUL-terminated path.
    if unsafe { sys::access(c_path.as_ptr().cast(), sys::W_OK | sys::X_OK) } != 0 {
        return fail(sys::errno_name(sys::errno()).into());
    }
    Ok(())
}

/// The cargo target covwrap recorded in the slot (`target-*` pairs; empty
/// when the slot is unfilled: a binary covwrap did not link).
pub(super) fn slot_target() -> Vec<(String, String)> {
    // SAFETY: as in `ensure_meta`: a plain static, read volatile because
    // covwrap patches the file after linking.
    let bytes: [u8; slot::LEN] = unsafe { std::ptr::read_volatile(&SLOT) };
    SlotInfo::decode(&bytes)
        .ok()
        .flatten()
        .map(|s| s.target)
        .unwrap_or_default()
}

/// Makes sure `covmeta.<H>` exists in `dir` and returns H. With the slot
/// filled by covwrap this is one `stat`; otherwise (or when the file is
/// missing) the meta is built from this very executable.
fn ensure_meta(dir: &Path, num_counters: usize) -> Result<Option<MetaHash>, String> {
    if let Some(hash) = slot_hash() {
        if meta_present(dir, &meta_file_name(&hash))? {
            return Ok(Some(hash));
        }
    }
    let Some((bytes, hash)) = meta_from_exe(num_counters)? else {
        return Ok(None);
    };
    let name = meta_file_name(&hash);
    if !meta_present(dir, &name)? {
        write_new_file(dir, &name, &bytes, false).map_err(|e| {
            format!(
                "error: covwrap: cannot write {} in COVDIR \"{}\" ({e}); no coverage data written",
                name,
                dir.display()
            )
        })?;
    }
    Ok(Some(hash))
}

/// H as covwrap wrote it into the binary after linking, if it did.
pub(super) fn slot_hash() -> Option<MetaHash> {
    // SAFETY: SLOT is a plain static; a volatile read stops the compiler from
    // folding in the value it was compiled with, since covwrap patches the
    // file after linking.
    let slot_bytes: [u8; slot::LEN] = unsafe { std::ptr::read_volatile(&SLOT) };
    if slot_bytes[..16] != slot::SET {
        return None;
    }
    let mut hash = [0u8; 16];
    hash.copy_from_slice(&slot_bytes[16..32]);
    Some(hash)
}

/// The encoded meta file of this very executable and its H; `None` when
/// the binary holds no instrumented code.
pub(super) fn meta_from_exe(num_counters: usize) -> Result<Option<(Vec<u8>, MetaHash)>, String> {
    let fail = |why: String| {
        format!("error: covwrap: cannot describe this binary for coverage ({why}); no coverage data written")
    };
    let exe = fs::File::open("/proc/self/exe").map_err(|e| fail(format!("/proc/self/exe: {e}")))?;
    // A binary covwrap did not link (rustdoc's doctests) has no build time
    // in its slot: its file's modification time is when it was linked.
    let modified = exe.metadata().and_then(|m| m.modified()).ok();
    let reader = FileReader::new(exe).map_err(|e| fail(e.to_string()))?;
    let mut meta = match build_meta(&reader) {
        Ok(m) => m,
        // The runtime came along with an instrumented library whose code
        // this binary does not contain: nothing to report, nothing to say.
        Err(e) if *e.kind() == ErrorKind::NotInstrumented => return Ok(None),
        Err(e) => return Err(fail(e.to_string())),
    };
    if meta.total_counters as usize != num_counters {
        return Err(fail(format!(
            "the executable has {} counters but the process has {num_counters}",
            meta.total_counters
        )));
    }
    if meta.build_time_ns.is_none() {
        meta.build_time_ns = modified
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos() as u64);
    }
    Ok(Some(meta.encode()))
}

/// Whether `dir/name` exists; a symlink there is refused, never followed
/// (docs/FORMAT.md, shared COVDIRs).
fn meta_present(dir: &Path, name: &str) -> Result<bool, String> {
    let path = dir.join(name);
    refuse_symlink(&path).map_err(|e| format!("error: covwrap: {e}; no coverage data written"))?;
    Ok(path.exists())
}

pub(super) fn encode_args() -> Vec<u8> {
    let mut argv: Vec<OsString> = std::env::args_os().collect();
    if argv.is_empty() {
        // musl's std learns argv only in main; /proc has it from the start.
        if let Ok(raw) = fs::read("/proc/self/cmdline") {
            argv = raw
                .split(|&b| b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| OsStr::from_bytes(a).to_os_string())
                .collect();
        }
    }
    let mut pairs: Vec<(&str, Vec<u8>)> = argv
        .iter()
        .map(|a| (arg_keys::ARGV, a.as_bytes().to_vec()))
        .collect();
    if let Ok(exe) = std::env::current_exe() {
        pairs.push((arg_keys::EXE, exe.into_os_string().into_vec()));
    }
    pairs.push((arg_keys::OS, std::env::consts::OS.as_bytes().to_vec()));
    pairs.push((arg_keys::ARCH, std::env::consts::ARCH.as_bytes().to_vec()));
    if let Some((label, source)) = super::label::of_this_process(&argv) {
        pairs.push((arg_keys::LABEL, label));
        if let Some(source) = source {
            pairs.push((arg_keys::LABEL_SOURCE, source.as_bytes().to_vec()));
        }
    }
    let mut out = Vec::new();
    kv::encode(&pairs, &mut out);
    out
}

fn install_hooks() {
    // SAFETY: registering plain extern "C" functions with libc.
    unsafe {
        sys::atexit(on_exit);
        sys::pthread_atfork(None, None, Some(on_fork_child));
    }
    signals::install();
}

/// Return from main, `std::process::exit`, or a panic unwinding out of main
/// (the Rust runtime turns it into exit code 101) all end up here.
extern "C" fn on_exit() {
    write_final(EXIT, WritePath::Exit);
    if let Some(sig) = emit::take_deferred_signal() {
        signals::die(sig);
    }
}

/// A forked child inherits the parent's counts; it must report only what
/// it runs itself, so parent + child add up to the truth.
extern "C" fn on_fork_child() {
    emit::reset_after_fork();
    signals::reset_after_fork();
    agent::after_fork();
    // Continuous mode: a fresh, zeroed file of the child's own.
    if let Some(config) = CONFIG.get() {
        if dense::after_fork_child(config) {
            return;
        }
    }
    // Hooks are installed only when COVDIR or the agent is active.
    for c in super::state::live_counters() {
        c.store(0, Ordering::Relaxed);
    }
}

fn eprintln_quietly(message: &str) {
    let mut line = message.as_bytes().to_vec();
    line.push(b'\n');
    let _ = sys::write_all(2, &line);
}
