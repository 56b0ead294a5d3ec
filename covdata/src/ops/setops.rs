//! `covdata subtract` and `covdata intersect`, defined on regions.
//!
//! LLVM region counts are expressions over raw counters, so zeroing raw
//! counters (Go's unit-level rule) would be wrong: a region `c0 - c1`
//! would gain count when `c1` is zeroed. Instead, for each function record
//! of the first input, every counted region (and each side of a branch)
//! gets a count by the operation's rule, computed from the region's
//! evaluated count in each input; functions are matched across inputs and
//! pods by identity (NameRef, FuncHash), regions inside a function by
//! (file id, kind, range, branch side, occurrence).
//!
//! - subtract (two inputs): the first input's count where the second's is
//!   0 (or the function is absent there), else 0;
//! - intersect (two or more): the first input's count where every input's
//!   is non-zero (an absent function counts as all zero), else 0.
//!
//! The output is one pod holding the first input's modules in object
//! order (so its records load in the same order), and stores the counts
//! exactly: each function's mapping is
//! rewritten so every counted region and branch side references its own
//! counter (no expressions), keeping NameRef, FuncHash, file ids, region
//! kinds and ranges; the counter file holds the counts. Expansion regions
//! take the count of the expanded file's first region as always, which
//! follows the rule itself. docs/COVDATA.md has a worked example.

use std::collections::{HashMap, HashSet};

use super::build::{assemble, finish_module, FuncOut, Identity, Rebuild, RecordOut, Source};
use super::{counter_file, OpOptions, OutFile, Output, RunSummary};
use crate::error::{Error, ErrorKind, Result};
use crate::llvm::covfun::encode_record;
use crate::llvm::mapping::{Counter, Mapping, RegionKind};
use crate::llvm::write::encode_mapping;
use crate::model::builds::Object;
use crate::model::{CountedBranch, CountedRegion, Load, Loader};
use crate::reader::Loaded;
use covwrap_rt::format::names::meta_file_name;

/// Which set operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Subtract,
    Intersect,
}

/// A counted place of a function: a region or one side of a branch.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct RegionKey {
    file_id: u32,
    kind: RegionKind,
    start: (u32, u32),
    end: (u32, u32),
    /// 0: the count (a branch's true count); 1: a branch's false count.
    side: u8,
    /// How many earlier places of the function have the same key.
    nth: u32,
}

/// A counted place of a mapping with its evaluated count.
struct Slot {
    region: usize,
    side: u8,
    key: RegionKey,
    value: u64,
}

/// The counted places of `mapping` (code and gap regions with a counter,
/// branch sides with a counter), with their counts from the evaluator's
/// lists.
fn slots(mapping: &Mapping, regions: &[CountedRegion], branches: &[CountedBranch]) -> Vec<Slot> {
    let mut out = Vec::new();
    let mut nth: HashMap<RegionKey, u32> = HashMap::new();
    let (mut ri, mut bi) = (0, 0);
    let mut push = |region: usize, side: u8, value: u64, out: &mut Vec<Slot>| {
        let r = &mapping.regions[region];
        let mut key = RegionKey {
            file_id: r.file_id,
            kind: r.kind,
            start: r.start(),
            end: r.end(),
            side,
            nth: 0,
        };
        let n = nth.entry(key.clone()).or_insert(0);
        key.nth = *n;
        *n += 1;
        out.push(Slot {
            region,
            side,
            key,
            value,
        });
    };
    for (i, r) in mapping.regions.iter().enumerate() {
        match r.kind {
            RegionKind::McdcDecision => {}
            RegionKind::Branch | RegionKind::McdcBranch => {
                let b = &branches[bi];
                bi += 1;
                if r.count != Counter::Zero {
                    push(i, 0, b.true_count, &mut out);
                }
                if r.false_count != Counter::Zero {
                    push(i, 1, b.false_count, &mut out);
                }
            }
            kind => {
                let c = &regions[ri];
                ri += 1;
                if matches!(kind, RegionKind::Code | RegionKind::Gap) && r.count != Counter::Zero {
                    push(i, 0, c.count, &mut out);
                }
            }
        }
    }
    out
}

/// What the loader ([`Loader`], the rules reports use) does with a record,
/// for writing the output.
enum Loaded2<'m> {
    /// Not in the profile: written unchanged (it has no counts).
    Unchanged,
    /// Left out of the output, as reports leave it out: set aside (an
    /// older build of a changed file), in the profile with another hash
    /// only, a one-zero-region copy of a function that ran, or a counter
    /// past the profile's.
    Dropped,
    /// Evaluated: the counted places.
    Counted(&'m Mapping, Vec<Slot>),
}

