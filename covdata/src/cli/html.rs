//! `covdata html`: the HTML report directory (see covdata::report::html).

use clap::Args;

use super::args::{FilterArgs, GateArgs, InputArgs, OutputDirArgs};
use super::report::{with_context, Load};
use super::{plain, Outcome, UsageError};

/// Flags of `covdata html`.
#[derive(Args, Debug, Clone)]
pub struct HtmlArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub output: OutputDirArgs,
    #[command(flatten)]
    pub gate: GateArgs,
    /// Print mangled function names
    #[arg(long)]
    pub mangled: bool,
}

pub const EXAMPLES: &str = "\
Examples:
  covdata html -i=/tmp/cov -o=htmlcov            # then open htmlcov/index.html
  covdata html -i=/tmp/cov -o=htmlcov --root=$PWD --pkg='myapp*'
  covdata html -i=/tmp/cov -o=htmlcov --fail-under-lines=80

Sources are read under --root (default: the recorded compilation directory);
a source that cannot be read gets a page with its counts and one warning.
An existing report directory is replaced; any other non-empty directory is
refused.";

/// Writes the report, then applies the gates.
pub fn run(args: &HtmlArgs) -> anyhow::Result<Outcome> {
    let Some(dir) = args.output.output.as_deref() else {
        return Err(UsageError("html: needs -o=DIR (the report directory)".into()).into());
    };
    let load = Load {
        keep_runs: false,
        mangled: args.mangled,
    };
    with_context(&args.input, &args.filter, &args.gate, load, |ctx| {
        write_dir(ctx, dir)
    })
}

/// Writes the report directory, with one warning per missing source.
pub fn write_dir(ctx: &covdata::report::Context, dir: &std::path::Path) -> anyhow::Result<()> {
    let written = covdata::report::html::write(ctx, dir).map_err(plain)?;
    for m in &written.missing {
        eprintln!(
            "{}: warning: {}: source not found ({}); its page shows the counts only",
            super::program(),
            m.tried.display(),
            m.error
        );
    }
    Ok(())
}
