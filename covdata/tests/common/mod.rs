//! Helpers for tests that build real instrumented programs, run them, turn
//! their raw profiles into a COVDIR (without covwrap) and compare covdata
//! with llvm-cov 22.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use covwrap_rt::format::counters::{encode, CountersHeader};
use covwrap_rt::format::defs::{end_reason, MetaHash};
use covwrap_rt::format::elf::FileReader;
use covwrap_rt::format::from_elf::build_meta;
use covwrap_rt::format::md5::hex;
use covwrap_rt::format::meta::MetaFile;
use covwrap_rt::format::names::{counters_file_name, meta_file_name};

mod files;
mod live;
mod programs;
mod runs;
// Not every test crate uses every helper.
#[allow(unused_imports)]
pub use files::dir_files;
#[allow(unused_imports)]
pub use live::{free_local_addr, listening_on, serve_command, wait_until};
#[allow(unused_imports)]
pub use programs::{assert_has_duplicate_records, INLINE_COPY_MODULES};
#[allow(unused_imports)]
pub use runs::{lcov_da, two_runs_covdir};

/// An LLVM 22 tool. Tests fail (they do not skip) when it is missing.
pub fn llvm_tool(name: &str) -> PathBuf {
    let debian = Path::new("/usr/lib/llvm-22/bin").join(name);
    if debian.exists() {
        return debian;
    }
    let suffixed = format!("{name}-22");
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(&suffixed);
            if candidate.exists() {
                return candidate;
            }
        }
    }
    panic!("{name} from LLVM 22 is required (install the llvm-22 package)");
}

/// A fresh directory under the system temp dir, removed when dropped
/// unless COVDATA_KEEP is set.
pub struct Scratch {
    pub dir: PathBuf,
}

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("covdata-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch { dir }
    }

    /// A scratch directory for a fixture a whole test binary shares (a
    /// static, never dropped): under the target's temp directory and
    /// emptied when the next run starts, so runs do not pile up in the
    /// system's.
    pub fn shared(name: &str) -> Scratch {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("covdata-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::env::var_os("COVDATA_KEEP").is_none() && !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Runs a command, panicking with its output on failure.
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `rustc --edition 2021 -C instrument-coverage <args>` in `dir`.
pub fn rustc(dir: &Path, args: &[&str], env: &[(&str, &str)]) {
    let mut cmd = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()));
    cmd.current_dir(dir)
        .args(["--edition", "2021", "-C", "instrument-coverage", "-g"])
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(&mut cmd);
}

/// [`rustc`] with branch regions (`-Zcoverage-options=branch`, a nightly
/// option, hence RUSTC_BOOTSTRAP).
pub fn rustc_branch(dir: &Path, args: &[&str]) {
    let args = [&["-Zcoverage-options=branch"], args].concat();
    rustc(dir, &args, &[("RUSTC_BOOTSTRAP", "1")]);
}

/// Builds `src` (as `<name>.rs`, binary `name` in `s`) with branch regions.
pub fn build_branchy(s: &Scratch, name: &str, src: &str) -> PathBuf {
    s.write(&format!("{name}.rs"), src);
    rustc_branch(&s.dir, &[&format!("{name}.rs"), "-o", name]);
    s.path(name)
}

/// Runs `bin` with `args`, writing its raw profile to `profraw`.
pub fn run_profiled(bin: &Path, args: &[&str], profraw: &Path) {
    run(Command::new(bin)
        .args(args)
        .env("LLVM_PROFILE_FILE", profraw)
        .current_dir(bin.parent().unwrap()));
}

/// The meta file of an instrumented binary, written into `covdir`.
pub fn write_meta(covdir: &Path, bin: &Path) -> (MetaHash, Vec<u8>) {
    std::fs::create_dir_all(covdir).unwrap();
    let reader = FileReader::new(std::fs::File::open(bin).unwrap()).unwrap();
    let (bytes, hash) = build_meta(&reader).unwrap().encode();
    std::fs::write(covdir.join(meta_file_name(&hash)), &bytes).unwrap();
    (hash, bytes)
}

