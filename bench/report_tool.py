#!/usr/bin/env python3
"""Helpers for bench/report.sh (reports from raw run files).

    report_tool.py runs --kind rg|go --bin BIN [--input DIR] --first A --count N
                        [--jobs 2] [--env K=V ...]
        runs BIN N times (run indices A..A+N-1) with the arguments of those
        indices, --jobs at a time, stdout to /dev/null; fails if a run fails.
        "{i}" in an --env value becomes the run index.
    report_tool.py rg-args I     prints the arguments of ripgrep run I
    report_tool.py rss --out TSV --label L [--repeat 3] [--prepare SH] -- CMD...
        runs CMD (stdout to /dev/null) --repeat times and appends
        "label  maxrss_kb(median)  maxrss_kb(max)  seconds(median)" to TSV
        (peak RSS from wait4's rusage, so it includes the process's
        children, e.g. both tools of a `bash -c 'a && b'`). --prepare runs
        the shell command SH before each run (not measured), e.g. to
        remove the previous run's output. A child of this Python process
        starts with Python's own peak RSS (about 15 MiB; Linux carries the
        high-water mark over fork and exec), so smaller peaks read as that
        floor; --via-time runs CMD under GNU time (/usr/bin/time -f %M),
        whose child starts from time's own peak (about 1 MiB).
    report_tool.py quiet [--max 300] [--threshold 0.15] [--log FILE --name NAME]
        waits until other processes leave the CPUs (or --max seconds) and
        logs how busy the machine was.
    report_tool.py paired --out JSON --a-name NA --a CMD --b-name NB --b CMD
                          [--rounds 10] [--warmup 2] [--a-prepare SH] [--b-prepare SH]
        times A and B alternately (A B, then B A, ...), so that both see the
        same machine, and writes their times and the median of the
        per-round ratios B/A to JSON.
    report_tool.py stats --kind covwrap|go|profraw DIR [--sample 100] [--textfmt FILE]
        prints JSON: file count, bytes, and per-run statistics of the
        counter files (live functions, counters in the file, non-zero ones);
        for Go, --textfmt (one line per counter) gives the counter total.
    report_tool.py doc --results DIR [--doc FILE]
        prints the docs/BENCHMARKS.md section and, with --doc, replaces the
        region between the report markers in FILE.
"""

import argparse
import concurrent.futures
import glob
import json
import os
import shlex
import statistics
import struct
import subprocess
import sys
import time


# Variables that steer coverage output or builds; removed from every run's
# environment (the run's own settings are added back).
CLEAN = [
    "COVDIR", "COVWRAP_QUIET", "COVWRAP_LABEL", "COVWRAP_MERGE", "LLVM_PROFILE_FILE", "GOCOVERDIR",
    "RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS", "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER", "CARGO_BUILD_RUSTC_WRAPPER", "COVWRAP_PKG", "COVWRAP_RUSTC_WRAPPER",
    "COVWRAP_LOG", "COVWRAP_CACHE_DIR", "COVWRAP_IN_RUSTC", "RIPGREP_CONFIG_PATH",
]

# ripgrep runs: pattern x flags x target, so that consecutive runs take
# different paths through ripgrep (and its regex engines) and the counter
# files differ. All patterns are valid; exit status 1 (no match) is fine.
RG_PATTERNS = [
    "fn", "let", r"value_\d+", r"item_[0-9]+_[0-9]+", "quick brown", r"Err\(Error::new",
    "(?i)COMPUTE", r"\bx\b", r"^\s*//", "wrapping_mul|return", "[0-9a-f]{5}", r"lazy dog \d+$",
    "fox", "zzz_no_such_text", "u64",
]
RG_FLAGS = [
    ["-c"], ["-n"], ["-l"], ["-w", "-c"], ["-i", "--count-matches"], ["-o"], ["-v", "-c"],
    ["--json"], ["-F", "-c"], ["-C", "2"], ["--sort", "path", "-n"], ["-j", "1", "-c"],
    ["--stats", "-q"], ["-U", "-c"], ["--vimgrep"], ["-t", "rust", "-c"], ["-g", "file0*.rs", "-c"],
    ["--max-count", "3", "-n"], ["-S", "-H", "-c"], ["--no-ignore", "-c"],
]


