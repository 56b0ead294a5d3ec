//! Evaluating the resolved records with each run's kept counters
//! ([`super::collect`]): no counter file is read again.

use std::collections::BTreeMap;

use covwrap_rt::format::defs::MetaHash;

use super::collect::{Collector, Kept, Who};
use super::{Answer, Targets, TestHits};
use crate::error::Result;
use crate::fasthash::FastMap;
use crate::llvm::mapping::Mapping;
use crate::model::counts::Evaluator;
use crate::model::lines::for_each_mapped_run;
use crate::model::segments::{self, Scratch, Segment};
use crate::model::CountedRegion;
use crate::report::Context;

/// A record to evaluate: its mapping and how many counters it takes.
struct Record<'a> {
    mapping: &'a Mapping,
    len: usize,
    /// The model's function record.
    function: u32,
}

/// Where a pod keeps a record's counters: (record, the first counter of
/// each of its data entries, count). A function has several entries when
/// rustc made copies of it (an `#[inline]` function, one per codegen
/// unit); their counters are summed, as the model sums them.
type PodSlots = Vec<(usize, Vec<usize>, usize)>;

/// What one label's runs did.
#[derive(Default)]
struct Tally {
    labelled: bool,
    source: Option<String>,
    runs: u64,
    hits: u64,
    reached: Vec<bool>,
}

/// Tallies, per label, the runs `collector` kept (while the load that
/// built `ctx` read them) that reach `targets`.
pub fn scan(ctx: &Context, targets: &Targets, collector: &Collector) -> Result<Answer> {
    let cov = ctx.cov;
    let kept = collector.kept();
    let wanted: Vec<u32> = {
        let mut w: Vec<u32> = targets
            .files
            .iter()
            .flat_map(|f| f.records.iter().copied())
            .chain(targets.functions.iter().copied())
            .collect();
        w.sort_unstable();
        w.dedup();
        w
    };
    let records = records(ctx, &kept, &wanted);
    let record_of: FastMap<u32, usize> = records
        .iter()
        .enumerate()
        .map(|(i, r)| (r.function, i))
        .collect();
    // Per pod of the model (by H): where its counter array holds each record.
    let mut slots: BTreeMap<MetaHash, PodSlots> = BTreeMap::new();
    for pod in &cov.pods {
        let mut s = PodSlots::new();
        for (ri, r) in records.iter().enumerate() {
            let f = &cov.functions[r.function as usize];
            let starts: Vec<usize> = pod
                .funcs
                .iter()
                .filter(|e| {
                    e.name_ref == f.name_ref
                        && e.func_hash == f.func_hash
                        && e.num_counters as usize == r.len
                })
                .map(|e| e.first_counter as usize)
                .collect();
            if !starts.is_empty() {
                s.push((ri, starts, r.len));
            }
        }
        if !s.is_empty() {
            slots.insert(pod.hash, s);
        }
    }
    // A function query is one target, whatever its instantiations.
    let target_count: usize = targets.files.iter().map(|f| f.lines.len()).sum::<usize>()
        + usize::from(!targets.functions.is_empty());
    let mut answer = Answer {
        query: targets.query.clone(),
        targets: targets.coverable,
        files: slots
            .keys()
            .map(|h| kept.files.get(h).copied().unwrap_or(0) as u64)
            .sum(),
        ..Answer::default()
    };
    let job = Job {
        ctx,
        records: &records,
        record_of: &record_of,
        targets,
        target_count,
    };
    // Each pod's distinct kept values are evaluated once.
    let mut runs: Vec<_> = kept
        .runs
        .iter()
        .filter(|r| slots.contains_key(&kept.pods[r.pod as usize]))
        .collect();
    runs.sort_by_key(|r| (kept.pods[r.pod as usize], r.index));
    let mut outcomes: FastMap<(u32, u32), (u64, Vec<bool>)> = FastMap::default();
    let mut eval = RunEval::default();
    for r in &runs {
        if outcomes.contains_key(&(r.pod, r.values)) {
            continue;
        }
        let hash = kept.pods[r.pod as usize];
        let pod_slots = &slots[&hash];
        let num_counters = cov
            .pods
            .iter()
            .find(|p| p.hash == hash)
            .map_or(0, |p| p.counters.len());
        let values = &kept.values[r.values as usize];
        eval.dense.resize(num_counters, 0);
        for &(c, v) in values.iter() {
            eval.dense[c as usize] = v;
        }
        let outcome = eval.evaluate(&job, pod_slots);
        for &(c, _) in values.iter() {
            eval.dense[c as usize] = 0;
        }
        outcomes.insert((r.pod, r.values), outcome);
    }
    let mut whos: Vec<&Who> = vec![&Who::Merged; kept.whos.len()];
    for (who, &id) in &kept.whos {
        whos[id as usize] = who;
    }
    let mut labels: FastMap<&str, Tally> = FastMap::default();
    let (mut merged_files, mut merged_runs) = (0u64, 0u64);
    for r in &runs {
        let (hits, reached) = &outcomes[&(r.pod, r.values)];
        if *hits == 0 && !reached.iter().any(|r| *r) {
            continue;
        }
        let (label, labelled, source) = match whos[r.who as usize] {
            Who::Merged => {
                merged_files += 1;
                merged_runs += u64::from(r.runs);
                continue;
            }
            Who::Test {
                label,
                labelled,
                source,
            } => (label, labelled, source),
        };
        let t = labels.entry(&**label).or_default();
        t.labelled |= labelled;
        if t.source.is_none() {
            t.source = source.map(|s| kept.sources[s as usize].clone());
        }
        t.runs += u64::from(r.runs);
        t.hits = t.hits.saturating_add(*hits);
        if t.reached.is_empty() {
            t.reached = vec![false; target_count];
        }
        for (a, b) in t.reached.iter_mut().zip(reached) {
            *a |= *b;
        }
    }
    let mut any_reached = vec![false; target_count];
    let mut tests: Vec<TestHits> = labels
        .into_iter()
        .map(|(label, t)| {
            for (a, r) in any_reached.iter_mut().zip(&t.reached) {
                *a |= *r;
            }
            TestHits {
                label: label.to_string(),
                labelled: t.labelled,
                source: t.source,
                runs: t.runs,
                hits: t.hits,
                reached: t.reached.iter().filter(|r| **r).count() as u64,
            }
        })
        .collect();
    tests.sort_by(|a, b| a.label.cmp(&b.label));
    answer.tests = tests;
    answer.reached_targets = any_reached.iter().filter(|r| **r).count() as u64;
    if merged_files > 0 {
        answer.unlabelled_merged = Some((merged_files, merged_runs));
    }
    Ok(answer)
}