fn load_record<'m>(
    loader: &mut Loader,
    object: usize,
    key: Identity,
    mapping: &'m Mapping,
) -> Loaded2<'m> {
    match loader.load(object, key.0, key.1, mapping) {
        Load::Evaluated {
            profiled: false, ..
        } => Loaded2::Unchanged,
        Load::Evaluated {
            regions, branches, ..
        } => Loaded2::Counted(mapping, slots(mapping, &regions, &branches)),
        Load::SetAside | Load::HashMismatch | Load::Dropped => Loaded2::Dropped,
    }
}

/// The objects of an input's sources, in order, for the [`Loader`].
fn objects<'o, 'a>(sources: &'o [Source<'a>]) -> Vec<Object<'o, 'a>> {
    sources
        .iter()
        .map(|s| Object {
            pod: s.pod,
            module: s.module,
            dec: &s.dec,
        })
        .collect()
}

/// One input's counts per function identity and counted place.
type CountIndex = HashMap<Identity, HashMap<RegionKey, u64>>;

/// The counts of every function of an input: the first record of each
/// identity (object order) that llvm-cov's loader evaluates.
fn count_index(sources: &[Source], loader: &mut Loader) -> CountIndex {
    let mut index = CountIndex::new();
    for (o, src) in sources.iter().enumerate() {
        for (record, mapping) in &src.dec.records {
            let key = (record.name_ref, record.func_hash);
            if index.contains_key(&key) {
                continue;
            }
            if let Loaded2::Counted(_, slots) = load_record(loader, o, key, mapping) {
                index.insert(key, slots.into_iter().map(|s| (s.key, s.value)).collect());
            }
        }
    }
    index
}

/// The counters of one identity in the output: values, and where each
/// counted place's value is, so records with the same places share them.
#[derive(Default)]
struct Layout {
    values: Vec<u64>,
    by_key: HashMap<RegionKey, Vec<usize>>,
}

impl Layout {
    /// The counter holding `value` for `key`, allocated if needed.
    fn slot(&mut self, key: &RegionKey, value: u64) -> u32 {
        let list = self.by_key.entry(key.clone()).or_default();
        if let Some(&i) = list.iter().find(|&&i| self.values[i] == value) {
            return i as u32;
        }
        self.values.push(value);
        list.push(self.values.len() - 1);
        (self.values.len() - 1) as u32
    }
}

/// `subtract`: what the first input reaches that the second does not.
/// `inputs` must be exactly two.
pub fn subtract(inputs: &[Loaded], opts: &OpOptions) -> Result<Output> {
    if inputs.len() != 2 {
        return Err(Error::new(
            ErrorKind::Usage,
            format!("subtract needs exactly two inputs, got {}", inputs.len()),
        ));
    }
    setop(inputs, opts, Op::Subtract)
}

/// `intersect`: what every input reaches, with the first input's counts.
/// `inputs` must be at least two.
pub fn intersect(inputs: &[Loaded], opts: &OpOptions) -> Result<Output> {
    if inputs.len() < 2 {
        return Err(Error::new(
            ErrorKind::Usage,
            format!("intersect needs at least two inputs, got {}", inputs.len()),
        ));
    }
    setop(inputs, opts, Op::Intersect)
}

