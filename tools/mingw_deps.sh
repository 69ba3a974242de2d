#!/usr/bin/env bash
# Builds the Windows client's store libraries (SQLite, zstd, RE2) with mingw-w64 from Debian's own
# sources, as static libraries in PREFIX/{include,lib}. Debian packages none of them for mingw.
#   tools/mingw_deps.sh [PREFIX]   (default build/mingw-deps; the mingw preset runs it at configure)
# The versions are those of the Linux build's -dev packages (libsqlite3-dev, libzstd-dev, libre2-dev),
# so both clients read and write the store with the same library code. A prefix already built from
# those versions by this script is kept as it is (PREFIX/versions says what it holds).
# Verified sources: apt checks the signed Release file with debian-archive-keyring, the Sources
# index's hashes against it, and each downloaded .dsc and tarball against those hashes;
# dpkg-source then checks the tarballs against the .dsc.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=$(realpath -m "${1:-$root/build/mingw-deps}")
jobs=${PROCSENTRY_MINGW_DEPS_JOBS:-2}
# Third-party code at -O1: it compiles in about half the time of -O2, and the client's store
# work is not CPU-bound (one host's processes).
opt=-O1

# source_version PACKAGE: the Debian source version of an installed binary package.
source_version() {
  local v
  v=$(dpkg-query -W -f='${source:Version}' "$1" 2>/dev/null) || {
    echo "procsentry: $1 is not installed (tools/deps.sh installs it)" >&2
    exit 2
  }
  echo "$v"
}
sqlite_version=$(source_version libsqlite3-dev)
zstd_version=$(source_version libzstd-dev)
re2_version=$(source_version libre2-dev)
script_sum=$(sha256sum "$0" | cut -d' ' -f1)
wanted="sqlite3=$sqlite_version libzstd=$zstd_version re2=$re2_version script=$script_sum"
if [[ -f $prefix/versions && $(cat "$prefix/versions") == "$wanted" ]]; then exit 0; fi

# tclsh makes SQLite's amalgamation; perl, python3-six and unicode-data make RE2's Unicode tables
# (Debian's source leaves them out, as its own build does).
for tool in x86_64-w64-mingw32-gcc-posix x86_64-w64-mingw32-g++-posix x86_64-w64-mingw32-ar dpkg-source tclsh perl \
  python3 /usr/share/unicode/UnicodeData.txt; do
  command -v "$tool" >/dev/null || [[ -e $tool ]] || {
    echo "procsentry: $tool is missing (tools/deps.sh --for-tests installs it)" >&2
    exit 2
  }
done
cc=x86_64-w64-mingw32-gcc-posix
cxx=x86_64-w64-mingw32-g++-posix
ar=x86_64-w64-mingw32-ar

echo "procsentry: building $wanted into $prefix"
rm -rf "$prefix"
work=$prefix/work
mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$prefix/include" "$prefix/lib"

# A private apt configuration with deb-src lines: the system's sources and lists stay untouched.
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
{
  for suite in bookworm bookworm-updates; do
    echo "deb-src [signed-by=$keyring] http://deb.debian.org/debian $suite main"
  done
  echo "deb-src [signed-by=$keyring] http://deb.debian.org/debian-security bookworm-security main"
} >"$work/apt/sources.list"
apt_options=(-o "Dir::Etc::SourceList=$work/apt/sources.list" -o Dir::Etc::SourceParts=-
  -o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache" -o Dir::Cache::pkgcache=
  -o Dir::Cache::srcpkgcache= -o APT::Sandbox::User=root)
apt-get -qq "${apt_options[@]}" update
(cd "$work" && apt-get -qq "${apt_options[@]}" source "sqlite3=$sqlite_version" "libzstd=$zstd_version" \
  "re2=$re2_version" >apt-source.log 2>&1) || {
  cat "$work/apt-source.log" >&2
  echo "procsentry: apt-get source failed (versions: $wanted)" >&2
  exit 1
}

# The three builds run at once (each mostly one compiler process at a time).
build_sqlite() {
  cd "$work"/sqlite3-*/
  # The amalgamation (sqlite3.c) is generated on the build machine; only it is cross-compiled.
  ./configure --disable-tcl >/dev/null
  make -s sqlite3.c >/dev/null
  # Debian's CFLAGS (debian/rules) less what needs a dynamic loader; FTS5 and JSON as its
  # configure enables them (the store's trigram index and reports need both).
  "$cc" $opt -c sqlite3.c -o sqlite3.o -DSQLITE_THREADSAFE=1 -DSQLITE_ENABLE_FTS5 -DSQLITE_ENABLE_FTS4 \
    -DSQLITE_ENABLE_FTS3 -DSQLITE_ENABLE_FTS3_PARENTHESIS -DSQLITE_ENABLE_JSON1 -DSQLITE_SECURE_DELETE \
    -DSQLITE_ENABLE_COLUMN_METADATA -DSQLITE_ENABLE_RTREE=1 -DSQLITE_SOUNDEX=1 -DSQLITE_ENABLE_UNLOCK_NOTIFY \
    -DSQLITE_OMIT_LOOKASIDE=1 -DSQLITE_ENABLE_DBSTAT_VTAB -DSQLITE_ALLOW_ROWID_IN_VIEW \
    -DSQLITE_ENABLE_UPDATE_DELETE_LIMIT=1 -DSQLITE_LIKE_DOESNT_MATCH_BLOBS -DSQLITE_USE_URI=1 \
    -DSQLITE_MAX_SCHEMA_RETRY=25 -DSQLITE_ENABLE_STMTVTAB -DSQLITE_MAX_VARIABLE_NUMBER=250000 \
    -DSQLITE_OMIT_LOAD_EXTENSION -fno-strict-aliasing
  "$ar" rcs "$prefix/lib/libsqlite3.a" sqlite3.o
  cp sqlite3.h sqlite3ext.h "$prefix/include/"
}
build_zstd() {
  cd "$work"/libzstd-*/lib
  # The library only (no programs), single-threaded as the store uses it, no legacy formats.
  make -s -j"$jobs" libzstd.a CC="$cc" AR="$ar" CFLAGS="$opt" ZSTD_LEGACY_SUPPORT=0 >/dev/null
  cp libzstd.a "$prefix/lib/"
  cp zstd.h zstd_errors.h zdict.h "$prefix/include/"
}
build_re2() {
  cd "$work"/re2-*/
  # The static library only: no tests, no shared object. Its Unicode tables from Debian's
  # unicode-data, as Debian's build makes them (debian/patches/debian-unicode-data.patch).
  make -s -j"$jobs" obj/libre2.a REBUILD_TABLES=1 CXX="$cxx" AR="$ar" CXXFLAGS="$opt" >/dev/null
  cp obj/libre2.a "$prefix/lib/"
  mkdir -p "$prefix/include/re2"
  cp re2/filtered_re2.h re2/re2.h re2/set.h re2/stringpiece.h "$prefix/include/re2/"
}
pids=()
for part in sqlite zstd re2; do
  ("build_$part" >"$work/$part.log" 2>&1) &
  pids+=($!)
done
status=0
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    part=$(echo sqlite zstd re2 | cut -d' ' -f$((i + 1)))
    cat "$work/$part.log" >&2
    echo "procsentry: building $part for mingw-w64 failed (its output is above)" >&2
    status=1
  fi
done
((status == 0)) || exit 1
rm -rf "$work"
echo "$wanted" >"$prefix/versions"
