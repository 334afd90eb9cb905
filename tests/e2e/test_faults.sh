#!/usr/bin/env bash
# finwatch under faults, in the netns lab. Scenarios (tests/e2e/lib.sh):
#  signals: under a connection storm, SIGHUP with --output reopens a
#     renamed file (whole lines in the old one, the rest in the new one) and
#     the run continues; SIGUSR1 prints the histograms (text mode, stdout)
#     and the run continues; SIGINT and SIGTERM end watch and trace runs with
#     exit 0 and a final summary that accounts for every record.
#  sigkill: after SIGKILL, no BPF program, map or link finwatch held is left.
#  side_by_side: a trace and a watch instance see the same FIN_WAIT_2
#     sockets side by side and exit independently.
#  netns_deleted: a network namespace deleted while its sockets are tracked: finwatch
#     keeps running, its count for that namespace drops to 0, stderr stays
#     quiet.
#  monotonic_time: ts_ns of consecutive summaries (of signals' --output
#     run; run first when alone) increases, within CLOCK_MONOTONIC of the
#     run, with one realtime offset for every record.
#  verifier_reject: the verifier rejects an optional program (a real
#     rejection: FINWATCH_TEST_REJECT_PROG swaps in an invalid program, the
#     nearest thing to a kernel update that changes what it accepts, as
#     a later build of 6.18.44 did): finwatch warns once and runs without it. Without the
#     holder walk, pre-existing held sockets are still counted exactly and
#     their holder comes from /proc; without the scan, new sockets are
#     still counted from events; a rejected tracepoint program still fails.
set -euo pipefail
# shellcheck disable=SC2034 # read by lib.sh
SCENARIOS=(signals sigkill side_by_side netns_deleted monotonic_time verifier_reject)
. "$(dirname "$0")/lib.sh"
skip_unless_root bpftool
lab_up

spawn_server srv_rst "$LAB_P1" "$LAB_P1_V4:5401" rst --close-after 100
spawn_server srv_hold "$LAB_P3" "$LAB_P3_V4:5403" hold
nsum() { grep -c '"type":"summary"' "$1" || true; }
has_summaries() { [ -f "$1" ] && [ "$(nsum "$1")" -ge "$2" ]; }

# The --output file of signals' SIGHUP run (renamed to $OUTF.1 midway) and
# CLOCK_MONOTONIC before and after it, for monotonic_time.
OUTF=$TEST_TMP/hup.jsonl
MONO0='' MONO1=''

