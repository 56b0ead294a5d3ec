//! One round of `covdata watch`: collect, compare with the last written
//! coverage, write every output, record the new version, run the
//! `--on-change` command, and describe it all in one status line.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use covdata::model::summary::Ratio;
use covdata::report::{self, Context, ReportOptions};
use covdata::watch::failures::Failures;
use covdata::watch::fingerprint::{fingerprint, of_text};
use covdata::watch::state::State;
use covdata::watch::{clock, template};
use covdata::{Error, ErrorKind};

use super::command::{self, Ran};
use super::control::Control;
use super::WatchArgs;
use crate::cli::html::missing_line;
use crate::cli::report::{check_pkg, collect_model};

/// A report watch can write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Lcov,
    Sonar,
    Cobertura,
    Json,
    Textfmt,
    Html,
}

impl Kind {
    /// Every kind, in the order a round writes them.
    pub const ALL: [Kind; 6] = [
        Kind::Lcov,
        Kind::Sonar,
        Kind::Cobertura,
        Kind::Json,
        Kind::Textfmt,
        Kind::Html,
    ];

    /// Its flag and placeholder name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Lcov => "lcov",
            Kind::Sonar => "sonar",
            Kind::Cobertura => "cobertura",
            Kind::Json => "json",
            Kind::Textfmt => "textfmt",
            Kind::Html => "html",
        }
    }
}

/// One requested output.
#[derive(Clone, Debug)]
pub struct Output {
    pub kind: Kind,
    pub path: PathBuf,
}

impl Output {
    /// Writes it atomically with the report's own writer; sources the HTML
    /// report could not read become warnings.
    fn write(&self, ctx: &Context, warnings: &mut Vec<String>) -> covdata::Result<()> {
        let stream = |w: fn(&Context, &mut dyn std::io::Write) -> std::io::Result<()>| {
            covdata::output::write_atomic(&self.path, |out| w(ctx, out))
        };
        match self.kind {
            Kind::Lcov => stream(report::lcov::write),
            Kind::Sonar => stream(report::sonar::write),
            Kind::Json => stream(report::json::write),
            Kind::Textfmt => stream(report::textfmt::write),
            Kind::Cobertura => {
                report::cobertura::timestamp_ms(ctx)
                    .map_err(|e| Error::new(ErrorKind::Usage, e))?;
                stream(report::cobertura::write)
            }
            Kind::Html => {
                let written = report::html::write(ctx, &self.path)?;
                warnings.extend(written.missing.iter().map(missing_line));
                Ok(())
            }
        }
    }

    /// Whether it is there to be read (a deleted output is written again).
    fn exists(&self) -> bool {
        match self.kind {
            Kind::Html => self.path.join(report::html::outdir::MARKER).is_file(),
            _ => self.path.exists(),
        }
    }
}

/// The loop's memory.
pub struct Watcher<'a> {
    args: &'a WatchArgs,
    outputs: Vec<Output>,
    opts: ReportOptions,
    state_path: PathBuf,
    state: State,
    config: String,
    failures: Failures,
    /// The warnings of the last round, so that each is printed once.
    warnings: BTreeSet<String>,
    /// Line totals of the last round that collected (or of the state).
    previous: Option<Ratio>,
    control: Arc<Control>,
}

