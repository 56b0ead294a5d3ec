//! Coverage gates: `--fail-under-lines|regions|functions=PCT`
//! (cargo-llvm-cov's names). A report is written first; the gate then
//! compares the report's totals with each threshold given.

use std::fmt;

use crate::model::summary::{FileSummary, Ratio};

/// Thresholds in percent (0 to 100); `None` is no gate.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Thresholds {
    /// `--fail-under-lines`.
    pub lines: Option<f64>,
    /// `--fail-under-regions`.
    pub regions: Option<f64>,
    /// `--fail-under-functions`.
    pub functions: Option<f64>,
}

impl Thresholds {
    /// Whether any threshold is given.
    pub fn any(&self) -> bool {
        self.lines.is_some() || self.regions.is_some() || self.functions.is_some()
    }
}

/// What a gate measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Lines.
    Lines,
    /// Code regions.
    Regions,
    /// Functions (instantiations of one function count once).
    Functions,
}

impl Metric {
    fn noun(self) -> &'static str {
        match self {
            Metric::Lines => "line",
            Metric::Regions => "region",
            Metric::Functions => "function",
        }
    }

    /// The flag that sets this gate.
    pub fn flag(self) -> &'static str {
        match self {
            Metric::Lines => "--fail-under-lines",
            Metric::Regions => "--fail-under-regions",
            Metric::Functions => "--fail-under-functions",
        }
    }
}

/// One threshold the totals are below.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Failure {
    /// What was measured.
    pub metric: Metric,
    /// The measured items.
    pub ratio: Ratio,
    /// The threshold, in percent.
    pub threshold: f64,
}

impl fmt::Display for Failure {
    /// `line coverage 71.43% (5/7) is below --fail-under-lines=80`: two
    /// decimals as `percent` prints them, cut instead of rounded where
    /// rounding would print a value at or above the threshold.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = shown_percent(self.ratio, self.threshold);
        write!(
            f,
            "{} coverage {shown:.2}% ({}/{}{}) is below {}={}",
            self.metric.noun(),
            self.ratio.covered,
            self.ratio.total,
            if self.ratio.total == 0 {
                ", nothing to cover"
            } else {
                ""
            },
            self.metric.flag(),
            self.threshold
        )
    }
}

/// Whether `ratio` is below `threshold` percent, compared exactly
/// (covered/total < threshold/100); nothing to cover is 0 %.
pub fn is_below(ratio: Ratio, threshold: f64) -> bool {
    (ratio.covered as f64) * 100.0 < threshold * ratio.total as f64
        || (ratio.total == 0 && threshold > 0.0)
}

/// The percentage a failed gate prints for `ratio`: two decimals, cut
/// instead of rounded where rounding would print a value at or above the
/// `threshold` it failed.
pub fn shown_percent(ratio: Ratio, threshold: f64) -> f64 {
    let exact = ratio.percent();
    let rounded = (exact * 100.0).round() / 100.0;
    if rounded >= threshold {
        (exact * 100.0).floor() / 100.0
    } else {
        rounded
    }
}

/// The thresholds `totals` is below, in the order lines, regions,
/// functions. Nothing to cover counts as 0 %, so any positive threshold
/// fails on it: a gate that measured nothing has not passed.
pub fn gate(totals: &FileSummary, thresholds: &Thresholds) -> Vec<Failure> {
    [
        (Metric::Lines, totals.lines, thresholds.lines),
        (Metric::Regions, totals.regions, thresholds.regions),
        (Metric::Functions, totals.functions, thresholds.functions),
    ]
    .into_iter()
    .filter_map(|(metric, ratio, threshold)| {
        let threshold = threshold?;
        is_below(ratio, threshold).then_some(Failure {
            metric,
            ratio,
            threshold,
        })
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(lines: (u64, u64), regions: (u64, u64), functions: (u64, u64)) -> FileSummary {
        let r = |(covered, total)| Ratio { covered, total };
        FileSummary {
            lines: r(lines),
            regions: r(regions),
            functions: r(functions),
            ..FileSummary::default()
        }
    }

    #[test]
    fn each_failed_threshold_is_one_failure() {
        let t = totals((5, 7), (8, 10), (1, 1));
        let all = Thresholds {
            lines: Some(80.0),
            regions: Some(80.0),
            functions: Some(100.0),
        };
        let failures = gate(&t, &all);
        assert_eq!(failures.len(), 1);
        assert_eq!(
            failures[0].to_string(),
            "line coverage 71.43% (5/7) is below --fail-under-lines=80"
        );
        assert!(gate(&t, &Thresholds::default()).is_empty());
        let strict = Thresholds {
            regions: Some(80.5),
            functions: Some(0.0),
            ..Thresholds::default()
        };
        assert_eq!(
            gate(&t, &strict)[0].to_string(),
            "region coverage 80.00% (8/10) is below --fail-under-regions=80.5"
        );
    }

    #[test]
    fn just_below_never_prints_as_the_threshold() {
        let t = totals((79_999, 100_000), (0, 0), (0, 0));
        let f = gate(
            &t,
            &Thresholds {
                lines: Some(80.0),
                ..Thresholds::default()
            },
        );
        assert_eq!(
            f[0].to_string(),
            "line coverage 79.99% (79999/100000) is below --fail-under-lines=80"
        );
    }

    #[test]
    fn nothing_to_cover_fails_a_positive_threshold_only() {
        let t = totals((0, 0), (0, 0), (0, 0));
        let zero = Thresholds {
            lines: Some(0.0),
            ..Thresholds::default()
        };
        assert!(gate(&t, &zero).is_empty());
        let some = Thresholds {
            functions: Some(1.0),
            ..Thresholds::default()
        };
        assert_eq!(
            gate(&t, &some)[0].to_string(),
            "function coverage 0.00% (0/0, nothing to cover) is below --fail-under-functions=1"
        );
    }
}
