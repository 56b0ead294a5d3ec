//! Streaming every counter file once and evaluating only the resolved
//! records with its counters.

use std::collections::BTreeMap;
use std::path::PathBuf;

use covwrap_rt::format::counters::CountersFile;
use covwrap_rt::format::defs::{arg_keys, POOL_PID};
use covwrap_rt::format::md5::hex;

use super::{Answer, Targets, TestHits};
use crate::error::{Error, ErrorKind, Result};
use crate::fasthash::FastMap;
use crate::llvm::mapping::Mapping;
use crate::model::counts::Evaluator;
use crate::model::lines::for_each_mapped_run;
use crate::model::segments::{self, Scratch, Segment};
use crate::model::{decode_pod, CountedRegion};
use crate::pods::{discover, CounterFile};
use crate::reader::locked_counter_files;
use crate::report::Context;

/// A record to evaluate: its mapping and how many counters it takes.
struct Record {
    mapping: Mapping,
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

/// What one reader thread found.
#[derive(Default)]
struct Partial {
    labels: FastMap<String, Tally>,
    merged_files: u64,
    merged_runs: u64,
    errors: Vec<(usize, Error)>,
}

/// Reads every counter file of `dirs` and tallies, per label, the runs
/// that reach `targets`. Bad files fail the query, or with `ignore_bad`
/// are skipped and listed.
pub fn scan(
    ctx: &Context,
    dirs: &[PathBuf],
    targets: &Targets,
    ignore_bad: bool,
) -> Result<Answer> {
    let cov = ctx.cov;
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
    let records = decode_records(ctx, &wanted)?;
    let record_of: FastMap<u32, usize> = records
        .iter()
        .enumerate()
        .map(|(i, r)| (r.function, i))
        .collect();
    // Per pod of the model (by H): where its counter array holds each record.
    let mut slots: BTreeMap<[u8; 16], PodSlots> = BTreeMap::new();
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
        slots.insert(pod.hash, s);
    }
    // A function query is one target, whatever its instantiations.
    let target_count: usize = targets.files.iter().map(|f| f.lines.len()).sum::<usize>()
        + usize::from(!targets.functions.is_empty());
    let found = discover(dirs)?;
    let mut answer = Answer {
        query: targets.query.clone(),
        targets: targets.coverable,
        ..Answer::default()
    };
    let mut total = Partial::default();
    let mut any_reached = vec![false; target_count];
    for files in &found.pods {
        let Some(pod_slots) = slots.get(&files.hash).filter(|s| !s.is_empty()) else {
            continue;
        };
        let Some(pod) = cov.pods.iter().find(|p| p.hash == files.hash) else {
            continue;
        };
        let (_locks, list) = locked_counter_files(dirs, files)?;
        answer.files += list.len() as u64;
        let job = Job {
            ctx,
            dirs,
            hash: files.hash,
            num_counters: pod.counters.len(),
            list: &list,
            slots: pod_slots,
            records: &records,
            record_of: &record_of,
            targets,
            target_count,
        };
        let part = job.run();
        merge_into(&mut total, part);
    }
    total.errors.sort_by_key(|(i, _)| *i);
    for (_, e) in total.errors {
        if !ignore_bad {
            return Err(e);
        }
        answer.skipped.push(e);
    }
    let mut tests: Vec<TestHits> = total
        .labels
        .into_iter()
        .map(|(label, t)| {
            for (a, r) in any_reached.iter_mut().zip(&t.reached) {
                *a |= *r;
            }
            TestHits {
                label,
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
    if total.merged_files > 0 {
        answer.unlabelled_merged = Some((total.merged_files, total.merged_runs));
    }
    Ok(answer)
}

fn merge_into(total: &mut Partial, part: Partial) {
    for (label, t) in part.labels {
        let slot = total.labels.entry(label).or_default();
        slot.labelled |= t.labelled;
        if slot.source.is_none() {
            slot.source = t.source;
        }
        slot.runs += t.runs;
        slot.hits = slot.hits.saturating_add(t.hits);
        if slot.reached.is_empty() {
            slot.reached = t.reached;
        } else {
            for (a, b) in slot.reached.iter_mut().zip(&t.reached) {
                *a |= *b;
            }
        }
    }
    total.merged_files += part.merged_files;
    total.merged_runs += part.merged_runs;
    total.errors.extend(part.errors);
}

/// The mappings of the model's records `wanted`, decoded again from their
/// pods (the model keeps only evaluated regions).
fn decode_records(ctx: &Context, wanted: &[u32]) -> Result<Vec<Record>> {
    let cov = ctx.cov;
    let mut out = Vec::with_capacity(wanted.len());
    let mut by_pod: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
    for &w in wanted {
        by_pod
            .entry(cov.functions[w as usize].pod)
            .or_default()
            .push(w);
    }
    for (p, functions) in by_pod {
        let pod = &cov.pods[p];
        let decoded = decode_pod(pod).map_err(|e| e.at(&pod.meta_path))?;
        for w in functions {
            let f = &cov.functions[w as usize];
            let Some((_, mapping)) = decoded[f.module]
                .records
                .iter()
                .find(|(r, _)| r.name_ref == f.name_ref && r.func_hash == f.func_hash)
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
                mapping: mapping.clone(),
                len,
                function: w,
            });
        }
    }
    Ok(out)
}

/// The counter files of one pod, split over reader threads.
struct Job<'a> {
    ctx: &'a Context<'a>,
    dirs: &'a [PathBuf],
    hash: [u8; 16],
    num_counters: usize,
    list: &'a [CounterFile],
    slots: &'a PodSlots,
    records: &'a [Record],
    record_of: &'a FastMap<u32, usize>,
    targets: &'a Targets,
    target_count: usize,
}

