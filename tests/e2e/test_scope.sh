#!/usr/bin/env bash
# --netns and --cgroup keep other namespaces' and cgroups' stuck sockets out
# of counts, alerts and reaping, while they are stuck at the same time.
# Namespace A is the lab host (clients to peer 1); namespace B is peer 3,
# whose clients get stuck on a server in the lab host. Cgroups A and B hold
# clients in the same namespace.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
skip_unless_root python3
cgroup2_mount >/dev/null || fail "no cgroup v2 hierarchy mounted"
lab_up
P3_NSINO=$(ip netns exec "$LAB_P3" stat -L -c %i /proc/self/ns/net)
CGA=/fwscope-$$-a
CGB=/fwscope-$$-b
make_cgroup "$CGA"
make_cgroup "$CGB"

spawn_server hold1 "$LAB_P1" "$LAB_P1_V4:5901" hold
spawn_server holdh "$LAB_HOST" "10.201.3.1:5903" hold
spawn a1 "$LAB_HOST" "$FWPEER" client --connect "$LAB_P1_V4:5901" --count 3 --how shutdown --hold-sec -1
wait_ready a1
spawn b1 "$LAB_P3" "$FWPEER" client --connect "10.201.3.1:5903" --count 4 --how shutdown --hold-sec -1
wait_ready b1
wait_for 5 ss_expect "$LAB_P3" fin-wait-2 4 || fail "setup: namespace B has $(ss_count "$LAB_P3" fin-wait-2)"

# --netns: only A, by name; B's 4 stuck sockets neither count nor alert nor get reaped.
OUT="$TEST_TMP/netns.out"
rc=0
"$FINWATCH" --json --duration 3s --interval 500ms --netns "$LAB_HOST" --max-per-peer 2 --max-age 0 \
	--max-total 0 --reap-after 1s --reap-kind held --reap-rate 100 >"$OUT" 2>"$TEST_TMP/netns.err" || rc=$?
[ "$rc" = 0 ] || fail "--netns run exited $rc: $(head -c 300 "$TEST_TMP/netns.err")"
[ "$("$FWCHECK" count "$OUT" reaped netns="$P3_NSINO")" = 0 ] || fail "reaped in namespace B"
[ "$("$FWCHECK" count "$OUT" alert netns="$P3_NSINO")" = 0 ] || fail "alert for namespace B"
[ "$("$FWCHECK" count "$OUT" alert netns="$LAB_HOST_NSINO" rule=max_per_peer state=firing)" -ge 1 ] ||
	fail "no alert for namespace A"
[ "$("$FWCHECK" count "$OUT" reaped netns="$LAB_HOST_NSINO" result=ok)" = 3 ] || fail "A's 3 sockets not reaped"
python3 - "$OUT" "$P3_NSINO" <<'PY' || fail "namespace B appears in a summary"
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["type"] == "summary" and any(p["netns"] == int(sys.argv[2]) for p in r["peers"]):
        sys.exit(1)
PY
ss_expect "$LAB_P3" fin-wait-2 4 || fail "namespace B lost sockets: $(ss_count "$LAB_P3" fin-wait-2)"
ss_expect "$LAB_HOST" fin-wait-2 0 "$LAB_P1_V4" || fail "A still has $(ss_count "$LAB_HOST" fin-wait-2 "$LAB_P1_V4")"
pass "--netns $LAB_HOST: A's 3 alerted and reaped, B's 4 untouched (ss: $(ss_count "$LAB_P3" fin-wait-2))"

# Bad input: a namespace that does not exist is a usage error.
rc=0
"$FINWATCH" --netns no-such-ns-$$ --duration 1s >/dev/null 2>"$TEST_TMP/bad.err" || rc=$?
[ "$rc" = 2 ] || fail "--netns no-such-ns exited $rc, want 2"
[ "$(wc -l <"$TEST_TMP/bad.err")" = 1 ] && grep -q -- "--netns: no network namespace 'no-such-ns-$$'" "$TEST_TMP/bad.err" ||
	fail "--netns error: $(cat "$TEST_TMP/bad.err")"
rc=0
"$FINWATCH" --cgroup /no-such-cgroup-$$ --duration 1s >/dev/null 2>"$TEST_TMP/bad2.err" || rc=$?
[ "$rc" = 2 ] || fail "--cgroup /no-such-cgroup exited $rc, want 2"
pass "a namespace or cgroup that does not exist: one line, exit 2"

# --cgroup: clients of cgroup A and B in the same namespace; only A counts.
spawn_server hold2 "$LAB_P2" "$LAB_P2_V4:5902" hold
spawn_in_cgroup ca "$CGA" "$LAB_HOST" "$FWPEER" client --connect "$LAB_P2_V4:5902" --count 2 --how shutdown --hold-sec -1
wait_ready ca
spawn_in_cgroup cb "$CGB" "$LAB_HOST" "$FWPEER" client --connect "$LAB_P2_V4:5902" --count 5 --how shutdown --hold-sec -1
wait_ready cb
wait_for 5 ss_expect "$LAB_HOST" fin-wait-2 7 "$LAB_P2_V4" || fail "setup: $(ss_count "$LAB_HOST" fin-wait-2 "$LAB_P2_V4")"
OUT="$TEST_TMP/cgroup.out"
rc=0
"$FINWATCH" --json --duration 3s --interval 500ms --cgroup "$CGA" --max-per-peer 1 --max-age 0 --max-total 0 \
	--reap-after 1s --reap-kind held --reap-rate 100 >"$OUT" 2>"$TEST_TMP/cgroup.err" || rc=$?
[ "$rc" = 0 ] || fail "--cgroup run exited $rc: $(head -c 300 "$TEST_TMP/cgroup.err")"
[ "$("$FWCHECK" get "$OUT" alert count peer="$LAB_P2_V4" state=firing)" = 2 ] ||
	fail "alert count $("$FWCHECK" get "$OUT" alert count peer="$LAB_P2_V4" state=firing), want 2 (cgroup A only)"
[ "$("$FWCHECK" count "$OUT" reaped peer="$LAB_P2_V4" result=ok)" = 2 ] || fail "not exactly A's 2 reaped"
[ "$("$FWCHECK" count "$OUT" reaped peer="$LAB_P1_V4")" = 0 ] || fail "reaped outside the cgroup"
ss_expect "$LAB_HOST" fin-wait-2 5 "$LAB_P2_V4" || fail "cgroup B lost sockets: $(ss_count "$LAB_HOST" fin-wait-2 "$LAB_P2_V4")"
pass "--cgroup $CGA: its 2 sockets alerted and reaped, cgroup B's 5 untouched"
