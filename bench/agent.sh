#!/usr/bin/env bash
# bench/agent.sh: what the center agent (COVWRAP_CENTER) costs a running
# service, and how long a snapshot of ripgrep-sized counters takes.
#
#     bench/agent.sh
#
# 1. Added latency: examples/service, built with covwrap (release), under a
#    closed-loop load (bench/agent_load.rs: CONNECTIONS threads, one request
#    per connection, GET /hello) for SECONDS per round, in ROUNDS interleaved
#    rounds of three variants: plain build (no covwrap), covwrap without a
#    center (COVDIR unset), covwrap with its agent connected to a
#    `covdata serve` and idle in its long poll.
# 2. Snapshot: a generated program with about ripgrep's number of counters
#    (27,750; ripgrep 15.2.0 with all crates instrumented has 27,740) is
#    started with an agent; `covdata profile --center -o=DIR` is timed
#    SNAPS times with all counters non-zero and with 17% non-zero (what one
#    ripgrep search leaves), against `covdata agents` (a round trip to the
#    center without any agent) as the baseline.
#
# Results go to the terminal and to docs/BENCHMARKS.md between the
# `<!-- agent:begin -->` and `<!-- agent:end -->` markers (NO_DOC=1: print
# only). Everything it builds lives in bench/work/agent (gitignored).
# Needs cargo/rustc and python3; installs nothing. Time: the release builds
# (a few minutes on 2 cores the first time), then ROUNDS x 3 x SECONDS of
# load and a few seconds of snapshots.
#
# Every round and the snapshot group first wait (up to QUIET_MAX seconds,
# 300) for a quiet machine (bench/lib.sh's quiet); the load averages seen
# are in the report.
#
# Knobs: ROUNDS (5), SECONDS_PER_ROUND (4), CONNECTIONS (2), SNAPS (20),
# QUIET_MAX (300; 0: do not wait), NO_DOC=1.

set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
cd "$ROOT"
W=bench/work/agent
ROUNDS="${ROUNDS:-5}"
SECONDS_PER_ROUND="${SECONDS_PER_ROUND:-4}"
CONNECTIONS="${CONNECTIONS:-2}"
SNAPS="${SNAPS:-20}"
QUIET_MAX="${QUIET_MAX:-300}"
TOOL=(python3 "$BENCH/report_tool.py")

# shellcheck source=bench/lib.sh
source "$BENCH/lib.sh"
CLEAN_ENV+=(-u COVWRAP_CENTER -u COVWRAP_SERVICE -u COVWRAP_CENTER_TOKEN -u COVDATA_CENTER_TOKEN)

for tool in cargo rustc python3; do
    command -v "$tool" >/dev/null || die "missing: $tool"
