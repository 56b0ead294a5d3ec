//! Tried as a hostile environment would: stack overflows, signals aimed at
//! the thread doing the exit write, SIGHUP storms while it is ignored,
//! 32-bit targets. The program built here is shared with `covdir_files`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use covwrap_rt::format::defs::end_reason;

use crate::support::*;

/// One program for every test here, built once with covwrap and once
/// without; the first argument picks what it does.
const PROGRAM: &str = r#"
use std::sync::atomic::{AtomicBool, Ordering};

#[inline(never)]
fn deep(n: u64) -> u64 {
    let buf = [n; 64];
    std::hint::black_box(&buf);
    if n == u64::MAX { return 0; }
    deep(n + 1).wrapping_add(buf[3])
}

/// Lets the test relate addresses `nm` prints to this process's (PIE).
#[no_mangle]
#[inline(never)]
pub extern "C" fn covwrap_test_anchor() -> u64 { 42 }

extern "C" {
    fn syscall(n: i64, ...) -> i64;
    fn fcntl(fd: i32, cmd: i32, ...) -> i32;
    fn ioctl(fd: i32, req: u64, ...) -> i32;
    fn gettid() -> i32;
    fn getpid() -> i32;
    fn tgkill(pid: i32, tid: i32, sig: i32) -> i32;
}

#[cfg(target_arch = "x86_64")]
const PERF_EVENT_OPEN: i64 = 298;
#[cfg(target_arch = "aarch64")]
const PERF_EVENT_OPEN: i64 = 241;

#[repr(C)]
#[derive(Default)]
struct PerfEventAttr {
    kind: u32, size: u32, config: u64, sample_period: u64, sample_type: u64,
    read_format: u64, flags: u64, wakeup_events: u32, bp_type: u32, bp_addr: u64,
    bp_len: u64, branch_sample_type: u64, sample_regs_user: u64, sample_stack_user: u32,
    clockid: i32, sample_regs_intr: u64, aux_watermark: u32, sample_max_stack: u16,
    reserved2: u16, aux_sample_size: u32, reserved3: u32, sig_data: u64, config3: u64,
}

#[repr(C)]
struct Owner { kind: i32, pid: i32 }

/// A hardware watchpoint: the first write to `addr` sends SIGTERM to this
/// thread, delivered right after the writing instruction.
fn watch_first_write(addr: u64) -> Result<(), String> {
    let attr = PerfEventAttr {
        kind: 5, // PERF_TYPE_BREAKPOINT
        size: std::mem::size_of::<PerfEventAttr>() as u32,
        sample_period: 1,
        wakeup_events: 1,
        flags: 1 | 1 << 5 | 1 << 6, // disabled, exclude_kernel, exclude_hv
        bp_type: 2, // HW_BREAKPOINT_W
        bp_addr: addr,
        bp_len: 4,
        ..Default::default()
    };
    unsafe {
        let fd = syscall(PERF_EVENT_OPEN, &attr as *const PerfEventAttr, 0i32, -1i32, -1i32, 0u64) as i32;
        if fd < 0 {
            return Err(format!("perf_event_open: {}", std::io::Error::last_os_error()));
        }
        let owner = Owner { kind: 0, pid: gettid() }; // F_OWNER_TID
        if fcntl(fd, 4, 0o20000 | 0o4000) != 0 // F_SETFL O_ASYNC|O_NONBLOCK
            || fcntl(fd, 10, 15) != 0 // F_SETSIG SIGTERM
            || fcntl(fd, 15, &owner as *const Owner) != 0 // F_SETOWN_EX
            || ioctl(fd, 0x2402, 1i32) != 0 // PERF_EVENT_IOC_REFRESH: one shot
        {
            return Err(format!("arming: {}", std::io::Error::last_os_error()));
        }
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let hex = |i: usize| u64::from_str_radix(&args[i], 16).unwrap();
    match args.get(1).map(String::as_str) {
        Some("overflow") => println!("{}", deep(0)),
        Some("overflow-thread") => {
            std::thread::spawn(|| println!("{}", deep(0))).join().unwrap();
        }
        Some("watch") => {
            let anchor = covwrap_test_anchor as *const () as usize as u64;
            std::hint::black_box(covwrap_test_anchor());
            let addr = anchor - hex(2) + hex(3);
            if let Err(e) = watch_first_write(addr) {
                println!("unavailable {e}");
                std::process::exit(3);
            }
            println!("armed");
        }
        Some("spam") => {
            // SIGTERM aimed at the main thread while it runs the exit path.
            static EXITING: AtomicBool = AtomicBool::new(false);
            let delay_us: u64 = args[2].parse().unwrap();
            let (pid, main_tid) = unsafe { (getpid(), gettid()) };
            std::thread::spawn(move || {
                while !EXITING.load(Ordering::Acquire) {}
                let start = std::time::Instant::now();
                while start.elapsed().as_micros() < u128::from(delay_us) {}
                unsafe { tgkill(pid, main_tid, 15) };
            });
            println!("exiting");
            EXITING.store(true, Ordering::Release);
        }
        _ => println!("{}", covwrap_test_anchor()),
    }
}
"#;

struct Built {
    project: Project,
    /// The same program built without covwrap.
    plain: PathBuf,
}

fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let project = Project::bin("harden", PROGRAM, "");
        project.cargo_plain(&["build"]);
        let plain = project.target.with_file_name("harden-plain");
        fs::copy(project.exe("debug", "harden"), &plain).unwrap();
        project.cargo(&["build"]);
        Built { project, plain }
    })
}

