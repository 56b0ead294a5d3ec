//! [`RunSummary`]: what a pod's counter files say about their runs, in a
//! fixed size whatever their number.

use std::collections::BTreeMap;

use covwrap_rt::format::counters::CountersHeader;
use covwrap_rt::format::defs::{arg_keys, counter_flags, end_reason, MetaHash};

use super::pod::Run;

/// What a pod's counter files say about their runs, in a fixed size: the
/// header fields a file summing them needs, and the latest run's binary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Sum of the files' `runs` (saturating at `u32::MAX`).
    pub runs: u32,
    /// Earliest start time.
    pub start_ns: Option<u64>,
    /// Latest write time.
    pub write_ns: u64,
    /// Some file had the saturated flag.
    pub saturated: bool,
    /// Per kept key (`os`, `arch`): its values, while every file so far
    /// had exactly these; `None` once two files disagreed.
    agreed: BTreeMap<&'static str, Option<Vec<String>>>,
    /// `exe` (else first `argv`) of the latest-written file, and its time.
    latest_exe: Option<(u64, String)>,
    files: usize,
}

/// Args keys a merged counter file keeps when every input agrees on them.
const AGREED_KEYS: [&str; 2] = [arg_keys::OS, arg_keys::ARCH];

impl RunSummary {
    /// Adds one counter file's header and args.
    pub fn add(&mut self, header: &CountersHeader, args: &[(String, String)]) {
        let mut one = RunSummary {
            runs: header.runs,
            start_ns: Some(header.start_ns),
            write_ns: header.write_ns,
            saturated: header.flags & counter_flags::SATURATED != 0,
            agreed: BTreeMap::new(),
            latest_exe: None,
            files: 1,
        };
        for key in AGREED_KEYS {
            let values = args
                .iter()
                .filter(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .collect();
            one.agreed.insert(key, Some(values));
        }
        let arg = |key: &str| args.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        one.latest_exe = arg(arg_keys::EXE)
            .or_else(|| arg(arg_keys::ARGV))
            .map(|e| (header.write_ns, e));
        self.merge(&one);
    }

    /// Adds a run.
    pub fn add_run(&mut self, run: &Run) {
        self.add(&run.header, &run.args);
    }

    /// Adds everything `other` summarizes. Order does not matter.
    pub fn merge(&mut self, other: &RunSummary) {
        if other.files == 0 {
            return;
        }
        if self.files == 0 {
            *self = other.clone();
            return;
        }
        self.runs = self.runs.saturating_add(other.runs);
        self.start_ns = match (self.start_ns, other.start_ns) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.write_ns = self.write_ns.max(other.write_ns);
        self.saturated |= other.saturated;
        for key in AGREED_KEYS {
            let theirs = other.agreed.get(key).cloned().flatten();
            let slot = self.agreed.entry(key).or_insert(None);
            if slot.is_some() && *slot != theirs {
                *slot = None;
            }
        }
        // Ties broken by the name, so the result is order-free.
        if other.latest_exe > self.latest_exe {
            self.latest_exe = other.latest_exe.clone();
        }
        self.files += other.files;
    }

    /// Number of files added.
    pub fn files(&self) -> usize {
        self.files
    }

    /// The binary of the latest-written file, to pair a raw profile with.
    pub fn latest_exe(&self) -> Option<&str> {
        self.latest_exe.as_ref().map(|(_, e)| e.as_str())
    }

    /// `os` and `arch`, each where every file had the same values.
    pub fn args(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for key in AGREED_KEYS {
            if let Some(Some(values)) = self.agreed.get(key) {
                out.extend(values.iter().map(|v| (key.to_string(), v.clone())));
            }
        }
        out
    }

    /// The header of the merged file for `hash` and `num_counters`.
    pub fn header(&self, hash: MetaHash, num_counters: u32, saturated: bool) -> CountersHeader {
        CountersHeader {
            flags: if saturated || self.saturated {
                counter_flags::SATURATED
            } else {
                0
            },
            meta_hash: hash,
            pid: 0,
            start_ns: self.start_ns.unwrap_or(0),
            write_ns: self.write_ns,
            num_counters,
            end: end_reason::MERGED,
            runs: self.runs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(runs: u32, start: u64, write: u64) -> CountersHeader {
        CountersHeader {
            flags: 0,
            meta_hash: [0; 16],
            pid: 1,
            start_ns: start,
            write_ns: write,
            num_counters: 0,
            end: 0,
            runs,
        }
    }

    #[test]
    fn summaries_merge_in_any_order() {
        let files = [
            (
                header(1, 50, 60),
                vec![("os".into(), "linux".into()), ("exe".into(), "/a".into())],
            ),
            (
                header(3, 10, 90),
                vec![
                    ("os".into(), "linux".into()),
                    ("argv".into(), "/b x".into()),
                ],
            ),
            (header(2, 30, 70), vec![("os".into(), "macos".into())]),
        ];
        let mut forward = RunSummary::default();
        for (h, a) in &files {
            forward.add(h, a);
        }
        let mut parts = [RunSummary::default(), RunSummary::default()];
        parts[0].add(&files[2].0, &files[2].1);
        parts[1].add(&files[1].0, &files[1].1);
        parts[1].add(&files[0].0, &files[0].1);
        let mut backward = parts[0].clone();
        backward.merge(&parts[1]);
        assert_eq!(forward, backward);
        assert_eq!(
            (forward.runs, forward.start_ns, forward.write_ns),
            (6, Some(10), 90)
        );
        assert_eq!(forward.latest_exe(), Some("/b x"));
        // The files disagree on os: it is dropped; arch was never there.
        assert!(forward.args().is_empty());
        assert_eq!(forward.files(), 3);
        let h = forward.header([1; 16], 4, false);
        assert_eq!((h.runs, h.end, h.num_counters), (6, end_reason::MERGED, 4));
    }
}
