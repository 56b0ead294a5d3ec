# bench/lib.sh: shell helpers shared by the bench/*.sh scripts.
# Sourced, not run. The functions read these globals when called:
#   TOOL       (python3 bench/report_tool.py, set here)
#   RESULTS    directory of result files (make-runs, quiet, loadavg, commands,
#              hf.<group>.json, cpustat, rss.tsv)
#   INPUT      ripgrep's input directory (make_runs)
#   JOBS       runs at a time (make_runs; Go's runs are always one at a time)
#   QUIET_MAX  seconds to wait for a quiet machine before a timing group
#   WARMUP     hyperfine warmup runs (hf)

# The scripts' directory and the repository root, their working directory.
BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
cd "$ROOT"
TOOL=(python3 "$BENCH/report_tool.py")

say() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Variables that steer coverage output or builds; cleared for every build,
# run and measurement (report_tool.py's CLEAN is the same list).
CLEAN_ENV=(env -u COVDIR -u COVWRAP_QUIET -u COVWRAP_LABEL -u COVWRAP_MERGE -u LLVM_PROFILE_FILE
    -u GOCOVERDIR -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS -u CARGO_BUILD_RUSTFLAGS
    -u RUSTC_WRAPPER -u RUSTC_WORKSPACE_WRAPPER -u CARGO_BUILD_RUSTC_WRAPPER
    -u COVWRAP_PKG -u COVWRAP_RUSTC_WRAPPER -u COVWRAP_LOG -u COVWRAP_CACHE_DIR -u COVWRAP_IN_RUSTC
    -u RIPGREP_CONFIG_PATH)

# The agent's and the center's variables, cleared too by the scripts that
# run services and centers (CLEAN_ENV+=("${CENTER_ENV[@]}")).
CENTER_ENV=(-u COVWRAP_CENTER -u COVWRAP_SERVICE -u COVWRAP_CENTER_TOKEN -u COVDATA_CENTER_TOKEN)

