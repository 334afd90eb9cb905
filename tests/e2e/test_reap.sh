#!/usr/bin/env bash
# Reaping (--reap-after): dry run kills nothing; kind and peer scopes hold;
# held (full) and orphaned (timewait) sockets past the limit are destroyed
# within an interval, IPv4 and IPv6; the peer sees the reset of held ones;
# the rate limit holds; the holding process keeps running and sees
# ECONNABORTED; other peers and younger sockets are untouched.
# Scenarios (tests/e2e/lib.sh): doctor, dry_run, orphaned, held_kill.
set -euo pipefail
# shellcheck disable=SC2034 # read by lib.sh
SCENARIOS=(doctor dry_run orphaned held_kill)
. "$(dirname "$0")/lib.sh"
skip_unless_root
lab_up

spawn_server s1 "$LAB_P1" "$LAB_P1_V4:5501" hold
spawn_server s2 "$LAB_P2" "$LAB_P2_V4:5502" hold
spawn_server s3 "$LAB_P3" "[$LAB_P3_V6]:5503" hold
spawn h1 "$LAB_HOST" "$FWPEER" client --connect "$LAB_P1_V4:5501" --count 6 --how shutdown --hold-sec -1 --comm holder1
wait_ready h1
spawn o1 "$LAB_HOST" "$FWPEER" client --connect "$LAB_P1_V4:5501" --count 2 --how close
wait_ready o1
spawn h2 "$LAB_HOST" "$FWPEER" client --connect "$LAB_P2_V4:5502" --count 2 --how shutdown --hold-sec -1
wait_ready h2
spawn h3 "$LAB_HOST" "$FWPEER" client --connect "[$LAB_P3_V6]:5503" --count 2 --how shutdown --hold-sec -1
wait_ready h3
wait_for 5 ss_expect "$LAB_HOST" fin-wait-2 12 || fail "setup: $(ss_count "$LAB_HOST" fin-wait-2) FIN_WAIT_2"
cw() { ip netns exec "$1" ss -Htan state close-wait | wc -l; }
ip netns exec "$LAB_HOST" sysctl -qw net.ipv4.tcp_fin_timeout=45
# The 2 timewait orphans to P1, until scenario orphaned reaps them.
ORPHANS=2

# finwatch doctor: the lab's host namespace, its counts, knobs and advice.
scenario_doctor() {
	"$FINWATCH" doctor --json >"$TEST_TMP/doctor.out" || fail "doctor failed"
	python3 - "$TEST_TMP/doctor.out" "$LAB_HOST_NSINO" <<'PY' || fail "doctor report wrong: $(cat "$TEST_TMP/doctor.out")"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
r = [x for x in recs if x["type"] == "doctor" and x["netns"] == int(sys.argv[2])]
assert len(r) == 1, r
r = r[0]
assert (r["held"], r["orphaned"]) == (10, 2), (r["held"], r["orphaned"])
assert r["tcp_fin_timeout"] == 45 and r["sock_destroy"] == "supported", r
assert r["tcp_max_tw_buckets"] > 0 and r["tcp_max_orphans"] > 0, r
adv = " ".join(r["advice"])
assert "tcp_fin_timeout does not" in adv and "tcp_fin_timeout=45s" in adv, adv
PY
	"$FINWATCH" doctor >"$TEST_TMP/doctor.txt" || fail "doctor (text) failed"
	grep -q "netns $LAB_HOST_NSINO" "$TEST_TMP/doctor.txt" || fail "doctor text lacks the lab namespace"
	pass "doctor: lab netns with 10 held / 2 orphaned, tcp_fin_timeout=45, destroy supported, advice"
}

run_fw() { # NAME ARGS...: a bounded run of finwatch
	local name=$1
	shift
	# Only the lab: other tests may run beside this one.
	spawn "$name" - "$FINWATCH" --json --interval 1s --max-age 0 --max-per-peer 0 --max-total 0 \
		"${LAB_SCOPE[@]}" "$@"
}
# Only this lab's namespace: other labs may use the same addresses.
reaped() { "$FWCHECK" count "$TEST_TMP/$1.out" reaped netns="$LAB_HOST_NSINO" "${@:2}"; }
at_least() { [ "$(reaped "$1" "${@:3}")" -ge "$2" ]; }

# Dry run: reports all 12 (kind all), destroys nothing.
scenario_dry_run() {
	run_fw dry --reap-after 1s --reap-dry-run --reap-kind all
	wait_for 10 at_least dry 12 result=dry_run || fail "dry run reported $(reaped dry result=dry_run)/12"
	spawn_stop dry INT || fail "dry run exit"
	grep -q 'REAP DRY RUN' "$TEST_TMP/dry.err" || fail "no dry-run banner"
	[ "$(ss_count "$LAB_HOST" fin-wait-2)" = 12 ] || fail "dry run destroyed sockets"
	[ "$(reaped dry)" = 12 ] || fail "dry run reported $(reaped dry) events, want 12 (each once)"
	pass "dry run: 12 reported once each, none destroyed"
}