impl<'a> Watcher<'a> {
    pub fn new(
        args: &'a WatchArgs,
        outputs: Vec<Output>,
        opts: ReportOptions,
        state_path: PathBuf,
        state: State,
        config: &str,
        control: Arc<Control>,
    ) -> Watcher<'a> {
        let previous = (state.version > 0).then_some(Ratio {
            covered: state.lines[0],
            total: state.lines[1],
        });
        Watcher {
            args,
            outputs,
            opts,
            state_path,
            state,
            config: of_text(config),
            failures: Failures::default(),
            warnings: BTreeSet::new(),
            previous,
            control,
        }
    }

    /// Runs one round; returns its status line.
    pub fn round(&mut self) -> String {
        let time = clock::utc(SystemTime::now());
        if let Some(why) = self.paused() {
            return self.status(&time, None, &format!("paused ({why})"));
        }
        let mut warnings = Vec::new();
        let all_builds = self.args.filter.builds.all_builds;
        let loaded = collect_model(&self.args.input, false, all_builds, &mut warnings)
            .and_then(|cov| check_pkg(&self.args.filter, &cov).map(|()| cov));
        let cov = match loaded {
            Ok(cov) => {
                self.recovered("source");
                cov
            }
            Err(e) => {
                self.warn(warnings);
                self.fail("source", &e.to_string());
                return self.status(&time, None, "source failed (see stderr)");
            }
        };
        let ctx = Context::new(&cov, self.opts.clone());
        let lines = ctx.totals().lines;
        let coverage = fingerprint(&ctx);
        let changed = coverage != self.state.coverage
            || self.config != self.state.config
            || !self.outputs.iter().all(Output::exists);
        let mut done = Vec::new();
        if changed {
            match self.write_all(&ctx, &mut warnings) {
                Ok(names) => {
                    let next = State {
                        version: self.state.version + 1,
                        coverage,
                        config: self.config.clone(),
                        lines: [lines.covered, lines.total],
                        pending: self.args.on_change.is_some(),
                        ..State::new()
                    };
                    if self.save(&next) {
                        self.state = next;
                        done.push(if names.is_empty() {
                            "coverage changed".to_string()
                        } else {
                            format!("wrote {}", names.join(", "))
                        });
                    } else {
                        done.push("state not saved (see stderr)".to_string());
                    }
                }
                Err(failed) => {
                    done.push(format!("writing {} failed (see stderr)", failed.join(", ")))
                }
            }
        } else {
            done.push("unchanged".to_string());
        }
        self.warn(warnings);
        if self.state.pending && !self.control.stopping() {
            done.push(self.on_change(lines));
        }
        let line = self.status(&time, Some(lines), &done.join("; "));
        self.previous = Some(lines);
        line
    }

    /// Why the round is paused, if it is.
    fn paused(&self) -> Option<String> {
        if let Some(f) = self.args.pause_file.as_deref().filter(|f| f.exists()) {
            return Some(format!("pause file {} exists", f.display()));
        }
        self.control
            .paused()
            .then(|| "SIGUSR1; SIGUSR2 resumes".to_string())
    }

    /// Writes every output (all are tried); the names written, or those
    /// that failed.
    fn write_all(
        &mut self,
        ctx: &Context,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<&'static str>, Vec<&'static str>> {
        let mut written = Vec::new();
        let mut failed = Vec::new();
        for i in 0..self.outputs.len() {
            let output = self.outputs[i].clone();
            let key = format!("--{}", output.kind.name());
            match output.write(ctx, warnings) {
                Ok(()) => {
                    self.recovered(&key);
                    written.push(output.kind.name());
                }
                Err(e) => {
                    self.fail(&key, &e.to_string());
                    failed.push(output.kind.name());
                }
            }
        }
        if failed.is_empty() {
            Ok(written)
        } else {
            Err(failed)
        }
    }

    /// Saves `state`; whether it worked.
    fn save(&mut self, state: &State) -> bool {
        match state.save(&self.state_path) {
            Ok(()) => {
                self.recovered("state");
                true
            }
            Err(e) => {
                self.fail("state", &e.to_string());
                false
            }
        }
    }

    /// Runs `--on-change` for the current version; what to say about it.
    fn on_change(&mut self, lines: Ratio) -> String {
        let Some(template) = self.args.on_change.as_deref() else {
            return String::new();
        };
        let mut values: Vec<(&'static str, OsString)> = vec![
            ("version", self.state.version.to_string().into()),
            ("lines", format!("{:.2}", lines.percent()).into()),
        ];
        for o in &self.outputs {
            values.push((o.kind.name(), o.path.clone().into_os_string()));
        }
        let cmd = template::expand(template, &values);
        match command::run(&cmd, &self.control) {
            Ok(Ran::Succeeded) => {
                self.recovered("--on-change");
                let done = State {
                    pending: false,
                    ..self.state.clone()
                };
                if self.save(&done) {
                    self.state = done;
                }
                "ran --on-change".to_string()
            }
            Ok(Ran::Failed { status, last_line }) => {
                let message = match &last_line {
                    Some(l) => format!("{status}: {l}"),
                    None => status.clone(),
                };
                self.fail("--on-change", &message);
                format!("--on-change failed ({status}; again next round)")
            }
            Ok(Ran::Stopped) => "--on-change stopped (runs again at the next start)".to_string(),
            Err(e) => {
                self.fail("--on-change", &format!("cannot run sh: {e}"));
                "--on-change failed (see stderr)".to_string()
            }
        }
    }

    /// `TIME lines PCT (C/T) DELTA version N: WHAT`.
    fn status(&self, time: &str, lines: Option<Ratio>, what: &str) -> String {
        let lines = match lines {
            None => "lines -".to_string(),
            Some(l) => {
                let delta = match self.previous {
                    Some(p) => format!("{:+.2}", l.percent() - p.percent()),
                    None => "new".to_string(),
                };
                format!(
                    "lines {:.2}% ({}/{}) {delta}",
                    l.percent(),
                    l.covered,
                    l.total
                )
            }
        };
        format!("{time} {lines} version {}: {what}", self.state.version)
    }

    fn fail(&mut self, key: &str, message: &str) {
        if let Some(line) = self.failures.failed(key, message) {
            eprintln!("covdata: watch: {line}");
        }
    }

    fn recovered(&mut self, key: &str) {
        if let Some(line) = self.failures.ok(key) {
            eprintln!("covdata: watch: {line}");
        }
    }

    /// Prints the warnings the last round did not have.
    fn warn(&mut self, warnings: Vec<String>) {
        let now: BTreeSet<String> = warnings.into_iter().collect();
        for w in now.difference(&self.warnings) {
            eprintln!("covdata: warning: {w}");
        }
        self.warnings = now;
    }
}

/// Prints a status line; a closed standard output does not stop the loop.
pub fn print_status(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
