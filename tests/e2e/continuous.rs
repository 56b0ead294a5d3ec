//! Continuous mode (`COVWRAP_CONTINUOUS=1`): counters in a mapped file in
//! COVDIR survive SIGKILL, the OOM killer and exec; normal ends still leave
//! one small sparse file; covdata reads dead runs' dense files, skips live
//! ones, and compacts them. And exec in the default mode.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use covwrap_rt::format::dense::is_dense;

use crate::support::*;

/// One program with a mode per scenario. Function names are unique so a
/// test can find each one's execution count.
const PROG: &str = r#"
use std::io::Write;
use std::os::unix::process::CommandExt;
extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
    fn getpid() -> i32;
    fn fork() -> i32;
    fn waitpid(pid: i32, status: *mut i32, options: i32) -> i32;
}
#[inline(never)]
fn cont_step(i: u64) -> u64 { std::hint::black_box(i.wrapping_mul(2654435761)) }
#[inline(never)]
fn chain_step(i: u64) -> u64 { std::hint::black_box(i ^ 0x55) }
#[inline(never)]
fn pre_fork(i: u64) -> u64 { std::hint::black_box(i ^ 3) }
#[inline(never)]
fn child_work(i: u64) -> u64 { std::hint::black_box(i ^ 5) }
#[inline(never)]
fn parent_work(i: u64) -> u64 { std::hint::black_box(i ^ 7) }
fn die_by_sigkill() -> ! {
    unsafe { kill(getpid(), 9) };
    loop { std::thread::sleep(std::time::Duration::from_secs(1)); }
}
fn num(args: &[String], i: usize) -> u64 { args[i].parse().unwrap() }
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut out = std::io::stdout();
    match args[1].as_str() {
        // loop N [K]: N steps, one line after each; SIGKILL itself before step K.
        "loop" => {
            let kill_at = args.get(3).map(|a| a.parse::<u64>().unwrap());
            for i in 0..num(&args, 2) {
                if Some(i) == kill_at { die_by_sigkill(); }
                cont_step(i);
                writeln!(out, "{i}").unwrap();
                out.flush().unwrap();
            }
        }
        // exec K [kill]: K chain steps, then exec itself with K-1; the last
        // image (K = 0) exits, or SIGKILLs itself with "kill".
        "exec" => {
            let k = num(&args, 2);
            for i in 0..k { chain_step(i); }
            let mut rest: Vec<String> = args[3..].to_vec();
            if k == 0 {
                if rest.first().map(String::as_str) == Some("kill") { die_by_sigkill(); }
                return;
            }
            let mut next = vec!["exec".to_string(), (k - 1).to_string()];
            next.append(&mut rest);
            let err = std::process::Command::new(std::env::current_exe().unwrap()).args(&next).exec();
            panic!("exec failed: {err}");
        }
        // exec-other K: K chain steps, then exec the other binary.
        "exec-other" => {
            for i in 0..num(&args, 2) { chain_step(i); }
            let other = std::env::current_exe().unwrap().with_file_name("other");
            let err = std::process::Command::new(other).arg(&args[3]).exec();
            panic!("exec failed: {err}");
        }
        // oom M: M steps, "ready", then allocate and touch memory until killed.
        "oom" => {
            for i in 0..num(&args, 2) { cont_step(i); }
            writeln!(out, "ready").unwrap();
            out.flush().unwrap();
            let mut keep: Vec<Vec<u8>> = Vec::new();
            loop { keep.push(vec![1u8; 1 << 20]); }
        }
        // fork A B C: A steps, fork; the child runs B and SIGKILLs itself,
        // the parent waits, runs C and SIGKILLs itself.
        "fork" => {
            for i in 0..num(&args, 2) { pre_fork(i); }
            let pid = unsafe { fork() };
            if pid == 0 {
                for i in 0..num(&args, 3) { child_work(i); }
                die_by_sigkill();
            }
            let mut status = 0;
            unsafe { waitpid(pid, &mut status, 0) };
            for i in 0..num(&args, 4) { parent_work(i); }
            die_by_sigkill();
        }
        other => panic!("unknown mode {other}"),
    }
}
"#;

