#!/usr/bin/env bash
# boot.sh VMLINUZ INITRAMFS CONSOLE_LOG
# Boots one kernel under QEMU without KVM (TCG: /dev/kvm exists on these machines but a guest
# hangs), the serial console going to CONSOLE_LOG, and judges the run from that log: the
# guest's "KERNEL-MATRIX-RESULT: status=N" line and gtest's summary. A guest that has not
# powered off within the timeout is killed and counts as a failure. Exit 0 only when every
# test ran and passed; on any failure the console's tail is printed.
# Environment: PROCSENTRY_VM_TIMEOUT (seconds, default 900), PROCSENTRY_VM_SMP (default 2),
# PROCSENTRY_VM_MEMORY (default 2G), PROCSENTRY_GTEST_FILTER (overrides the initramfs's filter).
set -euo pipefail

vmlinuz=${1:?usage: boot.sh VMLINUZ INITRAMFS CONSOLE_LOG}
initramfs=${2:?}
log=${3:?}
timeout_s=${PROCSENTRY_VM_TIMEOUT:-900}
smp=${PROCSENTRY_VM_SMP:-2}
memory=${PROCSENTRY_VM_MEMORY:-2G}

if ! command -v qemu-system-x86_64 >/dev/null; then
  echo "boot: qemu-system-x86_64 is missing: apt-get install qemu-system-x86 (tools/deps.sh --for-tests)" >&2
  exit 1
fi
cmdline="console=ttyS0 panic=-1 oops=panic quiet loglevel=4"
[[ -n ${PROCSENTRY_GTEST_FILTER:-} ]] && cmdline+=" psfilter=$PROCSENTRY_GTEST_FILTER"

console() { tr -d '\r' <"$log"; }
# console_has PATTERN: whether a console line matches. Not `console | grep -q`: grep -q stops at
# the first match, tr then dies of SIGPIPE when more than a pipe's worth follows, and pipefail
# turns a match into a failure (a passing kernel was judged failed so).
console_has() { grep -a -q -e "$1" < <(console); }

# fail REASON LINES: the failure, each failed test's own output (from its RUN line to its
# FAILED line, the first 8), and the console's last LINES lines (procsentry's and the
# kernel's last words, or where a guest hung).
fail() {
  echo "boot: FAILED: $1"
  console | awk '
    /^\[ RUN      \] / { block = $0 "\n"; next }
    /^\[       OK \] / { block = ""; next }
    /^\[  FAILED  \] .*\(/ {
      if (++failed <= 8) { printf "---- %s", block; print }
      else if (failed == 9) print "---- (more failed tests: their output is in the console log)"
      block = ""; next
    }
    block != "" { block = block $0 "\n" }'
  echo "---- last $2 lines of the console ($log):"
  console | tail -n "$2"
  echo "----"
  exit 1
}

rm -f "$log"
start_ms=$(($(date +%s%N) / 1000000))
status=0
timeout --kill-after=5 "$timeout_s" qemu-system-x86_64 \
  -accel tcg -cpu max -smp "$smp" -m "$memory" \
  -nodefaults -display none -no-reboot \
  -serial "file:$log" \
  -kernel "$vmlinuz" -initrd "$initramfs" -append "$cmdline" || status=$?
elapsed_ms=$(($(date +%s%N) / 1000000 - start_ms))
printf 'boot: qemu ran %d.%d s (smp %s, %s)\n' $((elapsed_ms / 1000)) $((elapsed_ms % 1000 / 100)) "$smp" "$memory"

# What the guest said about itself: kernel, modules, each sensor start's time.
console | grep -a -e '^kernel-matrix: ' -e '^monitor: ' | grep -a -v -e '--gtest_filter=' -e '^kernel-matrix: prelude' || true
((status == 124 || status == 137)) && fail "no result within ${timeout_s} s, qemu killed (a hang, or slower than PROCSENTRY_VM_TIMEOUT)" 60
((status != 0)) && fail "qemu exited with status $status" 60
result=$(console | grep -a '^KERNEL-MATRIX-RESULT: ' | tail -n 1 || true)
[[ -z $result ]] && fail "the guest stopped before its result line (a panic or a crash)" 60
if [[ $result == "KERNEL-MATRIX-RESULT: status=sensor "* ]]; then
  fail "the sensor could not start on this kernel, so no test ran (procsentry's words above the result line)" 40
fi
# gtest's footer: how many ran, passed, were skipped (by name) and failed (by name). The last
# one: a test that execs the test binary again (with a filter matching nothing) prints its own.
footer='^\[==========\] [0-9]* tests\? from .* ran\.'
footer_at=$(console | grep -a -n "$footer" | tail -n 1 | cut -d: -f1)
console | tail -n +"${footer_at:-1}" | sed -n '1,/^KERNEL-MATRIX-RESULT: /p' | grep -a '^\[' || true
echo "boot: $result"
# As on the host (tools/test.sh): a test that skipped did not run, which fails the kernel.
if console_has '^\[  SKIPPED \] [0-9]* tests\?, listed below' && [[ ${PROCSENTRY_ALLOW_SKIPS:-0} != 1 ]]; then
  fail "tests were skipped in the guest (listed above): every test must run" 12
fi
if [[ $result != "KERNEL-MATRIX-RESULT: status=0 "* ]] || ! console_has '^\[  PASSED  \]'; then
  fail "tests failed" 12
fi
if [[ $(console | grep -a "$footer" | tail -n 1) == "[==========] 0 tests from"* ]]; then
  fail "no test matched the filter" 12
fi
