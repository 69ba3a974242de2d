#!/bin/sh
# package_test.sh BUILD_DIR VERSION: builds procsentry_VERSION_amd64.deb with cpack, checks it with
# lintian, installs it on this machine (dpkg -i), runs and checks what it installed, then runs the
# service as an operator would: the unit's ExecStart by hand with the installed configuration, edited
# (metrics on), checks its rules, masking, metrics and a reload (SIGHUP, as ExecReload sends), then
# purges it and checks that nothing is left. Refuses to touch a machine that already has procsentry
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

cmake --build "$build" --target procsentry procsentry-kafka procsentry_package_files
(cd "$build" && cpack -G DEB -B "$out")
deb=$out/procsentry_${version}_amd64.deb
[ -f "$deb" ] || fail "cpack made no $deb"
# Errors and warnings fail (packaging/lintian-overrides lists the one justified tag).
lintian --fail-on error,warning "$deb" || fail "lintian: see above"
# Its libraries, as dpkg-shlibdeps found them: libevent (--metrics), nettle (--hash) and librdkafka
# (--kafka's module), and none of what they replaced (OpenSSL, cpp-httplib, libsystemd: RSS for
# little use; README).
depends=$(dpkg-deb -f "$deb" Depends)
for want in libevent-core-2.1-7 libevent-extra-2.1-7 libnettle8 librdkafka1; do
  echo "$depends" | grep -q "$want" || fail "Depends lacks $want: $depends"
done
for unwanted in libssl libcpp-httplib libsystemd; do
  echo "$depends" | grep -q "$unwanted" && fail "Depends has $unwanted: $depends"
done

dpkg -i "$deb"
installed=1
[ "$(/usr/bin/procsentry --version)" = "procsentry $version" ] || fail "/usr/bin/procsentry --version"
/usr/bin/procsentry tree >"$out/tree" || fail "/usr/bin/procsentry tree"
grep -q '/usr/bin/procsentry tree' "$out/tree" || fail "procsentry tree does not show itself: $(head -5 "$out/tree")"
[ "$(stat -c %a /var/lib/procsentry)" = 700 ] || fail "/var/lib/procsentry is $(stat -c %a /var/lib/procsentry), not 700"
[ "$(stat -c %a /usr/bin/procsentry)" = 755 ] || fail "/usr/bin/procsentry mode"
# librdkafka lives in the module alone (its RSS only for --kafka), which the installed binary finds.
readelf -d /usr/bin/procsentry | grep -q rdkafka && fail "/usr/bin/procsentry links librdkafka"
readelf -d /usr/lib/procsentry/procsentry-kafka.so | grep -q 'NEEDED.*librdkafka' || fail "no --kafka module"
kafka=$(/usr/bin/procsentry --replay /nonexistent --kafka 127.0.0.1:9 --kafka-topic t 2>&1) || true
case $kafka in *"cannot"*"/nonexistent"*) ;; *) fail "--kafka with the installed module: $kafka" ;; esac
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

# Where no systemd runs: the installed unit's ExecStart by hand, word for word, with the
# installed configuration, edited as an operator would (metrics on, on a port the kernel picks);
# it records into /var/lib/procsentry, which the purge removes.
config=/etc/procsentry/procsentry.yaml
grep -q '^# metrics: ' "$config" || fail "$config has no commented metrics line to turn on"
sed -i 's/^# metrics: .*/metrics: 127.0.0.1:0/' "$config"
exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/procsentry.service)
# shellcheck disable=SC2086 # the unit's words, as systemd splits them (no quotes in it)
$exec_start >/dev/null 2>"$out/stderr" &
monitor=$!
tries=0
# wait_for WHAT COMMAND...: polls COMMAND every 0.1 s, up to 120 s in all, while the service runs.
wait_for() {
  what=$1
  shift
  until "$@"; do
    if ! kill -0 "$monitor" 2>/dev/null || [ $tries -ge 1200 ]; then
      kill "$monitor" 2>/dev/null || true
      fail "$what (ExecStart=$exec_start): $(cat "$out/stderr")"
    fi
    tries=$((tries + 1))
    sleep 0.1 # polling a marker
  done
}
stored() { /usr/bin/procsentry query --argv "$1" --json 2>/dev/null | grep -q -- "$1"; }
wait_for "it did not start" grep -q watching "$out/stderr"
metrics_url=$(sed -n 's|^procsentry: metrics on \(http://[^ ]*\)/metrics, .*|\1|p' "$out/stderr")
[ -n "$metrics_url" ] || fail "no metrics address on stderr: $(cat "$out/stderr")"

