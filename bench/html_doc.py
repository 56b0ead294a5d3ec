"""bench/html.sh's helper.

  html_doc.py check --index INDEX.html --percent PERCENT.txt
      exits non-zero unless the index's total row (covered/total of lines,
      regions, functions and branches) equals `covdata percent`'s total line.
  html_doc.py doc --results DIR [--doc docs/BENCHMARKS.md]
      renders the section from the results directory (info, hf.html.*.json,
      paired.*.json, rss.tsv, sizes, cov-percent.txt, llvm-report.txt, check) and, with
      --doc, puts it in the `html` region through doc_region.
"""

import argparse
import json
import os
import re
import sys
from statistics import median

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


def paired(results, kind):
    """paired.KIND.json (bench/report_tool.py paired) with its medians, or
    None."""
    path = os.path.join(results, f"paired.{kind}.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        p = json.load(f)
    p["a"]["median"], p["b"]["median"] = median(p["a"]["times"]), median(p["b"]["times"])
    return p


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
        "covdata html, replacing a report of other runs": "covdata",
        "covdata html, fresh directory": "covdata",
        "covdata html, one CPU": "covdata",
        "covdata pkglist (loading only)": None,
        "llvm-cov show -format=html": "llvm",
        "llvm-cov show -format=html -num-threads=2": "llvm",
        "llvm-cov show -format=html, fresh directory": "llvm",
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
        fresh = hf.get("covdata html, fresh directory")
        llvm_fresh = hf.get("llvm-cov show -format=html, fresh directory")
        side, side_fresh = paired(results, "replace"), paired(results, "fresh")
        side_other = paired(results, "other")

        def verdict(x):
            return f"{x:.1f}× ({'met' if x >= GOAL else 'NOT met'})"

        w(f"Goal: `covdata html` at least {GOAL:.0f}× faster than `llvm-cov show -format=html`")
        if side:
            w(
                f", measured side by side (the two commands alternated, {len(side['ratios'])} rounds "
                f"after {side.get('warmup', 2)} warmup rounds; the median of the per-round ratios): "
                f"{verdict(side['ratio_median'])} when each run replaces the previous report, as "
                "each llvm-cov run replaces its own (covdata then renders no page: each one's "
                "fingerprint, its source and numbers, is the one recorded, so it is hard-linked "
                "from the previous report)"
            )
            for p, what, kept in [
                (
                    side_other,
                    "when covdata replaces a report of half the runs",
                    "the pages whose numbers differ are rendered and written, the others kept; ",
                ),
                (side_fresh, "into a fresh directory, both tools", "every page a new file; "),
            ]:
                if p:
                    w(
                        f"; {verdict(p['ratio_median'])} {what} ({kept}medians "
                        f"{p['a']['median']:.3f} s and {p['b']['median']:.3f} s)"
                    )
            w(
                ". The table's groups ran one after another, each on the machine of its own "
                "minutes (this shared VM's speed drifts by tens of percent over minutes); their "
                f"ratios of medians are {llvm[0] / ours[0]:.1f}×"
            )
            if fresh and llvm_fresh:
                w(f" and {llvm_fresh[0] / fresh[0]:.1f}×")
        else:
            w(f": {verdict(llvm[0] / ours[0])} (ratio of medians) when each run replaces the previous report")
        w(f". covdata's times include reading the {info['n']} counter files, llvm-cov's exclude the merge.\n\n")
        if fresh:
            w(
                "Fresh directory: before each run the previous run's directory is moved aside, and "
                "the bench removes nothing until the timings end. ext4 without a journal, as on "
                "this VM's disk, does not reuse an inode freed in the last 60 s (360 s while its "
                "inode table block is dirty) and checks every such inode for each file it creates, "
                "so a loop of `rm -rf` and some 300 new files slows down run after run (see "
                "bench/html.sh); a CI job's one report pays none of it.\n\n"
            )
        load = hf.get("covdata pkglist (loading only)")
        whole = fresh or ours
        if load:
            w(
                f"Of covdata html's {whole[0]:.3f} s{' into a fresh directory' if fresh else ''}, "
                f"{load[0]:.3f} s is what every covdata report "
                "pays before writing anything (loading the COVDIR, decoding ripgrep's names, "
                "filename tables and mappings: `covdata pkglist` does only that); the pages take "
                f"the other {max(whole[0] - load[0], 0):.3f} s. With that fixed cost, no covdata report "
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
