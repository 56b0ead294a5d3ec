//! `covdata diff`: coverage of the lines a change touched (`--base=REV`
//! or `--diff-file=PATCH`), or goc's per-file comparison with another data
//! set (`--baseline=DIR`).

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{ArgGroup, Args, ValueEnum};
use covdata::diff::{self, render, ChangeSource, Changes};
use covdata::report::Context;

use super::args::{percent, FilterArgs, GateArgs, InputArgs, OutputArgs};
use super::report::{with_context, write_output, Load};
use super::{plain, Outcome, UsageError};

pub const EXAMPLES: &str = "\
Examples:
  covdata diff -i=/tmp/cov --base=origin/main
  covdata diff -i=/tmp/cov --base=origin/main --format=markdown --fail-under=90
  git diff origin/main... | covdata diff -i=/tmp/cov --diff-file=-
  covdata diff -i=/tmp/new --baseline=/tmp/old     # goc diff: per file, base vs new

--base: the changes since the merge base of REV and HEAD, uncommitted ones
included. Changed lines count when coverable (llvm-cov's line rules); a
changed .rs file without coverage data counts as uncovered. The diff's paths
are relative to --root (default: git's top level with --base, else the
recorded compilation directory).";

/// The output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Aligned columns
    Text,
    /// A table to paste into a pull-request comment
    Markdown,
    /// JSON with stable keys
    Json,
}

/// Where changed lines come from (`covdata diff`, `covdata tests`); the
/// commands' argument groups name `base` and `diff_file`.
#[derive(Args, Debug, Clone)]
pub struct ChangesArgs {
    /// Changed lines: since the merge base of REV and HEAD, plus uncommitted changes
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,

    /// Changed lines from a unified diff (- for standard input)
    #[arg(long, value_name = "PATCH")]
    pub diff_file: Option<PathBuf>,
}

impl ChangesArgs {
    /// The changed lines, `None` when neither flag was given.
    pub fn read(&self) -> anyhow::Result<Option<Changes>> {
        if let Some(base) = &self.base {
            let dir = std::env::current_dir().context("the current directory")?;
            return diff::changes(&ChangeSource::Git { dir: &dir, base })
                .map(Some)
                .map_err(plain);
        }
        let Some(path) = &self.diff_file else {
            return Ok(None);
        };
        if path.as_os_str() == "-" {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .context("reading the diff from standard input")?;
            let files =
                diff::patch::parse(&bytes).map_err(|e| anyhow::anyhow!("standard input: {e}"))?;
            return Ok(Some(Changes {
                files,
                ..Changes::default()
            }));
        }
        diff::changes(&ChangeSource::DiffFile(path))
            .map(Some)
            .map_err(plain)
    }
}

/// `covdata diff`'s flags.
#[derive(Args, Debug, Clone)]
#[command(group(ArgGroup::new("changes").required(true).args(["base", "diff_file", "baseline"])))]
pub struct DiffArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub changes: ChangesArgs,

    /// Compare per-file coverage of these directories (base) with -i (new)
    #[arg(long, value_name = "DIR[,DIR...]", value_delimiter = ',')]
    pub baseline: Vec<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,

    /// Exit 1 when the coverage of the changed lines is below PCT
    #[arg(long, value_name = "PCT", value_parser = percent)]
    pub fail_under: Option<f64>,
}

impl From<DiffFormat> for render::Format {
    fn from(f: DiffFormat) -> render::Format {
        match f {
            DiffFormat::Text => render::Format::Text,
            DiffFormat::Markdown => render::Format::Markdown,
            DiffFormat::Json => render::Format::Json,
        }
    }
}

/// Runs `covdata diff`.
pub fn run(a: &DiffArgs) -> anyhow::Result<Outcome> {
    let format = render::Format::from(a.format);
    if !a.baseline.is_empty() {
        if a.fail_under.is_some() {
            return Err(UsageError(
                "--fail-under gates changed lines (--base or --diff-file); gate totals with percent --fail-under-lines".into(),
            )
            .into());
        }
        return run_baseline(a, format);
    }
    let changes = a.changes.read()?.expect("clap requires one source");
    let mut gate_failed = None;
    with_context(
        &a.input,
        &a.filter,
        &GateArgs::default(),
        Load::default(),
        |ctx| {
            let root = absolute(a.filter.root()?)?;
            let anchor = diff::anchor(root.as_deref(), &changes, ctx);
            let patch = diff::coverage::patch_coverage(ctx, &changes.files, &anchor);
            if let Some(w) = &patch.nothing_matched {
                eprintln!("covdata: diff: warning: {w}");
            }
            write_output(&a.output, |out| render::write_patch(&patch, format, out))?;
            gate_failed = a.fail_under.and_then(|t| diff::gate(&patch, t));
            Ok(())
        },
    )?;
    if let Some(msg) = gate_failed {
        eprintln!("covdata: diff: {msg}");
        return Ok(Outcome::GateFailed);
    }
    Ok(Outcome::Ok)
}

/// A relative `--root` (`--root=.`) is the directory it names from here:
/// diff paths are joined to it and compared with absolute recorded paths.
pub(super) fn absolute(root: Option<String>) -> anyhow::Result<Option<String>> {
    match root {
        Some(r) if !covdata::paths::is_absolute(&r) => {
            let here = std::env::current_dir().context("the current directory")?;
            let here = here.to_str().ok_or_else(|| {
                UsageError(format!(
                    "--root={r}: the current directory {} is not UTF-8",
                    here.display()
                ))
            })?;
            Ok(Some(covdata::paths::join_normalized(here, &r)))
        }
        other => Ok(other),
    }
}

fn run_baseline(a: &DiffArgs, format: render::Format) -> anyhow::Result<Outcome> {
    let opts = super::report::report_options(&a.filter, false)?;
    let mut baseline = InputArgs::of(a.baseline.clone(), a.input.ignore_bad);
    baseline.include_live = a.input.include_live;
    let base = super::report::load_model(&baseline, false, a.filter.builds.all_builds)?;
    let base_ctx = Context::new(&base, opts);
    with_context(
        &a.input,
        &a.filter,
        &GateArgs::default(),
        Load::default(),
        |ctx| {
            let cmp = diff::baseline::compare(&base_ctx, ctx);
            write_output(&a.output, |out| render::write_baseline(&cmp, format, out))
        },
    )
}