# Orphaned only, P1 only: the 2 timewait orphans go, held ones stay.
scenario_orphaned() {
	local killed
	run_fw orph --reap-after 1s --reap-kind orphaned --reap-peer "$LAB_P1_V4/32"
	wait_for 10 at_least orph 2 result=ok || fail "orphans not reaped: $(cat "$TEST_TMP/orph.out" | grep reaped || true)"
	wait_for 3 ss_expect "$LAB_HOST" fin-wait-2 10 || fail "after orphan reap: $(ss_count "$LAB_HOST" fin-wait-2) FIN_WAIT_2, want 10"
	[ "$(reaped orph kind=held)" = 0 ] || fail "held sockets reaped with --reap-kind orphaned"
	[ "$(reaped orph timewait=true)" = 2 ] || fail "orphans were not timewait sockets"
	killed=$("$FWCHECK" count "$TEST_TMP/orph.out" fw2_exit netns="$LAB_HOST_NSINO" outcome=killed)
	[ "$killed" = 2 ] || fail "$killed fw2_exit killed, want 2"
	spawn_stop orph INT || fail "orphan run exit"
	pass "kind=orphaned, peer P1: 2 timewait orphans destroyed, held untouched"
	ORPHANS=0
}

# Held, P1 and P3 (IPv6), at most 2 per second; P2 untouched. The holder
# keeps running and sees ECONNABORTED.
scenario_held_kill() {
	local cw1 after killed
	cw1=$(cw "$LAB_P1")
	run_fw held --reap-after 1s --reap-kind held --reap-peer "$LAB_P1_V4/32" --reap-peer "$LAB_P3_V6/128" --reap-rate 2
	wait_for 15 at_least held 8 result=ok || fail "held reaped $(reaped held result=ok)/8"
	wait_for 3 ss_expect "$LAB_HOST" fin-wait-2 2 "$LAB_P2_V4" || fail "P2 sockets touched"
	wait_for 3 ss_expect "$LAB_HOST" fin-wait-2 $((2 + ORPHANS)) ||
		fail "$(ss_count "$LAB_HOST" fin-wait-2) left, want P2's 2 (and $ORPHANS orphans)"
	[ "$(reaped held peer="$LAB_P2_V4")" = 0 ] || fail "P2 reaped"
	[ "$(reaped held family=6 result=ok)" = 2 ] || fail "IPv6 held not reaped"
	python3 - "$TEST_TMP/held.out" "$LAB_HOST_NSINO" <<'PY' || fail "rate limit or age violated"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if '"reaped"' in l]
r = [x for x in r if x["netns"] == int(sys.argv[2])]
ts = sorted(x["ts_ns"] for x in r)
for x in r:
    assert x["age_s"] >= 1.0, x                     # never younger than --reap-after
    assert x["result"] == "ok", x
for i, t in enumerate(ts):                          # bucket of 2 plus 2/s
    n = sum(1 for u in ts if t <= u < t + 1e9)
    assert n <= 4, (i, n)
span = (ts[-1] - ts[0]) / 1e9
print("8 kills over %.2f s" % span)
assert span >= 2.0, span                             # 8 kills at 2/s cannot be faster
PY
	wait_for 5 ss_expect "$LAB_HOST" fin-wait-2 $((2 + ORPHANS)) || fail "leftover"
	after=$(cw "$LAB_P1")
	[ "$after" -le $((cw1 - 6)) ] || fail "peer P1 still has $after CLOSE_WAIT sockets (before $cw1): no reset seen"
	killed=$("$FWCHECK" count "$TEST_TMP/held.out" fw2_exit netns="$LAB_HOST_NSINO" outcome=killed)
	[ "$killed" = 8 ] || fail "$killed fw2_exit killed, want 8"
	pass "held P1+P3(v6) destroyed at <= 2/s, peer saw resets (CLOSE_WAIT $cw1 -> $after), P2 untouched"

	wait_line h1 "aborted 6" 5 || fail "the holder did not see ECONNABORTED on its 6 sockets"
	alive "$(spawn_pid h1)" || fail "the holding process died"
	pass "holder keeps running, its reads return ECONNABORTED"
	spawn_stop held INT || fail "held run exit"
	grep -q 'REAPING ENABLED' "$TEST_TMP/held.err" || fail "no reaping banner"
}

run_scenarios
