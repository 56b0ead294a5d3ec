//! Helpers for end-to-end tests: copies of the examples (or generated
//! projects) built by real cargo with covwrap as RUSTC_WRAPPER, runs of the
//! results, and inspection of the coverage directories they write.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use covwrap_rt::format::counters::CountersFile;
use covwrap_rt::format::meta::MetaFile;
use covwrap_rt::format::names::{parse_file_name, FileName};

mod live;
pub use live::*;

/// Everything tests create lives under cargo's per-target temp directory.
pub fn scratch(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    static SWEPT: std::sync::Once = std::sync::Once::new();
    SWEPT.call_once(remove_scratch_of_ended_runs);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("e2e-{}-{n}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// A test run leaves gigabytes of builds and data under its scratch
/// directories (kept for looking into failures): those of runs whose
/// process has ended go when the next run starts.
fn remove_scratch_of_ended_runs() {
    let Ok(entries) = fs::read_dir(env!("CARGO_TARGET_TMPDIR")) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("e2e-"))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Compiled runtimes are shared by all tests (and tests race to build the
/// first one, which is itself worth exercising).
pub fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-runtime-cache")
}

pub fn covwrap() -> &'static str {
    env!("CARGO_BIN_EXE_covwrap")
}

/// The covdata binary of this workspace: built next to covwrap by
/// `cargo test --workspace`, else built here once.
pub fn covdata_exe() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| covdata_bin("covdata")).clone()
}

/// A binary of the covdata package beside covwrap, built (or found up to
/// date) by cargo first: `cargo test --test e2e` alone does not build
/// another package's binaries, and a stale one would test old code.
pub fn covdata_bin(name: &str) -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "-p", "covdata", "--bin", name])
        .current_dir(repo_root())
        .status()
        .unwrap();
    assert!(status.success(), "building {name} failed");
    Path::new(covwrap()).with_file_name(name)
}

pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A cargo project in a scratch directory, with its own target directory.
pub struct Project {
    pub dir: PathBuf,
    pub target: PathBuf,
}

impl Project {
    /// A copy of `examples/<name>` (without any target directory).
    pub fn example(name: &str) -> Project {
        let root = scratch(name);
        let dir = root.join(name);
        copy_tree(&repo_root().join("examples").join(name), &dir);
        Project {
            target: root.join("target"),
            dir,
        }
    }

    /// A single-binary project with `main_rs` as src/main.rs.
    pub fn bin(name: &str, main_rs: &str, extra_manifest: &str) -> Project {
        let root = scratch(name);
        let dir = root.join(name);
        fs::create_dir_all(dir.join("src")).unwrap();
        fs::write(
            dir.join("Cargo.toml"),
            format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n{extra_manifest}\n"),
        )
        .unwrap();
        fs::write(dir.join("src/main.rs"), main_rs).unwrap();
        Project {
            target: root.join("target"),
            dir,
        }
    }

    /// `cargo <args>` with covwrap as RUSTC_WRAPPER; panics on failure.
    pub fn cargo(&self, args: &[&str]) -> Output {
        let out = self.cargo_cmd(args, true).output().unwrap();
        assert_success(&out, &format!("cargo {}", args.join(" ")));
        out
    }

    /// `cargo <args>` with covwrap and extra environment; panics on failure.
    pub fn cargo_with(&self, args: &[&str], envs: &[(&str, &std::ffi::OsStr)]) -> Output {
        let mut cmd = self.cargo_cmd(args, true);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert_success(&out, &format!("cargo {} with {envs:?}", args.join(" ")));
        out
    }

    /// `cargo <args>` without covwrap; panics on failure.
    pub fn cargo_plain(&self, args: &[&str]) -> Output {
        let out = self.cargo_cmd(args, false).output().unwrap();
        assert_success(&out, &format!("cargo {} (plain)", args.join(" ")));
        out
    }

    pub fn cargo_cmd(&self, args: &[&str], wrapped: bool) -> Command {
        let mut cmd = Command::new("cargo");
        cmd.args(args)
            .current_dir(&self.dir)
            .env("CARGO_TARGET_DIR", &self.target)
            .env("COVWRAP_CACHE_DIR", cache_dir())
            .env_remove("COVDIR")
            .env_remove("RUSTFLAGS")
            .env_remove("COVWRAP_PKG")
            .env_remove("COVWRAP_LOG")
            .env_remove("CARGO_BUILD_RUSTC_WRAPPER")
            .env_remove("RUSTC_WORKSPACE_WRAPPER");
        if wrapped {
            cmd.env("RUSTC_WRAPPER", covwrap());
        } else {
            cmd.env_remove("RUSTC_WRAPPER");
        }
        cmd
    }

