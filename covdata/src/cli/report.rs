//! The report subcommands over the model (`debugdump`, `textfmt`,
//! `percent`, `func`, `pkglist`, `lcov`) and what every report shares:
//! loading with warnings, the `--pkg` check, output and gates.

use std::collections::BTreeSet;
use std::io::{self, Write};

use anyhow::Context as _;
use clap::Args;
use covdata::reader::RunObserver;
use covdata::report::{self, Context, ReportOptions};
use covdata::{gate, Coverage};

use super::args::{FilterArgs, GateArgs, InputArgs, OutputArgs};
use super::{plain, warn, Outcome};

/// Flags of every report.
#[derive(Args, Debug, Clone)]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub gate: GateArgs,
}

/// Flags of the reports that print function names.
#[derive(Args, Debug, Clone)]
pub struct NamedReportArgs {
    #[command(flatten)]
    pub report: ReportArgs,
    /// Print mangled function names
    #[arg(long)]
    pub mangled: bool,
}

pub const DEBUGDUMP_EXAMPLES: &str = "\
Examples:
  covdata debugdump -i=/tmp/cov | less";
pub const TEXTFMT_EXAMPLES: &str = "\
Examples:
  covdata textfmt -i=/tmp/cov -o=cov.txt --root=$PWD
  go tool cover -func=cov.txt     # Go's tools read it";
pub const PERCENT_EXAMPLES: &str = "\
Examples:
  covdata percent -i=/tmp/cov
  covdata percent -i=/tmp/cov --pkg='myapp*' --fail-under-lines=80 --fail-under-functions=90";
pub const FUNC_EXAMPLES: &str = "\
Examples:
  covdata func -i=/tmp/cov --root=$PWD
  covdata func -i=/tmp/cov --mangled | grep -v ' 100.0%'";
pub const PKGLIST_EXAMPLES: &str = "\
Examples:
  covdata pkglist -i=/tmp/cov
  covdata pkglist -i=/tmp/cov --pkg='serde*'";
pub const LCOV_EXAMPLES: &str = "\
Examples:
  covdata lcov -i=/tmp/cov -o=lcov.info
  genhtml -o html lcov.info";

/// A report written as one stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    Debugdump,
    Textfmt,
    Percent,
    Func,
    Pkglist,
    Lcov,
}

impl Report {
    fn writer(self) -> Writer {
        match self {
            Report::Debugdump => report::debugdump::write,
            Report::Textfmt => report::textfmt::write,
            Report::Percent => report::percent::write,
            Report::Func => report::func::write,
            Report::Pkglist => report::pkglist::write,
            Report::Lcov => report::lcov::write,
        }
    }
}

/// A report's serializer.
pub type Writer = fn(&Context, &mut dyn Write) -> io::Result<()>;

/// Runs one of the stream reports.
pub fn run(report: Report, args: &ReportArgs, mangled: bool) -> anyhow::Result<Outcome> {
    let load = Load {
        // Only debugdump lists every run; other reports keep memory flat
        // in the number of counter files.
        keep_runs: report == Report::Debugdump,
        mangled,
    };
    with_context(&args.input, &args.filter, &args.gate, load, |ctx| {
        write_stream(ctx, &args.output, report.writer())
    })
}

/// How [`with_context`] loads and names.
#[derive(Clone, Copy, Debug, Default)]
pub struct Load {
    /// Keep every run's metadata (debugdump).
    pub keep_runs: bool,
    /// `--mangled`.
    pub mangled: bool,
}

/// Loads the inputs (printing warnings), checks that `--pkg` matches a
/// crate, runs `write` on the report context, then applies the gates. A
/// report that writes a directory flattens `OutputDirArgs` instead of
/// `OutputArgs` and calls this with its own groups.
pub fn with_context(
    input: &InputArgs,
    filter: &FilterArgs,
    gate: &GateArgs,
    load: Load,
    write: impl FnOnce(&Context) -> anyhow::Result<()>,
) -> anyhow::Result<Outcome> {
    with_context_observed(input, filter, gate, load, None, write)
}

