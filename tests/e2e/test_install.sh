#!/usr/bin/env bash
# make install / make uninstall (GNU PREFIX and DESTDIR): into a temporary
# DESTDIR the binary, man page, systemd unit, logrotate config, Prometheus
# rules (and the Grafana dashboard) land where they belong; the installed
# binary runs (--version, doctor); the installed unit passes
# `systemd-analyze verify` against the installed paths (as deploy/check.sh
# verifies deploy/finwatch.service: a root holding the stock units and
# /bin/kill, the man page from the installed MANPATH); with PREFIX=/usr the
# unit's ExecStart= follows the binary; make uninstall leaves nothing behind.
# The binary installed is $FW_BUILD/finwatch (never rebuilt here: make -o).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
skip_unless_root make systemd-analyze
BIN=$FW_BUILD/finwatch
[ -x "$BIN" ] || fail "no binary at $BIN (make)"
MK=(make -C "$FW_ROOT" --no-print-directory -o "$BIN" OUTPUT="$FW_BUILD")

# A root with what the unit refers to outside finwatch (check.sh's approach).
new_root() {
	local r=$1
	mkdir -p "$r/bin" "$r/lib/systemd"
	cp /bin/kill "$r/bin/kill"
	cp -a /lib/systemd/system "$r/lib/systemd/"
}
listing() { (cd "$1" && find . \( -type f -o -type l \) | LC_ALL=C sort); }
# leftovers ROOT BEFORE: files not in the listing BEFORE, and anything named
# *finwatch* (e.g. share/finwatch): what uninstall failed to remove.
leftovers() {
	(cd "$1" && find . \( -type f -o -type l \) | LC_ALL=C sort | comm -13 "$2" - && find . -name '*finwatch*')
}
# verify ROOT PREFIX: systemd-analyze verify of the installed unit; any
# message (stderr or stdout) fails, as in deploy/check.sh.
verify() {
	local out
	out=$(MANPATH="$1$2/share/man" systemd-analyze verify --root="$1" finwatch.service 2>&1) || {
		echo "$out"
		return 1
	}
	[ -z "$out" ] || { echo "$out"; return 1; }
}

ROOT=$TEST_TMP/root
new_root "$ROOT"
listing "$ROOT" >"$TEST_TMP/before"
"${MK[@]}" install DESTDIR="$ROOT" >"$TEST_TMP/install.log" 2>&1 ||
	fail "make install DESTDIR=$ROOT: $(cat "$TEST_TMP/install.log")"

P=$ROOT/usr/local
want=("sbin/finwatch 755" "share/man/man8/finwatch.8 644" "lib/systemd/system/finwatch.service 644"
	"share/finwatch/prometheus/finwatch-rules.yml 644" "share/finwatch/prometheus/prometheus-scrape.yml 644")
[ ! -f "$FW_ROOT/deploy/grafana/finwatch.json" ] || want+=("share/finwatch/grafana/finwatch.json 644")
for w in "${want[@]}"; do
	f=${w% *} m=${w#* }
	[ -f "$P/$f" ] || fail "make install did not install \$PREFIX/$f"
	[ "$(stat -c %a "$P/$f")" = "$m" ] || fail "\$PREFIX/$f has mode $(stat -c %a "$P/$f"), want $m"
done
[ -f "$ROOT/etc/logrotate.d/finwatch" ] || fail "no /etc/logrotate.d/finwatch"
cmp -s "$BIN" "$P/sbin/finwatch" || fail "installed binary differs from $BIN"
pass "make install DESTDIR: ${#want[@]} files under /usr/local (modes ok) and /etc/logrotate.d/finwatch"

v=$("$P/sbin/finwatch" --version) || fail "installed finwatch --version failed"
[[ "$v" == "finwatch "[0-9]* ]] || fail "installed finwatch --version: '$v'"
"$P/sbin/finwatch" doctor >"$TEST_TMP/doctor.out" 2>&1 || fail "installed finwatch doctor failed: $(tail -n 5 "$TEST_TMP/doctor.out")"
grep -q '^netns ' "$TEST_TMP/doctor.out" || fail "installed finwatch doctor printed no netns report"
pass "installed binary runs: '$v', doctor ok"

grep -qx 'ExecStart=/usr/local/sbin/finwatch .*' "$P/lib/systemd/system/finwatch.service" ||
	fail "installed unit: $(grep ExecStart= "$P/lib/systemd/system/finwatch.service")"
out=$(verify "$ROOT" /usr/local) || fail "systemd-analyze verify (installed unit): $out"
pass "systemd-analyze verify --root=DESTDIR: installed unit, ExecStart=/usr/local/sbin/finwatch, man:finwatch(8) found"

if command -v logrotate >/dev/null 2>&1; then
	out=$(logrotate -d -s "$TEST_TMP/lr.state" "$ROOT/etc/logrotate.d/finwatch" 2>&1) || fail "logrotate -d: $out"
	! grep -q '^error' <<<"$out" || fail "logrotate -d: $out"
fi
if command -v promtool >/dev/null 2>&1; then
	out=$(cd "$P/share/finwatch/prometheus" && promtool test rules finwatch-rules.test.yml 2>&1) ||
		fail "promtool test rules (installed copy): $out"
fi
pass "installed logrotate config parses, installed rules pass their tests"

# Another PREFIX: the unit follows the binary; a unit pointing elsewhere fails.
ROOT2=$TEST_TMP/root2
new_root "$ROOT2"
listing "$ROOT2" >"$TEST_TMP/before2"
"${MK[@]}" install DESTDIR="$ROOT2" PREFIX=/usr >"$TEST_TMP/install2.log" 2>&1 ||
	fail "make install PREFIX=/usr: $(cat "$TEST_TMP/install2.log")"
grep -qx 'ExecStart=/usr/sbin/finwatch .*' "$ROOT2/usr/lib/systemd/system/finwatch.service" ||
	fail "PREFIX=/usr unit: $(grep ExecStart= "$ROOT2/usr/lib/systemd/system/finwatch.service")"
out=$(verify "$ROOT2" /usr) || fail "systemd-analyze verify (PREFIX=/usr): $out"
mv "$ROOT2/usr/sbin/finwatch" "$TEST_TMP/moved"
if verify "$ROOT2" /usr >/dev/null; then fail "verify passes with the binary missing: the check checks nothing"; fi
mv "$TEST_TMP/moved" "$ROOT2/usr/sbin/finwatch"
"${MK[@]}" uninstall DESTDIR="$ROOT2" PREFIX=/usr >/dev/null 2>&1 || fail "make uninstall PREFIX=/usr failed"
left=$(leftovers "$ROOT2" "$TEST_TMP/before2")
[ -z "$left" ] || fail "make uninstall PREFIX=/usr left: $left"
pass "PREFIX=/usr: ExecStart=/usr/sbin/finwatch verifies (and fails without the binary); uninstall clean"

"${MK[@]}" uninstall DESTDIR="$ROOT" >"$TEST_TMP/uninstall.log" 2>&1 ||
	fail "make uninstall DESTDIR=$ROOT: $(cat "$TEST_TMP/uninstall.log")"
left=$(leftovers "$ROOT" "$TEST_TMP/before")
[ -z "$left" ] || fail "make uninstall left: $left"
pass "make uninstall DESTDIR: no file left, no finwatch directory left (shared directories stay)"