/// The records `wanted` (model functions) with the mappings the pass kept.
fn records<'a>(ctx: &Context, kept: &'a Kept, wanted: &[u32]) -> Vec<Record<'a>> {
    let cov = ctx.cov;
    let mut out = Vec::with_capacity(wanted.len());
    for &w in wanted {
        let f = &cov.functions[w as usize];
        let pod = &cov.pods[f.pod];
        // Every record resolve names is a candidate of the pass.
        let Some(mapping) = kept
            .mappings
            .get(&(pod.hash, f.module, f.name_ref, f.func_hash))
        else {
            continue;
        };
        let len = pod
            .funcs
            .iter()
            .find(|e| e.name_ref == f.name_ref && e.func_hash == f.func_hash)
            .map_or(mapping.max_counter_id() as usize + 1, |e| {
                e.num_counters as usize
            });
        out.push(Record {
            mapping,
            len,
            function: w,
        });
    }
    out
}

/// What every run's evaluation shares.
struct Job<'a> {
    ctx: &'a Context<'a>,
    records: &'a [Record<'a>],
    record_of: &'a FastMap<u32, usize>,
    targets: &'a Targets,
    target_count: usize,
}

/// Scratch space to evaluate one run.
#[derive(Default)]
struct RunEval {
    dense: Vec<u64>,
    zeros: Vec<u64>,
    /// A record's counters summed over its data entries.
    summed: Vec<u64>,
    evaluator: Evaluator,
    regions: Vec<CountedRegion>,
    segments: Vec<Segment>,
    scratch: Scratch,
    /// Per record: its evaluated regions for this run.
    counted: Vec<Option<Vec<CountedRegion>>>,
}

impl RunEval {
    /// The run's hits and which targets it reached (files' lines in
    /// order, then functions).
    fn evaluate(&mut self, job: &Job, slots: &PodSlots) -> (u64, Vec<bool>) {
        self.counted.clear();
        self.counted.resize(job.records.len(), None);
        let mut in_pod: Vec<Option<(&[usize], usize)>> = vec![None; job.records.len()];
        for (ri, starts, len) in slots {
            in_pod[*ri] = Some((starts.as_slice(), *len));
        }
        for (ri, r) in job.records.iter().enumerate() {
            let counts: &[u64] = match in_pod[ri] {
                Some(([start], len)) => &self.dense[*start..*start + len],
                Some((starts, len)) => {
                    self.summed.clear();
                    self.summed.resize(len, 0);
                    for &start in starts {
                        covwrap_rt::format::counters::add_all_saturating(
                            &mut self.summed,
                            &self.dense[start..start + len],
                        );
                    }
                    &self.summed
                }
                None => {
                    if self.zeros.len() < r.len {
                        self.zeros.resize(r.len, 0);
                    }
                    &self.zeros[..r.len]
                }
            };
            if let Some((regions, _)) = self.evaluator.evaluate(r.mapping, counts) {
                self.counted[ri] = Some(regions);
            }
        }
        let cov = job.ctx.cov;
        let mut hits = 0u64;
        let mut reached = Vec::with_capacity(job.target_count);
        for ft in &job.targets.files {
            self.regions.clear();
            for &rec in &ft.records {
                let Some(&ri) = job.record_of.get(&rec) else {
                    continue;
                };
                let Some(regions) = &self.counted[ri] else {
                    continue;
                };
                let f = &cov.functions[rec as usize];
                self.regions.extend(
                    regions
                        .iter()
                        .filter(|r| f.filenames[r.file_id as usize] == ft.file),
                );
            }
            segments::build_into(&mut self.regions, &mut self.segments, &mut self.scratch);
            let mut counts = vec![0u64; ft.lines.len()];
            let mut next = 0;
            for_each_mapped_run(&self.segments, |first, last, count| {
                while next < ft.lines.len() && ft.lines[next] < first {
                    next += 1;
                }
                let mut k = next;
                while k < ft.lines.len() && ft.lines[k] <= last {
                    counts[k] = count;
                    k += 1;
                }
            });
            for c in counts {
                hits = hits.saturating_add(c);
                reached.push(c > 0);
            }
        }
        if !job.targets.functions.is_empty() {
            let mut entered = 0u64;
            for &rec in &job.targets.functions {
                let count = job
                    .record_of
                    .get(&rec)
                    .and_then(|&ri| self.counted[ri].as_ref())
                    .and_then(|r| r.first())
                    .map_or(0, |r| r.count);
                entered = entered.saturating_add(count);
            }
            hits = hits.saturating_add(entered);
            reached.push(entered > 0);
        }
        (hits, reached)
    }
}
