# shellcheck shell=bash
# Helpers for finwatch e2e tests. Source it from a test script:
#
#   #!/usr/bin/env bash
#   set -euo pipefail
#   . "$(dirname "$0")/lib.sh"
#   skip_unless_root python3                 # skips (exit 77) unless root, ip, ss, netns, python3
#   lab_up                                   # exports LAB_* (see netns-lab.sh env) and LAB_HOST_NSINO
#   spawn_server srv "$LAB_P1" "$LAB_P1_V4:5001" hold
#   spawn cli "$LAB_HOST" "$FWPEER" client --connect "$LAB_P1_V4:5001" --how shutdown --count 5 --hold-sec -1
#   wait_ready cli
#   wait_for 5 ss_expect "$LAB_HOST" fin-wait-2 5 "$LAB_P1_V4" || fail "no FIN_WAIT_2 sockets"
#   pass "held FIN_WAIT_2 seen"
#
# Sourcing installs EXIT/INT/TERM traps that stop spawned processes, run
# cleanup_add commands (last added first), tear the lab down and remove
# $TEST_TMP. Tests must not set their own traps; use cleanup_add instead.
# Waiting is only done with wait_for (never a bare sleep).
#
# Variables: FW_ROOT (repo), FW_BUILD (default $FW_ROOT/build), FWPEER,
# FINWATCH (default $FW_BUILD/fwpeer, $FW_BUILD/finwatch; all overridable from
# the environment), FWCHECK (tests/e2e/fwcheck.py, the checker of finwatch's
# JSON Lines), E2E_DIR (tests/e2e, for its helpers), LAB_SCOPE (--peer
# options for the lab's addresses only), TEST_NAME (default: script name
# without .sh), TEST_TMP (a private temp dir), and after lab_up the LAB_*
# variables.
#
# Scenarios: a test that checks several things names each one: it lists
# them in SCENARIOS before sourcing lib.sh, defines scenario_NAME for each
# and ends with run_scenarios, which runs them in that order and then
# checks_finish. By default all run; to run some, name them as arguments
# or in FW_SCENARIOS (spaces or commas), and --list prints the names:
#   SCENARIOS=(dry_run held_kill)
#   . "$(dirname "$0")/lib.sh"
#   ...shared setup, scenario_dry_run() {...}, scenario_held_kill() {...}
#   run_scenarios
#   $ bash tests/e2e/test_reap.sh held_kill     (or tests/run.sh --e2e-only build test_reap:held_kill)
# A scenario that needs another's results runs it first itself; setup only
# some scenarios need can ask scenario_selected NAME.

FW_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FW_BUILD=${FW_BUILD:-$FW_ROOT/build}
FWPEER=${FWPEER:-$FW_BUILD/fwpeer}
FINWATCH=${FINWATCH:-$FW_BUILD/finwatch}
# shellcheck disable=SC2034 # used by the test scripts
FWCHECK=$FW_ROOT/tests/e2e/fwcheck.py
FW_LAB_SH=$FW_ROOT/scripts/netns-lab.sh
# shellcheck disable=SC2034 # used by the test scripts
E2E_DIR=$FW_ROOT/tests/e2e
# Every finwatch run of a test is scoped to the lab's addresses (see
# netns-lab.sh): other tests, and their finwatch, may run at the same time.
# shellcheck disable=SC2034 # used by the test scripts
LAB_SCOPE=(--peer 10.201.0.0/16 --peer fd00:201::/32)
TEST_NAME=${TEST_NAME:-$(basename "$0" .sh)}

