#!/usr/bin/env bash
# Runs finwatch's tests and prints one closing line "total: N passed, N failed, N skipped".
#   tests/run.sh [--unit-only|--e2e-only] BUILD_DIR [TEST[:SCENARIO[,SCENARIO...]]...]
# With TEST names (test_reap, test_fw2_tracker) only those run, and no
# kernel matrix; TEST:SCENARIO runs only that scenario of an e2e test
# (test_reap:held_kill; `bash tests/e2e/TEST.sh --list` names them, see
# tests/e2e/lib.sh). A test counts once, however many scenarios ran.
# Unit tests are cmocka programs (BUILD_DIR/tests/test_*); each test case counts.
# End-to-end tests are tests/e2e/test_*.sh (need root, load the real BPF
# programs); exit 0 pass, 77 skip, anything else fail. With FW_REQUIRE_E2E=1
# (CI) a skipped end-to-end test counts as a failure.
# Then the kernel matrix (tests/vm/matrix.sh, not with --unit-only): the e2e
# subset inside Debian's kernels booted under qemu, one line per (kernel,
# /boot variant, test). FW_VM_KERNELS picks the kernels (default "6.1 6.12";
# "host" runs the subset here too); FW_VM=0 skips the matrix (a failure with
# FW_REQUIRE_E2E=1). When make test has built build/static/finwatch, the
# matrix runs it too (results TEST@static; VM_FINWATCH_ALSO overrides).
set -u
mode=all
case "${1:-}" in
	--unit-only) mode=unit; shift ;;
	--e2e-only) mode=e2e; shift ;;
esac
build=${1:-build}
[ $# -eq 0 ] || shift
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export FW_BUILD="$root/$build" FW_ROOT="$root"
passed=0 failed=0 skipped=0
failures=()

# The tests named on the command line: name -> scenarios ("" = all).
declare -A chosen=()
for sel in "$@"; do
	name=${sel%%:*} sc=
	[[ "$sel" != *:* ]] || sc=${sel#*:}
	if [ -f "$here/e2e/$name.sh" ]; then
		:
	elif [ -x "$build/tests/$name" ] && [ -z "$sc" ]; then
		:
	else
		echo "run.sh: no test '$sel' (tests/e2e/$name.sh, $build/tests/$name)" >&2
		exit 2
	fi
	# a whole test wins over some of its scenarios
	if [ -z "$sc" ] || { [ -n "${chosen[$name]+x}" ] && [ -z "${chosen[$name]}" ]; }; then
		chosen[$name]=
	else
		chosen[$name]="${chosen[$name]:+${chosen[$name]} }${sc//,/ }"
	fi
done
# picked NAME: NAME runs (every test when none was named)
picked() { [ ${#chosen[@]} -eq 0 ] || [ -n "${chosen[$1]+x}" ]; }

if [ "$mode" != e2e ]; then
	for t in "$build"/tests/test_*; do
		[ -x "$t" ] || continue
		name=$(basename "$t")
		picked "$name" || continue
		# A bound, so a test caught in a loop fails instead of hanging CI.
		out=$(timeout 300 "$t" 2>&1)
		rc=$?
		[ "$rc" -ne 124 ] || out="$out
ERROR: $name did not finish within 300 s"
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\./\1/p' <<<"$out" | tail -n1)
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s), listed below:/\1/p' <<<"$out" | tail -n1)
		p=${p:-0} f=${f:-0}
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # crashed before its summary
		passed=$((passed + p)) failed=$((failed + f))
		if [ "$f" -ne 0 ]; then
			failures+=("unit/$name")
			printf '%s\n' "$out" | grep -E 'FAILED|ERROR|error|Assert' | sed "s|^|  $name: |" >&2
		fi
		printf 'unit %-24s %3d passed, %d failed\n' "$name" "$p" "$f"
	done
fi

if [ "$mode" != unit ]; then
	for t in "$here"/e2e/test_*.sh; do
		[ -f "$t" ] || continue
		name=$(basename "$t" .sh)
		picked "$name" || continue
		log="$root/$build/e2e-$name.log"
		mkdir -p "$(dirname "$log")"
		start=$(date +%s)
		FW_SCENARIOS=${chosen[$name]:-} timeout -k 10 900 bash "$t" >"$log" 2>&1
		rc=$?
		[ "$rc" -ne 124 ] || echo "ERROR: $name did not finish within 900 s" >>"$log"
		secs=$(( $(date +%s) - start ))
		if [ "$rc" -eq 0 ]; then
			passed=$((passed + 1)); res=ok
		elif [ "$rc" -eq 77 ] && [ "${FW_REQUIRE_E2E:-0}" != 1 ]; then
			skipped=$((skipped + 1)); res="skipped ($(tail -n1 "$log"))"
		else
			failed=$((failed + 1)); res="FAILED (rc $rc)"
			failures+=("e2e/$name")
			sed "s|^|  $name: |" "$log" | tail -n 40 >&2
		fi
		printf 'e2e  %-34s %s %ss\n' "$name" "$res" "$secs"
	done
fi

if [ "$mode" != unit ] && [ ${#chosen[@]} -eq 0 ]; then
	if [ "${FW_VM:-1}" = 0 ]; then
		if [ "${FW_REQUIRE_E2E:-0}" = 1 ]; then
			failed=$((failed + 1)); failures+=("vm/matrix"); res="FAILED (FW_VM=0 with FW_REQUIRE_E2E=1)"
		else
			skipped=$((skipped + 1)); res="skipped (FW_VM=0)"
		fi
		printf 'vm   %-34s %s\n' matrix "$res"
	else
		vmout="$root/$build/vm"
		start=$(date +%s)
		rm -f "$vmout/results.tsv"
		# Prints its own line per result (stdout) and failed tests' logs
		# (stderr); its results.tsv feeds the totals.
		also=
		[ ! -x "$root/build/static/finwatch" ] || also="$root/build/static/finwatch"
		FW_BUILD="$root/$build" FW_VM_OUT="$vmout" KERNELS="${FW_VM_KERNELS:-6.1 6.12}" \
			VM_FINWATCH_ALSO="${VM_FINWATCH_ALSO-$also}" "$here/vm/matrix.sh"
		rc=$?
		n=0 nfail=0
		while IFS=$'\t' read -r k v t _ _ res; do
			n=$((n + 1))
			case "$res" in
			ok) passed=$((passed + 1)) ;;
			skipped*) skipped=$((skipped + 1)) ;;
			*) failed=$((failed + 1)) nfail=$((nfail + 1)); failures+=("vm/$k/$v/$t") ;;
			esac
		done < <(cat "$vmout/results.tsv" 2>/dev/null)
		if [ "$n" -eq 0 ] || { [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ "$nfail" -eq 0 ]; }; then
			failed=$((failed + 1)); failures+=("vm/matrix")
			printf 'vm   %-34s %s %ss\n' matrix "FAILED (matrix.sh exit $rc, $n results)" "$(( $(date +%s) - start ))"
		else
			printf 'vm   %-34s %s %ss\n' matrix "$n results" "$(( $(date +%s) - start ))"
		fi
	fi
fi

if [ ${#failures[@]} -gt 0 ]; then
	echo "failed: ${failures[*]}"
fi
echo "total: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
