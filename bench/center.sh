#!/usr/bin/env bash
# bench/center.sh: how `covdata serve` scales with the number of agents:
# profile latency and the center's memory for 10, 100 and 1,000 simulated
# agents speaking the protocol (covdata/examples/simagents.rs).
#
#     bench/center.sh
#
# The goal it checks: a profile of 1,000 agents in under 1 s on a 2-core
# machine (goc's center fetches its agents one after another without a
# timeout; the "one at a time" column shows what that costs at the same
# scale: M one-agent profiles in a row, scaled to N agents).
#
# For each counter shape and each N, a fresh release `covdata serve
# --store=memory` (and, for N = 1,000, `--store=DIR` as well) is started;
# simagents registers N agents (each uploads its meta file if the center
# lacks it, then long-polls), times PROFILES profiles of all of them
# (`GET /v1/profile`, the covbundle read to the end and decoded), and then
# SERIAL one-agent profiles in a row. The center's peak RSS (VmHWM) is
# read from /proc after the profiles. Shapes:
#
# - service: examples/service built with covwrap (release), its meta file
#   and the counters of a run that served a few requests (real data, a few
#   hundred counters);
# - ripgrep-sized: 27,750 counters with every sixth non-zero (ripgrep with
#   every crate instrumented has 27,740; one search leaves about 17%).
#
# simagents and the center share the machine's two cores, as agents and a
# center on one host would. Before each N it waits (up to QUIET_MAX s) for
# other processes to leave the CPUs (report_tool.py quiet), and notes how
# busy the machine was.
#
# Results go to the terminal and to docs/BENCHMARKS.md between the
# `<!-- center:begin -->` and `<!-- center:end -->` markers (NO_DOC=1:
# print only). Scratch lives in bench/work/center (gitignored). Needs
# cargo/rustc and python3; installs nothing. Time: the release builds, then
# about a minute. Knobs: PROFILES (7), SERIAL (100), QUIET_MAX (120).

set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
cd "$ROOT"
W=bench/work/center
PROFILES="${PROFILES:-7}"
SERIAL="${SERIAL:-100}"
QUIET_MAX="${QUIET_MAX:-120}"
RESULTS="$W/results"
TOOL=(python3 "$BENCH/report_tool.py")

# shellcheck source=bench/lib.sh
source "$BENCH/lib.sh"
CLEAN_ENV+=(-u COVWRAP_CENTER -u COVWRAP_SERVICE -u COVWRAP_CENTER_TOKEN -u COVDATA_CENTER_TOKEN)

for tool in cargo rustc python3; do
    command -v "$tool" >/dev/null || die "missing: $tool"
done
mkdir -p "$RESULTS"
rm -f "$RESULTS"/*
# Each agent holds a long poll open: 1,000 agents need more than 1,024 fds.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
(( $(ulimit -n) >= 4096 )) || die "need at least 4096 open files (ulimit -n), have $(ulimit -n)"

CENTER_PID=
SVC_PID=
cleanup() {
    [[ -n "$CENTER_PID" ]] && kill "$CENTER_PID" 2>/dev/null || true
    [[ -n "$SVC_PID" ]] && kill "$SVC_PID" 2>/dev/null || true
    wait 2>/dev/null || true
}
trap cleanup EXIT

say "building covwrap, covdata and simagents (release)"
"${CLEAN_ENV[@]}" cargo build --release -q -p covwrap -p covdata --bin covdata --example simagents
COVDATA="$ROOT/target/release/covdata"
SIM="$ROOT/target/release/examples/simagents"

say "building examples/service with covwrap and recording one run"
rm -rf "$W/service" && cp -r examples/service "$W/service" && rm -rf "$W/service/target"
(cd "$W/service" && "${CLEAN_ENV[@]}" CARGO_TARGET_DIR="$ROOT/$W/target-service" \
    RUSTC_WRAPPER="$ROOT/target/release/covwrap" COVWRAP_CACHE_DIR="$ROOT/$W/cache" cargo build --release -q)
rm -rf "$W/svc-run" && mkdir -p "$W/svc-run"
"${CLEAN_ENV[@]}" COVDIR="$ROOT/$W/svc-run" "$W/target-service/release/service" 127.0.0.1:0 >"$W/svc.out" &
SVC_PID=$!
for _ in $(seq 100); do grep -q listening "$W/svc.out" && break; sleep 0.05; done
SVC_URL=$(sed -n 's/^listening on //p' "$W/svc.out")
python3 - "$SVC_URL" <<'PY'
import sys, urllib.request
base = sys.argv[1]
for path in ["/hello?name=x", "/sum?a=1&b=2", "/stats", "/health", "/nope"]:
    try:
        urllib.request.urlopen(base + path).read()
    except Exception:
        pass
PY
kill -TERM "$SVC_PID"; wait "$SVC_PID" 2>/dev/null || true; SVC_PID=
ls "$W/svc-run"/covcounters.* >/dev/null || die "the service run left no counter file"

# run_one SHAPE N STORE: one center, N agents; appends a JSON line.
run_one() {
    local shape="$1" n="$2" store="$3" src
    case "$shape" in
    service) src=(--covdir="$ROOT/$W/svc-run") ;;
    ripgrep) src=(--synthetic=27750) ;;
    esac
    local storearg=memory
    if [[ "$store" == disk ]]; then rm -rf "$W/store"; storearg="$ROOT/$W/store"; fi
    quiet "$shape.$n.$store"
    "${CLEAN_ENV[@]}" "$COVDATA" serve --addr=127.0.0.1:0 --store="$storearg" --exit-after=600s >"$W/center.out" 2>"$W/center.err" &
    CENTER_PID=$!
    for _ in $(seq 100); do grep -q listening "$W/center.out" && break; sleep 0.05; done
    local url="http://$(sed -n 's/^listening on //p' "$W/center.out")"
    local serial=$SERIAL
    ((serial > n)) && serial=$n
    local t0 t1
    t0=$(awk '{print $14+$15}' "/proc/$CENTER_PID/stat")
    "$SIM" --center="$url" "${src[@]}" --agents="$n" --profiles="$PROFILES" --serial="$serial" >"$W/sim.json"
    t1=$(awk '{print $14+$15}' "/proc/$CENTER_PID/stat")
    local hwm
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$CENTER_PID/status")
    kill -TERM "$CENTER_PID"; wait "$CENTER_PID" 2>/dev/null || true; CENTER_PID=
    python3 - "$W/sim.json" "$shape" "$store" "$hwm" "$((t1 - t0))" "$(getconf CLK_TCK)" >>"$RESULTS/rows.jsonl" <<'PY'
import json, sys
row = json.load(open(sys.argv[1]))
row.update(shape=sys.argv[2], store=sys.argv[3], center_hwm_kb=int(sys.argv[4]),
           center_cpu_s=int(sys.argv[5]) / int(sys.argv[6]))
print(json.dumps(row))
PY
    tail -1 "$RESULTS/rows.jsonl" >&2
}

for shape in service ripgrep; do
    for n in 10 100 1000; do
        say "$shape: $n agents"
        run_one "$shape" "$n" memory
    done
    say "$shape: 1000 agents, disk store"
    run_one "$shape" 1000 disk
done

cat /proc/loadavg >"$RESULTS/loadavg"
if [[ "${NO_DOC:-}" == 1 ]]; then
    python3 "$BENCH/center_doc.py" --results "$RESULTS"
else
    python3 "$BENCH/center_doc.py" --results "$RESULTS" --doc docs/BENCHMARKS.md
fi
