#!/usr/bin/env bash
# Where procsentry's CPU goes during an exec storm, by stage (as root, with perf):
#   bench/stage_profile.sh [PROCSENTRY] [EXECS]      default: build/procsentry, 40000
# Runs PROCSENTRY --json to /dev/null (as storm_bench peer does), records it during
# `storm_bench storm` and prints each stage's share of its self time (bench/stage_shares.py).
set -euo pipefail
here=$(dirname "$0")
binary=${1:-build/procsentry}
execs=${2:-40000}
storm_bench=${STORM_BENCH:-build/bench/storm_bench}
work=$(mktemp -d /tmp/stage_profile.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$binary" --json >/dev/null 2>"$work/stderr" &
monitor=$!
until grep -q watching "$work/stderr"; do
  kill -0 "$monitor" 2>/dev/null || { cat "$work/stderr" >&2; exit 1; }
  sleep 0.05
done
perf record -q -F 15000 -g --call-graph dwarf,16384 -o "$work/perf.data" -p "$monitor" 2>/dev/null &
recorder=$!
sleep 0.5  # perf attached
"$storm_bench" storm --execs "$execs"
sleep 0.3  # the last records, within procsentry's poll bound
kill -INT "$recorder"
wait "$recorder" || true
kill "$monitor"
wait "$monitor" || true
tail -1 "$work/stderr"
python3 "$here/stage_shares.py" "$work/perf.data"
