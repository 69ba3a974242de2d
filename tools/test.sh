#!/usr/bin/env bash
# Install what is missing, build every preset and run every test (as root: the integration
# tests load the real sensor). This is what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
fuzz_seconds=${PROCSENTRY_FUZZ_SECONDS:-60}

step() { printf '\n==== %s\n' "$*"; }

step "format check"
tools/check-format.sh

for preset in dev asan-ubsan tsan; do
  step "build and test: $preset"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset"
  ctest --preset "$preset"
done

step "fuzz the decoder for ${fuzz_seconds}s"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
cp fuzz/corpus/decode/* "$corpus"/
build/fuzz/fuzz/decode_fuzz -max_total_time="$fuzz_seconds" -print_final_stats=1 "$corpus" fuzz/corpus/decode

step "all tests passed"