    /// `target/<profile>/<name>`.
    pub fn exe(&self, profile: &str, name: &str) -> PathBuf {
        self.target.join(profile).join(name)
    }
}

pub fn assert_success(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({})\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == OsStr::new("target") {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            copy_tree(&path, &to.join(&name));
        } else {
            fs::copy(&path, to.join(&name)).unwrap();
        }
    }
}

extern "C" {
    fn signal(sig: i32, handler: usize) -> usize;
    fn sigprocmask(how: i32, set: *const u64, old: *mut u64) -> i32;
}

/// Starts children with every signal at its default disposition and none
/// blocked, whatever this test process inherited: a script's `&` job and
/// nohup start it with SIGINT/SIGHUP ignored, and the runtime leaves
/// ignored signals alone, so a signal test would otherwise hang or fail.
pub trait DefaultSignals {
    fn default_signals(&mut self) -> &mut Self;
}

impl DefaultSignals for Command {
    fn default_signals(&mut self) -> &mut Self {
        // SAFETY: the closure runs in the child between fork and exec and
        // calls only async-signal-safe functions (signal, sigprocmask).
        unsafe {
            self.pre_exec(|| {
                const SIGKILL: i32 = 9;
                const SIGSTOP: i32 = 19;
                const SIG_SETMASK: i32 = 2;
                for sig in (1..32).filter(|s| *s != SIGKILL && *s != SIGSTOP) {
                    signal(sig, 0);
                }
                let empty = [0u64; 16];
                sigprocmask(SIG_SETMASK, empty.as_ptr(), std::ptr::null_mut());
                Ok(())
            })
        }
    }
}

/// Runs `exe args` with COVDIR=`covdir` (or unset).
pub fn run(exe: &Path, args: &[&str], covdir: Option<&Path>) -> Output {
    let mut cmd = Command::new(exe);
    cmd.default_signals();
    cmd.args(args)
        .env_remove("COVDIR")
        .env_remove("COVWRAP_QUIET")
        .env_remove("COVWRAP_LABEL");
    if let Some(d) = covdir {
        cmd.env("COVDIR", d);
    }
    cmd.output().unwrap()
}

/// Waits for `child` up to `limit`; kills it and fails the test on timeout
/// (a deadlocked signal handler shows up here).
pub fn wait_with_timeout(child: &mut std::process::Child, limit: Duration) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("process {} did not exit within {limit:?}", child.id());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

pub fn signal_of(status: ExitStatus) -> Option<i32> {
    status.signal()
}

/// A coverage directory's files, decoded and checked.
#[derive(Debug, Default)]
pub struct CovDir {
    /// H (hex) → meta file bytes.
    pub metas: BTreeMap<String, Vec<u8>>,
    /// Counter files in name order: (H hex, pid, bytes).
    pub counters: Vec<(String, u64, Vec<u8>)>,
    /// Names that are neither (temporary leftovers, profraw...).
    pub others: Vec<String>,
}

impl CovDir {
    pub fn read(dir: &Path) -> CovDir {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let mut out = CovDir::default();
        for name in names {
            let bytes = fs::read(dir.join(&name)).unwrap();
            match parse_file_name(&name) {
                Some(FileName::Meta(h)) => {
                    let meta = MetaFile::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
                    assert_eq!(meta.hash(), h, "{name}: name and content hash differ");
                    out.metas.insert(hex(&h), bytes);
                }
                Some(FileName::Counters { hash, pid, .. }) => {
                    CountersFile::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
                    out.counters.push((hex(&hash), pid, bytes));
                }
                None => out.others.push(name),
            }
        }
        // Every counter file belongs to a meta file in the same directory,
        // and agrees with it on the size of the counter array.
        for (h, _, bytes) in &out.counters {
            let meta = MetaFile::parse(
                out.metas
                    .get(h)
                    .unwrap_or_else(|| panic!("no meta for counters of {h}")),
            )
            .unwrap();
            let counters = CountersFile::parse(bytes).unwrap();
            assert_eq!(counters.header().num_counters, meta.total_counters());
        }
        out
    }

    pub fn counter_files(&self) -> impl Iterator<Item = CountersFile<'_>> {
        self.counters
            .iter()
            .map(|(_, _, b)| CountersFile::parse(b).unwrap())
    }

    pub fn assert_clean(&self) {
        assert!(
            self.others.is_empty(),
            "unexpected files in COVDIR: {:?}",
            self.others
        );
    }
}

pub fn hex(bytes: &[u8]) -> String {
    covwrap_rt::format::md5::hex(bytes)
}

