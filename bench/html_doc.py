"""bench/html.sh's helper.

  html_doc.py check --index INDEX.html --percent PERCENT.txt
      exits non-zero unless the index's total row (covered/total of lines,
      regions, functions and branches) equals `covdata percent`'s total line.
  html_doc.py doc --results DIR [--doc docs/BENCHMARKS.md]
      renders the section from the results directory (info, hf.html.*.json,
      rss.tsv, sizes, cov-percent.txt, llvm-report.txt, check) and, with
      --doc, puts it in the `html` region through doc_region.
"""

import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ next to the scripts
from benchlib import publish, read_info  # noqa: E402
from benchlib import result_lines as lines  # noqa: E402

GOAL = 5.0  # covdata html at least this many times faster than llvm-cov show


def index_totals(path):
    with open(path) as f:
        html = f.read()
    at = html.index('id="total"')
    row = html[at : html.index("</tr>", at)]
    return [(int(c), int(t)) for c, t in re.findall(r'data-c="(\d+)" data-t="(\d+)"', row)]


def percent_totals(path):
    with open(path) as f:
        total = next(line for line in f if line.startswith("total"))
    return [(int(c), int(t)) for c, t in re.findall(r"\((\d+)/(\d+)\)", total)]


def cmd_check(a):
    ours, theirs = index_totals(a.index), percent_totals(a.percent)
    if ours != theirs:
        sys.exit(f"index total {ours} != percent total {theirs}")
    print("ok " + " ".join(f"{c}/{t}" for c, t in ours))


def hyperfine(results):
    """name -> (median, mean, stddev, min, runs) over every hf.html.*.json."""
    out = {}
    for name in sorted(os.listdir(results)):
        if not (name.startswith("hf.html.") and name.endswith(".json")):
            continue
        with open(os.path.join(results, name)) as f:
            for r in json.load(f)["results"]:
                out[r["command"]] = (
                    r["median"],
                    r["mean"],
                    r.get("stddev") or 0.0,
                    r["min"],
                    len(r["times"]),
                )
    return out


def render(results):
    info = read_info(results)
    hf = hyperfine(results)
    rss = {}
    for line in lines(results, "rss.tsv"):
        label, med, _mx, _secs = line.split("\t")
        rss[label] = int(med)
    sizes = {}
    lcov_files = None
    for line in lines(results, "sizes"):
        parts = line.split()
        if parts[0] == "lcov":
            lcov_files = int(parts[1])
        else:
            sizes[parts[0]] = (int(parts[1]), int(parts[2]))
    ours = hf.get("covdata html")
    llvm = hf.get("llvm-cov show -format=html")
    out = []
    w = out.append
    w("## HTML reports (bench/html.sh)\n\n")
    w(
        f"ripgrep {info['rg_version']} built with covwrap (`COVWRAP_PKG='*'`: ripgrep and every "
        f"dependency instrumented; {lcov_files} source files), run {info['n']} times "
        "(bench/report.sh's arguments and input) into a COVDIR. "
        "`covdata html` reads that COVDIR; `llvm-cov-22 show -format=html` reads the same runs as "
        "one merged profile (`covdata profraw` + `llvm-profdata merge -sparse`, not timed) with the "
        "same binary as its object; genhtml reads `covdata lcov` of the COVDIR (not timed). "
        f"hyperfine, {info['warmup']} warmup run(s); {info['nproc']} CPUs ({info['cpu']}), "
        f"{info['mem']}, {info['kernel']}; {info['date']}; commit {info['commit']}; "
        f"{info['rustc']}; {info['llvm']}; {info['genhtml']}.\n\n"
    )
    w(
        "| command | median (s) | mean ± σ (s) | min (s) | runs | vs covdata html | peak RSS (MiB) "
        "| files | MB written |\n"
    )
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
    written = {
        "covdata html": "covdata",
        "covdata html, fresh directory": "covdata",
        "covdata html, one CPU": "covdata",
        "covdata pkglist (loading only)": None,
        "llvm-cov show -format=html": "llvm",
        "llvm-cov show -format=html -num-threads=2": "llvm",
        "genhtml": "genhtml",
    }
    for name in written:
        if name not in hf:
            continue
        median, mean, sd, mn, runs = hf[name]
        ratio = f"{median / ours[0]:.1f}×" if ours else "-"
        mem = f"{rss[name] / 1024:.0f}" if name in rss else "-"
        times = f"| `{name}` | {median:.3f} | {mean:.3f} ± {sd:.3f} | {mn:.3f} | {runs} | {ratio} | {mem} "
        if written[name] is None:
            w(times + "| - | - |\n")
            continue
        files, size = sizes.get(written[name], (0, 0))
        w(times + f"| {files} | {size / 1e6:.1f} |\n")
    w("\n")
    if ours and llvm:
        speedup = llvm[0] / ours[0]
        verdict = "met" if speedup >= GOAL else "NOT met"
        fresh = hf.get("covdata html, fresh directory")
        w(
            f"Goal: `covdata html` at least {GOAL:.0f}× faster than `llvm-cov show -format=html`: "
            f"{speedup:.1f}× ({verdict}) when each run replaces the previous report, as each "
            "llvm-cov run replaces its own (covdata then keeps the pages whose bytes did not "
            "change, hard-linked, and renders all of them)"
        )
        if fresh:
            f_speedup = llvm[0] / fresh[0]
            f_verdict = "met" if f_speedup >= GOAL else "NOT met"
            w(f"; {f_speedup:.1f}× ({f_verdict}) into a fresh directory, every page written")
        w(
            f". Ratios are of medians (a run slowed by another process on this shared machine "
            "moves a mean of a few runs, not a median). covdata's times include reading the "
            f"{info['n']} counter files, llvm-cov's exclude the merge.\n\n"
        )
        load = hf.get("covdata pkglist (loading only)")
        if load:
            w(
                f"Of covdata html's {ours[0]:.3f} s, {load[0]:.3f} s is what every covdata report "
                "pays before writing anything (loading the COVDIR, decoding ripgrep's names, "
                "filename tables and mappings: `covdata pkglist` does only that); the pages take "
                f"the other {max(ours[0] - load[0], 0):.3f} s. With that fixed cost, no covdata report "
                f"could be more than {llvm[0] / load[0]:.1f}× faster than llvm-cov show here.\n\n"
            )
    check = lines(results, "check")
    percent = lines(results, "cov-percent.txt")
    total = next((l for l in percent if l.startswith("total")), "")
    llvm_total = next((l for l in lines(results, "llvm-report.txt") if l.startswith("TOTAL")), "")
    w(
        "Check: the total row of covdata's index equals `covdata percent`'s total "
        f"({check[0] if check else 'not run'}):\n\n"
    )
    w("```\n" + re.sub(r"\s+", " ", total).strip() + "\n")
    w("llvm-cov report: " + re.sub(r"\s+", " ", llvm_total).strip() + "\n```\n\n")
    w(
        "Page weight: covdata writes one page per source file plus an index, a stylesheet and a "
        "script shared by all pages (each page's counts, spans and function list are in its HTML); "
        "llvm-cov writes one page per source file with every instantiation of each generic "
        "function shown in full; genhtml writes a page per file and per directory plus images.\n"
    )
    return "".join(out)


def cmd_doc(a):
    publish(render(a.results), a.doc, "html")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("--index", required=True)
    c.add_argument("--percent", required=True)
    d = sub.add_parser("doc")
    d.add_argument("--results", required=True)
    d.add_argument("--doc")
    a = ap.parse_args()
    cmd_check(a) if a.cmd == "check" else cmd_doc(a)


if __name__ == "__main__":
    main()
