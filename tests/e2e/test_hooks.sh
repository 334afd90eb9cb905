#!/usr/bin/env bash
# --on-alert hooks. Scenarios (tests/e2e/lib.sh):
# alert_hook: a stuck peer over --max-per-peer runs the hook exactly twice (firing,
#    then resolved when the peer closes): stdin is the alert as one JSON
#    object, FINWATCH_RULE/STATE/PEER/NETNS/COUNT match it, the command line
#    is split into argv without a shell (";touch PWNED" is two arguments),
#    FINWATCH_* variables of finwatch's own environment do not leak, and
#    what the hook prints stays out of finwatch's JSON Lines on stdout.
#    No shell anywhere: process names full of shell syntax arrive verbatim in
#    the JSON and nothing runs them (no PWNED file appears).
# hung_hook: a hook that hangs does not stall finwatch (summaries keep coming at
#    --interval while it runs), is killed after --hook-timeout and reported on
#    stderr, together with the processes it started.
set -euo pipefail
# shellcheck disable=SC2034 # read by lib.sh
SCENARIOS=(alert_hook hung_hook)
. "$(dirname "$0")/lib.sh"
skip_unless_root python3
lab_up
# finwatch and its hooks run from here: a command interpreted by a shell would
# create PWNED in this directory.
mkdir -p "$TEST_TMP/cwd" "$TEST_TMP/calls" "$TEST_TMP/hang"
cd "$TEST_TMP/cwd"
COMM1='x;touch PWNED'
# shellcheck disable=SC2016 # literally
COMM2='$(touch PWNED)'