/// Every `*.profraw` under `dirs`.
pub fn find_profraw(dirs: &[&Path]) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_symlink() {
                continue;
            }
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "profraw") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    for d in dirs {
        walk(d, &mut out);
    }
    out
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Starts `exe` with COVDIR and piped stdout.
pub fn spawn(exe: &Path, args: &[&str], covdir: &Path) -> std::process::Child {
    Command::new(exe)
        .default_signals()
        .args(args)
        .env("COVDIR", covdir)
        .env_remove("COVWRAP_LABEL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// (runs, executions of the functions whose mangled name contains
/// `needle`) of a COVDIR, as every covdata command reads it.
pub fn runs_and_executions(cov: &Path, needle: &str) -> (u64, u64) {
    let cov = covdata::load_coverage(&[cov.to_path_buf()], false).unwrap_or_else(|e| panic!("{e}"));
    let runs = cov.pods.iter().map(|p| p.total_runs()).sum();
    let executions = cov
        .functions
        .iter()
        .filter(|f| f.name.contains(needle))
        .map(|f| f.execution_count)
        .sum();
    (runs, executions)
}

/// The unpacked source of `name` `version` from crates.io.
fn fetch_crate(name: &str, version: &str) -> PathBuf {
    let project = scratch(&format!("fetch-{name}"));
    std::fs::create_dir_all(project.join("src")).unwrap();
    std::fs::write(
        project.join("Cargo.toml"),
        format!("[package]\nname = \"fetch\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[workspace]\n\n[dependencies]\n{name} = \"={version}\"\n"),
    )
    .unwrap();
    std::fs::write(project.join("src/lib.rs"), "").unwrap();
    let out = Command::new("cargo")
        .args(["metadata", "--format-version", "1"])
        .current_dir(&project)
        .output()
        .unwrap();
    assert_success(&out, "cargo metadata");
    let meta = stdout(&out);
    let needle = format!("{name}-{version}/Cargo.toml\"");
    if let Some(end) = meta.find(&needle) {
        let start = meta[..end].rfind('"').unwrap() + 1;
        return PathBuf::from(&meta[start..end + needle.len() - "/Cargo.toml\"".len()]);
    }
    // A crate without a library (a CLI) is left out of the resolve, but
    // cargo has downloaded and unpacked it into its registry cache.
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"));
    fs::read_dir(home.join("registry/src"))
        .unwrap()
        .map(|e| e.unwrap().path().join(format!("{name}-{version}")))
        .find(|dir| dir.join("Cargo.toml").exists())
        .unwrap_or_else(|| panic!("{name} {version} not fetched by cargo metadata"))
}

/// A copy of crate `name` `version` from crates.io as a project of its
/// own: a local path crate, so covwrap instruments it by default.
pub fn crates_io_project(name: &str, version: &str) -> Project {
    let source = fetch_crate(name, version);
    let root = scratch(&format!("crate-{name}"));
    let dir = root.join(name);
    copy_tree(&source, &dir);
    // Its own workspace, wherever the scratch directory is.
    let manifest = dir.join("Cargo.toml");
    let text = fs::read_to_string(&manifest).unwrap();
    fs::write(&manifest, format!("{text}\n[workspace]\n")).unwrap();
    Project {
        dir,
        target: root.join("target"),
    }
}

/// Per (file relative to `root`, line): covered? From an LCOV text's DA
/// records, for files under `root`.
pub fn lcov_line_status(lcov: &str, root: &Path) -> BTreeMap<(String, u32), bool> {
    let mut out = BTreeMap::new();
    let mut file = None;
    for line in lcov.lines() {
        if let Some(f) = line.strip_prefix("SF:") {
            file = Path::new(f)
                .strip_prefix(root)
                .ok()
                .map(|p| p.to_string_lossy().into_owned());
        } else if let (Some(f), Some(da)) = (&file, line.strip_prefix("DA:")) {
            let (l, count) = da.split_once(',').unwrap();
            let covered = count.split(',').next().unwrap() != "0";
            out.insert((f.clone(), l.parse().unwrap()), covered);
        }
    }
    out
}

/// Asserts two line-status maps agree, naming the first lines that differ.
pub fn assert_same_line_status(
    what: &str,
    ours: &BTreeMap<(String, u32), bool>,
    theirs: &BTreeMap<(String, u32), bool>,
) {
    let differ: Vec<_> = theirs
        .iter()
        .filter(|(k, v)| ours.get(*k) != Some(*v))
        .take(10)
        .collect();
    assert!(
        differ.is_empty(),
        "{what}: lines whose covered status differs: {differ:?}"
    );
    assert_eq!(ours.len(), theirs.len(), "{what}: same instrumented lines");
}
