#!/usr/bin/env bash
# fetch_kernel.sh SUITE CACHE_DIR
# Downloads Debian SUITE's current cloud kernel (linux-image-*-cloud-amd64, the version the
# metapackage linux-image-cloud-amd64 depends on) and extracts it into CACHE_DIR/SUITE/:
#   vmlinuz      the kernel
#   release      its `uname -r`
#   version      the package version
#   config       the kernel's build configuration
#   modules/     modules the guest may insmod (today overlay.ko), decompressed
# The system's apt sources are never touched: the suite has its own sources.list, lists and
# archive cache under CACHE_DIR/SUITE/apt, and signatures are checked with the keys of
# debian-archive-keyring. Once extracted, a second run downloads nothing (delete
# CACHE_DIR/SUITE to take a newer kernel).
set -euo pipefail

suite=${1:?usage: fetch_kernel.sh SUITE CACHE_DIR}
cache=${2:?usage: fetch_kernel.sh SUITE CACHE_DIR}
mirror=${PROCSENTRY_DEBIAN_MIRROR:-http://deb.debian.org}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
# Modules copied for the guest (paths under lib/modules/RELEASE/kernel/, without .ko*).
modules=(fs/overlayfs/overlay)

dir=$cache/$suite
if [[ -s $dir/vmlinuz && -s $dir/release ]]; then
  echo "kernel $suite: $(cat "$dir/release") (cached in $dir)"
  exit 0
fi
if [[ ! -r $keyring ]]; then
  echo "fetch_kernel: $keyring is missing: apt-get install debian-archive-keyring" >&2
  exit 1
fi

apt_dir=$dir/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/parts" "$apt_dir/debs"
cat >"$apt_dir/sources.list" <<EOF
deb [signed-by=$keyring] $mirror/debian $suite main
deb [signed-by=$keyring] $mirror/debian-security $suite-security main
EOF
apt_options=(
  -o "Dir::Etc::sourcelist=$apt_dir/sources.list"
  -o "Dir::Etc::sourceparts=$apt_dir/parts"
  -o "Dir::Etc::preferencesparts=$apt_dir/parts"
  -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::Cache=$apt_dir/cache"
  -o "APT::Architecture=amd64"
  -o "APT::Architectures=amd64"
  -o "APT::Sandbox::User=root"
  -o "Debug::NoLocking=1"
)

echo "kernel $suite: reading the package index"
apt-get "${apt_options[@]}" -q update >"$apt_dir/update.log" 2>&1 || {
  cat "$apt_dir/update.log" >&2
  echo "fetch_kernel: apt-get update for $suite failed" >&2
  exit 1
}
package=$(apt-cache "${apt_options[@]}" depends linux-image-cloud-amd64 |
  sed -n 's/^ *Depends: \(linux-image-[^ ]*-cloud-amd64\)$/\1/p' | head -n 1)
if [[ -z $package ]]; then
  echo "fetch_kernel: $suite has no linux-image-cloud-amd64 dependency on a cloud kernel" >&2
  exit 1
fi

if ! compgen -G "$apt_dir/debs/${package}_*.deb" >/dev/null; then
  echo "kernel $suite: downloading $package"
  (cd "$apt_dir/debs" && apt-get "${apt_options[@]}" -q download "$package" >/dev/null)
fi
deb=$(ls "$apt_dir/debs/${package}_"*.deb | tail -n 1)

work=$dir/extract
rm -rf "$work"
dpkg-deb -x "$deb" "$work"
vmlinuz=$(ls "$work"/boot/vmlinuz-* | head -n 1)
release=${vmlinuz##*/vmlinuz-}
mkdir -p "$dir/modules"
for m in "${modules[@]}"; do
  # bullseye/bookworm ship lib/modules, trixie usr/lib/modules
  src=$(ls "$work"/{,usr/}lib/modules/"$release/kernel/$m".ko* 2>/dev/null | head -n 1 || true)
  case $src in
    "") echo "kernel $suite: no module $m (built in?)" ;;
    *.ko) cp "$src" "$dir/modules/" ;;
    *.ko.xz) xz -dc "$src" >"$dir/modules/$(basename "$m").ko" ;;
    *.ko.zst) zstd -qdc "$src" >"$dir/modules/$(basename "$m").ko" ;;
    *.ko.gz) gzip -dc "$src" >"$dir/modules/$(basename "$m").ko" ;;
  esac
done
dpkg-deb -f "$deb" Version >"$dir/version"
cp "$work/boot/config-$release" "$dir/config"
cp "$vmlinuz" "$dir/vmlinuz.tmp"
rm -rf "$work"
echo "$release" >"$dir/release"
mv "$dir/vmlinuz.tmp" "$dir/vmlinuz"  # last: its presence means the cache is complete
echo "kernel $suite: $release ($(cat "$dir/version")) in $dir"