fn setop(inputs: &[Loaded], opts: &OpOptions, op: Op) -> Result<Output> {
    let mut out = Output::default();
    for input in inputs {
        out.skipped.extend(input.skipped.iter().cloned());
    }
    // Every input decoded, with its profile; the runs of all of them give
    // the output's write time and agreed args.
    let mut all_runs = RunSummary::default();
    let mut decoded = Vec::with_capacity(inputs.len());
    for input in inputs {
        let (sources, good) = Source::open_all(&input.pods, opts.ignore_bad, &mut out.skipped)?;
        for (pod, ok) in input.pods.iter().zip(&good) {
            if *ok {
                all_runs.merge(&pod.summary);
            }
        }
        decoded.push((sources, good));
    }
    let mut loaders: Vec<Loader> = decoded
        .iter()
        .map(|(sources, _)| Loader::new(&objects(sources), opts.all_builds))
        .collect();
    for loader in &mut loaders {
        for note in std::mem::take(&mut loader.aside.notes) {
            let note = format!("warning: {note}");
            if !out.notes.contains(&note) {
                out.notes.push(note);
            }
        }
    }
    let others: Vec<CountIndex> = decoded[1..]
        .iter()
        .zip(&mut loaders[1..])
        .map(|((sources, _), loader)| count_index(sources, loader))
        .collect();
    let (a_sources, a_good) = &decoded[0];
    let a_loader = &mut loaders[0];
    let a = &inputs[0];
    let crates = &opts.crates;

    let rule = |key: Identity, place: &RegionKey, value: u64| -> u64 {
        let count_in = |index: &CountIndex| {
            index
                .get(&key)
                .and_then(|places| places.get(place))
                .copied()
                .unwrap_or(0)
        };
        match op {
            Op::Subtract => {
                if count_in(&others[0]) == 0 {
                    value
                } else {
                    0
                }
            }
            Op::Intersect => {
                if value != 0 && others.iter().all(|o| count_in(o) != 0) {
                    value
                } else {
                    0
                }
            }
        }
    };

    // Pass 1: the new mapping of every record the loader evaluates, and
    // the counters of each identity.
    enum Decision {
        Unchanged,
        Dropped,
        Rewritten(Mapping),
    }
    let mut layouts: HashMap<Identity, Layout> = HashMap::new();
    let mut decisions: Vec<Vec<Decision>> = Vec::with_capacity(a_sources.len());
    for (o, src) in a_sources.iter().enumerate() {
        let mut mine = Vec::with_capacity(src.dec.records.len());
        for (record, mapping) in &src.dec.records {
            let key = (record.name_ref, record.func_hash);
            if !src.keeps(crates, record.name_ref) {
                mine.push(Decision::Dropped);
                continue;
            }
            let decision = match load_record(a_loader, o, key, mapping) {
                Loaded2::Unchanged => Decision::Unchanged,
                Loaded2::Dropped => Decision::Dropped,
                Loaded2::Counted(mapping, slots) => {
                    let layout = layouts.entry(key).or_default();
                    let mut new = mapping.clone();
                    new.expressions.clear();
                    for r in &mut new.regions {
                        if r.kind == RegionKind::Expansion {
                            r.count = Counter::Zero;
                        }
                    }
                    for s in &slots {
                        let id = layout.slot(&s.key, rule(key, &s.key, s.value));
                        let r = &mut new.regions[s.region];
                        if s.side == 0 {
                            r.count = Counter::Ref(id);
                        } else {
                            r.false_count = Counter::Ref(id);
                        }
                    }
                    Decision::Rewritten(new)
                }
            };
            mine.push(decision);
        }
        decisions.push(mine);
    }

    // Pass 2: modules. Each identity's counts go to the first module that
    // has a data entry for it; later entries hold zeros, so the profile
    // (summed by identity) has them once.
    let mut holder: HashSet<Identity> = HashSet::new();
    let mut modules = Vec::with_capacity(a_sources.len());
    for (src, decisions) in a_sources.iter().zip(&decisions) {
        let mut funcs = Vec::new();
        let mut seen: HashSet<Identity> = HashSet::new();
        for (_, f) in src.funcs() {
            let key = (f.name_ref, f.func_hash);
            if !src.keeps(crates, f.name_ref) || !seen.insert(key) {
                continue;
            }
            let counters = match layouts.get(&key) {
                Some(layout) => {
                    let len = layout.values.len().max(1);
                    if holder.insert(key) {
                        let mut v = layout.values.clone();
                        v.resize(len, 0);
                        v
                    } else {
                        vec![0; len]
                    }
                }
                None => vec![0],
            };
            funcs.push(FuncOut {
                name_ref: f.name_ref,
                func_hash: f.func_hash,
                counters,
            });
        }
        let mut records = Vec::new();
        for (raw_index, chosen) in src.chosen.iter().enumerate() {
            let Some(r) = *chosen else { continue };
            match &decisions[r] {
                Decision::Dropped => {}
                Decision::Unchanged => records.push(src.raw_record(raw_index)),
                Decision::Rewritten(mapping) => {
                    let raw = &src.raw_covfun[raw_index];
                    records.push(RecordOut {
                        name_ref: raw.name_ref,
                        filenames_ref: raw.filenames_ref,
                        bytes: encode_record(
                            raw.name_ref,
                            raw.func_hash,
                            raw.filenames_ref,
                            &encode_mapping(mapping),
                        ),
                    });
                }
            }
        }
        let module = finish_module(
            src,
            funcs,
            records,
            Rebuild {
                covfun_unchanged: false,
                rebuild_names: !crates.is_empty(),
            },
        );
        if !module.is_empty() {
            modules.push(module);
        }
    }

    // One pod of A's modules, in A's object order: read back, the records
    // load in the same order as A's (separate pods would be re-sorted by
    // their new hashes).
    if modules.is_empty() {
        return Ok(out);
    }
    let mut a_runs = RunSummary::default();
    let mut saturated = false;
    for (pod, ok) in a.pods.iter().zip(a_good) {
        if *ok {
            a_runs.merge(&pod.summary);
            saturated |= pod.saturated;
        }
    }
    let (bytes, hash, counters) = assemble(&modules);
    out.files.push(OutFile {
        name: meta_file_name(&hash),
        bytes,
    });
    let mut summary = all_runs;
    summary.runs = a_runs.runs;
    summary.start_ns = a_runs.start_ns;
    summary.saturated = false;
    out.saturated |= saturated;
    out.files
        .push(counter_file(hash, &counters, &summary, saturated));
    out.sort();
    Ok(out)
}
