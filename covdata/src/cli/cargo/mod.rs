//! `cargo covwrap`: the cargo subcommand (binary `cargo-covwrap`). It sets
//! the environment `covwrap env` gives (covwrap as RUSTC_WRAPPER, COVDIR
//! under the target directory), runs the cargo command given with all its
//! arguments, then reports through the same groups and writers as covdata's
//! own commands.
//!
//! Its own flags come before the cargo command (as cargo-llvm-cov's do):
//! clap parses them, and the first word that is not one of them, nor
//! `report` or `clean`, starts the cargo command, passed through verbatim
//! (clap's external subcommand).

mod open;
mod reports;
mod workspace;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use super::args::{FilterArgs, GateArgs};
use super::{Outcome, UsageError};
use workspace::Workspace;

const NAME: &str = "cargo covwrap";

const HELP: &str = "\
cargo covwrap's flags come before the cargo command; everything after the command goes to
cargo unchanged:
  cargo covwrap test                          build and run with coverage, then the percent table
  cargo covwrap --html --open test            and an HTML report, opened with $BROWSER or xdg-open
  cargo covwrap --lcov=lcov.info --fail-under-lines=80 nextest run
  cargo covwrap run --bin app -- ARGS         any cargo command: build, run, test, nextest run, ...
  cargo covwrap --no-clean test --features x  add to the coverage already there
  cargo covwrap report --html                 report again on what is there
  cargo covwrap clean                         remove target/covwrap

Coverage goes to <target dir>/covwrap/cov (CARGO_TARGET_DIR and build.target-dir honoured),
emptied first unless --no-clean. Every program cargo runs and every program those start (test
binaries, doctests, binaries tests spawn through CARGO_BIN_EXE_*, examples) writes there.
After `cargo covwrap build`, run the programs with COVDIR=<target dir>/covwrap/cov, then
`cargo covwrap report`. Scripts that run cargo themselves: eval \"$(covwrap env)\".
`covdata tests -i=<target dir>/covwrap/cov --line=FILE:LINE` names the tests that ran a line.

Exit status: the cargo command's own when it fails (the report is still made); 1 when a
--fail-under-* gate fails or no report can be made; 2 bad usage.";

/// `cargo covwrap`'s command line.
#[derive(Parser, Debug)]
#[command(
    name = "cargo-covwrap",
    bin_name = "cargo covwrap",
    version,
    about = "Run a cargo command with covwrap's coverage, then report (percent table, HTML, LCOV, ...)",
    after_help = HELP,
    arg_required_else_help = true,
    allow_external_subcommands = true,
    disable_help_subcommand = true,
    max_term_width = 100
)]
pub struct CargoCli {
    #[command(flatten)]
    pub reports: ReportFlags,

    /// Keep the coverage of earlier invocations (default: start with an empty directory)
    #[arg(long)]
    pub no_clean: bool,

    #[command(flatten)]
    pub workspace: WorkspaceArgs,

    #[command(subcommand)]
    pub command: CargoCommand,
}

/// What to do.
#[derive(Subcommand, Debug)]
pub enum CargoCommand {
    /// Report again on the coverage there is (its flags may also follow `report`)
    Report(Box<ReportCommand>),
    /// Remove <target dir>/covwrap: the coverage and the default HTML report
    Clean(WorkspaceArgs),
    /// Any cargo command, with its arguments: `test`, `nextest run`, `run --bin app -- ARGS`, ...
    #[command(external_subcommand)]
    Cargo(Vec<OsString>),
}

/// `cargo covwrap report`'s own flags.
#[derive(Args, Debug)]
pub struct ReportCommand {
    #[command(flatten)]
    pub reports: ReportFlags,
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
}

/// Which workspace (its target directory holds the coverage).
#[derive(Args, Debug, Clone, Default)]
pub struct WorkspaceArgs {
    /// The workspace of this Cargo.toml (default: the one cargo finds here; a
    /// --manifest-path after the cargo command is seen too)
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
}

/// The reports to make, and what they cover.
#[derive(Args, Debug, Clone, Default)]
pub struct ReportFlags {
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub gate: GateArgs,

