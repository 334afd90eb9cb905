#!/usr/bin/env bash
# Bad input: one line on stderr naming the flag and the value, exit status 2,
# no crash, nothing on stdout; --help lists every option with examples.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

bad() { # EXPECTED-SUBSTRING ARGS...
	local want=$1 rc=0
	shift
	"$FINWATCH" "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err" || rc=$?
	[ "$rc" = 2 ] || fail "finwatch $* exited $rc, want 2"
	[ "$(wc -l <"$TEST_TMP/err")" = 1 ] || fail "finwatch $*: stderr is not one line: $(cat "$TEST_TMP/err")"
	grep -qF -- "$want" "$TEST_TMP/err" || fail "finwatch $*: '$(cat "$TEST_TMP/err")' lacks '$want'"
	[ ! -s "$TEST_TMP/out" ] || fail "finwatch $*: wrote to stdout"
}
bad "--bogus" --bogus
bad "'frobnicate'" frobnicate
bad "--lport: invalid port list '0'" trace --lport 0
bad "'70000'" trace --rport 70000
bad "'80,,443'" --lport 80,,443
bad "--peer: invalid CIDR '10.0.0.1/8'" --peer 10.0.0.1/8
bad "'fd00::/129'" --peer fd00::/129
bad "--duration: invalid duration '5 minutes'" --duration "5 minutes"
bad "'1.5s'" --max-age 1.5s
bad "--max-per-peer: invalid count '-3'" --max-per-peer -3
bad "--ringbuf-size" --ringbuf-size 1000
bad "--metrics: invalid address 'localhost'" --metrics localhost
bad "--peer: missing value" --peer
bad "unexpected argument 'extra'" trace extra
bad "apply to watch mode" trace --metrics :9999
pass "bad input: one line, exit 2"

"$FINWATCH" --help >"$TEST_TMP/help"
for opt in --ipv4 --ipv6 --lport --rport --peer --duration --json --ringbuf-size --verbose --interval \
	--max-age --max-per-peer --max-total --group-by --top --scan-interval --reconcile --no-discovery \
	--exit-on-alert --metrics --metrics-file --metrics-top --output --syslog --on-alert --hook-timeout \
	Examples "Exit status"; do
	grep -qF -- "$opt" "$TEST_TMP/help" || fail "--help lacks $opt"
done
pass "--help lists every option, examples and exit codes"

# Runtime errors say what to do and exit 1: here, no privileges.
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	rc=0
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
		"$FINWATCH" --json --duration 1s >"$TEST_TMP/np.out" 2>"$TEST_TMP/np.err" || rc=$?
	[ "$rc" = 1 ] || fail "unprivileged run exited $rc, want 1"
	grep -q 'run as root, or grant CAP_BPF' "$TEST_TMP/np.err" || fail "no actionable message: $(cat "$TEST_TMP/np.err")"
	grep -q '"type":"error"' "$TEST_TMP/np.out" || fail "no JSON error record in --json mode"
	pass "no privileges: exit 1, actionable message, JSON error record"
fi