# --- tools and space -----------------------------------------------------------
# need_tool TOOL [HINT]: TOOL is recorded as missing (with HINT, how to get
# it) unless it is on PATH; check_tools then names every missing one.
MISSING=()
need_tool() {
    command -v "$1" >/dev/null || MISSING+=("$1${2:+ ($2)}")
}
check_tools() {
    ((${#MISSING[@]} == 0)) && return 0
    printf 'error: missing tools:\n' >&2
    printf '  %s\n' "${MISSING[@]}" >&2
    exit 1
}

# need_space DIR GB WHAT: dies unless DIR's file system has GB free.
need_space() {
    local avail_kb
    avail_kb=$(df -Pk "$1" | awk 'NR == 2 { print $4 }')
    ((avail_kb >= $2 * 1024 * 1024)) ||
        die "only $((avail_kb / 1024)) MB free under $1; about $2 GB are needed${3:+ ($3)}"
}

# stop_pids PID...: kills these background processes (empty ones skipped)
# and waits for them; for EXIT traps.
stop_pids() {
    local p
    for p in "$@"; do
        [[ -n "$p" ]] && { kill "$p" 2>/dev/null || true; }
    done
    wait 2>/dev/null || true
}

# --- builds --------------------------------------------------------------------
# rg_round_knobs RUNS ROUNDS WARMUP: the knobs of the scripts that time
# ripgrep in interleaved rounds, from the environment or these defaults:
# RG_VERSION (15.2.0), RUNS (timed runs per variant and workload), ROUNDS,
# WARMUP, and PER_ROUND (RUNS over ROUNDS, rounded up).
rg_round_knobs() {
    RG_VERSION="${RG_VERSION:-15.2.0}"
    RUNS="${RUNS:-$1}"
    ROUNDS="${ROUNDS:-$2}"
    WARMUP="${WARMUP:-$3}"
    PER_ROUND=$(((RUNS + ROUNDS - 1) / ROUNDS))
}

# need_report_tools: what the report benchmarks (html, report) need: cargo,
# rustc, hyperfine, python3 and LLVM 22's llvm-profdata and llvm-cov.
need_report_tools() {
    local tool
    for tool in cargo rustc hyperfine python3; do
        need_tool "$tool" "apt-get install hyperfine python3; cargo/rustc via rustup"
    done
    for tool in llvm-profdata-22 llvm-cov-22; do
        need_tool "$tool" "apt-get install llvm-22, from apt.llvm.org if your distribution lacks it"
    done
}

# build_covwrap_covdata DIR: cargo build --release -p covwrap -p covdata;
# sets COVWRAP_BIN, TOOLCHAIN and COVWRAP_SUM, and CD, a copy of the covdata
# under measurement (COVDATA_BIN, else target/release/covdata) in DIR/bin,
# so that a rebuild by someone else meanwhile does not change it. With
# COVDATA_BIN set a failed build goes on with the existing
# target/release/covwrap.
build_covwrap_covdata() {
    say "building covwrap and covdata (cargo build --release -p covwrap -p covdata)"
    if ! "${CLEAN_ENV[@]}" CARGO_TARGET_DIR="$ROOT/target" cargo build --release -p covwrap -p covdata; then
        [[ -n "${COVDATA_BIN:-}" && -x target/release/covwrap ]] ||
            die "cargo build --release -p covwrap -p covdata failed"
        echo "warning: the build failed; going on with the existing target/release/covwrap and COVDATA_BIN=$COVDATA_BIN" >&2
    fi
    COVWRAP_BIN="$ROOT/target/release/covwrap"
    TOOLCHAIN="$(rustc -vV | tr '\n' ' ')"
    COVWRAP_SUM="$(sha256sum "$COVWRAP_BIN" | cut -d' ' -f1)"
    mkdir -p "$1/bin"
    cp "${COVDATA_BIN:-target/release/covdata}" "$1/bin/covdata"
    CD="$1/bin/covdata"
}

# build_covwrap: cargo build --release -p covwrap; sets COVWRAP_BIN, and
# TOOLCHAIN and COVWRAP_SUM for build_rg's stamps.
build_covwrap() {
    say "building covwrap (cargo build --release -p covwrap)"
    "${CLEAN_ENV[@]}" CARGO_TARGET_DIR="$ROOT/target" cargo build --release -p covwrap
    COVWRAP_BIN="$ROOT/target/release/covwrap"
    [[ -x "$COVWRAP_BIN" ]] || die "no $COVWRAP_BIN after the build"
    TOOLCHAIN="$(rustc -vV | tr '\n' ' ')"
    COVWRAP_SUM="$(sha256sum "$COVWRAP_BIN" | cut -d' ' -f1)"
}

# build_rg NAME VAR=VALUE...: cargo install ripgrep@RG_VERSION into $W/NAME
# with its own target dir and the given extra environment; skipped (unless
# REBUILD is set) when the stamp says the same version, toolchain and
# settings (and covwrap binary) built it. The build time goes to
# $W/NAME/.build-seconds.
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

# --- variants of one program ---------------------------------------------------
# Scripts that time VARIANTS of a program on WORKLOADS set BIN[v] (the
# binary), ENVS[v] (zero or more VAR=VALUE words), WARGS[w] (arguments),
# PROFRAW_DIR and COVDIR_DIR (where the variants write).

# run_env VARIANT CMD...: CMD in the variant's environment.
run_env() {
    local v="$1"
    shift
    # shellcheck disable=SC2086 # ENVS holds VAR=VALUE words
    "${CLEAN_ENV[@]}" ${ENVS[$v]} "$@"
}

# clean_outputs: empties the output directories between batches (covmeta
# stays: the covwrap steady state is "meta file present"), then flushes
# dirty pages so that no batch pays for the previous one's writeback.
clean_outputs() {
    find "$PROFRAW_DIR" -mindepth 1 -delete
    find "$COVDIR_DIR" -mindepth 1 ! -name 'covmeta.*' -delete
    sync
}

# check_same_output REFERENCE: every variant runs every workload without a
# word on stderr and prints what REFERENCE prints (sorted; not nothing).
check_same_output() {
    local ref="$1" w v err out expected args
    say "checking that every variant runs and prints the same"
    for w in "${WORKLOADS[@]}"; do
        read -ra args <<<"${WARGS[$w]}"
        expected="$(run_env "$ref" "${BIN[$ref]}" "${args[@]}" | sort)"
        [[ -n "$expected" ]] || die "$ref found nothing: ${WARGS[$w]}"
        for v in "${VARIANTS[@]}"; do
            err="$RESULTS/check.$w.$v.stderr"
            if ! out="$(run_env "$v" "${BIN[$v]}" "${args[@]}" 2>"$err" | sort)"; then
                die "$v: '${ENVS[$v]} ${BIN[$v]} ${args[*]}' failed: $(cat "$err")"
            fi
            [[ "$out" == "$expected" ]] || die "$v: output differs from $ref (${WARGS[$w]})"
            [[ ! -s "$err" ]] || die "$v: unexpected stderr: $(cat "$err")"
        done
    done
}

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
    # Dirty pages the steps before left (runs, profiles, reports) are
    # written back now, not by the kernel in the middle of the timings.
    sync
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

# machine_info DIR: the `key value` lines every results/info file starts
# with: toolchain, hyperfine, CPUs, kernel, DIR's file system, the date.
machine_info() {
    echo "rustc $(rustc -V)"
    echo "hyperfine $(hyperfine --version)"
    echo "nproc $(nproc)"
    echo "cpu $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "kernel $(uname -sr)"
    echo "fs $(df -PT "$1" | awk 'NR == 2 { print $2 }')"
    echo "date $(date -u '+%Y-%m-%d %H:%M UTC')"
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
    probe_callgrind
}

# probe_callgrind: sets HAVE_CALLGRIND (0 with SKIP_CALLGRIND set, or
# without valgrind, saying so).
probe_callgrind() {
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
