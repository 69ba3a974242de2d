#!/usr/bin/env bash
# Installs what procsentry needs (Debian 12). Safe to run again.
#   tools/deps.sh              what building and running the Linux monitor needs
#   tools/deps.sh --for-tests  plus the test and cross-build tools (clang-format, mingw-w64, wine,
#                              openssl and osslsigncode to sign the driver, what builds the Windows
#                              client's store libraries, QEMU and busybox for the kernel matrix)
set -euo pipefail
packages=(
  cmake ninja-build g++ pkg-config
  clang llvm libclang-rt-dev bpftool libbpf-dev libelf-dev zlib1g-dev
  libfmt-dev libcli11-dev nlohmann-json3-dev libgtest-dev libbenchmark-dev nettle-dev libsqlite3-dev
  libzstd-dev libxxhash-dev  # the store: zstd bodies with dictionaries, xxhash (header only) for its strings
  libcap-dev libseccomp-dev libyaml-cpp-dev libre2-dev libevent-dev
  libcpp-httplib-dev  # only the tests' HTTP client (metrics_test, integration_test): procsentry uses libevent
  dpkg-dev  # cpack -G DEB: dpkg-shlibdeps finds the package's dependencies
  librdkafka-dev  # --kafka: only procsentry-kafka.so and build/kafka-mock-cluster link it
)
if [[ ${1:-} == --for-tests ]]; then
  packages+=(clang-format mingw-w64 wine64 rsyslog)
  # the mingw build test-signs procsentry.sys with a certificate it generates
  packages+=(openssl osslsigncode)
  # the Windows client's store libraries from Debian's sources (tools/mingw_deps.sh): apt-get
  # source (dpkg-dev) checked against debian-archive-keyring, SQLite's amalgamation (tcl), RE2's
  # Unicode tables (perl, python3-six, unicode-data)
  packages+=(dpkg-dev debian-archive-keyring tcl perl python3-six unicode-data)
  # --kafka's tests read the topic back with a real consumer
  packages+=(kcat)
  # --metrics: promtool checks the exposition (package prometheus)
  packages+=(prometheus)
  # the unit's and the package's checks (systemd-analyze, its man page check, lintian)
  packages+=(systemd man-db lintian)
  # the package test scrapes the installed service's metrics as Prometheus would
  packages+=(curl)
  # the kernel matrix (tests/kernel_matrix): QEMU, the guest's busybox, the initramfs
  packages+=(qemu-system-x86 busybox-static cpio debian-archive-keyring xz-utils)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "procsentry: missing packages (${missing[*]}): run this as root (sudo)" >&2
    exit 2
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}"
fi
