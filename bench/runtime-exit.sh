#!/usr/bin/env bash
# bench/runtime-exit.sh: the per-run cost of writing coverage output for a
# short-lived CLI, on ripgrep built with ALL its crates instrumented.
#
# Run it from anywhere (paths are derived from this file's location):
#
#     bench/runtime-exit.sh
#
# It builds ripgrep (from crates.io, exact version below) three ways with
# `cargo install --locked` into bench/work/runtime-exit/ (gitignored): plain, with
# RUSTFLAGS=-Cinstrument-coverage (LLVM's writer), and with covwrap as
# RUSTC_WRAPPER and COVWRAP_PKG='*'. Then it times a short ripgrep run on a
# small generated input with hyperfine, in interleaved rounds, for five
# variants (plain; LLVM writing a .profraw; LLVM writing to /dev/null;
# covwrap writing to COVDIR; covwrap with COVDIR unset), counts the
# instructions of one run of each under callgrind, prints a table and
# rewrites its own section of docs/BENCHMARKS.md (between the
# `<!-- runtime-exit:begin -->` and `<!-- runtime-exit:end -->` markers;
# the rest of the file is left alone).
#
# Needs: cargo/rustc (the toolchain that builds covwrap), network access to
# crates.io for the first build, hyperfine (>= 1.13, for -N), python3,
# valgrind (optional: without it the callgrind columns are skipped).
# It installs nothing itself.
#
# Time (2-core VM): the three ripgrep builds take about 40 s each (plus
# the crate downloads on a fresh machine); the timing about 2 minutes and
# callgrind about 20 s. Later runs reuse the builds, which are stamped with
# the ripgrep version, the toolchain and (for the covwrap build) the
# covwrap binary's checksum, so a changed covwrap is rebuilt automatically.
# Disk: about 1 GB in bench/work/runtime-exit (three cargo target dirs),
# plus, during an LLVM .profraw batch, (WARMUP + RUNS/ROUNDS) x 1.3 MB
# (about 90 MB by default), deleted after each batch. The script refuses
# to start with less than 3 GB free.
#
# Knobs (environment): RG_VERSION (15.2.0), RUNS (timed runs per variant
# and workload over all rounds, 1000), ROUNDS (interleaved rounds, 20),
# WARMUP (warmup runs per batch, 20), REBUILD=1 (force the ripgrep builds),
# SKIP_CALLGRIND=1, NO_DOC=1 (print only, leave docs/BENCHMARKS.md alone).

set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
cd "$ROOT"
# Relative to ROOT from here on (they appear as such in the report); the
# few that tools see from another directory are made absolute where used.
# Everything this script makes lives in its own directory under bench/work
# (other benchmarks share bench/work); only covwrap's runtime cache is the
# shared bench/work/cache.
W=bench/work/runtime-exit
CACHE=bench/work/cache

RG_VERSION="${RG_VERSION:-15.2.0}"
RUNS="${RUNS:-1000}"
ROUNDS="${ROUNDS:-20}"
WARMUP="${WARMUP:-20}"
PER_ROUND=$(( (RUNS + ROUNDS - 1) / ROUNDS ))
PATTERN=fn
INPUT="$W/input"

# say, die, CLEAN_ENV (every variant runs without the variables that steer
# coverage output or builds), need_hyperfine_n, make_input.
# shellcheck source=bench/lib.sh
source "$BENCH/lib.sh"

# --- tools -------------------------------------------------------------------
missing=()
for tool in cargo rustc hyperfine python3; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
    die "missing: ${missing[*]} (install them, e.g. apt-get install hyperfine python3; cargo/rustc via rustup)"
fi
HAVE_CALLGRIND=1
if [[ -n "${SKIP_CALLGRIND:-}" ]]; then
    HAVE_CALLGRIND=0
elif ! command -v valgrind >/dev/null; then
    echo "note: valgrind not found (apt-get install valgrind); skipping the instruction counts" >&2
    HAVE_CALLGRIND=0
fi
need_hyperfine_n

# The /dev/null variant, and hyperfine's own output, need the real device.
# (A program that writes an output file atomically, through a temporary file
# renamed over the destination, replaces /dev/null with a regular file when
# root points it there.)
check_dev_null() {
    [[ -c /dev/null ]] || die "/dev/null is not a character device$1 (something replaced it with a regular file); restore it as root: mknod -m 666 /dev/null.new c 1 3 && mv /dev/null.new /dev/null"
}
check_dev_null ""

