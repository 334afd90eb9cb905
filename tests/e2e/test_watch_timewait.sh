#!/usr/bin/env bash
# Orphaned FIN_WAIT_2 sockets are followed through the kernel's timewait
# handoff: with tcp_fin_timeout=6 in the lab's host namespace they end as
# `timeout` 6 s (+-1 s) after entering FIN_WAIT_2; a peer FIN during the
# timewait phase ends one as `peer_fin`; an RST during it as `rst`. IPv4 and
# IPv6. The sysctl is changed only inside the lab namespace. The windows
# (6 s of timewait, peers closing after 3 s) leave room for a slow machine:
# under qemu's TCG starting the four clients alone takes seconds.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
skip_unless_root
lab_up
OUT="$TEST_TMP/fw.out"
ip netns exec "$LAB_HOST" sysctl -qw net.ipv4.tcp_fin_timeout=6

spawn fw - "$FINWATCH" --json --interval 500ms --max-age 0 --scan-interval 250ms \
	"${LAB_SCOPE[@]}"
wait_for 10 grep -q '"type":"start"' "$OUT" || fail "finwatch did not start"

spawn_server hold "$LAB_P1" "$LAB_P1_V4:5301" hold
spawn_server hold6 "$LAB_P1" "[$LAB_P1_V6]:5301" hold
spawn_server late "$LAB_P2" "$LAB_P2_V4:5302" delay --close-after 3000
spawn_server reset "$LAB_P3" "$LAB_P3_V4:5303" rst --close-after 3000

for c in "$LAB_P1_V4:5301" "[$LAB_P1_V6]:5301" "$LAB_P2_V4:5302" "$LAB_P3_V4:5303"; do
	spawn "c$RANDOM" "$LAB_HOST" "$FWPEER" client --connect "$c" --count 3 --how close
done
# Orphans sit in timewait (ss: FIN-WAIT-2 with a timewait timer).
wait_for 5 ss_expect "$LAB_HOST" fin-wait-2 12 || fail "ss shows $(ss_count "$LAB_HOST" fin-wait-2) FIN_WAIT_2, want 12"
count_is() { # the lab host netns's FIN_WAIT_2 count in the last summary
	python3 - "$OUT" "$LAB_HOST_NSINO" "$1" <<'PY'
import json, sys
s = [json.loads(l) for l in open(sys.argv[1]) if '"type":"summary"' in l]
n = sum(p["count"] for p in s[-1]["peers"] if p["netns"] == int(sys.argv[2])) if s else -1
sys.exit(0 if n == int(sys.argv[3]) else 1)
PY
}
wait_for 3 count_is 12 || fail "finwatch does not count 12 FIN_WAIT_2 during the timewait phase"
pass "12 orphans counted during the timewait phase, as ss"

# Other tests' labs may reuse the same addresses: count only this netns.
exits() { "$FWCHECK" count "$OUT" fw2_exit netns="$LAB_HOST_NSINO" "$@"; }
enough() { [ "$(exits "${@:2}")" -ge "$1" ]; }
wait_for 10 enough 3 peer="$LAB_P2_V4" || fail "peer FIN exits missing"
[ "$(exits peer="$LAB_P2_V4" outcome=peer_fin)" = 3 ] || fail "peer FIN in timewait: $(exits peer="$LAB_P2_V4" outcome=peer_fin)/3 peer_fin"
wait_for 10 enough 3 peer="$LAB_P3_V4" || fail "RST exits missing"
[ "$(exits peer="$LAB_P3_V4" outcome=rst)" = 3 ] || fail "RST in timewait: $(exits peer="$LAB_P3_V4" outcome=rst)/3 rst"
pass "peer FIN -> peer_fin, RST -> rst during timewait"

wait_for 12 enough 3 peer="$LAB_P1_V4" || fail "timeouts missing"
wait_for 5 enough 3 peer="$LAB_P1_V6" || fail "IPv6 timeouts missing"
for p in "$LAB_P1_V4" "$LAB_P1_V6"; do
	[ "$(exits peer="$p" outcome=timeout)" = 3 ] || fail "$p: $(exits peer="$p" outcome=timeout)/3 timeout"
done
python3 - "$OUT" "$LAB_HOST_NSINO" "$LAB_P1_V4" "$LAB_P1_V6" <<'PY' || fail "timeout durations off"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
d = [r["duration_ms"] for r in recs if r["type"] == "fw2_exit" and r["peer"] in sys.argv[3:]
     and r["netns"] == int(sys.argv[2])]
bad = [x for x in d if not 5000 <= x <= 7000]
print("timeout durations ms:", ", ".join("%.0f" % x for x in d))
sys.exit(1 if bad or len(d) != 6 else 0)
PY
pass "tcp_fin_timeout=6: 6 orphans (v4+v6) ended as timeout within 6 s +- 1 s"
wait_for 3 count_is 0 || fail "count did not drop to 0"
[ "$(ss_count "$LAB_HOST" fin-wait-2)" = 0 ] || fail "ss still shows FIN_WAIT_2"

# Healthy churn: the peer ACKs our FIN (delayed ACK, ~40 ms) and closes
# 100 ms after it, so each orphan is handed to a timewait socket and gets the
# peer's FIN ~60 ms later, unannounced. A second finwatch whose first
# follow-up scan comes 10 s after its start sees the whole churn end before
# looking: a handoff must not count as stuck until a scan has seen it still
# in FIN_WAIT2 (counting every handoff until the next scan showed the whole
# churn as stuck and fired max_per_peer for a healthy peer).
OUT2="$TEST_TMP/fwh.out"
spawn_server prompt "$LAB_P2" "$LAB_P2_V4:5304" delay --close-after 100
spawn fwh - "$FINWATCH" --json --interval 500ms --scan-interval 10s --max-age 0 --rport 5304
wait_for 10 grep -q '"type":"start"' "$OUT2" || fail "second finwatch did not start"
ip netns exec "$LAB_HOST" "$FWPEER" churn --connect "$LAB_P2_V4:5304" --count 2000 >/dev/null ||
	fail "churn failed"
summaries_since() { [ "$(grep -c '"type":"summary"' "$OUT2")" -ge "$1" ]; }
wait_for 5 summaries_since $(( $(grep -c '"type":"summary"' "$OUT2") + 2 )) || fail "no summaries after the churn"
python3 - "$OUT2" "$LAB_HOST_NSINO" "$LAB_P2_V4" <<'PY' || fail "healthy churn counted as stuck"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ns, peer = int(sys.argv[2]), sys.argv[3]
sums = [r for r in recs if r["type"] == "summary"]
peak = max([p["count"] for r in sums for p in r["peers"] if p["netns"] == ns and p["peer"] == peer] or [0])
unconfirmed = max(r["unconfirmed_handoffs"] for r in sums)
alerts = [r for r in recs if r["type"] == "alert" and r.get("peer") == peer]
print("healthy churn: %d handoffs (up to %d unconfirmed), peak count %d, %d alerts"
      % (sums[-1]["handoffs"], unconfirmed, peak, len(alerts)))
sys.exit(0 if sums[-1]["handoffs"] >= 1000 and unconfirmed >= 100 and peak < 50 and not alerts else 1)
PY
spawn_stop fwh INT || fail "second finwatch did not exit 0"
pass "healthy churn of 2000 connections: handoffs not counted as stuck until a scan confirms them, no alert"
spawn_stop fw INT || fail "finwatch did not exit 0"
"$FWCHECK" valid "$OUT" || fail "invalid JSON"