/// [`with_context`], showing `observer` what the load reads (see
/// [`covdata::reader::load_observed`]).
pub fn with_context_observed(
    input: &InputArgs,
    filter: &FilterArgs,
    gate: &GateArgs,
    load: Load,
    observer: Option<&dyn RunObserver>,
    write: impl FnOnce(&Context) -> anyhow::Result<()>,
) -> anyhow::Result<Outcome> {
    let opts = report_options(filter, load.mangled)?;
    let cov = load_model_observed(input, load.keep_runs, filter.builds.all_builds, observer)?;
    check_pkg(filter, &cov)?;
    let ctx = Context::new(&cov, opts);
    write(&ctx)?;
    let thresholds = gate.thresholds();
    let outcome = if thresholds.any() {
        let failures = gate::gate(&ctx.totals(), &thresholds);
        for f in &failures {
            eprintln!("{}: {f}", super::program());
        }
        if failures.is_empty() {
            Outcome::Ok
        } else {
            Outcome::GateFailed
        }
    } else {
        Outcome::Ok
    };
    // The process ends after one report: the OS takes the model back at
    // once, where dropping it frees its allocations one by one (several
    // milliseconds for a big tree).
    std::mem::forget(ctx);
    std::mem::forget(cov);
    Ok(outcome)
}

/// The report options of the filter flags.
pub fn report_options(filter: &FilterArgs, mangled: bool) -> anyhow::Result<ReportOptions> {
    Ok(ReportOptions {
        crates: filter.pkg.crates()?,
        root: filter.root()?,
        mangled,
        files: filter.files()?,
    })
}

/// Loads the input (directories or a center) into the model, printing
/// the warnings; no pod at all is an error.
pub fn load_model(
    input: &InputArgs,
    keep_runs: bool,
    all_builds: bool,
) -> anyhow::Result<Coverage> {
    load_model_observed(input, keep_runs, all_builds, None)
}

/// [`load_model`] with an observer of the load.
fn load_model_observed(
    input: &InputArgs,
    keep_runs: bool,
    all_builds: bool,
    observer: Option<&dyn RunObserver>,
) -> anyhow::Result<Coverage> {
    let mut warnings = Vec::new();
    let cov = collect_model_observed(input, keep_runs, all_builds, observer, &mut warnings);
    warn::print(&warnings);
    cov
}

/// [`load_model`], adding the warnings (a center's skipped agents,
/// skipped inputs, dropped records) to `warnings` for the caller to print
/// (`covdata watch` prints each once, not every round).
pub fn collect_model(
    input: &InputArgs,
    keep_runs: bool,
    all_builds: bool,
    warnings: &mut Vec<String>,
) -> anyhow::Result<Coverage> {
    collect_model_observed(input, keep_runs, all_builds, None, warnings)
}

fn collect_model_observed(
    input: &InputArgs,
    keep_runs: bool,
    all_builds: bool,
    observer: Option<&dyn RunObserver>,
    warnings: &mut Vec<String>,
) -> anyhow::Result<Coverage> {
    let source = input.source()?;
    let ignore_bad = input.ignore_bad;
    let loaded = source
        .load_observed(
            covdata::LoadOptions {
                keep_runs,
                all_builds,
                ..input.load_options()
            },
            observer,
        )
        .map_err(plain)?;
    warnings.extend(loaded.warnings);
    let cov = Coverage::build_with(
        loaded.loaded,
        covdata::model::BuildOptions {
            ignore_bad,
            all_builds,
        },
    )
    .map_err(plain)?;
    warnings.extend(warn::lines(&cov));
    if cov.pods.is_empty() {
        return Err(no_data(input));
    }
    Ok(cov)
}

/// With `--pkg`, an error when it matches no crate of the inputs.
pub fn check_pkg(filter: &FilterArgs, cov: &Coverage) -> anyhow::Result<()> {
    // Every interned crate names at least one function.
    let present: BTreeSet<&str> = cov.crates.iter().map(String::as_str).collect();
    filter.pkg.check_matches(&present)
}

/// The error for inputs without a single pod.
pub fn no_data(input: &InputArgs) -> anyhow::Error {
    if input.is_center() {
        anyhow::anyhow!("the center's profile holds no coverage data for the selected agents")
    } else {
        plain(covdata::pods::no_pods(&input.dirs()))
    }
}

/// Writes one stream report to `-o` (atomically) or to standard output.
pub fn write_stream(ctx: &Context, output: &OutputArgs, write: Writer) -> anyhow::Result<()> {
    write_output(output, |w| write(ctx, w))
}

/// Writes to `-o` (atomically) or standard output.
pub fn write_output(
    output: &OutputArgs,
    write: impl FnOnce(&mut dyn io::Write) -> io::Result<()>,
) -> anyhow::Result<()> {
    match &output.output {
        Some(path) => covdata::output::write_atomic(path, write).map_err(plain),
        None => {
            let stdout = io::stdout();
            let mut out = io::BufWriter::new(stdout.lock());
            write(&mut out)
                .and_then(|()| out.flush())
                .context("writing to standard output")
        }
    }
}
