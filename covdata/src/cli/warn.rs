//! Warnings printed before a report: skipped inputs and dropped records.

use covdata::{Coverage, Error, ErrorKind};

use super::program;

/// One line per skipped input, then a count of the bad ones. An empty input
/// directory next to one with data is a warning, not a bad input.
pub fn skipped(skipped: &[Error]) {
    for e in skipped {
        eprintln!("{}: warning: {e}", program());
    }
    let bad = skipped
        .iter()
        .filter(|e| *e.kind() != ErrorKind::NoData)
        .count();
    if bad > 0 {
        eprintln!(
            "{}: warning: {}",
            program(),
            covdata::ops::skipped_line(bad)
        );
    }
}

/// Warnings about the input itself (a center's skipped agents).
pub fn source(warnings: &[String]) {
    for w in warnings {
        eprintln!("covdata: warning: {w}");
    }
}

/// [`skipped`], then what the model left out.
pub fn about(cov: &Coverage) {
    skipped(&cov.skipped);
    for note in &cov.build_notes {
        eprintln!("{}: warning: {note}", program());
    }
    if !cov.hash_mismatches.is_empty() {
        eprintln!(
            "{}: warning: {} functions have mismatched data (their counters come from a different build); they are left out, as llvm-cov does",
            program(),
            cov.hash_mismatches.len()
        );
    }
    if cov.count_mismatches > 0 {
        eprintln!(
            "{}: warning: {} profile records had a different counter count than an earlier one with the same name and hash and were not merged",
            program(),
            cov.count_mismatches
        );
    }
}

/// One note for the dense files of running processes that were skipped.
pub fn live_skipped(n: usize) {
    if n > 0 {
        eprintln!("covdata: note: skipped {n} counter files of running processes (COVWRAP_CONTINUOUS); --include-live reads them");
    }
}
