#!/usr/bin/env bash
# finwatch benchmarks (`make bench`; not part of `make test`). Root only.
#
#   scripts/bench.sh [OUTPUT_DIR]        (default build)
#
# One run measures, side by side and alternating (round r runs every config
# once, in a rotated order):
#   baseline     no tracer (only the measuring apparatus below)
#   watch        finwatch (live view, text on a file)
#   trace        finwatch trace --json > /dev/null
#   single       finwatch --single-program (text on a file)
#   tcpstates    libbpf-tools tcpstates > /dev/null        (if installed)
#   bpftrace     scripts/bench/fw2hist.bt (maps only)      (if installed)
# and, only when BENCH_CONFIGS names it, the diagnostic
#   watchport    finwatch --rport PORT: only the churn passes the in-kernel
#                filter, so its BPF counters (records submitted) compare
#                exactly with perf's (kernel-side loss vs user-space loss)
# while tests/tools/loadgen churns loopback connections (connect, close; the
# server closes on EOF: each client socket goes through FIN_WAIT_2) in a fresh
# network namespace per run. The apparatus, identical in every config:
#   - ground truth: perf stat -a on sock:inet_sock_set_state, filtered on
#     newstate == 5 / oldstate == 5 (FIN_WAIT2 entries/exits of the churn's
#     port) and protocol == 6 (all TCP transitions), wrapping the churn;
#   - the floor: an empty tp_btf program on inet_sock_set_state
#     (scripts/bench/empty.bpf.c, held by scripts/bench/bpfhold.c), attached
#     for the whole matrix; with kernel.bpf_stats_enabled=1 its run_cnt
#     counts every transition and its run_time_ns/run_cnt is the floor.
# Then the fixed-rate phase: the same configs (alternating rounds, bpf_stats
# off, no perf) under loadgen --rate R, below saturation: host CPU time per
# connection from /proc/stat (all CPUs, softirq included), minus the
# baseline's, with a 95% confidence interval over the rounds.
# Then the scale test: 100,000 held FIN_WAIT_2 sockets in the netns lab
# (scripts/netns-lab.sh; fwpeer servers in hold mode, fwpeer clients with
# --how shutdown), finwatch started with them present: startup CPU,
# reconciliation CPU (--reconcile 1s), RSS, count vs ss.
#
# Raw data: OUTPUT/bench/run-DATE/ (and OUTPUT/bench/last); the tables are
# printed and saved as summary.md there (scripts/bench/analyze.py DIR redoes
# them).
#
# Environment:
#   BENCH_QUICK=1         smoke run: 1 round, 3 s churn, 10k sockets (~1 min)
#   BENCH_ROUNDS=N        rounds (default 3)
#   BENCH_SECONDS=S       churn per run (default 10)
#   BENCH_CONFIGS="..."   subset/order of the configs above
#   BENCH_WORKERS=K BENCH_SERVER_WORKERS=N   loadgen client/server processes
#                         (default: the number of CPUs each; BENCH_CALIBRATE=1
#                         picks the fastest of a few shapes, 2 s each)
#   BENCH_SRC_NET=CIDR    loadgen source addresses (default 127.64.0.0/16)
#   BENCH_EXIT_WAIT=S     after the churn, wait up to S s for finwatch to
#                         report every FIN_WAIT_2 exit (default 40; quick 20),
#                         less if its count stays put for BENCH_EXIT_STABLE s
#                         (default 12: at saturation follow-up walks are up to
#                         16 --scan-intervals, 8 s, apart)
#   BENCH_RATE=R          fixed-rate phase: connections/s (default 10000, below
#                         the ~30-40k/s this 2-CPU VM saturates at)
#   BENCH_RATE_ROUNDS=N BENCH_RATE_SECONDS=S   its alternating rounds (default
#                         8; quick 2; 0 skips it) and seconds per run (8; quick 3)
#   BENCH_SCALE_N=N       scale test sockets (default 100000; 0 skips it)
#   BENCH_MAX_LOAD=L      wait (at most BENCH_LOAD_WAIT s, default 90) for
#                         the 1-minute load average to drop below L
#                         (default: number of CPUs / 2)
# Changes to the host, all undone at exit (trap): kernel.bpf_stats_enabled
# (restored to its value), tracefs mounted at /sys/kernel/tracing if it was
# not (unmounted), namespaces fwb* and the lab (deleted), processes started
# here (stopped). At exit it checks that no BPF program it loaded is left.
set -uo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-build}
case "$OUT" in /*) ;; *) OUT="$ROOT/$OUT" ;; esac
FINWATCH="$OUT/finwatch"
FWPEER="$OUT/fwpeer"
LOADGEN="$OUT/loadgen"
BDIR="$OUT/bench"
BENCH_SRC="$ROOT/scripts/bench"

QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
	ROUNDS=${BENCH_ROUNDS:-1}; SECONDS_CHURN=${BENCH_SECONDS:-3}
	RATE_ROUNDS=${BENCH_RATE_ROUNDS:-2}; RATE_SECONDS=${BENCH_RATE_SECONDS:-3}
	SCALE_N=${BENCH_SCALE_N:-10000}; EXIT_WAIT=${BENCH_EXIT_WAIT:-20}
	RECONCILE_WINDOW=3; LOAD_WAIT=${BENCH_LOAD_WAIT:-20}
else
	ROUNDS=${BENCH_ROUNDS:-3}; SECONDS_CHURN=${BENCH_SECONDS:-10}
	RATE_ROUNDS=${BENCH_RATE_ROUNDS:-8}; RATE_SECONDS=${BENCH_RATE_SECONDS:-8}
	SCALE_N=${BENCH_SCALE_N:-100000}; EXIT_WAIT=${BENCH_EXIT_WAIT:-40}
	RECONCILE_WINDOW=6; LOAD_WAIT=${BENCH_LOAD_WAIT:-90}
fi
EXIT_STABLE=${BENCH_EXIT_STABLE:-12}
RATE=${BENCH_RATE:-10000}       # fixed-rate phase: connections/s, below saturation
CONFIGS=${BENCH_CONFIGS:-"baseline watch trace single tcpstates bpftrace"}
SRC_NET=${BENCH_SRC_NET:-127.64.0.0/16}
NCPU=$(nproc)
MAX_LOAD=${BENCH_MAX_LOAD:-$(awk -v n="$NCPU" 'BEGIN { print n / 2 }')}
PORT=47999              # the churn's server port (perf filters on it)
TAG="fwb$(($$ % 100000))"   # namespaces fwbNNNNN<suffix>, lab prefix
CLK_TCK=$(getconf CLK_TCK)

die() { echo "bench: $*" >&2; exit 1; }
log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
# now_ms, alive PID, not_alive PID, wait_until SECONDS CMD...
# shellcheck source=scripts/lib-wait.sh
. "$ROOT/scripts/lib-wait.sh"

[ "$(id -u)" -eq 0 ] || die "needs root (BPF, perf -a, network namespaces)"
for t in perf bpftool ip ss python3 clang gcc; do
	command -v "$t" >/dev/null 2>&1 || die "missing $t (Debian: linux-perf bpftool iproute2 python3 clang gcc; scripts/install-deps.sh --bench)"
done
[ -x "$FINWATCH" ] && [ -x "$FWPEER" ] || die "build first: make all (no $FINWATCH or $FWPEER)"

# ---- cleanup: everything this script changed or started ----
BG_PIDS=()              # processes started here
NETNS_MADE=()           # namespaces created here
LAB_PREFIX=
TRACEFS_MOUNTED=0
STATS_OLD=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
OUR_PROG_IDS=()         # every BPF program id seen in our processes
CLEANED=0

# stop_pid PID [SIG]: signal one of our children, wait <= 10 s, then KILL;
# it is forgotten afterwards (its pid may be reused by someone else).
stop_pid() {
	local pid=$1 sig=${2:-TERM} p keep=()
	if alive "$pid"; then
		kill "-$sig" "$pid" 2>/dev/null
		if ! wait_until 10 not_alive "$pid"; then
			log "pid $pid still running 10 s after SIG$sig: TERM, then KILL"
			kill -TERM "$pid" 2>/dev/null
			wait_until 5 not_alive "$pid" || kill -KILL "$pid" 2>/dev/null
		fi
	fi
	wait "$pid" 2>/dev/null
	for p in "${BG_PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
	BG_PIDS=("${keep[@]}")
	return 0
}

# progs_left ID...: prints those of the given BPF program ids still loaded
progs_left() {
	[ $# -gt 0 ] || return 0
	bpftool prog show --json 2>/dev/null | python3 -c '
import json, sys
try:
    ids = {p["id"] for p in json.load(sys.stdin)}
except Exception:
    ids = set()
print(" ".join(str(i) for i in sorted(ids & {int(x) for x in sys.argv[1:]})))' "$@"
}
no_progs_left() { [ -z "$(progs_left "$@")" ]; }

cleanup() {
	[ "$CLEANED" -eq 0 ] || return 0
	CLEANED=1
	local pid ns left
	for pid in "${BG_PIDS[@]}"; do stop_pid "$pid" TERM; done
	if [ -n "$LAB_PREFIX" ]; then
		"$ROOT/scripts/netns-lab.sh" down "$LAB_PREFIX" >/dev/null 2>&1 || true
	fi
	for ns in "${NETNS_MADE[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	cg_remove
	sysctl -qw kernel.bpf_stats_enabled="$STATS_OLD" >/dev/null 2>&1 || true
	if [ "${#OUR_PROG_IDS[@]}" -gt 0 ]; then
		if ! wait_until 15 no_progs_left "${OUR_PROG_IDS[@]}"; then
			left=$(progs_left "${OUR_PROG_IDS[@]}")
			echo "bench: WARNING: BPF programs still loaded after cleanup: ids $left" >&2
		else
			log "checked: none of the ${#OUR_PROG_IDS[@]} BPF programs loaded by this run remains (bpftool prog show)"
		fi
	fi
	if [ "$TRACEFS_MOUNTED" -eq 1 ]; then
		umount /sys/kernel/tracing 2>/dev/null || log "tracefs busy, left mounted at /sys/kernel/tracing"
	fi
	log "kernel.bpf_stats_enabled restored to $(sysctl -n kernel.bpf_stats_enabled)"
}
on_exit() { local rc=$?; set +e; cleanup; exit "$rc"; }
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# add_prog_ids PID: remember its BPF programs (also in LAST_PROG_IDS)
add_prog_ids() {
	local f id
	LAST_PROG_IDS=()
	for f in /proc/"$1"/fdinfo/*; do
		id=$(sed -n 's/^prog_id:[[:space:]]*//p' "$f" 2>/dev/null)
		[ -n "$id" ] && OUR_PROG_IDS+=("$id") && LAST_PROG_IDS+=("$id")
	done
	return 0
}

