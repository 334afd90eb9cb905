#!/usr/bin/env bash
# Runs finwatch's tests and prints one closing line "total: N passed, N failed, N skipped".
#   tests/run.sh [--unit-only|--e2e-only] BUILD_DIR
# Unit tests are cmocka programs (BUILD_DIR/tests/test_*); each test case counts.
# End-to-end tests are tests/e2e/test_*.sh (need root, load the real BPF
# programs); exit 0 pass, 77 skip, anything else fail. With FW_REQUIRE_E2E=1
# (CI) a skipped end-to-end test counts as a failure.
set -u
mode=all
case "${1:-}" in
	--unit-only) mode=unit; shift ;;
	--e2e-only) mode=e2e; shift ;;
esac
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export FW_BUILD="$root/$build" FW_ROOT="$root"
passed=0 failed=0 skipped=0
failures=()

if [ "$mode" != e2e ]; then
	for t in "$build"/tests/test_*; do
		[ -x "$t" ] || continue
		name=$(basename "$t")
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
		log="$root/$build/e2e-$name.log"
		mkdir -p "$(dirname "$log")"
		start=$(date +%s)
		timeout -k 10 900 bash "$t" >"$log" 2>&1
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

if [ ${#failures[@]} -gt 0 ]; then
	echo "failed: ${failures[*]}"
fi
echo "total: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
