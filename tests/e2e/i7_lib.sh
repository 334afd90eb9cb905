# shellcheck shell=bash
# Helpers shared by test_overload.sh, test_faults.sh and test_sanitizers.sh.
# Source after lib.sh (uses its spawn/wait_for/fail and $TEST_TMP).

I7_DIR=$FW_ROOT/tests/e2e
I7_CHECK=$I7_DIR/i7_check.py
# Every finwatch run is scoped to lab addresses: other tests (and other
# finwatch instances) may run on this machine at the same time.
# shellcheck disable=SC2034 # used by the test scripts
I7_SCOPE=(--peer 10.201.0.0/16 --peer fd00:201::/32)
_I7_SOFT_FAILS=()

# i7_check_fail MSG: report a failed assertion but keep going, so one run
# shows every problem; i7_finish fails the test if any was recorded.
i7_check_fail() {
	echo "FAIL: $TEST_NAME: $*" >&2
	_I7_SOFT_FAILS+=("$*")
}

i7_finish() {
	[ ${#_I7_SOFT_FAILS[@]} -eq 0 ] || fail "${#_I7_SOFT_FAILS[@]} check(s) failed: $(printf '[%s] ' "${_I7_SOFT_FAILS[@]}")"
}

# i7_netns_inode NS: inode of a named network namespace (finwatch's "netns").
i7_netns_inode() { stat -L -c %i "/run/netns/$1"; }

i7_rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
i7_fd_count() { local f n=0; for f in /proc/"$1"/fd/*; do [ -e "$f" ] || [ -L "$f" ] && n=$((n + 1)); done; echo "$n"; }
i7_wchar() { awk '/^wchar:/ { print $2 }' "/proc/$1/io" 2>/dev/null; }
i7_alive() { _fw_alive "$1"; }

# i7_file_has FILE ERE: FILE exists and has a line matching ERE.
i7_file_has() { [ -f "$1" ] && grep -Eq -- "$2" "$1"; }

# i7_started NAME: NAME's stdout has finwatch's JSON start record.
i7_started() { i7_file_has "$TEST_TMP/$1.out" '"type":"start"'; }

# i7_bpf_ids PID: the BPF objects PID holds open, as "prog ID", "map ID",
# "link ID" and "btf ID" lines, from /proc/PID/fdinfo (Debian 12's bpftool
# is built without pid support, so `bpftool ... show --json` has no "pids"
# to match). A link's fdinfo also names its program: the program is listed
# anyway through its own fd.
i7_bpf_ids() {
	local f
	for f in /proc/"$1"/fdinfo/*; do
		awk '/^link_id:/ { l = 1; print "link", $2 }
		     /^prog_id:/ && !l { print "prog", $2 }
		     /^map_id:/ { print "map", $2 }
		     /^btf_id:/ { print "btf", $2 }' "$f" 2>/dev/null
	done | sort -u
}

# i7_bpf_existing: every BPF prog/map/link/btf id the kernel has now, same form.
i7_bpf_existing() {
	local kind
	for kind in prog map link btf; do
		bpftool "$kind" show --json 2>/dev/null |
			python3 -c 'import json,sys
for o in json.load(sys.stdin): print(sys.argv[1], o["id"])' "$kind"
	done | sort -u
}

# i7_none_left IDFILE: none of the ids listed in IDFILE exists any more.
# Sets I7_LEFT to those still there.
i7_none_left() {
	I7_LEFT=$(comm -12 "$1" <(i7_bpf_existing) | tr '\n' ' ')
	[ -z "$I7_LEFT" ]
}

# i7_after US: the realtime clock (microseconds) reached US. For pacing
# samples with wait_for instead of sleeping.
i7_after() { [ "$(_fw_now_us)" -ge "$1" ]; }

# i7_pipe_spawn NAME OUTFILE CMD...: like spawn, but CMD's stdout goes to
# OUTFILE (a FIFO or file) instead of $TEST_TMP/NAME.out. SPAWN_PID is CMD's
# own pid (bash execs it).
i7_pipe_spawn() {
	local name=$1 target=$2
	shift 2
	# shellcheck disable=SC2016 # expanded by the inner bash
	spawn "$name" - bash -c 'out=$1; shift; exec "$@" >"$out"' i7pipe "$target" "$@"
}

# i7_mono_ns: CLOCK_MONOTONIC now, in ns.
i7_mono_ns() { python3 "$I7_CHECK" monotonic_now; }

# i7_after_start PID: PID has written something (its JSON start record);
# for a finwatch whose stdout cannot be read back.
i7_after_start() { local w; w=$(i7_wchar "$1"); [ "${w:-0}" -gt 0 ]; }

# i7_pipe_bytes FIFO: bytes waiting in the pipe behind FIFO, and its capacity.
i7_pipe_bytes() {
	python3 -c 'import fcntl, os, struct, sys, termios
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
n = struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
print(n, fcntl.fcntl(fd, 1032))   # F_GETPIPE_SZ' "$1"
}

# i7_pipe_full FIFO: the pipe holds all but the last 8 KiB of its capacity
# (a line of JSON no longer fits).
i7_pipe_full() {
	local n cap
	read -r n cap < <(i7_pipe_bytes "$1") || return 1
	[ "$n" -ge $((cap - 8192)) ]
}

# i7_fd_min PID: the smallest of 5 fd counts taken 20 ms apart (a scan opens
# a netns fd and an iterator fd for a few milliseconds; a leak stays).
i7_fd_min() {
	local i n min=
	for ((i = 0; i < 5; i++)); do
		n=$(i7_fd_count "$1")
		[ -n "$min" ] && [ "$min" -le "$n" ] || min=$n
		[ "$i" -eq 4 ] || wait_for 0.02 false || true
	done
	echo "$min"
}

# i7_pass_if_clean MARK MSG: pass MSG unless a check failed since
# MARK=$(i7_mark) was taken.
i7_mark() { echo "${#_I7_SOFT_FAILS[@]}"; }
i7_pass_if_clean() { [ "${#_I7_SOFT_FAILS[@]}" -ne "$1" ] || pass "$2"; }
