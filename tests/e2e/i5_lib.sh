# shellcheck shell=bash
# Helpers shared by test_metrics.sh, test_logs.sh and test_hooks.sh; source
# it after lib.sh.

# alive PID: PID is running and not a zombie. Safe when PID exits while we
# look (a failed $(<file) would end a `set -e` script).
alive() {
	local st
	{ read -r st <"/proc/$1/stat"; } 2>/dev/null || return 1
	st=${st##*) }
	[ "${st:0:1}" != Z ]
}
dead() { ! alive "$1"; }

_i5_start_seen() { grep -qs '"type":"start"' "$1" || dead "$2"; }

# wait_start NAME FILE [SECONDS=20]: wait for the start record of finwatch
# spawned as NAME in FILE (its JSON output); fails the test, with finwatch's
# exit status, when it exits first.
wait_start() {
	local name=$1 file=$2 secs=${3:-20} pid rc=0
	pid=$(spawn_pid "$name")
	wait_for "$secs" _i5_start_seen "$file" "$pid" || fail "$name: no start record within ${secs}s"
	if ! grep -qs '"type":"start"' "$file"; then
		spawn_wait "$name" 2 || rc=$?
		fail "$name: finwatch exited with status $rc before its start record"
	fi
}
