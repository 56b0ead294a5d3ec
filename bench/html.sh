#!/usr/bin/env bash
# bench/html.sh: HTML reports of ripgrep's runs: `covdata html` against
# `llvm-cov-22 show -format=html` (the same profile, the same objects) and
# genhtml on covdata's LCOV of the same runs: time, peak memory, and what
# each writes (files, MB).
#
# Run it from anywhere (paths are derived from this file's location):
#
#     bench/html.sh
#
# The goal it checks: `covdata html` from the COVDIR at least 5x faster
# than `llvm-cov show -format=html` from an already merged profile, with
# a report of reasonable weight.
#
# What it does (scratch under bench/work/html/, gitignored):
#
# 1. Builds covwrap and covdata (`cargo build --release -p covwrap -p
#    covdata`, default target dir) and ripgrep (crates.io, exact version
#    below, `cargo install --locked`) with covwrap as RUSTC_WRAPPER and
#    COVWRAP_PKG='*' (every crate instrumented, so the report covers
#    ripgrep and its dependencies, sources in cargo's registry). A build
#    with the same stamp left by bench/report.sh (bench/work/report/covwrap)
#    or bench/runtime-exit.sh is copied instead.
# 2. Runs ripgrep N times (bench/report_tool.py runs: the same arguments
#    and generated input as bench/report.sh) into a COVDIR, JOBS at a time.
# 3. The profile for llvm-cov: `covdata profraw` of that COVDIR, merged by
#    `llvm-profdata-22 merge -sparse`; the objects: the same covwrap-built
#    ripgrep binary covdata reads. The LCOV for genhtml: `covdata lcov`.
#    Merging and the LCOV export are not in the timings of llvm-cov and
#    genhtml (covdata's timing includes reading the N counter files).
# 4. Times with hyperfine: `covdata html -i=COVDIR -o=DIR` (both CPUs, and
#    pinned to CPU 0 with taskset; each run replaces the previous run's
#    report, as each llvm-cov run replaces its own, and so keeps its
#    unchanged pages without rendering them; again replacing a report of
#    half the runs, so that the pages whose counts differ are rendered;
#    and `covdata pkglist`, which only loads, for covdata's fixed cost),
#    `llvm-cov-22 show -format=html
#    -instr-profile=P BIN -output-dir=DIR` (its default threads, and with
#    `-num-threads=2`), both again into a fresh directory before each run
#    (the previous one moved aside; see `discard` for why nothing is
#    removed before the timings end); then the goal's three pairs side by
#    side: the same report again, over a report of other runs, and into
#    a fresh directory (bench/report_tool.py paired: alternated, 2 warmup
#    rounds and RUNS rounds, the median of the per-round ratios);
#    `genhtml -q --ignore-errors source -o DIR cov.lcov` (macro
#    expansions from the standard library name its sources under
#    /rustc/<commit>/, which are not on disk); peak RSS of each (median
#    of 3); files and bytes each writes (du -sb); checks
#    that covdata's index totals equal `covdata percent`; rewrites its
#    section of docs/BENCHMARKS.md (between `<!-- html:begin -->` and
#    `<!-- html:end -->`) through bench/doc_region.py. Ratios and the goal
#    compare medians: on a shared machine one slowed run moves a mean of a
#    few runs.
#
# Needs: cargo/rustc, network access to crates.io (first ripgrep build),
# hyperfine >= 1.13, python3, llvm-profdata-22 and llvm-cov-22 (apt-get
# install llvm-22), genhtml (apt-get install lcov), taskset (util-linux;
# optional: without it the one-CPU row is skipped). It installs nothing.
#
# Time: 3 to 6 minutes for the ripgrep build when none can be reused, then
# about 5 minutes (most of it genhtml and llvm-cov show), plus up to
# QUIET_MAX seconds per timing group while other processes keep the CPUs
# busy. Disk: about 600 MB for the ripgrep target dir, about 150 MB of
# reports, and about 1 GB of earlier reports set aside while the timings
# run (removed at the end).
#
# Knobs (environment): RG_VERSION (15.2.0), N (100 runs), JOBS (2), WARMUP
# (3: the first runs after the setup are slowed by the machine settling),
# RUNS (10: covdata), RUNS_SLOW (5: llvm-cov and genhtml), REBUILD=1
# (force the ripgrep build), COVDATA_BIN (measure this covdata binary),
# QUIET_MAX (120; 0: do not wait), NO_DOC=1 (do not touch
# docs/BENCHMARKS.md).

set -euo pipefail

