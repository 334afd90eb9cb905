#!/usr/bin/env bash
# Scale part of the finwatch benchmark (called by scripts/bench.sh; can run
# alone as root):
#   scripts/bench/scale.sh DIR N RECONCILE_WINDOW_S [TAG]
# Creates N held FIN_WAIT_2 sockets for real in a netns lab
# (scripts/netns-lab.sh): `fwpeer server --mode hold` processes in the three
# peer namespaces (several ports, each holding at most ~9,000 fds: the fd
# limit is ~20,000 per process) and as many `fwpeer client --how shutdown
# --hold-sec -1` processes in the lab host namespace (source addresses
# 10.201.{1,2,3}.1). With the sockets present it starts
#   finwatch --json --interval 1s --reconcile 1s
# (--rport: only the lab's servers; the scans still walk every socket of
# every namespace) and records: CPU time (utime+stime, /proc/PID/stat) from exec to the
# "start" record (BPF load + discovery of every namespace + /proc walk for
# the holding processes), CPU per reconciliation over RECONCILE_WINDOW_S
# seconds, VmRSS, and finwatch's per-peer count vs `ss` in the lab host
# namespace. Writes DIR/result.json and DIR/prog_ids (BPF program ids the
# caller checks are gone). Everything it starts is stopped and the lab is
# deleted at exit.
set -uo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=$1
N=$2
WINDOW=${3:-6}
OUT=${BENCH_OUTPUT:-$ROOT/build}
FINWATCH=${FINWATCH:-$OUT/finwatch}
FWPEER=${FWPEER:-$OUT/fwpeer}
LAB="$ROOT/scripts/netns-lab.sh"
PREFIX="fs$(($$ % 100000))"
PER_SERVER=17000                # fds per process stay under the ~20,000 limit
PORT0=6100

die() { echo "scale: $*" >&2; exit 1; }
log() { printf '[scale %s] %s\n' "$(date +%T)" "$*" >&2; }
# now_ms, alive PID, not_alive PID, wait_until SECONDS CMD...
# shellcheck source=scripts/lib-wait.sh
. "$ROOT/scripts/lib-wait.sh"

[ "$(id -u)" -eq 0 ] || die "needs root"
[[ "$N" =~ ^[0-9]+$ ]] && [ "$N" -gt 0 ] || die "bad N '$N'"
mkdir -p "$DIR" || die "cannot create $DIR"

PIDS=()
LAB_UP=0
FW_PID=
cleanup() {
	local p
	[ -n "$FW_PID" ] && alive "$FW_PID" && kill -INT "$FW_PID" 2>/dev/null
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do
		wait_until 10 not_alive "$p" || kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	[ "$LAB_UP" -eq 1 ] && "$LAB" down "$PREFIX" >/dev/null 2>&1
	return 0
}
trap 'rc=$?; set +e; cleanup; exit $rc' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$LAB" up "$PREFIX" || die "netns-lab.sh up $PREFIX failed"
LAB_UP=1
eval "$("$LAB" env "$PREFIX")"
HOST_INUM=$(stat -L -c %i "$LAB_HOST_NSPATH")

# N sockets over S servers (a multiple of 3: one share per peer namespace),
# at most 6 so finwatch can be limited to their ports (--rport takes 8):
# other engineers' labs on this machine must not count (nor cost) here.
S=$(( (N + 3 * PER_SERVER - 1) / (3 * PER_SERVER) * 3 ))
[ "$S" -le 6 ] || die "N=$N needs more than 6 servers of $PER_SERVER sockets"
RPORTS=$(seq -s, "$PORT0" $((PORT0 + S - 1)))
log "$N held FIN_WAIT_2 sockets: $S fwpeer servers (hold) in 3 peer namespaces, $S clients in ${LAB_HOST}"
for ((i = 0; i < S; i++)); do
	peer=$(( i % 3 + 1 ))
	ns_var="LAB_P${peer}"; addr_var="LAB_P${peer}_V4"
	ip netns exec "${!ns_var}" "$FWPEER" server --listen "${!addr_var}:$((PORT0 + i))" --mode hold \
		> "$DIR/server$i.out" 2> "$DIR/server$i.err" &
	PIDS+=($!)
done
for ((i = 0; i < S; i++)); do
	wait_until 10 grep -qx ready "$DIR/server$i.out" || die "server $i not ready: $(cat "$DIR/server$i.err")"
done
t0=$(now_ms)
for ((i = 0; i < S; i++)); do
	peer=$(( i % 3 + 1 ))
	addr_var="LAB_P${peer}_V4"
	count=$(( N / S + (i < N % S ? 1 : 0) ))
	ip netns exec "$LAB_HOST" "$FWPEER" client --connect "${!addr_var}:$((PORT0 + i))" --count "$count" \
		--how shutdown --hold-sec -1 --comm "fwscale$i" > "$DIR/client$i.out" 2> "$DIR/client$i.err" &
	PIDS+=($!)
done
for ((i = 0; i < S; i++)); do
	wait_until 300 grep -qx ready "$DIR/client$i.out" || die "client $i not ready: $(tail -2 "$DIR/client$i.err")"
