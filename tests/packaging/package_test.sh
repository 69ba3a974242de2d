#!/bin/sh
# package_test.sh BUILD_DIR VERSION: builds procsentry_VERSION_amd64.deb with cpack, checks it with
# lintian, installs it on this machine (dpkg -i), runs and checks what it installed, then purges
# it and checks that nothing is left. Refuses to touch a machine that already has procsentry
# installed, or a /var/lib/procsentry of its own (purging removes that directory).
set -eu
build=$1 version=$2
fail() {
  echo "FAIL: $*"
  exit 1
}
if dpkg-query -W -f='${Status}' procsentry 2>/dev/null | grep -q 'ok installed'; then
  fail "a procsentry package is installed on this machine: this test would replace and purge it (dpkg --purge procsentry first)"
fi
for path in /var/lib/procsentry /etc/procsentry /usr/bin/procsentry; do
  [ ! -e "$path" ] || fail "$path exists: this test installs and purges the package, which would take it over"
done
out=$(mktemp -d)
installed=
cleanup() {
  if [ -n "$installed" ]; then dpkg --purge procsentry >/dev/null 2>&1 || true; fi
  rm -rf "$out"
}
trap cleanup EXIT

cmake --build "$build" --target procsentry procsentry_package_files
(cd "$build" && cpack -G DEB -B "$out")
deb=$out/procsentry_${version}_amd64.deb
[ -f "$deb" ] || fail "cpack made no $deb"
# Errors and warnings fail (packaging/lintian-overrides lists the one justified tag).
lintian --fail-on error,warning "$deb" || fail "lintian: see above"

dpkg -i "$deb"
installed=1
[ "$(/usr/bin/procsentry --version)" = "procsentry $version" ] || fail "/usr/bin/procsentry --version"
/usr/bin/procsentry tree >"$out/tree" || fail "/usr/bin/procsentry tree"
grep -q '/usr/bin/procsentry tree' "$out/tree" || fail "procsentry tree does not show itself: $(head -5 "$out/tree")"
[ "$(stat -c %a /var/lib/procsentry)" = 700 ] || fail "/var/lib/procsentry is $(stat -c %a /var/lib/procsentry), not 700"
[ "$(stat -c %a /usr/bin/procsentry)" = 755 ] || fail "/usr/bin/procsentry mode"
dpkg-query -W -f='${Conffiles}\n' procsentry | grep -q '^ /etc/procsentry/procsentry.yaml [0-9a-f]\{32\}$' ||
  fail "/etc/procsentry/procsentry.yaml is not a conffile: $(dpkg-query -W -f='${Conffiles}' procsentry)"
zcat /usr/share/man/man8/procsentry.8.gz | grep -q '^\.TH PROCSENTRY 8 ' || fail "no procsentry(8)"
zcat /usr/share/man/man8/procsentry.8.gz | grep -q 'strict\\-privileges' || fail "procsentry(8) lacks an option of --help"
completion=$(bash -c '. /usr/share/bash-completion/completions/procsentry
  COMP_WORDS=(procsentry record --color a); COMP_CWORD=3; _procsentry; echo "${COMPREPLY[*]}"')
[ "$completion" = "auto always" ] || fail "bash completion of --color a: '$completion'"
# The installed unit as it is: its ExecStart resolves and its man page exists.
verify=$(systemd-analyze verify /lib/systemd/system/procsentry.service 2>&1) || fail "systemd-analyze verify: $verify"
[ -z "$verify" ] || fail "systemd-analyze verify: $verify"

dpkg --purge procsentry
installed=
for path in /usr/bin/procsentry /etc/procsentry /var/lib/procsentry /lib/systemd/system/procsentry.service \
  /usr/share/man/man8/procsentry.8.gz /usr/share/bash-completion/completions/procsentry; do
  [ ! -e "$path" ] || fail "$path is left after dpkg --purge"
done
if dpkg-query -W -f='${Status}' procsentry 2>/dev/null | grep -q 'installed'; then fail "still known to dpkg"; fi
echo "package_test: built, lintian-clean, installed, ran, purged: $deb"