# ---- build the helpers ----
mkdir -p "$BDIR" || die "cannot create $BDIR"
CFLAGS_T=(-O2 -g -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE)
if [ ! -x "$LOADGEN" ] || [ "$ROOT/tests/tools/loadgen.c" -nt "$LOADGEN" ]; then
	gcc "${CFLAGS_T[@]}" "$ROOT/tests/tools/loadgen.c" -o "$LOADGEN" || die "building loadgen failed"
fi
clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror -I"$ROOT/vmlinux/x86" \
	-c "$BENCH_SRC/empty.bpf.c" -o "$BDIR/empty.bpf.o" || die "building empty.bpf.o failed"
gcc "${CFLAGS_T[@]}" "$BENCH_SRC/bpfhold.c" -lbpf -lelf -lz -o "$BDIR/bpfhold" ||
	die "building bpfhold failed (libbpf-dev)"

HAVE_TCPSTATES=0; HAVE_BPFTRACE=0
TCPSTATES=$(command -v tcpstates || true)
# libbpf-tools' tcpstates (bcc's Python one is tcpstates-bpfcc)
[ -n "$TCPSTATES" ] && [ -x "$TCPSTATES" ] && HAVE_TCPSTATES=1
command -v bpftrace >/dev/null 2>&1 && HAVE_BPFTRACE=1
cfgs=()
for c in $CONFIGS; do
	case $c in
	baseline|watch|trace|single|watchport) cfgs+=("$c") ;;
	tcpstates) [ $HAVE_TCPSTATES = 1 ] && cfgs+=("$c") || log "tcpstates (libbpf-tools) not installed: skipped" ;;
	bpftrace) [ $HAVE_BPFTRACE = 1 ] && cfgs+=("$c") || log "bpftrace not installed: skipped" ;;
	*) die "unknown config '$c' in BENCH_CONFIGS" ;;
	esac
