#!/usr/bin/env bash
# finwatch trace --json reports the exact transition sequence, addresses,
# ports, netns and closing process for connections closed actively,
# passively, by shutdown(), by RST from either side, over IPv4 and IPv6, in
# a lab network namespace and on the root namespace's loopback.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
skip_unless_root
lab_up
ROOTNS=$(stat -Lc %i /proc/self/ns/net)
OUT="$TEST_TMP/fw.out"

spawn fw - "$FINWATCH" trace --json
wait_for 10 grep -q '"type":"start"' "$OUT" || fail "finwatch did not start"

client() { # NAME CONNECT HOW COMM [ARGS]
	local name=$1 connect=$2 how=$3 comm=$4
	shift 4
	spawn "$name" "$LAB_HOST" "$FWPEER" client --connect "$connect" --how "$how" --comm "$comm" "$@"
	wait_ready "$name"
}
client_pid() { sed -n 's/^pid //p' "$TEST_TMP/$1.out"; }
seq_ok() { "$FWCHECK" seq "$OUT" "$@" 2>/dev/null; }
expect_seq() { # DESC NETNS DADDR DPORT SEQ [conds]
	local desc=$1
	shift
	wait_for 10 seq_ok "$@" || { "$FWCHECK" seq "$OUT" "$@" || true; fail "$desc"; }
	pass "$desc"
}
ACTIVE="CLOSE>SYN_SENT,SYN_SENT>ESTABLISHED,ESTABLISHED>FIN_WAIT1,FIN_WAIT1>FIN_WAIT2,FIN_WAIT2>CLOSE"

# Active close (close()), IPv4 and IPv6: the orphan is handed to timewait.
spawn_server s1 "$LAB_P1" "$LAB_P1_V4:5101" close
spawn_server s1b "$LAB_P1" "[$LAB_P1_V6]:5101" close
client c1 "$LAB_P1_V4:5101" close fwactive4
client c1b "[$LAB_P1_V6]:5101" close fwactive6
expect_seq "active close v4" "$LAB_HOST_NSINO" "$LAB_P1_V4" 5101 "$ACTIVE" \
	"ESTABLISHED>FIN_WAIT1.comm=fwactive4" "ESTABLISHED>FIN_WAIT1.pid=$(client_pid c1)" \
	"FIN_WAIT2>CLOSE.orphaned=true" "FIN_WAIT2>CLOSE.sk_err=0" "FIN_WAIT2>CLOSE.comm=fwactive4" \
	"CLOSE>SYN_SENT.family=4" "FIN_WAIT2>CLOSE.saddr=$LAB_HOST1_V4"
expect_seq "active close v6" "$LAB_HOST_NSINO" "$LAB_P1_V6" 5101 "$ACTIVE" \
	"ESTABLISHED>FIN_WAIT1.comm=fwactive6" "FIN_WAIT2>CLOSE.family=6" \
	"FIN_WAIT2>CLOSE.saddr=$LAB_HOST1_V6" "FIN_WAIT2>CLOSE.orphaned=true"

# shutdown(SHUT_WR) with the fd kept; the peer closes 500 ms later: a held
# FIN_WAIT_2 ending with the peer's FIN, and ms_in_old measures it.
spawn_server s2 "$LAB_P2" "$LAB_P2_V4:5102" delay --close-after 500
client c2 "$LAB_P2_V4:5102" shutdown fwheld --hold-sec -1
expect_seq "shutdown, peer FIN after 500ms" "$LAB_HOST_NSINO" "$LAB_P2_V4" 5102 "$ACTIVE" \
	"ESTABLISHED>FIN_WAIT1.comm=fwheld" "FIN_WAIT2>CLOSE.orphaned=false" \
	"FIN_WAIT2>CLOSE.fin_rcvd=true" "FIN_WAIT2>CLOSE.sk_err=0" "FIN_WAIT2>CLOSE.dport=5102"
ms=$("$FWCHECK" last "$OUT" transition ms_in_old old=FIN_WAIT2 daddr="$LAB_P2_V4" dport=5102)
python3 -c "import sys; v=float(sys.argv[1]); sys.exit(0 if 400 <= v <= 2000 else 1)" "$ms" ||
	fail "ms_in_old in FIN_WAIT2 was $ms, want ~500"
pass "ms_in_old $ms ms for a 500 ms FIN_WAIT_2"

# The peer answers our FIN with RST while we sit in FIN_WAIT_2.
spawn_server s3 "$LAB_P3" "$LAB_P3_V4:5103" rst --close-after 300
client c3 "$LAB_P3_V4:5103" shutdown fwrst --hold-sec -1
expect_seq "peer RST in FIN_WAIT2" "$LAB_HOST_NSINO" "$LAB_P3_V4" 5103 "$ACTIVE" \
	"FIN_WAIT2>CLOSE.sk_err=104" "FIN_WAIT2>CLOSE.orphaned=false"

# We reset (SO_LINGER 0): no FIN_WAIT at all.
spawn_server s4 "$LAB_P3" "$LAB_P3_V4:5104" close
client c4 "$LAB_P3_V4:5104" rst fwourrst
expect_seq "our RST" "$LAB_HOST_NSINO" "$LAB_P3_V4" 5104 "CLOSE>SYN_SENT,SYN_SENT>ESTABLISHED,ESTABLISHED>CLOSE"

# Passive close: the peer closes first; we close when the client exits.
spawn_server s5 "$LAB_P2" "[$LAB_P2_V6]:5105" closefirst
client c5 "[$LAB_P2_V6]:5105" none fwpassive --hold-sec 1
spawn_wait c5 10 || fail "passive client failed"
expect_seq "passive close v6" "$LAB_HOST_NSINO" "$LAB_P2_V6" 5105 \
	"CLOSE>SYN_SENT,SYN_SENT>ESTABLISHED,ESTABLISHED>CLOSE_WAIT,CLOSE_WAIT>LAST_ACK,LAST_ACK>CLOSE" \
	"CLOSE_WAIT>LAST_ACK.comm=fwpassive" "LAST_ACK>CLOSE.comm=fwpassive"

# Outside any lab namespace: loopback of the root namespace.
spawn_server s6 - 127.0.0.1:0 close
port=$(sed -n 's/^port //p' "$TEST_TMP/s6.out")
spawn c6 - "$FWPEER" client --connect "127.0.0.1:$port" --how close --comm fwloop
wait_ready c6
expect_seq "root netns loopback" "$ROOTNS" 127.0.0.1 "$port" "$ACTIVE" "ESTABLISHED>FIN_WAIT1.comm=fwloop"

spawn_stop fw INT || fail "finwatch did not exit 0 on SIGINT"
grep -q '"type":"summary"' "$OUT" || fail "no final summary"
"$FWCHECK" valid "$OUT" || fail "invalid JSON line"
lost=$("$FWCHECK" last "$OUT" summary lost)
[ "$lost" = 0 ] || fail "lost $lost events"
pass "clean exit with summary, valid JSON, 0 lost"
