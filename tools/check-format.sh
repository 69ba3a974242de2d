#!/usr/bin/env bash
# Fails when a C++ file differs from .clang-format (BPF C and the wire header follow kernel style).
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files '*.cpp' '*.h' ':!:src/bpf/**' ':!:include/**' | xargs clang-format --dry-run -Werror
