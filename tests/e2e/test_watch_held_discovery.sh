#!/usr/bin/env bash
# Scenarios (tests/e2e/lib.sh):
# discovery_alert: sockets stuck before finwatch starts, held and orphaned,
#   in a non-root network namespace, are found at startup with ages as lower
#   bounds; then a held socket (shutdown(), fd kept) past --max-age alerts
#   while it is still stuck, naming its process, and resolves when the peer
#   closes.
# exit_on_alert: --duration runs end with a final summary; --exit-on-alert
#   exits 3 only when an alert fired.
set -euo pipefail
# shellcheck disable=SC2034 # read by lib.sh
SCENARIOS=(discovery_alert exit_on_alert)
. "$(dirname "$0")/lib.sh"
skip_unless_root
lab_up
OUT="$TEST_TMP/fw.out"

scenario_discovery_alert() {
	local created disc age adv
	spawn_server hold "$LAB_P1" "$LAB_P1_V4:5401" hold
	spawn_server hold6 "$LAB_P2" "[$LAB_P2_V6]:5402" hold
	# Stuck before finwatch runs: 4 held + 2 orphaned to P1, 2 held to P2 (v6).
	spawn early "$LAB_HOST" "$FWPEER" client --connect "$LAB_P1_V4:5401" --count 4 --how shutdown \
		--hold-sec -1 --comm oldapp
	wait_ready early
	spawn early2 "$LAB_HOST" "$FWPEER" client --connect "$LAB_P1_V4:5401" --count 2 --how close
	wait_ready early2
	spawn early6 "$LAB_HOST" "$FWPEER" client --connect "[$LAB_P2_V6]:5402" --count 2 --how shutdown \
		--hold-sec -1
	wait_ready early6
	wait_for 5 ss_expect "$LAB_HOST" fin-wait-2 8 || fail "setup: ss shows $(ss_count "$LAB_HOST" fin-wait-2)"
	created=$(date +%s%N)
	# Let them age a little so lower bounds are visible (bounded by a deadline).
	aged() { [ $(( $(date +%s%N) - created )) -ge 1500000000 ]; }
	wait_for 3 aged

	spawn fw - "$FINWATCH" --json --interval 500ms --max-age 4s --max-per-peer 0 --max-total 0 --top 50
	wait_for 10 grep -q '"type":"start"' "$OUT" || fail "finwatch did not start"
	disc=$("$FWCHECK" last "$OUT" start discovered)
	[ "$disc" -ge 8 ] || fail "discovered $disc at startup, want >= 8"
	peer() { "$FWCHECK" peer "$OUT" "$1" "$2" "$LAB_HOST_NSINO"; }
	has_summary() { grep -q '"type":"summary"' "$OUT"; }
	wait_for 3 has_summary || fail "no summary"
	[ "$(peer "$LAB_P1_V4" held)" = 4 ] || fail "P1 held $(peer "$LAB_P1_V4" held), want 4"
	[ "$(peer "$LAB_P1_V4" orphaned)" = 2 ] || fail "P1 orphaned $(peer "$LAB_P1_V4" orphaned), want 2"
	[ "$(peer "$LAB_P2_V6" held)" = 2 ] || fail "P2 (IPv6) held $(peer "$LAB_P2_V6" held), want 2"
	[ "$(peer "$LAB_P1_V4" oldest_age_lower_bound)" = true ] || fail "age not marked as a lower bound"
	age=$(peer "$LAB_P1_V4" oldest_age_s)
	python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 1.4 else 1)" "$age" || fail "oldest age $age s < 1.5 s"
	pass "found 8 pre-existing FIN_WAIT_2 sockets in a lab netns (held/orphaned split, IPv6), oldest >= ${age}s"

	# A new held socket, watched from its start: alert at 4 s while still stuck.
	spawn held "$LAB_HOST" "$FWPEER" client --connect "$LAB_P1_V4:5401" --how shutdown --hold-sec -1 --comm stuckapp
	wait_ready held
	has_alert() { [ "$("$FWCHECK" count "$OUT" alert netns="$LAB_HOST_NSINO" "$@")" -ge 1 ]; }
	wait_for 8 has_alert rule=max_age state=firing peer="$LAB_P1_V4" || fail "no max_age alert"
	[ "$(ss_count "$LAB_HOST" fin-wait-2 "$LAB_P1_V4")" -ge 5 ] || fail "sockets not stuck at alert time"
	adv=$("$FWCHECK" last "$OUT" alert advice rule=max_age state=firing peer="$LAB_P1_V4" netns="$LAB_HOST_NSINO")
	grep -q 'tcp_fin_timeout does not apply' <<<"$adv" || fail "advice: $adv"
	pass "max_age alert while still stuck: $adv"

	spawn_stop hold || true
	wait_for 10 has_alert rule=max_age state=resolved peer="$LAB_P1_V4" || fail "max_age did not resolve"
	# Summaries come every 500 ms: the next one must show it.
	p1_zero() { [ "$(peer "$LAB_P1_V4" count)" = 0 ]; }
	wait_for 3 p1_zero || fail "P1 count $(peer "$LAB_P1_V4" count) after the peer closed"
	pass "resolved when the peer closed"
	spawn_stop fw INT || fail "finwatch did not exit 0"
	"$FWCHECK" valid "$OUT" || fail "invalid JSON"
}

# CI smoke mode: a bounded run that exits 3 because an alert fired.
scenario_exit_on_alert() {
	local rc
	spawn_server hold2 "$LAB_P3" "$LAB_P3_V4:5403" hold
	spawn held2 "$LAB_HOST" "$FWPEER" client --connect "$LAB_P3_V4:5403" --count 3 --how shutdown --hold-sec -1
	wait_ready held2
	rc=0
	"$FINWATCH" --json --duration 2s --exit-on-alert --max-per-peer 2 --peer "$LAB_P3_V4/32" \
		>"$TEST_TMP/smoke.out" 2>"$TEST_TMP/smoke.err" || rc=$?
	[ "$rc" = 3 ] || fail "--exit-on-alert run exited $rc, want 3"
	grep -q '"final":true' "$TEST_TMP/smoke.out" || fail "no final summary in the --duration run"
	rc=0
	"$FINWATCH" --json --duration 1s --exit-on-alert --max-per-peer 0 --max-age 0 --max-total 0 \
		>"$TEST_TMP/smoke2.out" 2>&1 || rc=$?
	[ "$rc" = 0 ] || fail "a run without alerts exited $rc, want 0"
	pass "--duration runs end with a summary; --exit-on-alert gives 3 only when an alert fired"
}

run_scenarios