const OTHER: &str = r#"
#[inline(never)]
fn other_step(i: u64) -> u64 { std::hint::black_box(i + 1) }
fn main() {
    let n: u64 = std::env::args().nth(1).unwrap().parse().unwrap();
    for i in 0..n { other_step(i); }
}
"#;

/// The program, built once for all tests here.
fn prog() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let p = Project::bin("contprog", PROG, "");
        std::fs::create_dir_all(p.dir.join("src/bin")).unwrap();
        std::fs::write(p.dir.join("src/bin/other.rs"), OTHER).unwrap();
        p.cargo(&["build"]);
        p.exe("debug", "contprog")
    })
}

/// A command with COVDIR, continuous mode on or off, default signal
/// dispositions, and nothing inherited that changes what the runtime does.
fn command(exe: &Path, args: &[&str], cov: &Path, continuous: bool) -> Command {
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .env("COVDIR", cov)
        .env_remove("COVWRAP_MERGE")
        .env_remove("COVWRAP_LABEL")
        .env_remove("COVWRAP_CONTINUOUS");
    if continuous {
        cmd.env("COVWRAP_CONTINUOUS", "1");
    }
    cmd.default_signals();
    cmd
}

/// Executions of the function named `name` (by its mangled `<len><name>`)
/// and the number of runs, as covdata reads the directory.
fn executions(cov: &Path, name: &str) -> (u64, u64) {
    let needle = format!("{}{name}", name.len());
    runs_and_executions(cov, &needle)
}

/// Names of the dense files in `cov`.
fn dense_files(cov: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(cov).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("covcounters.") && is_dense(&std::fs::read(e.path()).unwrap()) {
            out.push(name);
        }
    }
    out
}

fn covdata(args: &[&str]) -> Output {
    Command::new(covdata_exe()).args(args).output().unwrap()
}

/// `covdata merge --in-place` of `cov`.
fn compact(cov: &Path) -> Output {
    covdata(&["merge", "--in-place", &format!("-i={}", cov.display())])
}

/// A run of `loop n` that SIGKILLs itself before step `kill_at`; the name
/// of the dense file it leaves (the only one in `cov`).
fn killed_loop(cov: &Path, n: &str, kill_at: &str) -> String {
    let out = command(prog(), &["loop", n, kill_at], cov, true)
        .output()
        .unwrap();
    assert_eq!(signal_of(out.status), Some(SIGKILL));
    let mut dense = dense_files(cov);
    assert_eq!(dense.len(), 1, "{dense:?}");
    dense.pop().unwrap()
}

/// `loop n` in continuous mode with COVWRAP_MERGE=1.
fn pooled_loop(cov: &Path, n: &str) -> Output {
    command(prog(), &["loop", n], cov, true)
        .env("COVWRAP_MERGE", "1")
        .stdout(Stdio::null())
        .output()
        .unwrap()
}

/// A xorshift generator of numbers below `n`, seeded with `seed` and
/// this process's id (each run tries other points).
fn xorshift(seed: u64) -> impl FnMut(u64) -> u64 {
    let mut seed = seed ^ std::process::id() as u64;
    move |n| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    }
}

/// The service example in continuous mode; returns it and its URL.
fn start_service(cov: &Path) -> (Child, String) {
    spawn_listening(command(service_example(), &["127.0.0.1:0"], cov, true).stderr(Stdio::piped()))
}

