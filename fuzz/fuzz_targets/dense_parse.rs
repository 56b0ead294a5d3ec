//! `dense_parse`: see runtime/tests/fuzz_harness/mod.rs, which
//! runtime/tests/fuzz_regressions.rs also replays saved inputs through.
#![no_main]

#[path = "../../runtime/tests/fuzz_harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = harness::dense_parse(data);
});
