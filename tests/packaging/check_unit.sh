#!/bin/sh
# check_unit.sh verify UNIT BINARY | security UNIT BINARY THRESHOLD
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
*)
  echo "usage: check_unit.sh verify|security UNIT BINARY [THRESHOLD]" >&2
  exit 2
  ;;
esac
