//! `--keep-labels` (`merge -o` and `merge --in-place`): one counter file
//! per run label, so per-test attribution (`covdata tests`) survives a
//! merge. Runs of one label are summed; runs without a label are summed
//! as without the flag. docs/FORMAT.md ("Label pools") names the files.

use std::collections::BTreeMap;
use std::path::PathBuf;

use covwrap_rt::format::defs::{arg_keys, MetaHash};
use covwrap_rt::format::md5::md5_u64;
use covwrap_rt::format::names::counters_file_name;

use super::{counter_file, OutFile, RunSummary};
use crate::error::Result;
use crate::fasthash::FastMap;
use crate::pods::CounterFile;
use crate::reader::read_checked;

/// Label files are named `covcounters.<H>.0.<slot>` with a slot from 1 to
/// this: below 10^15, so never a write time in nanoseconds (those passed
/// 10^15 twelve days after the epoch), which merged files are named by.
pub const LABEL_SLOTS: u64 = 999_999_999_999_999;

/// Whether a counter file's name `(pid, nanos)` is a label slot's.
pub fn is_label_slot(pid: u64, nanos: u64) -> bool {
    pid == 0 && (1..=LABEL_SLOTS).contains(&nanos)
}

/// The label a counter file's args record, if any.
pub fn label_of(args: &[(String, String)]) -> Option<&str> {
    args.iter()
        .find(|(k, _)| k == arg_keys::LABEL)
        .map(|(_, v)| v.as_str())
}

/// Slots handed out per pod: a label's slot is derived from its MD5 and,
/// should another label already hold it, the next free one, so labels
/// claimed in the same order always get the same names.
#[derive(Default)]
pub(crate) struct Slots {
    by_slot: FastMap<u64, String>,
}

impl Slots {
    /// Records that `slot` holds `label` (an existing label file).
    pub fn hold(&mut self, slot: u64, label: &str) {
        self.by_slot.insert(slot, label.to_string());
    }

    /// The slot of `label`: the one it holds, else a free one.
    pub fn claim(&mut self, label: &str) -> u64 {
        let mut slot = 1 + md5_u64(label.as_bytes()) % LABEL_SLOTS;
        loop {
            match self.by_slot.get(&slot) {
                Some(l) if l != label => slot = slot % LABEL_SLOTS + 1,
                Some(_) => return slot,
                None => {
                    self.by_slot.insert(slot, label.to_string());
                    return slot;
                }
            }
        }
    }
}

/// The sum of one label's runs, sparse: `(index, count)` sorted by index.
#[derive(Default)]
pub(crate) struct LabelSum {
    pub entries: Vec<(u32, u64)>,
    pub summary: RunSummary,
    pub saturated: bool,
    merged: Vec<(u32, u64)>,
}

impl LabelSum {
    /// Adds one file's sorted entries.
    pub fn add(&mut self, entries: &[(u32, u64)]) {
        self.merged.clear();
        let (mut a, mut b) = (self.entries.iter().peekable(), entries.iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(&&(i, v)), Some(&&(j, w))) if i == j => {
                    a.next();
                    b.next();
                    let mut sum = v;
                    self.saturated |= covwrap_rt::format::counters::add_saturating(&mut sum, w);
                    (i, sum)
                }
                (Some(&&x), Some(&&y)) => {
                    if x.0 < y.0 {
                        a.next();
                        x
                    } else {
                        b.next();
                        y
                    }
                }
                (Some(&&x), None) => {
                    a.next();
                    x
                }
                (None, Some(&&y)) => {
                    b.next();
                    y
                }
                (None, None) => break,
            };
            self.merged.push(next);
        }
        std::mem::swap(&mut self.entries, &mut self.merged);
    }
}

/// What the files of one pod sum to, per label.
#[derive(Default)]
pub(crate) struct ByLabel {
    /// Runs without a label, dense (empty when there were none).
    pub unlabelled: Vec<u64>,
    pub unlabelled_summary: RunSummary,
    pub unlabelled_saturated: bool,
    /// Each label's runs.
    pub labels: BTreeMap<String, LabelSum>,
}

