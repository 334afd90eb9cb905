#!/usr/bin/env bash
# finwatch under memory checkers. Scenarios (tests/e2e/lib.sh):
#  unit_asan: `make SAN=1` (ASan+UBSan, into build/san) and the unit tests
#       built with it: no sanitizer report.
#  lab_asan: build/san/finwatch (built first when alone) in the netns lab: a watch run with a stuck peer,
#       an alert that fires and resolves, peer churn, --metrics-file, an
#       --on-alert hook, a reap dry run and SIGUSR1; a trace run; a doctor
#       run. Exit 0 after SIGINT and no AddressSanitizer/LeakSanitizer/UBSan
#       report (LeakSanitizer is first shown to work in this setup - after
#       finwatch drops its capabilities - with a deliberate leak).
#  valgrind: valgrind memcheck on build/finwatch (a 3 s watch run with lab
#       traffic): no invalid access, no definite leak. Two known memcheck
#       blind spots of BPF programs are tolerated (see fwcheck.py valgrind).
#       Skipped with a message if valgrind is missing or cannot run finwatch.
set -euo pipefail
# shellcheck disable=SC2034 # read by lib.sh
SCENARIOS=(unit_asan lab_asan valgrind)
. "$(dirname "$0")/lib.sh"
skip_unless_root
SAN_DIR=$FW_ROOT/build/san
SAN_ENV=(ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1)
SAN_REPORT='ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (AddressSanitizer|UndefinedBehaviorSanitizer)|LeakSanitizer has encountered'

units=()
for f in "$FW_ROOT"/tests/unit/test_*.c; do
	units+=("build/san/tests/$(basename "$f" .c)")
done
SAN_BUILT=0
# san_build: make SAN=1 finwatch and the unit tests (once).
san_build() {
	[ "$SAN_BUILT" = 0 ] || return 0
	mkdir -p "$FW_ROOT/build"
	# One sanitizer build at a time (another run of this test may be building).
	if ! flock -w 120 "$FW_ROOT/build/.san-build.lock" make -C "$FW_ROOT" -j2 SAN=1 all "${units[@]}" \
		>"$TEST_TMP/make.log" 2>&1; then
		tail -n 30 "$TEST_TMP/make.log" >&2
		fail "make SAN=1 failed"
	fi
	[ -x "$SAN_DIR/finwatch" ] || fail "make SAN=1 did not produce $SAN_DIR/finwatch"
	SAN_BUILT=1
}
# The lab and a peer that resets, for lab_asan and valgrind.
if scenario_selected lab_asan || scenario_selected valgrind; then
	lab_up
	spawn_server srv_rst "$LAB_P2" "$LAB_P2_V4:5502" rst --close-after 100
fi

