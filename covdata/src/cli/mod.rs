//! covdata's command line (clap derive).
//!
//! How to add a subcommand (e.g. `html`):
//! 1. Write `cli/html.rs` with `#[derive(clap::Args)] pub struct HtmlArgs`
//!    that flattens the shared groups of [`args`] it takes
//!    (`#[command(flatten)] pub input: InputArgs`, likewise `FilterArgs`,
//!    `OutputArgs` or `OutputDirArgs`, `GateArgs`), so each flag means the
//!    same everywhere, plus its own flags, a `pub const EXAMPLES: &str`, and
//!    `pub fn run(args: &HtmlArgs) -> anyhow::Result<Outcome>`. A report over
//!    the model calls [`report::with_context`]`(&a.input, &a.filter,
//!    &a.gate, report::Load::default(), |ctx| ...)`, which loads, prints warnings,
//!    checks `--pkg`, runs the closure and applies the gates as every report
//!    does; a stream report writes with [`report::write_stream`]. Return
//!    `UsageError` for bad usage found after parsing (exit 2); any other
//!    error is bad input (exit 1, printed as `covdata: <error>`).
//! 2. Here: `mod html;`, one variant `Html(html::HtmlArgs)` in [`Command`]
//!    (its doc comment is the one-line help; `#[command(after_help =
//!    html::EXAMPLES)]`), one arm `Command::Html(a) => html::run(a)` in
//!    [`Command::run`].
//! 3. A flag shared by several commands goes into a group of `args.rs`
//!    (e.g. `--exclude-files` into `FilterArgs`, `--center` into
//!    `InputArgs`), never into one command alone.
//!
//! Go's single-dash long flags (`-pkg=GLOBS`) are turned into `--pkg=GLOBS`
//! before clap parses ([`argv::normalise`]); a new long flag gets that for
//! free. Exit status: 0 ok, 1 bad input, failed output or failed gate, 2 bad
//! usage (clap's errors and [`UsageError`]).

mod args;
mod argv;
pub mod cargo;
mod center;
mod completions;
mod diff;
mod exports;
mod html;
mod ops;
mod profraw;
mod report;
mod tests_cmd;
mod warn;

use std::ffi::OsString;
use std::fmt;
use std::io;
use std::process::ExitCode;
use std::sync::OnceLock;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

const EXAMPLES: &str = "\
Examples:
  covdata percent -i=/tmp/cov
  covdata textfmt -i=/tmp/cov -o=cov.txt --root=$PWD
  covdata lcov -i=/tmp/cov1,/tmp/cov2 --pkg='myapp*' -o=lcov.info
  covdata merge -i=/tmp/cov -o=/tmp/merged

Go's spellings work too: -i=DIR, -o=FILE, -pkg=GLOBS, -root=DIR.
Exit status: 0 ok, 1 bad input or a failed --fail-under-* gate, 2 bad usage.";

/// Reports over covwrap coverage directories (COVDIRs).
#[derive(Parser, Debug)]
#[command(
    name = "covdata",
    version,
    about = "Reports over covwrap coverage directories (COVDIRs), with llvm-cov's numbers",
    after_help = EXAMPLES,
    arg_required_else_help = true,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands, in the order `covdata --help` lists them.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Dump pods, functions and runs (format not stable)
    #[command(after_help = report::DEBUGDUMP_EXAMPLES)]
    Debugdump(report::ReportArgs),
    /// Go legacy text profile (mode: count), one line per code region
    #[command(after_help = report::TEXTFMT_EXAMPLES)]
    Textfmt(report::ReportArgs),
    /// Line, region and function coverage per crate, then the total
    #[command(after_help = report::PERCENT_EXAMPLES)]
    Percent(report::ReportArgs),
    /// Line coverage per function, then the total
    #[command(after_help = report::FUNC_EXAMPLES)]
    Func(report::NamedReportArgs),
    /// Crate names, sorted
    #[command(after_help = report::PKGLIST_EXAMPLES)]
    Pkglist(report::ReportArgs),
    /// LCOV tracefile, as llvm-cov export -format=lcov writes it
    #[command(after_help = report::LCOV_EXAMPLES)]
    Lcov(report::NamedReportArgs),
    /// Cobertura XML (coverage-04.dtd), for GitLab, Jenkins and Codecov
    #[command(after_help = exports::COBERTURA_EXAMPLES)]
    Cobertura(report::NamedReportArgs),
    /// SonarQube generic coverage XML (sonar.coverageReportPaths)
    #[command(after_help = exports::SONAR_EXAMPLES)]
    Sonar(report::ReportArgs),
    /// JSON in llvm-cov export -format=text's schema
    #[command(after_help = exports::JSON_EXAMPLES)]
    Json(report::NamedReportArgs),
    /// Coverage of the lines a change touched (--base, --diff-file), or per file against a baseline
    #[command(after_help = diff::EXAMPLES)]
    Diff(diff::DiffArgs),
    /// The tests (run labels) that reached a line, a function or a change
    #[command(after_help = tests_cmd::EXAMPLES)]
    Tests(tests_cmd::TestsArgs),
    /// HTML report into -o=DIR: index.html + one page per source file, offline
    #[command(after_help = html::EXAMPLES)]
    Html(html::HtmlArgs),
    /// One LLVM raw profile (version 10) per pod into -o=OUTDIR
    #[command(after_help = profraw::EXAMPLES)]
    Profraw(profraw::ProfrawArgs),
    /// Sum all runs into -o=OUTDIR, or compact one directory (--in-place)
    #[command(after_help = ops::MERGE_EXAMPLES)]
    Merge(ops::MergeArgs),
    /// The regions A reaches and B does not, into -o=OUTDIR
    #[command(after_help = ops::SUBTRACT_EXAMPLES)]
    Subtract(ops::SetOpArgs),
    /// The regions every input reaches, into -o=OUTDIR
    #[command(after_help = ops::INTERSECT_EXAMPLES)]
    Intersect(ops::SetOpArgs),
    /// Run a center: agents dial in, clients profile, clear, remove, init
    #[command(after_help = center::SERVE_EXAMPLES)]
    Serve(center::ServeArgs),
    /// List a center's agents, one row each (id, service, host, pid, status, ...)
    #[command(after_help = center::AGENTS_EXAMPLES)]
    Agents(center::CenterArgs),
    /// A center's live profile into -o=DIR, as a COVDIR
    #[command(after_help = center::PROFILE_EXAMPLES)]
    Profile(center::ProfileArgs),
    /// Reset the selected agents' counters and drop their stored counters
    #[command(after_help = center::CLEAR_EXAMPLES)]
    Clear(center::CenterArgs),
    /// Drop agents from a center's registry (--data: their counters too)
    #[command(after_help = center::REMOVE_EXAMPLES)]
    Remove(center::RemoveArgs),
    /// Empty a center's registry and data, and reset every connected agent
    #[command(after_help = center::INIT_EXAMPLES)]
    Init(center::CenterArgs),
    /// Print a shell completion script to standard output
    #[command(after_help = completions::EXAMPLES)]
    Completions(completions::CompletionsArgs),
}