scenario_alert_hook() {
	local c n pwned
	# The hook: one call = calls/call.XXXXXX.json (stdin) + .env (written last).
	cat >"$TEST_TMP/hook.sh" <<'EOF'
#!/bin/sh
set -eu
f=$(mktemp "$(dirname "$0")/calls/call.XXXXXX")
cat >"$f.json"
{
	printf 'rule=%s\nstate=%s\npeer=%s\nnetns=%s\ncount=%s\nargs=%s\n' "${FINWATCH_RULE-}" \
		"${FINWATCH_STATE-}" "${FINWATCH_PEER-}" "${FINWATCH_NETNS-}" "${FINWATCH_COUNT-}" "$*"
	printf 'names=%s\n' "$(env | sed -n 's/^\(FINWATCH_[A-Za-z0-9_]*\)=.*/\1/p' | sort | tr '\n' ' ')"
} >"$f.env.tmp"
mv "$f.env.tmp" "$f.env"
# What a hook prints (curl prints the webhook's answer) must not end up in
# finwatch's JSON Lines on stdout.
echo "hook output, not JSON"
EOF
	chmod 0755 "$TEST_TMP/hook.sh"
	# Calls for our lab's network namespace: labs of tests running in parallel
	# use the same peer addresses in other namespaces.
	calls() { grep -lx "netns=$LAB_HOST_NSINO" "$TEST_TMP/calls"/call.*.env 2>/dev/null | wc -l; }
	calls_are() { [ "$(calls)" -eq "$1" ]; }

	spawn_server stuck "$LAB_P1" "$LAB_P1_V4:5401" hold
	spawn fw - env FINWATCH_RULE=bogus "FINWATCH_EVIL=\$(touch PWNED)" "$FINWATCH" --json --interval 500ms \
		--peer "$LAB_P1_V4" --max-per-peer 5 --max-age 0 --max-total 0 \
		--on-alert "$TEST_TMP/hook.sh first-arg ;touch PWNED" --hook-timeout 5s
	wait_start fw "$(spawn_out fw)"
	# 5 + 5 held sockets: over the limit only once both processes hold theirs.
	spawn held1 "$LAB_HOST" "$FWPEER" client --connect "$LAB_P1_V4:5401" --how shutdown --count 5 \
		--hold-sec -1 --comm "$COMM1"
	wait_ready held1
	spawn held2 "$LAB_HOST" "$FWPEER" client --connect "$LAB_P1_V4:5401" --how shutdown --count 5 \
		--hold-sec -1 --comm "$COMM2"
	wait_ready held2
	wait_for 10 ss_expect "$LAB_HOST" fin-wait-2 10 "$LAB_P1_V4" || fail "ss: $(ss_count "$LAB_HOST" fin-wait-2 "$LAB_P1_V4") FIN_WAIT_2 sockets, want 10"
	wait_for 10 calls_are 1 || fail "hook called $(calls) times after the alert fired, want 1"
	# The peer finally closes: the clients close their sockets, the alert resolves.
	spawn_stop stuck || true
	wait_for 10 calls_are 2 || fail "hook called $(calls) times after the peer closed, want 2"
	spawn_stop fw INT || fail "finwatch did not exit 0 on SIGINT"
	calls_are 2 || fail "hook called $(calls) times in all, want exactly 2 (one firing, one resolved)"

	python3 - "$TEST_TMP/calls" "$LAB_P1_V4" "$LAB_HOST_NSINO" "$COMM1" "$COMM2" <<'EOF' || fail "hook calls (above)"
import glob, json, sys
d, peer, netns, comm1, comm2 = sys.argv[1:]
bad, calls = [], []
for envf in glob.glob(d + "/call.*.env"):
    env = dict(l.rstrip("\n").split("=", 1) for l in open(envf) if "=" in l)
    if env.get("netns") != netns:
        continue
    raw = open(envf[:-4] + ".json", "rb").read()
    try:
        js = json.loads(raw.decode("utf-8"))
    except ValueError as e:
        bad.append("stdin is not one JSON object (%s): %r" % (e, raw[:200]))
        continue
    calls.append((js.get("ts_ns", 0), js, env))
calls.sort(key=lambda c: c[0])
states = [c[1].get("state") for c in calls]
if states != ["firing", "resolved"]:
    bad.append("alert states %s, want firing then resolved" % states)
for _, js, env in calls:
    want = {"rule": "max_per_peer", "peer": peer, "netns": netns, "args": "first-arg ;touch PWNED",
            "names": "FINWATCH_COUNT FINWATCH_NETNS FINWATCH_PEER FINWATCH_RULE FINWATCH_STATE "}
    got_js = {"rule": js.get("rule"), "peer": js.get("peer"), "netns": str(js.get("netns")),
              "state": js.get("state"), "count": str(js.get("count"))}
    for k, v in want.items():
        if env.get(k) != v:
            bad.append("%s call: %s=%r in the hook, want %r" % (js.get("state"), k, env.get(k), v))
    for k, v in got_js.items():
        if env.get(k) != v:
            bad.append("%s call: FINWATCH_%s=%r, the JSON on stdin says %r" % (js.get("state"), k.upper(), env.get(k), v))
    if js.get("type") != "alert" or not str(js.get("time", "")).endswith("Z") or "host" not in js:
        bad.append("stdin is not an alert record with time and host: %s" % js)
    if js.get("state") == "firing":
        if not 5 < js.get("count", 0) <= 10:
            bad.append("firing count %s, want 6..10" % js.get("count"))
        comms = {p.get("comm") for p in js.get("processes", [])}
        if comms != {comm1, comm2}:
            bad.append("processes in the alert: %r, want exactly %r and %r verbatim" % (sorted(comms), comm1, comm2))
    elif not 0 <= js.get("count", -1) <= 5:
        bad.append("resolved with count %s, want 0..5" % js.get("count"))
if bad:
    sys.stderr.write("\n".join(bad) + "\n")
    sys.exit(1)
EOF
	pass "hook ran exactly twice (firing, resolved): JSON on stdin, FINWATCH_* match it, argv split, no leaked FINWATCH_* variables"
	"$FWCHECK" valid "$(spawn_out fw)" ||
		fail "finwatch --json stdout is not JSON Lines after the hook ran (above): the hook's stdout is finwatch's stdout"
	pass "the hook's output stays out of finwatch's JSON Lines"

	for c in "$COMM1" "$COMM2"; do
		n=$("$FWCHECK" count "$(spawn_out fw)" fw2_exit peer="$LAB_P1_V4" netns="$LAB_HOST_NSINO" comm="$c")
		[ "$n" = 5 ] || fail "$n fw2_exit records with comm '$c' verbatim, want 5"
	done
	pwned=$(find "$TEST_TMP" "$FW_ROOT" -maxdepth 3 -name PWNED 2>/dev/null | head -n3)
	if [ -n "$pwned" ] || [ -e /PWNED ] || [ -e "$HOME/PWNED" ]; then
		fail "a shell ran an event's text: $pwned"
	fi
	pass "comms '$COMM1' and '$COMM2' arrive verbatim in the JSON; nothing interpreted them (no PWNED)"
}