# say, die, CLEAN_ENV, make_runs, quiet, hf, rss, need_tool, need_report_tools,
# need_hyperfine_n, probe_optional_tools, build_covwrap_covdata, make_input.
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # sets BENCH and ROOT, and cds to ROOT

W=bench/work
R=$W/html

RG_VERSION="${RG_VERSION:-15.2.0}"
N="${N:-100}"
JOBS="${JOBS:-2}"
WARMUP="${WARMUP:-3}"
RUNS="${RUNS:-10}"
RUNS_SLOW="${RUNS_SLOW:-5}"
QUIET_MAX="${QUIET_MAX:-120}"

((N >= 1)) || die "N must be at least 1"

# --- tools ---------------------------------------------------------------------
need_report_tools
need_tool genhtml "apt-get install lcov"
check_tools
need_hyperfine_n
SKIP_CALLGRIND=1 probe_optional_tools

mkdir -p "$R"

# --- builds ----------------------------------------------------------------------
build_covwrap_covdata "$R"
TOOLCHAIN="$(rustc -vV | tr '\n' ' ')"
COVWRAP_SUM="$(sha256sum "$COVWRAP_BIN" | cut -d' ' -f1)"

# ripgrep with covwrap at $R/covwrap/bin/rg; stamps as bench/report.sh
# writes them (the cache dir is part of the settings), so that its builds
# are reused here.
DEST="$ROOT/$R/covwrap"
stamp_for() { echo "ripgrep@$RG_VERSION | RUSTC_WRAPPER=$COVWRAP_BIN COVWRAP_PKG=* COVWRAP_CACHE_DIR=$ROOT/$1/cache | $TOOLCHAIN | covwrap $COVWRAP_SUM"; }
STAMP="$(stamp_for "$R")"
reuse_rg() {
    [[ -z "${REBUILD:-}" && -x "$DEST/bin/rg" && -f "$DEST/.stamp" && "$(cat "$DEST/.stamp")" == "$STAMP" ]] && return 0
    local dir src theirs
    for dir in "$W/report" "$W/runtime-exit" "$W"; do
        src="$dir/covwrap"
        theirs="$(stamp_for "$dir")"
        [[ -z "${REBUILD:-}" && -x "$src/bin/rg" && -f "$src/.stamp" && "$(cat "$src/.stamp")" == "$theirs" ]] || continue
        rm -rf "$DEST" && mkdir -p "$DEST/bin"
        cp "$src/bin/rg" "$DEST/bin/rg"
        echo "$STAMP" >"$DEST/.stamp"
        echo "copied from $src" >"$DEST/.origin"
        return 0
    done
    return 1
}
if reuse_rg; then
    echo "ripgrep (covwrap): $(cat "$DEST/.origin" 2>/dev/null || echo "up to date in $R/covwrap")" >&2
else
    say "building ripgrep@$RG_VERSION with covwrap (COVWRAP_PKG='*', cargo install --locked)"
    rm -rf "$DEST" && mkdir -p "$DEST/bin"
    t0=$SECONDS
    (cd "$ROOT/$R" && "${CLEAN_ENV[@]}" RUSTC_WRAPPER="$COVWRAP_BIN" COVWRAP_PKG='*' COVWRAP_CACHE_DIR="$ROOT/$R/cache" \
        CARGO_TARGET_DIR="$ROOT/$R/target-covwrap" cargo install --locked --force --root "$DEST" "ripgrep@$RG_VERSION")
    echo "$STAMP" >"$DEST/.stamp"
    echo "built here in $((SECONDS - t0)) s" >"$DEST/.origin"
fi
RG_COV="$R/covwrap/bin/rg"

# --- runs and inputs ---------------------------------------------------------------
INPUT="$R/input"
make_input "$INPUT"
RUNDIR="$R/runs"
RESULTS="$R/results"
OUT="$R/out"
# Nothing is removed before the timings end, only moved into TRASH: ext4
# without a journal (this VM's disk) does not reuse an inode freed in the
# last 60 s (360 s while its inode table block is dirty) and checks every
# such inode for each file it creates, so files freed just before the
# timings, or between runs, slow down the runs that create files (covdata
# html into a fresh directory removed before each run: from 0.12 s to
# 0.30 s over 80 runs). A CI job's one report pays none of it.
TRASH="$R/trash"
mkdir -p "$TRASH"
# set_aside PATH: the shell command that moves PATH, when it exists, into
# a new directory under TRASH (also the fresh runs' --prepare).
set_aside() { printf '[ ! -e %s ] || mv %s "$(mktemp -d -p %s)"' "$1" "$1" "$TRASH"; }
discard() {
    local p
    for p in "$@"; do
        eval "$(set_aside "$p")"
    done
}
discard "$RUNDIR" "$RESULTS" "$OUT"
mkdir -p "$RUNDIR" "$RESULTS" "$OUT"
COV="$RUNDIR/cov-$N"
say "making the runs: ripgrep (covwrap) x $N into a COVDIR"
make_runs rg "$RG_COV" COVDIR "$COV" 0 "$N"
expect_files "$COV" 'covcounters.*' "$N"
# Half of those runs (hard links): a report of them is the previous report
# that the "other runs" rows replace, so that the pages of the files whose
# counts differ are rendered again and the others kept.
COV_HALF="$RUNDIR/cov-half"
mkdir -p "$COV_HALF"
ln "$COV"/covmeta.* "$COV_HALF"/
# (sed reads to the end: head would leave sort writing into a closed pipe,
# which pipefail turns into a failed run for large N)
find "$COV" -maxdepth 1 -name 'covcounters.*' | sort | sed -n "1,$(((N + 1) / 2))p" | xargs ln -t "$COV_HALF"

