#!/usr/bin/env bash
# bench/tests_query.sh: per-test attribution at scale. `covdata tests
# --line` (which tests reached a line) over a COVDIR of 1,000 and 10,000
# labelled test processes, against a plain `covdata percent` over the same
# directory; time and peak memory.
#
# Run it from anywhere (paths are derived from this file's location):
#
#     bench/tests_query.sh
#
# The goal it checks: with 10,000 test processes in the COVDIR, `covdata
# tests --line` answers in well under a second (below 1 s at the median),
# with peak memory flat in the number of runs (at most 10% more at 10,000
# runs than at 1,000). The reference figure for what per-test attribution
# costs elsewhere is coverage.py's dynamic contexts (quoted with its sources
# in docs/BENCHMARKS.md; not measured here: there is no Python program to
# compare with).
#
# What it does (scratch under bench/work/tests-query/, gitignored):
#
# 1. Builds covwrap and covdata (`cargo build --release -p covwrap -p
#    covdata`), then examples/cli (a copy) with covwrap as RUSTC_WRAPPER,
#    release profile.
# 2. Runs that binary for real N2 times (10,000), JOBS at a time, each
#    process with its own COVWRAP_LABEL (`bench::it case_<i>`, as nextest's
#    `BINARY TEST` labels look) and one of six subcommands (`words`,
#    `reverse`, `fib`, `classify`, `sum`, `help`, by i mod 6), so a sixth
#    of the runs reach the queried line: runs 0..N1-1 into one COVDIR,
#    which is then hard-linked into a second one that gets the other
#    N2-N1 runs. Real processes, real counter files: nothing is
#    replicated or synthesized.
# 3. `covdata merge --keep-labels` of the N2 directory (one counter file
#    per label: the same number of files), and a plain `covdata merge`
#    (labels lost: the query says so instead of answering).
# 4. Times with hyperfine, at N1 and N2: `covdata tests
#    --line=src/main.rs:L` (the first line of `fib`), `covdata percent`,
#    and at N2 `covdata tests` on the --keep-labels merge and on the plain
#    merge; peak RSS of each (median of 3, ru_maxrss). Checks that the
#    answer names exactly the fib runs' labels (N/6 tests, each with its
#    hits), and that the --keep-labels merge answers byte for byte the
#    same. Rewrites its section of docs/BENCHMARKS.md (between
#    `<!-- tests-query:begin -->` and `<!-- tests-query:end -->`) through
#    bench/doc_region.py.
#
# 5. The same at the scale of a real program: ripgrep (crates.io, every
#    crate instrumented, 27,740 counters, counter files of about 10 KiB)
#    run N2 times with bench/report.sh's arguments and input (bench/
#    report_tool.py runs), each with its own label; the query is the line
#    of ripgrep's own crate that the fewest counts reached in the first N1
#    runs; the --keep-labels merge must answer the same; timings and peak
#    RSS at N1 and N2 against `covdata percent`.
#
# Needs: cargo/rustc, network access to crates.io (the ripgrep build),
# hyperfine >= 1.13, python3. It installs nothing.
#
# Time: about a minute of builds (plus 3 to 6 minutes for the first
# ripgrep build), 1 to 3 minutes for each set of 10,000 runs, then two
# minutes of timings, plus up to QUIET_MAX seconds per timing group while
# other processes keep the CPUs busy. Disk: about 250 MB (ripgrep's target
# directory, 10,000 counter files of 0.3 KiB and of 10 KiB, twice).
#
# Knobs (environment): N1 (1000), N2 (10000), JOBS (2), WARMUP (2), RUNS
# (10), QUIET_MAX (120; 0: do not wait), COVDATA_BIN (measure this covdata
# binary), RG_VERSION (15.2.0), SKIP_RG=1 (no ripgrep workload),
# REUSE_RUNS=1 (keep the run sets of an earlier complete run of this
# script: only checks and timings are redone), NO_DOC=1 (do not touch
# docs/BENCHMARKS.md).

set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
cd "$ROOT"
W=bench/work
T=$W/tests-query

RG_VERSION="${RG_VERSION:-15.2.0}"
N1="${N1:-1000}"
N2="${N2:-10000}"
JOBS="${JOBS:-2}"
WARMUP="${WARMUP:-2}"
RUNS="${RUNS:-10}"
QUIET_MAX="${QUIET_MAX:-120}"
TOOL=(python3 "$BENCH/report_tool.py")
# say, die, CLEAN_ENV, link_set, expect_files, quiet, hf, rss.
# shellcheck source=bench/lib.sh
source "$BENCH/lib.sh"

