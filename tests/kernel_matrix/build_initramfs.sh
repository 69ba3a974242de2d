#!/usr/bin/env bash
# build_initramfs.sh OUT.cpio PROCSENTRY INTEGRATION_TEST GTEST_FILTER [MODULES_DIR]
# The guest's root file system, shared by every kernel: busybox (sh and the tools /init
# uses), procsentry and integration_test at the same absolute paths as on this host (the
# tests run PROCSENTRY_BINARY, a path compiled in), every shared library they load (the
# ldd closure and the dynamic loader, at their host paths), the coreutils the tests exec
# by path, and /init. The layout is merged-/usr like Debian's; /bin/sh is busybox sh and
# /etc/passwd knows only root, so tests cannot lean on Debian's dash or user names.
# MODULES_DIR: the kernel's modules to insmod at boot (*.ko, from fetch_kernel.sh).
set -euo pipefail

out=${1:?usage: build_initramfs.sh OUT.cpio PROCSENTRY INTEGRATION_TEST GTEST_FILTER [MODULES_DIR]}
procsentry=${2:?}
integration_test=${3:?}
filter=${4:?}
modules=${5:-}
here=$(cd "$(dirname "$0")" && pwd)
busybox=$(command -v busybox || true)
# ldd fails on a static binary: the guest has no libraries for a dynamic busybox.
if [[ -z $busybox ]] || ldd "$busybox" >/dev/null 2>&1; then
  echo "build_initramfs: a static busybox is needed: apt-get install busybox-static" >&2
  exit 1
fi

root=$out.d
rm -rf "$root"
mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib,usr/lib64,proc,sys,dev,tmp,run,root,etc,lib}
rmdir "$root/lib"
ln -s usr/bin "$root/bin"
ln -s usr/sbin "$root/sbin"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"

# copy_binary PATH [strip]: PATH and its shared libraries, each at its host path.
copy_binary() {
  local path=$1 lib
  mkdir -p "$root$(dirname "$path")"
  if [[ ${2:-} == strip ]]; then
    strip --strip-debug -o "$root$path" "$path"  # same code, a tenth of the size
  else
    cp -L "$path" "$root$path"
  fi
  for lib in $(ldd "$path" | grep -o '/[^ ]*'); do
    [[ -e $root$lib ]] && continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}

copy_binary "$procsentry" strip
copy_binary "$integration_test" strip
# What the tests exec by path and whose image they compare: the real programs, not busybox.
for program in true false echo sleep; do
  copy_binary "/usr/bin/$program"
done
cp "$busybox" "$root/usr/bin/busybox"
# Every other applet as a link to busybox (never over a real program copied above).
while read -r applet; do
  [[ -e $root/$applet || -L $root/$applet ]] && continue
  mkdir -p "$root/$(dirname "$applet")"
  ln -s /usr/bin/busybox "$root/$applet"
done < <("$busybox" --list-full)

mkdir -p "$root/usr/lib/modules/kernel_matrix"
if [[ -n $modules ]] && compgen -G "$modules/*.ko" >/dev/null; then
  cp "$modules"/*.ko "$root/usr/lib/modules/kernel_matrix/"
fi

echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
install -m 0755 "$here/guest_init.sh" "$root/init"
# A shell command to run in the guest before the tests (debugging a kernel by hand, e.g.
# PROCSENTRY_GUEST_PRELUDE='/path/to/procsentry --verbose & sleep 60; kill $!').
if [[ -n ${PROCSENTRY_GUEST_PRELUDE:-} ]]; then
  printf '%s\n' "$PROCSENTRY_GUEST_PRELUDE" >"$root/etc/kernel_matrix.prelude"
fi
cat >"$root/etc/kernel_matrix.conf" <<EOF
PROCSENTRY='$procsentry'
INTEGRATION_TEST='$integration_test'
GTEST_FILTER='$filter'
EOF

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$out.tmp"
mv "$out.tmp" "$out"
rm -rf "$root"
echo "initramfs: $out ($(du -h "$out" | cut -f1))"