done

RUN="$BDIR/run-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$RUN" || die "cannot create $RUN"
ln -sfn "$(basename "$RUN")" "$BDIR/last"
log "results in $RUN"

# ---- a quiet machine ----
load1() { cut -d' ' -f1 /proc/loadavg; }
load_ok() { awk -v l="$(load1)" -v m="$MAX_LOAD" 'BEGIN { exit !(l < m) }'; }
LOAD_BEFORE=$(cat /proc/loadavg)
if ! load_ok; then
	log "load average $(load1) >= $MAX_LOAD: waiting up to ${LOAD_WAIT}s for it to drop"
	wait_until "$LOAD_WAIT" load_ok || log "load still $(load1) after ${LOAD_WAIT}s: measuring anyway (noted)"
fi
{
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "uname_r=$(uname -r)"
	echo "nproc=$NCPU"
	echo "cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
	echo "mem_total_kb=$(awk '/MemTotal/ {print $2}' /proc/meminfo)"
	echo "loadavg_at_invocation=$LOAD_BEFORE"
	echo "loadavg_at_start=$(cat /proc/loadavg)"
	echo "quick=$QUICK rounds=$ROUNDS seconds=$SECONDS_CHURN configs=${cfgs[*]} src_net=$SRC_NET"
	echo "finwatch=$("$FINWATCH" --version 2>/dev/null | head -1) git=$(git -C "$ROOT" describe --always --dirty 2>/dev/null)"
	echo "perf=$(perf --version 2>/dev/null) bpftool=$(bpftool version 2>/dev/null | head -1)"
	echo "bpftrace=$(bpftrace --version 2>/dev/null) libbpf_tools=$(dpkg-query -W -f='${Version}' libbpf-tools 2>/dev/null)"
	echo "other_bpf_progs_on_tracepoint_before=$(bpftool prog show 2>/dev/null | grep -c 'tracing  name fw_set_state')"
} > "$RUN/machine.env"
cat "$RUN/machine.env" >&2