((1 < N1 && N1 < N2)) || die "need 1 < N1 < N2"
for tool in cargo hyperfine python3; do
    command -v "$tool" >/dev/null || die "missing $tool (apt-get install hyperfine python3; cargo via rustup)"
done
need_hyperfine_n

RESULTS="$T/results"
rm -rf "$RESULTS" "$T/merged"
[[ -n "${REUSE_RUNS:-}" ]] || rm -rf "$T/runs"
mkdir -p "$RESULTS" "$T/runs" "$T/merged"

# complete KIND: both run sets of KIND are there (REUSE_RUNS=1 keeps them).
complete() {
    [[ -n "${REUSE_RUNS:-}" && -f "$T/runs/$1.seconds" ]] || return 1
    local n
    for n in "$N1" "$N2"; do
        (($(find "$T/runs/$1-$n" -maxdepth 1 -name 'covcounters.*' 2>/dev/null | wc -l) == n)) || return 1
    done
}

# --- builds ----------------------------------------------------------------------
say "building covwrap and covdata (release)"
"${CLEAN_ENV[@]}" cargo build --release --locked -q -p covwrap -p covdata
COVWRAP="$ROOT/target/release/covwrap"
# Relative to ROOT (the commands appear in the report).
COVDATA="${COVDATA_BIN:-target/release/covdata}"
[[ -x "$COVDATA" ]] || die "$COVDATA is not an executable"

say "building examples/cli with covwrap (release)"
rm -rf "$T/cli"
mkdir -p "$T/cli"
cp -r examples/cli/Cargo.toml examples/cli/src "$T/cli/"
[[ -f examples/cli/Cargo.lock ]] && cp examples/cli/Cargo.lock "$T/cli/"
(cd "$T/cli" && "${CLEAN_ENV[@]}" RUSTC_WRAPPER="$COVWRAP" COVWRAP_CACHE_DIR="$ROOT/$W/covwrap-cache" \
    cargo build --release -q --target-dir "$ROOT/$T/target")
BIN="$T/target/release/cli"
[[ -x "$BIN" ]] || die "$BIN was not built"
# The queried line: the first line of fib's body.
LINE=$(($(grep -n '^fn fib(n: u32)' "$T/cli/src/main.rs" | cut -d: -f1) + 1))
QUERY="src/main.rs:$LINE"

