# bench/lib.sh: shell helpers shared by bench/runtime-exit.sh, bench/report.sh and bench/merge.sh.
# Sourced, not run. The functions read these globals when called:
#   TOOL       (python3 bench/report_tool.py)
#   RESULTS    directory of result files (make-runs, quiet, loadavg, commands,
#              hf.<group>.json, cpustat, rss.tsv)
#   INPUT      ripgrep's input directory (make_runs)
#   JOBS       runs at a time (make_runs; Go's runs are always one at a time)
#   QUIET_MAX  seconds to wait for a quiet machine before a timing group
#   WARMUP     hyperfine warmup runs (hf)

say() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Variables that steer coverage output or builds; cleared for every build,
# run and measurement (report_tool.py's CLEAN is the same list).
CLEAN_ENV=(env -u COVDIR -u COVWRAP_QUIET -u COVWRAP_LABEL -u COVWRAP_MERGE -u LLVM_PROFILE_FILE
    -u GOCOVERDIR -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS -u CARGO_BUILD_RUSTFLAGS
    -u RUSTC_WRAPPER -u RUSTC_WORKSPACE_WRAPPER -u CARGO_BUILD_RUSTC_WRAPPER
    -u COVWRAP_PKG -u COVWRAP_RUSTC_WRAPPER -u COVWRAP_LOG -u COVWRAP_CACHE_DIR -u COVWRAP_IN_RUSTC
    -u RIPGREP_CONFIG_PATH)

# make_runs KIND BIN ENVVAR DIR FIRST COUNT: runs FIRST..FIRST+COUNT-1 with
# ENVVAR pointing into DIR; how long it took goes to the results.
make_runs() {
    local kind="$1" bin="$2" var="$3" dir="$4" first="$5" count="$6" value
    mkdir -p "$dir"
    case "$var" in
    # %p alone is not unique: pid_max is often 32768, and pids wrap during a
    # few thousand runs (a later run then overwrites an earlier profile).
    LLVM_PROFILE_FILE) value="$dir/rg-{i}-%p.profraw" ;;
    *) value="$dir" ;;
    esac
    # Go's programs run one at a time: each run rewrites covmeta.<H> through
    # a temporary name made of the file name and time.Now().UnixNano(),
    # without the pid, so two concurrent runs can collide ("coverage
    # meta-data emit failed: ... rename ... no such file or directory").
    local jobs="$JOBS"
    [[ "$kind" == go ]] && jobs=1
    "${TOOL[@]}" runs --kind "$kind" --bin "$bin" --input "$INPUT" --first "$first" --count "$count" \
        --jobs "$jobs" --env "$var=$value" --log "$RESULTS/make-runs" --log-name "$(basename "$dir")"
}

# link_set FROM TO: TO gets hard links to every file of FROM.
link_set() {
    mkdir -p "$2"
    find "$1" -maxdepth 1 -type f -exec ln -t "$2" {} +
}

# expect_files DIR PATTERN N
expect_files() {
    local n
    n=$(find "$1" -maxdepth 1 -name "$2" | wc -l)
    ((n == $3)) || die "$1: $n files named $2, expected $3 (a pid reused within one set?)"
}

# nested_runs KIND BIN ENVVAR PREFIX N...: runs 0..N1-1 into PREFIX-N1,
# then PREFIX-N2 = PREFIX-N1 (hard links) + runs N1..N2-1, and so on.
nested_runs() {
    local kind="$1" bin="$2" var="$3" prefix="$4" prev=0 n
    shift 4
    for n in "$@"; do
        if ((prev)); then link_set "$prefix-$prev" "$prefix-$n"; fi
        make_runs "$kind" "$bin" "$var" "$prefix-$n" "$prev" $((n - prev))
        prev=$n
    done
}

# --- timing helpers ------------------------------------------------------------
# quiet NAME: waits up to QUIET_MAX seconds for the other processes on the
# machine to leave the CPUs (less than 15% busy over 3 s), and records how
# busy they were.
quiet() {
    ((QUIET_MAX > 0)) || return 0
    "${TOOL[@]}" quiet --max "$QUIET_MAX" --log "$RESULTS/quiet" --name "$1"
}

