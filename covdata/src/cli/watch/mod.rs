//! `covdata watch`: collect every `--every`, and when the coverage changed
//! since the last round, write every requested report atomically, bump
//! the persisted `{version}` and run `--on-change`. One status line per
//! round; failures are reported once and never end the loop; SIGTERM and
//! SIGINT end it after the current round's writes (see docs/COVDATA.md).
//!
//! - `mod.rs`: the flags, the checks made before the first round, the loop;
//! - [`round`]: one round (collect, compare, write, run, report);
//! - [`control`]: signals and sleeping;
//! - [`command`]: the `--on-change` child process.

mod command;
mod control;
mod round;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;
use covdata::watch::state::{State, StateLock, FILE_NAME};
use covdata::watch::{clock, template};

use super::args::{FilterArgs, InputArgs};
use super::report::report_options;
use super::{plain, Outcome, UsageError};
use round::{Kind, Output, Watcher};

/// Flags of `covdata watch`.
#[derive(Args, Debug, Clone)]
pub struct WatchArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub filter: FilterArgs,

    /// How often to collect (60s, 500ms, 5m, 1h)
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = every)]
    pub every: Duration,

    /// Write the LCOV tracefile to FILE
    #[arg(long, value_name = "FILE")]
    pub lcov: Option<PathBuf>,

    /// Write SonarQube generic coverage XML to FILE
    #[arg(long, value_name = "FILE")]
    pub sonar: Option<PathBuf>,

    /// Write Cobertura XML to FILE
    #[arg(long, value_name = "FILE")]
    pub cobertura: Option<PathBuf>,

    /// Write llvm-cov export's JSON to FILE
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Write Go's text profile to FILE
    #[arg(long, value_name = "FILE")]
    pub textfmt: Option<PathBuf>,

    /// Write the HTML report into DIR
    #[arg(long, value_name = "DIR")]
    pub html: Option<PathBuf>,

    /// After the outputs changed, run COMMAND with sh -c; {version}, {lines},
    /// {lcov}, {sonar}, {cobertura}, {json}, {textfmt} and {html} are
    /// replaced, shell-quoted
    #[arg(long, value_name = "COMMAND")]
    pub on_change: Option<String>,

    /// Pause (collect nothing) while FILE exists
    #[arg(long, value_name = "FILE")]
    pub pause_file: Option<PathBuf>,

    /// Where the version and the last coverage's fingerprint are kept
    /// (default: .covdata-watch in the directory of the first output)
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// Stop after N rounds (default: run until SIGTERM or SIGINT)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub rounds: Option<u64>,

    /// No status lines (failures are still reported)
    #[arg(short, long)]
    pub quiet: bool,

    /// Print mangled function names
    #[arg(long)]
    pub mangled: bool,
}

pub const EXAMPLES: &str = "\
Examples:
  covdata watch -i=/tmp/cov --lcov=lcov.info          # VS Code Coverage Gutters reloads it live
  covdata watch --center=http://covcenter:7777 --service=orders --lcov=out/lcov.info
  covdata watch -i=/tmp/cov --every=60s --root=$PWD --sonar=out/sonar.xml \\
      --html=out/html --on-change='sonar-scanner -Dsonar.projectKey=app \\
      -Dsonar.coverageReportPaths={sonar} -Dsonar.projectVersion={version}'
  touch pause; ...; rm pause                          # with --pause-file=pause
  kill -USR1 PID; ...; kill -USR2 PID                 # pause, resume

Each round collects; when the coverage changed, every output is written
atomically, {version} goes up by one (kept in --state, across restarts)
and --on-change runs (again next round if it failed). Status line per
round: time, lines, delta, version, what ran. SIGTERM/SIGINT: the round's
writes finish, then exit 0.";

fn every(text: &str) -> Result<Duration, String> {
    match covdata::center::http::parse_duration(text)? {
        d if d.is_zero() => Err("the interval must be longer than 0".into()),
        d => Ok(d),
    }
}

impl WatchArgs {
    /// The outputs asked for, in the order they are written.
    fn outputs(&self) -> Vec<Output> {
        let given = [
            (Kind::Lcov, &self.lcov),
            (Kind::Sonar, &self.sonar),
            (Kind::Cobertura, &self.cobertura),
            (Kind::Json, &self.json),
            (Kind::Textfmt, &self.textfmt),
            (Kind::Html, &self.html),
        ];
        given
            .into_iter()
            .filter_map(|(kind, path)| path.clone().map(|path| Output { kind, path }))
            .collect()
    }
}

/// Checks the flags, takes the state, then loops.
pub fn run(args: &WatchArgs) -> anyhow::Result<Outcome> {
    let outputs = args.outputs();
    if outputs.is_empty() && args.on_change.is_none() {
        return Err(UsageError(
            "nothing to do: give a report to write (--lcov=FILE, --sonar=FILE, --cobertura=FILE, --json=FILE, --textfmt=FILE, --html=DIR) or --on-change=COMMAND".into(),
        )
        .into());
    }
    if let Some(cmd) = &args.on_change {
        for name in template::used(cmd) {
            let is_output = Kind::ALL.iter().any(|k| k.name() == name);
            if is_output && !outputs.iter().any(|o| o.kind.name() == name) {
                return Err(UsageError(format!(
                    "--on-change uses {{{name}}}, but no --{name} is written"
                ))
                .into());
            }
        }
    }
    let mut opts = report_options(&args.filter, args.mangled)?;
    // The working directory may change under a long-running loop's feet
    // (and recorded paths are absolute): a relative --root is resolved once.
    if let Some(root) = &opts.root {
        let absolute =
            std::path::absolute(root).map_err(|e| anyhow::anyhow!("--root={root}: {e}"))?;
        opts.root = Some(absolute.to_string_lossy().into_owned());
    }
    let state_path = match &args.state {
        Some(p) => p.clone(),
        None => parent(outputs.first().map(|o| o.path.as_path())).join(FILE_NAME),
    };
    for path in outputs
        .iter()
        .map(|o| o.path.as_path())
        .chain([state_path.as_path()])
    {
        let dir = parent(Some(path));
        std::fs::create_dir_all(&dir)
            .map_err(|e| anyhow::anyhow!("{}: cannot create the directory: {e}", dir.display()))?;
    }
    let _lock = StateLock::acquire(&state_path).map_err(plain)?;
    let state = State::load(&state_path).map_err(plain)?;
    let control = control::Control::install()?;
    // What shapes the outputs: a change rewrites them all.
    let config = format!(
        "{outputs:?} {opts:?} all_builds={}",
        args.filter.builds.all_builds
    );
    let mut watcher = Watcher::new(
        args,
        outputs,
        opts,
        state_path,
        state,
        &config,
        control.clone(),
    );
    let mut rounds = 0u64;
    loop {
        let started = Instant::now();
        rounds += 1;
        let line = watcher.round();
        if !args.quiet {
            round::print_status(&line);
        }
        if control.stopping() || args.rounds == Some(rounds) {
            break;
        }
        control.sleep_until(started + args.every);
        if control.stopping() {
            break;
        }
    }
    if let (Some(sig), false) = (control.stop_signal(), args.quiet) {
        round::print_status(&format!(
            "{} stopped by {sig}",
            clock::utc(std::time::SystemTime::now())
        ));
    }
    Ok(Outcome::Ok)
}

/// The directory a path is in (`.` for a bare name).
fn parent(path: Option<&Path>) -> PathBuf {
    match path.and_then(Path::parent) {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