# ---- apparatus ----
if ! mountpoint -q /sys/kernel/tracing; then
	mount -t tracefs tracefs /sys/kernel/tracing || die "cannot mount tracefs (perf's tracepoint events need it)"
	TRACEFS_MOUNTED=1
fi
sysctl -qw kernel.bpf_stats_enabled=1 || die "cannot set kernel.bpf_stats_enabled=1"

"$BDIR/bpfhold" "$BDIR/empty.bpf.o" 3600 > "$RUN/bpfhold.out" 2> "$RUN/bpfhold.err" &
HOLD_PID=$!
BG_PIDS+=("$HOLD_PID")
wait_until 10 grep -q '^ready' "$RUN/bpfhold.out" || die "empty program did not attach: $(cat "$RUN/bpfhold.err")"
add_prog_ids "$HOLD_PID"

new_netns() {           # new_netns NAME: fresh namespace, loopback up
	ip netns add "$1" || return 1
	NETNS_MADE+=("$1")
	ip -n "$1" link set lo up
}
del_netns() {
	ip netns del "$1" 2>/dev/null
	local i keep=()
	for i in "${NETNS_MADE[@]}"; do [ "$i" = "$1" ] || keep+=("$i"); done
	NETNS_MADE=("${keep[@]}")
}

# ---- the loadgen shape: one client and one server process per CPU (the
# best shape on a quiet 2-CPU machine); BENCH_CALIBRATE=1 measures 2 s of
# each candidate first and takes the fastest (noisy on a shared machine).
WORKERS=${BENCH_WORKERS:-}
SWORKERS=${BENCH_SERVER_WORKERS:-}
if [ "${BENCH_CALIBRATE:-0}" = 1 ] && { [ -z "$WORKERS" ] || [ -z "$SWORKERS" ]; }; then
	best=0
	for shape in "1 1" "$NCPU 1" "$NCPU $NCPU" "$((2 * NCPU)) $NCPU"; do
		read -r k s <<<"$shape"
		ns="${TAG}cal"
		new_netns "$ns" || die "ip netns add $ns failed"
		r=$(ip netns exec "$ns" "$LOADGEN" --seconds 2 --workers "$k" --server-workers "$s" \
			--port $PORT --src-net "$SRC_NET" --json 2>>"$RUN/calibration.err" |
			python3 -c 'import json,sys; print(int(json.load(sys.stdin)["rate"]))' 2>/dev/null || echo 0)
		del_netns "$ns"
		echo "workers=$k server_workers=$s rate=$r" >> "$RUN/calibration.txt"
		if [ "$r" -gt "$best" ]; then best=$r; WORKERS=$k; SWORKERS=$s; fi
	done
	[ -n "$WORKERS" ] || die "calibration failed: $(cat "$RUN/calibration.err")"
	log "calibration: $(tr '\n' ';' < "$RUN/calibration.txt") -> workers $WORKERS, server workers $SWORKERS"