scenario_signals() {
	local mark rc old_size n HIST acct_bad sig name acct conns FW_HUP FW_USR OUT_USR
	mark=$(checks_mark)
	spawn storm "$LAB_HOST" bash "$E2E_DIR/churn_storm.sh" "$FWPEER" "$LAB_P1_V4:5401" 40
	wait_ready storm
	storm_runs() { alive "$(spawn_pid storm)"; }

	# SIGHUP reopens --output; then SIGINT.
	MONO0=$(mono_ns)
	spawn fw_hup - "$FINWATCH" --no-discovery --output "$OUTF" --interval 200ms --max-per-peer 0 --max-age 0 --max-total 0 \
		"${LAB_SCOPE[@]}"
	FW_HUP=$SPAWN_PID
	wait_for 15 file_has "$OUTF" '"type":"start"' || fail "finwatch --output did not start"
	wait_for 5 has_summaries "$OUTF" 2 || fail "no summaries in --output"
	mv "$OUTF" "$OUTF.1"
	kill -HUP "$FW_HUP"
	wait_for 5 has_summaries "$OUTF" 2 || check_fail "SIGHUP: no new --output file with summaries after the rename"
	alive "$FW_HUP" || fail "SIGHUP ended finwatch"
	old_size=$(stat -c %s "$OUTF.1")
	wait_for 5 has_summaries "$OUTF" 4 || check_fail "SIGHUP: the new file stopped growing"
	[ "$(stat -c %s "$OUTF.1")" = "$old_size" ] || check_fail "SIGHUP: lines still go to the renamed file"
	"$FWCHECK" valid "$OUTF.1" || check_fail "SIGHUP: the renamed file has a broken line"
	storm_runs || fail "the storm ended before the signals were sent"
	rc=0
	spawn_stop fw_hup INT || rc=$?
	MONO1=$(mono_ns)
	[ "$rc" = 0 ] || check_fail "SIGINT under load: watch --output exited $rc"
	"$FWCHECK" valid "$OUTF" || check_fail "SIGHUP: the new file has a broken line"
	"$FWCHECK" final "$OUTF" count >/dev/null || check_fail "SIGINT under load: no final summary in the new --output file"
	echo "HUP: $(nsum "$OUTF.1") summaries in the renamed file, $(nsum "$OUTF") in the new one"

	# SIGUSR1 prints histograms on stdout (text mode) and the run goes on;
	# then SIGTERM.
	spawn fw_usr - "$FINWATCH" --no-discovery --interval 300ms --top 1000 --max-per-peer 0 --max-age 0 --max-total 0 \
		"${LAB_SCOPE[@]}"
	FW_USR=$SPAWN_PID
	OUT_USR=$TEST_TMP/fw_usr.out
	tables() { grep -c '^--- FIN_WAIT_2 now' "$OUT_USR" || true; }
	has_tables() { [ "$(tables)" -ge "$1" ]; }
	# The storm's sockets end with an exit: a histogram for the lab peer exists.
	has_exits() { grep -Eq "^$LAB_P1_V4 +$LAB_HOST_NSINO +[0-9]+ +[0-9]+ +[0-9]+ +\S+ +[1-9][0-9]* +[1-9][0-9]*$" "$OUT_USR"; }
	wait_for 15 has_exits || fail "text watch shows no exits for the storm peer"
	HIST="^FIN_WAIT_2 lifetime, peer $LAB_P1_V4 netns $LAB_HOST_NSINO "
	file_has "$OUT_USR" "$HIST" && fail "histograms before SIGUSR1"
	kill -USR1 "$FW_USR"
	wait_for 5 file_has "$OUT_USR" "$HIST" || check_fail "SIGUSR1: no histogram for the storm peer on stdout"
	n=$(tables)
	wait_for 5 has_tables $((n + 2)) || check_fail "SIGUSR1: the periodic tables stopped"
	alive "$FW_USR" || fail "SIGUSR1 ended finwatch"
	storm_runs || fail "the storm ended before SIGTERM"
	rc=0
	spawn_stop fw_usr TERM || rc=$?
	[ "$rc" = 0 ] || check_fail "SIGTERM under load: text watch exited $rc"
	[ "$(grep -c "$HIST" "$OUT_USR")" -ge 2 ] || check_fail "SIGTERM: no final histograms"
	grep -Eq '^finwatch: [0-9]+ events, [0-9]+ received, [0-9]+ lost' "$TEST_TMP/fw_usr.err" ||
		check_fail "SIGTERM: no final summary line on stderr"

	# Five trace runs ended by SIGINT/SIGTERM in the middle of the storm: exit 0
	# and a final summary that accounts for every record.
	acct_bad=()
	for sig in INT TERM INT TERM INT; do
		name=fw_tr_${sig}_$RANDOM
		spawn "$name" - "$FINWATCH" trace --json "${LAB_SCOPE[@]}"
		wait_for 15 has_start "$name" || fail "trace did not start"
		# (by size: the trace of a storm grows by tens of MB a second)
		busy() { [ "$(stat -c %s "$TEST_TMP/$name.out")" -ge 100000 ]; }
		wait_for 5 busy || fail "trace sees no storm"
		storm_runs || fail "the storm ended before SIG$sig"
		rc=0
		spawn_stop "$name" "$sig" || rc=$?
		[ "$rc" = 0 ] || check_fail "SIG$sig under load: trace exited $rc"
		"$FWCHECK" final "$TEST_TMP/$name.out" events >/dev/null || check_fail "SIG$sig under load: no final summary"
		acct=$("$FWCHECK" accounting "$TEST_TMP/$name.out" 2>&1) || acct_bad+=("SIG$sig: $(tr '\n' ' ' <<<"$acct")")
	done
	[ ${#acct_bad[@]} -eq 0 ] ||
		check_fail "final summary after a signal under load does not account for every record in ${#acct_bad[@]} of 5 runs: ${acct_bad[*]}"
	spawn_stop storm || true
	conns=$(sed -n 's/^connections //p' "$TEST_TMP/storm.out")
	pass_if_clean "$mark" "signals under a storm ($conns connections): HUP reopens, USR1 histograms, INT/TERM exit 0 with exact summaries"
}

scenario_sigkill() {
	local mark FW_KILL IDS kind names
	mark=$(checks_mark)
	spawn fw_kill - "$FINWATCH" --no-discovery --json --interval 1s "${LAB_SCOPE[@]}"
	FW_KILL=$SPAWN_PID
	wait_for 15 has_start fw_kill || fail "finwatch (sigkill) did not start"
	IDS=$TEST_TMP/kill.ids
	bpf_ids_of "$FW_KILL" >"$IDS"
	for kind in prog map link; do
		grep -q "^$kind " "$IDS" || fail "finwatch holds no BPF $kind (fdinfo): $(tr '\n' ' ' <"$IDS")"
	done
	names=$(bpftool prog show --json | python3 -c 'import json,sys
ids = {int(l.split()[1]) for l in open(sys.argv[1]) if l.startswith("prog ")}
print(" ".join(sorted(p.get("name", "?") for p in json.load(sys.stdin) if p["id"] in ids)))' "$IDS")
	kill -KILL "$FW_KILL"
	wait_for 5 not_alive "$FW_KILL" || fail "SIGKILL did not end finwatch"
	spawn_stop fw_kill || true
	wait_for 10 bpf_none_left "$IDS" || check_fail "10 s after SIGKILL these BPF objects of finwatch remain: $BPF_LEFT"
	pass_if_clean "$mark" "SIGKILL: all $(wc -l <"$IDS") BPF objects freed (programs: $names)"
}

scenario_side_by_side() {
	local mark HELD=20 ORPH=10 rc
	mark=$(checks_mark)
	spawn fw_t - "$FINWATCH" trace --json "${LAB_SCOPE[@]}"
	spawn fw_w - "$FINWATCH" --no-discovery --json --interval 300ms --scan-interval 300ms --max-per-peer 0 --max-age 0 \
		--max-total 0 "${LAB_SCOPE[@]}"
	wait_for 15 has_start fw_t || fail "trace (side_by_side) did not start"
	wait_for 15 has_start fw_w || fail "watch (side_by_side) did not start"
	spawn held "$LAB_HOST" "$FWPEER" client --connect "$LAB_P3_V4:5403" --count $HELD --how shutdown --hold-sec -1
	wait_ready held
	spawn orph "$LAB_HOST" "$FWPEER" client --connect "$LAB_P3_V4:5403" --count $ORPH --how close
	wait_ready orph
	wait_for 10 ss_expect "$LAB_HOST" fin-wait-2 $((HELD + ORPH)) "$LAB_P3_V4" || fail "ss: $(ss_count "$LAB_HOST" fin-wait-2 "$LAB_P3_V4") FIN_WAIT_2 sockets"
	wpeer() { "$FWCHECK" peer "$TEST_TMP/fw_w.out" "$LAB_P3_V4" "$1" "$LAB_HOST_NSINO"; }
	wpeer_is() { [ "$(wpeer "$1")" = "$2" ]; }
	tcount() { "$FWCHECK" trans "$TEST_TMP/fw_t.out" "$LAB_HOST_NSINO" "$LAB_P3_V4" FIN_WAIT1 FIN_WAIT2; }
	tcount_is() { [ "$(tcount)" = "$1" ]; }
	wait_for 10 wpeer_is count $((HELD + ORPH)) || check_fail "watch counts $(wpeer count) for the stuck peer, ss $((HELD + ORPH))"
	wpeer_is held $HELD || check_fail "watch: held $(wpeer held), want $HELD"
	wpeer_is orphaned $ORPH || check_fail "watch: orphaned $(wpeer orphaned), want $ORPH"
	wait_for 5 tcount_is $((HELD + ORPH)) || check_fail "trace saw $(tcount) FIN_WAIT1->FIN_WAIT2 for the stuck peer, watch $(wpeer count)"
	rc=0
	spawn_stop fw_t INT || rc=$?
	[ "$rc" = 0 ] || check_fail "trace (side_by_side) exited $rc"
	alive "$(spawn_pid fw_w)" || fail "watch ended with the trace instance"
	# The watch instance goes on alone: the peer finally closes.
	spawn_stop srv_hold || true
	wait_for 10 wpeer_is count 0 || check_fail "watch still counts $(wpeer count) after the peer closed (trace gone)"
	wpeer_is exited $((HELD + ORPH)) || check_fail "watch: exited $(wpeer exited), want $((HELD + ORPH))"
	rc=0
	spawn_stop fw_w INT || rc=$?
	[ "$rc" = 0 ] || check_fail "watch (side_by_side) exited $rc"
	pass_if_clean "$mark" "trace and watch side by side: both saw $((HELD + ORPH)) FIN_WAIT_2 sockets; each exited on its own"
}

scenario_netns_deleted() {
	local mark XNS XA XB X_NS FW_D err_before n err_lines errs rc outcomes rst
	mark=$(checks_mark)
	XNS=${LAB_PREFIX}x XA=${LAB_PREFIX}xa XB=${LAB_PREFIX}xb
	ip netns add "$XNS" || fail "ip netns add $XNS"
	cleanup_add ip netns del "$XNS"
	cleanup_add ip -n "$LAB_P1" link del "$XB"
	ip -n "$XNS" link set lo up
	ip -n "$LAB_P1" link add "$XB" type veth peer name "$XA" netns "$XNS"
	ip -n "$XNS" addr add 10.201.77.1/24 dev "$XA"
	ip -n "$LAB_P1" addr add 10.201.77.2/24 dev "$XB"
	ip -n "$XNS" link set "$XA" up
	ip -n "$LAB_P1" link set "$XB" up
	X_NS=$(netns_inode "$XNS")
	spawn_server srv_x "$LAB_P1" 10.201.77.2:5477 hold
	spawn fw_d - "$FINWATCH" --no-discovery --json --interval 300ms --scan-interval 300ms --max-per-peer 0 --max-age 0 \
		--max-total 0 "${LAB_SCOPE[@]}"
	FW_D=$SPAWN_PID
	wait_for 15 has_start fw_d || fail "finwatch (netns_deleted) did not start"
	spawn cli_x "$XNS" "$FWPEER" client --connect 10.201.77.2:5477 --count 20 --how shutdown --hold-sec -1
	wait_ready cli_x 10
	spawn cli_xo "$XNS" "$FWPEER" client --connect 10.201.77.2:5477 --count 10 --how close
	wait_ready cli_xo 10
	xpeer() { "$FWCHECK" peer "$TEST_TMP/fw_d.out" 10.201.77.2 "$1" "$X_NS"; }
	xpeer_is() { [ "$(xpeer "$1")" = "$2" ]; }
	wait_for 10 xpeer_is count 30 || fail "finwatch counts $(xpeer count) in the extra namespace, want 30"
	# The holder dies: its 20 sockets become orphans too (timewait FIN_WAIT_2
	# sockets of that namespace; the peer never closes). Then the namespace goes.
	spawn_stop cli_x || true
	wait_for 5 ss_expect "$XNS" fin-wait-2 30 || fail "ss: $(ss_count "$XNS" fin-wait-2) FIN_WAIT_2 sockets in $XNS"
	wait_for 5 xpeer_is orphaned 30 || check_fail "finwatch: $(xpeer orphaned) orphaned in $XNS, want 30"
	err_before=$(wc -l <"$TEST_TMP/fw_d.err")
	ip netns del "$XNS" || fail "ip netns del $XNS"
	wait_for 10 xpeer_is count 0 || check_fail "finwatch still counts $(xpeer count) sockets of the deleted namespace"
	# A few more scan intervals: no crash, no error storm.
	n=$(nsum "$TEST_TMP/fw_d.out")
	wait_for 5 has_summaries "$TEST_TMP/fw_d.out" $((n + 5)) || check_fail "finwatch stopped reporting after the namespace went"
	alive "$FW_D" || fail "finwatch died after the namespace was deleted"
	err_lines=$(($(wc -l <"$TEST_TMP/fw_d.err") - err_before))
	[ "$err_lines" -le 1 ] || check_fail "$err_lines stderr lines after the namespace was deleted: $(tail -n 3 "$TEST_TMP/fw_d.err")"
	errs=$("$FWCHECK" count "$TEST_TMP/fw_d.out" error)
	[ "$errs" -le 1 ] || check_fail "$errs error records"
	rc=0
	spawn_stop fw_d INT || rc=$?
	[ "$rc" = 0 ] || check_fail "finwatch (netns_deleted) exited $rc"
	outcomes=$("$FWCHECK" peer "$TEST_TMP/fw_d.out" 10.201.77.2 outcomes "$X_NS")
	echo "deleted namespace: exits $outcomes"
	# The namespace's destruction ended them; the peer never sent an RST (it
	# still holds its side), so "rst" (reset by the peer, docs/JSON.md) is wrong.
	rst=$(python3 -c 'import json,sys; d = json.loads(sys.argv[1]); print(d.get("rst", 0) if isinstance(d, dict) else 0)' "$outcomes")
	[ "$rst" = 0 ] || check_fail "$rst sockets of the deleted namespace reported as outcome rst (reset by the peer), but the peer never reset them: $outcomes"
	pass_if_clean "$mark" "namespace deleted while 30 of its sockets were tracked: count 0, still running, $err_lines stderr lines"
}

scenario_monotonic_time() {
	local mark mono
	[ -n "$MONO1" ] || scenario_signals
	mark=$(checks_mark)
	cat "$OUTF.1" "$OUTF" >"$TEST_TMP/hup.all"
	mono=$("$FWCHECK" mono "$TEST_TMP/hup.all" "$MONO0" "$MONO1" 2>&1) || check_fail "time: $mono"
	pass_if_clean "$mark" "time: $mono"
}

scenario_verifier_reject() {
	local mark HELD=4 NEW=3 proc rc
	mark=$(checks_mark)
	spawn_server srv_vr "$LAB_P2" "$LAB_P2_V4:5404" hold
	spawn vr_old "$LAB_HOST" "$FWPEER" client --connect "$LAB_P2_V4:5404" --count $HELD --how shutdown \
		--hold-sec -1 --comm vrholder
	wait_ready vr_old
	wait_for 10 ss_expect "$LAB_HOST" fin-wait-2 $HELD "$LAB_P2_V4" || fail "ss: $(ss_count "$LAB_HOST" fin-wait-2 "$LAB_P2_V4") FIN_WAIT_2 sockets"
	vpeer() { "$FWCHECK" peer "$TEST_TMP/$1.out" "$LAB_P2_V4" "$2" "$LAB_HOST_NSINO"; }
	vpeer_is() { [ "$(vpeer "$1" "$2")" = "$3" ]; }

	FINWATCH_TEST_REJECT_PROG=fw_owners spawn fw_vo - "$FINWATCH" --json --interval 300ms --max-per-peer $((HELD - 1)) \
		--max-age 0 --max-total 0 "${LAB_SCOPE[@]}"
	wait_start fw_vo "$TEST_TMP/fw_vo.out"
	grep -q "running without fw_owners" "$TEST_TMP/fw_vo.err" || check_fail "no warning without fw_owners: $(cat "$TEST_TMP/fw_vo.err")"
	grep -q "running without fw_scan" "$TEST_TMP/fw_vo.err" && check_fail "fw_scan left out too: $(cat "$TEST_TMP/fw_vo.err")"
	wait_for 10 vpeer_is fw_vo count $HELD || check_fail "without fw_owners: count $(vpeer fw_vo count), ss $HELD"
	has_holder() { [ "$("$FWCHECK" get "$TEST_TMP/fw_vo.out" alert processes.0.comm rule=max_per_peer state=firing)" = '"vrholder"' ]; }
	wait_for 10 has_holder || check_fail "without fw_owners: alert holder $("$FWCHECK" get "$TEST_TMP/fw_vo.out" alert processes rule=max_per_peer), want vrholder (from /proc)"
	rc=0
	spawn_stop fw_vo INT || rc=$?
	[ "$rc" = 0 ] || check_fail "finwatch without fw_owners exited $rc"

	FINWATCH_TEST_REJECT_PROG=fw_scan spawn fw_vs - "$FINWATCH" --json --interval 300ms --max-per-peer 0 \
		--max-age 0 --max-total 0 "${LAB_SCOPE[@]}"
	wait_start fw_vs "$TEST_TMP/fw_vs.out"
	grep -q "running without fw_scan" "$TEST_TMP/fw_vs.err" || check_fail "no warning without fw_scan: $(cat "$TEST_TMP/fw_vs.err")"
	spawn vr_new "$LAB_HOST" "$FWPEER" client --connect "$LAB_P2_V4:5404" --count $NEW --how shutdown --hold-sec -1
	wait_ready vr_new
	# Nothing discovers the older ones: exactly the new ones, from events.
	wait_for 10 vpeer_is fw_vs count $NEW || check_fail "without fw_scan: count $(vpeer fw_vs count), want the $NEW new ones"
	rc=0
	spawn_stop fw_vs INT || rc=$?
	[ "$rc" = 0 ] || check_fail "finwatch without fw_scan exited $rc"

	rc=0
	FINWATCH_TEST_REJECT_PROG=fw_set_state "$FINWATCH" --duration 1s "${LAB_SCOPE[@]}" > /dev/null 2> "$TEST_TMP/vr_tp.err" || rc=$?
	[ "$rc" != 0 ] || check_fail "a rejected tracepoint program: finwatch exited 0"
	grep -q "rerun with -v" "$TEST_TMP/vr_tp.err" || check_fail "a rejected tracepoint program: $(cat "$TEST_TMP/vr_tp.err")"
	spawn_stop vr_old || true
	spawn_stop vr_new || true
	spawn_stop srv_vr || true
	pass_if_clean "$mark" "verifier rejects fw_owners: warned, $HELD held counted, holder from /proc; rejects fw_scan: warned, $NEW new counted; rejects the tracepoint program: exit $rc"
}

run_scenarios
