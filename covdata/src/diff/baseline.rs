//! goc's local diff: the line coverage of each file in two data sets (base
//! and new), with the change. Files are matched by their path relative to
//! each data set's report root (so two checkouts in different directories
//! compare); a file's lines are its llvm-cov `report` line summary (the
//! numbers `percent` adds up). Rows whose coverage did not change are left
//! out; the total covers every file of each side.

use std::collections::BTreeMap;

use crate::model::summary::Ratio;
use crate::report::Context;

/// One file whose coverage changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaselineRow {
    /// The path relative to the report root.
    pub path: String,
    /// Lines in the base data set; `None` if the file is not in it.
    pub base: Option<Ratio>,
    /// Lines in the new data set; `None` if the file is not in it.
    pub new: Option<Ratio>,
}

impl BaselineRow {
    /// New percent minus base percent (a missing side counts as 0%).
    pub fn delta(&self) -> f64 {
        let p = |r: Option<Ratio>| r.map_or(0.0, |r| r.percent());
        p(self.new) - p(self.base)
    }
}

/// The comparison of two data sets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Baseline {
    /// Changed files, sorted by path.
    pub rows: Vec<BaselineRow>,
    /// Lines of every kept file of the base.
    pub base_total: Ratio,
    /// Lines of every kept file of the new data set.
    pub new_total: Ratio,
}

impl Baseline {
    /// New total percent minus base total percent.
    pub fn delta(&self) -> f64 {
        self.new_total.percent() - self.base_total.percent()
    }
}

/// Line coverage per display path of the files `--pkg` keeps.
fn per_file(ctx: &Context) -> BTreeMap<String, Ratio> {
    let mut out: BTreeMap<String, Ratio> = BTreeMap::new();
    for view in ctx.file_views() {
        out.entry(view.display_path().to_string())
            .or_default()
            .add(view.summary().lines);
    }
    out
}

/// Compares `base` with `new`.
pub fn compare(base: &Context, new: &Context) -> Baseline {
    let (old, now) = (per_file(base), per_file(new));
    let mut out = Baseline::default();
    for r in old.values() {
        out.base_total.add(*r);
    }
    for r in now.values() {
        out.new_total.add(*r);
    }
    let mut paths: Vec<&String> = old.keys().chain(now.keys()).collect();
    paths.sort();
    paths.dedup();
    for path in paths {
        let (b, n) = (old.get(path).copied(), now.get(path).copied());
        if b == n {
            continue;
        }
        out.rows.push(BaselineRow {
            path: path.clone(),
            base: b,
            new: n,
        });
    }
    out
}
