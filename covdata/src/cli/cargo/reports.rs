//! The reports `cargo covwrap` makes: the percent table on standard output,
//! then each file report asked for, through covdata's own report path
//! (`with_context`: warnings, `--pkg` check, gates) and writers.

use std::path::PathBuf;

use covdata::report;

use super::super::args::{InputArgs, OutputArgs};
use super::super::exports::write_cobertura;
use super::super::html::write_dir;
use super::super::report::{with_context, write_stream, Load, Writer};
use super::super::Outcome;
use super::workspace::Workspace;
use super::{open, ReportFlags, NAME};

impl ReportFlags {
    /// Where the HTML report goes, if one is asked for.
    fn html_dir(&self, ws: &Workspace) -> Option<PathBuf> {
        match &self.html {
            Some(Some(dir)) => Some(dir.clone()),
            Some(None) => Some(ws.default_html()),
            None => self.open.then(|| ws.default_html()),
        }
    }

    /// Whether anything beyond the percent table was asked for.
    fn asks_for_more(&self) -> bool {
        self.html_dir_given()
            || self.lcov.is_some()
            || self.cobertura.is_some()
            || self.sonar.is_some()
            || self.json.is_some()
            || self.gate.thresholds().any()
    }

    fn html_dir_given(&self) -> bool {
        self.html.is_some() || self.open
    }
}

/// Reports on what the coverage directory holds.
pub fn make(flags: &ReportFlags, ws: &Workspace) -> anyhow::Result<Outcome> {
    let input = InputArgs::of(vec![ws.covdir.clone()], flags.ignore_bad);
    let load = Load {
        keep_runs: false,
        mangled: flags.mangled,
    };
    let html = flags.html_dir(ws);
    let streams: [(&Option<PathBuf>, Writer); 3] = [
        (&flags.lcov, report::lcov::write),
        (&flags.sonar, report::sonar::write),
        (&flags.json, report::json::write),
    ];
    let outcome = with_context(&input, &flags.filter, &flags.gate, load, |ctx| {
        write_stream(ctx, &OutputArgs::default(), report::percent::write)?;
        for (path, writer) in streams {
            if let Some(path) = path {
                write_stream(ctx, &to(path), writer)?;
            }
        }
        if let Some(path) = &flags.cobertura {
            write_cobertura(ctx, &to(path))?;
        }
        if let Some(dir) = &html {
            write_dir(ctx, dir)?;
            eprintln!("{NAME}: HTML report: {}", dir.join("index.html").display());
        }
        Ok(())
    })?;
    if let (Some(dir), true) = (&html, flags.open) {
        open::report(&dir.join("index.html"));
    }
    Ok(outcome)
}

/// Reports after a cargo command. When no program wrote coverage: after a
/// failed command, nothing (cargo said why); after a `build`, how to get
/// some, which fails only when a report or gate was asked for.
pub fn make_after(flags: &ReportFlags, ws: &Workspace, cargo_ok: bool) -> anyhow::Result<Outcome> {
    if ws.has_coverage() {
        return make(flags, ws);
    }
    if !cargo_ok {
        return Ok(Outcome::Ok);
    }
    let dir = ws.covdir.display();
    let how = format!("run the programs built with COVDIR={dir}, then `cargo covwrap report`");
    if flags.asks_for_more() {
        anyhow::bail!("no program wrote coverage into {dir}, so there is nothing to report; {how}");
    }
    eprintln!("{NAME}: no program wrote coverage into {dir}; {how}");
    Ok(Outcome::Ok)
}

fn to(path: &std::path::Path) -> OutputArgs {
    OutputArgs {
        output: Some(path.to_path_buf()),
    }
}