/// Converts a raw profile of `bin` (meta `meta`) into a counter file in
/// `covdir`; `seq` makes the file name unique.
pub fn write_counters(covdir: &Path, meta_bytes: &[u8], bin: &Path, profraw: &Path, seq: u64) {
    let meta = MetaFile::parse(meta_bytes).unwrap();
    let funcs: Vec<_> = meta.modules()[0].funcs().collect();
    let raw = std::fs::read(profraw).unwrap();
    let profiles = covdata::profraw::parse(&raw).unwrap();
    assert_eq!(profiles.len(), 1, "{}", profraw.display());
    let counters = covdata::profraw::counters_for(&profiles[0], &funcs, meta.total_counters())
        .unwrap_or_else(|e| panic!("{}: {e}", profraw.display()));
    let header = CountersHeader {
        flags: 0,
        meta_hash: meta.hash(),
        pid: 1000 + seq,
        start_ns: 1_700_000_000_000_000_000 + seq,
        write_ns: 1_700_000_001_000_000_000 + seq,
        num_counters: meta.total_counters(),
        end: end_reason::EXIT,
        runs: 1,
    };
    let exe = bin.display().to_string();
    let args = vec![
        ("argv".to_string(), exe.clone()),
        ("exe".to_string(), exe),
        ("os".to_string(), std::env::consts::OS.to_string()),
        ("arch".to_string(), std::env::consts::ARCH.to_string()),
    ];
    let entries = counters
        .iter()
        .enumerate()
        .filter(|(_, v)| **v != 0)
        .map(|(i, v)| (i as u32, *v));
    let bytes = encode(&header, &args, entries);
    let name = counters_file_name(&meta.hash(), header.pid, header.write_ns);
    std::fs::write(covdir.join(name), bytes).unwrap();
}

/// Builds a COVDIR from binaries and raw profiles, pairing each profile
/// with its binary by GNU build-id.
pub fn make_covdir(covdir: &Path, bins: &[PathBuf], profraws: &[PathBuf]) {
    let mut by_id: HashMap<String, (PathBuf, Vec<u8>)> = HashMap::new();
    for bin in bins {
        let (_, bytes) = write_meta(covdir, bin);
        let meta = MetaFile::parse(&bytes).unwrap();
        let id = meta
            .ident_value("build-id")
            .unwrap_or_else(|| panic!("{} has no build-id", bin.display()))
            .to_string();
        by_id.insert(id, (bin.clone(), bytes));
    }
    for (seq, p) in profraws.iter().enumerate() {
        let raw = std::fs::read(p).unwrap();
        let profiles = covdata::profraw::parse(&raw).unwrap();
        let id = hex(&profiles[0].binary_ids[0]);
        let (bin, meta) = by_id
            .get(&id)
            .unwrap_or_else(|| panic!("{}: no binary with build-id {id}", p.display()));
        write_counters(covdir, meta, bin, p, seq as u64);
    }
}

/// Runs the covdata binary.
pub fn covdata(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_covdata"))
        .args(args)
        .env_remove("COVDATA_CENTER_TOKEN")
        .output()
        .unwrap()
}

