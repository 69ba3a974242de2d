#!/usr/bin/env bash
# run_kernel.sh SUITE WORK_DIR PROCSENTRY INTEGRATION_TEST
# One kernel of the matrix, as one ctest test: fetch Debian SUITE's cloud kernel (cached in
# WORK_DIR/cache), build its initramfs (WORK_DIR/SUITE.cpio), boot it under QEMU/TCG and run
# the integration tests inside (console: WORK_DIR/SUITE-console.log). Exit 0 when all passed.
# By hand, e.g.: tests/kernel_matrix/run_kernel.sh bookworm build/kernel_matrix \
#   build/procsentry build/tests/integration/integration_test
# (PROCSENTRY_GTEST_FILTER=... runs other tests; see boot.sh for the VM's settings).
set -euo pipefail

suite=${1:?usage: run_kernel.sh SUITE WORK_DIR PROCSENTRY INTEGRATION_TEST}
work=${2:?}
procsentry=$(realpath "${3:?}")
integration_test=$(realpath "${4:?}")
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
work=$(realpath "$work")
start=$(date +%s)

"$here/fetch_kernel.sh" "$suite" "$work/cache"
kernel=$work/cache/$suite

# The gtest filter: everything but the patterns of not_in_guest.txt.
excluded=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/not_in_guest.txt")
filter="*-$(awk '{print $1}' <<<"$excluded" | paste -sd:)"
while read -r pattern reason; do
  echo "not run in the guest: $pattern ($reason)"
done <<<"$excluded"

"$here/build_initramfs.sh" "$work/$suite.cpio" "$procsentry" "$integration_test" "$filter" "$kernel/modules"
status=0
"$here/boot.sh" "$kernel/vmlinuz" "$work/$suite.cpio" "$work/$suite-console.log" || status=$?
echo "kernel $(cat "$kernel/release") (Debian $suite, package $(cat "$kernel/version")):" \
  "$( ((status == 0)) && echo passed || echo FAILED) in $(($(date +%s) - start)) s"
exit "$status"