mkdir -p "$W" "$CACHE"
avail_kb=$(df -Pk "$W" | awk 'NR == 2 { print $4 }')
if ((avail_kb < 3 * 1024 * 1024)); then
    die "only $((avail_kb / 1024)) MB free under $W; about 3 GB are needed"
fi


# --- builds ------------------------------------------------------------------
say "building covwrap (cargo build --release -p covwrap)"
"${CLEAN_ENV[@]}" CARGO_TARGET_DIR="$ROOT/target" cargo build --release -p covwrap
COVWRAP_BIN="$ROOT/target/release/covwrap"
[[ -x "$COVWRAP_BIN" ]] || die "no $COVWRAP_BIN after the build"

TOOLCHAIN="$(rustc -vV | tr '\n' ' ')"
COVWRAP_SUM="$(sha256sum "$COVWRAP_BIN" | cut -d' ' -f1)"

# build_rg NAME VAR=VALUE...: cargo install ripgrep into $W/NAME with its own
# target dir and the given extra environment; skipped when the stamp says
# the same version, toolchain and settings (and covwrap binary) built it.
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
    say "building ripgrep@$RG_VERSION ($name): $* cargo install --locked"
    rm -f "$dest/.stamp"
    local t0=$SECONDS
    # cargo install builds the registry package outside this workspace; a
    # .cargo/config.toml in the repository or above would still apply (the
    # repository has none).
    (cd "$ROOT/$W" && "${CLEAN_ENV[@]}" "$@" CARGO_TARGET_DIR="$ROOT/$W/target-$name" \
        cargo install --locked --force --root "$dest" "ripgrep@$RG_VERSION")
    echo "$stamp" >"$dest/.stamp"
    echo "$((SECONDS - t0))" >"$dest/.build-seconds"
}

build_rg plain
build_rg llvm RUSTFLAGS=-Cinstrument-coverage
build_rg covwrap RUSTC_WRAPPER="$COVWRAP_BIN" COVWRAP_PKG='*' COVWRAP_CACHE_DIR="$ROOT/$CACHE"

# --- input -------------------------------------------------------------------
# 40 files x 300 lines of Rust-like text (bench/lib.sh's make_input).
make_input "$INPUT"

# Two workloads: one small file (the short-lived CLI case: startup and exit
# dominate) and the whole directory (40 files, ripgrep's parallel walker).
WORKLOADS=(file dir)
declare -A WARGS WDESC
WARGS[file]="-c $PATTERN $INPUT/file00.rs"
WDESC[file]="one 14 KB file"
WARGS[dir]="-c $PATTERN $INPUT"
WDESC[dir]="a directory of 40 such files (560 KB), default thread count"

# --- variants ----------------------------------------------------------------
PROFRAW_DIR="$W/profraw"
COVDIR_DIR="$W/covdir"
FIRST_DIR="$W/covdir-first"
RESULTS="$W/results"
rm -rf "$PROFRAW_DIR" "$COVDIR_DIR" "$FIRST_DIR" "$RESULTS"
mkdir -p "$PROFRAW_DIR" "$COVDIR_DIR" "$FIRST_DIR" "$RESULTS"

VARIANTS=(plain llvm-profraw llvm-devnull covwrap-covdir covwrap-off)
declare -A BIN ENVS LABEL
BIN[plain]="$W/plain/bin/rg"
ENVS[plain]=""
LABEL[plain]="plain rg (baseline)"
BIN[llvm-profraw]="$W/llvm/bin/rg"
ENVS[llvm-profraw]="LLVM_PROFILE_FILE=$PROFRAW_DIR/rg-%p.profraw"
LABEL[llvm-profraw]="LLVM, .profraw per process"
BIN[llvm-devnull]="$W/llvm/bin/rg"
ENVS[llvm-devnull]="LLVM_PROFILE_FILE=/dev/null"
LABEL[llvm-devnull]="LLVM, LLVM_PROFILE_FILE=/dev/null"
BIN[covwrap-covdir]="$W/covwrap/bin/rg"
ENVS[covwrap-covdir]="COVDIR=$COVDIR_DIR"
LABEL[covwrap-covdir]="covwrap, COVDIR set (covmeta present)"
BIN[covwrap-off]="$W/covwrap/bin/rg"
ENVS[covwrap-off]="COVWRAP_QUIET=1"
LABEL[covwrap-off]="covwrap, COVDIR unset, COVWRAP_QUIET=1"

# run_env VARIANT CMD...: CMD in the variant's environment.
run_env() {
    local v="$1"
    shift
    # shellcheck disable=SC2086 # ENVS holds zero or one VAR=VALUE word
    "${CLEAN_ENV[@]}" ${ENVS[$v]} "$@"
}

