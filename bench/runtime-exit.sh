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

# say, die, CLEAN_ENV (every variant runs without the variables that steer
# coverage output or builds), need_tool, need_hyperfine_n, probe_callgrind,
# need_space, build_covwrap, build_rg, make_input, run_env, clean_outputs,
# check_same_output.
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # sets BENCH and ROOT, and cds to ROOT

# Relative to ROOT from here on (they appear as such in the report); the
# few that tools see from another directory are made absolute where used.
# Everything this script makes lives in its own directory under bench/work
# (other benchmarks share bench/work); only covwrap's runtime cache is the
# shared bench/work/cache.
W=bench/work/runtime-exit
CACHE=bench/work/cache

rg_round_knobs 1000 20 20
PATTERN=fn
INPUT="$W/input"


# --- tools -------------------------------------------------------------------
for tool in cargo rustc hyperfine python3; do
    need_tool "$tool" "apt-get install hyperfine python3; cargo/rustc via rustup"
done
check_tools
probe_callgrind
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
need_space "$W" 3


# --- builds ------------------------------------------------------------------
build_covwrap

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

check_same_output plain
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
    machine_info "$W"
    echo "cargo $(cargo -V)"
    echo "valgrind $(if ((HAVE_CALLGRIND)); then valgrind --version; else echo none; fi)"
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