done
mkdir -p "$W/results"
R="$W/results"
RESULTS="$R"
rm -rf "${R:?}"/*

PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

# --- builds ------------------------------------------------------------------
say "building covwrap and covdata (release)"
"${CLEAN_ENV[@]}" cargo build --release -q -p covwrap -p covdata
COVWRAP_BIN="$ROOT/target/release/covwrap"
COVDATA="$ROOT/target/release/covdata"
rustc -O --edition 2021 -o "$W/agent_load" "$BENCH/agent_load.rs"

build() { # build SRC_DIR TARGET_DIR WRAPPED(0/1)
    local env=("${CLEAN_ENV[@]}" CARGO_TARGET_DIR="$ROOT/$2")
    if (($3)); then env+=(RUSTC_WRAPPER="$COVWRAP_BIN" COVWRAP_CACHE_DIR="$ROOT/$W/cache"); fi
    (cd "$1" && "${env[@]}" cargo build --release -q)
}
say "building examples/service (plain and with covwrap)"
rm -rf "$W/service" && cp -r examples/service "$W/service" && rm -rf "$W/service/target"
build "$W/service" "$W/target-service-plain" 0
build "$W/service" "$W/target-service-covwrap" 1

say "generating and building the wide program (about 27,750 counters)"
python3 - "$W/wide" <<'PY'
import os, sys
d = sys.argv[1]
os.makedirs(f"{d}/src", exist_ok=True)
n = 9250
with open(f"{d}/Cargo.toml", "w") as f:
    f.write('[package]\nname = "wide"\nversion = "0.1.0"\nedition = "2021"\n\n[workspace]\n')
with open(f"{d}/src/main.rs", "w") as f:
    f.write("use std::hint::black_box;\n")
    for k in range(n):
        f.write(f"#[inline(never)] fn f{k}(x: u64) -> u64 {{ if x % 2 == 0 {{ x / 2 }} else if x % 3 == 0 {{ x + {k} }} else {{ x * 3 + 1 }} }}\n")
    f.write(f"const FNS: [fn(u64) -> u64; {n}] = [{', '.join(f'f{k}' for k in range(n))}];\n")
    f.write("""
fn main() {
    // "all": every counter non-zero; "part": 17% of the functions.
    let all = std::env::args().nth(1).as_deref() == Some("all");
    let mut s = 0;
    for (k, f) in FNS.iter().enumerate() {
        if all || k % 6 == 0 {
            for x in [2u64, 3, 5] {
                s += f(black_box(x));
            }
        }
    }
    println!("ready {s}");
    std::thread::sleep(std::time::Duration::from_secs(3600));
}
""")
PY
build "$W/wide" "$W/target-wide" 1

# --- the center ----------------------------------------------------------------
start_center() {
    "${CLEAN_ENV[@]}" "$COVDATA" serve --addr=127.0.0.1:0 --store=memory >"$R/center.out" 2>"$R/center.err" &
    PIDS+=($!)
    local i
    for i in $(seq 100); do
        if grep -q '^listening on ' "$R/center.out" 2>/dev/null; then break; fi
        sleep 0.05
    done
    CENTER="http://$(sed -n 's/^listening on //p' "$R/center.out" | head -1)"
    [[ "$CENTER" != "http://" ]] || die "covdata serve did not start: $(cat "$R/center.err")"
}
start_center

# wait_registered PID: until the center lists an agent with this pid.
wait_registered() {
    local i
    for i in $(seq 200); do
        if "$COVDATA" agents --center="$CENTER" | grep -qw "$1"; then return 0; fi
        sleep 0.05
    done
    die "pid $1 never registered with $CENTER"
}

# --- 1. latency under load -----------------------------------------------------
# run_service VARIANT ROUND: starts the service, loads it, stops it.
run_service() {
    local variant="$1" round="$2" exe env=("${CLEAN_ENV[@]}")
    case "$variant" in
    plain) exe="$W/target-service-plain/release/service" ;;
    no-agent) exe="$W/target-service-covwrap/release/service"; env+=(COVWRAP_QUIET=1) ;;
    agent-idle) exe="$W/target-service-covwrap/release/service"; env+=(COVWRAP_CENTER="$CENTER" COVWRAP_SERVICE=bench) ;;
    esac
    "${env[@]}" "$exe" 127.0.0.1:0 >"$R/svc.out" 2>"$R/svc.err" &
    local pid=$! i
    for i in $(seq 100); do
        grep -q '^listening on ' "$R/svc.out" 2>/dev/null && break
        sleep 0.05
    done
    local addr
    addr="$(sed -n 's|^listening on http://||p' "$R/svc.out")"
    [[ -n "$addr" ]] || die "service did not start: $(cat "$R/svc.err")"
    [[ "$variant" == agent-idle ]] && wait_registered "$pid"
    "$W/agent_load" "$addr" /hello "$CONNECTIONS" 0.5 >/dev/null # warmup
    echo "latency $variant $round $(cut -d' ' -f1-3 /proc/loadavg)" >>"$R/loadavg"
    "$W/agent_load" "$addr" /hello "$CONNECTIONS" "$SECONDS_PER_ROUND" >"$R/lat.$variant.$round"
    # CPU time (clock ticks) the agent thread used during the whole run.
    local t
    for t in /proc/"$pid"/task/*; do
        if [[ "$(cat "$t/comm" 2>/dev/null)" == covwrap-agent ]]; then
            awk '{ print $14 + $15 }' "$t/stat" >>"$R/agent-ticks"
        fi
    done
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
}
say "latency: $ROUNDS rounds x 3 variants x ${SECONDS_PER_ROUND}s, $CONNECTIONS connections"
VARIANTS=(plain no-agent agent-idle)
for round in $(seq "$ROUNDS"); do
    quiet "latency-$round"
    # A different variant goes first in each round.
    for k in 0 1 2; do
        run_service "${VARIANTS[(round + k) % 3]}" "$round"
    done
done

# --- 2. snapshots ----------------------------------------------------------------
# time_cmd NAME N CMD...: N timed runs (the output directory removed
# before each, untimed), one duration in microseconds per line.
time_cmd() {
    local name="$1" n="$2" i t0 t1
    shift 2
    for i in $(seq 0 "$n"); do
        rm -rf "$R/snapdir"
        t0=$(date +%s%N)
        "$@" >/dev/null
        t1=$(date +%s%N)
        ((i == 0)) || echo "$(((t1 - t0) / 1000))" >>"$R/snap.$name" # run 0 warms up
    done
}
say "snapshots: $SNAPS timed profiles per case"
quiet snapshots
echo "snapshots $(cut -d' ' -f1-3 /proc/loadavg)" >>"$R/loadavg"
time_cmd baseline "$SNAPS" "$COVDATA" agents --center="$CENTER"
for which in all part; do
    "${CLEAN_ENV[@]}" COVWRAP_CENTER="$CENTER" COVWRAP_SERVICE="wide-$which" \
        "$W/target-wide/release/wide" "$which" >"$R/wide.out" 2>"$R/wide.err" &
    pid=$!
    PIDS+=($pid)
    wait_registered "$pid"
    time_cmd "$which" "$SNAPS" "$COVDATA" profile --center="$CENTER" --service="wide-$which" -o="$R/snapdir"
    # The snapshot's size and how many counters it holds.
    python3 - "$R/snapdir" >"$R/snapinfo.$which" <<'PY'
import os, struct, sys
d = sys.argv[1]
def uleb(b, i):
    v = s = 0
    while True:
        c = b[i]; i += 1; v |= (c & 0x7F) << s; s += 7
        if c < 0x80: return v, i
for name in sorted(os.listdir(d)):
    if name.startswith("covcounters."):
        b = open(os.path.join(d, name), "rb").read()
        total = struct.unpack_from("<I", b, 56)[0]
        args = struct.unpack_from("<I", b, 64)[0]
        i, nonzero = 72 + args + (-args % 8), 0
        while True:
            delta, i = uleb(b, i)
            if delta == 0: break
            _, i = uleb(b, i); nonzero += 1
        print(len(b), total, nonzero)
    elif name.startswith("covmeta."):
        print("meta", os.path.getsize(os.path.join(d, name)))
PY
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
done

python3 "$BENCH/agent_report.py" "$R" "$ROUNDS" "$SECONDS_PER_ROUND" "$CONNECTIONS" "$SNAPS" ${NO_DOC:+--no-doc}
