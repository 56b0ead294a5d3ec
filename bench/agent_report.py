"""bench/agent_report.py: summarises bench/agent.sh's results and writes the
`agent` region of docs/BENCHMARKS.md.

    python3 bench/agent_report.py RESULTS ROUNDS SECONDS CONNECTIONS SNAPS [--no-doc]
"""

import glob
import os
import platform
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from doc_region import replace_region  # noqa: E402

VARIANTS = [
    ("plain", "plain build (no covwrap)"),
    ("no-agent", "covwrap, no center (COVDIR unset)"),
    ("agent-idle", "covwrap, agent connected and idle"),
]


def pct(sorted_values, p):
    return sorted_values[min(len(sorted_values) - 1, int(p / 100 * len(sorted_values)))]


def read_numbers(path):
    with open(path) as f:
        return [int(line) for line in f if line.strip()]


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    no_doc = "--no-doc" in sys.argv
    results, rounds, seconds, connections, snaps = args[0], int(args[1]), float(args[2]), int(args[3]), int(args[4])
    lines = []
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    lines.append("## The center agent: service latency and snapshot time\n")
    lines.append(
        f"`bench/agent.sh` on {os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}, {rustc}; "
        "the load generator, the service, the center and the agent share the machine.\n"
    )
    lines.append(
        f"**Added latency.** `examples/service` (release) under a closed-loop load: {connections} connections, "
        f"one `GET /hello` per TCP connection (the service closes each), {seconds:g} s per round, {rounds} interleaved "
        "rounds per variant, latency from connect to the end of the answer (`bench/agent_load.rs`).\n"
    )
    lines.append("| variant | requests/s | mean | p50 | p90 | p99 | p99.9 |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|")
    summary = {}
    for key, label in VARIANTS:
        values = []
        for path in sorted(glob.glob(os.path.join(results, f"lat.{key}.*"))):
            values += read_numbers(path)
        if not values:
            continue
        values.sort()
        rps = len(values) / (rounds * seconds)
        summary[key] = statistics.mean(values)
        lines.append(
            f"| {label} | {rps:,.0f} | {statistics.mean(values):.0f} µs | {pct(values, 50)} µs | {pct(values, 90)} µs "
            f"| {pct(values, 99)} µs | {pct(values, 99.9)} µs |"
        )
    lines.append("")
    if "no-agent" in summary and "agent-idle" in summary:
        added = summary["agent-idle"] - summary["no-agent"]
        lines.append(
            f"- Agent connected and idle vs no center: {added:+.0f} µs on the mean "
            f"({added / summary['no-agent'] * 100:+.1f}%)."
        )
    ticks_path = os.path.join(results, "agent-ticks")
    if os.path.exists(ticks_path):
        ticks = read_numbers(ticks_path)
        hz = os.sysconf("SC_CLK_TCK")
        lines.append(
            f"- CPU time of the `covwrap-agent` thread over a whole run (start, registration, warmup and "
            f"{seconds:g} s of load): {max(ticks) * 1000 / hz:.0f} ms at most (clock ticks of {1000 / hz:.0f} ms); "
            "it sleeps in the long poll's `recv`, and the program's threads do nothing for it."
        )
    load_path = os.path.join(results, "loadavg")
    if os.path.exists(load_path):
        loads = [float(line.split()[3]) for line in open(load_path) if line.startswith("latency")]
        if loads:
            lines.append(
                f"- 1-minute load average at the start of each run: {min(loads):.2f} to {max(loads):.2f} "
                "(each round first waited for a quiet machine; other processes still ran)."
            )
    lines.append("")
    lines.append(
        f"**Snapshot time.** A generated program with ripgrep's number of counters (27,750; ripgrep 15.2.0 with all "
        f"crates instrumented has 27,740) runs with an agent; `covdata profile --center=URL --service=S -o=DIR` is timed "
        f"{snaps} times after one warmup, end to end: the client's request, the center's `snapshot` command through the "
        "agent's long poll, the agent reading and encoding the counters and uploading them, the center's bundle with the "
        "meta file, and the client writing the COVDIR. `covdata agents` (one round trip, no agent involved) is the baseline.\n"
    )
    lines.append("| case | counters non-zero | covcounters size | mean | median | min | max |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|")
    for key, label in [("baseline", "`covdata agents` (baseline)"), ("part", "17% of the functions ran"), ("all", "every counter non-zero")]:
        path = os.path.join(results, f"snap.{key}")
        if not os.path.exists(path):
            continue
        v = [x / 1000 for x in read_numbers(path)]
        nonzero, size, meta = "–", "–", None
        info = os.path.join(results, f"snapinfo.{key}")
        if os.path.exists(info):
            for row in open(info):
                cells = row.split()
                if cells[0] == "meta":
                    meta = int(cells[1])
                elif len(cells) == 3:
                    size = f"{int(cells[0]) / 1024:.1f} KiB"
                    nonzero = f"{int(cells[2]):,} of {int(cells[1]):,}"
        lines.append(
            f"| {label} | {nonzero} | {size} | {statistics.mean(v):.1f} ms | {statistics.median(v):.1f} ms "
            f"| {min(v):.1f} ms | {max(v):.1f} ms |"
        )
        if meta:
            meta_note = meta
    lines.append("")
    try:
        lines.append(f"- Each profile also carries the program's meta file ({meta_note / 1024:.0f} KiB).")
    except NameError:
        pass
    text = "\n".join(lines) + "\n"
    print(text)
    if not no_doc:
        replace_region(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "BENCHMARKS.md"), "agent", text)


if __name__ == "__main__":
    main()
