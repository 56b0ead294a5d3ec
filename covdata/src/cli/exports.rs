//! The CI report formats: `cobertura`, `sonar`, `json` (stream reports over
//! the model, flags as every report: input, `--pkg`/`--root`, `-o`, gates).

use covdata::report;

use super::args::OutputArgs;
use super::report::{with_context, write_stream, Load, NamedReportArgs, ReportArgs, Writer};
use super::Outcome;

pub const COBERTURA_EXAMPLES: &str = "\
Examples:
  covdata cobertura -i=/tmp/cov -o=coverage.xml
  covdata cobertura -i=/tmp/cov --pkg='myapp*' -o=coverage.xml   # smaller (GitLab: 10 MiB)
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) covdata cobertura -i=/tmp/cov -o=coverage.xml

<source> is --root (default: the recorded compilation directory); filenames
are relative to it. timestamp: SOURCE_DATE_EPOCH when set, else the time of
the latest run in the inputs, so the same inputs give the same bytes.";

pub const SONAR_EXAMPLES: &str = "\
Examples:
  covdata sonar -i=/tmp/cov -o=sonar.xml --root=$PWD
  sonar-scanner -Dsonar.coverageReportPaths=sonar.xml

Paths are relative to --root (default: the recorded compilation directory);
make it the directory sonar.projectBaseDir names.";

pub const JSON_EXAMPLES: &str = "\
Examples:
  covdata json -i=/tmp/cov -o=coverage.json
  covdata json -i=/tmp/cov --mangled -o=coverage.json   # = llvm-cov export -format=text";

/// Runs one of the formats.
fn run(write: Writer, args: &ReportArgs, mangled: bool) -> anyhow::Result<Outcome> {
    let load = Load {
        mangled,
        ..Load::default()
    };
    with_context(&args.input, &args.filter, &args.gate, load, |ctx| {
        write_stream(ctx, &args.output, write)
    })
}

/// `covdata cobertura`. A bad `SOURCE_DATE_EPOCH` is reported before
/// anything is written.
pub fn cobertura(a: &NamedReportArgs) -> anyhow::Result<Outcome> {
    let load = Load {
        mangled: a.mangled,
        ..Load::default()
    };
    let args = &a.report;
    with_context(&args.input, &args.filter, &args.gate, load, |ctx| {
        write_cobertura(ctx, &args.output)
    })
}

/// Writes Cobertura to `output`, after checking `SOURCE_DATE_EPOCH`.
pub fn write_cobertura(ctx: &report::Context, output: &OutputArgs) -> anyhow::Result<()> {
    report::cobertura::timestamp_ms(ctx).map_err(anyhow::Error::msg)?;
    write_stream(ctx, output, report::cobertura::write)
}

/// `covdata sonar`.
pub fn sonar(a: &ReportArgs) -> anyhow::Result<Outcome> {
    run(report::sonar::write, a, false)
}

/// `covdata json`.
pub fn json(a: &NamedReportArgs) -> anyhow::Result<Outcome> {
    run(report::json::write, &a.report, a.mangled)
}
