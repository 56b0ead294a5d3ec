//! `covdata merge`: sums the runs of every pod.
//!
//! - Default: one output pod per input pod; the meta file is copied
//!   verbatim (same H) and one counter file holds the sum.
//! - `--pkg`: each pod's meta keeps only the functions of matching crates
//!   (their data entries, covfun records and counters; the covmap records
//!   they reference; a names section of their names), so it gets a new H.
//! - `--pcombine`: every pod folds into one, with one module per input
//!   module in object order (pods by H). A function identity (NameRef,
//!   FuncHash) whose data entries an earlier module already has loses its
//!   entries in later modules (their counts are added to the first
//!   module's first entry, when the counter counts agree); a later covfun
//!   record of the same identity is removed when its mapping and resolved
//!   files equal an earlier module's (llvm-cov would drop it as a
//!   duplicate). Reports of the combined pod equal reports of the inputs.
//! - Several builds of one file: without `--pcombine` every pod is kept as
//!   it is (its meta file keeps its build time, so reports of the output
//!   set the same records aside); `--pcombine` leaves the set-aside
//!   records and their counters out of the combined pod. Both say the
//!   same line per crate as the reports.

use std::collections::{HashMap, HashSet};

use super::build::{
    assemble, finish_module, kept_funcs, FuncOut, Identity, Rebuild, Signature, Source,
};
use super::{add_saturating, counter_file, labels, OpOptions, OutFile, Output, RunSummary};
use crate::error::Result;
use crate::model::builds::{set_aside, Object};
use crate::model::decode_pod;
use crate::reader::{Loaded, Pod};
use covwrap_rt::format::names::meta_file_name;

/// Options of `merge`.
#[derive(Clone, Debug, Default)]
pub struct MergeOptions {
    /// Fold every pod into one.
    pub pcombine: bool,
    /// `--pkg` and `--ignore-bad`.
    pub op: OpOptions,
    /// `--keep-labels`: the runs summed per label while they were loaded
    /// (one counter file per label and pod instead of one per pod; not
    /// with `pcombine` or `--pkg`).
    pub keep_labels: Option<std::sync::Arc<labels::LabelSums>>,
}

/// Merges the pods of `loaded`.
pub fn merge(loaded: &Loaded, opts: &MergeOptions) -> Result<Output> {
    let mut out = Output {
        skipped: loaded.skipped.clone(),
        ..Output::default()
    };
    if opts.pcombine {
        pcombine(&loaded.pods, opts, &mut out)?;
    } else {
        out.notes.extend(
            build_notes(&loaded.pods, opts.op.all_builds)
                .into_iter()
                .map(|n| format!("warning: {n}")),
        );
        for (p, pod) in loaded.pods.iter().enumerate() {
            merge_pod(pod, p, opts, &mut out)?;
        }
    }
    out.sort();
    Ok(out)
}

/// The reports' lines about older builds set aside, for pods copied as
/// they are. Pods whose LLVM data does not decode say nothing here (their
/// files are copied; reports of the output name them).
fn build_notes(pods: &[Pod], all_builds: bool) -> Vec<String> {
    let objects_count: usize = pods.iter().map(|p| p.modules.len()).sum();
    if all_builds || objects_count < 2 {
        return Vec::new();
    }
    let decoded: Vec<_> = pods.iter().map(|p| (p, decode_pod(p).ok())).collect();
    let objects: Vec<Object> = decoded
        .iter()
        .filter_map(|(pod, d)| d.as_ref().map(|d| (*pod, d)))
        .flat_map(|(pod, d)| {
            d.iter()
                .enumerate()
                .map(move |(module, dec)| Object { pod, module, dec })
        })
        .collect();
    set_aside(&objects, false).notes
}

