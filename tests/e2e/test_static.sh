#!/usr/bin/env bash
# `make static`'s binary is one file for every distro: no program
# interpreter, no shared library, and it does what the dynamic build does:
# the seed case with counts equal to ss, and the metrics endpoint (whose
# libmicrohttpd is built from Debian's source without TLS).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
skip_unless_root
STATIC_BIN=${FW_STATIC:-$FW_BUILD/static/finwatch}
[ -x "$STATIC_BIN" ] || fail "no static build at $STATIC_BIN (make static)"
if readelf -lW "$STATIC_BIN" | grep -q 'Requesting program interpreter'; then
	fail "$STATIC_BIN has a program interpreter: not static"
fi
readelf -dW "$STATIC_BIN" 2>/dev/null | grep -q NEEDED && fail "$STATIC_BIN needs shared libraries"
pass "static: no interpreter, no shared library ($(stat -c %s "$STATIC_BIN") bytes)"
for t in test_watch_seed test_metrics test_top; do
	rc=0
	FINWATCH=$STATIC_BIN TEST_NAME="static-$t" bash "$FW_ROOT/tests/e2e/$t.sh" >"$TEST_TMP/$t.log" 2>&1 || rc=$?
	[ "$rc" = 0 ] || { tail -n 30 "$TEST_TMP/$t.log" >&2; fail "$t with the static binary: exit $rc"; }
	pass "$t passes with the static binary"
done
