#!/bin/sh
# check_unit.sh verify UNIT BINARY | security UNIT BINARY THRESHOLD | syscall-filter UNIT BINARY HARNESS
# Checks packaging/procsentry.service without a running systemd. The unit names
# /usr/bin/procsentry, which a build machine may not have: a copy whose ExecStart names the
# build's binary is checked instead (the package test verifies the installed unit as it is).
set -eu
what=$1 unit=$2 binary=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed "s|/usr/bin/procsentry|$binary|" "$unit" >"$dir/procsentry.service"
case $what in
verify)
  # verify only warns (status 0) about unknown keys and bad values: any output fails.
  # --man=no: the man page is checked once installed (tests/packaging/package_test.sh).
  out=$(systemd-analyze verify --man=no "$dir/procsentry.service" 2>&1) || { echo "$out"; exit 1; }
  if [ -n "$out" ]; then echo "$out"; exit 1; fi
  echo "systemd-analyze verify: no complaint"
  ;;
security)
  # The exposure (0.0-10.0) times ten must not exceed THRESHOLD (the README states it).
  systemd-analyze security --offline=true --threshold="$4" "$dir/procsentry.service"
  ;;
syscall-filter)
  # The unit's ExecStart under its SystemCallFilter= lines (groups expanded by systemd itself,
  # "~" lines taken away), through HARNESS (run_under_filter.cpp): it must start, record and stop
  # cleanly, not be killed by SIGSYS.
  expand() {
    systemd-analyze syscall-filter "$1" | tail -n +2 | sed 's/^ *//' | grep -v -e '^#' -e '^$' |
      while read -r name; do
        case $name in
        @*) expand "$name" ;;
        *) echo "$name" ;;
        esac
      done
  }
  : >"$dir/allow"
  : >"$dir/deny"
  sed -n 's/^SystemCallFilter=//p' "$unit" | while read -r line; do
    list=allow
    case $line in "~"*) list=deny line=${line#\~} ;; esac
    for item in $line; do
      case $item in
      @*) expand "$item" ;;
      *) echo "$item" ;;
      esac
    done >>"$dir/$list"
  done
  sort -u "$dir/allow" >"$dir/allow.sorted"
  sort -u "$dir/deny" | comm -23 "$dir/allow.sorted" - >"$dir/allowed"
  [ -s "$dir/allowed" ] || { echo "no SystemCallFilter= allow-list in $unit"; exit 1; }
  # The unit's ExecStart, word for word, with a configuration that records into this
  # directory and hashes (the most the monitor does).
  harness=$4
  printf 'hash: sha256\nrecord:\n  db: %s/events.db\n' "$dir" >"$dir/procsentry.yaml"
  exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
  echo "ExecStart=$exec_start"
  set --
  for word in $exec_start; do
    case $word in
    /usr/bin/procsentry) set -- "$@" "$binary" ;;
    /etc/procsentry/procsentry.yaml) set -- "$@" "$dir/procsentry.yaml" ;;
    *) set -- "$@" "$word" ;;
    esac
  done
  "$harness" "$dir/allowed" "$@" >/dev/null 2>"$dir/stderr" &
  monitor=$!
  tries=0
  until grep -q watching "$dir/stderr"; do
    if ! kill -0 "$monitor" 2>/dev/null || [ $tries -ge 1200 ]; then
      wait "$monitor" || echo "exit status $?"
      cat "$dir/stderr"
      exit 1
    fi
    tries=$((tries + 1))
    sleep 0.1  # polling the marker, up to 120 s
  done
  /bin/true filtered-unit-check
  kill -TERM "$monitor"
  status=0
  wait "$monitor" || status=$?
  cat "$dir/stderr"
  if [ "$status" -ne 0 ]; then
    echo "the monitor under the unit's SystemCallFilter= ended with status $status (159: killed by SIGSYS)"
    exit 1
  fi
  grep -q 'events recorded to' "$dir/stderr" || exit 1
  echo "the monitor ran and stopped under the unit's filter ($(wc -l <"$dir/allowed") calls allowed)"
  ;;
*)
  echo "usage: check_unit.sh verify|security UNIT BINARY [THRESHOLD]" >&2
  exit 2
  ;;
esac
