//! `--keep-labels` (`merge -o` and `merge --in-place`): one counter file
//! per run label, so per-test attribution (`covdata tests`) survives a
//! merge. Runs of one label are summed, and so are runs without a label
//! that share a command line (`covdata tests` names them by it); files
//! that already lost both are summed as without the flag. docs/FORMAT.md
//! ("Label pools") names the files.

use std::collections::BTreeMap;
use std::sync::Mutex;

use covwrap_rt::format::defs::{arg_keys, counter_flags, MetaHash};
use covwrap_rt::format::md5::md5_u64;
use covwrap_rt::format::names::counters_file_name;

use super::{counter_file, OutFile, RunSummary};
use crate::fasthash::FastMap;
use crate::reader::{Pod, RunObserver, SeenRun};

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
    /// Records that `slot` holds the file of `who` (an existing file).
    pub fn hold(&mut self, slot: u64, who: &str) {
        self.by_slot.insert(slot, who.to_string());
    }

    /// The slot of `who`, starting from `key`'s: the one it holds, else a
    /// free one.
    pub fn claim_from(&mut self, key: &str, who: &str) -> u64 {
        let mut slot = 1 + md5_u64(key.as_bytes()) % LABEL_SLOTS;
        loop {
            match self.by_slot.get(&slot) {
                Some(l) if l != who => slot = slot % LABEL_SLOTS + 1,
                Some(_) => return slot,
                None => {
                    self.by_slot.insert(slot, who.to_string());
                    return slot;
                }
            }
        }
    }

    /// The slot of `label`.
    #[cfg(test)]
    pub fn claim(&mut self, label: &str) -> u64 {
        self.claim_from(label, label)
    }
}

/// The sum of one label's runs, sparse: `(index, count)` sorted by index.
#[derive(Debug, Default)]
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

/// Who a group of runs is: a label, else the command line (`argv` and
/// `exe` args) of runs without one, which `covdata tests` names them by.
/// Runs whose files already lost both (merge outputs, pools) have an
/// empty command line.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    /// Runs with this `label`, and the `label-source` they record.
    Label(String, Option<String>),
    /// Runs without a label, with these `argv`/`exe` args.
    Command(Vec<(String, String)>),
}

impl Group {
    /// The group of a counter file's runs.
    pub fn of(args: &[(String, String)]) -> Group {
        match label_of(args) {
            Some(l) => Group::Label(
                l.to_string(),
                args.iter()
                    .find(|(k, _)| k == arg_keys::LABEL_SOURCE)
                    .map(|(_, v)| v.clone()),
            ),
            None => Group::Command(
                args.iter()
                    .filter(|(k, _)| k == arg_keys::ARGV || k == arg_keys::EXE)
                    .cloned()
                    .collect(),
            ),
        }
    }

    /// Runs that lost who they were: they go to the pool (or, for
    /// `merge -o`, the pod's merged file) as without `--keep-labels`.
    pub fn is_lost(&self) -> bool {
        matches!(self, Group::Command(c) if c.is_empty())
    }

    /// The args naming the group in its file.
    pub(crate) fn args(&self) -> Vec<(String, String)> {
        match self {
            Group::Label(l, source) => {
                let mut args = vec![(arg_keys::LABEL.to_string(), l.clone())];
                if let Some(s) = source {
                    args.push((arg_keys::LABEL_SOURCE.to_string(), s.clone()));
                }
                args
            }
            Group::Command(c) => c.clone(),
        }
    }

    /// The key slots are derived from: the label, or (never a label: an
    /// environment variable cannot hold NUL) NUL and the command line.
    fn slot_key(&self) -> String {
        match self {
            Group::Label(l, _) => l.clone(),
            Group::Command(c) => {
                let mut k = String::from("\0");
                for (key, v) in c {
                    k.push_str(key);
                    k.push('\0');
                    k.push_str(v);
                    k.push('\0');
                }
                k
            }
        }
    }

    /// What tells two groups of one slot key apart: the key, and the
    /// label's source.
    fn identity(&self) -> String {
        match self {
            Group::Label(l, Some(source)) => format!("{l}\0{source}"),
            _ => self.slot_key(),
        }
    }
}

