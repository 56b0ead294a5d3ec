#!/usr/bin/env bash
# covdata against cargo-llvm-cov on real crates.io CLIs whose integration
# tests spawn their binaries: every line of every reported file must have
# the same covered/uncovered status (tests/e2e/llvmcov.rs does the work;
# the test suite runs it on hexyl only, this runs the full list).
# Needs cargo-llvm-cov (`cargo install --locked cargo-llvm-cov`) and
# llvm-cov-22 / llvm-profdata-22.
set -euo pipefail
cd "$(dirname "$0")/.."
crates=${1:-hexyl@0.16.0,ripgrep@15.2.0}
COVWRAP_LLVM_COV_CRATES=$crates cargo test --locked --test e2e \
  llvmcov::crates_io_clis_match_cargo_llvm_cov_line_by_line -- --nocapture
