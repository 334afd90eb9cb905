#!/usr/bin/env bash
# The seed's case: one peer leaves over 1000 of our sockets in FIN_WAIT_2 (it
# ACKs our FIN and never sends its own) while other peers close normally.
# finwatch's per-peer counts equal ss's, the per-peer alert fires for that
# peer only and resolves when the peer finally closes; an IPv6 peer counts too.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
skip_unless_root
lab_up
OUT="$TEST_TMP/fw.out"
HELD=700 ORPHANED=350 V6=5
TOTAL=$((HELD + ORPHANED))

spawn fw - "$FINWATCH" --json --interval 500ms --max-per-peer 1000 --max-age 0 --max-total 0 \
	--scan-interval 500ms --top 50
wait_for 10 grep -q '"type":"start"' "$OUT" || fail "finwatch did not start"

spawn_server stuck "$LAB_P1" "$LAB_P1_V4:5201" hold
spawn_server good "$LAB_P2" "$LAB_P2_V4:5202" close
spawn_server stuck6 "$LAB_P3" "[$LAB_P3_V6]:5203" hold

spawn held "$LAB_HOST" "$FWPEER" client --connect "$LAB_P1_V4:5201" --count "$HELD" --how shutdown \
	--hold-sec -1 --comm frontend
wait_ready held 30
spawn orph "$LAB_HOST" "$FWPEER" client --connect "$LAB_P1_V4:5201" --count "$ORPHANED" --how close \
	--comm frontend
wait_ready orph 30
spawn normal "$LAB_HOST" "$FWPEER" client --connect "$LAB_P2_V4:5202" --count 50 --how close
wait_ready normal 30
spawn held6 "$LAB_HOST" "$FWPEER" client --connect "[$LAB_P3_V6]:5203" --count "$V6" --how shutdown \
	--hold-sec -1
wait_ready held6

wait_for 10 ss_expect "$LAB_HOST" fin-wait-2 "$TOTAL" "$LAB_P1_V4" ||
	fail "ss shows $(ss_count "$LAB_HOST" fin-wait-2 "$LAB_P1_V4") FIN_WAIT_2 sockets to the stuck peer, want $TOTAL"
# Other tests' labs may reuse the addresses: always this lab's netns.
peer_is() { [ "$("$FWCHECK" peer "$OUT" "$1" "$2" "$LAB_HOST_NSINO")" = "$3" ]; }
wait_for 10 peer_is "$LAB_P1_V4" count "$TOTAL" ||
	fail "finwatch counts $("$FWCHECK" peer "$OUT" "$LAB_P1_V4" count "$LAB_HOST_NSINO") for the stuck peer, ss $TOTAL"
ss_now=$(ss_count "$LAB_HOST" fin-wait-2 "$LAB_P1_V4")
[ "$ss_now" = "$TOTAL" ] || fail "ss changed to $ss_now"
peer_is "$LAB_P1_V4" held "$HELD" || fail "held $("$FWCHECK" peer "$OUT" "$LAB_P1_V4" held "$LAB_HOST_NSINO"), want $HELD"
peer_is "$LAB_P1_V4" orphaned "$ORPHANED" ||
	fail "orphaned $("$FWCHECK" peer "$OUT" "$LAB_P1_V4" orphaned "$LAB_HOST_NSINO"), want $ORPHANED"
pass "stuck peer: finwatch $TOTAL = ss $ss_now ($HELD held, $ORPHANED orphaned)"

wait_for 5 peer_is "$LAB_P3_V6" count "$V6" || fail "IPv6 peer count $("$FWCHECK" peer "$OUT" "$LAB_P3_V6" count "$LAB_HOST_NSINO")"
[ "$(ss_count "$LAB_HOST" fin-wait-2 "$LAB_P3_V6")" = "$V6" ] || fail "ss disagrees on the IPv6 peer"
pass "IPv6 peer: $V6 held, as ss"
peer_is "$LAB_P2_V4" count 0 || fail "the normal peer shows FIN_WAIT_2 sockets"
exited=$("$FWCHECK" peer "$OUT" "$LAB_P2_V4" exited "$LAB_HOST_NSINO")
[ "$exited" -ge 1 ] || fail "the normal peer's sockets never left FIN_WAIT_2 ($exited)"

alerts() { "$FWCHECK" count "$OUT" alert netns="$LAB_HOST_NSINO" "$@"; }
has_alert() { [ "$(alerts "$@")" -ge 1 ]; }
wait_for 3 has_alert rule=max_per_peer state=firing peer="$LAB_P1_V4" || fail "no max_per_peer alert"
[ "$(alerts rule=max_per_peer state=firing)" = 1 ] || fail "max_per_peer fired $(alerts rule=max_per_peer state=firing) times"
[ "$(alerts state=firing)" = 1 ] || fail "other alerts fired: $(alerts state=firing)"
procs=$("$FWCHECK" last "$OUT" alert processes rule=max_per_peer state=firing)
grep -q '"frontend"' <<<"$procs" || fail "alert does not name the process: $procs"
advice=$("$FWCHECK" last "$OUT" alert advice rule=max_per_peer state=firing)
grep -q 'tcp_fin_timeout does not apply' <<<"$advice" || fail "advice lacks held-socket guidance: $advice"
pass "one max_per_peer alert, for the stuck peer only, naming frontend"

# The peer finally closes: everything leaves FIN_WAIT_2 with the peer's FIN.
spawn_stop stuck || true
wait_for 15 peer_is "$LAB_P1_V4" count 0 || fail "count stays $("$FWCHECK" peer "$OUT" "$LAB_P1_V4" count "$LAB_HOST_NSINO")"
wait_for 5 has_alert rule=max_per_peer state=resolved peer="$LAB_P1_V4" || fail "alert did not resolve"
fin=$("$FWCHECK" count "$OUT" fw2_exit netns="$LAB_HOST_NSINO" peer="$LAB_P1_V4" outcome=peer_fin)
[ "$fin" = "$TOTAL" ] || fail "$fin peer_fin exits for the stuck peer, want $TOTAL"
[ "$(ss_count "$LAB_HOST" fin-wait-2 "$LAB_P1_V4")" = 0 ] || fail "ss still shows FIN_WAIT_2"
pass "peer closed: $fin peer_fin exits, alert resolved, count 0 like ss"

spawn_stop fw INT || fail "finwatch did not exit 0"
"$FWCHECK" valid "$OUT" || fail "invalid JSON"
lost=$("$FWCHECK" last "$OUT" summary lost final=true)
[ "$lost" = 0 ] || fail "lost $lost events"
pass "0 events lost"
