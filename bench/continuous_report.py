"""Report of bench/continuous.sh: reads its results directory, prints the
tables and (with --doc) rewrites the `continuous` region of
docs/BENCHMARKS.md through bench/doc_region.py.

The decision rule lives here, next to the numbers it reads: continuous mode
becomes the default when, against covwrap's default mode, it costs at most
THRESHOLD_RUN of ripgrep's CPU time per run on both workloads and at most
THRESHOLD_SERVICE of the service's throughput.
"""

import argparse
import glob
import json
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from doc_region import replace_region  # noqa: E402

THRESHOLD_RUN = 0.05
THRESHOLD_SERVICE = 0.03

RG_VARIANTS = ["covwrap-default", "covwrap-continuous", "llvm-default", "llvm-reloc", "llvm-continuous"]
SVC_VARIANTS = ["plain", "covwrap-default", "covwrap-continuous"]


def read_info(results):
    info = {}
    with open(os.path.join(results, "info")) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition(" ")
            info[key] = value
    return info


def rg_times(results, workload, variant):
    times = []
    for path in glob.glob(os.path.join(results, f"rg.{workload}.{variant}.*.json")):
        with open(path) as f:
            times.extend(json.load(f)["results"][0]["times"])
    return times


def rg_cpu(results, workload, variant):
    """Mean user + system CPU seconds per run, over all rounds."""
    per_round = []
    for path in glob.glob(os.path.join(results, f"rg.{workload}.{variant}.*.json")):
        with open(path) as f:
            r = json.load(f)["results"][0]
        per_round.append(r["user"] + r["system"])
    return statistics.mean(per_round) if per_round else None


def ab_rates(results, variant):
    rates = []
    for path in glob.glob(os.path.join(results, f"ab.{variant}.*.txt")):
        with open(path) as f:
            m = re.search(r"Requests per second:\s+([0-9.]+)", f.read())
        if m:
            rates.append(float(m.group(1)))
    return rates


def read_pairs(path, ncols):
    out = {}
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == ncols:
                out[tuple(parts[:-1]) if ncols > 2 else parts[0]] = parts[-1]
    return out


