//! Inputs of the runtime's fuzz targets in `fuzz/` (see fuzz/README.md),
//! replayed through the same code (`tests/fuzz_harness/mod.rs`): a few
//! small seeds cut from a real instrumented program, and every input a
//! fuzzer found a bug with, minimized. Every file under
//! `tests/fixtures/fuzz/<target>/` must come back as a value or an error,
//! never a panic; each crasher also has a test asserting what it gives now,
//! named after what it used to do.

mod fuzz_harness;
#[path = "../../fuzz/replay.rs"]
mod replay;

use covwrap_rt::format::ErrorKind;
use fuzz_harness as harness;
use replay::{input, inputs};

#[test]
fn meta_parse_inputs_return() {
    for (name, data) in inputs("meta_parse") {
        let r = harness::meta_parse(&data);
        if name.starts_with("seed-") {
            assert!(r.unwrap() > 0, "{name}");
        }
    }
}

#[test]
fn counters_parse_inputs_return() {
    for (name, data) in inputs("counters_parse") {
        let r = harness::counters_parse(&data);
        if name.starts_with("seed-") {
            assert!(r.unwrap() > 0, "{name}");
        }
    }
}

#[test]
fn dense_parse_inputs_return() {
    for (name, data) in inputs("dense_parse") {
        let r = harness::dense_parse(&data);
        if name.starts_with("seed-") {
            assert!(r.unwrap() > 0, "{name}");
        }
    }
}

#[test]
fn elf_build_meta_inputs_return() {
    for (name, data) in inputs("elf_build_meta") {
        let r = harness::elf_build_meta(&data);
        if name.starts_with("seed-") {
            assert!(r.unwrap() > 0, "{name}");
        }
    }
}

/// A valid meta file of 184 bytes whose function table claims 2^32 - 1
/// counters: covdata allocated the dense counter array (32 GiB) for it.
/// The decoder now bounds the counters by the file's size.
#[test]
fn meta_parse_used_to_allow_allocating_32_gib_of_counters() {
    let data = input("meta_parse", "used-to-allocate-32-gib-of-counters");
    let err = harness::meta_parse(&data).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Corrupt);
    assert_eq!(
        err.detail(),
        "4294967295 counters in a file of 184 bytes",
        "{err}"
    );
}

/// A 2.6 KB ELF whose `__llvm_prf_cnts` header claims 2^28 counters
/// (2 GiB): the meta builder took the count from the section header, and
/// wrote a meta file that made covdata allocate 2 GiB (then, with the
/// bound above, one that every reader rejects). It now refuses to build it.
#[test]
fn elf_build_meta_used_to_claim_2_gib_of_counters() {
    let data = input("elf_build_meta", "used-to-claim-2-gib-of-counters");
    let err = harness::elf_build_meta(&data).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Corrupt);
    assert_eq!(
        err.detail(),
        "__llvm_prf_cnts holds 268435456 counters, more than the 892 bytes of coverage mapping",
        "{err}"
    );
}