fi
WORKERS=${WORKERS:-$NCPU}
SWORKERS=${SWORKERS:-$NCPU}
echo "workers=$WORKERS server_workers=$SWORKERS" >> "$RUN/machine.env"

# ---- one run ----
# snap DIR NAME: BPF program stats, fw_stats map (trace) and CPU of the tracer.
snap() {
	local d=$1 name=$2 f id
	: > "$d/$name.ids"
	for f in /proc/"$HOLD_PID"/fdinfo/*; do
		id=$(sed -n 's/^prog_id:[[:space:]]*//p' "$f" 2>/dev/null)
		[ -n "$id" ] && echo "empty $id" >> "$d/$name.ids"
	done
	for id in "${TRACER_IDS[@]}"; do echo "tracer $id" >> "$d/$name.ids"; done
	# The empty program's counters and the tracer's, read together.
	bpftool prog show --json > "$d/$name.progs.json" 2>/dev/null
	if [ -n "${FWSTATS_ID:-}" ]; then
		bpftool map dump id "$FWSTATS_ID" --json > "$d/$name.fwstats.json" 2>/dev/null
	fi
	if [ -n "${TRACER_PID:-}" ]; then
		sed 's/.*) //' /proc/"$TRACER_PID"/stat 2>/dev/null | awk '{ print $12, $13 }' > "$d/$name.cpu"
		grep VmRSS /proc/"$TRACER_PID"/status 2>/dev/null >> "$d/$name.cpu"
	fi
	echo "${EPOCHREALTIME/[.,]/}" > "$d/$name.t"
}

fd_links() {            # fd_links PID: number of BPF link / perf event fds
	local n=0 f l
	for f in /proc/"$1"/fd/*; do
		l=$(readlink "$f" 2>/dev/null) || continue
		case $l in *bpf_link*|*perf_event*) n=$((n + 1)) ;; esac
	done
	echo "$n"
}
links_at_least() { alive "$1" && [ "$(fd_links "$1")" -ge "$2" ]; }
has_line() { alive "$1" && grep -q -- "$2" "$3" 2>/dev/null; }

find_fwstats() {        # find_fwstats PID: id of its fw_stats map
	local f id
	for f in /proc/"$1"/fdinfo/*; do
		id=$(sed -n 's/^map_id:[[:space:]]*//p' "$f" 2>/dev/null)
		[ -n "$id" ] || continue
		if bpftool map show id "$id" 2>/dev/null | grep -q 'name fw_stats'; then
			echo "$id"; return 0
		fi
	done
	return 1
}

# Exits finwatch has reported for the churn's peer (text mode: SIGUSR1 prints
# per-peer histograms with exit counts).
fw_exits_seen() {
	local d=$1 inum=$2
	kill -USR1 "$TRACER_PID" 2>/dev/null
	sleep 0.3
	grep "^FIN_WAIT_2 lifetime, peer 127.0.0.1 netns $inum " "$d/tracer.out" | tail -1 |
		sed 's/.*(exits: //; s/[a-z_]* //g; s/)//; s/,/ /g' |
		awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; print s }'
}

