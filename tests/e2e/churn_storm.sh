#!/usr/bin/env bash
# Connection storm for test_overload.sh / test_faults.sh: repeats
# `fwpeer churn --connect DEST --count PER_RUN` back to back until SECONDS
# have passed (at most 500 runs), then prints "connections N" and exits 0.
# Prints "ready" once the first run started. SIGTERM/SIGINT stop it (and the
# running churn) at once, still printing the total.
#   churn_storm.sh FWPEER DEST SECONDS [PER_RUN=20000]
set -u
fwpeer=$1 dest=$2 secs=$3 per=${4:-20000}
total=0 child=
finish() {
	[ -z "$child" ] || kill -TERM "$child" 2>/dev/null
	[ -z "$child" ] || wait "$child" 2>/dev/null
	echo "connections $total"
	exit 0
}
trap finish TERM INT
end=$((SECONDS + secs))
for ((run = 0; run < 500 && SECONDS < end; run++)); do
	"$fwpeer" churn --connect "$dest" --count "$per" >/dev/null &
	child=$!
	[ "$run" -gt 0 ] || echo ready
	if ! wait "$child"; then
		echo "churn run $run failed" >&2
		child=
		finish
	fi
	child=
	total=$((total + per))
done
finish
