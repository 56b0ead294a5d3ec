#!/usr/bin/env bash
# bench/continuous.sh: what continuous mode (COVWRAP_CONTINUOUS=1, counters
# in a mapped file) costs, side by side in one run with covwrap's default
# mode and with LLVM's own continuous mode (LLVM_PROFILE_FILE=...%c).
#
#     bench/continuous.sh
#
# 1. ripgrep (crates.io, exact version below, every crate instrumented),
#    the runtime-exit benchmark's two workloads, timed with hyperfine in
#    interleaved rounds, and one run of each under callgrind:
#      - covwrap, default mode          (COVDIR set)
#      - covwrap, continuous mode       (COVDIR set, COVWRAP_CONTINUOUS=1)
#      - LLVM, default writer           (-Cinstrument-coverage, .profraw at exit)
#      - LLVM + counter relocation      (the same plus -runtime-counter-relocation:
#                                        the indirection alone, default writer)
#      - LLVM continuous mode           (the relocation build, LLVM_PROFILE_FILE=...%c)
#    covwrap always compiles with counter relocation, so its two modes run
#    the same binary; the LLVM pair shows what the indirection itself costs.
# 2. The service example (release build) under load with ab: requests per
#    second, plain build vs covwrap default vs covwrap continuous.
# 3. Bytes on disk per run, both modes, normal exit and SIGKILL (apparent
#    size and allocated blocks), for ripgrep and the service.
# Then it prints a table and rewrites its section of docs/BENCHMARKS.md
# (between `<!-- continuous:begin -->` and `<!-- continuous:end -->`).
#
# Needs: cargo/rustc, crates.io for the first build, hyperfine (-N), ab
# (apt-get install apache2-utils), python3, valgrind (optional). It
# installs nothing itself. Time (2-core VM): three ripgrep builds of about
# 40 s each on the first run, then about 5 minutes. Disk: about 1 GB in
# bench/work/continuous.
#
# Knobs: RG_VERSION (15.2.0), RUNS (timed runs per variant and workload,
# 400), ROUNDS (10), WARMUP (10), AB_REQUESTS (20000), AB_CONCURRENCY (8),
# AB_ROUNDS (5), REBUILD=1, SKIP_CALLGRIND=1, NO_DOC=1.

set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
cd "$ROOT"
W=bench/work/continuous
CACHE=bench/work/cache

RG_VERSION="${RG_VERSION:-15.2.0}"
RUNS="${RUNS:-400}"
ROUNDS="${ROUNDS:-10}"
WARMUP="${WARMUP:-10}"
PER_ROUND=$(((RUNS + ROUNDS - 1) / ROUNDS))
AB_REQUESTS="${AB_REQUESTS:-20000}"
AB_CONCURRENCY="${AB_CONCURRENCY:-8}"
AB_ROUNDS="${AB_ROUNDS:-5}"
INPUT="$W/input"

# shellcheck source=bench/lib.sh
source "$BENCH/lib.sh"