# start_tracer CONFIG DIR: starts the config's tracer (none for baseline),
# waits until it is attached; sets TRACER_PID, TRACER_IDS, FWSTATS_ID and
# cmd. 1 if it did not start (it is stopped then).
start_tracer() {
	local cfg=$1 d=$2 ok=1
	TRACER_PID=; FWSTATS_ID=; TRACER_IDS=()
	# Each tracer is exec'd by the background subshell: $! is its pid.
	case $cfg in
	baseline) cmd="(none)" ;;
	watch) cmd="finwatch --top 50 > FILE"
		"$FINWATCH" --top 50 > "$d/tracer.out" 2> "$d/tracer.err" & TRACER_PID=$! ;;
	watchport) cmd="finwatch --top 50 --rport $PORT > FILE"
		"$FINWATCH" --top 50 --rport $PORT > "$d/tracer.out" 2> "$d/tracer.err" & TRACER_PID=$! ;;
	single) cmd="finwatch --single-program --top 50 > FILE"
		"$FINWATCH" --single-program --top 50 > "$d/tracer.out" 2> "$d/tracer.err" & TRACER_PID=$! ;;
	trace) cmd="finwatch trace --json > /dev/null"
		"$FINWATCH" trace --json > /dev/null 2> "$d/tracer.err" & TRACER_PID=$! ;;
	tcpstates) cmd="tcpstates > /dev/null"
		"$TCPSTATES" > /dev/null 2> "$d/tracer.err" & TRACER_PID=$! ;;
	bpftrace) cmd="bpftrace scripts/bench/fw2hist.bt > FILE"
		bpftrace "$BENCH_SRC/fw2hist.bt" > "$d/tracer.out" 2> "$d/tracer.err" & TRACER_PID=$! ;;
	esac
	[ -n "$TRACER_PID" ] || return 0
	BG_PIDS+=("$TRACER_PID")
	case $cfg in
	watch|single|watchport) wait_until 60 has_line "$TRACER_PID" '^--- FIN_WAIT_2 now' "$d/tracer.out" || ok=0 ;;
	trace) wait_until 30 links_at_least "$TRACER_PID" 2 || ok=0 ;;
	*) wait_until 60 links_at_least "$TRACER_PID" 1 || ok=0 ;;
	esac
	sleep 1         # bpftrace attaches its probes one by one
	if [ $ok = 0 ] || ! alive "$TRACER_PID"; then
		log "$cfg did not start: $(tail -3 "$d/tracer.err" 2>/dev/null)"
		stop_pid "$TRACER_PID" KILL
		return 1
	fi
	add_prog_ids "$TRACER_PID"
	TRACER_IDS=("${LAST_PROG_IDS[@]}")
	if [ "$cfg" = trace ] || [ "$cfg" = watchport ]; then
		wait_until 5 eval 'FWSTATS_ID=$(find_fwstats "$TRACER_PID")' ||
			log "$cfg: fw_stats map not found (no kernel-side counters this run)"
	fi
	return 0
}

# stop_tracer DIR: SIGINT, then check its BPF programs are gone.
stop_tracer() {
	local d=$1
	[ -n "$TRACER_PID" ] || return 0
	stop_pid "$TRACER_PID" INT
	if wait_until 15 no_progs_left "${TRACER_IDS[@]}"; then
		echo "progs_gone=${TRACER_IDS[*]}" >> "$d/meta.env"
	else
		log "$cfg: its BPF programs are still loaded: $(progs_left "${TRACER_IDS[@]}")"
		echo "progs_left=$(progs_left "${TRACER_IDS[@]}")" >> "$d/meta.env"
	fi
}

