//! Argument groups shared by several subcommands (`#[command(flatten)]`),
//! so that a flag means the same thing wherever it is accepted.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::PathBuf;

use clap::Args;
use covdata::center::client::{Client, Selection};
use covdata::center::http::parse_duration;
use covdata::crates::CrateFilter;
use covdata::filefilter::FileFilter;
use covdata::gate::Thresholds;
use covdata::source::{CenterInput, Source};

use super::UsageError;

/// Where coverage comes from.
#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    /// Input directories (COVDIRs), comma-separated; repeatable
    #[arg(
        short = 'i',
        long = "input",
        alias = "i",
        value_name = "DIR[,DIR...]",
        value_delimiter = ',',
        action = clap::ArgAction::Append,
        required_unless_present = "center",
        conflicts_with = "center"
    )]
    input: Vec<PathBuf>,

    /// A center (http://HOST:PORT) whose live profile is the input, in place of -i
    #[arg(long, value_name = "URL")]
    center: Option<String>,

    #[command(flatten)]
    pub select: SelectArgs,

    #[command(flatten)]
    pub conn: ConnArgs,

    /// Skip bad files with a warning instead of failing
    #[arg(long)]
    pub ignore_bad: bool,

    /// Also read running processes' dense counter files
    /// (COVWRAP_CONTINUOUS), as a snapshot
    #[arg(long)]
    pub include_live: bool,
}

impl InputArgs {
    /// Inputs a program chose rather than `-i` (cargo covwrap's coverage
    /// directory).
    pub fn of(dirs: Vec<PathBuf>, ignore_bad: bool) -> InputArgs {
        InputArgs {
            input: dirs,
            center: None,
            select: SelectArgs::default(),
            conn: ConnArgs::default(),
            ignore_bad,
            include_live: false,
        }
    }

    /// The input directories, in order (empty list items dropped).
    pub fn dirs(&self) -> Vec<PathBuf> {
        self.input
            .iter()
            .filter(|d| !d.as_os_str().is_empty())
            .cloned()
            .collect()
    }

    /// How to load these inputs: `--ignore-bad`, `--include-live`.
    pub fn load_options(&self) -> covdata::LoadOptions {
        covdata::LoadOptions {
            ignore_bad: self.ignore_bad,
            include_live: self.include_live,
            ..Default::default()
        }
    }

    /// Whether the input is a center.
    pub fn is_center(&self) -> bool {
        self.center.is_some()
    }

    /// Where the counters come from: the directories or the center.
    pub fn source(&self) -> anyhow::Result<Source> {
        match &self.center {
            None => {
                if self.select != SelectArgs::default() {
                    return Err(UsageError(
                        "--service, --id and --label select agents of a --center".into(),
                    )
                    .into());
                }
                Ok(Source::Dirs(self.dirs()))
            }
            Some(url) => Ok(Source::Center(CenterInput {
                client: self.conn.client(url)?,
                selection: self.select.selection()?,
                agent_timeout: self.conn.agent_timeout()?,
            })),
        }
    }
}

/// Which agents of a center (none given: all).
#[derive(Args, Debug, Clone, Default, PartialEq, Eq)]
pub struct SelectArgs {
    /// Center: only agents of these services (exact names), comma-separated
    #[arg(long = "service", value_name = "A,B", value_delimiter = ',', action = clap::ArgAction::Append)]
    pub services: Vec<String>,

    /// Center: only these agent ids, comma-separated
    #[arg(long = "id", value_name = "N,M", value_delimiter = ',', action = clap::ArgAction::Append)]
    pub ids: Vec<u64>,

    /// Center: only agents whose whole label matches this regex
    #[arg(long, value_name = "REGEX")]
    pub label: Option<String>,
}

impl SelectArgs {
    /// The selection, with the label regex checked.
    pub fn selection(&self) -> Result<Selection, UsageError> {
        if let Some(l) = &self.label {
            regex::Regex::new(l).map_err(|e| {
                let why = e.to_string();
                UsageError(format!(
                    "--label={l}: not a regex ({})",
                    why.lines().last().unwrap_or("").trim()
                ))
            })?;
        }
        Ok(Selection {
            services: self
                .services
                .iter()
                .filter(|s| !s.is_empty())
                .cloned()
                .collect(),
            ids: self.ids.clone(),
            label: self.label.clone(),
        })
    }
}

/// How to talk to a center.
#[derive(Args, Debug, Clone, Default)]
pub struct ConnArgs {
    /// Center token (default: $COVDATA_CENTER_TOKEN)
    #[arg(long, value_name = "T")]
    token: Option<String>,

    /// Center: how long each agent may take to answer (5s, 500ms, 1m)
    #[arg(long, value_name = "DURATION")]
    timeout: Option<String>,
}

/// Each call to a center gets this long besides the agents' own time.
const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl ConnArgs {
    /// `--token`, else `COVDATA_CENTER_TOKEN`.
    pub fn token(&self) -> Option<String> {
        self.token
            .clone()
            .or_else(|| std::env::var("COVDATA_CENTER_TOKEN").ok())
            .filter(|t| !t.is_empty())
    }

    /// `--timeout` (default 5 s).
    pub fn agent_timeout(&self) -> Result<std::time::Duration, UsageError> {
        match &self.timeout {
            Some(t) => parse_duration(t).map_err(|e| UsageError(format!("--timeout: {e}"))),
            None => Ok(std::time::Duration::from_secs(5)),
        }
    }

    /// A client of `url`.
    pub fn client(&self, url: &str) -> anyhow::Result<Client> {
        Client::new(url, self.token(), CALL_TIMEOUT).map_err(|e| UsageError(e.to_string()).into())
    }
}