missing=()
for tool in cargo rustc hyperfine ab python3; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
((${#missing[@]} == 0)) || die "missing: ${missing[*]} (e.g. apt-get install hyperfine apache2-utils python3)"
HAVE_CALLGRIND=1
if [[ -n "${SKIP_CALLGRIND:-}" ]] || ! command -v valgrind >/dev/null; then HAVE_CALLGRIND=0; fi
need_hyperfine_n
mkdir -p "$W" "$CACHE"

# --- builds ------------------------------------------------------------------
say "building covwrap (release)"
"${CLEAN_ENV[@]}" CARGO_TARGET_DIR="$ROOT/target" cargo build --release -p covwrap
COVWRAP_BIN="$ROOT/target/release/covwrap"
TOOLCHAIN="$(rustc -vV | tr '\n' ' ')"
COVWRAP_SUM="$(sha256sum "$COVWRAP_BIN" | cut -d' ' -f1)"

# build_rg NAME VAR=VALUE...: as in bench/runtime-exit.sh, stamped.
build_rg() {
    local name="$1"
    shift
    local dest="$ROOT/$W/$name"
    local stamp="ripgrep@$RG_VERSION | $* | $TOOLCHAIN"
    [[ "$name" == covwrap ]] && stamp+=" | covwrap $COVWRAP_SUM"
    if [[ -z "${REBUILD:-}" && -x "$dest/bin/rg" && -f "$dest/.stamp" ]] &&
        [[ "$(cat "$dest/.stamp")" == "$stamp" ]]; then
        echo "ripgrep ($name) is up to date in $W/$name" >&2
        return
    fi
    say "building ripgrep@$RG_VERSION ($name): $*"
    rm -f "$dest/.stamp"
    (cd "$ROOT/$W" && "${CLEAN_ENV[@]}" "$@" CARGO_TARGET_DIR="$ROOT/$W/target-$name" \
        cargo install --locked --force --root "$dest" "ripgrep@$RG_VERSION")
    echo "$stamp" >"$dest/.stamp"
}
build_rg covwrap RUSTC_WRAPPER="$COVWRAP_BIN" COVWRAP_PKG='*' COVWRAP_CACHE_DIR="$ROOT/$CACHE"
build_rg llvm RUSTFLAGS=-Cinstrument-coverage
build_rg llvm-reloc "RUSTFLAGS=-Cinstrument-coverage -Cllvm-args=-runtime-counter-relocation"

say "building the service example (release): plain and with covwrap"
SVC_SRC="$W/service-src"
rm -rf "$SVC_SRC" && mkdir -p "$SVC_SRC" && cp -r examples/service/. "$SVC_SRC/"
rm -rf "$SVC_SRC/target"
(cd "$SVC_SRC" && "${CLEAN_ENV[@]}" CARGO_TARGET_DIR="$ROOT/$W/svc-plain" cargo build --release -q)
(cd "$SVC_SRC" && "${CLEAN_ENV[@]}" RUSTC_WRAPPER="$COVWRAP_BIN" COVWRAP_CACHE_DIR="$ROOT/$CACHE" \
    CARGO_TARGET_DIR="$ROOT/$W/svc-covwrap" cargo build --release -q)
SVC_PLAIN="$W/svc-plain/release/service"
SVC_COV="$W/svc-covwrap/release/service"

make_input "$INPUT"

# --- ripgrep timing ------------------------------------------------------------
COVDIR_DIR="$W/covdir"
PROFRAW_DIR="$W/profraw"
RESULTS="$W/results"
rm -rf "$COVDIR_DIR" "$PROFRAW_DIR" "$RESULTS"
mkdir -p "$COVDIR_DIR" "$PROFRAW_DIR" "$RESULTS"

WORKLOADS=(file dir)
declare -A WARGS
WARGS[file]="-c fn $INPUT/file00.rs"
WARGS[dir]="-c fn $INPUT"
VARIANTS=(covwrap-default covwrap-continuous llvm-default llvm-reloc llvm-continuous)
declare -A BIN ENVS LABEL
BIN[covwrap-default]="$W/covwrap/bin/rg"
ENVS[covwrap-default]="COVDIR=$COVDIR_DIR"
LABEL[covwrap-default]="covwrap, default mode"
BIN[covwrap-continuous]="$W/covwrap/bin/rg"
ENVS[covwrap-continuous]="COVDIR=$COVDIR_DIR COVWRAP_CONTINUOUS=1"
LABEL[covwrap-continuous]="covwrap, COVWRAP_CONTINUOUS=1"
BIN[llvm-default]="$W/llvm/bin/rg"
ENVS[llvm-default]="LLVM_PROFILE_FILE=$PROFRAW_DIR/rg-%p.profraw"
LABEL[llvm-default]="LLVM, .profraw at exit"
BIN[llvm-reloc]="$W/llvm-reloc/bin/rg"
ENVS[llvm-reloc]="LLVM_PROFILE_FILE=$PROFRAW_DIR/rg-%p.profraw"
LABEL[llvm-reloc]="LLVM + counter relocation, .profraw at exit"
BIN[llvm-continuous]="$W/llvm-reloc/bin/rg"
ENVS[llvm-continuous]="LLVM_PROFILE_FILE=$PROFRAW_DIR/rg-%p%c.profraw"
LABEL[llvm-continuous]="LLVM continuous mode (%c)"

run_env() {
    local v="$1"
    shift
    # shellcheck disable=SC2086 # ENVS holds VAR=VALUE words
    "${CLEAN_ENV[@]}" ${ENVS[$v]} "$@"
}
clean_outputs() {
    find "$PROFRAW_DIR" -mindepth 1 -delete
    find "$COVDIR_DIR" -mindepth 1 ! -name 'covmeta.*' -delete
    sync
}

say "checking that every variant runs and prints the same"
for w in "${WORKLOADS[@]}"; do
    read -ra args <<<"${WARGS[$w]}"
    expected="$("${BIN[llvm-default]}" "${args[@]}" | sort)"
    for v in "${VARIANTS[@]}"; do
        out="$(run_env "$v" "${BIN[$v]}" "${args[@]}" 2>"$RESULTS/check.$v.stderr" | sort)" ||
            die "$v failed: $(cat "$RESULTS/check.$v.stderr")"
        [[ "$out" == "$expected" ]] || die "$v: output differs"
        [[ ! -s "$RESULTS/check.$v.stderr" ]] || die "$v: stderr: $(cat "$RESULTS/check.$v.stderr")"
    done
done
clean_outputs

for w in "${WORKLOADS[@]}"; do
    say "timing rg ${WARGS[$w]}: $ROUNDS rounds x ${#VARIANTS[@]} variants x $PER_ROUND runs"
    for ((r = 1; r <= ROUNDS; r++)); do
        for ((i = 0; i < ${#VARIANTS[@]}; i++)); do
            v="${VARIANTS[$(((i + r - 1) % ${#VARIANTS[@]}))]}"
            clean_outputs
            cut -d' ' -f1 /proc/loadavg >>"$RESULTS/loadavg"
            run_env "$v" hyperfine -N --warmup "$WARMUP" --runs "$PER_ROUND" --style none \
                --export-json "$RESULTS/rg.$w.$v.$r.json" "${BIN[$v]} ${WARGS[$w]}" >&2
        done
    done
done
clean_outputs

if ((HAVE_CALLGRIND)); then
    say "callgrind: one run of each variant and workload"
    for w in "${WORKLOADS[@]}"; do
        read -ra args <<<"${WARGS[$w]}"
        for v in "${VARIANTS[@]}"; do
            clean_outputs
            run_env "$v" valgrind --tool=callgrind --callgrind-out-file="$RESULTS/cg.$w.$v.out" \
                "${BIN[$v]}" "${args[@]}" >/dev/null 2>"$RESULTS/cg.$w.$v.log" ||
                die "$v under callgrind failed: $(tail -3 "$RESULTS/cg.$w.$v.log")"
            grep -m1 '^summary:' "$RESULTS/cg.$w.$v.out" | awk -v w="$w" -v v="$v" '{ print w, v, $2 }' \
                >>"$RESULTS/instructions"
        done
    done
    clean_outputs
fi

# --- bytes on disk -----------------------------------------------------------
# disk_line NAME DIR: apparent bytes and allocated bytes of the run's files.
disk_line() {
    local apparent allocated
    apparent=$(find "$2" -maxdepth 1 -type f \( -name 'covcounters.*' -o -name '*.profraw' \) -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
    allocated=$(find "$2" -maxdepth 1 -type f \( -name 'covcounters.*' -o -name '*.profraw' \) -printf '%b\n' | awk '{ s += $1 * 512 } END { print s + 0 }')
    echo "$1 $apparent $allocated" >>"$RESULTS/disk"
}
say "bytes on disk per run"
read -ra args <<<"${WARGS[file]}"
for v in covwrap-default covwrap-continuous llvm-default llvm-continuous; do
    clean_outputs
    run_env "$v" "${BIN[$v]}" "${args[@]}" >/dev/null
    d="$COVDIR_DIR"
    [[ "$v" == llvm-* ]] && d="$PROFRAW_DIR"
    disk_line "rg.exit.$v" "$d"
    # SIGKILL: rg waiting on a pipe that never delivers EOF.
    clean_outputs
    fifo="$W/fifo"
    rm -f "$fifo" && mkfifo "$fifo"
    # shellcheck disable=SC2086
    "${CLEAN_ENV[@]}" ${ENVS[$v]} "${BIN[$v]}" fn <"$fifo" >/dev/null &
    pid=$!
    exec 9>"$fifo"
    sleep 0.3
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    exec 9>&-
    rm -f "$fifo"
    disk_line "rg.kill.$v" "$d"
done

# --- service under load ------------------------------------------------------------
say "service under load: ab -n $AB_REQUESTS -c $AB_CONCURRENCY, $AB_ROUNDS rounds"
SVC_VARIANTS=(plain covwrap-default covwrap-continuous)
declare -A SVC_BIN SVC_ENV
SVC_BIN[plain]="$SVC_PLAIN"
SVC_ENV[plain]=""
SVC_BIN[covwrap-default]="$SVC_COV"
SVC_ENV[covwrap-default]="COVDIR=$COVDIR_DIR"
SVC_BIN[covwrap-continuous]="$SVC_COV"
SVC_ENV[covwrap-continuous]="COVDIR=$COVDIR_DIR COVWRAP_CONTINUOUS=1"
port=18600
for ((r = 1; r <= AB_ROUNDS; r++)); do
    for ((i = 0; i < ${#SVC_VARIANTS[@]}; i++)); do
        v="${SVC_VARIANTS[$(((i + r - 1) % ${#SVC_VARIANTS[@]}))]}"
        clean_outputs
        port=$((port + 1))
        # shellcheck disable=SC2086
        "${CLEAN_ENV[@]}" ${SVC_ENV[$v]} "${SVC_BIN[$v]}" "127.0.0.1:$port" >/dev/null 2>&1 &
        pid=$!
        for _ in $(seq 50); do
            curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
            sleep 0.1
        done
        ab -q -n "$AB_REQUESTS" -c "$AB_CONCURRENCY" "http://127.0.0.1:$port/sum?a=2&b=40" \
            >"$RESULTS/ab.$v.$r.txt" 2>&1 || die "ab failed against $v: $(tail -3 "$RESULTS/ab.$v.$r.txt")"
        if [[ "$v" != plain ]]; then
            kill -9 "$pid"
            wait "$pid" 2>/dev/null || true
            [[ $r == 1 ]] && disk_line "service.kill.$v" "$COVDIR_DIR"
        else
            kill "$pid"
            wait "$pid" 2>/dev/null || true
        fi
    done
done
clean_outputs

{
    echo "rg_version $RG_VERSION"
    echo "rustc $(rustc -V)"
    echo "hyperfine $(hyperfine --version)"
    echo "nproc $(nproc)"
    echo "cpu $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "kernel $(uname -sr)"
    echo "fs $(df -PT "$W" | awk 'NR == 2 { print $2 }')"
    echo "date $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "rounds $ROUNDS"
    echo "per_round $PER_ROUND"
    echo "ab $AB_REQUESTS $AB_CONCURRENCY $AB_ROUNDS"
    for w in "${WORKLOADS[@]}"; do echo "wargs.$w ${WARGS[$w]}"; done
    for v in "${VARIANTS[@]}"; do echo "label.$v ${LABEL[$v]}"; done
    echo "covwrap_rev $(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
} >"$RESULTS/info"

doc_args=()
[[ -z "${NO_DOC:-}" ]] && doc_args=(--doc docs/BENCHMARKS.md)
python3 "$BENCH/continuous_report.py" --results "$RESULTS" "${doc_args[@]}"
