# shellcheck shell=bash
# Clock, process and deadline helpers for scripts/bench.sh,
# scripts/bench/scale.sh and tests/e2e/lib.sh (which has its own wait_for,
# with fractional deadlines). Source it (it only defines functions); the
# benchmark scripts do not depend on tests/.

# now_ms: the realtime clock, in milliseconds.
now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }

# alive PID: running (a zombie child we have not reaped yet is not). The
# process may exit while we look: a failed read is "not alive", never a
# `set -e` exit of the caller.
alive() {
	local s
	{ read -r s <"/proc/$1/stat"; } 2>/dev/null || return 1
	s=${s##*) }
	[ "${s:0:1}" != Z ]
}
not_alive() { ! alive "$1"; }

# wait_until SECONDS CMD...: run CMD every 0.1 s until it succeeds (0) or
# SECONDS pass (1). Every wait in the benchmarks has such a deadline.
wait_until() {
	local deadline=$(( $(now_ms) + $1 * 1000 ))
	shift
	until "$@"; do
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}