def rg_args(i, input_dir):
    p = RG_PATTERNS[i % len(RG_PATTERNS)]
    f = RG_FLAGS[(i // len(RG_PATTERNS)) % len(RG_FLAGS)]
    # Every third run searches one file instead of the directory.
    target = input_dir if i % 3 else os.path.join(input_dir, "file%02d.rs" % (i % 40))
    return f + ["--", p, target]


def clean_env(extra):
    env = {k: v for k, v in os.environ.items() if k not in CLEAN}
    for kv in extra:
        k, _, v = kv.partition("=")
        env[k] = v
    return env


def cmd_runs(a):
    env = clean_env(a.env)

    templated = {k: v for k, v in env.items() if "{i}" in v and k in dict(kv.split("=", 1) for kv in a.env)}

    def one(i):
        run_env = env
        if templated:
            run_env = dict(env)
            for k, v in templated.items():
                run_env[k] = v.replace("{i}", str(i))
        if a.kind == "rg":
            argv = [a.bin] + rg_args(i, a.input)
            ok = (0, 1)
        else:
            argv = [a.bin, "run%d" % i]
            ok = (0,)
        r = subprocess.run(argv, env=run_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode not in ok:
            return f"run {i}: {' '.join(argv)}: exit {r.returncode}: {r.stderr.decode(errors='replace')[:500]}"
        if r.stderr:
            return f"run {i}: {' '.join(argv)}: unexpected stderr: {r.stderr.decode(errors='replace')[:500]}"
        return None

    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as ex:
        for err in ex.map(one, range(a.first, a.first + a.count)):
            if err:
                sys.exit(err)
    secs = time.perf_counter() - t0
    print(f"{a.count} runs in {secs:.1f} s", file=sys.stderr)
    if a.log:
        with open(a.log, "a") as f:
            f.write(f"{a.log_name} {a.first} {a.count} {secs:.3f}\n")


def prepare(sh):
    """Runs the shell command sh, when given, before a measured run; exits
    if it fails."""
    if sh:
        subprocess.run(["bash", "-c", sh], check=True)


def exit_if_failed(argv, code, stderr):
    """Exits, with the start of the command's standard error, when a
    measured run failed."""
    if code != 0:
        sys.exit(f"{' '.join(argv)}: exit {code}: {stderr.decode(errors='replace')[:1000]}")


def cmd_rss(a):
    cmd = a.command[1:] if a.command and a.command[0] == "--" else a.command
    rss, secs = [], []
    gnu_time = None
    if a.via_time:
        gnu_time = a.out + ".time"
        if not os.access("/usr/bin/time", os.X_OK):
            sys.exit("rss --via-time: /usr/bin/time (GNU time) not found (apt-get install time)")
    for _ in range(a.repeat):
        prepare(a.prepare)
        argv = cmd if gnu_time is None else ["/usr/bin/time", "-f", "%M", "-o", gnu_time, "--"] + cmd
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        err = p.stderr.read()
        _, status, ru = os.wait4(p.pid, 0)
        secs.append(time.perf_counter() - t0)
        exit_if_failed(cmd, os.waitstatus_to_exitcode(status), err)
        if gnu_time is None:
            rss.append(ru.ru_maxrss)
        else:
            with open(gnu_time) as f:
                rss.append(int(f.read().split()[-1]))
            os.remove(gnu_time)
    with open(a.out, "a") as f:
        f.write(f"{a.label}\t{int(statistics.median(rss))}\t{max(rss)}\t{statistics.median(secs):.4f}\n")
    print(f"{a.label}: peak RSS {int(statistics.median(rss)) / 1024:.1f} MiB", file=sys.stderr)


def cpu_busy(window):
    """Fraction of all CPUs busy during the next `window` seconds."""

    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return v[3] + v[4], sum(v)  # idle + iowait, total

    i0, t0 = sample()
    time.sleep(window)
    i1, t1 = sample()
    return 1 - (i1 - i0) / max(t1 - t0, 1)


def cmd_quiet(a):
    """Waits (up to --max seconds) until the machine is quiet: less than
    --threshold of the CPUs busy over a --window second sample. Nothing of
    ours runs meanwhile, so what is busy is someone else's work. Logs
    "NAME busy-fraction waited-seconds"."""
    start = time.monotonic()
    while True:
        busy = cpu_busy(a.window)
        waited = time.monotonic() - start
        if busy < a.threshold or waited >= a.max:
            break
    if busy >= a.threshold:
        print(f"note: the machine is still {busy:.0%} busy after {waited:.0f} s; measuring anyway", file=sys.stderr)
    elif waited > a.window * 1.5:
        print(f"waited {waited:.0f} s for a quiet machine", file=sys.stderr)
    if a.log:
        with open(a.log, "a") as f:
            f.write(f"{a.name} {busy:.3f} {waited:.0f}\n")


def timed(argv, sh):
    """Wall seconds of one run of argv (the shell command sh first, not
    timed); exits on a failed run."""
    prepare(sh)
    t0 = time.perf_counter()
    r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    secs = time.perf_counter() - t0
    exit_if_failed(argv, r.returncode, r.stderr)
    return secs


def cmd_paired(a):
    """Runs A and B alternately, A then B in even rounds and B then A in
    odd ones, so that both see the same machine: on a shared VM the speed
    drifts over minutes, and two timing groups run one after the other
    compare two different machines."""
    a_argv, b_argv = shlex.split(a.a), shlex.split(a.b)
    a_times, b_times = [], []
    for r in range(a.warmup + a.rounds):
        order = [(a_argv, a.a_prepare, a_times), (b_argv, a.b_prepare, b_times)]
        if r % 2:
            order.reverse()
        for argv, sh, times in order:
            secs = timed(argv, sh)
            if r >= a.warmup:
                times.append(secs)
    ratios = [b / x for x, b in zip(a_times, b_times)]
    out = {
        "warmup": a.warmup,
        "a": {"name": a.a_name, "command": a.a, "times": a_times},
        "b": {"name": a.b_name, "command": a.b, "times": b_times},
        "ratio_median": statistics.median(ratios),
        "ratios": ratios,
    }
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)
    print(
        f"{a.b_name} / {a.a_name}, {a.rounds} rounds side by side: median ratio "
        f"{out['ratio_median']:.2f} (medians {statistics.median(a_times):.3f} s and "
        f"{statistics.median(b_times):.3f} s)",
        file=sys.stderr,
    )


# --- file formats -------------------------------------------------------------


def uleb(b, p):
    v = s = 0
    while True:
        c = b[p]
        p += 1
        v |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return v, p


def covwrap_meta(path):
    """(total counters, [(first, count, key)]) from a covmeta file."""
    with open(path, "rb") as f:
        b = f.read()
    (n,) = struct.unpack_from("<I", b, 40)
    for i in range(n):
        kind, _mod, off, _len = struct.unpack_from("<IIQQ", b, 48 + 24 * i)
        if kind == 2:
            count, total = struct.unpack_from("<II", b, off)
            funcs = []
            for j in range(count):
                nr, fh, first, num = struct.unpack_from("<QQII", b, off + 8 + 24 * j)
                funcs.append((first, num, (nr, fh)))
            return total, funcs
    raise SystemExit(f"{path}: no funcs section")


def covwrap_counters(path):
    """Non-zero counter indices of a covcounters file."""
    with open(path, "rb") as f:
        b = f.read()
    (a,) = struct.unpack_from("<I", b, 64)
    pos = 72 + a
    pos += -pos % 8
    idx, out = -1, []
    while True:
        delta, pos = uleb(b, pos)
        if delta == 0:
            return out
        _v, pos = uleb(b, pos)
        idx += delta
        out.append(idx)


def go_counters(path):
    """(live functions, counters in the file, non-zero counters) of a Go
    covcounters file (ULEB flavor, one segment)."""
    with open(path, "rb") as f:
        b = f.read()
    if b[:4] != b"\x00cwm":
        raise SystemExit(f"{path}: not a Go counter file")
    ne, st, al = struct.unpack_from("<QII", b, 32)
    p = 48 + st + al
    funcs = ctrs = nz = 0
    for _ in range(ne):
        n, p = uleb(b, p)
        _, p = uleb(b, p)
        _, p = uleb(b, p)
        funcs += 1
        ctrs += n
        for _ in range(n):
            v, p = uleb(b, p)
            nz += v != 0
    return funcs, ctrs, nz


def summary(xs):
    return {"mean": statistics.fmean(xs), "min": min(xs), "max": max(xs)}


def cmd_stats(a):
    d = a.dir
    out = {}
    if a.kind == "covwrap":
        files = sorted(glob.glob(os.path.join(d, "covcounters.*")))
        metas = glob.glob(os.path.join(d, "covmeta.*"))
        total, funcs = covwrap_meta(metas[0])
        owner = [None] * total
        for first, num, key in funcs:
            for k in range(first, first + num):
                owner[k] = key
        out["meta_bytes"] = os.path.getsize(metas[0])
        out["total_counters"] = total
        out["func_entries"] = len(funcs)
        out["functions"] = len({k for _, _, k in funcs})
        live, nz = [], []
        for path in files[: a.sample]:
            idx = covwrap_counters(path)
            nz.append(len(idx))
            live.append(len({owner[k] for k in idx}))
        out["live_functions"] = summary(live)
        out["nonzero_counters"] = summary(nz)
    elif a.kind == "go":
        files = sorted(glob.glob(os.path.join(d, "covcounters.*")))
        metas = glob.glob(os.path.join(d, "covmeta.*"))
        out["meta_bytes"] = os.path.getsize(metas[0])
        if a.textfmt:
            with open(a.textfmt) as f:
                out["total_counters"] = sum(1 for line in f) - 1
        live, inf, nz = [], [], []
        for path in files[: a.sample]:
            fu, c, z = go_counters(path)
            live.append(fu)
            inf.append(c)
            nz.append(z)
        out["live_functions"] = summary(live)
        out["counters_in_file"] = summary(inf)
        out["nonzero_counters"] = summary(nz)
    else:
        files = sorted(glob.glob(os.path.join(d, "*.profraw")))
    sizes = [os.path.getsize(p) for p in files]
    out["files"] = len(files)
    out["bytes"] = sum(sizes)
    out["file_bytes"] = summary(sizes) if sizes else None
    json.dump(out, sys.stdout, indent=1)
    print()


# --- the report -----------------------------------------------------------------


def cmd_doc(a):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.dont_write_bytecode = True  # no __pycache__ next to the scripts
    import report_doc  # noqa: E402  (kept separate: it is long)
    from benchlib import publish  # noqa: E402

    publish(report_doc.render(a.results), a.doc, "report")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("runs")
    r.add_argument("--kind", choices=["rg", "go"], required=True)
    r.add_argument("--bin", required=True)
    r.add_argument("--input")
    r.add_argument("--first", type=int, default=0)
    r.add_argument("--count", type=int, required=True)
    r.add_argument("--jobs", type=int, default=2)
    r.add_argument("--env", action="append", default=[])
    r.add_argument("--log", help="append 'NAME first count seconds' to this file")
    r.add_argument("--log-name", default="runs")
    g = sub.add_parser("rg-args")
    g.add_argument("index", type=int)
    g.add_argument("--input", default="INPUT")
    s = sub.add_parser("rss")
    s.add_argument("--out", required=True)
    s.add_argument("--label", required=True)
    s.add_argument("--repeat", type=int, default=3)
    s.add_argument("--prepare", help="shell command run before each run (not measured)")
    s.add_argument("--via-time", action="store_true", help="measure through GNU time (no Python floor)")
    s.add_argument("command", nargs=argparse.REMAINDER)
    t = sub.add_parser("stats")
    t.add_argument("--kind", choices=["covwrap", "go", "profraw"], required=True)
    t.add_argument("--sample", type=int, default=100, help="counter files to analyse")
    t.add_argument("--textfmt", help="Go: a textfmt output, to count the counters")
    t.add_argument("dir")
    q = sub.add_parser("quiet")
    q.add_argument("--max", type=float, default=300)
    q.add_argument("--threshold", type=float, default=0.15)
    q.add_argument("--window", type=float, default=3)
    q.add_argument("--log")
    q.add_argument("--name", default="")
    pr = sub.add_parser("paired")
    pr.add_argument("--out", required=True, help="JSON: both commands' times and the ratios")
    pr.add_argument("--rounds", type=int, default=10)
    pr.add_argument("--warmup", type=int, default=2, help="rounds run first, not recorded")
    pr.add_argument("--a-name", required=True)
    pr.add_argument("--a", required=True, help="command A (split as a shell would, run without one)")
    pr.add_argument("--a-prepare", help="shell command run before each run of A (not timed)")
    pr.add_argument("--b-name", required=True)
    pr.add_argument("--b", required=True)
    pr.add_argument("--b-prepare")
    d = sub.add_parser("doc")
    d.add_argument("--results", required=True)
    d.add_argument("--doc")
    a = ap.parse_args()
    if a.cmd == "runs":
        cmd_runs(a)
    elif a.cmd == "rg-args":
        print(" ".join(rg_args(a.index, a.input)))
    elif a.cmd == "rss":
        cmd_rss(a)
    elif a.cmd == "quiet":
        cmd_quiet(a)
    elif a.cmd == "paired":
        cmd_paired(a)
    elif a.cmd == "stats":
        cmd_stats(a)
    else:
        cmd_doc(a)


if __name__ == "__main__":
    main()
