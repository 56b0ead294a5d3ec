//! Warnings printed before a report: skipped inputs and dropped records.

use covdata::{Coverage, Error, ErrorKind};

use super::program;

/// One line per skipped input, then a count of the bad ones. An empty input
/// directory next to one with data is a warning, not a bad input.
pub fn skipped(skipped: &[Error]) {
    print(&skipped_lines(skipped));
}

fn skipped_lines(skipped: &[Error]) -> Vec<String> {
    let mut lines: Vec<String> = skipped.iter().map(|e| e.to_string()).collect();
    let bad = skipped
        .iter()
        .filter(|e| *e.kind() != ErrorKind::NoData)
        .count();
    if bad > 0 {
        lines.push(covdata::ops::skipped_line(bad));
    }
    lines
}

/// [`skipped`], then what the model left out, each without the
/// `<program>: warning: ` prefix.
pub fn lines(cov: &Coverage) -> Vec<String> {
    let mut lines = skipped_lines(&cov.skipped);
    lines.extend(cov.build_notes.iter().cloned());
    if !cov.hash_mismatches.is_empty() {
        lines.push(format!(
            "{} functions have mismatched data (their counters come from a different build); they are left out, as llvm-cov does",
            cov.hash_mismatches.len()
        ));
    }
    if cov.count_mismatches > 0 {
        lines.push(format!(
            "{} profile records had a different counter count than an earlier one with the same name and hash and were not merged",
            cov.count_mismatches
        ));
    }
    lines
}

/// Prints warning lines.
pub fn print(lines: &[String]) {
    for l in lines {
        eprintln!("{}: warning: {l}", program());
    }
}

/// One note for the dense files of running processes that were skipped.
pub fn live_skipped(n: usize) {
    if n > 0 {
        eprintln!("covdata: note: skipped {n} counter files of running processes (COVWRAP_CONTINUOUS); --include-live reads them");
    }
}
