#!/usr/bin/env bash
# Where procsentry's live path spends its CPU: for each procsentry binary given, in turn (so
# builds are compared side by side in one run), `--json` to /dev/null is sampled by perf
# (cpu-clock, 20 kHz, DWARF call chains) during a storm of 6,000 fork+exec+exit of
# /usr/bin/true from 4 workers, and each sample is charged to the innermost stage its call
# chain names (stages.py). As root, with linux-perf installed.
#   bench/profile/live_path.sh build/procsentry [/path/to/other/procsentry ...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for binary in "$@"; do
  echo "== $binary"
  "$binary" --json >/dev/null 2>"$work/err" &
  monitor=$!
  until grep -q watching "$work/err"; do
    kill -0 "$monitor" || { cat "$work/err"; exit 1; }
    sleep 0.1
  done
  perf record -q -F 20000 --call-graph dwarf,16384 -p "$monitor" -o "$work/perf.data" 2>/dev/null &
  recorder=$!
  sleep 0.5
  workers=()
  for _ in 1 2 3 4; do
    (for _ in $(seq 1500); do /usr/bin/true storm-bench; done) &
    workers+=($!)
  done
  wait "${workers[@]}"
  sleep 0.3 # the last records: within the 50 ms poll
  kill -INT "$recorder"
  wait "$recorder" || true
  kill "$monitor"
  wait "$monitor" || true
  tail -1 "$work/err"
  perf script -i "$work/perf.data" 2>/dev/null | python3 "$here/stages.py"
done