# hf NAME RUNS ARGS...: one hyperfine invocation, exported to the results.
# ARGS are hyperfine's: `-n NAME COMMAND` triples (recorded in the results'
# commands file), optionally with other options such as `--prepare CMD`.
# WARMUP is read at the call (`WARMUP=1 hf ...` sets it for one group).
hf() {
    local name="$1" runs="$2"
    shift 2
    quiet "$name"
    echo "-- $name" >&2
    echo "$name $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RESULTS/loadavg"
    local a=("$@") i
    for ((i = 0; i + 2 < ${#a[@]}; i++)); do
        [[ "${a[i]}" == -n ]] || continue
        printf '%s\t%s\t%s\n' "$name" "${a[i + 1]}" "${a[i + 2]}" >>"$RESULTS/commands"
    done
    local before
    before="$(head -n1 /proc/stat)"
    "${CLEAN_ENV[@]}" hyperfine -N --warmup "$WARMUP" --runs "$runs" --style basic \
        --export-json "$RESULTS/hf.$name.json" "$@" >&2
    # CPU time of the whole machine during the group, to tell how much of it
    # went to other processes (the report compares it with hyperfine's).
    printf '%s|%s|%s\n' "$name" "$before" "$(head -n1 /proc/stat)" >>"$RESULTS/cpustat"
}

# rss LABEL CMD...: peak RSS (median of 3) appended to the results.
rss() {
    local label="$1"
    shift
    "${CLEAN_ENV[@]}" "${TOOL[@]}" rss --out "$RESULTS/rss.tsv" --label "$label" -- "$@"
}

# need_hyperfine_n: hyperfine must support -N (no shell between runs).
need_hyperfine_n() {
    hyperfine -N --runs 1 true >/dev/null 2>&1 ||
        die "this hyperfine does not support -N (--shell=none); version 1.13 or later is needed"
}

# probe_optional_tools: sets HAVE_TASKSET and HAVE_CALLGRIND (0 with
# SKIP_CALLGRIND set), saying what is skipped without them.
probe_optional_tools() {
    HAVE_TASKSET=0
    if command -v taskset >/dev/null && taskset -c 0 true 2>/dev/null; then
        HAVE_TASKSET=1
    else
        echo "note: taskset not usable (apt-get install util-linux); skipping the one-CPU rows" >&2
    fi
    HAVE_CALLGRIND=0
    if [[ -z "${SKIP_CALLGRIND:-}" ]]; then
        if command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null; then
            HAVE_CALLGRIND=1
        else
            echo "note: valgrind not found (apt-get install valgrind); skipping the instruction profiles" >&2
        fi
    fi
}

# make_input DIR: ripgrep's input, 40 files x 300 lines of Rust-like text
# (14 KB each, 560 KB in all), generated deterministically so that the
# workload is the same on every machine; kept once complete.
make_input() {
    local dir="$1" f
    [[ -f "$dir/.complete" ]] && return 0
    rm -rf "$dir"
    mkdir -p "$dir"
    for ((f = 0; f < 40; f++)); do
        awk -v f="$f" 'BEGIN {
            for (i = 0; i < 300; i++) {
                k = (f * 7919 + i * 104729) % 1000003
                if (i % 5 == 0)      printf "pub fn item_%d_%d(x: u64) -> u64 { x.wrapping_mul(%d) }\n", f, i, k
                else if (i % 5 == 1) printf "    let value_%d = compute(%d, \"%x\");\n", i, k, k
                else if (i % 5 == 2) printf "// comment %d: the quick brown fox jumps over the lazy dog %d\n", i, k
                else if (i % 5 == 3) printf "    if value_%d > %d { return Err(Error::new(%d)); }\n", i - 2, k, i
                else                 printf "}\n"
            }
        }' >"$(printf '%s/file%02d.rs' "$dir" "$f")"
    done
    touch "$dir/.complete"
}
