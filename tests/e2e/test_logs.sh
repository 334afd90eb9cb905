#!/usr/bin/env bash
# Log pipelines. Scenarios (tests/e2e/lib.sh):
# syslog: --syslog: alerts (JSON text) and FIN_WAIT_2 exits reach a real syslog
#    daemon (a private rsyslogd) with facility daemon and the right severities.
# rotation: --output FILE under load, rotated five times (rename + SIGHUP, the last
#    time by logrotate itself): finwatch keeps running, every line of every file is one whole
#    JSON object with host and an ISO-8601 UTC time, and no line is lost or
#    split: the fw2_exit lines across the files are exactly the exits of the
#    final summary, one per connection made.
set -euo pipefail
# shellcheck disable=SC2034 # read by lib.sh
SCENARIOS=(syslog rotation)
. "$(dirname "$0")/lib.sh"
skip_unless_root python3
lab_up

# ---- syslog ----
# syslog(3) always writes to /dev/log. Without one (containers, minimal CI
# images) our rsyslogd creates it and it is removed at exit; when another
# daemon owns it (journald), finwatch runs in a private mount namespace where
# our rsyslogd's socket is bind-mounted over /dev/log, so nothing global
# changes. FW_SYSLOG_PRIVATE=1 forces the second way (needs a /dev/log).
SYSLOG_OUT="$TEST_TMP/syslog.out"
SYSLOG_CHECK=(python3 "$E2E_DIR/syslog_check.py" "$SYSLOG_OUT" "$LAB_P1_V4" "$LAB_HOST_NSINO")
# Removes /dev/log, which did not exist before this test's rsyslogd made it.
devlog_remove() {
	spawn_stop rsyslogd >/dev/null 2>&1 || true
	if [ -S /dev/log ]; then rm -f /dev/log; fi
}
syslog_logger_probe() {
	logger -u "$1" -t fwprobe "probe $$" 2>/dev/null || true
	grep -q "^fwprobe|.*probe $$" "$SYSLOG_OUT" 2>/dev/null
}
scenario_syslog() {
		local sock mode n fwcmd
		if ! command -v rsyslogd >/dev/null 2>&1; then
			echo "NOTE: rsyslogd not installed (Debian package rsyslog): scenario syslog skipped"
			return 0
		fi
		if [ -e /dev/log ] || [ -L /dev/log ] || [ "${FW_SYSLOG_PRIVATE:-0}" = 1 ]; then
			if ! command -v unshare >/dev/null 2>&1; then
				echo "NOTE: /dev/log belongs to another daemon and unshare is missing: scenario syslog skipped"
				return 0
			fi
			mode=private sock="$TEST_TMP/log.sock"
		else
			mode=devlog sock=/dev/log
		fi
		mkdir -p "$TEST_TMP/rsyslog"
		cat >"$TEST_TMP/rsyslog.conf" <<EOF
global(workDirectory="$TEST_TMP/rsyslog" processInternalMessages="on")
module(load="imuxsock" SysSock.Name="$sock" SysSock.RateLimit.Interval="0" SysSock.Unlink="on")
template(name="fwtest" type="string" string="%programname%|%syslogfacility-text%|%syslogseverity-text%|%msg%\n")
*.* action(type="omfile" file="$SYSLOG_OUT" template="fwtest")
EOF
		spawn rsyslogd - rsyslogd -n -f "$TEST_TMP/rsyslog.conf" -i "$TEST_TMP/rsyslog.pid"
		[ "$mode" = private ] || cleanup_add devlog_remove
		wait_for 5 test -S "$sock" || fail "rsyslogd did not create $sock"
		wait_for 5 syslog_logger_probe "$sock" || fail "rsyslogd does not write what it receives on $sock to $SYSLOG_OUT"

		fwcmd=("$FINWATCH" --syslog --json --interval 500ms --peer "$LAB_P1_V4" --max-per-peer 5
			--max-age 0 --max-total 0)
		if [ "$mode" = private ]; then
			# shellcheck disable=SC2016 # expanded by the inner sh
			spawn fwsys - unshare --mount --propagation private sh -c \
				'mount --bind "$0" /dev/log && exec "$@"' "$sock" "${fwcmd[@]}"
		else
			spawn fwsys - "${fwcmd[@]}"
		fi
		wait_start fwsys "$(spawn_out fwsys)"
		spawn_server sstuck "$LAB_P1" "$LAB_P1_V4:5211" hold
		n=8
		spawn sheld "$LAB_HOST" "$FWPEER" client --connect "$LAB_P1_V4:5211" --how shutdown --count "$n" \
			--hold-sec -1
		wait_ready sheld
		wait_for 10 ss_expect "$LAB_HOST" fin-wait-2 "$n" "$LAB_P1_V4" || fail "no FIN_WAIT_2 sockets for the syslog part"
		wait_for 10 "${SYSLOG_CHECK[@]}" firing 2>/dev/null ||
			fail "syslog: $("${SYSLOG_CHECK[@]}" firing 2>&1); last finwatch lines: $(grep '^finwatch|' "$SYSLOG_OUT" | tail -n3)"
		pass "--syslog ($mode /dev/log): the max_per_peer alert reached rsyslogd as JSON, daemon.warning"
		spawn_stop sstuck || true
		wait_for 10 "${SYSLOG_CHECK[@]}" firing resolved "exits=$n" 2>/dev/null ||
			fail "syslog: $("${SYSLOG_CHECK[@]}" firing resolved "exits=$n" 2>&1); last finwatch lines: $(grep '^finwatch|' "$SYSLOG_OUT" | tail -n3)"
		pass "--syslog: resolved alert (daemon.notice) and $n fw2_exit lines (daemon.info)"
		spawn_stop fwsys INT || fail "finwatch --syslog did not exit 0"
		spawn_stop sheld || true
}

