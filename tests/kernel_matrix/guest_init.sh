#!/bin/sh
# /init of the kernel-matrix guest (busybox sh, pid 1): mounts what the sensor and the
# integration tests use, runs the tests named in /etc/kernel_matrix.conf, prints one result
# line the host looks for, and powers the machine off. Never exits: pid 1 exiting panics.
export PATH=/usr/bin:/usr/sbin
export HOME=/root

# The initramfs is the kernel's "rootfs", which pivot_root(2) refuses to move, and tests
# pivot_root into a new root as containers do: copy it into a tmpfs and switch_root there
# (this script runs again, as pid 1, in the new root).
if [ -z "$KERNEL_MATRIX_SWITCHED" ]; then
  mkdir /newroot
  mount -t tmpfs -o mode=0755 root /newroot
  for entry in /*; do
    case $entry in /newroot | /proc | /sys | /dev) continue ;; esac
    cp -a "$entry" /newroot/
  done
  mkdir -p /newroot/proc /newroot/sys /newroot/dev
  export KERNEL_MATRIX_SWITCHED=1
  exec switch_root /newroot /init
fi

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o ptmxmode=0666 devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
# /tmp stays a directory of the root tmpfs: a build tree under /tmp must stay visible.
chmod 1777 /tmp
mount -t tmpfs tmpfs /run
mount -t bpf bpf /sys/fs/bpf
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mount -t cgroup2 cgroup2 /sys/fs/cgroup
ip link set lo up
hostname kernel-matrix

# Kernel modules copied from the kernel's own package (e.g. overlay for overlayfs tests).
for module in /lib/modules/kernel_matrix/*.ko; do
  [ -e "$module" ] || continue
  insmod "$module" || echo "kernel-matrix: insmod $module failed"
done
echo "kernel-matrix: modules loaded: $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"

. /etc/kernel_matrix.conf
# `psfilter=...` on the kernel command line reaches us as an environment variable.
filter=${psfilter:-$GTEST_FILTER}
echo "kernel-matrix: kernel $(uname -r), $(nproc) CPUs"
echo "kernel-matrix: will run $INTEGRATION_TEST --gtest_filter=$filter"
cd /tmp
if [ -e /etc/kernel_matrix.prelude ]; then
  echo "kernel-matrix: prelude: $(cat /etc/kernel_matrix.prelude)"
  sh /etc/kernel_matrix.prelude
fi
uptime_s() { cut -d' ' -f1 /proc/uptime; }
finish() {
  echo "KERNEL-MATRIX-RESULT: status=$1 kernel=$(uname -r) tests_from_s=$2 end_s=$(uptime_s)"
  sync
  poweroff -f
}

# The tests start the sensor themselves (a shared one for most of them: each start verifies the
# programs, 15-40 s under TCG) and print each start's time ("monitor: ... started in N s").
start=$(uptime_s)
{
  "$INTEGRATION_TEST" --gtest_filter="$filter" --gtest_color=no
  echo $? >/tmp/tests.status
} 2>&1 | tee /tmp/tests.out
status=$(cat /tmp/tests.status)
# A monitor that could not start: say why once, in the verifier's words (--verbose).
if [ "$status" != 0 ] && grep -q -e 'procsentry exited at start' -e 'procsentry did not start' /tmp/tests.out; then
  echo "kernel-matrix: a monitor could not start; the sensor once more, with --verbose:"
  "$PROCSENTRY" --verbose --json >/dev/null 2>/tmp/probe.err &
  probe=$!
  while kill -0 "$probe" 2>/dev/null && ! grep -q watching /tmp/probe.err; do sleep 0.1; done
  if grep -q watching /tmp/probe.err; then
    kill "$probe"
    wait "$probe"
    echo "kernel-matrix: with its default options the sensor starts (the failed tests name their options)"
  else
    wait "$probe"
    echo "kernel-matrix: the sensor could not start:"
    grep -v -e '^libbpf: elf' -e '^libbpf: sec' -e '^libbpf: map' -e 'CO-RE' /tmp/probe.err | tail -n 30
    finish sensor "$start"
  fi
fi
finish "$status" "$start"
sleep 5
echo "KERNEL-MATRIX-RESULT: poweroff failed"
while :; do sleep 60; done