    /// Also an HTML report into DIR (default <target dir>/covwrap/html)
    #[arg(long, value_name = "DIR", num_args = 0..=1, require_equals = true)]
    pub html: Option<Option<PathBuf>>,

    /// Open the HTML report (implies --html) with $BROWSER or xdg-open, else print its path
    #[arg(long)]
    pub open: bool,

    /// Also LCOV into FILE
    #[arg(long, value_name = "FILE")]
    pub lcov: Option<PathBuf>,

    /// Also Cobertura XML into FILE
    #[arg(long, value_name = "FILE")]
    pub cobertura: Option<PathBuf>,

    /// Also SonarQube generic coverage XML into FILE
    #[arg(long, value_name = "FILE")]
    pub sonar: Option<PathBuf>,

    /// Also llvm-cov's JSON into FILE
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Mangled function names in the LCOV, Cobertura, JSON and HTML reports
    #[arg(long)]
    pub mangled: bool,

    /// Skip bad coverage files with a warning instead of failing
    #[arg(long)]
    pub ignore_bad: bool,
}

/// The `cargo-covwrap` binary: `cargo covwrap ARGS` runs it as
/// `cargo-covwrap covwrap ARGS`; run directly, it takes `ARGS` alone.
pub fn main() -> ExitCode {
    let _ = super::PROGRAM.set(NAME);
    let mut argv: Vec<OsString> = std::env::args_os().skip(1).collect();
    if argv.first().is_some_and(|a| a == "covwrap") {
        argv.remove(0);
    }
    let mut full = vec![OsString::from("cargo-covwrap")];
    full.extend(argv);
    let parsed = CargoCli::command()
        .try_get_matches_from(full)
        .and_then(|m| Ok((CargoCli::from_arg_matches(&m)?, m)));
    let (cli, matches) = match parsed {
        Ok(v) => v,
        Err(e) => return clap_error(e),
    };
    let given = FlagsGiven {
        before: matches.args_present(),
        after_report: matches
            .subcommand_matches("report")
            .is_some_and(|m| m.args_present()),
    };
    match run(cli, given) {
        Ok(code) => code,
        Err(e) => match e.downcast_ref::<UsageError>() {
            Some(usage) => {
                eprintln!("{NAME}: {usage}");
                ExitCode::from(2)
            }
            None => {
                eprintln!("{NAME}: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

/// Where flags were given on the command line.
struct FlagsGiven {
    before: bool,
    after_report: bool,
}

fn run(cli: CargoCli, given: FlagsGiven) -> anyhow::Result<ExitCode> {
    let manifest = cli.workspace.manifest_path;
    match cli.command {
        CargoCommand::Clean(ws) => {
            Workspace::find(ws.manifest_path.or(manifest).as_deref())?.remove()?;
            Ok(ExitCode::SUCCESS)
        }
        CargoCommand::Report(sub) => {
            if given.before && given.after_report {
                return Err(UsageError(
                    "give report's flags either before or after `report`, not both".into(),
                )
                .into());
            }
            let flags = if given.after_report {
                sub.reports
            } else {
                cli.reports
            };
            let ws = Workspace::find(sub.workspace.manifest_path.or(manifest).as_deref())?;
            Ok(exit_code(reports::make(&flags, &ws)?))
        }
        CargoCommand::Cargo(args) => {
            let ws = Workspace::find(manifest.or_else(|| manifest_in(&args)).as_deref())?;
            if !cli.no_clean {
                ws.empty_covdir()?;
            }
            let status = ws.cargo(&args)?;
            let report = reports::make_after(&cli.reports, &ws, status.success());
            if status.success() {
                return Ok(exit_code(report?));
            }
            if let Err(e) = report {
                eprintln!("{NAME}: {e}");
            }
            hint_misplaced_flags(&args);
            Ok(cargo_exit_code(status))
        }
    }
}

fn exit_code(outcome: Outcome) -> ExitCode {
    match outcome {
        Outcome::Ok => ExitCode::SUCCESS,
        Outcome::GateFailed => ExitCode::FAILURE,
    }
}

/// The failed cargo command's status as ours (a signal as a shell shows it).
fn cargo_exit_code(status: std::process::ExitStatus) -> ExitCode {
    use std::os::unix::process::ExitStatusExt;
    let code = status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1);
    ExitCode::from(u8::try_from(code).ok().filter(|&c| c != 0).unwrap_or(1))
}

/// `--manifest-path` given to the cargo command (before any `--`).
fn manifest_in(args: &[OsString]) -> Option<PathBuf> {
    let mut rest = args.iter().take_while(|a| *a != "--");
    while let Some(arg) = rest.next() {
        if arg == "--manifest-path" {
            return rest.next().map(PathBuf::from);
        }
        if let Some(path) = arg
            .to_str()
            .and_then(|a| a.strip_prefix("--manifest-path="))
        {
            return Some(PathBuf::from(path));
        }
    }
    None
}

/// After a failed cargo command: a flag of ours among cargo's arguments
/// was probably meant for us (cargo rejects `test --html`).
fn hint_misplaced_flags(args: &[OsString]) {
    let ours = super::argv::long_flags(&CargoCli::command());
    let misplaced = args
        .iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .filter_map(|a| a.to_str()?.strip_prefix("--"))
        .map(|a| a.split('=').next().unwrap_or(a))
        .find(|name| ours.contains(*name) && !["help", "version", "manifest-path"].contains(name));
    if let Some(name) = misplaced {
        let command = args[0].to_string_lossy();
        eprintln!(
            "{NAME}: note: --{name} after `{command}` went to cargo; cargo covwrap's flags come before the cargo command (cargo covwrap --{name} {command} ...)"
        );
    }
}

/// clap's errors as covdata prints them: help and version on stdout with
/// status 0, usage errors prefixed with our name, status 2.
fn clap_error(e: clap::Error) -> ExitCode {
    if !e.use_stderr() {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let rendered = e.render().to_string();
    let rendered = rendered.strip_prefix("error: ").unwrap_or(&rendered);
    eprint!("{NAME}: {rendered}");
    ExitCode::from(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> CargoCli {
        CargoCli::try_parse_from(std::iter::once("cargo-covwrap").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_cli_is_consistent() {
        CargoCli::command().debug_assert();
    }

    #[test]
    fn our_flags_come_before_the_cargo_command_which_is_passed_verbatim() {
        let cli = parse(&[
            "--html",
            "--lcov=l.info",
            "--fail-under-lines=80",
            "test",
            "--release",
            "--html",
            "--",
            "--nocapture",
        ]);
        assert_eq!(cli.reports.html, Some(None));
        assert_eq!(cli.reports.lcov, Some(PathBuf::from("l.info")));
        assert_eq!(cli.reports.gate.fail_under_lines, Some(80.0));
        let CargoCommand::Cargo(args) = cli.command else {
            panic!("{:?}", cli.command)
        };
        assert_eq!(
            args,
            os(&["test", "--release", "--html", "--", "--nocapture"])
        );

        let cli = parse(&["--html=out", "nextest", "run", "-E", "test(a)"]);
        assert_eq!(cli.reports.html, Some(Some(PathBuf::from("out"))));
        let CargoCommand::Cargo(args) = cli.command else {
            panic!()
        };
        assert_eq!(args, os(&["nextest", "run", "-E", "test(a)"]));
    }

    #[test]
    fn report_and_clean_are_ours() {
        let cli = parse(&["report", "--html", "--pkg=app*"]);
        let CargoCommand::Report(sub) = cli.command else {
            panic!()
        };
        assert_eq!(sub.reports.html, Some(None));
        assert!(matches!(parse(&["clean"]).command, CargoCommand::Clean(_)));
    }

    #[test]
    fn manifest_path_of_the_cargo_command() {
        let args = os(&["test", "--manifest-path", "a/Cargo.toml"]);
        assert_eq!(manifest_in(&args), Some(PathBuf::from("a/Cargo.toml")));
        let args = os(&["test", "--manifest-path=b/Cargo.toml"]);
        assert_eq!(manifest_in(&args), Some(PathBuf::from("b/Cargo.toml")));
        let args = os(&["run", "--", "--manifest-path=c"]);
        assert_eq!(manifest_in(&args), None);
    }
}
