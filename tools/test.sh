#!/usr/bin/env bash
# Install what is missing, build every preset and run every test (as root: the integration
# tests load the real sensor). This is what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

# step NAME: starts the next step; each step's time is printed at the end (timings).
step_names=()
step_seconds=()
step_started=$SECONDS
end_step() {
  if ((${#step_names[@]} > ${#step_seconds[@]})); then step_seconds+=($((SECONDS - step_started))); fi
  step_started=$SECONDS
}
step() {
  end_step
  step_names+=("$*")
  printf '\n==== %s\n' "$*"
}
timings() {
  end_step
  echo "time per step (total $SECONDS s):"
  for i in "${!step_seconds[@]}"; do printf '%6d s  %s\n' "${step_seconds[$i]}" "${step_names[$i]}"; done
}

step "install what is missing"
tools/deps.sh --for-tests
fuzz_seconds=${PROCSENTRY_FUZZ_SECONDS:-40}  # per fuzz target

# The kernel matrix's kernels download while the rest builds (network, not CPU); the matrix
# step waits for them (and fetches again, saying why, whatever this did not get).
kernel_cache=build/kernel_matrix/cache
prefetch_log=build/kernel_matrix/prefetch.log
mkdir -p "$kernel_cache"
(
  while read -r _ suite; do
    tests/kernel_matrix/fetch_kernel.sh "$suite" "$kernel_cache" &
  done < <(grep -v -e '^#' -e '^[[:space:]]*$' tests/kernel_matrix/kernels.txt)
  wait
) >"$prefetch_log" 2>&1 &
prefetch=$!
# The Windows client's store libraries (SQLite, zstd, RE2 from Debian's sources: about 50 s of
# one core and 16 MB of downloads on a fresh machine) build behind the dev build, in what CPU it
# leaves (its configure, its links); the mingw step, after it, waits for them.
mingw_deps_log=build/logs/mingw-deps.log
mkdir -p build/logs
setsid --wait nice -n 10 tools/mingw_deps.sh >"$mingw_deps_log" 2>&1 &
mingw_deps=$!
corpus=
matrix=
builder=
cleanup() {
  kill "$prefetch" 2>/dev/null || true
  kill -- -"$mingw_deps" 2>/dev/null || true
  [[ -z $matrix ]] || kill -- -"$matrix" 2>/dev/null || true
  [[ -z $builder ]] || kill -- -"$builder" 2>/dev/null || true
  [[ -z $corpus ]] || rm -rf "$corpus"
}
trap cleanup EXIT

step "format check"
tools/check-format.sh

passed=0
failed=0
skipped=0
# Every test runs here as root with BPF: a skipped test is a test that did not run, so it fails
# the run (set PROCSENTRY_ALLOW_SKIPS=1 to allow skips on a machine that lacks something).
tally() {
  timings
  echo "tests: $passed passed, $failed failed, $skipped skipped"
}
# count_ctest LOG STATUS: adds the counts of a ctest output to the tally; stops at a failure.
count_ctest() {
  local log=$1 status=$2 total bad skips
  # "100% tests passed, 0 tests failed out of 72"; skipped tests are among those "passed"
  # and are listed as "  12 - Suite.Name (Skipped)".
  total=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -n 1)
  bad=$(sed -n 's/.* \([0-9]*\) tests failed out of.*/\1/p' "$log" | tail -n 1)
  skips=$(grep -c ' (Skipped)$' "$log" || true)
  passed=$((passed + ${total:-0} - ${bad:-0} - skips))
  failed=$((failed + ${bad:-0}))
  skipped=$((skipped + skips))
  if ((status != 0)); then
    tally
    exit "$status"
  fi
  if ((skips > 0)) && [[ ${PROCSENTRY_ALLOW_SKIPS:-0} != 1 ]]; then
    echo "procsentry: $skips test(s) skipped (listed above): as root with BPF every test must run" >&2
    tally
    exit 1
  fi
}
# run_ctest ARGS...: ctest with ARGS, its counts added to the tally; stops at a failure.
run_ctest() {
  local log status=0
  log=$(mktemp)
  ctest "$@" | tee "$log" || status=$?
  count_ctest "$log" "$status"
  rm -f "$log"
}

# The kernel matrix (the dev preset sets PROCSENTRY_KERNEL_MATRIX: one ctest test per kernel,
# the three VMs at once) needs only the dev build, and its guests mostly wait (a start's
# verification, a test's events): it runs in the background from the dev tests on, while the
# other presets build and test, and is judged last, so that a kernel's failure never hides the
# other presets' results. Its own session, to be stopped whole (QEMU too) if this stops early.
matrix_log=build/kernel_matrix/ctest.log
start_matrix() {
  wait "$prefetch" || echo "kernel download ahead of time failed ($prefetch_log); the matrix tries again"
  setsid --wait ctest --preset dev -L kernel_matrix -j 3 >"$matrix_log" 2>&1 &
  matrix=$!
  echo "kernel matrix started in the background (output: $matrix_log)"
}

# CI's machine is thrown away after the run: line tables (-g1) are all its reports and stack
# traces need, and objects compile about a fifth faster than with -g (.ci/run sets this; a
# developer's own build keeps the presets' -g).
flags=()
if [[ ${PROCSENTRY_LINE_TABLES_ONLY:-0} == 1 ]]; then
  flags=(-DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG")
fi

# The next preset builds behind each preset's tests: the tests mostly wait for processes and
# events (about half a core), so the build (niced: the tests keep the CPU they ask for) takes
# what they leave, and the run takes about the builds' time instead of builds plus tests.
build_logs=build/logs
mkdir -p "$build_logs"
building=
# start_build PRESET: configures and builds PRESET in the background (its own session, stopped
# whole if this stops early), its output in $build_logs/PRESET.log.
start_build() {
  building=$1
  setsid --wait bash -c 'cmake --preset "$1" "${@:2}" >/dev/null && nice -n 10 cmake --build --preset "$1"' \
    _ "$building" "${flags[@]}" >"$build_logs/$building.log" 2>&1 &
  builder=$!
}
# finish_build: waits for the build start_build began; its failure stops the run with its log.
finish_build() {
  local status=0
  wait "$builder" || status=$?
  builder=
  if ((status != 0)); then
    cat "$build_logs/$building.log"
    echo "procsentry: building the $building preset failed (its output is above)" >&2
    tally
    exit "$status"
  fi
  tail -n 1 "$build_logs/$building.log"
}

step "build: dev"
cmake --preset dev "${flags[@]}" >/dev/null
cmake --build --preset dev

step "cross-build the Windows driver and client (mingw-w64)"
wait "$mingw_deps" || {
  cat "$mingw_deps_log"
  echo "procsentry: building the Windows client's store libraries failed (its output is above)" >&2
  exit 1
}
cmake --preset mingw >/dev/null
cmake --build --preset mingw

next=(asan-ubsan tsan fuzz)
presets=(dev asan-ubsan tsan)
for i in "${!presets[@]}"; do
  preset=${presets[$i]}
  start_build "${next[$i]}"
  step "test: $preset (the ${next[$i]} preset builds behind)"
  run_ctest --preset "$preset" -LE kernel_matrix
  if [[ $preset == dev ]]; then start_matrix; fi
  step "build: ${next[$i]} (what the tests left of it)"
  finish_build
done

step "fuzz the decoder, then the whole pipeline, for ${fuzz_seconds}s each"
corpus=$(mktemp -d)
cp fuzz/corpus/decode/* "$corpus"/
build/fuzz/fuzz/decode_fuzz -max_total_time="$fuzz_seconds" -print_final_stats=1 "$corpus" fuzz/corpus/decode
# Hostile records through enrichment and every formatter (valid UTF-8 JSON, no control byte in
# the table); its corpus starts from the decoder's.
build/fuzz/fuzz/pipeline_fuzz -max_total_time="$fuzz_seconds" -print_final_stats=1 "$corpus"

step "kernel matrix: the integration tests on Debian 11, 12 and 13 kernels (QEMU, TCG)"
matrix_status=0
wait "$matrix" || matrix_status=$?
matrix=
cat "$matrix_log"
count_ctest "$matrix_log" "$matrix_status"

step "all tests passed"
tally
