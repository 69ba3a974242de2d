#!/bin/bash
# Resident memory of one procsentry run: VmRSS and VmHWM of the monitor once it is watching
# and 500 execs have gone by, and the peak of it and its children (the BPF loader) from wait4.
# usage (root): bench/rss_once_watching.sh [PROCSENTRY] [OPTIONS...]
#   e.g. bench/rss_once_watching.sh build/procsentry --json --output /tmp/events.json
set -euo pipefail
binary=${1:-build/procsentry}
shift || true
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/time -f "%M" -o "$work/peak" "$binary" "$@" >/dev/null 2>"$work/err" &
timer=$!
for _ in $(seq 300); do
  grep -q watching "$work/err" && break
  sleep 0.1
done
grep -q watching "$work/err" || { cat "$work/err" >&2; exit 1; }
monitor=$(pgrep -P "$timer" | head -1)
for _ in $(seq 500); do /bin/true; done
sleep 0.5  # the monitor's poll bound is 50 ms
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$monitor/status")
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$monitor/status")
kill "$monitor"
wait "$timer" || true
awk -v what="$*" -v rss="$rss" -v hwm="$hwm" -v peak="$(cat "$work/peak")" \
  'BEGIN { printf "%s: VmRSS %.1f MiB, VmHWM %.1f MiB, peak with children %.1f MiB\n", what, rss / 1024, hwm / 1024, peak / 1024 }'
