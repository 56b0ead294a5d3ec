//! Inputs of the fuzz targets in `fuzz/` (see fuzz/README.md), replayed
//! through the same code (`tests/fuzz_harness/mod.rs`): a few small seeds
//! cut from a real instrumented program, and every input a fuzzer found a
//! bug with, minimized. Every file under `tests/fixtures/fuzz/<target>/`
//! must come back as a value or an error, never a panic or a hang; each
//! crasher also has a test asserting what it gives now, named after what
//! it used to do.

mod fuzz_harness;
#[path = "../../fuzz/replay.rs"]
mod replay;

use std::path::PathBuf;

use covdata::model::summary::Ratio;
use covdata::ErrorKind;
use fuzz_harness as harness;
use replay::{input, inputs};

/// A scratch COVDIR for `covdir_report`, removed afterwards.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("covdata-fuzz-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn llvm_names_inputs_return() {
    for (name, data) in inputs("llvm_names") {
        let r = harness::llvm_names(&data);
        if !name.starts_with("bad-") {
            assert!(r.unwrap() > 0, "{name}");
        }
    }
}

#[test]
fn llvm_covmap_inputs_return() {
    for (name, data) in inputs("llvm_covmap") {
        let r = harness::llvm_covmap(&data);
        if !name.starts_with("bad-") {
            assert_eq!(r.unwrap(), 1, "{name}");
        }
    }
}

#[test]
fn llvm_mapping_inputs_return() {
    for (name, data) in inputs("llvm_mapping") {
        let r = harness::llvm_mapping(&data);
        if name.starts_with("seed-") {
            let summary = r.unwrap().unwrap_or_else(|| panic!("{name}: dropped"));
            assert!(summary.lines.total > 0, "{name}");
        }
    }
}

#[test]
fn profraw_parse_inputs_return() {
    for (name, data) in inputs("profraw_parse") {
        let r = harness::profraw_parse(&data);
        if name.starts_with("seed-") {
            assert_eq!(r.unwrap(), 1, "{name}");
        }
    }
}

#[test]
fn crate_of_inputs_return() {
    for (name, data) in inputs("crate_of") {
        let c = harness::crate_of(&data);
        if name.starts_with("seed-") {
            assert_eq!(c, "main", "{name}");
        }
    }
}

#[test]
fn covdir_report_inputs_return() {
    let scratch = Scratch::new("all");
    for (name, data) in inputs("covdir_report") {
        let r = harness::covdir_report(&data, &scratch.0);
        if name.starts_with("seed-") {
            assert!(r.unwrap_or_else(|e| panic!("{name}: {e}")) > 0, "{name}");
        }
    }
}

/// One code region from line 1 to line 2^32 - 1: line totals (every
/// summary) visited each of its 4 294 967 295 lines one by one, minutes of
/// work from 16 bytes. They now count runs of lines.
#[test]
fn llvm_mapping_used_to_visit_4_billion_lines_to_count_them() {
    let data = input("llvm_mapping", "used-to-visit-4-billion-lines");
    let summary = harness::llvm_mapping(&data).unwrap().unwrap();
    let all = Ratio {
        covered: u64::from(u32::MAX),
        total: u64::from(u32::MAX),
    };
    assert_eq!(summary.lines, all);
}

/// Several expansion regions of the same file id, nested a few levels:
/// the walk over nested expansions for the branch summary was exponential
/// (LLVM asserts that a file id is expanded at most once).
#[test]
fn llvm_mapping_used_to_walk_repeated_expansions_exponentially() {
    let data = input("llvm_mapping", "used-to-walk-expansions-exponentially");
    let err = harness::llvm_mapping(&data).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Corrupt);
    assert!(err.detail().contains("is expanded twice"), "{err}");
}

/// A function table claiming about 4 billion counters in a meta file of a
/// few hundred bytes: loading the pod allocated the dense counter array,
/// 32 GiB, before reading a counter file.
#[test]
fn covdir_report_used_to_allocate_32_gib_of_counters() {
    let scratch = Scratch::new("oom");
    let data = input("covdir_report", "used-to-allocate-32-gib-of-counters");
    let err = harness::covdir_report(&data, &scratch.0).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Corrupt);
    assert!(err.detail().contains("counters in a file of"), "{err}");
}