impl Slots {
    /// Records that `slot` holds `group`'s file.
    pub fn hold_group(&mut self, slot: u64, group: &Group) {
        self.hold(slot, &group.identity());
    }

    /// The slot of `group`.
    pub fn claim_group(&mut self, group: &Group) -> u64 {
        self.claim_from(&group.slot_key(), &group.identity())
    }
}

/// Each pod's runs summed per group while a load reads them (`merge
/// --keep-labels`), so that every counter file is read once: a
/// [`RunObserver`] for [`crate::reader::load_observed`] and
/// [`crate::source::Source::load_observed`]. It sees what the load adds,
/// so bad files and live processes' files are left out as the load
/// leaves them out.
#[derive(Debug, Default)]
pub struct LabelSums {
    pods: Mutex<BTreeMap<MetaHash, BTreeMap<Group, LabelSum>>>,
}

impl LabelSums {
    /// The groups of pod `hash` (none when it had no run).
    pub(crate) fn take(&self, hash: &MetaHash) -> BTreeMap<Group, LabelSum> {
        self.lock().remove(hash).unwrap_or_default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<MetaHash, BTreeMap<Group, LabelSum>>> {
        self.pods.lock().expect("no thread panics holding it")
    }
}

impl RunObserver for LabelSums {
    fn pods(&self, _pods: &[&Pod]) {}

    fn begin(&self, hash: &MetaHash, _files: usize) {
        self.lock().insert(*hash, BTreeMap::new());
    }

    fn run(&self, run: &SeenRun<'_>) {
        let mut pods = self.lock();
        let sum = pods
            .entry(*run.hash)
            .or_default()
            .entry(Group::of(run.args))
            .or_default();
        sum.add(run.entries);
        sum.saturated |= run.header.flags & counter_flags::SATURATED != 0;
        sum.summary.add(run.header, run.args);
    }
}

/// The counter file of one group, `covcounters.<H>.<pid>.<nanos>`: the
/// sum, and the args naming the group, then `extra_args`.
pub(crate) fn group_file(
    hash: MetaHash,
    total: usize,
    group: &Group,
    sum: &LabelSum,
    (pid, nanos): (u64, u64),
    extra_args: &[(String, String)],
) -> OutFile {
    let header = sum.summary.header(hash, total as u32, sum.saturated);
    let mut args = sum.summary.args();
    args.extend(group.args());
    args.extend_from_slice(extra_args);
    OutFile {
        name: counters_file_name(&hash, pid, nanos),
        bytes: covwrap_rt::format::counters::encode(&header, &args, sum.entries.iter().copied()),
    }
}

/// `merge -o --keep-labels` of one pod: one counter file per group, named
/// `covcounters.<H>.<slot>.<latest write time>` (slots claimed in group
/// order; the slot in the pid's place, so that readers know no such file
/// lists absorbed files, which only pid 0 files do); the runs that had
/// lost who they were in the one merged file they would get without the
/// flag.
pub(crate) fn merged_files(
    hash: MetaHash,
    total: usize,
    groups: &BTreeMap<Group, LabelSum>,
) -> Vec<OutFile> {
    let mut out = Vec::new();
    let mut slots = Slots::default();
    for (group, sum) in groups {
        if group.is_lost() {
            let mut dense = vec![0u64; total];
            for &(i, v) in &sum.entries {
                dense[i as usize] = v;
            }
            out.push(counter_file(hash, &dense, &sum.summary, sum.saturated));
        } else {
            let slot = slots.claim_group(group);
            let name = (slot, sum.summary.write_ns);
            out.push(group_file(hash, total, group, sum, name, &[]));
        }
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

    #[test]
    fn one_label_from_two_runners_gets_two_slots() {
        let mut s = Slots::default();
        let nextest = Group::Label("c::it".into(), Some("nextest".into()));
        let user = Group::Label("c::it".into(), None);
        let a = s.claim_group(&nextest);
        let b = s.claim_group(&user);
        assert_ne!(a, b);
        assert_eq!(s.claim_group(&nextest), a);
        assert_eq!(
            a,
            Slots::default().claim("c::it"),
            "the slot comes from the label"
        );
    }
}
