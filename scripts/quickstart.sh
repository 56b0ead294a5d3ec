#!/usr/bin/env bash
# Installs covwrap and covdata from this checkout, then runs the whole
# quickstart on examples/: build with the wrapper, run, report.
# Everything it makes besides the installed binaries goes to
# target/quickstart/ in this checkout (emptied first), so it is easy to
# find afterwards and `cargo clean` removes it.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work="$repo/target/quickstart"
rm -rf "$work"
mkdir -p "$work"
echo "== scratch directory: $work (emptied at each run)"

step() { printf '\n== %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

step "install covwrap and covdata into ${CARGO_HOME:-$HOME/.cargo}/bin"
cargo install --locked --quiet --path "$repo"
cargo install --locked --quiet --path "$repo/covdata"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export CARGO_TARGET_DIR="$work/target"
export COVDIR="$work/cov"
mkdir -p "$COVDIR"

step "build the CLI example with covwrap"
(cd "$repo/examples/cli" && show env RUSTC_WRAPPER=covwrap cargo build --quiet)
cli="$CARGO_TARGET_DIR/debug/cli"

step "run it a few times (each run writes one counter file)"
show "$cli" words the quick brown fox
show "$cli" fib 20
show "$cli" classify -4 0 9
"$cli" sum 1 x || echo "(exit status $?)"
ls "$COVDIR"

step "run the workspace example's test suite with covwrap"
(cd "$repo/examples/workspace" && show env RUSTC_WRAPPER=covwrap cargo test --quiet 2>&1 | grep -E '^test result' || true)

step "start the service, send it requests, stop it with SIGTERM"
(cd "$repo/examples/service" && RUSTC_WRAPPER=covwrap cargo build --quiet)
"$CARGO_TARGET_DIR/debug/service" >"$work/service.out" &
pid=$!
for _ in $(seq 50); do grep -q listening "$work/service.out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/^listening on http:\/\/127.0.0.1://p' "$work/service.out")
get() {  # a plain HTTP GET with bash alone
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf 'GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$1" >&3
  tail -n 1 <&3; echo
  exec 3<&-
}
get "/hello?name=covwrap"
get "/sum?a=2&b=40"
kill -TERM "$pid"; wait "$pid" || echo "(service died of signal $(( $? - 128 )): SIGTERM)"

step "report"
show covdata pkglist -i="$COVDIR"
show covdata percent -i="$COVDIR"
# This COVDIR holds three projects; --root makes their paths relative to
# the repository (by default, the root is the compilation directory
# shared by most functions: the workspace root of a single project).
show covdata func -i="$COVDIR" --pkg=cli --root="$repo"
show covdata textfmt -i="$COVDIR" -o="$work/cov.txt" --root="$repo"
head -5 "$work/cov.txt"
show covdata lcov -i="$COVDIR" -o="$work/lcov.info"
show covdata html -i="$COVDIR" -o="$work/html" --root="$repo"

step "what is left to look at"
echo "coverage directory: $COVDIR"
echo "Go text format:     $work/cov.txt"
echo "LCOV:               $work/lcov.info"
echo "HTML report:        $work/html/index.html"
echo "example builds:     $CARGO_TARGET_DIR"