fn merge_pod(pod: &Pod, p: usize, opts: &MergeOptions, out: &mut Output) -> Result<()> {
    let crates = &opts.op.crates;
    let mut summary = RunSummary::default();
    summary.merge(&pod.summary);
    if crates.is_empty() {
        // Copied verbatim, but only once it decodes as a report decodes
        // it: a merge must not pass on a meta file (a decompression bomb,
        // a bad mapping) that every report of its output would reject.
        if let Err(e) = crate::model::decode_pod(pod) {
            let e = e.at(&pod.meta_path);
            if opts.op.ignore_bad {
                out.skipped.push(e);
                return Ok(());
            }
            return Err(e);
        }
        out.files.push(OutFile {
            name: meta_file_name(&pod.hash),
            bytes: pod.meta_bytes().to_vec(),
        });
        if let Some(sums) = &opts.keep_labels {
            let groups = sums.take(&pod.hash);
            out.saturated |= groups.values().any(|l| l.saturated);
            out.files
                .extend(labels::merged_files(pod.hash, pod.counters.len(), &groups));
            return Ok(());
        }
        if summary.files() > 0 {
            out.saturated |= pod.saturated;
            out.files.push(counter_file(
                pod.hash,
                &pod.counters,
                &summary,
                pod.saturated,
            ));
        }
        return Ok(());
    }
    let mut sources = Vec::new();
    for m in 0..pod.modules.len() {
        match Source::open(pod, p, m) {
            Ok(s) => sources.push(s),
            Err(e) if opts.op.ignore_bad => {
                out.skipped.push(e);
                return Ok(());
            }
            Err(e) => return Err(e),
        }
    }
    let mut modules = Vec::new();
    let mut unchanged = true;
    for src in &sources {
        let funcs = kept_funcs(src, crates);
        let keep: Vec<usize> = (0..src.raw_covfun.len())
            .filter(|&i| src.keeps(crates, src.raw_covfun[i].name_ref))
            .collect();
        let all = funcs.len() == src.funcs().count() && keep.len() == src.raw_covfun.len();
        unchanged &= all;
        let records = keep.iter().map(|&i| src.raw_record(i)).collect();
        let module = finish_module(
            src,
            funcs,
            records,
            Rebuild {
                covfun_unchanged: all,
                rebuild_names: !all,
            },
        );
        if !module.is_empty() {
            modules.push(module);
        }
    }
    if modules.is_empty() {
        return Ok(());
    }
    if unchanged {
        return merge_pod(
            pod,
            p,
            &MergeOptions {
                op: OpOptions {
                    crates: Default::default(),
                    ..opts.op.clone()
                },
                ..opts.clone()
            },
            out,
        );
    }
    let (bytes, hash, counters) = assemble(&modules);
    out.files.push(OutFile {
        name: meta_file_name(&hash),
        bytes,
    });
    if summary.files() > 0 {
        out.saturated |= pod.saturated;
        out.files
            .push(counter_file(hash, &counters, &summary, pod.saturated));
    }
    Ok(())
}

