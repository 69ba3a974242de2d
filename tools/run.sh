#!/usr/bin/env bash
# Quick start: install what is missing, build, and watch every process on this machine.
# Extra arguments go to procsentry, e.g. tools/run.sh --json
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
cmake --preset dev >/dev/null
cmake --build --preset dev
exec build/procsentry "$@"