/// `--pkg`: which crates count.
#[derive(Args, Debug, Clone, Default)]
pub struct PkgArgs {
    /// Keep crates matching comma-separated globs (* and ?)
    #[arg(long, value_name = "GLOBS")]
    pkg: Option<OsString>,
}

impl PkgArgs {
    /// The `--pkg` globs as typed, if given.
    pub fn pkg(&self) -> Result<Option<&str>, UsageError> {
        self.pkg
            .as_deref()
            .map(|p| {
                p.to_str().ok_or_else(|| {
                    UsageError(format!(
                        "--pkg={}: crate-name globs must be valid UTF-8",
                        p.to_string_lossy()
                    ))
                })
            })
            .transpose()
    }

    /// The `--pkg` filter (everything when not given).
    pub fn crates(&self) -> Result<CrateFilter, UsageError> {
        Ok(CrateFilter::parse(self.pkg()?.unwrap_or("")))
    }

    /// With `--pkg`, an error when no crate of `present` matches it.
    pub fn check_matches(&self, present: &BTreeSet<&str>) -> anyhow::Result<()> {
        let Some(pkg) = self.pkg()? else {
            return Ok(());
        };
        let filter = CrateFilter::parse(pkg);
        if filter.is_empty() || present.iter().any(|c| filter.matches(c)) {
            return Ok(());
        }
        let list: Vec<&str> = present.iter().copied().collect();
        anyhow::bail!(
            "--pkg={pkg} matches no crate of the inputs (crates present: {})",
            if list.is_empty() {
                "none".to_string()
            } else {
                list.join(", ")
            }
        );
    }
}

/// Which code a report covers, and how its paths are shown.
#[derive(Args, Debug, Clone, Default)]
pub struct FilterArgs {
    #[command(flatten)]
    pub pkg: PkgArgs,

    /// Make report paths relative to DIR (default: the recorded compilation directory)
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,

    #[command(flatten)]
    pub builds: BuildsArgs,

    /// Also report test code (files only tests/, benches/, examples/ targets
    /// and #[cfg(test)] modules compile), which is left out by default
    #[arg(long)]
    pub include_tests: bool,

    /// Leave out files matching comma-separated globs (* within a directory,
    /// ** across directories, ?), e.g. '**/gen/**'
    #[arg(long, value_name = "GLOBS")]
    exclude_files: Option<String>,

    /// Report only files matching comma-separated globs, test code included
    #[arg(long, value_name = "GLOBS")]
    include_files: Option<String>,
}

/// Which builds of a changed file count.
#[derive(Args, Debug, Clone, Copy, Default)]
pub struct BuildsArgs {
    /// Count every build of a source file that changed between builds
    /// (llvm-cov's rule), not only each file's newest build
    #[arg(long)]
    pub all_builds: bool,
}

impl FilterArgs {
    /// The file selection of `--include-tests`, `--include-files` and
    /// `--exclude-files`.
    pub fn files(&self) -> Result<FileFilter, UsageError> {
        FileFilter::new(
            self.include_tests,
            self.include_files.as_deref().unwrap_or(""),
            self.exclude_files.as_deref().unwrap_or(""),
        )
        .map_err(UsageError)
    }

    /// `--root` as text: recorded source paths are UTF-8, so a root that is
    /// not could never match one.
    pub fn root(&self) -> Result<Option<String>, UsageError> {
        self.root
            .as_deref()
            .map(|r| {
                r.to_str().map(String::from).ok_or_else(|| {
                    UsageError(format!(
                        "--root={}: recorded source paths are UTF-8, so the root must be too",
                        r.display()
                    ))
                })
            })
            .transpose()
    }
}

/// Where a report goes.
#[derive(Args, Debug, Clone, Default)]
pub struct OutputArgs {
    /// Output file (written atomically); default: standard output
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    pub output: Option<PathBuf>,
}

/// Output directory of the commands that write one.
#[derive(Args, Debug, Clone, Default)]
pub struct OutputDirArgs {
    /// Output directory
    #[arg(short = 'o', long = "output", value_name = "OUTDIR")]
    pub output: Option<PathBuf>,
}

/// Coverage thresholds (cargo-llvm-cov's names): the report is written,
/// then each failed threshold gets one line and the exit status is 1.
#[derive(Args, Debug, Clone, Default)]
pub struct GateArgs {
    /// Exit 1 when line coverage is below PCT
    #[arg(long, value_name = "PCT", value_parser = percent)]
    pub fail_under_lines: Option<f64>,

    /// Exit 1 when region coverage is below PCT
    #[arg(long, value_name = "PCT", value_parser = percent)]
    pub fail_under_regions: Option<f64>,

    /// Exit 1 when function coverage is below PCT
    #[arg(long, value_name = "PCT", value_parser = percent)]
    pub fail_under_functions: Option<f64>,
}

impl GateArgs {
    /// The thresholds given.
    pub fn thresholds(&self) -> Thresholds {
        Thresholds {
            lines: self.fail_under_lines,
            regions: self.fail_under_regions,
            functions: self.fail_under_functions,
        }
    }
}

/// A percentage from 0 to 100 (`80`, `72.5`, `80%`).
pub fn percent(text: &str) -> Result<f64, String> {
    let number = text.strip_suffix('%').unwrap_or(text);
    match number.parse::<f64>() {
        Ok(v) if (0.0..=100.0).contains(&v) => Ok(v),
        _ => Err("expected a percentage from 0 to 100".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages() {
        assert_eq!(percent("80"), Ok(80.0));
        assert_eq!(percent("72.5%"), Ok(72.5));
        assert_eq!(percent("0"), Ok(0.0));
        for bad in ["", "101", "-1", "eighty", "NaN", "inf"] {
            assert!(percent(bad).is_err(), "{bad}");
        }
    }
}