# The shipped rules: a program run from /tmp is tagged exec-from-tmp; a password is masked.
mkdir "$out/bin"
cp /bin/true "$out/bin/package-test-tool"
"$out/bin/package-test-tool" package-test-from-tmp
/bin/true package-test-secret --password=hunter2-package-test
wait_for "the marker never reached /var/lib/procsentry/events.db" stored package-test-secret
/usr/bin/procsentry query --rule exec-from-tmp --argv package-test-from-tmp --json >"$out/tagged"
grep -q '"rules":\["exec-from-tmp"' "$out/tagged" || fail "a /tmp exec is not tagged exec-from-tmp: $(cat "$out/tagged")"
/usr/bin/procsentry query --argv package-test-secret --json >"$out/secret"
grep -q -- '--password=\*\*\*' "$out/secret" || fail "the password is not masked: $(cat "$out/secret")"
grep -q '"argv_redacted":true' "$out/secret" || fail "no argv_redacted: $(cat "$out/secret")"
if grep -rq hunter2 /var/lib/procsentry; then fail "the password is in /var/lib/procsentry"; fi

# Metrics and health, over HTTP as Prometheus would scrape them.
curl -sf "$metrics_url/metrics" >"$out/metrics" || fail "GET $metrics_url/metrics failed"
grep -q '^procsentry_rule_matches_total{rule="exec-from-tmp",list="include"} [1-9]' "$out/metrics" ||
  fail "no exec-from-tmp match counted: $(grep rule_matches "$out/metrics")"
grep -q '^procsentry_redacted_events_total [1-9]' "$out/metrics" || fail "no redacted event counted"
promtool check metrics <"$out/metrics" || fail "promtool check metrics: see above"
curl -sf "$metrics_url/healthz" >/dev/null || fail "GET $metrics_url/healthz failed"

# A reload (ExecReload= sends SIGHUP): a new exclude rule applies to what runs after it.
/bin/true package-test-quiet-before
wait_for "the event before the reload was not stored" stored package-test-quiet-before
cat >>"$config" <<'RULE'
    - name: package-test-quiet
      argv: {contains: [package-test-quiet]}
RULE
kill -HUP "$monitor"
wait_for "the reload was not reported" grep -q 'reloaded the rules of' "$out/stderr"
/bin/true package-test-quiet-after
/bin/true package-test-after-reload
wait_for "the event after the reload was not stored" stored package-test-after-reload
if stored package-test-quiet-after; then fail "an event the reloaded rules exclude was stored"; fi

kill -TERM "$monitor"
status=0
wait "$monitor" || status=$?
[ "$status" -eq 0 ] || fail "ExecStart=$exec_start ended with status $status: $(cat "$out/stderr")"
[ "$(stat -c %a /var/lib/procsentry/events.db)" = 600 ] || fail "events.db is not 0600"

dpkg --purge procsentry
installed=
for path in /usr/bin/procsentry /etc/procsentry /var/lib/procsentry /lib/systemd/system/procsentry.service \
  /usr/share/man/man8/procsentry.8.gz /usr/share/bash-completion/completions/procsentry; do
  [ ! -e "$path" ] || fail "$path is left after dpkg --purge"
done
if dpkg-query -W -f='${Status}' procsentry 2>/dev/null | grep -q 'installed'; then fail "still known to dpkg"; fi
echo "package_test: built, lintian-clean, installed, ran, purged: $deb"