pub fn exe() -> PathBuf {
    built().project.exe("debug", "harden")
}

/// H of the program's meta file, from a first run.
pub fn meta_hash_hex() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| {
        let cov = scratch("harden-h");
        assert!(run(&exe(), &[], Some(&cov)).status.success());
        CovDir::read(&cov).metas.keys().next().unwrap().clone()
    })
}

#[test]
fn stack_overflow_dies_as_without_covwrap_and_writes_its_counts() {
    for mode in ["overflow", "overflow-thread"] {
        let plain = run(&built().plain, &[mode], None);
        assert_eq!(
            signal_of(plain.status),
            Some(6),
            "{mode}: {:?}",
            plain.status
        );
        assert!(stderr(&plain).contains("has overflowed its stack"));
        for round in 0..3 {
            let cov = scratch("overflow");
            let out = run(&exe(), &[mode], Some(&cov));
            assert_eq!(
                out.status,
                plain.status,
                "{mode} run {round}: same death as without covwrap\n{}",
                stderr(&out)
            );
            assert!(
                stderr(&out).contains("has overflowed its stack"),
                "{}",
                stderr(&out)
            );
            let dir = CovDir::read(&cov);
            dir.assert_clean();
            assert_eq!(dir.counters.len(), 1, "{mode} run {round}: counts written");
            let file = dir.counter_files().next().unwrap();
            assert_eq!(file.header().end, 6);
            assert!(
                file.entries().any(|(_, v)| v > 1000),
                "the recursion was counted"
            );
        }
    }
}

/// Address of the symbol whose name contains `needle`, as `nm` prints it.
fn nm_address(exe: &Path, needle: &str) -> String {
    let out = Command::new("nm").arg(exe).output().expect("nm (binutils)");
    let text = stdout(&out);
    let line = text
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no symbol {needle} in {}", exe.display()));
    line.split_whitespace().next().unwrap().to_string()
}

#[test]
fn a_signal_on_the_exit_writer_right_after_its_claim_still_gets_the_file() {
    let exe = exe();
    let anchor = nm_address(&exe, "covwrap_test_anchor");
    let state = nm_address(&exe, "4emit11FINAL_STATE");
    let cov = scratch("claim");
    let started = Instant::now();
    let out = run(&exe, &["watch", &anchor, &state], Some(&cov));
    if stdout(&out).starts_with("unavailable") {
        // No hardware watchpoints here (perf_event_paranoid, a VM): the
        // randomized version below still covers the exit path.
        eprintln!("note: exact claim test skipped: {}", stdout(&out));
        return;
    }
    assert_eq!(stdout(&out), "armed\n", "{}", stderr(&out));
    // The watchpoint fires on the claim itself; the writer must see that it
    // is its own signal, finish the file, then die of it.
    assert_eq!(
        signal_of(out.status),
        Some(15),
        "{:?} {}",
        out.status,
        stderr(&out)
    );
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "no wait for itself"
    );
    let dir = CovDir::read(&cov);
    dir.assert_clean();
    assert_eq!(dir.counters.len(), 1, "the file was written");
    assert_eq!(
        dir.counter_files().next().unwrap().header().end,
        end_reason::EXIT
    );
}

#[test]
fn sigterm_aimed_at_the_exiting_thread_at_any_moment_keeps_the_file() {
    let exe = exe();
    for delay_us in (0..1500).step_by(75) {
        let cov = scratch("spam");
        let started = Instant::now();
        let out = run(&exe, &["spam", &delay_us.to_string()], Some(&cov));
        assert!(
            out.status.success() || signal_of(out.status) == Some(15),
            "delay {delay_us}: {:?}",
            out.status
        );
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "delay {delay_us}: waited"
        );
        let dir = CovDir::read(&cov);
        dir.assert_clean();
        assert_eq!(dir.counters.len(), 1, "delay {delay_us}: {:?}", out.status);
    }
}

#[test]
fn a_32_bit_target_is_refused_in_one_line() {
    let p = Project::bin("bits32", "fn main() {}\n", "");
    let out = p
        .cargo_cmd(&["build", "--target", "i686-unknown-linux-gnu"], true)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    let line = err
        .lines()
        .find(|l| l.contains("not a 64-bit target"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(line.contains("i686-unknown-linux-gnu"), "{line}");
}

extern "C" {
    fn signal(sig: i32, handler: usize) -> usize;
}

#[test]
fn an_ignored_sighup_stays_harmless_from_the_first_instruction() {
    // nohup: SIGHUP ignored from exec on, and SIGHUPs arriving all through
    // startup, while the runtime sets up its handlers: never fatal.
    use std::os::unix::process::CommandExt;
    let cov = scratch("hup-storm");
    for run in 0..30 {
        let mut cmd = Command::new(exe());
        cmd.default_signals()
            .env("COVDIR", &cov)
            .stdout(Stdio::null());
        // SAFETY: only signal() between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                signal(1, 1); // SIG_IGN
                Ok(())
            });
        }
        let mut child = cmd.spawn().unwrap();
        let started = Instant::now();
        let status = loop {
            send_signal(child.id(), SIGHUP);
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "run {run} hangs"
            );
        };
        assert!(status.success(), "run {run}: {status:?}");
    }
    assert_eq!(CovDir::read(&cov).counters.len(), 30);
}
