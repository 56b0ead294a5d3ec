//! `profraw_parse`: see covdata/tests/fuzz_harness/mod.rs, which
//! covdata/tests/fuzz_regressions.rs also replays saved inputs through.
#![no_main]

#[path = "../../covdata/tests/fuzz_harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = harness::profraw_parse(data);
});
