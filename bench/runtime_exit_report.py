#!/usr/bin/env python3
"""Summarises the results of bench/runtime-exit.sh: prints the section and,
with --doc, replaces the region between the runtime-exit markers in that
file (creating the file, or appending the region, when missing).

Reads, under --results: info (key value lines), <workload>.<variant>.<round>.json
(hyperfine exports), outputs (workload variant round files bytes),
sample.<workload>.covcounters, file.covwrap-first.json; under --callgrind:
<workload>.<variant>.out and .annotate.
"""

import argparse
import glob
import json
import math
import os
import re
import statistics
import struct
import sys

BEGIN = "<!-- runtime-exit:begin -->"
END = "<!-- runtime-exit:end -->"
DOC_HEADER = """# Benchmarks

Each section below is produced by a script under `bench/` and sits between
`<!-- NAME:begin -->` and `<!-- NAME:end -->` markers. A script rewrites only
its own region; text outside the markers is kept, so sections can be added
by hand or by other scripts.
"""


def read_info(path):
    info = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition(" ")
            info[key] = value
    return info


def load_times(results, workload, variant):
    """All timed runs (seconds), the per-round medians, and the mean user and
    system CPU time per run."""
    times, rounds, cpu = [], {}, []
    for path in glob.glob(os.path.join(results, f"{workload}.{variant}.*.json")):
        r = path.rsplit(".", 2)[1]
        if not r.isdigit():
            continue
        with open(path) as f:
            res = json.load(f)["results"][0]
        t = res["times"]
        times.extend(t)
        rounds[int(r)] = statistics.median(t)
        cpu.append((len(t), res["user"], res["system"]))
    n = sum(c[0] for c in cpu)
    user = sum(c[0] * c[1] for c in cpu) / n
    system = sum(c[0] * c[2] for c in cpu) / n
    return times, rounds, (user, system)


def stats(times):
    n = len(times)
    mean = statistics.fmean(times)
    sd = statistics.stdev(times) if n > 1 else 0.0
    return {"n": n, "mean": mean, "sd": sd, "median": statistics.median(times), "se": sd / math.sqrt(n)}


def uleb(buf, pos):
    value, shift = 0, 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, pos