scenario_unit_asan() {
	local mark nunits t name rc
	mark=$(checks_mark)
	san_build
	nunits=0
	for t in "${units[@]}"; do
		name=$(basename "$t")
		rc=0
		env "${SAN_ENV[@]}" "$FW_ROOT/$t" >"$TEST_TMP/$name.log" 2>&1 || rc=$?
		[ "$rc" = 0 ] || check_fail "unit test $name (ASan+UBSan) exited $rc: $(grep -Em3 "$SAN_REPORT|FAILED" "$TEST_TMP/$name.log" | tr '\n' ' ')"
		! grep -Eq "$SAN_REPORT" "$TEST_TMP/$name.log" || check_fail "sanitizer report in unit test $name"
		nunits=$((nunits + $(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\./\1/p' "$TEST_TMP/$name.log" | tail -n1)))
	done
	pass_if_clean "$mark" "unit tests under ASan+UBSan: ${#units[@]} programs, $nunits cases, no report"
}

SFW=$SAN_DIR/finwatch
san_clean() { ! grep -Eq "$SAN_REPORT" "$1"; }

scenario_lab_asan() {
	local mark rc SW
	mark=$(checks_mark)
	san_build

	# LeakSanitizer must be able to run in finwatch's process after the
	# capability drop; otherwise "no report" would prove nothing.
	cat >"$TEST_TMP/leak.c" <<'EOF'
#include <stdlib.h>
#include <string.h>
__attribute__((constructor)) static void deliberate_leak(void)
{
	char *p = malloc(4242);
	memset(p, 1, 4242);
}
EOF
	if gcc -shared -fPIC -O0 -o "$TEST_TMP/leak.so" "$TEST_TMP/leak.c" 2>"$TEST_TMP/leak.cc.log"; then
		rc=0
		# (in a subshell, so bash's "Aborted" notice goes to /dev/null)
		(LD_PRELOAD=$TEST_TMP/leak.so env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:verify_asan_link_order=0 \
			"$SFW" --json --duration 300ms "${LAB_SCOPE[@]}" >/dev/null 2>"$TEST_TMP/leakctl.err") 2>/dev/null || rc=$?
		if ! grep -q "ERROR: LeakSanitizer: detected memory leaks" "$TEST_TMP/leakctl.err" ||
			! grep -q "4242 byte" "$TEST_TMP/leakctl.err"; then
			fail "LeakSanitizer did not report a deliberate leak in finwatch (rc $rc): $(head -n 5 "$TEST_TMP/leakctl.err")"
		fi
		echo "LeakSanitizer works in finwatch's process (deliberate 4242-byte leak reported, rc $rc)"
	else
		echo "no C compiler for the LeakSanitizer check: $(head -n1 "$TEST_TMP/leak.cc.log")"
	fi

	spawn_server srv_hold "$LAB_P1" "$LAB_P1_V4:5501" hold
	spawn_server srv_close "$LAB_P3" "[$LAB_P3_V6]:5503" close
	# Sockets stuck before start: startup discovery and the owner lookup run too.
	spawn pre "$LAB_HOST" "$FWPEER" client --connect "$LAB_P1_V4:5501" --count 3 --how shutdown --hold-sec -1 \
		--comm fwpre
	wait_ready pre

	spawn sw - env "${SAN_ENV[@]}" "$SFW" --json --interval 300ms --scan-interval 300ms --max-per-peer 5 \
		--max-age 0 --max-total 0 --metrics-file "$TEST_TMP/metrics.prom" --on-alert /bin/true \
		--reap-after 1s --reap-dry-run --reap-kind all "${LAB_SCOPE[@]}"
	SW=$SPAWN_PID
	wait_for 20 has_start sw || fail "ASan finwatch (watch) did not start: $(head -n 5 "$TEST_TMP/sw.err")"
	spawn held "$LAB_HOST" "$FWPEER" client --connect "$LAB_P1_V4:5501" --count 10 --how shutdown --hold-sec -1 \
		--comm fwheld
	wait_ready held
	spawn orph "$LAB_HOST" "$FWPEER" client --connect "$LAB_P1_V4:5501" --count 5 --how close
	wait_ready orph
	run_churn churn "$LAB_P2_V4:5502" 500
	run_churn churn6 "[$LAB_P3_V6]:5503" 200
	alerts() { "$FWCHECK" count "$TEST_TMP/sw.out" alert rule=max_per_peer peer="$LAB_P1_V4" netns="$LAB_HOST_NSINO" "$@"; }
	has_alert() { [ "$(alerts "$@")" -ge 1 ]; }
	wait_for 10 has_alert state=firing || check_fail "ASan watch: no max_per_peer alert"
	wait_for 10 file_has "$TEST_TMP/sw.out" '"type":"reaped".*"result":"dry_run"' ||
		check_fail "ASan watch: no reap dry-run record"
	kill -USR1 "$SW"
	wait_for 5 file_has "$TEST_TMP/sw.err" '^FIN_WAIT_2 lifetime' || check_fail "ASan watch: SIGUSR1 printed no histogram"
	spawn_stop srv_hold || true        # the peer closes: the alert resolves
	wait_for 10 has_alert state=resolved || check_fail "ASan watch: the alert did not resolve"
	[ -s "$TEST_TMP/metrics.prom" ] || check_fail "ASan watch: no --metrics-file"
	rc=0
	spawn_stop sw INT || rc=$?
	[ "$rc" = 0 ] || check_fail "ASan watch exited $rc after SIGINT: $(grep -Em3 "$SAN_REPORT" "$TEST_TMP/sw.err" | tr '\n' ' ')"
	san_clean "$TEST_TMP/sw.err" || check_fail "sanitizer report (watch): $(grep -Em5 "$SAN_REPORT|#[0-9] " "$TEST_TMP/sw.err" | tr '\n' ' ')"

	spawn st - env "${SAN_ENV[@]}" "$SFW" trace --json "${LAB_SCOPE[@]}"
	wait_for 20 has_start st || fail "ASan finwatch (trace) did not start: $(head -n 5 "$TEST_TMP/st.err")"
	run_churn churn2 "$LAB_P2_V4:5502" 300
	run_churn churn3 "[$LAB_P3_V6]:5503" 100
	seen() { [ "$("$FWCHECK" count "$TEST_TMP/st.out" transition netns="$LAB_HOST_NSINO")" -ge 400 ]; }
	wait_for 10 seen || check_fail "ASan trace saw $("$FWCHECK" count "$TEST_TMP/st.out" transition netns="$LAB_HOST_NSINO") lab transitions"
	rc=0
	spawn_stop st INT || rc=$?
	[ "$rc" = 0 ] || check_fail "ASan trace exited $rc after SIGINT"
	san_clean "$TEST_TMP/st.err" || check_fail "sanitizer report (trace): $(grep -Em5 "$SAN_REPORT|#[0-9] " "$TEST_TMP/st.err" | tr '\n' ' ')"

	rc=0
	env "${SAN_ENV[@]}" "$SFW" doctor --json >"$TEST_TMP/doctor.out" 2>"$TEST_TMP/doctor.err" || rc=$?
	[ "$rc" = 0 ] || check_fail "ASan doctor exited $rc"
	san_clean "$TEST_TMP/doctor.err" || check_fail "sanitizer report (doctor): $(grep -Em5 "$SAN_REPORT" "$TEST_TMP/doctor.err" | tr '\n' ' ')"
	"$FWCHECK" valid "$TEST_TMP/doctor.out" || check_fail "ASan doctor: invalid JSON"
	pass_if_clean "$mark" "build/san/finwatch watch (alert fired+resolved, reap dry run, hook, metrics file, USR1), trace and doctor: exit 0, no sanitizer report"
}

scenario_valgrind() {
	local mark VG_LOG VG rc vgres
	mark=$(checks_mark)
	if ! command -v valgrind >/dev/null 2>&1; then
		echo "SKIP part: valgrind is not installed (apt-get install valgrind)"
		return 0
	fi
	VG_LOG=$TEST_TMP/vg.log
	spawn_server srv_hold2 "$LAB_P1" "$LAB_P1_V4:5504" hold
	spawn pre2 "$LAB_HOST" "$FWPEER" client --connect "$LAB_P1_V4:5504" --count 5 --how shutdown --hold-sec -1
	wait_ready pre2
	spawn vg - valgrind --log-file="$VG_LOG" --leak-check=full --show-leak-kinds=definite \
		--errors-for-leak-kinds=definite --track-origins=yes --error-exitcode=99 \
		"$FW_BUILD/finwatch" --json --duration 3s --interval 500ms --max-per-peer 3 "${LAB_SCOPE[@]}"
	VG=$SPAWN_PID
	# Startup under memcheck is mostly libbpf reading the kernel's BTF
	# (5.4 MB on 6.18.44): 40-47 s on these 2 CPUs, 0.3 s natively.
	if ! wait_for 150 has_start vg; then
		if ! alive "$VG"; then
			rc=0
			spawn_wait vg 1 || rc=$?
			echo "SKIP part: valgrind cannot run finwatch (exit $rc): $(tail -n 3 "$TEST_TMP/vg.err" | tr '\n' ' ')" \
				"$(grep -Em3 'unhandled|not implemented|Unrecognised' "$VG_LOG" | tr '\n' ' ')"
			return 0
		fi
		fail "finwatch under valgrind did not start within 150 s"
	fi
	run_churn vchurn "$LAB_P2_V4:5502" 300
	spawn vheld "$LAB_HOST" "$FWPEER" client --connect "$LAB_P1_V4:5504" --count 5 --how shutdown --hold-sec -1
	wait_ready vheld
	rc=0
	spawn_wait vg 60 || rc=$?
	case $rc in
	0 | 99) ;;
	*) check_fail "valgrind run exited $rc: $(tail -n 3 "$TEST_TMP/vg.err" | tr '\n' ' ')" ;;
	esac
	"$FWCHECK" final "$TEST_TMP/vg.out" count >/dev/null || check_fail "finwatch under valgrind wrote no final summary"
	has_alert_vg() { [ "$("$FWCHECK" count "$TEST_TMP/vg.out" alert rule=max_per_peer peer="$LAB_P1_V4" netns="$LAB_HOST_NSINO")" -ge 1 ]; }
	has_alert_vg || check_fail "finwatch under valgrind raised no alert"
	vgres=$("$FWCHECK" valgrind "$VG_LOG" 2>&1) || check_fail "valgrind: $vgres"
	echo "$vgres"
	echo "valgrind: $(grep -E 'ERROR SUMMARY|definitely lost|All heap blocks' "$VG_LOG" | sed 's/^==[0-9]*== *//' | tr '\n' ' ')"
	pass_if_clean "$mark" "valgrind memcheck (exit $rc): no invalid access, no definite leak"
}

run_scenarios