# Empties the output directories between batches (covmeta stays: the
# covwrap steady state is "meta file present"), then flushes dirty pages so
# that no batch pays for the previous one's writeback.
clean_outputs() {
    find "$PROFRAW_DIR" -mindepth 1 -delete
    find "$COVDIR_DIR" -mindepth 1 ! -name 'covmeta.*' -delete
    sync
}

say "checking that every variant runs and prints the same"
for w in "${WORKLOADS[@]}"; do
    read -ra args <<<"${WARGS[$w]}"
    expected="$("${BIN[plain]}" "${args[@]}" | sort)"
    [[ -n "$expected" ]] || die "plain rg found nothing: rg ${WARGS[$w]}"
    for v in "${VARIANTS[@]}"; do
        err="$RESULTS/check.$w.$v.stderr"
        if ! out="$(run_env "$v" "${BIN[$v]}" "${args[@]}" 2>"$err" | sort)"; then
            die "$v: '${ENVS[$v]} ${BIN[$v]} ${args[*]}' failed: $(cat "$err")"
        fi
        if [[ "$out" != "$expected" ]]; then die "$v: output differs from plain rg (${WARGS[$w]})"; fi
        if [[ -s "$err" ]]; then die "$v: unexpected stderr: $(cat "$err")"; fi
    done
