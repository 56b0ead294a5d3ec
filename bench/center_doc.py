"""Turns bench/center.sh's results into its section of docs/BENCHMARKS.md
(the `center` region, through bench/doc_region.py) or prints it."""

import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from doc_region import replace_region  # noqa: E402


def section(rows, quiet):
    out = []
    out.append("## The center: profile latency and memory against the number of agents\n\n")
    out.append(
        "`bench/center.sh`: a release `covdata serve` and N simulated agents "
        "(`covdata/examples/simagents.rs`, the agent side of docs/CENTER.md over real "
        "HTTP on 127.0.0.1) on the same 2-core machine. Each row is one fresh center; "
        "\"profile\" is `GET /v1/profile` of all N agents (every agent snapshotted at once, "
        "the covbundle read and decoded), median and worst of the runs; \"one at a time\" is "
        "M one-agent profiles in a row scaled to N (what a center that fetches agents "
        "serially, as goc's does, pays at best: goc itself is not run here, since it cannot be "
        "installed on this machine without fetching it, and its fetches have no timeout besides); "
        "\"center RSS\" is its peak (VmHWM); \"center CPU\" is its user+system time over the whole row "
        "(registration, every profile, the one-at-a-time profiles).\n\n"
    )
    out.append(
        "| counters per agent | agents | store | profile median | profile worst | one at a time (scaled) | bundle | center RSS | center CPU |\n"
        "|---|---:|---|---:|---:|---:|---:|---:|---:|\n"
    )
    for r in rows:
        shape = "service example ({} counters)".format(r["counters"]) if r["shape"] == "service" else "ripgrep-sized ({} counters, 1/6 non-zero)".format(r["counters"])
        serial = "-"
        if r.get("serial_ms") and r.get("serial_profiles"):
            serial = "{:.0f} ms".format(r["serial_ms"] / r["serial_profiles"] * r["agents"])
        out.append(
            "| {} | {:,} | {} | {:.0f} ms | {:.0f} ms | {} | {:.1f} MB | {:.0f} MB | {:.2f} s |\n".format(
                shape,
                r["agents"],
                r["store"],
                r["median_ms"],
                max(r["profile_ms"]),
                serial,
                r["bundle_bytes"] / 1e6,
                r["center_hwm_kb"] / 1024,
                r["center_cpu_s"],
            )
        )
    big = [r for r in rows if r["agents"] == 1000]
    if big:
        worst = max(r["median_ms"] for r in big)
        verdict = "met" if worst < 1000 else "not met"
        out.append(
            "\nGoal (1,000 agents in under 1 s): {} — the slowest 1,000-agent median is {:.0f} ms. "
            "Skipped agents in every run: {}.\n".format(verdict, worst, sum(r["skipped"] for r in rows))
        )
    if quiet:
        out.append("\nMachine load while measuring (busy fraction of the CPUs before each row): {}.\n".format(quiet))
    return "".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--doc")
    a = ap.parse_args()
    rows = [json.loads(l) for l in open(os.path.join(a.results, "rows.jsonl")) if l.strip()]
    quiet = ""
    qpath = os.path.join(a.results, "quiet")
    if os.path.exists(qpath):
        busy = [float(l.split()[1]) for l in open(qpath) if len(l.split()) >= 2]
        if busy:
            quiet = "median {:.0%}, worst {:.0%}".format(statistics.median(busy), max(busy))
    text = section(rows, quiet)
    if a.doc:
        replace_region(a.doc, "center", text)
    print(text)


if __name__ == "__main__":
    main()
