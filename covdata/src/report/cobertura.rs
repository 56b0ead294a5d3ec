//! Cobertura XML (`coverage-04.dtd`), as GitLab, Jenkins and Codecov read
//! it. A serializer of the [`view`](super::view):
//!
//! ```text
//! <coverage line-rate branch-rate lines-covered lines-valid
//!           branches-covered branches-valid complexity="0" version timestamp>
//!   <sources><source>ROOT</source></sources>
//!   <packages>
//!     <package name=CRATE ...>           one per crate, sorted by name
//!       <classes>
//!         <class name=PATH filename=PATH ...>   one per file, PATH relative to ROOT
//!           <methods>
//!             <method name=FUNCTION signature="" ...>   one per function (instantiation group)
//!               <lines><line number=START hits=.../></lines>
//!           <lines>
//!             <line number hits [branch="true" condition-coverage="50% (1/2)"]/>
//! ```
//!
//! - A class's `<line>`s are the file view's mapped lines with their
//!   counts: exactly `covdata lcov`'s `DA` lines. Rates and counts of
//!   classes, packages and the whole report are computed from those lines
//!   (as consumers recompute them), so `lines-valid` is the number of `DA`
//!   lines, which can differ from `percent`'s llvm-cov `report` line count
//!   (its lines are per function, instantiations max-merged).
//! - Branches: per mapped line, the branch outcomes on it (true and false
//!   sides separately, constant sides left out), as `condition-coverage`.
//! - `<source>` is the report root (`--root`, else the recorded compilation
//!   directory) and filenames are relative to it: GitLab joins the part of
//!   the source after the project path with the filename. Files outside the
//!   root keep their absolute path.
//! - A method's line is its first line with that line's count; `method`
//!   rates are the function's own line and branch coverage.
//! - `timestamp` (milliseconds since the epoch, as Cobertura writes it):
//!   `SOURCE_DATE_EPOCH` (seconds) when set; otherwise the time of the
//!   latest run in the inputs, so the same inputs always give the same
//!   bytes and the time is still recent (Codecov rejects old reports).
//!   `complexity` is always 0; `version` is covdata's.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use super::view::FileView;
use super::xml::{escaped, push_escaped};
use super::Context;
use crate::model::summary::Ratio;

/// The package name of files that have no function of their own (only
/// code expanded into other files' functions).
pub const NO_CRATE: &str = "(none)";

/// Writes the report, with the timestamp of [`timestamp_ms`].
pub fn write(ctx: &Context, out: &mut dyn Write) -> io::Result<()> {
    let timestamp =
        timestamp_ms(ctx).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    write_with(ctx, timestamp, out)
}

/// The `timestamp` the report carries, in milliseconds: from
/// `SOURCE_DATE_EPOCH` (seconds since the epoch) when it is set, else the
/// latest counter-file write time of the inputs.
pub fn timestamp_ms(ctx: &Context) -> Result<u64, String> {
    if let Some(raw) = std::env::var_os("SOURCE_DATE_EPOCH") {
        let text = raw.to_string_lossy();
        let secs: u64 = text.trim().parse().map_err(|_| {
            format!("SOURCE_DATE_EPOCH={text:?} is not a number of seconds since the epoch")
        })?;
        return secs
            .checked_mul(1000)
            .ok_or_else(|| format!("SOURCE_DATE_EPOCH={text:?} is too large"));
    }
    let latest = ctx.cov.pods.iter().map(|p| p.summary.write_ns).max();
    Ok(latest.unwrap_or(0) / 1_000_000)
}

/// Lines and branch outcomes of a class, package or the whole report.
#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    lines: Ratio,
    branches: Ratio,
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.lines.add(o.lines);
        self.branches.add(o.branches);
    }

    /// `line-rate="…" branch-rate="…"`.
    fn rates(&self) -> String {
        format!(
            "line-rate=\"{}\" branch-rate=\"{}\"",
            rate(self.lines),
            rate(self.branches)
        )
    }
}

