#!/usr/bin/env bash
# Network-namespace lab for finwatch tests.
#   scripts/netns-lab.sh up PREFIX     create the lab (exit 3 if any part exists;
#                                      on other failures nothing is left behind)
#   scripts/netns-lab.sh down PREFIX   delete it (idempotent, exit 0 if absent)
#   scripts/netns-lab.sh env PREFIX    print `export` lines describing it
# PREFIX: 1-8 chars of [a-z0-9], so parallel labs do not clash.
#
# Topology: "host" namespace ${PREFIX}h (the monitored host, clients run here)
# and peers ${PREFIX}p1..p3, each joined to the host by a veth pair
# ${PREFIX}h<i> (in the host ns) <-> ${PREFIX}p<i> (in peer i):
#   host side of link i: 10.201.<i>.1/24  fd00:201:<i>::1/64
#   peer i:              10.201.<i>.2/24  fd00:201:<i>::2/64
# Nothing is created or changed in the caller's namespace: veth ends are created
# directly inside the lab namespaces and sysctls are only set inside them.
set -euo pipefail
export LC_ALL=C

PEERS=(1 2 3)
REACH_TIMEOUT_S=5

die() { echo "netns-lab.sh: $*" >&2; exit 1; }
usage() {
	echo "usage: netns-lab.sh up|down|env PREFIX   (PREFIX: 1-8 chars of [a-z0-9])" >&2
	exit 2
}

check_prefix() {
	[[ "$1" =~ ^[a-z0-9]{1,8}$ ]] || {
		echo "netns-lab.sh: bad PREFIX '$1' (want 1-8 chars of [a-z0-9])" >&2
		exit 2
	}
}

ns_exists() { [ -e "/run/netns/$1" ]; }

now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }

# lab_nsexec NS CMD...: run CMD inside lab namespace NS.
lab_nsexec() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# Is ADDR reachable from namespace NS? One probe, at most ~1 s.
# With ping: an echo reply. Without: a TCP connect to port 9 answered by
# either an accept or an RST ("Connection refused") proves the path works.
probe() {
	local ns=$1 addr=$2 out
	if command -v ping >/dev/null 2>&1; then
		lab_nsexec "$ns" ping -n -q -c1 -W1 "$addr" >/dev/null 2>&1
		return
	fi
	# shellcheck disable=SC2016 # $1 is expanded by the inner bash
	out=$(lab_nsexec "$ns" timeout 1 bash -c 'exec 3<>"/dev/tcp/$1/9"' probe "$addr" 2>&1) && return 0
	[[ "$out" == *"Connection refused"* ]]
}

# wait_reachable NS ADDR: bounded retry loop (REACH_TIMEOUT_S).
wait_reachable() {
	local ns=$1 addr=$2 deadline
	deadline=$(( $(now_ms) + REACH_TIMEOUT_S * 1000 ))
	until probe "$ns" "$addr"; do
		if [ "$(now_ms)" -ge "$deadline" ]; then
			die "$addr not reachable from $ns after ${REACH_TIMEOUT_S}s"
		fi
		sleep 0.1
	done
}

lab_env() {
	local p=$1 i
	echo "export LAB_PREFIX=$p"
	echo "export LAB_HOST=${p}h"
	echo "export LAB_HOST_NSPATH=/run/netns/${p}h"
	for i in "${PEERS[@]}"; do
		echo "export LAB_P${i}=${p}p${i}"
		echo "export LAB_P${i}_V4=10.201.${i}.2"
		echo "export LAB_P${i}_V6=fd00:201:${i}::2"
		echo "export LAB_HOST${i}_V4=10.201.${i}.1"
		echo "export LAB_HOST${i}_V6=fd00:201:${i}::1"
		echo "export LAB_HOST${i}_IF=${p}h${i}"
		echo "export LAB_P${i}_IF=${p}p${i}"
	done
}

# ns_setup NS: loopback up and IPv6 DAD off (before any veth lands there, so
# the "default" value is inherited by the new interfaces).
ns_setup() {
	local ns=$1
	lab_nsexec "$ns" sysctl -qw \
		net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 \
		net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	ip -n "$ns" link set lo up
}

up_failed() {
	local rc=$?
	[ "$rc" -eq 0 ] || lab_down "$UP_PREFIX" >/dev/null 2>&1 || true
	exit "$rc"
}

lab_up() {
	local p=$1 h=${1}h i ns
	for ns in "$h" "${PEERS[@]/#/${p}p}"; do
		if ns_exists "$ns"; then
			echo "netns-lab.sh: namespace $ns already exists (run: $0 down $p)" >&2
			exit 3
		fi
	done
	# Leave nothing half-built behind if a step fails or we are interrupted.
	UP_PREFIX=$p
	trap up_failed EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	ip netns add "$h"
	ns_setup "$h"
	for i in "${PEERS[@]}"; do
		ns=${p}p${i}
		ip netns add "$ns"
		ns_setup "$ns"
		ip -n "$h" link add "${p}h${i}" type veth peer name "${p}p${i}" netns "$ns"
		lab_nsexec "$h" sysctl -qw "net.ipv6.conf.${p}h${i}.accept_dad=0"
		lab_nsexec "$ns" sysctl -qw "net.ipv6.conf.${p}p${i}.accept_dad=0"
		ip -n "$h" addr add "10.201.${i}.1/24" dev "${p}h${i}"
		ip -n "$h" addr add "fd00:201:${i}::1/64" dev "${p}h${i}" nodad
		ip -n "$ns" addr add "10.201.${i}.2/24" dev "${p}p${i}"
		ip -n "$ns" addr add "fd00:201:${i}::2/64" dev "${p}p${i}" nodad
		ip -n "$h" link set "${p}h${i}" up
		ip -n "$ns" link set "${p}p${i}" up
	done
	for i in "${PEERS[@]}"; do
		wait_reachable "$h" "10.201.${i}.2"
		wait_reachable "$h" "fd00:201:${i}::2"
	done
	trap - EXIT INT TERM
}

# kill_ns_pids NS: stop what is still running inside a lab namespace (it would
# keep the namespace and its veth alive). TERM, then KILL after ~2 s.
kill_ns_pids() {
	local ns=$1 pids deadline
	pids=$(ip netns pids "$ns" 2>/dev/null || true)
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086 # word splitting of the pid list is intended
	kill -TERM $pids 2>/dev/null || true
	deadline=$(( $(now_ms) + 2000 ))
	while [ -n "$(ip netns pids "$ns" 2>/dev/null || true)" ]; do
		if [ "$(now_ms)" -ge "$deadline" ]; then
			pids=$(ip netns pids "$ns" 2>/dev/null || true)
			# shellcheck disable=SC2086
			[ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
			break
		fi
		sleep 0.1
	done
}

lab_down() {
	local p=$1 h=${1}h i ns
	for ns in "$h" "${PEERS[@]/#/${p}p}"; do
		ns_exists "$ns" && kill_ns_pids "$ns"
	done
	if ns_exists "$h"; then
		for i in "${PEERS[@]}"; do
			ip -n "$h" link del "${p}h${i}" 2>/dev/null || true
		done
	fi
	for ns in "$h" "${PEERS[@]/#/${p}p}"; do
		if ns_exists "$ns"; then
			ip netns del "$ns" 2>/dev/null || true
		fi
	done
	return 0
}

[ $# -eq 2 ] || usage
check_prefix "$2"
case "$1" in
	up) lab_up "$2" ;;
	down) lab_down "$2" ;;
	env) lab_env "$2" ;;
	*) usage ;;
esac