# --output and rotation
scenario_rotation() {
	local LOG ROUNDS PER_ROUND FW_PID files i how out TOTAL f mode
	LOG="$TEST_TMP/fw.jsonl"
	ROUNDS=5 PER_ROUND=2000
	spawn_server good "$LAB_P2" "$LAB_P2_V4:5212" close
	umask 0022
	spawn fw - "$FINWATCH" --output "$LOG" --interval 500ms --peer "$LAB_P2_V4" --max-per-peer 0 \
		--max-total 0 --max-age 0 --scan-interval 500ms --top 100
	FW_PID=$SPAWN_PID
	wait_start fw "$LOG"
	[ ! -s "$(spawn_out fw)" ] || fail "--output: finwatch also wrote to stdout: $(head -c 300 "$(spawn_out fw)")"

	# Rounds 1..ROUNDS-1: rename + SIGHUP by hand; the last round with the real
	# logrotate (create + postrotate kill -HUP) when it is installed.
	files=()
	for ((i = 1; i <= ROUNDS; i++)); do
		spawn "churn$i" "$LAB_HOST" "$FWPEER" churn --connect "$LAB_P2_V4:5212" --count "$PER_ROUND" \
			--interval-ms 1
		# Rotate while exits are being written.
		wait_for 5 grep -qs '"type":"fw2_exit"' "$LOG" || fail "round $i: no fw2_exit lines in $LOG"
		if [ "$i" = "$ROUNDS" ] && command -v logrotate >/dev/null 2>&1; then
			how=logrotate
			mkdir -p "$TEST_TMP/old"
			cat >"$TEST_TMP/logrotate.conf" <<EOF
$LOG {
	rotate 3
	olddir $TEST_TMP/old
	nocompress
	create 0640 root root
	postrotate
		kill -HUP $FW_PID
	endscript
}
EOF
			out=$(logrotate -f -s "$TEST_TMP/logrotate.state" "$TEST_TMP/logrotate.conf" 2>&1) ||
				fail "logrotate failed: $out"
			files+=("$TEST_TMP/old/fw.jsonl.1")
		else
			how="mv + SIGHUP"
			mv "$LOG" "$LOG.$i"
			kill -HUP "$FW_PID"
			files+=("$LOG.$i")
		fi
		# finwatch writes to the new file (logrotate created it already).
		if ! wait_for 5 test -s "$LOG"; then
			alive "$FW_PID" || fail "finwatch exited on SIGHUP (rotation $i) instead of reopening --output; last line: $(tail -n1 "${files[-1]}" | cut -c1-120)"
			fail "rotation $i ($how): finwatch did not write to the new $LOG within 5 s of SIGHUP"
		fi
		spawn_wait "churn$i" 30 || fail "churn round $i failed"
	done
	files+=("$LOG")
	alive "$FW_PID" || fail "finwatch died during the rotations"
	pass "$ROUNDS rotations (the last by $how) under a churn of $((ROUNDS * PER_ROUND)) connections; finwatch reopened each time"

	TOTAL=$((ROUNDS * PER_ROUND))
	# Peers are counted in the lab's host namespace only: labs of tests running
	# in parallel use the same addresses in other namespaces.
	p2() { "$FWCHECK" peer "$LOG" "$LAB_P2_V4" "$1" "$LAB_HOST_NSINO"; }
	all_exited() { [ "$(p2 exited)" = "$TOTAL" ] && [ "$(p2 count)" = 0 ]; }
	counters() {
		"$FWCHECK" last "$LOG" summary "$1" | tr -d '\n'
	}
	wait_for 15 all_exited ||
		fail "finwatch counts $(p2 exited) exits, $(p2 entered) entered, $(p2 count) now for $LAB_P2_V4 in netns $LAB_HOST_NSINO, want $TOTAL exits (last summary: lost $(counters lost), recursion_misses $(counters recursion_misses), untracked_exits $(counters untracked_exits), handoffs $(counters handoffs), reconciled_missing $(counters reconciled_missing))"
	spawn_stop fw INT || fail "finwatch did not exit 0 on SIGINT"

	for f in "${files[@]}"; do
		"$FWCHECK" valid "$f" || fail "$f: invalid JSON Lines (above)"
	done
	# A file finwatch created when reopening (logrotate's create made the current one).
	mode=$(stat -c %a "${files[1]}")
	[ "$mode" = 640 ] || fail "${files[1]}, opened by finwatch on SIGHUP, has mode $mode, want 640"
	python3 - "$LAB_P2_V4" "$LAB_HOST_NSINO" "$TOTAL" "${files[@]}" <<'EOF' || fail "log files check (above)"
import datetime, json, re, socket, sys
peer, netns, total, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
host = socket.gethostname()
now = datetime.datetime.now(datetime.timezone.utc)
iso = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
bad, exits, cookies, starts, finals = [], 0, set(), [], []
for fi, path in enumerate(files):
    data = open(path, "rb").read()
    if not data:
        bad.append("%s is empty" % path)
        continue
    if not data.endswith(b"\n"):
        bad.append("%s does not end with a newline (a split line)" % path)
    for n, raw in enumerate(data.split(b"\n")[:-1], 1):
        where = "%s:%d" % (path, n)
        try:
            r = json.loads(raw.decode("utf-8"))
        except ValueError as e:
            bad.append("%s: not one JSON object: %s: %r" % (where, e, raw[:120]))
            continue
        if not isinstance(r, dict):
            bad.append("%s: not an object" % where)
            continue
        if r.get("host") != host:
            bad.append("%s: host %r, want %r" % (where, r.get("host"), host))
        t = r.get("time")
        if not isinstance(t, str) or not iso.match(t):
            bad.append("%s: time %r is not ISO-8601 UTC with ms and Z" % (where, t))
        else:
            dt = datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
            if abs((now - dt).total_seconds()) > 600:
                bad.append("%s: time %s is not now (%s)" % (where, t, now.isoformat()))
        if r.get("type") == "fw2_exit" and r.get("peer") == peer and r.get("netns") == netns:
            exits += 1
            if r["cookie"] in cookies:
                bad.append("%s: socket cookie %s exits twice" % (where, r["cookie"]))
            cookies.add(r["cookie"])
        if r.get("type") == "start":
            starts.append(fi)
        if r.get("type") == "summary" and r.get("final"):
            finals.append((fi, r))
    if len(bad) > 20:
        break
if starts != [0]:
    bad.append("start records in files %s, want one in the first" % starts)
if len(finals) != 1 or finals[0][0] != len(files) - 1:
    bad.append("final summaries in files %s, want one in the current file" % [f for f, _ in finals])
else:
    s = finals[0][1]
    exited = sum(p["exited"] for p in s["peers"] if p["peer"] == peer and p["netns"] == netns)
    if exits != exited:
        bad.append("%d fw2_exit lines for %s across the files, the final summary says %d exited" % (exits, peer, exited))
    if s["lost"] or s["print_errors"]:
        bad.append("final summary: lost %d, print_errors %d" % (s["lost"], s["print_errors"]))
    if exits != total:
        bad.append("%d fw2_exit lines for %s, want one per connection: %d" % (exits, peer, total))
if bad:
    sys.stderr.write("\n".join(bad[:20]) + "\n")
    sys.exit(1)
print("%d lines checked in %d files, %d fw2_exit" % (sum(1 for f in files for _ in open(f, "rb")), len(files), exits))
EOF
	pass "every line of the $((ROUNDS + 1)) files is whole JSON with host and UTC time; fw2_exit lines = final summary = $TOTAL connections"
}

run_scenarios
