//! A human-readable dump of everything in the pods, for debugging. Like
//! Go's, it starts by saying its format is not stable.

use std::io::{self, Write};

use covwrap_rt::format::defs::end_reason;

use super::{demangle, Context};
use crate::llvm::names::NameTable;
use crate::reader::{visit_run_counters, Run};

/// Writes the dump. Reading a counter file again can fail (it may have
/// changed since it was loaded); that is reported in the dump.
pub fn write(ctx: &Context, out: &mut dyn Write) -> io::Result<()> {
    let cov = ctx.cov;
    writeln!(
        out,
        "# covdata debugdump: the format of this dump is not stable and may change"
    )?;
    for (pod_index, pod) in cov.pods.iter().enumerate() {
        writeln!(out)?;
        writeln!(out, "pod {}", pod.hash_hex())?;
        writeln!(out, "  meta file: {}", pod.meta_path.display())?;
        if pod.modules.len() == 1 {
            for (k, v) in &pod.ident {
                writeln!(out, "  {k}: {}", v.replace('\n', " | "))?;
            }
        } else {
            for (m, module) in pod.modules.iter().enumerate() {
                writeln!(
                    out,
                    "  module {m}: counters {}..{}",
                    module.counter_base,
                    u64::from(module.counter_base) + u64::from(module.total_counters)
                )?;
                for (k, v) in &module.ident {
                    writeln!(out, "    {k}: {}", v.replace('\n', " | "))?;
                }
            }
        }
        writeln!(
            out,
            "  counters: {} in {} data records; runs: {}{}",
            pod.counters.len(),
            pod.funcs.len(),
            pod.runs.len(),
            if pod.saturated { "; saturated" } else { "" }
        )?;
        let functions: Vec<_> = cov
            .functions
            .iter()
            .filter(|f| f.pod == pod_index && ctx.keeps_function(f))
            .collect();
        let mut crates: Vec<&str> = functions.iter().map(|f| cov.crate_name(f)).collect();
        crates.sort_unstable();
        crates.dedup();
        writeln!(out, "  crates: {}", crates.join(" "))?;
        writeln!(out, "  functions: {}", functions.len())?;
        for f in &functions {
            let (line, col) = f.regions.first().map_or((0, 0), |r| r.start());
            writeln!(
                out,
                "    {} [{}] {}:{}:{} hash={:#018x} count={} regions={} branches={}",
                demangle(&f.name),
                cov.crate_name(f),
                f.filenames.first().map_or("?", |&i| cov.file_path(i)),
                line,
                col,
                f.func_hash,
                f.execution_count,
                f.regions.len(),
                f.branches.len()
            )?;
        }
        let mut labels: Vec<(String, bool)> = Vec::with_capacity(pod.funcs.len());
        for m in 0..pod.modules.len() {
            let names = NameTable::decode(pod.module_names(m)).unwrap_or_default();
            labels.extend(pod.module_funcs(m).iter().map(|e| {
                let name = names.get(e.name_ref).unwrap_or("?");
                let keep = ctx.opts.crates.matches(&crate::crates::crate_of(name));
                (demangle(name), keep)
            }));
        }
        let mut dense = vec![0u64; pod.counters.len()];
        for run in &pod.runs {
            write_run(out, run)?;
            dense.iter_mut().for_each(|c| *c = 0);
            let res = visit_run_counters(run, |entries| {
                for (i, v) in entries {
                    if let Some(slot) = dense.get_mut(i as usize) {
                        *slot = v;
                    }
                }
            });
            if let Err(e) = res {
                writeln!(out, "    counters: unreadable now: {e}")?;
                continue;
            }
            writeln!(out, "    counters:")?;
            for (i, (label, keep)) in labels.iter().enumerate() {
                if !keep {
                    continue;
                }
                let f = &pod.funcs[i];
                let start = f.first_counter as usize;
                let values: Vec<String> = dense[start..start + f.num_counters as usize]
                    .iter()
                    .map(u64::to_string)
                    .collect();
                writeln!(out, "      {label}: {}", values.join(" "))?;
            }
        }
    }
    Ok(())
}

fn write_run(out: &mut dyn Write, run: &Run) -> io::Result<()> {
    let h = &run.header;
    let name = run.path.file_name().map_or_else(
        || run.path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    writeln!(out, "  run {name}")?;
    writeln!(
        out,
        "    pid: {}; start: {} ns; written: {} ns; end: {}{}{}",
        h.pid,
        h.start_ns,
        h.write_ns,
        end_name(h.end),
        if h.runs != 1 {
            format!("; runs: {}", h.runs)
        } else {
            String::new()
        },
        if h.flags & 1 != 0 { "; saturated" } else { "" }
    )?;
    let argv: Vec<String> = run.arg_values("argv").map(|a| format!("{a:?}")).collect();
    writeln!(out, "    argv: {}", argv.join(" "))?;
    for key in ["exe", "os", "arch", "label"] {
        if let Some(v) = run.arg(key) {
            writeln!(out, "    {key}: {v}")?;
        }
    }
    Ok(())
}

/// How a process ended, in words.
pub fn end_name(end: u32) -> String {
    match end {
        end_reason::EXIT => "exit".to_string(),
        1..=end_reason::SIGNAL_MAX => format!("signal {end}"),
        end_reason::SNAPSHOT => "snapshot".to_string(),
        end_reason::MERGED => "written by covdata".to_string(),
        end_reason::LOST => "no exit path (dense file: killed, crashed or exec'd)".to_string(),
        end_reason::EXEC => "exec".to_string(),
        other => format!("unknown ({other})"),
    }
}
