//! `covdata tests`: which tests (run labels) reach a line, a function or
//! a change, with every counter file read once. Before the load, a
//! [`Collector`] finds in the meta files the few counters any function
//! record the query could resolve to uses; the load sums every run as for
//! any report and shows each run to the collector, which keeps its values
//! there ([`collect`]). The query is then resolved against the summed
//! model to the function records that decide it ([`resolve`]), and those
//! are evaluated with each run's kept values ([`scan`]). Memory holds the
//! summed counters, and per run that reached a candidate counter its
//! label and its few values there (interned).
//!
//! ```text
//! let collector = tests_query::Collector::new(&query);
//! let loaded = covdata::reader::load_observed(&dirs, opts, Some(&collector))?;
//! let ctx = Context::new(&Coverage::build(loaded, false)?, report_options);
//! let targets = tests_query::resolve(&ctx, &query)?;
//! let answer = tests_query::scan(&ctx, &targets, &collector)?;
//! tests_query::render::write(&answer, Format::Text, &mut out)?;
//! ```
//!
//! A run's label is its counter file's `label` (docs/FORMAT.md: the
//! runtime records nextest's test, `cargo test`'s test binary, or
//! `COVWRAP_LABEL`), else its argv. A file summing several runs without a
//! label (a merge, a pool) cannot say which test did what: it is counted
//! in [`Answer::unlabelled_merged`], never guessed.

pub mod collect;
pub mod render;
pub mod resolve;
pub mod scan;

pub use collect::Collector;
pub use resolve::{resolve, Query, Targets};
pub use scan::scan;

/// One test (label) that reached the query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestHits {
    /// The run label (or the argv of unlabelled runs).
    pub label: String,
    /// Whether `label` is a recorded label (not an argv fallback).
    pub labelled: bool,
    /// The runner the label comes from (`label-source`: `nextest`,
    /// `cargo-test`); `None` for a label the user set.
    pub source: Option<String>,
    /// Runs with this label that reached the query.
    pub runs: u64,
    /// Executions: the line's count, the function's entry count, or the
    /// sum of the changed lines' counts, over those runs.
    pub hits: u64,
    /// Target lines (or functions) reached, at most [`Answer::targets`].
    pub reached: u64,
}

/// The answer to a query.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Answer {
    /// What was asked, in words (`src/parse.rs:42`, `3 changed lines`).
    pub query: String,
    /// Target lines (or functions) the query names that hold code.
    pub targets: u64,
    /// Of those, the ones some run reached.
    pub reached_targets: u64,
    /// The tests that reached the query, sorted by label.
    pub tests: Vec<TestHits>,
    /// Counter files read.
    pub files: u64,
    /// Files that sum several runs without a label and reached the query,
    /// and how many runs they sum: their tests are unknown.
    pub unlabelled_merged: Option<(u64, u64)>,
}

impl Answer {
    /// The one-line warning for runs whose labels a merge lost, if any.
    pub fn lost_labels_warning(&self) -> Option<String> {
        self.unlabelled_merged.map(|(files, runs)| {
            format!(
                "{files} counter file(s) summing {runs} runs without labels reached the query (a merge or a COVWRAP_MERGE pool lost which tests they were); the list is incomplete: query the unmerged directory, or merge with --keep-labels, and leave COVWRAP_MERGE unset when attribution matters"
            )
        })
    }
}