/// Runs covdata and returns its stdout, panicking on failure.
pub fn covdata_ok(args: &[&str]) -> String {
    let out = covdata(args);
    assert!(
        out.status.success(),
        "covdata {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `llvm-profdata merge` of raw profiles.
pub fn llvm_merge(profraws: &[PathBuf], out: &Path) {
    run(Command::new(llvm_tool("llvm-profdata"))
        .arg("merge")
        .arg("-o")
        .arg(out)
        .args(profraws));
}

fn object_args(bins: &[PathBuf]) -> Vec<String> {
    let mut args = vec![bins[0].display().to_string()];
    for b in &bins[1..] {
        args.push("-object".into());
        args.push(b.display().to_string());
    }
    args
}

/// `llvm-cov export -format=lcov`.
pub fn llvm_lcov(profdata: &Path, bins: &[PathBuf]) -> String {
    let out = run(Command::new(llvm_tool("llvm-cov"))
        .arg("export")
        .arg("-format=lcov")
        .arg(format!("-instr-profile={}", profdata.display()))
        .args(object_args(bins)));
    String::from_utf8(out.stdout).unwrap()
}

/// Lines, regions and functions of a TOTAL line: (covered, total) each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Totals {
    pub lines: (u64, u64),
    pub regions: (u64, u64),
    pub functions: (u64, u64),
    pub branches: Option<(u64, u64)>,
}

/// The TOTAL line of `llvm-cov report`.
pub fn llvm_report_totals(profdata: &Path, bins: &[PathBuf]) -> Totals {
    let out = run(Command::new(llvm_tool("llvm-cov"))
        .arg("report")
        .arg(format!("-instr-profile={}", profdata.display()))
        .args(object_args(bins)));
    let text = String::from_utf8(out.stdout).unwrap();
    let total = text
        .lines()
        .find(|l| l.starts_with("TOTAL"))
        .unwrap_or_else(|| panic!("no TOTAL in {text}"));
    let f: Vec<&str> = total.split_whitespace().collect();
    let num = |i: usize| f[i].parse::<u64>().unwrap();
    // TOTAL regions missed cover functions missed executed lines missed
    // cover [branches missed cover]
    let pair = |total: usize| (num(total) - num(total + 1), num(total));
    Totals {
        regions: pair(1),
        functions: pair(4),
        lines: pair(7),
        branches: (f.len() >= 13 && num(10) > 0).then(|| pair(10)),
    }
}

/// The total line of `covdata percent`.
pub fn covdata_percent_totals(text: &str) -> Totals {
    let total = text
        .lines()
        .find(|l| l.starts_with("total"))
        .unwrap_or_else(|| panic!("no total in {text}"));
    let pairs: Vec<(u64, u64)> = total
        .split('(')
        .skip(1)
        .map(|p| {
            let (c, t) = p.split(')').next().unwrap().split_once('/').unwrap();
            (c.parse().unwrap(), t.parse().unwrap())
        })
        .collect();
    Totals {
        lines: pairs[0],
        regions: pairs[1],
        functions: pairs[2],
        branches: pairs.get(3).copied(),
    }
}

/// llvm's LCOV with names demangled as cargo-llvm-cov does.
pub fn demangle_text(text: &str) -> String {
    let mut out = Vec::new();
    rustc_demangle::demangle_stream(&mut text.as_bytes(), &mut out, false).unwrap();
    String::from_utf8(out).unwrap()
}

/// Asserts two texts are equal, showing the first differing lines.
pub fn assert_same_text(ours: &str, theirs: &str, what: &str) {
    if ours == theirs {
        return;
    }
    let a: Vec<&str> = ours.lines().collect();
    let b: Vec<&str> = theirs.lines().collect();
    let first = a
        .iter()
        .zip(&b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let from = first.saturating_sub(5);
    panic!(
        "{what}: outputs differ at line {} (covdata {} lines, llvm {} lines)\n--- covdata\n{}\n--- llvm\n{}",
        first + 1,
        a.len(),
        b.len(),
        a[from..(first + 10).min(a.len())].join("\n"),
        b[from..(first + 10).min(b.len())].join("\n"),
    );
}

/// Runs the four checks of one scenario: lcov (mangled and demangled),
/// percent totals, and the profraw round trip.
pub fn check_against_llvm(
    scratch: &Scratch,
    covdir: &Path,
    bins: &[PathBuf],
    profraws: &[PathBuf],
) {
    let profdata = scratch.path("merged.profdata");
    llvm_merge(profraws, &profdata);
    let theirs = llvm_lcov(&profdata, bins);
    let input = format!("-i={}", covdir.display());
    let ours = covdata_ok(&["lcov", &input, "--mangled"]);
    assert_same_text(&ours, &theirs, "lcov --mangled");
    let ours = covdata_ok(&["lcov", &input]);
    assert_same_text(&ours, &demangle_text(&theirs), "lcov (demangled)");
    genhtml_accepts(scratch, &ours);

    let report = llvm_report_totals(&profdata, bins);
    let percent = covdata_ok(&["percent", &input]);
    assert_eq!(
        covdata_percent_totals(&percent),
        report,
        "percent totals\n{percent}"
    );

    let outdir = scratch.path("profraw-out");
    let listing = covdata_ok(&["profraw", &input, &format!("-o={}", outdir.display())]);
    let written: Vec<PathBuf> = listing
        .lines()
        .map(|l| PathBuf::from(l.split('\t').next().unwrap()))
        .collect();
    assert!(!written.is_empty(), "{listing}");
    let again = scratch.path("roundtrip.profdata");
    llvm_merge(&written, &again);
    assert_same_text(
        &llvm_lcov(&again, bins),
        &theirs,
        "lcov from covdata profraw",
    );
}

/// Checks a COVDIR against llvm-cov using the raw profiles `covdata
/// profraw` writes from it (for COVDIRs with no original profiles).
pub fn check_covdir_via_profraw(scratch: &Scratch, covdir: &Path, bins: &[PathBuf]) {
    let input = format!("-i={}", covdir.display());
    let outdir = scratch.path("profraw-synth");
    let listing = covdata_ok(&["profraw", &input, &format!("-o={}", outdir.display())]);
    let written: Vec<PathBuf> = listing
        .lines()
        .map(|l| PathBuf::from(l.split('\t').next().unwrap()))
        .collect();
    let profdata = scratch.path("synth.profdata");
    llvm_merge(&written, &profdata);
    let theirs = llvm_lcov(&profdata, bins);
    assert_same_text(
        &covdata_ok(&["lcov", &input, "--mangled"]),
        &theirs,
        "lcov --mangled",
    );
    let percent = covdata_ok(&["percent", &input]);
    assert_eq!(
        covdata_percent_totals(&percent),
        llvm_report_totals(&profdata, bins),
        "percent totals\n{percent}"
    );
}

/// Rewrites every counter file of `covdir`, mapping each value with `f`.
pub fn rewrite_counters(covdir: &Path, f: impl Fn(u64) -> u64) {
    use covwrap_rt::format::counters::CountersFile;
    for entry in std::fs::read_dir(covdir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("covcounters.") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let file = CountersFile::parse(&bytes).unwrap();
        let entries: Vec<(u32, u64)> = file.entries().map(|(i, v)| (i, f(v))).collect();
        let out = encode(file.header(), file.args(), entries);
        std::fs::write(&path, out).unwrap();
    }
}

/// Compares `actual` with `tests/golden/<name>`, or rewrites the file when
/// COVDATA_BLESS is set.
pub fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("COVDATA_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} is missing; run with COVDATA_BLESS=1 to create it",
            path.display()
        )
    });
    assert_same_text(
        actual,
        &expected,
        &format!("golden file {name} (COVDATA_BLESS=1 rewrites it)"),
    );
}

