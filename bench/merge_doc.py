#!/usr/bin/env python3
"""Renders the docs/BENCHMARKS.md section of bench/merge.sh from its results
directory, and with --doc replaces the region between the merge markers.

    merge_doc.py --results DIR [--doc FILE]

Reads: info (key value lines), commands and prepares (group, name, command),
warmups, hf.<group>.json (hyperfine exports), rss.tsv, sizes, outputs,
pools, checks, make-runs, quiet, loadavg, cpustat, disk, diffstat.txt,
status.txt, strace.merge.<N>.txt, cg.merge.<N>.inclusive / .self.
"""

import argparse
import json
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ next to the scripts
from benchlib import publish  # noqa: E402
from benchlib import result_lines as lines  # noqa: E402
from report_doc import cg_get, cpu, mib, num, read_callgrind, t, t_pm, table  # noqa: E402


GOAL_LLVM = 5.0  # covdata merge at least this many times faster than llvm-profdata merge
GOAL_GO = 3.0  # ... and than Go's covdata merge, per file
FLAT = 0.10  # peak RSS growth from N1 to N3 still called independent of N

COV = "covdata merge"
COV1 = "covdata merge, one CPU"
PCOMB = "covdata merge --pcombine"
INPLACE = "covdata merge --in-place"
GO = "go covdata merge"
LLVM = "llvm-profdata merge -sparse"
LLVM2 = "llvm-profdata merge -sparse -j 2"


class Res:
    def __init__(self, d):
        self.dir = d
        self.info = {}
        for line in lines(d, "info"):
            k, _, v = line.partition(" ")
            self.info[k] = v
        self.n1, self.n2, self.n3 = (int(self.info[k]) for k in ("n1", "n2", "n3"))
        self.commands, self.prepares = {}, {}
        for line in lines(d, "commands"):
            g, n, c = line.split("\t")
            self.commands[(g, n)] = c
        for line in lines(d, "prepares"):
            g, n, c = line.split("\t")
            self.prepares[(g, n)] = c
        self.warmups = {}
        for line in lines(d, "warmups"):
            g, w = line.split()
            self.warmups[g] = int(w)
        self.rss = {}
        for line in lines(d, "rss.tsv"):
            label, med, mx, secs = line.split("\t")
            self.rss[label] = (int(med), int(mx), float(secs))
        self.sizes = {}
        for line in lines(d, "sizes"):
            kind, n, files, b, a = line.split()
            self.sizes[(kind, int(n))] = (int(files), int(b), int(a))
        self.outputs = {}
        for line in lines(d, "outputs"):
            f = line.split()
            if f[0] == "profdata":
                self.outputs["profdata"] = (1, int(f[2]), int(f[3]))
            else:
                self.outputs[f[0]] = (int(f[2]), int(f[3]), int(f[4]))
        self.pools, self.pool_runs = {}, {}
        for line in lines(d, "pools"):
            f = line.split()
            if f[0] == "pool":
                self.pools[int(f[1])] = (int(f[2]), int(f[3]), int(f[4]))
            elif f[0] == "pool_runs":
                self.pool_runs[int(f[1])] = int(f[2]) if len(f) > 2 and f[2].isdigit() else None
        self.checks = {}
        for line in lines(d, "checks"):
            k, n, v = line.split(" ", 2)
            self.checks[(k, int(n))] = v
        self.make_runs = {}
        for line in lines(d, "make-runs"):
            name, first, count, secs = line.split()
            self.make_runs[name] = (int(first), int(count), float(secs))
        self.quiet = {}
        for line in lines(d, "quiet"):
            name, busy, waited = line.split()
            self.quiet[name] = (float(busy), float(waited))
        self.cpustat = {}
        for line in lines(d, "cpustat"):
            name, before, after = line.split("|")
            b = [int(x) for x in before.split()[1:]]
            a = [int(x) for x in after.split()[1:]]
            dd = [y - x for x, y in zip(b, a)]
            total = sum(dd[:8])
            self.cpustat[name] = ((total - dd[3] - dd[4]) / 100.0, total / 100.0)
        self.disk = {}
        for line in lines(d, "disk"):
            k, v = line.split()
            self.disk[k] = int(v)

    def hf(self, group):
        path = os.path.join(self.dir, f"hf.{group}.json")
        if not os.path.exists(path):
            return {}
        with open(path) as f:
            return {r["command"]: r for r in json.load(f)["results"]}

    def others(self, group):
        """Share of the machine's CPU time that went to other processes
        during a group (busy time minus hyperfine's measured CPU time of the
        benchmarked commands, warmups included; prepare commands count as
        others, so this is an upper bound)."""
        if group not in self.cpustat:
            return None
        busy, total = self.cpustat[group]
        w = self.warmups.get(group, 0)
        ours = sum((r["user"] + r["system"]) * (len(r["times"]) + w) for r in self.hf(group).values())
        return max(busy - ours, 0.0) / total

    def noise(self, group):
        parts = []
        q = self.quiet.get(group)
        if q:
            parts.append(f"others {q[0]:.0%} busy just before" + (f" (waited {q[1]:.0f} s)" if q[1] > 4 else ""))
        o = self.others(group)
        if o is not None:
            parts.append(f"at most {o:.0%} of the CPU time went to other processes during the group")
        return "; ".join(parts)