#[test]
fn service_killed_by_sigkill_after_n_requests_has_exactly_n() {
    let cov = scratch("cont-service");
    let (child, addr) = start_service(&cov);
    // Killed and reaped even if an assertion fails first.
    let mut service = Children(vec![child]);
    let child = &mut service.0[0];
    const N: u64 = 37;
    for i in 0..N {
        let answer = http_get(&addr, &format!("/sum?a={i}&b=1"));
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    // Live: skipped with a note, unless --include-live.
    let dir = cov.to_str().unwrap();
    let out = covdata(&["percent", &format!("-i={dir}")]);
    assert_success(&out, "covdata percent (live)");
    assert!(
        stderr(&out).contains("skipped 1 counter files of running processes"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("0.00%"), "{}", stdout(&out));
    let out = covdata(&["func", "--include-live", &format!("-i={dir}")]);
    assert_success(&out, "covdata func --include-live");
    assert!(!stdout(&out).contains("\t0.0%\n") || stdout(&out).contains("service::handle"));
    child.kill().unwrap();
    let status = wait_with_timeout(child, Duration::from_secs(10));
    assert_eq!(signal_of(status), Some(9));
    assert_eq!(dense_files(&cov).len(), 1, "the dense file stays");
    assert_eq!(executions(&cov, "handle"), (1, N));
    let out = covdata(&["percent", &format!("-i={dir}")]);
    assert_success(&out, "covdata percent");
    assert!(!stderr(&out).contains("skipped"), "{}", stderr(&out));
    // Compaction folds the dead run into the pool, exactly once.
    let out = compact(&cov);
    assert_success(&out, "covdata merge --in-place");
    assert!(dense_files(&cov).is_empty());
    assert_eq!(executions(&cov, "handle"), (1, N));
}

#[test]
fn normal_end_replaces_the_dense_file_with_a_sparse_one() {
    let cov = scratch("cont-exit");
    let out = command(prog(), &["loop", "25"], &cov, true)
        .output()
        .unwrap();
    assert_success(&out, "loop 25");
    let dir = CovDir::read(&cov);
    dir.assert_clean();
    assert_eq!(dir.counters.len(), 1, "one sparse file, no dense one");
    assert_eq!(executions(&cov, "cont_step"), (1, 25));
    // SIGTERM, handled by the runtime: also a sparse file.
    let cov = scratch("cont-term");
    let (mut child, _) = spawn_listening(&mut command(
        service_example(),
        &["127.0.0.1:0"],
        &cov,
        true,
    ));
    send_signal(child.id(), SIGTERM);
    let status = wait_with_timeout(&mut child, Duration::from_secs(10));
    assert_eq!(signal_of(status), Some(15));
    let dir = CovDir::read(&cov);
    dir.assert_clean();
    assert_eq!(dir.counters.len(), 1);
    assert_eq!(dir.counter_files().next().unwrap().header().end, 15);
}

#[test]
fn covdir_unset_writes_nothing_in_either_mode() {
    let cwd = scratch("cont-nocov");
    for continuous in [false, true] {
        let mut cmd = command(prog(), &["loop", "3", "1"], &cwd, continuous);
        let out = cmd.env_remove("COVDIR").current_dir(&cwd).output().unwrap();
        assert_eq!(signal_of(out.status), Some(9));
        let out = command(prog(), &["loop", "3"], &cwd, continuous)
            .env_remove("COVDIR")
            .current_dir(&cwd)
            .output()
            .unwrap();
        assert_success(&out, "loop without COVDIR");
    }
    assert_eq!(std::fs::read_dir(&cwd).unwrap().count(), 0);
}

#[test]
fn sigkill_at_random_points_leaves_exact_or_readable_counts() {
    let mut rand = xorshift(0x9e37_79b9_7f4a_7c15);
    // Killed by itself before step K: exactly K steps, every time.
    let cov = scratch("cont-selfkill");
    let mut expected = 0;
    for _ in 0..20 {
        let k = rand(200);
        let out = command(prog(), &["loop", "200", &k.to_string()], &cov, true)
            .output()
            .unwrap();
        assert_eq!(signal_of(out.status), Some(9));
        expected += k;
    }
    assert_eq!(executions(&cov, "cont_step"), (20, expected));
    // Killed from outside at a random instant (during startup, the loop or
    // the exit write): each run counted at least the steps it printed and
    // at most one more, or left nothing it could have counted; covdata
    // reads the directory after every kill.
    let cov = scratch("cont-randkill");
    let (mut low, mut high) = (0, 0);
    for _ in 0..30 {
        let mut child = command(prog(), &["loop", "2000"], &cov, true)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros(rand(20_000)));
        let _ = child.kill();
        let mut printed = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut printed)
            .unwrap();
        let status = child.wait().unwrap();
        let lines = printed.lines().count() as u64;
        low += lines;
        high += if signal_of(status) == Some(9) {
            lines + 1
        } else {
            lines
        };
        let out = covdata(&["percent", &format!("-i={}", cov.display())]);
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "{err}");
        // Killed before anything was written (the first runs only):
        // the directory is still empty, which covdata says as such.
        assert!(
            out.status.success()
                || err.contains("no coverage data")
                || err.contains("no covmeta or covcounters files in this directory"),
            "{err}"
        );
    }
    let (_, got) = executions(&cov, "cont_step");
    assert!(low <= got && got <= high, "{low} <= {got} <= {high}");
}

