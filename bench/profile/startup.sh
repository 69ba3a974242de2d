#!/usr/bin/env bash
# Where procsentry's start-up CPU goes (exec to the "watching" line): each procsentry binary
# given is sampled by perf (cpu-clock, 10 kHz, DWARF call chains) from exec until it says
# "watching", then stopped; each sample is charged to the first start-up stage its call chain
# names (startup_stages.py). As root, with linux-perf installed.
#   bench/profile/startup.sh build/procsentry [/path/to/other/procsentry ...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for binary in "$@"; do
  echo "== $binary"
  perf record -q -F 10000 --call-graph dwarf,16384 -o "$work/perf.data" -- "$binary" --json >/dev/null 2>"$work/err" &
  recorder=$!
  until grep -q watching "$work/err"; do
    kill -0 "$recorder" || { cat "$work/err"; exit 1; }
    sleep 0.05
  done
  pkill -TERM -P "$recorder" # procsentry, the recorder's child
  wait "$recorder" || true
  perf script -i "$work/perf.data" 2>/dev/null | python3 "$here/startup_stages.py"
done