# The scenarios to run (sourced without arguments, lib.sh sees the test's;
# a script without SCENARIOS, e.g. scripts/soak.sh, keeps them to itself).
_FW_RUN_SCENARIOS=()
_fw_select_scenarios() {
	local all=" ${SCENARIOS[*]-} " sel=${FW_SCENARIOS:-} s
	[ -n "${SCENARIOS+x}" ] || set --
	if [ "${1:-}" = --list ]; then
		[ -z "${SCENARIOS[*]-}" ] || printf '%s\n' "${SCENARIOS[@]}"
		exit 0
	fi
	# shellcheck disable=SC2086 # a list of names
	[ $# -gt 0 ] || set -- ${sel//,/ }
	for s in "$@"; do
		[[ "$all" == *" $s "* ]] || {
			echo "$TEST_NAME: no scenario '$s' (it has: ${SCENARIOS[*]:-none})" >&2
			exit 2
		}
	done
	for s in ${SCENARIOS[@]+"${SCENARIOS[@]}"}; do
		[ $# -gt 0 ] && [[ " $* " != *" $s "* ]] || _FW_RUN_SCENARIOS+=("$s")
	done
}
_fw_select_scenarios "$@"

TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/fwe2e-$TEST_NAME.XXXXXX")
export FW_ROOT FW_BUILD FWPEER FINWATCH TEST_NAME TEST_TMP

_FW_LAB_PREFIX=		# set while a lab made by lab_up exists
_FW_CLEANUP=()		# cleanup_add commands, %q-quoted
_FW_SPAWNED=()		# spawn names, in start order
declare -A _FW_PIDS=()	# spawn name -> pid
_FW_CLEANED=0
_FW_SOFT_FAILS=()	# check_fail messages

# shellcheck source=scripts/lib-wait.sh
. "$FW_ROOT/scripts/lib-wait.sh"	# alive, not_alive, now_ms
_FW_CGROUP_DIRS=()	# make_cgroup directories, deepest first

# ---- reporting ----

fail() {
	echo "FAIL: $TEST_NAME: $*" >&2
	_fw_dump_logs >&2
	exit 1
}

pass() { echo "PASS: $TEST_NAME: $*"; }

skip() {
	echo "SKIP: $TEST_NAME: $*" >&2
	exit 77
}

# skip_unless_root [CMD...]: skip the test unless it runs as root with ip, ss
# and network namespaces (what lab_up needs), and each CMD is installed
# ("needs CMD").
# shellcheck disable=SC2120 # the CMD arguments are optional
skip_unless_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	command -v ip >/dev/null 2>&1 || skip "needs ip (iproute2)"
	command -v ss >/dev/null 2>&1 || skip "needs ss (iproute2)"
	local probe="fwskip$$" cmd
	probe=${probe:0:15}
	ip netns add "$probe" >/dev/null 2>&1 || skip "cannot create network namespaces (ip netns add failed)"
	ip netns del "$probe" >/dev/null 2>&1 || true
	for cmd in "$@"; do
		command -v "$cmd" >/dev/null 2>&1 || skip "needs $cmd"
	done
}

# Last lines of every spawned process's output, to explain a failure.
_fw_dump_logs() {
	local name f
	for name in "${_FW_SPAWNED[@]}"; do
		for f in "$TEST_TMP/$name.out" "$TEST_TMP/$name.err"; do
			[ -s "$f" ] || continue
			echo "--- $name: ${f##*.} (last 20 lines)"
			tail -n 20 "$f"
		done
	done
}

# check_fail MSG: report a failed assertion but keep going, so one run
# shows every problem; checks_finish (run by run_scenarios) fails the test
# if any was recorded.
check_fail() {
	echo "FAIL: $TEST_NAME: $*" >&2
	_FW_SOFT_FAILS+=("$*")
}

checks_finish() {
	[ ${#_FW_SOFT_FAILS[@]} -eq 0 ] ||
		fail "${#_FW_SOFT_FAILS[@]} check(s) failed: $(printf '[%s] ' "${_FW_SOFT_FAILS[@]}")"
}

# pass_if_clean MARK MSG: pass MSG unless a check failed since
# MARK=$(checks_mark) was taken.
checks_mark() { echo "${#_FW_SOFT_FAILS[@]}"; }
pass_if_clean() { [ "${#_FW_SOFT_FAILS[@]}" -ne "$1" ] || pass "$2"; }

# ---- scenarios ----

# scenario_selected NAME: NAME is among the scenarios this run runs.
scenario_selected() { [[ " ${_FW_RUN_SCENARIOS[*]} " == *" $1 "* ]]; }

# run_scenarios: run scenario_NAME for each selected NAME, in SCENARIOS'
# order, then fail the test if any check_fail was recorded.
run_scenarios() {
	local s
	for s in "${_FW_RUN_SCENARIOS[@]}"; do
		echo "scenario $s at ${SECONDS}s"
		"scenario_$s"
	done
	checks_finish
}

# ---- waiting ----

_fw_now_us() { local t=${EPOCHREALTIME/[.,]/}; echo "$((10#$t))"; }

# clock_after US: the realtime clock (microseconds) reached US. For pacing
# samples with wait_for instead of sleeping.
clock_after() { [ "$(_fw_now_us)" -ge "$1" ]; }

# mono_ns: CLOCK_MONOTONIC now, in ns (the clock of finwatch's ts_ns).
mono_ns() { python3 "$FWCHECK" monotonic_now; }

# file_has FILE ERE: FILE exists and has a line matching ERE.
file_has() { [ -f "$1" ] && grep -Eq -- "$2" "$1"; }

# wait_for DEADLINE_SECONDS CMD...: run CMD every 0.1 s until it succeeds
# (return 0) or DEADLINE_SECONDS (integer or decimal, e.g. 2.5) pass (return 1).
wait_for() {
	local limit=$1 int frac deadline
	shift
	[[ "$limit" =~ ^([0-9]+)(\.([0-9]{1,6}))?$ ]] || {
		echo "wait_for: bad deadline '$limit'" >&2
		return 2
	}
	int=${BASH_REMATCH[1]}
	frac=${BASH_REMATCH[3]}000000
	deadline=$(( $(_fw_now_us) + 10#$int * 1000000 + 10#${frac:0:6} ))
	while :; do
		"$@" && return 0
		[ "$(_fw_now_us)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# ---- socket state ----

# ss_count NS STATE [PEER]: number of TCP sockets in STATE (an ss state name,
# e.g. fin-wait-2, time-wait, close-wait, established; FIN_WAIT_2 is accepted
# too) in netns NS, optionally only those whose remote end is PEER
# (ADDR, [V6ADDR], ADDR:PORT or [V6ADDR]:PORT). Prints the count.
ss_count() {
	local ns=$1 state=${2,,} peer=${3:-} out
	local filter=()
	state=${state//_/-}
	if [ -n "$peer" ]; then
		# ss wants brackets around a bare IPv6 address
		[[ "$peer" == *:*:* && "$peer" != \[* ]] && peer="[$peer]"
		filter=(dst "$peer")
	fi
	out=$(ip netns exec "$ns" ss -Htan state "$state" "${filter[@]}") || return 1
	if [ -z "$out" ]; then echo 0; else wc -l <<<"$out"; fi
}

# ss_expect NS STATE N [PEER]: succeeds when ss_count prints exactly N.
# For wait_for: wait_for 5 ss_expect "$LAB_HOST" fin-wait-2 5 "$LAB_P1_V4"
ss_expect() {
	local n
	n=$(ss_count "$1" "$2" "${4:-}") || return 1
	[ "$n" -eq "$3" ]
}

# ---- background processes ----

# spawn NAME NS CMD...: start CMD in netns NS (NS "-": the caller's own
# namespace) in the background, stdout to $TEST_TMP/NAME.out and stderr to
# $TEST_TMP/NAME.err. Sets SPAWN_PID (ip netns exec execs CMD, so it is CMD's
# pid). It is stopped automatically at exit. NAME: [A-Za-z0-9_-]+, unique.
spawn() {
	local name=$1 ns=$2
	shift 2
	[[ "$name" =~ ^[A-Za-z0-9_-]+$ ]] || fail "spawn: bad name '$name'"
	[ -z "${_FW_PIDS[$name]:-}" ] || fail "spawn: name '$name' already used"
	if [ "$ns" = - ]; then
		"$@" >"$TEST_TMP/$name.out" 2>"$TEST_TMP/$name.err" &
	else
		ip netns exec "$ns" "$@" >"$TEST_TMP/$name.out" 2>"$TEST_TMP/$name.err" &
	fi
	SPAWN_PID=$!
	_FW_PIDS[$name]=$SPAWN_PID
	_FW_SPAWNED+=("$name")
}

# spawn_server NAME NS LISTEN MODE [ARGS...]: a peer, `fwpeer server --listen
# LISTEN --mode MODE ARGS...` in netns NS ("-": our own, as for spawn),
# spawned as NAME; returns once it listens (wait_ready: the test fails if it
# does not come up).
spawn_server() {
	local name=$1 ns=$2 listen=$3 mode=$4
	shift 4
	spawn "$name" "$ns" "$FWPEER" server --listen "$listen" --mode "$mode" "$@"
	wait_ready "$name"
}

spawn_pid() { echo "${_FW_PIDS[$1]:?spawn_pid: unknown name $1}"; }
spawn_out() { echo "$TEST_TMP/$1.out"; }

_fw_has_line() { [ -f "$1" ] && grep -qx -- "$2" "$1"; }
# alive PID / not_alive PID come from scripts/lib-wait.sh; the older names:
_fw_alive() { alive "$1"; }

# wait_line NAME LINE [SECONDS=5]: wait until NAME's stdout has the exact LINE.
wait_line() {
	wait_for "${3:-5}" _fw_has_line "$TEST_TMP/$1.out" "$2"
}

# wait_ready NAME [SECONDS=5]: wait for NAME's "ready" line; fails the test
# (with NAME's stderr) if it does not come or NAME exits first.
wait_ready() {
	local name=$1 secs=${2:-5} pid
	pid=$(spawn_pid "$name")
	wait_for "$secs" _fw_ready_or_dead "$name" "$pid" || fail "$name: no 'ready' within ${secs}s"
	_fw_has_line "$TEST_TMP/$name.out" ready || fail "$name: exited before 'ready'"
}
_fw_ready_or_dead() { _fw_has_line "$TEST_TMP/$1.out" ready || not_alive "$2"; }

# spawn_stop NAME [SIGNAL=TERM]: signal NAME, wait up to 3 s (then KILL) and
# return its exit status (143 = died of SIGTERM; fwpeer exits 0 on SIGTERM).
spawn_stop() {
	local name=$1 sig=${2:-TERM} pid rc=0
	pid=$(spawn_pid "$name")
	[ "$pid" != exited ] || return 0
	kill "-$sig" "$pid" 2>/dev/null || true
	if ! wait_for 3 not_alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || rc=$?
	_FW_PIDS[$name]=exited
	return "$rc"
}
_fw_not_alive() { not_alive "$1"; }

# spawn_wait NAME [SECONDS=10]: wait for NAME to exit on its own and return
# its exit status; fails the test if it is still running after SECONDS.
spawn_wait() {
	local name=$1 pid rc=0
	pid=$(spawn_pid "$name")
	wait_for "${2:-10}" not_alive "$pid" || fail "$name: still running after ${2:-10}s"
	wait "$pid" 2>/dev/null || rc=$?
	_FW_PIDS[$name]=exited
	return "$rc"
}

# spawn_to NAME OUTFILE CMD...: like spawn, but CMD's stdout goes to
# OUTFILE (a FIFO or file) instead of $TEST_TMP/NAME.out. SPAWN_PID is CMD's
# own pid (bash execs it).
spawn_to() {
	local name=$1 target=$2
	shift 2
	# shellcheck disable=SC2016 # expanded by the inner bash
	spawn "$name" - bash -c 'out=$1; shift; exec "$@" >"$out"' spawn_to "$target" "$@"
}

# run_churn NAME DEST COUNT: COUNT connections from the lab's host to DEST
# one after another (fwpeer churn, spawned as NAME); fails the test unless
# they are done within 30 s.
run_churn() {
	spawn "$1" "$LAB_HOST" "$FWPEER" churn --connect "$2" --count "$3"
	spawn_wait "$1" 30 || fail "$1: $3 connections to $2 failed"
}

# ---- finwatch ----

# has_start NAME: NAME's stdout has finwatch's JSON start record.
has_start() { file_has "$TEST_TMP/$1.out" '"type":"start"'; }
_fw_start_seen() { grep -qs '"type":"start"' "$1" || not_alive "$2"; }

# wait_start NAME FILE [SECONDS=20]: wait for the start record of finwatch
# spawned as NAME in FILE (its JSON output); fails the test, with finwatch's
# exit status, when it exits first.
wait_start() {
	local name=$1 file=$2 secs=${3:-20} pid rc=0
	pid=$(spawn_pid "$name")
	wait_for "$secs" _fw_start_seen "$file" "$pid" || fail "$name: no start record within ${secs}s"
	if ! grep -qs '"type":"start"' "$file"; then
		spawn_wait "$name" 2 || rc=$?
		fail "$name: finwatch exited with status $rc before its start record"
	fi
}

# has_written PID: PID has written something (its JSON start record); for a
# finwatch whose stdout cannot be read back.
has_written() { local w; w=$(proc_wchar "$1"); [ "${w:-0}" -gt 0 ]; }

# ---- /proc and pipes ----

proc_rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
proc_wchar() { awk '/^wchar:/ { print $2 }' "/proc/$1/io" 2>/dev/null; }
proc_fd_count() {
	local f n=0
	for f in /proc/"$1"/fd/*; do [ -e "$f" ] || [ -L "$f" ] && n=$((n + 1)); done
	echo "$n"
}

# proc_fd_min PID: the smallest of 5 fd counts taken 20 ms apart (a scan
# opens a netns fd and an iterator fd for a few milliseconds; a leak stays).
proc_fd_min() {
	local i n min=
	for ((i = 0; i < 5; i++)); do
		n=$(proc_fd_count "$1")
		[ -n "$min" ] && [ "$min" -le "$n" ] || min=$n
		[ "$i" -eq 4 ] || wait_for 0.02 false || true
	done
	echo "$min"
}

# netns_inode NS: inode of a named network namespace (finwatch's "netns").
netns_inode() { stat -L -c %i "/run/netns/$1"; }

# pipe_bytes FIFO: bytes waiting in the pipe behind FIFO, and its capacity.
pipe_bytes() {
	python3 -c 'import fcntl, os, struct, sys, termios
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
n = struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
print(n, fcntl.fcntl(fd, 1032))   # F_GETPIPE_SZ' "$1"
}

# pipe_full FIFO: the pipe holds all but the last 8 KiB of its capacity
# (a line of JSON no longer fits).
pipe_full() {
	local n cap
	read -r n cap < <(pipe_bytes "$1") || return 1
	[ "$n" -ge $((cap - 8192)) ]
}

# ---- BPF objects ----

# bpf_ids_of PID: the BPF objects PID holds open, as "prog ID", "map ID",
# "link ID" and "btf ID" lines, from /proc/PID/fdinfo (Debian 12's bpftool
# is built without pid support, so `bpftool ... show --json` has no "pids"
# to match). A link's fdinfo also names its program: the program is listed
# anyway through its own fd.
bpf_ids_of() {
	local f
	for f in /proc/"$1"/fdinfo/*; do
		awk '/^link_id:/ { l = 1; print "link", $2 }
		     /^prog_id:/ && !l { print "prog", $2 }
		     /^map_id:/ { print "map", $2 }
		     /^btf_id:/ { print "btf", $2 }' "$f" 2>/dev/null
	done | sort -u
}

# bpf_ids_all: every BPF prog/map/link/btf id the kernel has now, same form.
bpf_ids_all() {
	local kind
	for kind in prog map link btf; do
		bpftool "$kind" show --json 2>/dev/null |
			python3 -c 'import json,sys
for o in json.load(sys.stdin): print(sys.argv[1], o["id"])' "$kind"
	done | sort -u
}

# bpf_none_left IDFILE: none of the ids listed in IDFILE exists any more.
# Sets BPF_LEFT to those still there.
bpf_none_left() {
	BPF_LEFT=$(comm -12 "$1" <(bpf_ids_all) | tr '\n' ' ')
	[ -z "$BPF_LEFT" ]
}

# ---- ports ----

# pick_port [TAKEN...]: a TCP port in 19000-19999 nothing listens on (in this namespace), not in "$@".
pick_port() {
	local try p u taken
	for ((try = 0; try < 50; try++)); do
		p=$((19000 + RANDOM % 1000))
		taken=0
		for u in "$@"; do [ "$u" != "$p" ] || taken=1; done
		[ "$taken" = 0 ] || continue
		[ -z "$(ss -Htln "sport = :$p")" ] && { echo "$p"; return 0; }
	done
	return 1
}

# spawn_prometheus NAME TARGET PORT: a real Prometheus server (spawned as
# NAME) on 127.0.0.1:PORT scraping TARGET (finwatch's --metrics) every second.
spawn_prometheus() {
	local name=$1 target=$2 port=$3
	cat >"$TEST_TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: finwatch
    static_configs:
      - targets: ['$target']
EOF
	spawn "$name" - prometheus --config.file="$TEST_TMP/prometheus.yml" \
		--storage.tsdb.path="$TEST_TMP/prom-data" --web.listen-address="127.0.0.1:$port" \
		--log.level=warn
}

# spawn_stuck_and_normal HELD NORMAL: the metrics scenario. Peer 1
# (port 5101) never closes and HELD half-closed sockets to it stay in
# FIN_WAIT_2 (spawned "held"); peer 2 (5102) closes NORMAL connections
# normally ("normal"). Returns once ss shows the HELD sockets.
spawn_stuck_and_normal() {
	local held=$1 normal=$2
	spawn_server stuck "$LAB_P1" "$LAB_P1_V4:5101" hold
	spawn_server good "$LAB_P2" "$LAB_P2_V4:5102" close
	spawn held "$LAB_HOST" "$FWPEER" client --connect "$LAB_P1_V4:5101" --how shutdown --count "$held" \
		--hold-sec -1
	wait_ready held 15
	spawn normal "$LAB_HOST" "$FWPEER" client --connect "$LAB_P2_V4:5102" --how close --count "$normal"
	wait_ready normal 15
	wait_for 10 ss_expect "$LAB_HOST" fin-wait-2 "$held" "$LAB_P1_V4" ||
		fail "ss shows $(ss_count "$LAB_HOST" fin-wait-2 "$LAB_P1_V4") FIN_WAIT_2 sockets to the stuck peer, want $held"
}

# ---- cgroups ----

# cgroup2_mount: prints where the cgroup v2 hierarchy is mounted (pure v2
# hosts: /sys/fs/cgroup; hybrid ones: /sys/fs/cgroup/unified); fails if none.
cgroup2_mount() {
	awk '$0 ~ / - cgroup2 / { print $5; found = 1; exit } END { exit !found }' /proc/self/mountinfo
}

# make_cgroup REL: creates cgroup REL ("/kubepods.slice/...") under the v2
# mount, parents too, and removes what it created at exit (deepest first).
make_cgroup() {
	local mnt rel=$1 path dirs=()
	mnt=$(cgroup2_mount) || fail "no cgroup v2 hierarchy mounted"
	path=$mnt
	IFS=/ read -ra parts <<<"${rel#/}"
	for part in "${parts[@]}"; do
		path="$path/$part"
		[ -d "$path" ] || { mkdir "$path" || fail "cannot create cgroup $path"; dirs=("$path" "${dirs[@]}"); }
	done
	# Removed once the spawned processes are gone (a cgroup with a
	# process in it cannot be): not a cleanup_add, which runs before.
	_FW_CGROUP_DIRS=("${dirs[@]}" "${_FW_CGROUP_DIRS[@]}")
}

# spawn_in_cgroup NAME REL NS CMD...: spawn (as spawn) with the process in
# cgroup REL. It joins the cgroup in this namespace first: `ip netns exec`
# remounts /sys, where the cgroup mount is not visible.
spawn_in_cgroup() {
	local name=$1 rel=$2 ns=$3 mnt
	shift 3
	mnt=$(cgroup2_mount) || fail "no cgroup v2 hierarchy mounted"
	if [ "$ns" = - ]; then
		spawn "$name" - bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$mnt$rel" "$@"
	else
		spawn "$name" - bash -c 'echo $$ >"$0/cgroup.procs" && ns=$1 && shift && exec ip netns exec "$ns" "$@"' \
			"$mnt$rel" "$ns" "$@"
	fi
}

# ---- cleanup ----

# cleanup_add CMD [ARGS...]: run this command at exit (before the lab goes).
cleanup_add() {
	local q
	printf -v q '%q ' "$@"
	_FW_CLEANUP+=("$q")
}

_fw_cleanup() {
	[ "$_FW_CLEANED" -eq 0 ] || return 0
	_FW_CLEANED=1
	local i name
	for ((i = ${#_FW_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${_FW_CLEANUP[i]}" >/dev/null 2>&1 || true
	done
	for ((i = ${#_FW_SPAWNED[@]} - 1; i >= 0; i--)); do
		name=${_FW_SPAWNED[i]}
		[ "${_FW_PIDS[$name]}" = exited ] || spawn_stop "$name" >/dev/null 2>&1 || true
	done
	for name in "${_FW_CGROUP_DIRS[@]}"; do
		rmdir "$name" 2>/dev/null || echo "cleanup: cgroup $name not removed" >&2
	done
	lab_down
	[ -z "$TEST_TMP" ] || rm -rf -- "$TEST_TMP"
}

_fw_on_exit() {
	local rc=$?
	set +e
	_fw_cleanup
	exit "$rc"
}

trap _fw_on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- lab ----

# lab_up [PREFIX]: create a lab (default PREFIX: fwt + pid digits, another
# free one if taken) and export its LAB_* variables, and LAB_HOST_NSINO: the
# inode number of the lab's host namespace, which finwatch reports as "netns"
# (labs of tests running side by side use the same addresses: match records
# on it). Torn down at exit.
lab_up() {
	local p=${1:-} try
	[ -z "$_FW_LAB_PREFIX" ] || fail "lab_up: a lab ($_FW_LAB_PREFIX) is already up"
	if [ -z "$p" ]; then
		p="fwt$(($$ % 100000))"
		for ((try = 0; try < 20; try++)); do
			[ -e "/run/netns/${p}h" ] || break
			p="fwt$((RANDOM % 100000))"
		done
	fi
	# Owned from here on, so an interrupted `up` is cleaned up too; exit 3
	# means the name belongs to someone else and must not be torn down.
	_FW_LAB_PREFIX=$p
	"$FW_LAB_SH" up "$p" || {
		[ $? -ne 3 ] || _FW_LAB_PREFIX=
		fail "lab_up: netns-lab.sh up $p failed"
	}
	eval "$("$FW_LAB_SH" env "$p")"
	LAB_HOST_NSINO=$(stat -L -c %i "$LAB_HOST_NSPATH") || fail "lab_up: cannot stat $LAB_HOST_NSPATH"
	export LAB_HOST_NSINO
}

# lab_down: delete the lab made by lab_up (also done automatically at exit).
lab_down() {
	[ -n "$_FW_LAB_PREFIX" ] || return 0
	"$FW_LAB_SH" down "$_FW_LAB_PREFIX" || true
	_FW_LAB_PREFIX=
}