/// A function record whose mapping has no file ids (so no regions):
/// `debugdump` printed the path of the function's first file and panicked
/// on the empty file list. It now prints `?`.
#[test]
fn covdir_report_used_to_panic_on_a_function_without_files() {
    let scratch = Scratch::new("nofiles");
    let data = input("covdir_report", "used-to-panic-on-a-function-without-files");
    assert_eq!(harness::covdir_report(&data, &scratch.0).unwrap(), 1);
    let cov = covdata::load_coverage(std::slice::from_ref(&scratch.0), false).unwrap();
    let ctx = covdata::report::Context::new(&cov, Default::default());
    let mut out = Vec::new();
    covdata::report::debugdump::write(&ctx, &mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("    fuzz::f [fuzz] ?:0:0 hash="), "{out}");
}

/// A mapping whose file ids form one chain of `n` expansions (file id k
/// expands k + 1), with a branch region in each expanded file.
fn nested_expansions(n: u64) -> Vec<u8> {
    fn uleb(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }
    // Harness header: one filename, counter pattern 1; then n file ids
    // (all filename 0) and no expressions.
    let mut m = vec![0, 1];
    uleb(n, &mut m);
    m.extend(std::iter::repeat_n(0, n as usize + 1));
    for k in 1..n {
        // Two regions: the expansion of file id k, a branch (#1, 0).
        m.push(2);
        uleb((k << 3) | 4, &mut m);
        m.extend([1, 1, 0, 2]);
        m.extend([0x20, 0x05, 0x00, 1, 1, 0, 2]);
    }
    // The last file: one code region with counter #0.
    m.extend([1, 0x01, 1, 1, 0, 2]);
    m
}

/// Expansions nested 3000 deep (a 40 KB mapping): the branch summary and
/// lcov's branch order walked them recursively and overflowed a small
/// thread stack (an abort, not a panic, so `--ignore-bad` could not help).
/// The walks now keep their own stack.
#[test]
fn llvm_mapping_used_to_overflow_the_stack_on_deeply_nested_expansions() {
    let data = nested_expansions(3000);
    let summary = std::thread::Builder::new()
        .stack_size(128 << 10)
        .spawn(move || harness::llvm_mapping(&data).unwrap().unwrap())
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(
        summary.branches,
        Ratio {
            covered: 2999,
            total: 2999
        }
    );
}

/// Expansions nested 50 000 deep (a 700 KB mapping): settling their
/// counts took a pass over all regions per nesting level, minutes of
/// work. Each chain is now followed once; the outermost expansion takes
/// the counter of the innermost file's code region.
#[test]
fn llvm_mapping_used_to_settle_nested_expansions_in_quadratic_time() {
    use covdata::llvm::mapping::{Counter, Mapping, RegionKind};
    let data = nested_expansions(50_000);
    let m = Mapping::decode(&data[2..], 1).unwrap();
    let expansions: Vec<_> = m
        .regions
        .iter()
        .filter(|r| r.kind == RegionKind::Expansion)
        .collect();
    assert_eq!(expansions.len(), 49_999);
    assert!(expansions.iter().all(|r| r.count == Counter::Ref(0)));
}

/// A legacy `_ZN` name whose first length is 2^64 - 1: the end of the
/// segment overflowed (a panic with overflow checks, a wrapped index
/// without). The name now falls through to the demangler, which keeps it.
#[test]
fn crate_of_used_to_overflow_a_legacy_length() {
    let data = input("crate_of", "used-to-overflow-a-legacy-length");
    assert_eq!(harness::crate_of(&data), "_ZN18446744073709551615");
}

/// A names blob of 4 KB of deflate (4 MiB of zeros) claiming 1 GiB: the
/// claim was the only limit, so inflating allocated toward 1 GiB before
/// anything checked it. A claim beyond 256:1 is now refused up front.
#[test]
fn llvm_names_used_to_inflate_1gib_from_4kb() {
    let data = input("llvm_names", "bad-used-to-inflate-1gib-from-4kb");
    let err = harness::llvm_names(&data).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Corrupt);
    assert!(err.to_string().contains("decompression bomb"), "{err}");
}