#[test]
fn exec_chains_keep_every_images_counts_in_both_modes() {
    for continuous in [true, false] {
        // Itself, four images: 3 + 2 + 1 chain steps; the last one exits.
        let cov = scratch("cont-exec");
        let out = command(prog(), &["exec", "3"], &cov, continuous)
            .output()
            .unwrap();
        assert_success(&out, "exec chain");
        assert_eq!(
            executions(&cov, "chain_step"),
            (4, 6),
            "continuous: {continuous}"
        );
        // The last image SIGKILLed: in continuous mode its (empty) run is
        // still there; the earlier images' counts are kept either way.
        let cov = scratch("cont-exec-kill");
        let out = command(prog(), &["exec", "4", "kill"], &cov, continuous)
            .output()
            .unwrap();
        assert_eq!(signal_of(out.status), Some(9));
        let runs = if continuous { 5 } else { 4 };
        assert_eq!(
            executions(&cov, "chain_step"),
            (runs, 10),
            "continuous: {continuous}"
        );
        // Another instrumented program: two pods, each with its counts.
        let cov = scratch("cont-exec-other");
        let out = command(prog(), &["exec-other", "5", "9"], &cov, continuous)
            .output()
            .unwrap();
        assert_success(&out, "exec other");
        assert_eq!(executions(&cov, "chain_step"), (2, 5));
        assert_eq!(executions(&cov, "other_step"), (2, 9));
    }
}

#[test]
fn fork_child_gets_its_own_file_from_zero() {
    let cov = scratch("cont-fork");
    let out = command(prog(), &["fork", "1000", "777", "555"], &cov, true)
        .output()
        .unwrap();
    assert_eq!(signal_of(out.status), Some(9));
    assert_eq!(dense_files(&cov).len(), 2, "parent and child each have one");
    assert_eq!(executions(&cov, "pre_fork"), (2, 1000));
    assert_eq!(executions(&cov, "child_work"), (2, 777));
    assert_eq!(executions(&cov, "parent_work"), (2, 555));
}

/// Puts the child started by `cmd` into a memory-limited cgroup (v2 or
/// v1), through a shell that joins it and then execs the program.
fn in_memory_cgroup(exe: &Path, args: &[&str], cov: &Path) -> Option<(Command, PathBuf)> {
    let name = format!("covwrap-e2e-{}", std::process::id());
    let v2 = Path::new("/sys/fs/cgroup/cgroup.controllers");
    let (dir, limits): (PathBuf, &[(&str, &str)]) =
        if std::fs::read_to_string(v2).is_ok_and(|c| c.split_whitespace().any(|x| x == "memory")) {
            (
                Path::new("/sys/fs/cgroup").join(&name),
                &[("memory.max", "67108864"), ("memory.swap.max", "0")],
            )
        } else {
            (
                Path::new("/sys/fs/cgroup/memory").join(&name),
                &[("memory.limit_in_bytes", "67108864")],
            )
        };
    let _ = std::fs::remove_dir(&dir);
    std::fs::create_dir(&dir).ok()?;
    for (file, value) in limits {
        if std::fs::write(dir.join(file), value).is_err() && !file.contains("swap") {
            let _ = std::fs::remove_dir(&dir);
            return None;
        }
    }
    let mut all = vec![
        "-c".to_string(),
        format!(
            "echo $$ > {}/cgroup.procs && exec \"$0\" \"$@\"",
            dir.display()
        ),
        exe.display().to_string(),
    ];
    all.extend(args.iter().map(|a| a.to_string()));
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    Some((command(Path::new("/bin/sh"), &all, cov, true), dir))
}