fn pcombine(pods: &[Pod], opts: &MergeOptions, out: &mut Output) -> Result<()> {
    let crates = &opts.op.crates;
    let (sources, good) = Source::open_all(pods, opts.op.ignore_bad, &mut out.skipped)?;
    let objects: Vec<Object> = sources
        .iter()
        .map(|s| Object {
            pod: s.pod,
            module: s.module,
            dec: &s.dec,
        })
        .collect();
    let aside = set_aside(&objects, opts.op.all_builds);
    drop(objects);
    out.notes
        .extend(aside.notes.iter().map(|n| format!("warning: {n}")));
    let mut summary = RunSummary::default();
    let mut saturated = false;
    for (pod, ok) in pods.iter().zip(&good) {
        if *ok {
            summary.merge(&pod.summary);
            saturated |= pod.saturated;
        }
    }
    // Data entries: the first entry of each identity, by module.
    let mut first_entry: HashMap<Identity, (usize, usize)> = HashMap::new();
    // Covfun records kept so far, by identity.
    let mut kept_sigs: HashMap<Identity, Vec<Signature>> = HashMap::new();
    let mut hashes_by_name: HashMap<u64, HashSet<u64>> = HashMap::new();
    let mut separate: HashSet<Identity> = HashSet::new();
    let mut funcs_out: Vec<Vec<FuncOut>> = Vec::with_capacity(sources.len());
    let mut records_out = Vec::with_capacity(sources.len());
    let mut unchanged = Vec::with_capacity(sources.len());
    for (j, src) in sources.iter().enumerate() {
        let mut mine = Vec::new();
        let mut all = true;
        let funcs = kept_funcs(src, crates);
        let all_funcs = funcs.len();
        for f in funcs.into_iter().filter(|f| !aside.contains(j, f.name_ref)) {
            let key = (f.name_ref, f.func_hash);
            match first_entry.get(&key) {
                Some(&(mj, ei))
                    if mj < j && funcs_out[mj][ei].counters.len() == f.counters.len() =>
                {
                    saturated |= add_saturating(&mut funcs_out[mj][ei].counters, &f.counters);
                    all = false;
                }
                Some(_) => mine.push(f),
                None => {
                    first_entry.insert(key, (j, mine.len()));
                    mine.push(f);
                }
            }
        }
        all &= all_funcs == src.funcs().count() && mine.len() == all_funcs;
        funcs_out.push(mine);

        let mut removed_names: HashSet<u64> = HashSet::new();
        for (raw_index, chosen) in src.chosen.iter().enumerate() {
            let Some(r) = *chosen else { continue };
            let raw = &src.raw_covfun[raw_index];
            if !src.keeps(crates, raw.name_ref) || aside.contains(j, raw.name_ref) {
                continue;
            }
            let key = (raw.name_ref, raw.func_hash);
            let sig = src.signature(r);
            let sigs = kept_sigs.entry(key).or_default();
            if sigs.contains(&sig) {
                removed_names.insert(raw.name_ref);
                continue;
            }
            sigs.push(sig);
            let hashes = hashes_by_name.entry(raw.name_ref).or_default();
            if raw.func_hash != 0 && hashes.iter().any(|&h| h != raw.func_hash && h != 0) {
                separate.insert(key);
            }
            hashes.insert(raw.func_hash);
        }
        let keep: Vec<usize> = (0..src.raw_covfun.len())
            .filter(|&i| {
                let raw = &src.raw_covfun[i];
                src.keeps(crates, raw.name_ref)
                    && !removed_names.contains(&raw.name_ref)
                    && !aside.contains(j, raw.name_ref)
            })
            .collect();
        all &= keep.len() == src.raw_covfun.len();
        records_out.push(keep);
        unchanged.push(all);
    }
    let mut modules = Vec::new();
    for (j, src) in sources.iter().enumerate() {
        let funcs = std::mem::take(&mut funcs_out[j]);
        let records = records_out[j].iter().map(|&i| src.raw_record(i)).collect();
        let module = finish_module(
            src,
            funcs,
            records,
            Rebuild {
                covfun_unchanged: unchanged[j],
                rebuild_names: !crates.is_empty() && !unchanged[j],
            },
        );
        if !module.is_empty() {
            modules.push(module);
        }
    }
    if !separate.is_empty() {
        out.notes.push(format!(
            "{} function{} stayed separate because their source differed between the binaries (another structural hash)",
            separate.len(),
            if separate.len() == 1 { "" } else { "s" }
        ));
    }
    if modules.is_empty() {
        return Ok(());
    }
    // One pod, nothing dropped: the meta file as it was.
    let single = sources.iter().map(|s| s.pod_index).collect::<HashSet<_>>();
    if single.len() == 1 && unchanged.iter().all(|u| *u) && modules.len() == sources.len() {
        let pod = &pods[sources[0].pod_index];
        out.files.push(OutFile {
            name: meta_file_name(&pod.hash),
            bytes: pod.meta_bytes().to_vec(),
        });
        if summary.files() > 0 {
            out.saturated |= saturated;
            out.files
                .push(counter_file(pod.hash, &pod.counters, &summary, saturated));
        }
        return Ok(());
    }
    let (bytes, hash, counters) = assemble(&modules);
    out.files.push(OutFile {
        name: meta_file_name(&hash),
        bytes,
    });
    if summary.files() > 0 {
        out.saturated |= saturated;
        out.files
            .push(counter_file(hash, &counters, &summary, saturated));
    }
    Ok(())
}
