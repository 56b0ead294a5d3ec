//! Parity with llvm-cov 22 on real programs built with
//! `rustc -C instrument-coverage`: `covdata lcov` equals `llvm-cov export
//! -format=lcov` byte for byte (mangled, and demangled like
//! cargo-llvm-cov), `covdata percent` totals equal `llvm-cov report`'s
//! TOTAL, and `covdata profraw` output gives llvm-cov the same LCOV as the
//! original raw profiles.

mod common;

use std::path::PathBuf;

use common::*;

const MAIN_RS: &str = include_str!("programs/ex1/src/main.rs");

const UTIL_RS: &str = include_str!("programs/ex1/src/util.rs");

/// Generics, closures, macros, traits, unused functions, two runs.
#[test]
fn generics_closures_macros_traits_unused() {
    let s = Scratch::new("ex1");
    s.write("src/main.rs", MAIN_RS);
    s.write("src/util.rs", UTIL_RS);
    rustc(
        &s.dir,
        &["-C", "codegen-units=4", "src/main.rs", "-o", "main"],
        &[],
    );
    let bin = s.path("main");
    let (covdir, runs) = two_runs_covdir(&s.dir, &bin, &["-3", "0", "5", "7"], &["2"]);
    check_against_llvm(&s, &covdir, &[bin], &runs);

    // The other reports, against golden files (COVDATA_BLESS=1 rewrites
    // them; `git diff` shows what changed).
    let input = format!("-i={}", covdir.display());
    let root = format!("--root={}", s.dir.display());
    for (report, extra) in [
        ("textfmt", None),
        ("func", None),
        ("percent", None),
        ("pkglist", None),
        ("func", Some("--mangled")),
        ("percent", Some("--pkg=nothing*,m?in")),
    ] {
        let mut args = vec![report, input.as_str(), root.as_str()];
        args.extend(extra);
        let name = match extra {
            Some("--mangled") => format!("ex1.{report}.mangled.txt"),
            Some(_) => format!("ex1.{report}.filtered.txt"),
            None => format!("ex1.{report}.txt"),
        };
        golden(&name, &covdata_ok(&args));
    }
    // Without --root, the compilation directory recorded by rustc (the
    // scratch directory) is the root.
    assert_eq!(
        covdata_ok(&["textfmt", &input]),
        covdata_ok(&["textfmt", &input, &root])
    );
}

/// [`INLINE_COPY_MODULES`] called from `main` with one argument count.
const DUP_MAIN: &str = r#"fn main() {
    let n = std::env::args().count() as u32;
    println!("{} {}", b::use_b(n), c::use_c(n));
}
"#;

/// `-C opt-level=1 -C codegen-units=4`: duplicate `__llvm_prf_data`
/// records of one function, whose counters must be summed. `use_b` and
/// `use_c` carry enough code to stay in different codegen units, each with
/// its own internal copy of `inl`.
#[test]
fn duplicate_data_records() {
    let s = Scratch::new("dup");
    s.write("main.rs", &format!("{INLINE_COPY_MODULES}{DUP_MAIN}"));
    rustc(
        &s.dir,
        &[
            "-C",
            "opt-level=1",
            "-C",
            "codegen-units=4",
            "main.rs",
            "-o",
            "main",
        ],
        &[],
    );
    let bin = s.path("main");
    let (covdir, runs) = two_runs_covdir(&s.dir, &bin, &[], &["x", "y"]);
    assert_has_duplicate_records(&covdir);
    check_against_llvm(&s, &covdir, &[bin], &runs);
}

const BRANCH_RS: &str = r#"fn check(a: i32, b: bool) -> &'static str {
    if a > 3 && b {
        "big"
    } else if a < 0 || !b {
        "odd"
    } else {
        "small"
    }
}

fn pick(v: Option<i32>) -> i32 {
    match v {
        Some(x) if x > 10 => x,
        Some(x) => -x,
        None => 0,
    }
}

fn main() {
    let n = std::env::args().count() as i32;
    for i in -1..n + 3 {
        println!("{} {}", check(i, i % 2 == 0), pick(if i > 0 { Some(i * 5) } else { None }));
    }
    let mut k = 0;
    while k < n {
        k += 1;
    }
}
"#;

/// Branch regions (`-Zcoverage-options=branch`): BRDA, BRF, BRH.
#[test]
fn branch_regions() {
    let s = Scratch::new("branch");
    s.write("main.rs", BRANCH_RS);
    rustc_branch(&s.dir, &["main.rs", "-o", "main"]);
    let bin = s.path("main");
    let (covdir, runs) = two_runs_covdir(&s.dir, &bin, &["1"], &["1", "2", "3", "4"]);
    let lcov = covdata_ok(&["lcov", &format!("-i={}", covdir.display())]);
    assert!(lcov.contains("\nBRDA:"), "no branches:\n{lcov}");
    check_against_llvm(&s, &covdir, std::slice::from_ref(&bin), &runs);

    // Counts past 32 bits (llvm-cov prints BRDA counts as `unsigned`), and
    // inconsistent counters whose expressions go negative (they wrap).
    rewrite_counters(&covdir, |v| v * 0x1_0000_0001 + 3);
    check_covdir_via_profraw(&s, &covdir, std::slice::from_ref(&bin));
    rewrite_counters(&covdir, |v| if v % 2 == 0 { 1 } else { v / 3 });
    check_covdir_via_profraw(&s, &covdir, &[bin]);
}

/// rlib + bin: an `#[inline]` library function used from the binary (a
/// library copy and a downstream copy in one group), generics instantiated
/// downstream, unused library functions.
#[test]
fn rlib_and_bin() {
    let s = Scratch::new("rlib");
    let (bin1, _) = shared_lib_and_bins(&s);
    let (covdir, runs) = two_runs_covdir(&s.dir, &bin1, &[], &["1", "2"]);
    check_against_llvm(&s, &covdir, &[bin1], &runs);
}

/// A library and two binaries sharing it, reported together: equal to
/// llvm-cov with both objects (functions in both are one function).
#[test]
fn two_binaries_sharing_a_library() {
    let s = Scratch::new("multi");
    let (bin1, bin2) = shared_lib_and_bins(&s);
    let runs = [
        s.path("a.profraw"),
        s.path("b.profraw"),
        s.path("c.profraw"),
    ];
    run_profiled(&bin1, &["1"], &runs[0]);
    run_profiled(&bin2, &[], &runs[1]);
    run_profiled(&bin2, &["1", "2", "3"], &runs[2]);
    let covdir = s.path("covdir");
    make_covdir(&covdir, &[bin1.clone(), bin2.clone()], &runs);
    // llvm-cov loads objects in command-line order; covdata loads pods in
    // H order. Give llvm-cov the same order.
    let mut bins = vec![bin1, bin2];
    let hash_of = |b: &PathBuf| write_meta(&s.path("order"), b).0;
    bins.sort_by_key(hash_of);
    check_against_llvm(&s, &covdir, &bins, &runs);
}