# --- the runs --------------------------------------------------------------------
# runs DIR FIRST COUNT: runs FIRST..FIRST+COUNT-1 into DIR, JOBS at a time.
runs() {
    "${CLEAN_ENV[@]}" python3 - "$BIN" "$@" "$JOBS" <<'PY'
import os, subprocess, sys
bin_, covdir, first, count, jobs = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
commands = [["words", "a", "bb", "ccc"], ["reverse", "abc"], ["fib", "40"],
            ["classify", "-3", "0", "7", "1000"], ["sum", "1", "2", "3"], ["help"]]
env = dict(os.environ, COVDIR=covdir)
running = []
for i in range(first, first + count):
    while len(running) >= jobs:
        running.pop(0).wait()
    env["COVWRAP_LABEL"] = f"bench::it case_{i}"
    running.append(subprocess.Popen([bin_] + commands[i % 6], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
for p in running:
    p.wait()
PY
}
say "running $BIN $N2 times, $JOBS at a time, each with its own COVWRAP_LABEL"
if complete cov; then
    echo "reusing the runs in $T/runs (REUSE_RUNS=1)" >&2
else
    rm -rf "$T/runs"/cov-*
    start=$(date +%s.%N)
    mkdir -p "$T/runs/cov-$N1"
    runs "$T/runs/cov-$N1" 0 "$N1"
    link_set "$T/runs/cov-$N1" "$T/runs/cov-$N2"
    runs "$T/runs/cov-$N2" "$N1" $((N2 - N1))
    end=$(date +%s.%N)
    python3 -c "print(f'{$end - $start:.1f}')" >"$T/runs/cov.seconds"
fi
expect_files "$T/runs/cov-$N1" 'covcounters.*' "$N1"
expect_files "$T/runs/cov-$N2" 'covcounters.*' "$N2"
echo "runs_seconds $(cat "$T/runs/cov.seconds")" >>"$RESULTS/info"
echo "bytes $(find "$T/runs/cov-$N2" -name 'covcounters.*' -printf '%s\n' | awk '{ s += $1 } END { print s }')" >>"$RESULTS/info"

say "merges of the $N2 runs: --keep-labels and plain"
"$COVDATA" merge -i="$T/runs/cov-$N2" -o="$T/merged/keep" --keep-labels
"$COVDATA" merge -i="$T/runs/cov-$N2" -o="$T/merged/plain"
echo "keep_files $(find "$T/merged/keep" -name 'covcounters.*' | wc -l)" >>"$RESULTS/info"

# --- checks ----------------------------------------------------------------------
say "checking the answers"
for n in "$N1" "$N2"; do
    "$COVDATA" tests -i="$T/runs/cov-$n" --line="$QUERY" >"$RESULTS/answer.$n.txt"
    want=$(((n + 3) / 6))
    got=$(wc -l <"$RESULTS/answer.$n.txt")
    ((got == want)) || die "--line=$QUERY at $n runs named $got tests, expected $want (the fib runs)"
    awk '$1 != "bench::it" || $2 !~ /^case_[0-9]+$/ || substr($2, 6) % 6 != 2 || $3 < 1 { bad = 1 } END { exit bad }' \
        "$RESULTS/answer.$n.txt" || die "the answer at $n runs names a run that is not a fib run"
done
"$COVDATA" tests -i="$T/merged/keep" --line="$QUERY" >"$RESULTS/answer.keep.txt"
cmp -s "$RESULTS/answer.$N2.txt" "$RESULTS/answer.keep.txt" ||
    die "the --keep-labels merge answers differently from the unmerged directory"
"$COVDATA" tests -i="$T/merged/plain" --line="$QUERY" >"$RESULTS/answer.plain.txt" 2>"$RESULTS/answer.plain.err"
grep -q 'without labels' "$RESULTS/answer.plain.err" || die "the plain merge's answer does not say the labels were lost"
echo "checks ok" >>"$RESULTS/info"

# --- timings ---------------------------------------------------------------------
for n in "$N1" "$N2"; do
    d="$T/runs/cov-$n"
    hf "tests.$n" "$RUNS" \
        -n "covdata tests --line" "$COVDATA tests -i=$d --line=$QUERY" \
        -n "covdata percent" "$COVDATA percent -i=$d"
    rss "tests $n" "$COVDATA" tests -i="$d" --line="$QUERY"
    rss "percent $n" "$COVDATA" percent -i="$d"
done
hf "merged.$N2" "$RUNS" \
    -n "covdata tests --line, --keep-labels merge" "$COVDATA tests -i=$T/merged/keep --line=$QUERY" \
    -n "covdata tests --line, plain merge (labels lost)" "$COVDATA tests -i=$T/merged/plain --line=$QUERY"
rss "tests keep $N2" "$COVDATA" tests -i="$T/merged/keep" --line="$QUERY"

# --- the same at ripgrep's scale ------------------------------------------------
if [[ -z "${SKIP_RG:-}" ]]; then
    RGD="$T/rg"
    STAMP="ripgrep@$RG_VERSION COVWRAP_PKG=* $(rustc -vV | tr '\n' ' ') covwrap $(sha256sum "$COVWRAP" | cut -d' ' -f1)"
    if [[ -x "$RGD/bin/rg" && -f "$RGD/.stamp" && "$(cat "$RGD/.stamp")" == "$STAMP" ]]; then
        echo "ripgrep (covwrap): up to date in $RGD" >&2
    else
        say "building ripgrep@$RG_VERSION with covwrap (COVWRAP_PKG='*', cargo install --locked)"
        rm -rf "$RGD"
        "${CLEAN_ENV[@]}" RUSTC_WRAPPER="$COVWRAP" COVWRAP_PKG='*' COVWRAP_CACHE_DIR="$ROOT/$W/covwrap-cache" \
            CARGO_TARGET_DIR="$ROOT/$T/rg-target" cargo install -q --locked --force --root "$ROOT/$RGD" "ripgrep@$RG_VERSION"
        echo "$STAMP" >"$RGD/.stamp"
    fi
    INPUT="$T/input"
    make_input "$INPUT"
    say "running ripgrep $N2 times (bench/report_tool.py runs: bench/report.sh's arguments), each with its own COVWRAP_LABEL"
    if complete rg; then
        echo "reusing ripgrep's runs in $T/runs (REUSE_RUNS=1)" >&2
    else
    rm -rf "$T/runs"/rg-*
    start=$(date +%s.%N)
    "${TOOL[@]}" runs --kind rg --bin "$RGD/bin/rg" --input "$INPUT" --first 0 --count "$N1" --jobs "$JOBS" \
        --env "COVDIR=$T/runs/rg-$N1" --env "COVWRAP_LABEL=rg::it case_{i}" --log "$RESULTS/make-runs" --log-name "rg-$N1"
    link_set "$T/runs/rg-$N1" "$T/runs/rg-$N2"
    "${TOOL[@]}" runs --kind rg --bin "$RGD/bin/rg" --input "$INPUT" --first "$N1" --count $((N2 - N1)) --jobs "$JOBS" \
        --env "COVDIR=$T/runs/rg-$N2" --env "COVWRAP_LABEL=rg::it case_{i}" --log "$RESULTS/make-runs" --log-name "rg-$N2"
    end=$(date +%s.%N)
    python3 -c "print(f'{$end - $start:.1f}')" >"$T/runs/rg.seconds"
    fi
    expect_files "$T/runs/rg-$N1" 'covcounters.*' "$N1"
    expect_files "$T/runs/rg-$N2" 'covcounters.*' "$N2"
    echo "rg_runs_seconds $(cat "$T/runs/rg.seconds")" >>"$RESULTS/info"
    echo "rg_bytes $(find "$T/runs/rg-$N2" -name 'covcounters.*' -printf '%s\n' | awk '{ s += $1 } END { print s }')" >>"$RESULTS/info"
    # The query: the line of ripgrep's own code (crates/core) with the
    # smallest non-zero count over the first N1 runs.
    "$COVDATA" lcov -i="$T/runs/rg-$N1" -o="$RESULTS/rg.lcov"
    RG_QUERY=$(python3 - "$RESULTS/rg.lcov" <<'PY'
import sys
best = None
sf = None
for line in open(sys.argv[1]):
    if line.startswith("SF:"):
        sf = line[3:].strip()
    elif line.startswith("DA:") and sf and "/crates/core/" in sf:
        n, c = map(int, line[3:].split(",")[:2])
        if c > 0 and (best is None or c < best[0]):
            best = (c, f"{sf}:{n}")
# A path suffix (covdata tests matches it to the one file ending so), not
# this machine's registry path.
path, line = best[1].rsplit(":", 1)
cut = path.find("/ripgrep-")
print(f"{path[cut + 1:] if cut >= 0 else path}:{line}")
PY
)
    echo "rg_query $RG_QUERY" >>"$RESULTS/info"
    "$COVDATA" merge -i="$T/runs/rg-$N2" -o="$T/merged/rg-keep" --keep-labels
    "$COVDATA" tests -i="$T/runs/rg-$N2" --line="$RG_QUERY" >"$RESULTS/answer.rg.txt"
    "$COVDATA" tests -i="$T/merged/rg-keep" --line="$RG_QUERY" >"$RESULTS/answer.rg-keep.txt"
    [[ -s "$RESULTS/answer.rg.txt" ]] || die "--line=$RG_QUERY named no test"
    cmp -s "$RESULTS/answer.rg.txt" "$RESULTS/answer.rg-keep.txt" ||
        die "ripgrep: the --keep-labels merge answers differently from the unmerged directory"
    echo "rg_tests $(wc -l <"$RESULTS/answer.rg.txt")" >>"$RESULTS/info"
    for n in "$N1" "$N2"; do
        d="$T/runs/rg-$n"
        hf "rg.$n" "$RUNS" \
            -n "covdata tests --line" "$COVDATA tests -i=$d --line=$RG_QUERY" \
            -n "covdata percent" "$COVDATA percent -i=$d"
        rss "rg tests $n" "$COVDATA" tests -i="$d" --line="$RG_QUERY"
        rss "rg percent $n" "$COVDATA" percent -i="$d"
    done
fi

{
    echo "n1 $N1"
    echo "n2 $N2"
    echo "query $QUERY"
    echo "date $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "commit $(git rev-parse --short=12 HEAD)$(git diff --quiet HEAD -- covdata runtime || echo '+changes')"
    echo "cpus $(nproc)"
    echo "rustc $(rustc --version)"
    echo "hyperfine $(hyperfine --version | cut -d' ' -f2)"
} >>"$RESULTS/info"

python3 "$BENCH/tests_query_doc.py" --results "$RESULTS" ${NO_DOC:+--no-doc} --doc docs/BENCHMARKS.md