done
ss_fw2() { ip netns exec "$LAB_HOST" ss -Htan state fin-wait-2 | wc -l; }
ss_is_n() { [ "$(ss_fw2)" -eq "$N" ]; }
wait_until 120 ss_is_n || die "ss shows $(ss_fw2) FIN_WAIT_2 sockets in $LAB_HOST, want $N"
t_create=$(( $(now_ms) - t0 ))
log "created in ${t_create} ms; ss: $N FIN-WAIT-2 in $LAB_HOST"

# Namespaces finwatch will scan (its enumeration: /proc/*/ns/net, /run/netns).
nsn=$(stat -L -c %i /proc/[0-9]*/ns/net /run/netns/* 2>/dev/null | sort -u | wc -l)
loadavg=$(cat /proc/loadavg)

cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

t0=$(now_ms)
"$FINWATCH" --json --interval 1s --reconcile 1s --top 50 --rport "$RPORTS" > "$DIR/finwatch.json" 2> "$DIR/finwatch.err" &
FW_PID=$!
PIDS+=("$FW_PID")
started() { grep -q '"type":"start"' "$DIR/finwatch.json" 2>/dev/null; }
until started; do
	alive "$FW_PID" || die "finwatch exited: $(cat "$DIR/finwatch.err")"
	[ $(( $(now_ms) - t0 )) -lt 120000 ] || die "finwatch did not start within 120 s"
	sleep 0.02
done
startup_ticks=$(cpu_ticks "$FW_PID")
startup_wall=$(( $(now_ms) - t0 ))
startup_rss=$(rss_kb "$FW_PID")
for f in /proc/"$FW_PID"/fdinfo/*; do sed -n 's/^prog_id:[[:space:]]*//p' "$f" 2>/dev/null; done | sort -un |
	tr '\n' ' ' > "$DIR/prog_ids"
log "finwatch started in ${startup_wall} ms wall, $((startup_ticks * 10)) ms CPU (ticks at $(getconf CLK_TCK) Hz), RSS ${startup_rss} kB"

# Reconciliation window: one full rescan of every namespace per second.
last_scans() { grep '"type":"summary"' "$DIR/finwatch.json" | tail -1 | python3 -c '
import json, sys
l = sys.stdin.read().strip()
print(json.loads(l)["scans"] if l else 0)'; }
sleep 1.2
w_ticks0=$(cpu_ticks "$FW_PID"); w_scans0=$(last_scans); w_t0=$(now_ms)
sleep "$WINDOW"
w_ticks1=$(cpu_ticks "$FW_PID"); w_scans1=$(last_scans); w_t1=$(now_ms)
end_rss=$(rss_kb "$FW_PID")
ss_before_stop=$(ss_fw2)
kill -INT "$FW_PID"
wait_until 20 not_alive "$FW_PID" || kill -KILL "$FW_PID"
wait "$FW_PID" 2>/dev/null
ss_after_stop=$(ss_fw2)

python3 - "$DIR" "$HOST_INUM" <<EOF > "$DIR/result.json"
import json, sys
d, inum = sys.argv[1], int(sys.argv[2])
recs = [json.loads(l) for l in open(d + "/finwatch.json") if l.startswith("{")]
start = next(r for r in recs if r["type"] == "start")
fin = [r for r in recs if r["type"] == "summary" and r.get("final")]
fin = fin[-1] if fin else {}
peers = [p for p in fin.get("peers", []) if p["netns"] == inum]
recon = [r for r in recs if r["type"] == "reconcile"]
tick_ms = 1000.0 / $(getconf CLK_TCK)
reconciles = (${w_scans1:-0} - ${w_scans0:-0}) / max($nsn, 1)
print(json.dumps({
    "n": $N, "servers": $S, "create_ms": $t_create, "namespaces": $nsn,
    "loadavg": "$loadavg",
    "startup_wall_ms": $startup_wall, "startup_cpu_ms": $startup_ticks * tick_ms,
    "startup_rss_kb": $startup_rss, "rports": "$RPORTS", "discovered_at_start": start.get("discovered"),
    "window_s": ($w_t1 - $w_t0) / 1000.0,
    "window_cpu_ms": ($w_ticks1 - $w_ticks0) * tick_ms,
    "window_scans": ${w_scans1:-0} - ${w_scans0:-0},
    "reconciles": reconciles,
    "cpu_ms_per_reconcile": (($w_ticks1 - $w_ticks0) * tick_ms / reconciles) if reconciles else None,
    "end_rss_kb": $end_rss,
    "ss_count": $ss_before_stop, "ss_count_after_stop": $ss_after_stop,
    "finwatch_count": sum(p["count"] for p in peers),
    "finwatch_held": sum(p["held"] for p in peers),
    "finwatch_peers": len(peers),
    "reconcile_records": len(recon),
    "reconciled_missing": fin.get("reconciled_missing"),
    "lost": fin.get("lost"), "scans_total": fin.get("scans"),
}))
EOF
cat "$DIR/result.json" >&2
