//! `covdata tests`: the tests (run labels) whose runs reached a line, a
//! function or a change.

use anyhow::Context as _;
use clap::{ArgGroup, Args, ValueEnum};
use covdata::tests_query::{self, render, Query};

use super::args::{FilterArgs, GateArgs, InputArgs, OutputArgs};
use super::diff::{absolute, ChangesArgs};
use super::report::write_output;
use super::report::{with_context_observed, Load};
use super::{plain, Outcome, UsageError};

pub const EXAMPLES: &str = "\
Examples:
  covdata tests -i=target/covwrap/cov --line=src/parse.rs:42
  covdata tests -i=target/covwrap/cov --function=mylib::parse
  covdata tests -i=target/covwrap/cov --base=origin/main          # the tests to rerun
  cargo nextest run -E \"$(covdata tests -i=target/covwrap/cov --base=origin/main --format=nextest-filter)\"

A run's label is the test cargo-nextest ran in it (`BINARY TEST`), the test
binary `cargo test` ran (`BINARY`), or COVWRAP_LABEL; else its argv. Counter
files that sum runs whose labels are gone (merge, merge --in-place,
COVWRAP_MERGE pools) are reported as lost, and --format=nextest-filter then
selects all(); `covdata merge --keep-labels` keeps one file per test.";

/// Output formats of `covdata tests`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TestsFormat {
    /// One test per line: LABEL and its hits
    Text,
    /// A JSON object
    Json,
    /// A filterset for `cargo nextest run -E`
    NextestFilter,
}

/// `covdata tests`'s flags.
#[derive(Args, Debug, Clone)]
#[command(group(ArgGroup::new("query").required(true).args(["line", "function", "base", "diff_file"])))]
pub struct TestsArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub output: OutputArgs,

    /// The tests that executed FILE:LINE (FILE relative to --root or here, or a unique path suffix)
    #[arg(long, value_name = "FILE:LINE")]
    pub line: Option<String>,

    /// The tests that entered a function (demangled, without generics; a `::` suffix is enough)
    #[arg(long, value_name = "NAME")]
    pub function: Option<String>,

    #[command(flatten)]
    pub changes: ChangesArgs,

    /// Output format
    #[arg(long, value_enum, default_value_t = TestsFormat::Text)]
    pub format: TestsFormat,
}

/// Runs `covdata tests`.
pub fn run(a: &TestsArgs) -> anyhow::Result<Outcome> {
    let changes = a.changes.read()?;
    let format = match a.format {
        TestsFormat::Text => render::Format::Text,
        TestsFormat::Json => render::Format::Json,
        TestsFormat::NextestFilter => render::Format::NextestFilter,
    };
    let root = absolute(a.filter.root()?)?;
    // Everything but a change's anchor is known before the load (the
    // collector matches changed files by name).
    let mut query = if let Some(spec) = &a.line {
        let (path, line) = parse_line(spec)?;
        let anchor = match &root {
            Some(r) => r.clone(),
            None => std::env::current_dir()
                .context("the current directory")?
                .to_string_lossy()
                .into_owned(),
        };
        Query::Line { path, line, anchor }
    } else if let Some(name) = &a.function {
        Query::Function(name.clone())
    } else {
        let changes = changes.as_ref().expect("clap requires one query");
        Query::Changes {
            files: changes.files.clone(),
            anchor: String::new(),
        }
    };
    let collector = tests_query::Collector::new(&query);
    with_context_observed(
        &a.input,
        &a.filter,
        &GateArgs::default(),
        Load::default(),
        Some(&collector),
        |ctx| {
            if let (Query::Changes { anchor, .. }, Some(changes)) = (&mut query, &changes) {
                *anchor = covdata::diff::anchor(root.as_deref(), changes, ctx);
            }
            let targets = tests_query::resolve(ctx, &query).map_err(plain)?;
            if let Some(w) = &targets.nothing_matched {
                eprintln!("covdata: tests: warning: {w}");
            }
            let answer = tests_query::scan(ctx, &targets, &collector).map_err(plain)?;
            if let Some(w) = answer.lost_labels_warning() {
                eprintln!("covdata: tests: warning: {w}");
            }
            if format == render::Format::NextestFilter {
                for t in answer
                    .tests
                    .iter()
                    .filter(|t| render::nextest_term(t).is_none())
                {
                    eprintln!(
                    "covdata: tests: note: `{}` is not a test nextest can select; left out of the filter",
                    t.label
                );
                }
            }
            write_output(&a.output, |out| render::write(&answer, format, out))
        },
    )
}

/// `FILE:LINE`, split at the last colon.
fn parse_line(spec: &str) -> Result<(String, u32), UsageError> {
    let bad = || {
        UsageError(format!(
            "--line={spec}: expected FILE:LINE, e.g. src/parse.rs:42"
        ))
    };
    let (file, line) = spec.rsplit_once(':').ok_or_else(bad)?;
    let line: u32 = line.parse().map_err(|_| bad())?;
    if file.is_empty() || line == 0 {
        return Err(bad());
    }
    Ok((file.to_string(), line))
}