def meta_total_counters(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack_from("<I", data, 40)
    for i in range(n):
        kind, _, off, _length = struct.unpack_from("<IIQQ", data, 48 + 24 * i)
        if kind == 2:
            return struct.unpack_from("<II", data, off)[1]
    return None


def counters_nonzero(path):
    with open(path, "rb") as f:
        data = f.read()
    (total,) = struct.unpack_from("<I", data, 56)
    (a,) = struct.unpack_from("<I", data, 64)
    pos = 72 + a
    pos += -pos % 8
    count = 0
    while True:
        delta, pos = uleb(data, pos)
        if delta == 0:
            return count, total
        _value, pos = uleb(data, pos)
        count += 1


def callgrind_total(path):
    with open(path) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    return None


def callgrind_inclusive(path, function):
    """Inclusive Ir of `function` from a callgrind_annotate --inclusive=yes listing."""
    if not os.path.exists(path):
        return None
    pattern = re.compile(r"^\s*([\d,]+)\s.*:" + re.escape(function) + r"(\s|$)")
    best = None
    with open(path) as f:
        for line in f:
            m = pattern.match(line)
            if m:
                v = int(m.group(1).replace(",", ""))
                best = v if best is None else max(best, v)
    return best


def ms(x):
    return f"{x * 1e3:.2f}"


def fmt_bytes(n):
    if n is None:
        return "–"
    if n >= 1 << 20:
        return f"{n / (1 << 20):.2f} MiB ({n:,} B)"
    if n >= 1 << 10:
        return f"{n / (1 << 10):.1f} KiB ({n:,} B)"
    return f"{n:,} B"


def fmt_ir(n):
    return "–" if n is None else f"{n:,}"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--callgrind")
    ap.add_argument("--doc")
    a = ap.parse_args()

    info = read_info(os.path.join(a.results, "info"))
    workloads = info["workloads"].split()
    variants = info["variants"].split()
    label = {v: info[f"label.{v}"] for v in variants}

    # Output sizes per run, from the files each batch left behind.
    outputs = {}  # (workload, variant) -> [files, bytes] summed over rounds
    batches_ok = True
    per_batch = int(info["warmup"]) + int(info["per_round"])
    with open(os.path.join(a.results, "outputs")) as f:
        for line in f:
            w, v, _r, n, b = line.split()
            acc = outputs.setdefault((w, v), [0, 0])
            acc[0] += int(n)
            acc[1] += int(b)
            batches_ok &= int(n) == per_batch
    meta_bytes = os.path.getsize(info["meta_file"]) if os.path.exists(info["meta_file"]) else None
    total_counters = meta_total_counters(info["meta_file"]) if meta_bytes else None

    def per_run_bytes(w, v):
        if v == "llvm-profraw" or v == "covwrap-covdir":
            files, b = outputs.get((w, v), [0, 0])
            return b / files if files else None
        return 0

    lines = []
    add = lines.append
    add("## Runtime: per-run cost of writing coverage (ripgrep)")
    add("")
    add(f"_Generated by `bench/runtime-exit.sh` on {info['date']}; rerun the script to refresh this"
        " section (it replaces only the text between its markers)._")
    add("")
    add("The requirement: the exit-time write of a short-lived CLI must cost less than rustc's own")
    add("profraw writer on the same binary (ripgrep, all crates instrumented). Each variant below")
    add("is timed against plain ripgrep; the *added* column is the variant's mean minus plain's")
    add("mean, ± its standard error.")
    add("")

    verdicts = []
    results = {}
    for w in workloads:
        st, rounds = {}, {}
        for v in variants:
            t, rr, cpu = load_times(a.results, w, v)
            st[v] = stats(t)
            st[v]["cpu"] = cpu
            rounds[v] = rr
        results[w] = (st, rounds)
        base = st["plain"]
        cov = st["covwrap-covdir"]["mean"] - base["mean"]
        llvm = st["llvm-profraw"]["mean"] - base["mean"]
        se = math.sqrt(st["covwrap-covdir"]["se"] ** 2 + st["llvm-profraw"]["se"] ** 2)
        # Robust to disturbed batches: the median over rounds of
        # (LLVM profraw batch median - covwrap batch median).
        common = sorted(set(rounds["llvm-profraw"]) & set(rounds["covwrap-covdir"]))
        round_diff = statistics.median(
            rounds["llvm-profraw"][r] - rounds["covwrap-covdir"][r] for r in common)
        holds = cov < llvm
        margin = abs(llvm - cov)
        verdicts.append((w, holds, cov, llvm, margin, se, round_diff))

    add("### Verdict")
    add("")
    for w, holds, cov, llvm, margin, se, round_diff in verdicts:
        agree = (round_diff > 0) == holds
        strength = "clearly" if margin > 3 * se and agree else "within noise"
        word = "**holds**" if holds else "**does not hold**"
        add(f"- {info['wdesc.' + w]} (`rg {info['wargs.' + w]}`): {word}, {strength}: covwrap with"
            f" COVDIR adds {ms(cov)} ms per run, LLVM writing a .profraw adds {ms(llvm)} ms"
            f" (LLVM minus covwrap: {ms(llvm - cov)} ± {ms(se)} ms from the means of all runs;"
            f" {ms(round_diff)} ms as the median over the rounds of the difference of the batch medians).")
    add("")

    for w in workloads:
        st, rounds = results[w]
        base = st["plain"]
        add(f"### Wall time: {info['wdesc.' + w]}")
        add("")
        add(f"`rg {info['wargs.' + w]}`; {st['plain']['n']} timed runs per variant"
            f" ({info['rounds']} interleaved rounds of {info['per_round']}, each after"
            f" {info['warmup']} warmup runs).")
        add("")
        rows = []
        for v in variants:
            s = st[v]
            d = s["mean"] - base["mean"]
            dse = math.sqrt(s["se"] ** 2 + base["se"] ** 2)
            added = "–" if v == "plain" else f"{d * 1e3:+.2f} ± {dse * 1e3:.2f}"
            added_med = "–" if v == "plain" else f"{(s['median'] - base['median']) * 1e3:+.2f}"
            added_cpu = "–" if v == "plain" else \
                f"{(sum(s['cpu']) - sum(base['cpu'])) * 1e3:+.2f}"
            rows.append([label[v], f"{ms(s['mean'])} ± {ms(s['sd'])}", ms(s["median"]), added,
                         added_med, f"{ms(s['cpu'][0])} / {ms(s['cpu'][1])}", added_cpu,
                         fmt_bytes(None if per_run_bytes(w, v) is None else round(per_run_bytes(w, v)))])
        lines.extend(table(["variant", "mean ± σ (ms)", "median (ms)", "added vs plain (ms)",
                            "added, medians (ms)", "user / sys CPU (ms)", "added CPU (ms)",
                            "written per run"], rows))
        add("")
        add("Added cost per round (the batch's median minus plain's median in the same round, ms;"
            " a round where the machine was busy stands out):")
        add("")
        rnums = sorted(rounds["plain"])
        others = [v for v in variants if v != "plain"]
        rows = []
        for r in rnums:
            rows.append([str(r), ms(rounds["plain"][r])]
                        + [f"{(rounds[v][r] - rounds['plain'][r]) * 1e3:+.2f}" for v in others])
        rows.append(["median", ms(statistics.median(rounds["plain"][r] for r in rnums))]
                    + [f"{statistics.median(rounds[v][r] - rounds['plain'][r] for r in rnums) * 1e3:+.2f}"
                       for v in others])
        lines.extend(table(["round", "plain (ms)"] + [label[v] for v in others], rows))
        add("")
        # Isolating the writers.
        prof = st["llvm-profraw"]["mean"] - st["llvm-devnull"]["mean"]
        prof_se = math.sqrt(st["llvm-profraw"]["se"] ** 2 + st["llvm-devnull"]["se"] ** 2)
        cw = st["covwrap-covdir"]["mean"] - st["covwrap-off"]["mean"]
        cw_se = math.sqrt(st["covwrap-covdir"]["se"] ** 2 + st["covwrap-off"]["se"] ** 2)
        add(f"Writing to the file system alone: LLVM .profraw minus LLVM to /dev/null ="
            f" {prof * 1e3:+.2f} ± {prof_se * 1e3:.2f} ms; covwrap with COVDIR minus covwrap without ="
            f" {cw * 1e3:+.2f} ± {cw_se * 1e3:.2f} ms (covwrap's startup checks of COVDIR and covmeta,"
            " its counter scan and its counter file).")
        add("")

    add("### Bytes written")
    add("")
    for w in workloads:
        prof = per_run_bytes(w, "llvm-profraw")
        cov = per_run_bytes(w, "covwrap-covdir")
        sample = os.path.join(a.results, f"sample.{w}.covcounters")
        nz = ""
        if os.path.exists(sample):
            k, total = counters_nonzero(sample)
            nz = f" ({k:,} of {total:,} counters non-zero)"
        add(f"- {info['wdesc.' + w]}: LLVM .profraw {fmt_bytes(round(prof) if prof else None)} per process;"
            f" covwrap covcounters {fmt_bytes(round(cov) if cov else None)} per process{nz}.")
    add(f"- covwrap's covmeta, written once per binary and COVDIR: {fmt_bytes(meta_bytes)}"
        + (f" (describes {total_counters:,} counters)." if total_counters else "."))
    first = os.path.join(a.results, "file.covwrap-first.json")
    if os.path.exists(first):
        with open(first) as f:
            t = stats(json.load(f)["results"][0]["times"])
        steady = results[workloads[0]][0]["covwrap-covdir"]
        add(f"- The first run in a COVDIR without the meta file (builds and writes it; `rg"
            f" {info['wargs.file']}`, {t['n']} runs with `--prepare 'rm -f <covmeta>'`):"
            f" {ms(t['mean'])} ± {ms(t['sd'])} ms, against {ms(steady['mean'])} ms in the steady state.")
    ok = "every timed or warmup run left exactly one file" if batches_ok else \
        "WARNING: some batch left a different number of files than it had runs"
    add(f"- Check: {ok} ({per_batch} per batch).")
    add("")

    if a.callgrind and os.path.isdir(a.callgrind):
        add("### Instructions (callgrind, one run each)")
        add("")
        add("`valgrind --tool=callgrind` counts user-space instructions (Ir) exactly, so these are")
        add("noise-free; they do not include the kernel's work (page cache, file creation), which is")
        add("most of the cost of writing a 1.3 MB file and shows only in the wall times above.")
        add("Inclusive Ir of LLVM's writer (`__llvm_profile_write_file`, run at exit by compiler-rt)")
        add("and of covwrap's constructor (`covwrap_rt::rt::init::init`) and exit hook")
        add("(`covwrap_rt::rt::init::on_exit`):")
        add("")
        rows = []
        for w in workloads:
            base = callgrind_total(os.path.join(a.callgrind, f"{w}.plain.out"))
            for v in variants:
                out = os.path.join(a.callgrind, f"{w}.{v}.out")
                ann = os.path.join(a.callgrind, f"{w}.{v}.annotate")
                total = callgrind_total(out) if os.path.exists(out) else None
                added = "–" if v == "plain" or total is None or base is None else f"{total - base:+,}"
                rows.append([w, label[v], fmt_ir(total), added,
                             fmt_ir(callgrind_inclusive(ann, "__llvm_profile_write_file")),
                             fmt_ir(callgrind_inclusive(ann, "covwrap_rt::rt::init::init")),
                             fmt_ir(callgrind_inclusive(ann, "covwrap_rt::rt::init::on_exit"))])
        lines.extend(table(["workload", "variant", "Ir per run", "added vs plain", "LLVM writer",
                            "covwrap constructor", "covwrap exit write"], rows))
        add("")
        w = workloads[0]
        ann = lambda v: os.path.join(a.callgrind, f"{w}.{v}.annotate")
        llvm_w = callgrind_inclusive(ann("covwrap-covdir"), "__llvm_profile_write_file")
        cov_w = callgrind_inclusive(ann("covwrap-covdir"), "covwrap_rt::rt::init::on_exit")
        total_c = callgrind_total(os.path.join(a.callgrind, f"{w}.covwrap-covdir.out"))
        total_l = callgrind_total(os.path.join(a.callgrind, f"{w}.llvm-profraw.out"))
        llvm_only = callgrind_inclusive(ann("llvm-profraw"), "__llvm_profile_write_file")
        if llvm_w is None and cov_w and llvm_only and total_c and total_l:
            add(f"In the covwrap build LLVM's own exit writer does not run (it is absent from the call graph)."
                f" covwrap's exit write costs {cov_w:,} Ir per run ({w} workload) against {llvm_only:,} Ir"
                f" for LLVM's writer; the whole covwrap run with COVDIR executes {total_c - total_l:+,} Ir"
                " relative to the LLVM build writing a .profraw. The kernel's share (a 1.3 MB file created,"
                " filled and later deleted against a 10 KB one) comes on top and shows only in the wall times.")
            add("")
        elif llvm_w and cov_w and total_c and total_l:
            add(f"In the covwrap build, LLVM's own exit writer still runs (its output goes to /dev/null):"
                f" {llvm_w:,} Ir per run ({w} workload), as much as in the LLVM build, on top of covwrap's"
                f" own exit write ({cov_w:,} Ir). In user-space instructions covwrap with COVDIR therefore"
                f" executes {total_c - total_l:+,} Ir per run relative to LLVM writing a .profraw;"
                " where it wins, it wins in the kernel (a 1.3 MB file created, filled and later deleted"
                " against a 10 KB one).")
            add("")

    add("### Notes")
    add("")
    file_w = workloads[0]
    st = results[file_w][0]
    inst = {w: results[w][0]["llvm-devnull"]["mean"] - results[w][0]["plain"]["mean"] for w in workloads}
    note = ("- Most of what an instrumented ripgrep costs is the instrumentation, not any writer: LLVM"
            " writing to /dev/null already adds " + ", ".join(f"{ms(inst[w])} ms ({w})" for w in workloads)
            + ", and both instrumented builds pay that.")
    if "lock_incs.llvm" in info:
        note += (f" rustc's counter updates are atomic: the LLVM build's code has {int(info['lock_incs.llvm']):,}"
                 f" `lock inc`/`lock add` instructions, covwrap's {int(info['lock_incs.covwrap']):,}, plain"
                 f" ripgrep's {int(info['lock_incs.plain']):,}; with several search threads (the directory"
                 " workload) they also contend for the same counters.")
    add(note)
    def more_less(d):
        return f"{abs(d) * 1e3:.2f} ms {'more' if d >= 0 else 'less'}"
    add(f"- covwrap's steady-state run costs {more_less(st['covwrap-covdir']['mean'] - st['covwrap-off']['mean'])}"
        f" than the same binary with COVDIR unset ({file_w} workload), and the covwrap binary with COVDIR"
        f" unset costs {more_less(st['covwrap-off']['mean'] - st['llvm-devnull']['mean'])} than the LLVM"
        " build writing to /dev/null.")
    add("- The LLVM build opens its .profraw at startup (truncating it) and appends the whole profile at"
        " exit; the 1.3 MB are mostly the per-function data records and names, which are the same on every"
        " run; covwrap writes those once, in covmeta, and only non-zero counters per run.")
    add("")

    add("### Setup")
    add("")
    load = ""
    lpath = os.path.join(a.results, "loadavg")
    if os.path.exists(lpath):
        with open(lpath) as f:
            ls = [float(x) for x in f.read().split()]
        if ls:
            load = (f" The 1-minute load average before the {len(ls)} batches ranged from {min(ls):.2f}"
                    f" to {max(ls):.2f} (median {statistics.median(ls):.2f}); the benchmark itself,"
                    " running one process after another, accounts for about 1 of it.")
    add(f"- Machine: {info['nproc']} CPUs ({info['cpu']}), {info['kernel']}, bench/work on {info['fs']};"
        " a shared virtual machine, so wall times are noisy: the variants run in interleaved rounds"
        " (order rotated each round) and every round is shown above." + load)
    add(f"- covwrap: {info.get('covwrap_rev', 'unknown revision')}.")
    add(f"- Tools: {info['rustc']}; {info['cargo']}; {info['hyperfine']}; {info['valgrind']}.")
    add(f"- ripgrep {info['rg_version']} from crates.io, built three times with cargo install's release"
        f" profile, each with its own target directory (cargo run from {info['work']}, with RUSTFLAGS,"
        " RUSTC_WRAPPER and the COVWRAP_* variables cleared except as shown):")
    add("")
    add("  ```sh")
    v = info["rg_version"]
    wk = info["work"]
    cache = info["covwrap_cache"]
    add(f"  CARGO_TARGET_DIR=$PWD/{wk}/target-plain cargo install --locked --force --root $PWD/{wk}/plain ripgrep@{v}")
    add(f"  RUSTFLAGS=-Cinstrument-coverage CARGO_TARGET_DIR=$PWD/{wk}/target-llvm \\\n"
        f"    cargo install --locked --force --root $PWD/{wk}/llvm ripgrep@{v}")
    add("  cargo build --release -p covwrap")
    add(f"  RUSTC_WRAPPER=$PWD/target/release/covwrap COVWRAP_PKG='*' COVWRAP_CACHE_DIR=$PWD/{cache} \\\n"
        f"    CARGO_TARGET_DIR=$PWD/{wk}/target-covwrap cargo install --locked --force --root $PWD/{wk}/covwrap ripgrep@{v}")
    add("  ```")
    add("")
    sizes = ", ".join(f"{b} {int(info[f'size.{vv}']) / (1 << 20):.1f} MiB"
                      for b, vv in (("plain", "plain"), ("LLVM", "llvm-profraw"), ("covwrap", "covwrap-covdir")))
    add(f"- Binary sizes: {sizes}.")
    add(f"- Input: 40 generated files of 300 lines of Rust-like text ({info['work']}/input, the same on every"
        " machine).")
    add("- Timing commands, run from the repository root, one hyperfine per variant and round (its"
        " environment set only for that hyperfine), output directories emptied and `sync` run before"
        " each batch:")
    add("")
    add("  ```sh")
    for w in workloads:
        for vv in variants:
            env = info.get(f"env.{vv}", "")
            env = (env + " ") if env else ""
            add(f"  {env}hyperfine -N --warmup {info['warmup']} --runs {info['per_round']} --style basic"
                f" --export-json {info['work']}/results/{w}.{vv}.<round>.json '{info[f'bin.{vv}']} {info['wargs.' + w]}'")
    add("  ```")
    add("")
    if a.callgrind:
        add("  and once per variant: `valgrind --tool=callgrind --callgrind-out-file=... <same command>`.")
        add("")

    text = "\n".join(lines).rstrip() + "\n"
    print(text)

    if a.doc:
        region = f"{BEGIN}\n{text}{END}\n"
        if os.path.exists(a.doc):
            with open(a.doc) as f:
                doc = f.read()
        else:
            doc = DOC_HEADER
        if BEGIN in doc and END in doc and doc.index(BEGIN) < doc.index(END):
            i, j = doc.index(BEGIN), doc.index(END) + len(END)
            if doc[j:j + 1] == "\n":
                j += 1
            doc = doc[:i] + region + doc[j:]
        else:
            doc = doc.rstrip("\n") + "\n\n" + region
        with open(a.doc, "w") as f:
            f.write(doc)
        print(f"wrote {a.doc}", file=sys.stderr)


if __name__ == "__main__":
    main()