impl Command {
    fn run(&self) -> anyhow::Result<Outcome> {
        use report::Report;
        match self {
            Command::Debugdump(a) => report::run(Report::Debugdump, a, false),
            Command::Textfmt(a) => report::run(Report::Textfmt, a, false),
            Command::Percent(a) => report::run(Report::Percent, a, false),
            Command::Func(a) => report::run(Report::Func, &a.report, a.mangled),
            Command::Pkglist(a) => report::run(Report::Pkglist, a, false),
            Command::Lcov(a) => report::run(Report::Lcov, &a.report, a.mangled),
            Command::Cobertura(a) => exports::cobertura(a),
            Command::Sonar(a) => exports::sonar(a),
            Command::Json(a) => exports::json(a),
            Command::Diff(a) => diff::run(a),
            Command::Tests(a) => tests_cmd::run(a),
            Command::Html(a) => html::run(a),
            Command::Profraw(a) => profraw::run(a),
            Command::Merge(a) => ops::run_merge(a),
            Command::Subtract(a) => ops::run_set_op(ops::SetOp::Subtract, a),
            Command::Intersect(a) => ops::run_set_op(ops::SetOp::Intersect, a),
            Command::Serve(a) => center::serve(a),
            Command::Agents(a) => center::agents(a),
            Command::Profile(a) => center::profile(a),
            Command::Clear(a) => center::clear(a),
            Command::Remove(a) => center::remove(a),
            Command::Init(a) => center::init(a),
            Command::Completions(a) => completions::run(a),
        }
    }
}

/// How a command that did not fail ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// All done.
    Ok,
    /// The output is written, but a `--fail-under-*` gate failed (its lines
    /// are printed): exit status 1.
    GateFailed,
}

/// Bad usage found after parsing (exit status 2), e.g. subtract with three
/// inputs or a glob that is not UTF-8.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Parses `std::env::args_os()`, runs the command, maps the result to an
/// exit status.
pub fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().skip(1).collect();
    let longs = argv::long_flags(&Cli::command());
    let mut full = vec![OsString::from("covdata")];
    full.extend(argv::normalise(argv, &longs));
    let parsed = Cli::command()
        .try_get_matches_from(full)
        .and_then(|m| Ok((Cli::from_arg_matches(&m)?, m)));
    let (cli, matches) = match parsed {
        Ok(v) => v,
        Err(e) => return clap_error(e),
    };
    let name = matches.subcommand_name().unwrap_or_default();
    let result = cli.command.run();
    warn::live_skipped(covdata::dense::take_live_skipped());
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::GateFailed) => ExitCode::FAILURE,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => match e.downcast_ref::<UsageError>() {
            Some(usage) => {
                eprintln!("covdata: {name}: {usage}");
                ExitCode::from(2)
            }
            None => {
                eprintln!("covdata: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

/// `--help` and `--version` go to stdout with status 0; usage errors start
/// with `covdata: ` (clap's wording, its tip and usage lines after), status 2.
fn clap_error(e: clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if !e.use_stderr() {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let rendered = e.render().to_string();
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        eprint!("{rendered}");
        return ExitCode::from(2);
    }
    let mut lines = rendered.lines();
    let first = lines.next().unwrap_or_default();
    let first = match (e.kind(), e.get(ContextKind::InvalidSubcommand)) {
        (ErrorKind::InvalidSubcommand, Some(ContextValue::String(name))) => {
            format!("unknown command {name:?}")
        }
        _ => first.strip_prefix("error: ").unwrap_or(first).to_string(),
    };
    eprintln!("covdata: {first}");
    for line in lines {
        eprintln!("{line}");
    }
    ExitCode::from(2)
}

/// The name this process's messages start with: `covdata`, unless the
/// process is `cargo covwrap` (set once, at its start).
static PROGRAM: OnceLock<&'static str> = OnceLock::new();

/// The name messages on the shared report path start with.
pub(crate) fn program() -> &'static str {
    PROGRAM.get().copied().unwrap_or("covdata")
}

/// Keeps the library error's one-line message as the whole message.
fn plain(e: covdata::Error) -> anyhow::Error {
    anyhow::Error::msg(e.to_string())
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_is_consistent() {
        Cli::command().debug_assert();
    }
}