#[test]
fn oom_kill_keeps_the_counts_up_to_the_kill() {
    let cov = scratch("cont-oom");
    let (mut cmd, cgroup) = match in_memory_cgroup(prog(), &["oom", "321"], &cov) {
        Some(v) => v,
        None => {
            // prlimit: allocation fails instead (the program aborts); the
            // counts must still be there.
            eprintln!("NOTE: no writable memory cgroup here; limiting the address space with prlimit instead of a real OOM kill");
            let mut cmd = command(Path::new("prlimit"), &["--as=1073741824", "--"], &cov, true);
            cmd.arg(prog()).args(["oom", "321"]);
            (cmd, PathBuf::new())
        }
    };
    let out = cmd.stderr(Stdio::null()).output();
    if !cgroup.as_os_str().is_empty() {
        let _ = std::fs::remove_dir(&cgroup);
    }
    let Ok(out) = out else {
        eprintln!("SKIPPED: neither a memory cgroup nor prlimit is available on this machine");
        return;
    };
    assert!(stdout(&out).contains("ready"), "{}", stdout(&out));
    let sig = signal_of(out.status);
    if !cgroup.as_os_str().is_empty() {
        assert_eq!(sig, Some(9), "killed by the OOM killer: {:?}", out.status);
    } else {
        assert!(sig.is_some(), "died of a signal: {:?}", out.status);
    }
    assert_eq!(executions(&cov, "cont_step"), (1, 321));
}

