//! The subcommands that write a coverage directory: `merge` (and
//! `merge --in-place`), `subtract`, `intersect`.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use covdata::ops;

use super::args::{BuildsArgs, InputArgs, OutputDirArgs, PkgArgs};
use super::{plain, warn, Outcome, UsageError};

#[derive(Args, Debug, Clone)]
pub struct MergeArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub pkg: PkgArgs,
    #[command(flatten)]
    pub builds: BuildsArgs,
    #[command(flatten)]
    pub output: OutputDirArgs,
    /// Fold the pods of different binaries into one pod
    #[arg(long)]
    pub pcombine: bool,
    /// Compact the one input directory: fold each pod's counter files into its pool
    #[arg(long)]
    pub in_place: bool,
    /// Keep one counter file per run label (per test), so `covdata tests` still answers
    #[arg(long, conflicts_with = "pcombine")]
    pub keep_labels: bool,
}

#[derive(Args, Debug, Clone)]
pub struct SetOpArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub pkg: PkgArgs,
    #[command(flatten)]
    pub builds: BuildsArgs,
    #[command(flatten)]
    pub output: OutputDirArgs,
}

pub const MERGE_EXAMPLES: &str = "\
One pod per input pod (one per binary); --pcombine makes one pod of all.

Examples:
  covdata merge -i=/tmp/cov1,/tmp/cov2 -o=/tmp/merged
  covdata merge -i=/tmp/cov -o=/tmp/one --pcombine --pkg='myapp*'
  covdata merge --in-place -i=/tmp/cov     # compact a COVDIR that runs keep writing to
  covdata merge --in-place --keep-labels -i=/tmp/cov   # ... keeping one pool per test for `covdata tests`";
pub const SUBTRACT_EXAMPLES: &str = "\
Examples:
  covdata subtract -i=/tmp/all,/tmp/unit -o=/tmp/only-e2e   # reached by e2e runs, not by unit tests";
pub const INTERSECT_EXAMPLES: &str = "\
Examples:
  covdata intersect -i=/tmp/linux,/tmp/macos -o=/tmp/both";

/// `subtract` or `intersect`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOp {
    Subtract,
    Intersect,
}

pub fn run_merge(args: &MergeArgs) -> anyhow::Result<Outcome> {
    let dirs = args.input.dirs();
    let ignore_bad = args.input.ignore_bad;
    if args.in_place {
        if args.input.is_center() {
            return Err(usage("--in-place compacts a directory, not a --center"));
        }
        if dirs.len() != 1 {
            return Err(usage("--in-place compacts exactly one directory (-i=DIR)"));
        }
        if args.output.output.is_some() || args.pcombine || args.pkg.pkg()?.is_some() {
            return Err(usage("--in-place takes no -o, --pcombine or --pkg"));
        }
        return compact(&dirs[0], ignore_bad, args.keep_labels);
    }
    if args.keep_labels && args.pkg.pkg()?.is_some() {
        return Err(usage(
            "--keep-labels takes no --pkg (merge with --keep-labels first, then filter the reports)",
        ));
    }
    let out = out_dir(&args.output, &dirs)?;
    let opts = op_options(&args.pkg, args.builds, ignore_bad)?;
    // With --keep-labels the runs are summed per label as they are read.
    let labels = args
        .keep_labels
        .then(|| std::sync::Arc::new(ops::labels::LabelSums::default()));
    let observer = labels
        .as_deref()
        .map(|l| l as &dyn covdata::reader::RunObserver);
    let loaded = args
        .input
        .source()?
        .load_observed(args.input.load_options(), observer)
        .map_err(plain)?;
    warn::print(&loaded.warnings);
    let loaded = loaded.loaded;
    let output = ops::merge(
        &loaded,
        &ops::MergeOptions {
            pcombine: args.pcombine,
            op: opts,
            keep_labels: labels,
        },
    )
    .map_err(plain)?;
    finish(output, &args.pkg, &args.input, out)
}

