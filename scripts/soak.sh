#!/usr/bin/env bash
# make soak (not in CI): a long mixed load in the netns lab, then finwatch's
# per-peer FIN_WAIT_2 counts are checked against ss, and its RSS, fd count
# and lost events against their bounds.
#   SOAK_SECONDS=600 scripts/soak.sh [BUILD_DIR]
# Load (bounded, only inside the lab): a churn of normal connections to peer
# 2, held and orphaned stuck sockets to peer 1 (hold server), resets from
# peer 3, and held IPv6 sockets; every round adds and releases some.
set -euo pipefail
export FW_BUILD=${FW_BUILD:-$(cd "$(dirname "$0")/.." && pwd)/${1:-build}}
export TEST_NAME=soak
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/../tests/e2e/lib.sh"
skip_unless_root
SECS=${SOAK_SECONDS:-600}
lab_up ""
OUT="$TEST_TMP/fw.out"
ip netns exec "$LAB_HOST" sysctl -qw net.ipv4.tcp_fin_timeout=20

spawn fw - "$FINWATCH" --json --interval 5s "${LAB_SCOPE[@]}" --top 20
wait_for 10 grep -q '"type":"start"' "$OUT" || fail "finwatch did not start"
FWPID=$(spawn_pid fw)
spawn_server hold "$LAB_P1" "$LAB_P1_V4:6001" hold
spawn_server hold6 "$LAB_P1" "[$LAB_P1_V6]:6001" hold
spawn_server good "$LAB_P2" "$LAB_P2_V4:6002" delay --close-after 50
spawn_server rst "$LAB_P3" "$LAB_P3_V4:6003" rst --close-after 100

rss() { awk '/VmRSS/ {print $2}' "/proc/$FWPID/status"; }
fds() { find "/proc/$FWPID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
rss0=0 fd0=0 round=0
end=$(( $(date +%s) + SECS ))
while [ "$(date +%s)" -lt "$end" ]; do
	round=$((round + 1))
	spawn "churn$round" "$LAB_HOST" "$FWPEER" churn --connect "$LAB_P2_V4:6002" --count 2000 --how close
	spawn "rst$round" "$LAB_HOST" "$FWPEER" client --connect "$LAB_P3_V4:6003" --count 50 --how close
	spawn "orph$round" "$LAB_HOST" "$FWPEER" client --connect "$LAB_P1_V4:6001" --count 100 --how close
	spawn "held$round" "$LAB_HOST" "$FWPEER" client --connect "$LAB_P1_V4:6001" --count 50 \
		--how shutdown --hold-sec 10
	spawn "held6$round" "$LAB_HOST" "$FWPEER" client --connect "[$LAB_P1_V6]:6001" --count 20 \
		--how shutdown --hold-sec 15
	spawn_wait "churn$round" 120 || fail "churn round $round failed"
	spawn_wait "rst$round" 30 || true
	spawn_wait "orph$round" 30 || true
	if [ "$round" = 3 ]; then rss0=$(rss); fd0=$(fds); fi
done
echo "soak: $round rounds over ${SECS}s"
# A stuck set that stays, then let the rounds' held clients expire and the
# counts settle: finwatch must then agree with ss exactly.
spawn final "$LAB_HOST" "$FWPEER" client --connect "$LAB_P1_V4:6001" --count 300 --how shutdown --hold-sec -1
wait_ready final 30
settled() { [ "$(ss_count "$LAB_HOST" fin-wait-2 "$LAB_P1_V4")" = "$("$FWCHECK" peer "$OUT" "$LAB_P1_V4" count "$LAB_HOST_NSINO")" ]; }
wait_for 60 ss_expect "$LAB_HOST" fin-wait-2 300 "$LAB_P1_V4" || true
wait_for 30 settled || true
ss_n=$(ss_count "$LAB_HOST" fin-wait-2 "$LAB_P1_V4")
fw_n=$("$FWCHECK" peer "$OUT" "$LAB_P1_V4" count "$LAB_HOST_NSINO")
rss1=$(rss) fd1=$(fds)
spawn_stop fw INT || fail "finwatch exit"
lost=$("$FWCHECK" last "$OUT" summary lost final=true)
echo "soak: ss FIN_WAIT_2 to peer 1: $ss_n, finwatch: $fw_n; RSS ${rss0} -> ${rss1} KiB; fds ${fd0} -> ${fd1}; lost $lost"
[ "$ss_n" = "$fw_n" ] || fail "count mismatch: ss $ss_n, finwatch $fw_n"
[ "$lost" = 0 ] || fail "lost $lost events"
[ "$fd1" -le $((fd0 + 2)) ] || fail "fd count grew: $fd0 -> $fd1"
[ "$rss0" = 0 ] || [ "$rss1" -le $((rss0 + 16384)) ] || fail "RSS grew by more than 16 MiB: $rss0 -> $rss1 KiB"
pass "counts match ss, no loss, RSS and fds flat"