run_one() {             # run_one ROUND CONFIG
	local round=$1 cfg=$2 d ns inum want_exits seen t0
	d="$RUN/runs/r$round-$cfg"
	mkdir -p "$d"
	RUN_SEQ=$((RUN_SEQ + 1))
	ns="${TAG}n$RUN_SEQ"
	new_netns "$ns" || { log "ip netns add $ns failed"; return 1; }
	inum=$(stat -L -c %i "/run/netns/$ns")
	if ! start_tracer "$cfg" "$d"; then
		del_netns "$ns"
		echo "failed=start" > "$d/meta.env"
		return 1
	fi
	{
		echo "cfg=$cfg"; echo "round=$round"; echo "netns=$ns"; echo "netns_inum=$inum"
		echo "port=$PORT"; echo "tracer_pid=${TRACER_PID:-}"; echo "clk_tck=$CLK_TCK"
		echo "cmd=$cmd"
		echo "loadavg_before=$(cat /proc/loadavg)"
	} > "$d/meta.env"
	snap "$d" before
	perf stat -a -x, -o "$d/perf.csv" \
		-e sock:inet_sock_set_state --filter "newstate == 5 && dport == $PORT" \
		-e sock:inet_sock_set_state --filter "oldstate == 5 && dport == $PORT" \
		-e sock:inet_sock_set_state --filter "protocol == 6" \
		-- ip netns exec "$ns" "$LOADGEN" --seconds "$SECONDS_CHURN" --workers "$WORKERS" \
		--server-workers "$SWORKERS" --port $PORT --src-net "$SRC_NET" --json \
		> "$d/loadgen.json" 2> "$d/loadgen.err"
	echo "loadgen_rc=$?" >> "$d/meta.env"
	snap "$d" after
	# Let the tracer finish: finwatch follows orphans into timewait with
	# scans, so its exits can lag; wait (bounded) until it reports them all.
	want_exits=$(awk -F, '$3 ~ /inet_sock_set_state/ { n++; if (n == 2) print $1 }' "$d/perf.csv")
	if [ "$cfg" = watch ] || [ "$cfg" = single ] || [ "$cfg" = watchport ]; then
		# Done when every kernel exit is reported, when the count has not
		# moved for EXIT_STABLE s (what is missing then was lost), or after
		# EXIT_WAIT s.
		t0=$(now_ms); last_seen=-1; last_change=$t0
		while :; do
			seen=$(fw_exits_seen "$d" "$inum")
			seen=${seen:-0}
			echo "$(( $(now_ms) - t0 )) $seen" >> "$d/exitwait.txt"
			[ "$seen" -ge "${want_exits:-0}" ] && break
			if [ "$seen" != "$last_seen" ]; then last_seen=$seen; last_change=$(now_ms); fi
			[ $(( $(now_ms) - last_change )) -lt $((EXIT_STABLE * 1000)) ] || break
			[ $(( $(now_ms) - t0 )) -lt $((EXIT_WAIT * 1000)) ] || break
			sleep 0.7
		done
	else
		sleep 1
	fi
	snap "$d" settled
	echo "loadavg_after=$(cat /proc/loadavg)" >> "$d/meta.env"
	stop_tracer "$d"
	del_netns "$ns"
	python3 "$BENCH_SRC/analyze.py" --one "$d" >&2 || true
	return 0
}

# The fixed-rate phase's own CPU accounting group: loadgen (with the softirq
# work it runs, which on loopback is most of it) and the tracer, not the
# other processes sharing the machine. cgroup v1 cpuacct, else v2.
CG=; CG_PROCS=cgroup.procs; CG_V=
cg_make() {
	if [ -d /sys/fs/cgroup/cpuacct ] && [ -f /sys/fs/cgroup/cpuacct/cpuacct.usage ]; then
		CG=/sys/fs/cgroup/cpuacct/$TAG; CG_V=1
	elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		CG=/sys/fs/cgroup/$TAG; CG_V=2
	else
		return 1
	fi
	mkdir "$CG" 2>/dev/null || { CG=; return 1; }
}
cg_add() { echo "$1" > "$CG/$CG_PROCS" 2>/dev/null; }
cg_usage_ns() {
	if [ "$CG_V" = 1 ]; then cat "$CG/cpuacct.usage"
	else awk '$1 == "usage_usec" { print $2 * 1000 }' "$CG/cpu.stat"; fi
}
cg_remove() {
	[ -n "$CG" ] || return 0
	local p
	# whatever is left goes back to the root group first
	while read -r p; do echo "$p" > "${CG%/*}/$CG_PROCS" 2>/dev/null; done < "$CG/$CG_PROCS"
	rmdir "$CG" 2>/dev/null || log "could not remove cgroup $CG"
	CG=
}