scenario_hung_hook() {
	local OUT HANG_FILE HANG_PID CHILD_PID alert_ts during n_sum
	cat >"$TEST_TMP/hang.sh" <<'EOF'
#!/bin/sh
# One file per call: hang/PID.NETNS holding the pid of its child.
d=$(dirname "$0")/hang
cat >/dev/null
sleep 1000 &
echo "$!" >"$d/tmp.$$"
mv "$d/tmp.$$" "$d/$$.${FINWATCH_NETNS:-0}"
wait
EOF
	chmod 0755 "$TEST_TMP/hang.sh"
	# Our own leftovers only: the recorded hooks and their children, if they are
	# still that sh/sleep.
	kill_hung_hook() {
		local f pid
		for f in "$TEST_TMP"/hang/[0-9]*; do
			[ -f "$f" ] || continue
			for pid in "${f##*/}" "$(cat "$f")"; do
				pid=${pid%%.*}
				grep -qs "hang.sh\|sleep" "/proc/$pid/cmdline" && kill -KILL "$pid" 2>/dev/null
			done
		done
		return 0
	}
	cleanup_add kill_hung_hook

	spawn_server stuck2 "$LAB_P1" "$LAB_P1_V4:5402" hold
	spawn_server good "$LAB_P2" "$LAB_P2_V4:5403" close
	spawn fwh - "$FINWATCH" --json --interval 500ms --peer "$LAB_P1_V4" --peer "$LAB_P2_V4" \
		--max-per-peer 25 --max-age 0 --max-total 0 --on-alert "$TEST_TMP/hang.sh" --hook-timeout 1s
	OUT=$(spawn_out fwh)
	wait_start fwh "$OUT"
	# 30 held sockets: only this peer can cross the limit (the normal peer below
	# has 20 connections in all), so exactly one hook runs.
	spawn held3 "$LAB_HOST" "$FWPEER" client --connect "$LAB_P1_V4:5402" --how shutdown --count 30 --hold-sec -1
	wait_ready held3
	# (Other labs' peers may run hooks too: ours is the one for our namespace.)
	hang_started() { compgen -G "$TEST_TMP/hang/*.$LAB_HOST_NSINO" >/dev/null; }
	wait_for 5 hang_started || fail "the hanging hook did not start"
	HANG_FILE=$(compgen -G "$TEST_TMP/hang/*.$LAB_HOST_NSINO" | head -n1)
	HANG_PID=${HANG_FILE##*/}
	HANG_PID=${HANG_PID%%.*}
	CHILD_PID=$(cat "$HANG_FILE")
	# Events while the hook hangs: 20 connections that close normally.
	spawn normal "$LAB_HOST" "$FWPEER" client --connect "$LAB_P2_V4:5403" --how close --count 20
	wait_ready normal
	exits_p2() { [ "$("$FWCHECK" count "$OUT" fw2_exit peer="$LAB_P2_V4" netns="$LAB_HOST_NSINO")" = 20 ]; }
	wait_for 5 exits_p2 || fail "fw2_exit records stopped: $("$FWCHECK" count "$OUT" fw2_exit peer="$LAB_P2_V4" netns="$LAB_HOST_NSINO") of 20"
	wait_for 5 grep -q "hook pid $HANG_PID ran longer than 1000 ms" "$TEST_TMP/fwh.err" ||
		fail "no 'ran longer than 1000 ms' report for hook pid $HANG_PID on stderr: $(cat "$TEST_TMP/fwh.err")"
	wait_for 3 not_alive "$HANG_PID" || fail "hook pid $HANG_PID still running after the timeout"
	# Summaries printed after the alert and less than --hook-timeout later were
	# printed while the hook ran: the main loop did not wait for it.
	alert_ts=$("$FWCHECK" last "$OUT" alert ts_ns rule=max_per_peer state=firing peer="$LAB_P1_V4" netns="$LAB_HOST_NSINO")
	during=$(python3 - "$OUT" "$alert_ts" <<'EOF'
import json, sys
t0 = int(sys.argv[2])
n = 0
for line in open(sys.argv[1]):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if r.get("type") == "summary" and t0 < r["ts_ns"] < t0 + 1000000000:
        n += 1
print(n)
EOF
	)
	[ "$during" -ge 1 ] || fail "no summary while the hook hung (1 s after the alert, --interval 500ms)"
	have_more_summaries() { [ "$("$FWCHECK" count "$OUT" summary)" -ge $((n_sum + 2)) ]; }
	n_sum=$("$FWCHECK" count "$OUT" summary)
	wait_for 5 have_more_summaries || fail "summaries stopped after the hook was killed"
	alive "$(spawn_pid fwh)" || fail "finwatch died"
	pass "hanging hook: $during summaries while it ran, 20 fw2_exit records, killed after 1 s and reported on stderr"

	spawn_stop fwh INT || fail "finwatch did not exit 0 on SIGINT"
	# What the hook started dies with it (a hook is a process group).
	wait_for 3 not_alive "$CHILD_PID" ||
		fail "the hook's child (sleep 1000, pid $CHILD_PID) survived the hook's timeout kill and finwatch's exit: only the hook's own pid is killed, not its process group"
	pass "the hook's child process was killed with it"
}

run_scenarios