def pct(x):
    return f"{x * 100:+.1f}%"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--doc")
    a = ap.parse_args()
    info = read_info(a.results)
    out = []
    out.append("## Continuous mode: cost per run, under load, and on disk (`bench/continuous.sh`)\n")
    out.append(
        f"ripgrep {info['rg_version']} with every crate instrumented; {info['rustc']}; "
        f"{info['nproc']} CPUs ({info['cpu']}), {info['kernel']}, COVDIR on {info['fs']}; "
        f"{info['date']}; covwrap {info['covwrap_rev']}. hyperfine: {info['rounds']} interleaved "
        f"rounds x {info['per_round']} runs per variant and workload. covwrap compiles with "
        "`-runtime-counter-relocation` in both modes (one binary); the two LLVM builds differ "
        "only in that flag, so their difference is the indirection alone.\n"
    )
    loads = []
    if os.path.exists(os.path.join(a.results, "loadavg")):
        with open(os.path.join(a.results, "loadavg")) as f:
            loads = [float(x) for x in f.read().split()]
    if loads:
        out.append(f"Load average before the batches: {min(loads):.2f} to {max(loads):.2f} (other work on the machine shows up as noise).\n")
    instr = read_pairs(os.path.join(a.results, "instructions"), 3)
    medians = {}
    cpus = {}
    for w in ["file", "dir"]:
        out.append(f"\n**rg {info['wargs.' + w].replace(os.path.join('bench/work/continuous', ''), '')}**\n")
        out.append("| variant | median ms | mean ms | CPU ms (user+sys) | CPU vs covwrap default | wall vs covwrap default | wall vs LLVM default | instructions (callgrind) |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        base = {}
        for v in RG_VARIANTS:
            t = rg_times(a.results, w, v)
            if t:
                medians[(w, v)] = statistics.median(t)
                base[v] = statistics.mean(t)
        for v in RG_VARIANTS:
            t = rg_times(a.results, w, v)
            if not t:
                continue
            med = statistics.median(t)
            vs_cov = pct(med / medians[(w, "covwrap-default")] - 1) if (w, "covwrap-default") in medians else ""
            vs_llvm = pct(med / medians[(w, "llvm-default")] - 1) if (w, "llvm-default") in medians else ""
            ins = instr.get((w, v), "")
            ins = f"{int(ins):,}" if ins else "n/a"
            cpu = rg_cpu(a.results, w, v)
            cpus[(w, v)] = cpu
            base_cpu = rg_cpu(a.results, w, "covwrap-default")
            cpu_vs = pct(cpu / base_cpu - 1) if cpu and base_cpu else ""
            out.append(f"| {info.get('label.' + v, v)} | {med * 1000:.3f} | {statistics.mean(t) * 1000:.3f} | {cpu * 1000:.3f} | {cpu_vs} | {vs_cov} | {vs_llvm} | {ins} |")
    rates = {v: ab_rates(a.results, v) for v in SVC_VARIANTS}
    n, c, r = info["ab"].split()
    out.append(f"\n**The service example under load** (release build; `ab -n {n} -c {c}` on `/sum`, {r} interleaved rounds; median requests per second)\n")
    out.append("| variant | requests/s | vs plain | vs covwrap default |")
    out.append("|---|---:|---:|---:|")
    svc_med = {v: statistics.median(x) for v, x in rates.items() if x}
    for v in SVC_VARIANTS:
        if v not in svc_med:
            continue
        m = svc_med[v]
        vs_plain = pct(m / svc_med["plain"] - 1) if "plain" in svc_med else ""
        vs_def = pct(m / svc_med["covwrap-default"] - 1) if "covwrap-default" in svc_med else ""
        out.append(f"| {v} | {m:,.0f} | {vs_plain} | {vs_def} |")
    disk = {}
    if os.path.exists(os.path.join(a.results, "disk")):
        with open(os.path.join(a.results, "disk")) as f:
            for line in f:
                name, apparent, allocated = line.split()
                disk[name] = (int(apparent), int(allocated))
    out.append("\n**Bytes on disk per run** (counter files only; the meta file is written once per binary and directory)\n")
    out.append("| run | ends by | bytes (apparent) | bytes (allocated) |")
    out.append("|---|---|---:|---:|")
    for name, (app, alloc) in disk.items():
        prog, how, variant = name.split(".", 2)
        how = "normal exit" if how == "exit" else "SIGKILL"
        label = info.get("label." + variant, variant)
        out.append(f"| {'rg' if prog == 'rg' else 'service'}, {label} | {how} | {app:,} | {alloc:,} |")
    # The decision.
    # CPU time (user + system) rather than wall time: it is what a run
    # costs the machine, and it moves less than wall time when other work
    # shares the CPUs (the load average above).
    run_costs = [
        cpus[(w, "covwrap-continuous")] / cpus[(w, "covwrap-default")] - 1
        for w in ["file", "dir"]
        if cpus.get((w, "covwrap-continuous")) and cpus.get((w, "covwrap-default"))
    ]
    svc_cost = (
        1 - svc_med["covwrap-continuous"] / svc_med["covwrap-default"]
        if "covwrap-continuous" in svc_med and "covwrap-default" in svc_med
        else None
    )
    default = bool(run_costs) and max(run_costs) <= THRESHOLD_RUN and svc_cost is not None and svc_cost <= THRESHOLD_SERVICE
    out.append(
        f"\n**Decision rule:** continuous mode becomes the default when it costs at most "
        f"{THRESHOLD_RUN * 100:.0f}% of a short run's CPU time (user + system) on both ripgrep workloads and at most "
        f"{THRESHOLD_SERVICE * 100:.0f}% of the service's throughput, against the default mode. "
        "Why these numbers: a test suite of short CLI runs is where a per-run cost adds up "
        "(10,000 runs), and 5% is within what such suites already vary by from run to run; a "
        "service's throughput is what load tests measure, where a few percent is the noise floor. "
        f"Measured: {', '.join(pct(x) for x in run_costs)} CPU time per run (file, dir); "
        f"{pct(-svc_cost) if svc_cost is not None else 'n/a'} throughput. "
        f"Result: **{'default on' if default else 'opt-in'}** "
        f"({'COVWRAP_CONTINUOUS=0 turns it off' if default else 'COVWRAP_CONTINUOUS=1 turns it on'}).\n"
    )
    text = "\n".join(out) + "\n"
    print(text)
    if a.doc:
        replace_region(a.doc, "continuous", text)


if __name__ == "__main__":
    main()