impl Job<'_> {
    fn run(&self) -> Partial {
        let n = self.list.len();
        let threads = std::thread::available_parallelism()
            .map_or(1, |p| p.get().min(8))
            .min(n.max(1));
        if threads <= 1 {
            return self.work(0, 1);
        }
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| s.spawn(move || self.work(t, threads)))
                .collect();
            let mut total = Partial::default();
            for h in handles {
                merge_into(&mut total, h.join().expect("tests reader thread panicked"));
            }
            total
        })
    }

    fn work(&self, first: usize, step: usize) -> Partial {
        let mut part = Partial::default();
        let mut relevant = vec![false; self.num_counters];
        for (_, starts, len) in self.slots {
            for &start in starts {
                relevant[start..start + len]
                    .iter_mut()
                    .for_each(|r| *r = true);
            }
        }
        let mut eval = RunEval {
            dense: vec![0; self.num_counters],
            zeros: Vec::new(),
            summed: Vec::new(),
            evaluator: Evaluator::default(),
            regions: Vec::new(),
            segments: Vec::new(),
            scratch: Scratch::default(),
            counted: Vec::new(),
        };
        let mut buf = Vec::new();
        let mut entries = Vec::new();
        for i in (first..self.list.len()).step_by(step) {
            let path = self.list[i].path(self.dirs, &self.hash);
            buf.clear();
            if let Err(e) = std::fs::File::open(&path)
                .and_then(|mut f| std::io::Read::read_to_end(&mut f, &mut buf))
            {
                part.errors.push((i, Error::io(&path, &e)));
                continue;
            }
            let file = match CountersFile::parse_into(&buf, &mut entries) {
                Ok(f) => f,
                Err(e) => {
                    part.errors.push((i, Error::from(e).at(&path)));
                    continue;
                }
            };
            let header = *file.header();
            if header.meta_hash != self.hash || header.num_counters as usize != self.num_counters {
                let e = Error::new(
                    ErrorKind::Corrupt,
                    format!(
                        "header does not match its meta file {} ({} counters)",
                        hex(&self.hash),
                        self.num_counters
                    ),
                );
                part.errors.push((i, e.at(&path)));
                continue;
            }
            // Most runs of a large suite never touch the query's records.
            if !entries.iter().any(|&(c, _)| relevant[c as usize]) {
                continue;
            }
            for &(c, v) in entries.iter() {
                eval.dense[c as usize] = v;
            }
            let (hits, reached) = eval.evaluate(self);
            for &(c, _) in entries.iter() {
                eval.dense[c as usize] = 0;
            }
            if hits == 0 && !reached.iter().any(|r| *r) {
                continue;
            }
            let args = file.args();
            let label = args
                .iter()
                .find(|(k, _)| k == arg_keys::LABEL)
                .map(|(_, v)| v.clone());
            // Files covdata or a pool writer made (pid 0) sum runs whose
            // labels are gone, even a single run, unless they kept a label
            // or a command line (`merge --keep-labels`).
            let several = header.runs > 1 || header.pid == 0 || self.list[i].pid == POOL_PID;
            let named = args
                .iter()
                .any(|(k, _)| k == arg_keys::ARGV || k == arg_keys::EXE);
            let (label, labelled) = match label {
                Some(l) => (l, true),
                None if several && !named => {
                    part.merged_files += 1;
                    part.merged_runs += u64::from(header.runs);
                    continue;
                }
                None => (argv_label(args), false),
            };
            let t = part.labels.entry(label).or_default();
            t.labelled = labelled;
            if t.source.is_none() {
                t.source = args
                    .iter()
                    .find(|(k, _)| k == arg_keys::LABEL_SOURCE)
                    .map(|(_, v)| v.clone());
            }
            t.runs += u64::from(header.runs.max(1));
            t.hits = t.hits.saturating_add(hits);
            if t.reached.is_empty() {
                t.reached = vec![false; self.target_count];
            }
            for (a, b) in t.reached.iter_mut().zip(&reached) {
                *a |= *b;
            }
        }
        part
    }
}

/// An unlabelled run is named by its command line.
fn argv_label(args: &[(String, String)]) -> String {
    let argv: Vec<&str> = args
        .iter()
        .filter(|(k, _)| k == arg_keys::ARGV)
        .map(|(_, v)| v.as_str())
        .collect();
    if argv.is_empty() {
        args.iter()
            .find(|(k, _)| k == arg_keys::EXE)
            .map_or_else(|| "(unknown program)".to_string(), |(_, v)| v.clone())
    } else {
        argv.join(" ")
    }
}

/// Scratch space to evaluate one run.
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
    fn evaluate(&mut self, job: &Job) -> (u64, Vec<bool>) {
        self.counted.clear();
        self.counted.resize(job.records.len(), None);
        let mut in_pod: Vec<Option<(&[usize], usize)>> = vec![None; job.records.len()];
        for (ri, starts, len) in job.slots {
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
            if let Some((regions, _)) = self.evaluator.evaluate(&r.mapping, counts) {
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