def ratio(fast, slow):
    r = slow["mean"] / fast["mean"]
    rel = math.hypot((fast["stddev"] or 0) / fast["mean"], (slow["stddev"] or 0) / slow["mean"])
    return r, r * rel


def fr(r):
    v, s = r
    return f"{v:.0f}× ± {s:.0f}" if v >= 100 else f"{v:.1f}× ± {s:.1f}" if v >= 10 else f"{v:.2f}× ± {s:.2f}"


def per_file(x, n):
    v = x / n
    return f"{v * 1e6:.1f} µs" if v < 1e-4 else f"{v * 1e6:.0f} µs" if v < 1e-3 else t(v)


def size(n):
    if n >= 1e9:
        return f"{n / 1e9:.2f} GB"
    if n >= 1e6:
        return f"{n / 1e6:.1f} MB"
    return f"{n / 1e3:.1f} kB"


def shorten(cmd, R):
    """Commands as run, with the results' paths (relative to the repository)."""
    return cmd


def render(d):
    R = Res(d)
    I = R.info
    n1, n2, n3 = R.n1, R.n2, R.n3
    out = []
    w = out.append
    w("## Merging runs: covdata merge, llvm-profdata merge, Go's covdata merge\n\n")
    w(f"_Generated by `bench/merge.sh` on {I.get('date', '?')}; rerun the script to refresh this section "
      "(it replaces only the text between its markers)._\n\n")
    w(f"The same runs as the report section above: ripgrep {I.get('rg_version', '')} (all crates instrumented) run "
      f"{num(n3)} times with varied arguments (`bench/report_tool.py rg-args I`), once built with covwrap "
      "(one covcounters file per run in a COVDIR) and once with `-Cinstrument-coverage` (one `.profraw` per run, "
      f"the same {num(n3)} runs with the same arguments), and the generated Go program of about ripgrep's "
      f"counter volume run {num(n3)} times with GOCOVERDIR. Each tool merges the first N runs into one "
      "profile: `covdata merge -i=DIR -o=OUT` (a COVDIR with the meta file and one summed counter file), "
      "`llvm-profdata-22 merge -sparse -f LIST -o OUT.profdata` and Go's `covdata merge -i=DIR -o=OUT`. "
      "Every input is in the page cache; each timed run writes into a fresh output directory (hyperfine "
      "`--prepare`, not timed).\n\n")

    g2, g3 = R.hf(f"merge.{n2}"), R.hf(f"merge.{n3}")
    l2, l3 = R.hf(f"llvm.{n2}"), R.hf(f"llvm.{n3}")
    g1 = R.hf(f"merge.{n1}")

    # --- verdict ---
    w("### Verdict\n\n")
    verdicts = []
    for n, g, l in ((n2, g2, l2), (n3, g3, l3)):
        c = g.get(COV)
        lbest = min((l[k] for k in (LLVM, LLVM2) if k in l), key=lambda r: r["mean"], default=None)
        if c and lbest:
            r = ratio(c, lbest)
            ok = r[0] >= GOAL_LLVM
            verdicts.append(ok)
            w(f"- At least {GOAL_LLVM:.0f}× faster than llvm-profdata, N = {num(n)}: **{'holds' if ok else 'not met'}**: "
              f"{t_pm(c)} against {t_pm(lbest)} (`{lbest['command']}`, the faster LLVM setting), **{fr(r)}**.\n")
    for n, g in ((n2, g2), (n3, g3)):
        c, go = g.get(COV), g.get(GO)
        if c and go:
            r = ratio(c, go)
            ok = r[0] >= GOAL_GO
            verdicts.append(ok)
            w(f"- At least {GOAL_GO:.0f}× faster than Go's covdata per file, N = {num(n)}: **{'holds' if ok else 'not met'}**: "
              f"{per_file(c['mean'], n)} against {per_file(go['mean'], n)} per file "
              f"({t_pm(c)} against {t_pm(go)} for the {num(n)} files), **{fr(r)}**.\n")
    if g2.get(COV) and g3.get(COV) and g2.get(GO) and g3.get(GO):
        dc = (g3[COV]["mean"] - g2[COV]["mean"]) / (n3 - n2)
        dg = (g3[GO]["mean"] - g2[GO]["mean"]) / (n3 - n2)
        fc = g2[COV]["mean"] - n2 * dc
        fg = g2[GO]["mean"] - n2 * dg
        w(f"- Cost of each additional file (N {num(n2)} → {num(n3)}, difference of the means divided by "
          f"{num(n3 - n2)}): covdata {dc * 1e6:.1f} µs, Go {dg * 1e6:.0f} µs (**{dg / dc:.1f}×**). The fixed "
          f"cost (the same line's intercept): covdata {t(fc)} (its meta file of "
          f"{size(R.sizes.get(('cov-meta', n3), (0, 0, 0))[1])} is hashed with MD5 to check H, copied, and "
          f"synced), Go "
          + (f"{t(fg)} (" if fg > 0 else "about 0 (its time per file grows with N, so the line crosses below zero; ")
          + f"a meta file of {size(R.sizes.get(('go-meta', n3), (0, 0, 0))[1])}).\n")
    c3, c31 = g3.get(COV), g3.get(COV1)
    if c3 and c31:
        r = ratio(c3, c31)
        cpu_share = (c3["user"] + c3["system"]) / c3["mean"]
        w(f"- Using both cores, N = {num(n3)}: {t_pm(c3)} on both CPUs against {t_pm(c31)} pinned to one "
          f"(`taskset -c 0`): **{fr(r)}** from the second core; CPU time / wall time = {cpu_share:.2f}. "
          "covdata reads the counter files on one thread per CPU (up to 8); llvm-profdata's default is "
          "min(hardware threads, (inputs + 1) / 2) threads, 2 here, so its default and `-j 2` rows are "
          "the same setting; Go's covdata merge reads on one goroutine.\n")
    # memory
    mem = []
    for label in (COV, PCOMB, INPLACE, GO, "llvm-profdata merge"):
        a, b = R.rss.get(f"{label}, N={n1}"), R.rss.get(f"{label}, N={n3}")
        if a and b:
            mem.append((label, a[0], b[0]))
    # The goal is about merging; --in-place must write the name of every
    # file it folds into the new pool (its `absorbed` list), so its memory
    # grows with N by design and is shown beside the goal, not in it.
    cm = [m for m in mem if m[0] in (COV, PCOMB)]
    ip = [m for m in mem if m[0] == INPLACE]
    if cm:
        ok = all(b <= a * (1 + FLAT) for _, a, b in cm)
        verdicts.append(ok)
        w(f"- Peak memory independent of the number of input files: **{'holds' if ok else 'not met'}** for covdata "
          f"(growth within {FLAT:.0%}): "
          + "; ".join(f"`{lab}` {mib(a)} at N = {num(n1)} → {mib(b)} at N = {num(n3)} ({(b - a) / 1024:+.1f} MiB)" for lab, a, b in cm)
          + ". For comparison: "
          + "; ".join(f"{lab} {mib(a)} → {mib(b)}" for lab, a, b in mem if not lab.startswith("covdata"))
          + "."
          + "".join(f" `{lab}` grows from {mib(a)} to {mib(b)} by design: the pool it writes lists the name of "
                    f"every file it folds in (`absorbed`, about 75 bytes each), so that a crash between the rename "
                    f"and the deletions double-counts nothing." for lab, a, b in ip)
          + "\n")
    w("\n")

    # --- timing tables ---
    w("### Wall time\n\n")
    w("hyperfine, mean ± σ of the wall time; CPU is user + system; *per file* is the mean divided by N; "
      "the last columns divide the other tool's mean by `covdata merge`'s (how many times faster covdata "
      "is). `--in-place` compacts a hard-linked copy of the directory into a pool (and deletes the "
      f"{num(n1)}…{num(n3)} links), so it also pays the unlinks.\n\n")
    for n, g, l, g_llvm in ((n1, g1, {}, None), (n2, g2, l2, f"llvm.{n2}"), (n3, g3, l3, f"llvm.{n3}")):
        if not g:
            continue
        runs = len(next(iter(g.values()))["times"])
        head = f"**N = {num(n)}** ({runs} timed runs after {R.warmups.get(f'merge.{n}', 0)} warmup runs"
        if l:
            lr = len(next(iter(l.values()))["times"])
            lw = R.warmups.get(g_llvm, 0)
            head += f"; llvm-profdata: {lr} after {lw}" + (" (the peak-RSS run just before is the warmup)" if lw == 0 else "")
        cb = R.sizes.get(("cov-counters", n))
        pb = R.sizes.get(("prof", n))
        gb = R.sizes.get(("go-counters", n))
        bits = []
        if cb:
            bits.append(f"{num(n)} covcounters = {size(cb[1])}")
        if pb:
            bits.append(f"{num(n)} profraws = {size(pb[1])}")
        if gb:
            bits.append(f"{num(n)} Go counter files = {size(gb[1])}")
        w(head + ("; " + ", ".join(bits) if bits else "") + "):\n\n")
        c = g.get(COV)
        rows = []
        for name, r in list(g.items()) + list(l.items()):
            vs_cov = "1" if name == COV else (fr(ratio(c, r)) if c else "–")
            rows.append([f"`{name}`", t_pm(r), cpu(r), per_file(r["mean"], n), f"{n / r['mean']:,.0f}", vs_cov])
        w(table(["command", "wall, mean ± σ", "CPU", "per file", "files/s", "÷ covdata merge"], rows))
        notes = [f"covdata/Go group: {R.noise(f'merge.{n}')}"]
        if l:
            notes.append(f"llvm-profdata group: {R.noise(g_llvm)}")
        w("\nNoise: " + "; ".join(notes) + ".\n\n")

    # --- memory ---
    w("### Peak memory\n\n")
    w("Peak RSS (`ru_maxrss` of the tool, through GNU time, so the measuring Python process's own "
      "size does not leak into the child; median of 3 runs, 1 for llvm-profdata at N = "
      f"{num(n3)}):\n\n")
    rows = []
    for label in (COV, PCOMB, INPLACE, GO, "llvm-profdata merge"):
        row = [f"`{label}`" if label != "llvm-profdata merge" else "`llvm-profdata merge -sparse`"]
        for n in (n1, n2, n3):
            v = R.rss.get(f"{label}, N={n}")
            row.append(mib(v[0]) if v else "–")
        rows.append(row)
    w(table(["tool", f"N = {num(n1)}", f"N = {num(n2)}", f"N = {num(n3)}"], rows))
    w("\n")

    # --- disk ---
    w("### Disk\n\n")
    w(f"What {num(n3)} runs leave behind, and the merged outputs (*bytes*: the files' sizes; *on disk*: "
      "allocated blocks, as `du` counts them; a small file takes at least one 4 KiB block):\n\n")
    rows = []

    def srow(label, v):
        if v:
            rows.append([label, num(v[0]), size(v[1]), size(v[2])])

    srow(f"covwrap: {num(n3)} covcounters files", R.sizes.get(("cov-counters", n3)))
    srow("covwrap: covmeta (once per binary and directory)", R.sizes.get(("cov-meta", n3)))
    srow(f"LLVM: {num(n3)} profraw files", R.sizes.get(("prof", n3)))
    srow(f"Go: {num(n3)} covcounters files", R.sizes.get(("go-counters", n3)))
    srow("Go: covmeta", R.sizes.get(("go-meta", n3)))
    srow("`covdata merge` output (covmeta + one counter file)", R.outputs.get("covdata-merge"))
    srow("`covdata merge --pcombine` output", R.outputs.get("covdata-pcombine"))
    srow("`covdata merge --in-place` result (covmeta, pool, lock file)", R.outputs.get("covdata-in-place"))
    srow("`llvm-profdata merge -sparse` output (.profdata)", R.outputs.get("profdata"))
    srow("Go's `covdata merge` output", R.outputs.get("go-merge"))
    for n in (n2, n3):
        if n in R.pools:
            f, b, a = R.pools[n]
            rows.append([f"`COVWRAP_MERGE=1`, {num(n)} runs into an empty COVDIR", num(f), size(b), size(a)])
    w(table(["what", "files", "bytes", "on disk"], rows))
    w("\n")
    if R.pools:
        w("With `COVWRAP_MERGE=1` each run folds its counters into the pod's pool "
          "`covcounters.<H>.0.0` under an exclusive `flock` on `.covlock.<H>`, so the directory keeps "
          "the meta file, the pool and the lock file, whatever the number of runs")
        pr = [f"{num(n)} runs: the pool's `runs` field says {num(v)}" for n, v in sorted(R.pool_runs.items()) if v is not None]
        if pr:
            w(" (" + "; ".join(pr) + ")")
        w(". ")
        chk = [(n, v) for (k, n), v in sorted(R.checks.items()) if k == "pool_textfmt"]

        def pool_check(n, v):
            f = v.split()
            head = f"after {num(n)} runs, `covdata textfmt` of the pool against that of the same runs' own files (cov-{n}): "
            if f[0] == "same":
                return head + "byte-identical"
            if f[0] == "differ" and len(f) >= 3:
                crates = f[3].split(",") if len(f) > 3 else []
                return (head + f"{num(int(f[1]))} of {num(int(f[2]))} region lines have other counts, all in "
                        + ", ".join(f"`{c}`" for c in crates)
                        + " (ripgrep searches a directory on several threads, so which thread does what, with its "
                        "work-stealing queues and per-thread regex caches, varies from one execution of the same "
                        "arguments to the next; every other line agrees)")
            if f[0] == "other-binary":
                return head + "not compared (another build of ripgrep)"
            return head + "**" + v + "**"

        if chk:
            w("Counts: " + "; ".join(pool_check(n, v) for n, v in chk) + ". ")
        mr = R.make_runs
        p2, pl2 = mr.get(f"pool-{n2}"), mr.get(f"plain-{n2}")
        if p2 and pl2:
            w(f"Making {num(n2)} runs ({I.get('jobs', 2)} at a time, `bench/report_tool.py runs`): "
              f"{p2[2]:.1f} s with `COVWRAP_MERGE=1` against {pl2[2]:.1f} s into a normal COVDIR "
              f"({(p2[2] - pl2[2]) / n2 * 1e3:+.2f} ms per run of wall time with two runs at a time).")
        p3 = mr.get(f"pool-{n3}")
        if p3:
            w(f" The next {num(p3[1])} runs into the pool took {p3[2]:.1f} s ({p3[2] / p3[1] * 1e3:.2f} ms per run).")
        w("\n\n")

    # --- single runs ---
    singles = sorted({k.rsplit(".", 1)[0] for k in (f[3:-5] for f in os.listdir(d) if f.startswith("hf.single."))})
    if singles:
        w("#### Per-run cost of pooling\n\n")
        w(f"One ripgrep run at a time (hyperfine, {I.get('single_runs', '?')} runs after 20 warmup runs, "
          + (f"{I.get('rounds')} rounds, the order reversed in every second one" if I.get('rounds') != '1' else "1 round")
          + "), through `env` in every variant: "
          f"into a normal COVDIR (one new file per run), with `COVWRAP_MERGE=1` into a pool that already holds "
          f"{num(n3)} runs (a hard-linked copy of the one made above), and without COVDIR. *pool − file* is the "
          "difference of the means, ± its standard error.\n\n")
        args = {}
        for line in lines(d, "info"):
            if line.startswith("single_args "):
                _, wl, a = line.split(" ", 2)
                args[wl] = a
        for s in singles:
            wl = s.split(".")[1]
            w(f"`rg {args.get(wl, '')}`:\n\n")
            rows = []
            per = {}
            rounds = sorted(int(f.split(".")[2]) for f in (x[3:-5] for x in os.listdir(d) if x.startswith(f"hf.{s}.")))
            names = None
            for rd in rounds:
                g = R.hf(f"{s}.{rd}")
                names = names or sorted(g)
                for name, r in g.items():
                    per.setdefault(name, []).append(r)
            for name in sorted(per, key=lambda x: ("no COVDIR" in x, "MERGE" in x)):
                rs = per[name]
                cells = [f"`{name}`"] + [f"{r['mean'] * 1e3:.2f} ± {r['stddev'] * 1e3:.2f} ms" for r in rs]
                rows.append(cells)
            w(table(["variant"] + [f"round {rd}" for rd in rounds], rows))
            fkey = next((k for k in per if "one file" in k), None)
            pkey = next((k for k in per if "MERGE" in k), None)
            qkey = next((k for k in per if "no COVDIR" in k), None)
            if fkey and pkey:
                diffs = []
                for rf, rp in zip(per[fkey], per[pkey]):
                    se = math.hypot(rf["stddev"] / math.sqrt(len(rf["times"])), rp["stddev"] / math.sqrt(len(rp["times"])))
                    diffs.append(f"{(rp['mean'] - rf['mean']) * 1e3:+.2f} ± {se * 1e3:.2f} ms")
                extra = ""
                if qkey:
                    added_f = [(rf["mean"] - rq["mean"]) * 1e3 for rf, rq in zip(per[fkey], per[qkey])]
                    added_p = [(rp["mean"] - rq["mean"]) * 1e3 for rp, rq in zip(per[pkey], per[qkey])]
                    extra = ("; against no COVDIR, writing a file adds " + ", ".join(f"{x:.2f}" for x in added_f)
                             + " ms and pooling " + ", ".join(f"{x:.2f}" for x in added_p) + " ms (per round)")
                w(f"\npool − file, per round: {', '.join(diffs)}{extra}. Noise: "
                  + "; ".join(f"round {rd}: {R.noise(f'{s}.{rd}')}" for rd in rounds) + ".\n\n")

    cgp = read_callgrind(os.path.join(d, "cg.rg-plain.inclusive"))
    cgq = read_callgrind(os.path.join(d, "cg.rg-pool.inclusive"))
    if cgp and cgq:
        ex = "covwrap_rt::rt::init::on_exit"
        a, b = cg_get(cgp, ex) or 0, cg_get(cgq, ex) or 0
        parse = cg_get(cgq, "covwrap_rt::format::counters::CountersFile::parse") or 0
        dec = cg_get(cgq, "covwrap_rt::format::leb128::decode") or 0
        w(f"The pooled exit, in instructions (callgrind, one run of the *file* workload): covwrap's exit hook "
          f"(`{ex}`) executes {num(a)} instructions when it writes its own file and {num(b)} when it folds the "
          f"run into the pool of {num(n3)} runs ({(b - a) / a:+.0%}); of these, parsing and checking the pool "
          f"(`CountersFile::parse`) takes {num(parse)}, and ULEB128 decoding in all {num(dec)}. The whole run: "
          f"{num(cgp['TOTAL'])} against {num(cgq['TOTAL'])}. The rest of the difference in wall time is the "
          "kernel's: the lock, reading the pool, and replacing it by rename.\n\n")

    # --- profile ---
    cg1 = read_callgrind(os.path.join(d, f"cg.merge.1.inclusive"))
    cgn = read_callgrind(os.path.join(d, f"cg.merge.{n3}.inclusive"))
    if cg1 and cgn:
        w("### Where covdata merge's time goes\n\n")
        w("`valgrind --tool=callgrind` (instructions, exact; no kernel time; the reader threads' work is "
          f"added up as if serial), inclusive cost of selected functions, for one counter file (the fixed "
          f"cost) and for {num(n3)} (then per file: the difference divided by {num(n3 - 1)}):\n\n")
        rows_def = [
            ("TOTAL", "the whole run"),
            ("covdata::reader::load", "reading the pod (meta file, counter files)"),
            ("covwrap_rt::format::meta::content_hash", "· MD5 of the whole meta file (checks H)"),
            ("covdata::reader::read_one", "reading one counter file (open, read, check, add)"),
            ("~CountersFile::parse", "· parse: header, CRC-32, args, and the (delta, value) list"),
            ("covwrap_rt::format::counters::CountersFile::validate_entries", "· · the list: decoded once, checked, kept in a reused buffer"),
            ("covwrap_rt::format::leb128::decode", "ULEB128 decoding"),
            ("~crc32::Crc32::update", "CRC-32 of each file"),
            ("covwrap_rt::format::kv::decode", "args tables (argv, exe, …)"),
            ("covdata::pods::discover", "listing the directory"),
            ("~counter_file", "encoding the summed counter file"),
        ]
        rows = []
        t1, tn = cg1.get("TOTAL"), cgn.get("TOTAL")
        for key, label in rows_def:
            a, b = cg_get(cg1, key), cg_get(cgn, key)
            if a is None and b is None:
                continue
            a = a or 0
            b = b or 0
            pf = (b - a) / (n3 - 1)
            tot_pf = (tn - t1) / (n3 - 1)
            rows.append([label, "(total)" if key == "TOTAL" else f"`{key.lstrip('~')}`", f"{a / 1e6:,.0f} M ({a / t1:.0%})", f"{b / 1e6:,.0f} M ({b / tn:.0%})",
                         f"{pf:,.0f} ({pf / tot_pf:.0%})" if pf > 0 else "–"])
        w(table(["what", "function", "1 file", f"{num(n3)} files", "per file"], rows))
        w("\n")
    for n in (R.n2, R.n3):
        p = os.path.join(d, f"strace.merge.{n}.txt")
        if os.path.exists(p):
            txt = open(p).read()
            m = re.search(r"^\s*[\d.]+\s+([\d.]+)\s+(\d+)\s+(\d+)\s+(?:\d+\s+)?fsync\s*$", txt, re.M)
            tot = re.search(r"^\s*100\.00\s+([\d.]+)\s+\d+\s+(\d+)\s+(?:\d+\s+)?total\s*$", txt, re.M)
            if m:
                w(f"- System calls of one `covdata merge` of {num(n)} files (`strace -f -w -c`, wall-clock time "
                  f"in each call): fsync {float(m.group(1)) * 1e3:.1f} ms in {m.group(3)} calls"
                  + (f", of {float(tot.group(1)) * 1e3:.1f} ms in all traced calls" if tot else "") + ".\n")
    w("\n")

    # --- setup ---
    w("### Setup\n\n")
    if I.get("llvm_measured"):
        w(f"- The llvm-profdata rows come from an earlier run of this script ({I['llvm_measured']}), kept with "
          "`SKIP_LLVM=1`: the same LLVM-instrumented ripgrep binary and the same runs' arguments; only covdata "
          "changed since, and the covdata and Go rows were measured again.\n")
    la = [R.quiet[k][0] for k in R.quiet]
    others = [o for o in (R.others(g) for g in R.cpustat) if o is not None]
    w(f"- Machine: {I.get('nproc')} CPUs ({I.get('cpu')}), {I.get('mem')} RAM, {I.get('kernel')}, bench/work on "
      f"{I.get('fs')}. A shared virtual machine (other people's builds and tests "
      f"run on it at times): before each timing group the script waited (up to {I.get('quiet_max')} s) until other "
      f"processes used less than 15% of the CPUs for 3 s (`report_tool.py quiet`)")
    if la:
        w(f"; just before the groups they used {min(la):.0%} to {max(la):.0%}")
    if others:
        w(f", and during the groups at most {min(others):.0%} to {max(others):.0%} of the machine's CPU time "
          "(an upper bound: hyperfine's `--prepare` commands count there too)")
    w(". Wall times of short commands are the noisiest; σ shows it.\n")
    diffstat = lines(d, "diffstat.txt")
    w(f"- covdata: built by `cargo build --release -p covdata` right before its timings, at commit "
      f"{I.get('commit')}" + (f", with uncommitted changes ({diffstat[-1].strip()}; `git diff --stat`: "
                              + ", ".join(x.strip().split('|')[0].strip() + ' ' + x.split('|')[1].strip() for x in diffstat[:-1] if '|' in x) + ")"
                              if diffstat else ", no uncommitted changes to covdata/ or runtime/")
      + (("; new files: " + ", ".join(x[3:] for x in lines(d, "status.txt") if x.startswith("??")))
         if any(x.startswith("??") for x in lines(d, "status.txt")) else "")
      + f"; binary sha256 {I.get('covdata_sha256')}….\n")
    w(f"- Tools: {I.get('llvm')} (`llvm-profdata-22`); {I.get('go')}; {I.get('rustc')}; {I.get('hyperfine')}; "
      f"{I.get('python')}; {I.get('valgrind')}.\n")
    w(f"- ripgrep builds: covwrap {I.get('rg_covwrap_origin')}; LLVM {I.get('rg_llvm_origin')} (bench/report.sh's, "
      "in bench/work/report).\n")
    if "prof" in R.make_runs:
        f, c, s = R.make_runs["prof"]
        w(f"- The {num(c)} profraws took {s:.0f} s to make ({I.get('jobs')} runs at a time) and "
          f"{R.disk.get('disk_used_by_profraw_kb', 0) / 1024 / 1024:.1f} GiB of disk; they were deleted right after the "
          "llvm-profdata measurements.\n")
    w("\nThe commands, from the repository root (hyperfine `-N --style basic`, one group per line block; "
      "each command's `--prepare` in brackets):\n\n```sh\n")
    groups = []
    for (g, n) in R.commands:
        if g not in groups:
            groups.append(g)
    for g in groups:
        if g.startswith("single."):
            continue
        runs = "?"
        hfr = R.hf(g)
        if hfr:
            runs = len(next(iter(hfr.values()))["times"])
        w(f"# {g}: hyperfine -N --warmup {R.warmups.get(g, I.get('warmup'))} --runs {runs}\n")
        for (gg, n), c in R.commands.items():
            if gg == g:
                p = R.prepares.get((g, n))
                w(f"{c}" + (f"    [{p}]" if p else "") + "\n")
    sg = [g for g in groups if g.startswith("single.")]
    if sg:
        w(f"# single.*: hyperfine -N --warmup 20 --runs {I.get('single_runs')} (no --prepare), e.g.\n")
        for (gg, n), c in R.commands.items():
            if gg == sg[0]:
                w(c + "\n")
    w("# peak RSS: python3 bench/report_tool.py rss --via-time --repeat 3 --prepare '<fresh output>' -- <command>\n")
    w("# pools: python3 bench/report_tool.py runs --kind rg --bin bench/work/report/covwrap/bin/rg --input "
      "bench/work/report/input --first 0 --count N --jobs 2 --env COVDIR=<empty dir> --env COVWRAP_MERGE=1\n")
    w("# profraws: the same with --bin bench/work/report/llvm/bin/rg --env LLVM_PROFILE_FILE=bench/work/merge/prof/rg-{i}-%p.profraw\n")
    w("# profile: valgrind --tool=callgrind bench/work/merge/bin/covdata merge -i=<cov-1 | cov-N3> -o=<fresh dir>\n")
    w("```\n")
    return "".join(out)


def cmp_textfmt(a, b):
    """Compares two textfmt outputs of the same binary: prints "same", or
    "differ LINES TOTAL FILE,FILE..." (region lines whose counts differ, of
    all, and the crate directories of the files they are in)."""
    with open(a) as f:
        la = f.read().splitlines()
    with open(b) as f:
        lb = f.read().splitlines()
    if la == lb:
        print("same")
        return
    if len(la) != len(lb):
        print(f"differ-shape {len(la)} {len(lb)}")
        return
    where, n = set(), 0
    for x, y in zip(la, lb):
        if x != y:
            n += 1
            path = x.rsplit(":", 1)[0]
            m = re.findall(r"/([A-Za-z0-9_-]+-\d+\.\d+\.\d+[^/]*)/", path)
            if m:
                where.add(m[-1])
            elif path.startswith("/rustc/"):
                where.add("std")
            else:
                where.add("/".join(path.rsplit("/", 2)[-2:]))
    print(f"differ {n} {len(la)} {','.join(sorted(where))}")


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--cmp-textfmt":
        cmp_textfmt(sys.argv[2], sys.argv[3])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--doc")
    a = ap.parse_args()
    publish(render(a.results), a.doc, "merge")


if __name__ == "__main__":
    main()