/// genhtml (Debian's lcov) reads `lcov` without errors or warnings.
pub fn genhtml_accepts(scratch: &Scratch, lcov: &str) {
    let info = scratch.write("genhtml/cov.info", lcov);
    let out = Command::new("genhtml")
        .args(["-q", "--branch-coverage", "-o"])
        .arg(scratch.path("genhtml/html"))
        .arg(&info)
        .output()
        .expect("genhtml (Debian package lcov) is required");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && err.trim().is_empty(),
        "genhtml: {err}"
    );
}

/// Shared test program (see `shared_lib_and_bins`).
pub const SHARED_LIB_RS: &str = r#"#[inline]
pub fn inl(x: u32) -> u32 {
    if x % 2 == 0 {
        x / 2
    } else {
        3 * x + 1
    }
}

pub fn pick<T: PartialOrd>(a: T, b: T) -> T {
    if a > b {
        a
    } else {
        b
    }
}

pub fn lib_own(n: u32) -> u32 {
    pick(n, 4u32)
}

#[inline]
pub fn inl_unused(x: u32) -> u32 {
    x + 1
}

#[allow(dead_code)]
fn private_unused() -> u32 {
    7
}

pub fn generic_unused<T: Clone>(t: &T) -> T {
    t.clone()
}

pub trait Greet {
    fn hello(&self) -> String {
        "hello".to_string()
    }
}

impl Greet for u8 {}
"#;

/// Shared test program (see `shared_lib_and_bins`).
pub const SHARED_BIN1_RS: &str = r#"use mylib::Greet;

fn main() {
    let n = std::env::args().count() as u32;
    println!("{}", mylib::inl(n));
    println!("{}", mylib::pick(n as u8, 2));
    println!("{}", mylib::pick(-(n as i64), 3));
    println!("{}", 7u8.hello());
}
"#;

/// Shared test program (see `shared_lib_and_bins`).
pub const SHARED_BIN2_RS: &str = r#"fn main() {
    let n = std::env::args().count() as u32;
    println!("{}", mylib::lib_own(n));
    println!("{}", mylib::inl(n + 1));
    if n > 100 {
        println!("{}", mylib::pick(1.5f32, 2.5));
    }
}
"#;

/// Builds `lib_src` as rlib `mylib` (3 codegen units) in `dir` of `s`, then
/// each `(name, source)` binary against it (4 codegen units).
pub fn build_lib_and_bins(
    s: &Scratch,
    dir: &str,
    lib_src: &str,
    bins: &[(&str, &str)],
) -> Vec<PathBuf> {
    s.write(&format!("{dir}/mylib.rs"), lib_src);
    let d = s.path(dir);
    rustc(
        &d,
        &[
            "--crate-type=rlib",
            "--crate-name=mylib",
            "-C",
            "codegen-units=3",
            "mylib.rs",
            "-o",
            "libmylib.rlib",
        ],
        &[],
    );
    bins.iter()
        .map(|(name, src)| {
            s.write(&format!("{dir}/{name}.rs"), src);
            rustc(
                &d,
                &[
                    "--extern",
                    "mylib=libmylib.rlib",
                    "-C",
                    "codegen-units=4",
                    &format!("{name}.rs"),
                    "-o",
                    name,
                ],
                &[],
            );
            d.join(name)
        })
        .collect()
}

/// The shared library with its two binaries: an `#[inline]` function used
/// downstream, generics instantiated in the library and downstream, a
/// default trait method, unused functions.
pub fn shared_lib_and_bins(s: &Scratch) -> (PathBuf, PathBuf) {
    let bins = build_lib_and_bins(
        s,
        "lib",
        SHARED_LIB_RS,
        &[("bin1", SHARED_BIN1_RS), ("bin2", SHARED_BIN2_RS)],
    );
    (bins[0].clone(), bins[1].clone())
}

/// Some file of `dir` whose name starts with `prefix` (the first
/// `read_dir` lists).
pub fn first_file_named(dir: &Path, prefix: &str) -> PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix}* file in {}", dir.display()))
}

/// Some counter file of `covdir`.
pub fn first_counter_file(covdir: &Path) -> PathBuf {
    first_file_named(covdir, "covcounters.")
}