done
ls "$PROFRAW_DIR"/*.profraw >/dev/null 2>&1 || die "llvm-profraw wrote no .profraw"
ls "$COVDIR_DIR"/covmeta.* >/dev/null 2>&1 || die "covwrap-covdir wrote no covmeta"
ls "$COVDIR_DIR"/covcounters.* >/dev/null 2>&1 || die "covwrap-covdir wrote no covcounters"
META_FILE="$(ls "$COVDIR_DIR"/covmeta.*)"
clean_outputs

# Records what a batch left behind: file count and total bytes; keeps one
# counter file per workload for the report (non-zero counter count).
record_outputs() {
    local w="$1" v="$2" r="$3" dir pattern
    case "$v" in
    llvm-profraw) dir="$PROFRAW_DIR" pattern='*.profraw' ;;
    covwrap-covdir) dir="$COVDIR_DIR" pattern='covcounters.*' ;;
    *) return 0 ;;
    esac
    find "$dir" -maxdepth 1 -name "$pattern" -printf '%s\n' |
        awk -v w="$w" -v v="$v" -v r="$r" '{ n++; s += $1 } END { printf "%s %s %s %d %d\n", w, v, r, n, s }' \
            >>"$RESULTS/outputs"
    if [[ "$v" == covwrap-covdir && ! -f "$RESULTS/sample.$w.covcounters" ]]; then
        cp "$(find "$dir" -maxdepth 1 -name "$pattern" | head -n1)" "$RESULTS/sample.$w.covcounters"
    fi
}

HF_OPTS=(-N --warmup "$WARMUP" --runs "$PER_ROUND" --style basic)
# Other work on the machine shows up as noise; the 1-minute load average
# is sampled before every batch and reported.
read -r load1 _ </proc/loadavg
if awk -v l="$load1" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
    echo "warning: load average $load1 on $(nproc) CPUs: other work will make the timings noisy" >&2
fi
for w in "${WORKLOADS[@]}"; do
    say "timing rg ${WARGS[$w]}: $ROUNDS rounds x ${#VARIANTS[@]} variants x ($WARMUP warmup + $PER_ROUND runs)"
    for ((r = 1; r <= ROUNDS; r++)); do
        # Rotate the order each round so that no variant always comes first.
        for ((i = 0; i < ${#VARIANTS[@]}; i++)); do
            v="${VARIANTS[$(((i + r - 1) % ${#VARIANTS[@]}))]}"
            echo "-- $w, round $r: $v" >&2
            clean_outputs
            cut -d' ' -f1 /proc/loadavg >>"$RESULTS/loadavg"
            run_env "$v" hyperfine "${HF_OPTS[@]}" --export-json "$RESULTS/$w.$v.$r.json" \
                "${BIN[$v]} ${WARGS[$w]}" >&2
            record_outputs "$w" "$v" "$r"
        done
    done
done
clean_outputs
check_dev_null " any more: it changed during the timing, whose results are void"

# One-time cost: the first run in a directory without covmeta writes it.
say "timing covwrap's first run in an empty COVDIR (writes covmeta)"
read -ra args <<<"${WARGS[file]}"
"${CLEAN_ENV[@]}" COVDIR="$FIRST_DIR" "${BIN[covwrap-covdir]}" "${args[@]}" >/dev/null
FIRST_META="$(ls "$FIRST_DIR"/covmeta.*)"
"${CLEAN_ENV[@]}" COVDIR="$FIRST_DIR" hyperfine -N --warmup 3 --runs 30 --style basic \
    --prepare "rm -f $FIRST_META" --export-json "$RESULTS/file.covwrap-first.json" \
    "${BIN[covwrap-covdir]} ${WARGS[file]}" >&2
rm -rf "$FIRST_DIR"

# --- callgrind -----------------------------------------------------------------
CG="$W/callgrind"
rm -rf "$CG"
if ((HAVE_CALLGRIND)); then
    say "callgrind: one run of each variant and workload"
    mkdir -p "$CG"
    clean_outputs
    for w in "${WORKLOADS[@]}"; do
        read -ra args <<<"${WARGS[$w]}"
        # The covwrap steady state needs the meta file (it is there: the
        # timing left it; this makes sure).
        run_env covwrap-covdir "${BIN[covwrap-covdir]}" "${args[@]}" >/dev/null
        for v in "${VARIANTS[@]}"; do
            run_env "$v" valgrind --tool=callgrind --callgrind-out-file="$CG/$w.$v.out" \
                "${BIN[$v]}" "${args[@]}" >/dev/null 2>"$CG/$w.$v.log" ||
                die "$v under callgrind failed: $(tail -5 "$CG/$w.$v.log")"
            # Inclusive cost per function, for the exit-path breakdown.
            callgrind_annotate --inclusive=yes --threshold=100 "$CG/$w.$v.out" >"$CG/$w.$v.annotate" 2>/dev/null || true
        done
    done
    clean_outputs
fi

# --- report --------------------------------------------------------------------
{
    echo "rg_version $RG_VERSION"
    echo "rustc $(rustc -V)"
    echo "cargo $(cargo -V)"
    echo "hyperfine $(hyperfine --version)"
    echo "valgrind $(if ((HAVE_CALLGRIND)); then valgrind --version; else echo none; fi)"
    echo "nproc $(nproc)"
    echo "cpu $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "kernel $(uname -sr)"
    echo "fs $(df -PT "$W" | awk 'NR == 2 { print $2 }')"
    echo "date $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "rounds $ROUNDS"
    echo "per_round $PER_ROUND"
    echo "warmup $WARMUP"
    echo "workloads ${WORKLOADS[*]}"
    for w in "${WORKLOADS[@]}"; do
        echo "wargs.$w ${WARGS[$w]}"
        echo "wdesc.$w ${WDESC[$w]}"
    done
    echo "variants ${VARIANTS[*]}"
    for v in "${VARIANTS[@]}"; do
        echo "bin.$v ${BIN[$v]}"
        echo "env.$v ${ENVS[$v]}"
        echo "label.$v ${LABEL[$v]}"
        echo "size.$v $(stat -c %s "${BIN[$v]}")"
    done
    for b in plain llvm covwrap; do
        if [[ -f "$W/$b/.build-seconds" ]]; then echo "build_seconds.$b $(cat "$W/$b/.build-seconds")"; fi
    done
    # Atomic increments in the code: how rustc's counter updates look.
    if command -v objdump >/dev/null; then
        for b in plain llvm covwrap; do
            echo "lock_incs.$b $(objdump -d --no-show-raw-insn "$W/$b/bin/rg" | grep -cE '\block (inc|add)q' || true)"
        done
    fi
    if rev="$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null)"; then
        dirty=""
        if [[ -n "$(git -C "$ROOT" status --porcelain -- src runtime Cargo.toml Cargo.lock 2>/dev/null)" ]]; then
            dirty=", with uncommitted changes in src/, runtime/ or Cargo.*"
        fi
        echo "covwrap_rev commit $rev$dirty (binary sha256 ${COVWRAP_SUM:0:16}…)"
    else
        echo "covwrap_rev binary sha256 ${COVWRAP_SUM:0:16}…"
    fi
    echo "meta_file $META_FILE"
    echo "first_meta $FIRST_META"
    echo "covwrap_cache $CACHE"
    echo "work $W"
} >"$RESULTS/info"

report_args=(--results "$RESULTS")
if ((HAVE_CALLGRIND)); then report_args+=(--callgrind "$CG"); fi
if [[ -z "${NO_DOC:-}" ]]; then report_args+=(--doc docs/BENCHMARKS.md); fi
python3 "$BENCH/runtime_exit_report.py" "${report_args[@]}"