#[test]
fn five_hundred_concurrent_runs_a_third_sigkilled_add_up() {
    let cov = scratch("cont-500");
    let mut rand = xorshift(0x2545_f491_4f6c_dd1d);
    let mut expected = 0;
    let mut children = Vec::new();
    for _ in 0..500 {
        let n = 1 + rand(60);
        let mut args = vec!["loop".to_string(), n.to_string()];
        if rand(3) == 0 {
            let k = rand(n);
            args.push(k.to_string());
            expected += k;
        } else {
            expected += n;
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let child = command(prog(), &args, &cov, true)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        children.push(child);
    }
    let mut killed = 0;
    for mut c in children {
        let status = wait_with_timeout(&mut c, Duration::from_secs(120));
        killed += usize::from(signal_of(status) == Some(9));
    }
    assert!(killed > 100 && killed < 250, "{killed} killed");
    assert_eq!(dense_files(&cov).len(), killed);
    assert_eq!(executions(&cov, "cont_step"), (500, expected));
    // Two compactions at once: every dead run folded exactly once.
    let compact = || {
        Command::new(covdata_exe())
            .args(["merge", "--in-place", &format!("-i={}", cov.display())])
            .spawn()
            .unwrap()
    };
    let (mut a, mut b) = (compact(), compact());
    for c in [&mut a, &mut b] {
        assert!(wait_with_timeout(c, Duration::from_secs(60)).success());
    }
    assert!(dense_files(&cov).is_empty());
    assert_eq!(executions(&cov, "cont_step"), (500, expected));
}

#[test]
fn pools_take_normal_ends_and_dead_dense_files_count_once() {
    let cov = scratch("cont-pool");
    let mut expected = 0;
    for i in 0..12u64 {
        let mut cmd = if i % 3 == 0 {
            expected += i;
            command(prog(), &["loop", "40", &i.to_string()], &cov, true)
        } else {
            expected += 40;
            command(prog(), &["loop", "40"], &cov, true)
        };
        let out = cmd.env("COVWRAP_MERGE", "1").output().unwrap();
        assert_eq!(signal_of(out.status).is_some(), i % 3 == 0);
    }
    assert_eq!(
        dense_files(&cov).len(),
        4,
        "only the killed runs left dense files"
    );
    assert_eq!(executions(&cov, "cont_step"), (12, expected));
    let out = compact(&cov);
    assert_success(&out, "compaction");
    assert!(dense_files(&cov).is_empty());
    assert_eq!(executions(&cov, "cont_step"), (12, expected));
    // Twice: nothing more to fold, nothing counted twice.
    let out = compact(&cov);
    assert_success(&out, "second compaction");
    assert_eq!(executions(&cov, "cont_step"), (12, expected));
}

#[test]
fn a_cut_or_damaged_dense_file_is_one_line_never_a_panic() {
    let cov = scratch("cont-cut");
    let name = killed_loop(&cov, "50", "20");
    let path = cov.join(&name);
    let whole = std::fs::read(&path).unwrap();
    for cut in [0, 7, 40, 64, 100, 4096, whole.len() - 1] {
        std::fs::write(&path, &whole[..cut]).unwrap();
        let out = covdata(&["percent", &format!("-i={}", cov.display())]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "cut at {cut}: {err}");
        assert_eq!(err.lines().count(), 1, "cut at {cut}: {err}");
        assert!(err.contains(&name), "cut at {cut}: {err}");
        let out = covdata(&["percent", "--ignore-bad", &format!("-i={}", cov.display())]);
        assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    }
    std::fs::write(&path, &whole).unwrap();
    assert_eq!(executions(&cov, "cont_step"), (1, 20));
}

#[test]
fn shared_covdir_rules_hold_for_dense_files() {
    // A symlink at a dead run's dense file name, pointing at a file
    // elsewhere: readers and compaction list regular files only, so it is
    // never read, folded or deleted through (and opened with O_NOFOLLOW if
    // it appears between listing and reading).
    let cov = scratch("cont-link");
    let name = killed_loop(&cov, "30", "12");
    let victim = scratch("cont-link-victim").join("victim");
    std::fs::rename(cov.join(&name), &victim).unwrap();
    let kept = std::fs::read(&victim).unwrap();
    std::os::unix::fs::symlink(&victim, cov.join(&name)).unwrap();
    let out = compact(&cov);
    assert_success(&out, "compaction next to a symlink");
    assert_eq!(executions(&cov, "cont_step"), (0, 0));
    assert_eq!(std::fs::read(&victim).unwrap(), kept);
    assert!(cov.join(&name).is_symlink());
    // Planted symlinks at the pool's and the lock's names, continuous mode
    // with COVWRAP_MERGE=1: refused in one line; the run ends with its own
    // sparse file, which replaces its dense file.
    let h = name.split('.').nth(1).unwrap().to_string();
    std::fs::write(&victim, "victim's data").unwrap();
    for planted in [format!("covcounters.{h}.0.0"), format!(".covlock.{h}")] {
        let cov = scratch("cont-planted");
        std::os::unix::fs::symlink(&victim, cov.join(&planted)).unwrap();
        let out = pooled_loop(&cov, "7");
        assert_success(&out, "pooled run");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{planted}: {err}");
        assert!(err.contains("symbolic link"), "{planted}: {err}");
        assert!(dense_files(&cov).is_empty(), "{planted}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "victim's data");
        std::fs::remove_file(cov.join(&planted)).unwrap();
        assert_eq!(executions(&cov, "cont_step"), (1, 7), "{planted}");
    }
    // A planted garbage pool: left as it is; the run's sparse file
    // replaces its dense file.
    let cov = scratch("cont-planted-pool");
    let pool = cov.join(format!("covcounters.{h}.0.0"));
    std::fs::write(&pool, "garbage").unwrap();
    let out = pooled_loop(&cov, "5");
    assert_success(&out, "run next to a garbage pool");
    assert!(stderr(&out).contains("unreadable"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&pool).unwrap(), b"garbage");
    assert!(dense_files(&cov).is_empty());
    std::fs::remove_file(&pool).unwrap();
    assert_eq!(executions(&cov, "cont_step"), (1, 5));
}