/// A rate as a short decimal: 4 places, trailing zeros dropped; `1` when
/// there is nothing to cover (as coverage.py writes it).
fn rate(r: Ratio) -> String {
    if r.total == 0 {
        return "1".to_string();
    }
    let s = format!("{:.4}", r.covered as f64 / r.total as f64);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Writes the report with `timestamp` (milliseconds).
pub fn write_with(ctx: &Context, timestamp: u64, out: &mut dyn Write) -> io::Result<()> {
    // Packages need their totals before their classes, and the report its
    // totals before the packages: the views are counted first (from line
    // runs, so a region of 2^32 lines costs one step), then written as a
    // stream, which stops at the first failed write.
    let mut packages: BTreeMap<&str, Package> = BTreeMap::new();
    for view in ctx.file_views() {
        let counts = file_counts(&view);
        let package = packages
            .entry(view.crate_name().unwrap_or(NO_CRATE))
            .or_default();
        package.counts.add(counts);
        package.classes.push((view, counts));
    }
    let mut total = Counts::default();
    for p in packages.values() {
        total.add(p.counts);
    }
    writeln!(out, "<?xml version=\"1.0\" ?>")?;
    writeln!(
        out,
        "<!DOCTYPE coverage SYSTEM \"http://cobertura.sourceforge.net/xml/coverage-04.dtd\">"
    )?;
    writeln!(
        out,
        "<coverage {} lines-covered=\"{}\" lines-valid=\"{}\" branches-covered=\"{}\" branches-valid=\"{}\" complexity=\"0\" version=\"covdata {}\" timestamp=\"{timestamp}\">",
        total.rates(),
        total.lines.covered,
        total.lines.total,
        total.branches.covered,
        total.branches.total,
        env!("CARGO_PKG_VERSION"),
    )?;
    writeln!(out, "  <sources>")?;
    if let Some(root) = ctx.root() {
        writeln!(out, "    <source>{}</source>", escaped(root))?;
    }
    writeln!(out, "  </sources>")?;
    writeln!(out, "  <packages>")?;
    for (
        name,
        Package {
            counts,
            mut classes,
        },
    ) in packages
    {
        writeln!(
            out,
            "    <package name=\"{}\" {} complexity=\"0\">",
            escaped(name),
            counts.rates()
        )?;
        writeln!(out, "      <classes>")?;
        classes.sort_by(|a, b| a.0.display_path().cmp(b.0.display_path()));
        for (view, counts) in classes {
            write_class(&view, counts, out)?;
        }
        writeln!(out, "      </classes>")?;
        writeln!(out, "    </package>")?;
    }
    writeln!(out, "  </packages>")?;
    writeln!(out, "</coverage>")
}

/// A crate's files with their counts, and the sum.
#[derive(Default)]
struct Package<'c, 'a> {
    counts: Counts,
    classes: Vec<(FileView<'c, 'a>, Counts)>,
}

/// Lines and the branch outcomes on mapped lines.
fn file_counts(view: &FileView) -> Counts {
    let mut counts = Counts::default();
    for run in view.line_runs() {
        let lines = u64::from(run.last - run.first) + 1;
        counts.lines.total += lines;
        if run.count > 0 {
            counts.lines.covered += lines;
        }
    }
    for b in view.branch_lines() {
        if view.line_count(b.line).is_some() {
            counts.branches.add(b.outcomes);
        }
    }
    counts
}

/// One `<class>` element.
fn write_class(view: &FileView, counts: Counts, out: &mut dyn Write) -> io::Result<()> {
    let path = escaped(view.display_path());
    writeln!(
        out,
        "        <class name=\"{path}\" filename=\"{path}\" {} complexity=\"0\">",
        counts.rates()
    )?;
    writeln!(out, "          <methods>")?;
    let mut buf = String::new();
    for f in view.functions() {
        let own = Counts {
            lines: f.summary.lines,
            branches: f.summary.branches,
        };
        buf.clear();
        buf.push_str("            <method name=\"");
        push_escaped(&mut buf, &f.name);
        let _ = writeln!(buf, "\" signature=\"\" {} complexity=\"0\">", own.rates());
        match view.line_count(f.start.0) {
            Some(hits) => {
                let _ = writeln!(
                    buf,
                    "              <lines><line number=\"{}\" hits=\"{hits}\"/></lines>",
                    f.start.0
                );
            }
            None => buf.push_str("              <lines/>\n"),
        }
        buf.push_str("            </method>\n");
        out.write_all(buf.as_bytes())?;
    }
    writeln!(out, "          </methods>")?;
    writeln!(out, "          <lines>")?;
    let branch_lines = view.branch_lines();
    let mut next_branch = 0;
    for run in view.line_runs() {
        for line in run.first..=run.last {
            buf.clear();
            let _ = write!(
                buf,
                "            <line number=\"{line}\" hits=\"{}\"",
                run.count
            );
            while branch_lines.get(next_branch).is_some_and(|b| b.line < line) {
                next_branch += 1;
            }
            match branch_lines.get(next_branch).filter(|b| b.line == line) {
                Some(b) => {
                    let o = b.outcomes;
                    let _ = writeln!(
                        buf,
                        " branch=\"true\" condition-coverage=\"{}% ({}/{})\"/>",
                        o.covered * 100 / o.total,
                        o.covered,
                        o.total
                    );
                }
                None => buf.push_str(" branch=\"false\"/>\n"),
            }
            out.write_all(buf.as_bytes())?;
        }
    }
    writeln!(out, "          </lines>")?;
    writeln!(out, "        </class>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_short_and_empty_is_one() {
        let r = |covered, total| rate(Ratio { covered, total });
        assert_eq!(r(0, 0), "1");
        assert_eq!(r(1, 2), "0.5");
        assert_eq!(r(48, 56), "0.8571");
        assert_eq!(r(3, 3), "1");
        assert_eq!(r(0, 7), "0");
        assert_eq!(r(1, 30000), "0");
    }
}