pub fn run_set_op(op: SetOp, args: &SetOpArgs) -> anyhow::Result<Outcome> {
    let dirs = args.input.dirs();
    if args.input.is_center() {
        return Err(usage("takes input directories (-i=A,B); write a center's profile with covdata profile -o=DIR first"));
    }
    match op {
        SetOp::Subtract if dirs.len() != 2 => {
            return Err(usage(format!(
                "needs exactly two input directories (-i=A,B), got {}",
                dirs.len()
            )));
        }
        SetOp::Intersect if dirs.len() < 2 => {
            return Err(usage(format!(
                "needs at least two input directories (-i=A,B,...), got {}",
                dirs.len()
            )));
        }
        _ => {}
    }
    let out = out_dir(&args.output, &dirs)?;
    let opts = op_options(&args.pkg, args.builds, args.input.ignore_bad)?;
    let mut inputs = Vec::with_capacity(dirs.len());
    for dir in &dirs {
        let one = std::slice::from_ref(dir);
        inputs.push(covdata::load(one, args.input.load_options()).map_err(plain)?);
    }
    let output = match op {
        SetOp::Subtract => ops::subtract(&inputs, &opts),
        SetOp::Intersect => ops::intersect(&inputs, &opts),
    }
    .map_err(plain)?;
    finish(output, &args.pkg, &args.input, out)
}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    UsageError(msg.into()).into()
}

fn op_options(
    pkg: &PkgArgs,
    builds: BuildsArgs,
    ignore_bad: bool,
) -> anyhow::Result<ops::OpOptions> {
    Ok(ops::OpOptions {
        crates: pkg.crates()?,
        ignore_bad,
        all_builds: builds.all_builds,
    })
}

/// `-o=OUTDIR`, required, and not one of the inputs.
fn out_dir<'a>(output: &'a OutputDirArgs, inputs: &[PathBuf]) -> anyhow::Result<&'a Path> {
    let Some(out) = output.output.as_deref() else {
        return Err(usage("needs -o=OUTDIR"));
    };
    if let Ok(canonical) = out.canonicalize() {
        for input in inputs {
            if input.canonicalize().is_ok_and(|i| i == canonical) {
                return Err(usage(format!(
                    "the output directory {} is also an input (use merge --in-place to compact a directory)",
                    input.display()
                )));
            }
        }
    }
    Ok(out)
}

fn finish(
    output: ops::Output,
    pkg: &PkgArgs,
    input: &InputArgs,
    out: &Path,
) -> anyhow::Result<Outcome> {
    warn::skipped(&output.skipped);
    for note in &output.notes {
        eprintln!("covdata: {note}");
    }
    if output.saturated {
        eprintln!(
            "covdata: warning: some counts saturated at 2^64-1; the output's counter files are flagged as saturated"
        );
    }
    if output.files.is_empty() {
        if let Some(pkg) = pkg.pkg()? {
            anyhow::bail!("no function of the inputs belongs to a crate matching --pkg={pkg}");
        }
        return Err(super::report::no_data(input));
    }
    output.write_to(out).map_err(plain)?;
    Ok(Outcome::Ok)
}

fn compact(dir: &Path, ignore_bad: bool, keep_labels: bool) -> anyhow::Result<Outcome> {
    let report = ops::compact(
        dir,
        ops::CompactOptions {
            ignore_bad,
            keep_labels,
        },
    )
    .map_err(plain)?;
    warn::skipped(&report.skipped);
    for e in &report.not_deleted {
        eprintln!("covdata: warning: {e} (the pool lists it as absorbed; readers ignore it)");
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    for p in &report.pods {
        let labels = if keep_labels {
            format!("\tlabel pools {}", p.label_pools)
        } else {
            String::new()
        };
        writeln!(
            out,
            "{}\tfolded {} files\truns {}{labels}",
            p.pool.display(),
            p.folded,
            p.runs
        )
        .context("writing to standard output")?;
    }
    out.flush().context("writing to standard output")?;
    Ok(Outcome::Ok)
}