# run_rate ROUND CONFIG: the same tracer under a fixed connection rate below
# saturation, with kernel.bpf_stats_enabled=0 and without perf: host CPU
# time (/proc/stat, every CPU, softirq included) per connection, and the
# CPU time of loadgen and the tracer alone (an accounting cgroup).
run_rate() {
	local round=$1 cfg=$2 d ns
	d="$RUN/rate/r$round-$cfg"
	mkdir -p "$d"
	RUN_SEQ=$((RUN_SEQ + 1))
	ns="${TAG}n$RUN_SEQ"
	new_netns "$ns" || { log "ip netns add $ns failed"; return 1; }
	if ! start_tracer "$cfg" "$d"; then
		del_netns "$ns"
		echo "failed=start" > "$d/meta.env"
		return 1
	fi
	{
		echo "cfg=$cfg"; echo "round=$round"; echo "rate=$RATE"; echo "cmd=$cmd"
		echo "tracer_pid=${TRACER_PID:-}"; echo "clk_tck=$CLK_TCK"
		echo "loadavg_before=$(cat /proc/loadavg)"
	} > "$d/meta.env"
	[ -n "$TRACER_PID" ] && [ -n "$CG" ] && cg_add "$TRACER_PID"
	grep '^cpu ' /proc/stat > "$d/stat.before"
	[ -n "$CG" ] && cg_usage_ns > "$d/cg_ns.before"
	[ -n "$TRACER_PID" ] && sed 's/.*) //' /proc/"$TRACER_PID"/stat | awk '{ print $12, $13 }' > "$d/tracer_cpu.before"
	# loadgen and its workers in the accounting group too (a child shell
	# joins it, then becomes loadgen)
	bash -c '[ -z "$1" ] || echo $$ > "$1" || exit 99; shift; exec "$@"' rate-loadgen "${CG:+$CG/$CG_PROCS}" \
		ip netns exec "$ns" "$LOADGEN" --seconds "$RATE_SECONDS" --rate "$RATE" --workers "$WORKERS" \
		--server-workers "$SWORKERS" --port $PORT --src-net "$SRC_NET" --json \
		> "$d/loadgen.json" 2> "$d/loadgen.err"
	echo "loadgen_rc=$?" >> "$d/meta.env"
	grep '^cpu ' /proc/stat > "$d/stat.after"
	[ -n "$CG" ] && cg_usage_ns > "$d/cg_ns.after"
	[ -n "$TRACER_PID" ] && sed 's/.*) //' /proc/"$TRACER_PID"/stat | awk '{ print $12, $13 }' > "$d/tracer_cpu.after"
	echo "loadavg_after=$(cat /proc/loadavg)" >> "$d/meta.env"
	stop_tracer "$d"
	del_netns "$ns"
	return 0
}

RUN_SEQ=0
log "churn matrix: ${#cfgs[@]} configs x $ROUNDS rounds x ${SECONDS_CHURN}s (workers $WORKERS, server workers $SWORKERS, sources $SRC_NET)"
for ((r = 1; r <= ROUNDS; r++)); do
	n=${#cfgs[@]}
	for ((i = 0; i < n; i++)); do
		cfg=${cfgs[$(((i + r - 1) % n))]}
		log "round $r/$ROUNDS: $cfg"
		run_one "$r" "$cfg"
	done
done

# ---- fixed rate: CPU per connection, bpf_stats off ----
if [ "$RATE_ROUNDS" -gt 0 ]; then
	sysctl -qw kernel.bpf_stats_enabled=0
	cg_make || log "no cpuacct/cgroup v2 group: only host-wide CPU is measured"
	rcfgs=()
	for c in "${cfgs[@]}"; do [ "$c" = watchport ] || rcfgs+=("$c"); done
	log "fixed rate: ${#rcfgs[@]} configs x $RATE_ROUNDS rounds x ${RATE_SECONDS}s at $RATE connections/s (bpf_stats off)"
	for ((r = 1; r <= RATE_ROUNDS; r++)); do
		n=${#rcfgs[@]}
		for ((i = 0; i < n; i++)); do
			cfg=${rcfgs[$(((i + r - 1) % n))]}
			log "fixed rate, round $r/$RATE_ROUNDS: $cfg"
			run_rate "$r" "$cfg"
		done
	done
	sysctl -qw kernel.bpf_stats_enabled=1
	cg_remove
fi

# ---- scale: held FIN_WAIT_2 sockets in the netns lab ----
if [ "$SCALE_N" -gt 0 ]; then
	BENCH_OUTPUT="$OUT" "$BENCH_SRC/scale.sh" "$RUN/scale" "$SCALE_N" "$RECONCILE_WINDOW" "$TAG" || log "scale test failed (see $RUN/scale)"
	[ -f "$RUN/scale/prog_ids" ] && read -r -a ids < "$RUN/scale/prog_ids" && OUR_PROG_IDS+=("${ids[@]}")
fi

stop_pid "$HOLD_PID" TERM
echo "loadavg_at_end=$(cat /proc/loadavg)" >> "$RUN/machine.env"
python3 "$BENCH_SRC/analyze.py" "$RUN" | tee "$RUN/summary.md"