/// Sums the counter files `files` of pod `hash` (`total` counters) per
/// label. A bad file is `bad(error)`'s to decide: skipped when it returns
/// `Ok`, else the error.
pub(crate) fn sum_by_label(
    dirs: &[PathBuf],
    hash: &MetaHash,
    total: usize,
    files: &[CounterFile],
    mut bad: impl FnMut(crate::Error) -> Result<()>,
) -> Result<ByLabel> {
    let mut out = ByLabel::default();
    let mut buf = Vec::new();
    let mut entries = Vec::new();
    for f in files {
        let path = f.path(dirs, hash);
        let file = match read_checked(&path, hash, total, &mut buf, &mut entries) {
            Ok(file) => file,
            Err(e) => {
                bad(e.at(&path))?;
                continue;
            }
        };
        let header = file.header();
        let sat = header.flags & covwrap_rt::format::defs::counter_flags::SATURATED != 0;
        match label_of(file.args()) {
            Some(label) => {
                let sum = out.labels.entry(label.to_string()).or_default();
                sum.add(&entries);
                sum.saturated |= sat;
                sum.summary.add(header, file.args());
            }
            None => {
                if out.unlabelled.is_empty() {
                    out.unlabelled = vec![0; total];
                }
                // Every index is below `total` (checked by read_checked).
                for &(i, v) in &entries {
                    out.unlabelled_saturated |= covwrap_rt::format::counters::add_saturating(
                        &mut out.unlabelled[i as usize],
                        v,
                    );
                }
                out.unlabelled_saturated |= sat;
                out.unlabelled_summary.add(header, file.args());
            }
        }
    }
    Ok(out)
}

/// The counter file of one label: the sum, its `label`, named by `slot`.
pub(crate) fn label_file(
    hash: MetaHash,
    total: usize,
    label: &str,
    sum: &LabelSum,
    slot: u64,
    extra_args: &[(String, String)],
) -> OutFile {
    let header = sum.summary.header(hash, total as u32, sum.saturated);
    let mut args = sum.summary.args();
    args.push((arg_keys::LABEL.to_string(), label.to_string()));
    args.extend_from_slice(extra_args);
    OutFile {
        name: counters_file_name(&hash, 0, slot),
        bytes: covwrap_rt::format::counters::encode(&header, &args, sum.entries.iter().copied()),
    }
}

/// `merge -o --keep-labels` of one pod: its counter files, one per label
/// (slots claimed in label order) and one for the runs without a label.
pub(crate) fn merged_files(hash: MetaHash, total: usize, sums: &ByLabel) -> Vec<OutFile> {
    let mut out = Vec::new();
    if sums.unlabelled_summary.files() > 0 {
        out.push(counter_file(
            hash,
            &sums.unlabelled,
            &sums.unlabelled_summary,
            sums.unlabelled_saturated,
        ));
    }
    let mut slots = Slots::default();
    for (label, sum) in &sums.labels {
        let slot = slots.claim(label);
        out.push(label_file(hash, total, label, sum, slot, &[]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_sums_merge_sorted_entries() {
        let mut s = LabelSum::default();
        s.add(&[(1, 2), (5, 1)]);
        s.add(&[(0, 7), (5, 3), (9, 1)]);
        assert_eq!(s.entries, vec![(0, 7), (1, 2), (5, 4), (9, 1)]);
        assert!(!s.saturated);
        s.add(&[(9, u64::MAX)]);
        assert_eq!(s.entries[3], (9, u64::MAX));
        assert!(s.saturated);
    }

    #[test]
    fn slots_are_stable_below_write_times_and_never_shared() {
        let mut a = Slots::default();
        let x = a.claim("crate::it parses");
        assert!(is_label_slot(0, x));
        assert!(!is_label_slot(0, 0) && !is_label_slot(0, 1_700_000_000_000_000_000));
        assert_eq!(a.claim("crate::it parses"), x);
        let mut b = Slots::default();
        assert_eq!(
            b.claim("crate::it parses"),
            x,
            "a slot depends only on the label"
        );
        // Another label already at that slot: the next one.
        let mut c = Slots::default();
        c.hold(x, "someone else");
        let y = c.claim("crate::it parses");
        assert_eq!(y, x % LABEL_SLOTS + 1);
        assert_ne!(c.claim("third"), y);
    }
}