say "the profile for llvm-cov (covdata profraw + llvm-profdata merge) and the LCOV for genhtml"
PROFDATA="$OUT/rg.profdata"
"$CD" profraw -i="$COV" -o="$OUT/profraw" >/dev/null
"${CLEAN_ENV[@]}" llvm-profdata-22 merge -sparse "$OUT"/profraw/*.profraw -o "$PROFDATA"
discard "$OUT/profraw"
"$CD" lcov -i="$COV" -o="$OUT/cov.lcov"

# --- timings ---------------------------------------------------------------------------
# The inodes the previous run of this bench freed at its end (see
# discard) are reusable 360 s later at the latest.
if [[ -f "$R/freed-at" ]]; then
    wait_s=$(($(cat "$R/freed-at") + 365 - $(date +%s)))
    if ((wait_s > 0)); then
        say "waiting ${wait_s} s: the previous run of this bench freed its reports' inodes $((365 - wait_s)) s ago"
        sleep "$wait_s"
    fi
fi
HTML_CD="$OUT/covdata-html"
HTML_LLVM="$OUT/llvm-html"
HTML_GEN="$OUT/genhtml"
LLVM_SHOW=(llvm-cov-22 show -format=html "-instr-profile=$PROFDATA" "$RG_COV")

say "covdata html vs llvm-cov show -format=html vs genhtml (N=$N)"
args=(-n "covdata html" "$CD html -i=$COV -o=$HTML_CD")
((HAVE_TASKSET)) && args+=(-n "covdata html, one CPU" "taskset -c 0 $CD html -i=$COV -o=$HTML_CD")
# What every covdata report pays before writing anything: loading the
# COVDIR and decoding ripgrep's mapping (pkglist does nothing more).
args+=(-n "covdata pkglist (loading only)" "$CD pkglist -i=$COV")
hf "html.covdata" "$RUNS" "${args[@]}"
# Replacing a report of other runs (half of them, written by the
# --prepare): the pages whose numbers differ are rendered and written,
# the others kept.
HTML_OTHER="$OUT/covdata-html-other"
OTHER_PREPARE="$CD html -i=$COV_HALF -o=$HTML_OTHER 2>/dev/null"
hf "html.other" "$RUNS" --prepare "sh -c '$OTHER_PREPARE'" \
    -n "covdata html, replacing a report of other runs" "$CD html -i=$COV -o=$HTML_OTHER"
# Into a fresh directory, both tools: every page a new file, none kept
# from a previous report; the previous run's directory goes to TRASH.
# Each tool's fresh runs follow its own other runs: the hundreds of MB of
# new page cache a fresh group leaves behind make the next group's first
# writes slower on this VM.
HTML_FRESH="$OUT/covdata-html-fresh"
hf "html.fresh" "$RUNS" --prepare "sh -c '$(set_aside "$HTML_FRESH")'" \
    -n "covdata html, fresh directory" "$CD html -i=$COV -o=$HTML_FRESH"
hf "html.llvm" "$RUNS_SLOW" \
    -n "llvm-cov show -format=html" "${LLVM_SHOW[*]} -output-dir=$HTML_LLVM" \
    -n "llvm-cov show -format=html -num-threads=2" "${LLVM_SHOW[*]} -num-threads=2 -output-dir=$HTML_LLVM"
HTML_LLVM_FRESH="$OUT/llvm-html-fresh"
hf "html.llvm_fresh" "$RUNS_SLOW" --prepare "sh -c '$(set_aside "$HTML_LLVM_FRESH")'" \
    -n "llvm-cov show -format=html, fresh directory" "${LLVM_SHOW[*]} -output-dir=$HTML_LLVM_FRESH"
# The goal's ratios, side by side: each group above ran on the machine
# of its own minutes, and this VM's speed drifts over minutes.
say "covdata html and llvm-cov show -format=html side by side (alternated)"
sync
quiet paired
"${CLEAN_ENV[@]}" "${TOOL[@]}" paired --out "$RESULTS/paired.replace.json" --rounds "$RUNS" \
    --a-name "covdata html" --a "$CD html -i=$COV -o=$HTML_CD" \
    --b-name "llvm-cov show -format=html" --b "${LLVM_SHOW[*]} -output-dir=$HTML_LLVM"
"${CLEAN_ENV[@]}" "${TOOL[@]}" paired --out "$RESULTS/paired.other.json" --rounds "$RUNS" \
    --a-name "covdata html, replacing a report of other runs" --a "$CD html -i=$COV -o=$HTML_OTHER" \
    --a-prepare "$OTHER_PREPARE" \
    --b-name "llvm-cov show -format=html" --b "${LLVM_SHOW[*]} -output-dir=$HTML_LLVM"
"${CLEAN_ENV[@]}" "${TOOL[@]}" paired --out "$RESULTS/paired.fresh.json" --rounds "$RUNS" \
    --a-name "covdata html, fresh directory" --a "$CD html -i=$COV -o=$HTML_FRESH" \
    --a-prepare "$(set_aside "$HTML_FRESH")" \
    --b-name "llvm-cov show -format=html, fresh directory" --b "${LLVM_SHOW[*]} -output-dir=$HTML_LLVM_FRESH" \
    --b-prepare "$(set_aside "$HTML_LLVM_FRESH")"
hf "html.genhtml" "$RUNS_SLOW" \
    -n "genhtml" "genhtml -q --ignore-errors source -o $HTML_GEN $OUT/cov.lcov"

say "peak RSS"
quiet rss
rss "covdata html" "$CD" html -i="$COV" -o="$HTML_CD"
rss "llvm-cov show -format=html" "${LLVM_SHOW[@]}" -output-dir="$HTML_LLVM"
rss "genhtml" genhtml -q --ignore-errors source -o "$HTML_GEN" "$OUT/cov.lcov"

# --- what was written, and a sanity check ------------------------------------------------
: >"$RESULTS/sizes"
for d in covdata:"$HTML_CD" llvm:"$HTML_LLVM" genhtml:"$HTML_GEN"; do
    name="${d%%:*}" dir="${d#*:}"
    printf '%s %s %s\n' "$name" "$(find "$dir" -type f | wc -l)" "$(du -sb "$dir" | cut -f1)" >>"$RESULTS/sizes"
done
printf 'lcov %s\n' "$(grep -c '^SF:' "$OUT/cov.lcov")" >>"$RESULTS/sizes"
rm -rf "$TRASH"
date +%s >"$R/freed-at" # for the next run (see the timings)
"$CD" percent -i="$COV" >"$RESULTS/cov-percent.txt"
"${CLEAN_ENV[@]}" llvm-cov-22 report "-instr-profile=$PROFDATA" "$RG_COV" >"$RESULTS/llvm-report.txt" 2>/dev/null
python3 "$BENCH/html_doc.py" check --index "$HTML_CD/index.html" --percent "$RESULTS/cov-percent.txt" \
    >"$RESULTS/check" || die "covdata html's totals differ from covdata percent: $(cat "$RESULTS/check")"

{
    echo "rg_version $RG_VERSION"
    echo "rg_origin $(cat "$R/covwrap/.origin")"
    echo "covdata_bin ${COVDATA_BIN:-target/release/covdata}"
    echo "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- covdata runtime src Cargo.lock 2>/dev/null || echo ' plus uncommitted changes to covdata/runtime/src')"
    machine_info "$R"
    echo "llvm $(llvm-cov-22 --version | grep -m1 -i 'version' | sed 's/^ *//')"
    echo "genhtml $(genhtml --version 2>&1 | head -n1)"
    echo "mem $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "n $N"
    echo "jobs $JOBS"
    echo "warmup $WARMUP"
    echo "runs $RUNS"
    echo "runs_slow $RUNS_SLOW"
    echo "quiet_max $QUIET_MAX"
    echo "taskset $HAVE_TASKSET"
} >"$RESULTS/info"

doc_args=(--results "$RESULTS")
[[ -n "${NO_DOC:-}" ]] || doc_args+=(--doc docs/BENCHMARKS.md)
python3 "$BENCH/html_doc.py" doc "${doc_args[@]}"
