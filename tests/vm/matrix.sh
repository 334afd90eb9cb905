#!/usr/bin/env bash
# Kernel matrix: finwatch's real-kernel e2e tests inside Debian's kernels,
# booted under qemu, plus the host kernel.
#
#   tests/vm/matrix.sh [KERNEL...]        (or: make vmtest KERNELS="6.1 6.12")
#
# KERNEL is a Debian kernel series ("6.1", "6.12": the newest ABI apt knows
# for it), an exact ABI ("6.1.0-57", "6.12.113+deb12"), or "host" (the same
# tests run directly on this machine, no VM). Default: $KERNELS or "6.1 6.12".
#
# For each Debian kernel: `apt-get download` of the generic -amd64 image
# (never -cloud-: it has no 9p), unpacked with `dpkg-deb -x` and `depmod -b`,
# both cached in $FW_VM_CACHE (default /var/cache/finwatch-vm) so reruns do
# not download again. Each kernel boots twice with qemu-system-x86_64 (KVM
# when /dev/kvm runs a guest, else multi-threaded TCG): variant "config"
# has the package's /boot (config-<ver>) over /boot, variant "noconfig" an
# empty /boot (the guest checks that neither /boot/config-$(uname -r) nor
# /proc/config.gz exists, and fails the run otherwise). A busybox initramfs
# (tests/vm/guest-init, with the kernel's virtio/9p modules) mounts this
# host's root read-only over 9p, tmpfs over /tmp, /run, /var/tmp, /var/log,
# /root, the unpacked /lib/modules/<ver> (modprobe works inside), proc, sys,
# devtmpfs, cgroup2 and bpffs, a second writable 9p share for results, then
# chroots into the host root and runs tests/vm/guest.sh, which runs each test
# as `bash tests/e2e/test_X.sh` and writes its exit status, time and log to
# the share. The guest powers off; a VM that outlives its deadline is killed
# and its missing tests fail.
#
# Output: one line per (kernel, variant, test), in tests/run.sh's format:
#   vm   6.1/config/test_trace_lab          ok 41s
# ("host/direct/TEST" for the host entry), and per VM the kernel package
# used, the guest's `uname -r`, boot and run times; after a failure the
# libbpf/verifier lines of one `finwatch -v` run in that guest.
# Results also go to $FW_VM_OUT/results.tsv (kernel, variant, test, rc,
# seconds, result), read by tests/run.sh; logs and serial consoles are under
# $FW_VM_OUT (default $FW_BUILD/vm, FW_BUILD default build/).
#
# Environment:
#   KERNELS        kernels to run when none are given ("6.1 6.12")
#   VM_TESTS       "default" (the subset below), "all" (every tests/e2e/test_*.sh),
#                  or a list of test names ("test_reap test_trace_lab")
#   VM_VARIANTS    "config noconfig" (default) or one of them
#   VM_ACCEL       auto (default), kvm or tcg
#   VM_MEM, VM_SMP qemu memory (4G) and vCPUs (2)
#   QEMU           the qemu binary (qemu-system-x86_64)
#   VM_TCG_OPTS    TCG options (thread=multi,tb-size=512; thread=single: one host thread)
#   VM_TIMEOUT     deadline in seconds for one VM run (default 1200, 4800 with
#                  VM_TESTS=all; times the number of binaries)
#   VM_TEST_TIMEOUT deadline for one test inside the guest (900 s, as tests/run.sh)
#   FINWATCH       finwatch binary to test (default $FW_BUILD/finwatch), e.g.
#                  build/static/finwatch
#   VM_FINWATCH_ALSO  more binaries, each running the same tests in the same
#                  boots, named TEST@DIR (build/static/finwatch: test_reap@static)
#   FW_VM_CACHE    download and unpack cache (/var/cache/finwatch-vm)
#   FW_REQUIRE_E2E=1  (CI) no qemu or no kernel package is a failure, not a skip
# Exit: 0 all passed (or skipped), 1 a failure, 77 nothing could run (why is printed).
#
# Default subset: together these load every BPF program (tp_btf, iter/tcp,
# iter/task_file) and cover trace (test_trace_lab), the seed case with
# startup discovery and holders (test_watch_seed, test_watch_held_discovery),
# the timewait follow-up of orphans to their timeout (test_watch_timewait),
# reaping and doctor (test_reap), doctor's kernel support report and a run
# with the kernel config hidden (test_no_kconfig), and the socket's cgroup
# read by CO-RE: workloads, scopes and -- CMD (test_workload, test_scope,
# test_wrapper).
set -uo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
FW_BUILD=${FW_BUILD:-$root/build}
FW_BUILD=$(cd "$FW_BUILD" 2>/dev/null && pwd || echo "$FW_BUILD")
FINWATCH=${FINWATCH:-$FW_BUILD/finwatch}
case "$FINWATCH" in /*) ;; *) FINWATCH=$PWD/$FINWATCH ;; esac
CACHE=${FW_VM_CACHE:-/var/cache/finwatch-vm}
OUT=${FW_VM_OUT:-$FW_BUILD/vm}
VM_TESTS=${VM_TESTS:-default}
VM_VARIANTS=${VM_VARIANTS:-config noconfig}
VM_ACCEL=${VM_ACCEL:-auto}
VM_MEM=${VM_MEM:-4G}
VM_SMP=${VM_SMP:-2}
VM_TEST_TIMEOUT=${VM_TEST_TIMEOUT:-900}
QEMU=${QEMU:-qemu-system-x86_64}
VM_TCG_OPTS=${VM_TCG_OPTS:-thread=multi,tb-size=512}
DEFAULT_TESTS="test_trace_lab test_watch_seed test_watch_held_discovery test_watch_timewait test_reap test_no_kconfig
	test_workload test_scope test_wrapper"

if [ $# -gt 0 ]; then kernels=("$@"); else read -ra kernels <<<"${KERNELS:-6.1 6.12}"; fi

case "$VM_TESTS" in
default) tests=(); for t in $DEFAULT_TESTS; do [ ! -f "$root/tests/e2e/$t.sh" ] || tests+=("$t"); done ;;
all) tests=(); for t in "$root"/tests/e2e/test_*.sh; do tests+=("$(basename "$t" .sh)"); done ;;
*) read -ra tests <<<"$VM_TESTS" ;;
esac
for t in "${tests[@]}"; do
	[ -f "$root/tests/e2e/$t.sh" ] || { echo "matrix.sh: no test tests/e2e/$t.sh" >&2; exit 2; }
done
# Binaries: FINWATCH (results named TEST), then each of VM_FINWATCH_ALSO
# (TEST@LABEL, LABEL its directory's name). bins: LABEL=PATH words.
bins=("=$FINWATCH")
runs=("${tests[@]}")
n=1
for b in ${VM_FINWATCH_ALSO:-}; do
	case "$b" in /*) ;; *) b=$PWD/$b ;; esac
	[ -x "$b" ] || { echo "matrix.sh: VM_FINWATCH_ALSO: no executable $b" >&2; exit 2; }
	n=$((n + 1))
	label=$(basename "$(dirname "$b")")
	[[ "$label" =~ ^[A-Za-z0-9_.-]+$ ]] && [ "$label" != build ] || label=bin$n
	for x in "${bins[@]}"; do [ "${x%%=*}" != "$label" ] || label=bin$n; done
	bins+=("$label=$b")
	for t in "${tests[@]}"; do runs+=("$t@$label"); done
done
if [ "$VM_TESTS" = all ]; then per_bin=4800; else per_bin=1200; fi
VM_TIMEOUT=${VM_TIMEOUT:-$((per_bin * ${#bins[@]}))}

say() { echo "matrix: $*"; }
warn() { echo "matrix: $*" >&2; }

# Nothing can run: a skip (77), or with FW_REQUIRE_E2E=1 a failure.
cannot_run() {
	warn "$*"
	if [ "${FW_REQUIRE_E2E:-0}" = 1 ]; then
		warn "FW_REQUIRE_E2E=1: counted as a failure"
		exit 1
	fi
	exit 77
}

mkdir -p "$OUT" || cannot_run "cannot create $OUT"
RESULTS=$OUT/results.tsv
: >"$RESULTS"
passed=0 failed=0 skipped=0
matrix_start=$(date +%s)

# record KERNEL VARIANT TEST RC SECS [NOTE]: one result line and TSV row.
record() {
	local k=$1 v=$2 t=$3 rc=$4 secs=$5 note=${6:-} res
	if [ "$rc" = 0 ]; then
		res=ok; passed=$((passed + 1))
	elif [ "$rc" = 77 ] && [ "${FW_REQUIRE_E2E:-0}" != 1 ]; then
		res="skipped${note:+ ($note)}"; skipped=$((skipped + 1))
	else
		res="FAILED (rc $rc${note:+: $note})"; failed=$((failed + 1))
	fi
	printf 'vm   %-34s %s %ss\n' "$k/$v/$t" "$res" "$secs"
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$k" "$v" "$t" "$rc" "$secs" "$res" >>"$RESULTS"
}

# first_error LOG: why a test failed, in one line: its FAIL (or SKIP) line
# and finwatch's own error message when the log has one.
first_error() {
	local f w
	f=$(grep -m1 -E '^(FAIL|SKIP):' "$1" 2>/dev/null)
	w=$(grep -m1 -E 'R[0-9]+ type=|failed to open system Kconfig|^finwatch: ' "$1" 2>/dev/null)
	[ -n "$f$w" ] || f=$(grep -v '^\s*$' "$1" 2>/dev/null | tail -n1)
	f="$f${f:+${w:+ / }}$w"
	printf '%s' "${f:0:240}"
}

# ---- tools ----

# need_vm_tools: sets BUSYBOX, or vm_why (why no VM can run) and returns 1.
need_vm_tools() {
	local missing=() c
	for c in "$QEMU" apt-get apt-cache dpkg-deb depmod modprobe cpio gzip xz busybox; do
		command -v "$c" >/dev/null 2>&1 || missing+=("$c")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		vm_why="missing ${missing[*]} (scripts/install-deps.sh --vm installs qemu-system-x86, busybox-static, cpio, kmod, xz-utils)"
		return 1
	fi
	BUSYBOX=$(command -v busybox)
	if ldd "$BUSYBOX" >/dev/null 2>&1; then
		vm_why="$BUSYBOX is not statically linked (install busybox-static)"
		return 1
	fi
	[ -x "$FINWATCH" ] || { vm_why="no finwatch binary at $FINWATCH (run make)"; return 1; }
	local b
	[ "$(id -u)" -eq 0 ] || { vm_why="needs root (the guest runs the tests as root from this host's root)"; return 1; }
	# The guest sees this host's root, with tmpfs over these directories;
	# the repository and the kernel cache are put back on top of them
	# (guest-init), other paths are not.
	local d
	for d in /tmp /var/tmp /run /var/log /root /var/spool; do
		for b in "${bins[@]}"; do
			case "${b#*=}" in "$root"/*) ;; "$d"/*) vm_why="${b#*=} is under $d, which the guest covers with a tmpfs"; return 1 ;; esac
		done
	done
	return 0
}

# Which accelerator: KVM only if /dev/kvm exists and a guest really boots
# with it (decided once, by the first boot); TCG otherwise.
accel_args() {
	case "$1" in
	kvm) echo "-accel kvm -cpu host" ;;
	*) echo "-accel tcg,$VM_TCG_OPTS -cpu max" ;;
	esac
}

# ---- kernel packages ----

# resolve SPEC: sets PKG (package name), PKGVER (its version) and KVER (uname -r)
# for the newest generic -amd64 image of series SPEC ("6.1"), or the exact
# ABI ("6.1.0-57", "6.12.113+deb12"). Prefers the -unsigned package of an ABI.
resolve() {
	local spec=$1 re names n cand
	local q=${spec//./\\.}
	q=${q//+/\\+}
	if [[ "$spec" =~ ^[0-9]+\.[0-9]+$ ]]; then
		re="^linux-image-$q\.[0-9]+(-[0-9]+)?(\+deb[0-9]+)?-amd64(-unsigned)?\$"
	else
		re="^linux-image-$q-amd64(-unsigned)?\$"
	fi
	names=$(apt-cache pkgnames linux-image- 2>/dev/null | grep -E "$re" | sed 's/-unsigned$//' | sort -uV | tac)
	for n in $names; do
		for cand in "$n-unsigned" "$n"; do
			PKGVER=$(apt-cache policy "$cand" 2>/dev/null | sed -n 's/^ *Candidate: //p')
			if [ -n "$PKGVER" ] && [ "$PKGVER" != "(none)" ]; then
				PKG=$cand
				KVER=${n#linux-image-}
				return 0
			fi
		done
	done
	return 1
}

# fetch: download and unpack $PKG into $CACHE (once); sets TREE and MODDIR.
fetch() {
	local deb dir=$CACHE/$KVER
	TREE=$dir/tree
	mkdir -p "$CACHE/debs" "$dir" || return 1
	if [ ! -e "$dir/.unpacked" ]; then
		deb=$(ls "$CACHE/debs/${PKG}_"*.deb 2>/dev/null | head -n1)
		if [ -z "$deb" ]; then
			say "downloading $PKG $PKGVER (apt-get download)"
			( cd "$CACHE/debs" && apt-get download -q -o APT::Sandbox::User=root "$PKG" >/dev/null 2>"$dir/download.err" ) ||
				( apt-get update -qq >/dev/null 2>&1; cd "$CACHE/debs" &&
					apt-get download -q -o APT::Sandbox::User=root "$PKG" >/dev/null 2>"$dir/download.err" ) ||
				{ warn "apt-get download $PKG failed: $(tail -n1 "$dir/download.err")"; return 1; }
			deb=$(ls "$CACHE/debs/${PKG}_"*.deb 2>/dev/null | head -n1)
			[ -n "$deb" ] || { warn "apt-get download $PKG left no .deb"; return 1; }
		fi
		rm -rf "$TREE"
		dpkg-deb -x "$deb" "$TREE" || { warn "dpkg-deb -x $deb failed"; return 1; }
		MODDIR=$(find_moddir) || { warn "$deb has no lib/modules/$KVER"; return 1; }
		# depmod -b wants BASE/lib/modules/VER; the package may use /usr/lib.
		depmod -b "${MODDIR%/lib/modules/$KVER}" "$KVER" || { warn "depmod -b failed for $KVER"; return 1; }
		touch "$dir/.unpacked"
	fi
	MODDIR=$(find_moddir) || return 1
	[ -e "$TREE/boot/vmlinuz-$KVER" ] || { warn "no boot/vmlinuz-$KVER in $PKG"; return 1; }
	[ -e "$TREE/boot/config-$KVER" ] || { warn "no boot/config-$KVER in $PKG"; return 1; }
	return 0
}

find_moddir() {
	local d
	for d in "$TREE/lib/modules/$KVER" "$TREE/usr/lib/modules/$KVER"; do
		[ -d "$d/kernel" ] && { echo "$d"; return 0; }
	done
	return 1
}

# ---- initramfs ----

# Modules the initramfs loads before mounting the root (and their
# dependencies, in order, as modprobe resolves them).
INITRD_MODS="virtio_pci virtio_rng 9pnet_virtio 9p overlay"

# build_initrd DIR VARIANT RUNOUT: DIR/initrd.gz for one boot.
build_initrd() {
	local dir=$1 variant=$2 runout=$3 ird=$1/initramfs m line f base n=0
	rm -rf "$ird"
	mkdir -p "$ird"/{bin,sbin,dev,proc,sys,mods,newroot} || return 1
	cp "$BUSYBOX" "$ird/bin/busybox" || return 1
	cp "$here/guest-init" "$ird/init" && chmod 755 "$ird/init" || return 1
	# The kernel's module helper runs /sbin/modprobe in the initramfs: hand
	# it to the host root's modprobe (with the kernel's bind-mounted modules).
	printf '#!/bin/busybox sh\nexec /bin/busybox chroot /newroot /sbin/modprobe "$@"\n' >"$ird/sbin/modprobe"
	chmod 755 "$ird/sbin/modprobe"
	: >"$ird/mods/order"
	local base_dir=${MODDIR%/lib/modules/$KVER}
	for m in $INITRD_MODS; do
		while read -r line; do
			case "$line" in
			insmod\ *) ;;
			*) continue ;;
			esac
			f=${line#insmod }
			f=${f%% *}
			base=$(basename "$f")
			base=${base%.xz}; base=${base%.zst}; base=${base%.gz}
			grep -qx "$base" "$ird/mods/order" && continue
			case "$f" in
			*.xz) xz -dc "$f" >"$ird/mods/$base" ;;
			*.zst) zstd -qdc "$f" >"$ird/mods/$base" ;;
			*.gz) gzip -dc "$f" >"$ird/mods/$base" ;;
			*) cp "$f" "$ird/mods/$base" ;;
			esac || { warn "cannot unpack module $f"; return 1; }
			echo "$base" >>"$ird/mods/order"
			n=$((n + 1))
		done < <(modprobe -d "$base_dir" -S "$KVER" --show-depends "$m" 2>/dev/null)
	done
	{
		printf 'FWVM_KVER=%q\n' "$KVER"
		printf 'FWVM_MODDIR=%q\n' "$MODDIR"
		printf 'FWVM_BOOTDIR=%q\n' "$TREE/boot"
		printf 'FWVM_VARIANT=%q\n' "$variant"
		printf 'FWVM_REPO=%q\n' "$root"
	} >"$ird/fwvm.env"
	{
		printf 'FWVM_VARIANT=%q\n' "$variant"
		printf 'FWVM_TESTS=%q\n' "${runs[*]}"
		printf 'FWVM_BINS=%q\n' "${bins[*]}"
		printf 'FW_ROOT=%q\n' "$root"
		printf 'FW_BUILD=%q\n' "$FW_BUILD"
		printf 'FINWATCH=%q\n' "$FINWATCH"
		printf 'FW_REQUIRE_E2E=%q\n' "${FW_REQUIRE_E2E:-0}"
		printf 'VM_TEST_TIMEOUT=%q\n' "$VM_TEST_TIMEOUT"
	} >"$runout/job.env"
	( cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1 ) >"$dir/initrd.gz" || return 1
	return 0
}

# ---- one VM run ----

# boot LABEL VARIANT ACCEL: boots $KVER, waits for it (deadline), collects.
# Returns 0 when the guest finished (whatever the tests said), 1 when it did
# not boot or finish, 2 when it did not boot with this accelerator at all.
boot() {
	local label=$1 variant=$2 accel=$3 dir runout log rc start
	dir=$OUT/$label
	runout=$dir/out
	log=$dir/serial.log
	rm -rf "$dir"
	mkdir -p "$runout" || return 1
	build_initrd "$dir" "$variant" "$runout" || { warn "$label: cannot build the initramfs"; return 1; }
	# shellcheck disable=SC2046 # accel_args is a word list
	local cmd=("$QEMU" $(accel_args "$accel") -m "$VM_MEM" -smp "$VM_SMP"
		-nographic -monitor none -serial "file:$log" -no-reboot -nodefaults -nic none
		-kernel "$TREE/boot/vmlinuz-$KVER" -initrd "$dir/initrd.gz"
		-append "console=ttyS0 panic=-1 quiet rdinit=/init"
		-virtfs "local,path=/,mount_tag=fwroot,security_model=none,readonly=on,multidevs=remap"
		-virtfs "local,path=$runout,mount_tag=fwout,security_model=none"
		-device virtio-rng-pci -pidfile "$dir/qemu.pid")
	printf '%q ' "${cmd[@]}" >"$dir/qemu.cmd"
	start=$(date +%s)
	# The deadline: timeout kills qemu (TERM, then KILL 10 s later).
	if [ "$accel" = kvm ]; then
		# A KVM that cannot run this guest (e.g. a nested or PVM host) shows
		# no init line: within 20 s the guest is retried under TCG.
		( timeout -k 10 "$VM_TIMEOUT" "${cmd[@]}" </dev/null >"$dir/qemu.out" 2>&1; exit $? ) 2>>"$dir/qemu.out" &
		QEMU_PID=$! QEMU_PIDFILE=$dir/qemu.pid
		local t=0
		until grep -q 'fwvm-init: ' "$log" 2>/dev/null; do
			kill -0 "$QEMU_PID" 2>/dev/null || break
			t=$((t + 1))
			[ "$t" -lt 200 ] || break
			sleep 0.1 # polls the serial log, 20 s deadline above
		done
		if ! grep -q 'fwvm-init: ' "$log" 2>/dev/null; then
			kill "$QEMU_PID" 2>/dev/null
			wait "$QEMU_PID"
			QEMU_PID=
			mkdir -p "$OUT/kvm-failed"
			cp "$log" "$dir/qemu.out" "$OUT/kvm-failed/" 2>/dev/null
			return 2
		fi
		wait "$QEMU_PID"
		rc=$?
	else
		( timeout -k 10 "$VM_TIMEOUT" "${cmd[@]}" </dev/null >"$dir/qemu.out" 2>&1; exit $? ) 2>>"$dir/qemu.out" &
		QEMU_PID=$! QEMU_PIDFILE=$dir/qemu.pid
		wait "$QEMU_PID"
		rc=$?
	fi
	QEMU_PID=
	VM_SECS=$(( $(date +%s) - start ))
	VM_RC=$rc
	[ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || warn "$label: VM deadline (${VM_TIMEOUT}s) exceeded: qemu killed"
	[ -e "$runout/done" ]
}

# Interrupted: stop the running VM too (timeout runs qemu in its own
# process group, so it is killed by its pid file).
QEMU_PID= QEMU_PIDFILE=
stop_vm() {
	[ -z "$QEMU_PIDFILE" ] || [ ! -s "$QEMU_PIDFILE" ] || kill "$(cat "$QEMU_PIDFILE")" 2>/dev/null
	[ -z "$QEMU_PID" ] || kill "$QEMU_PID" 2>/dev/null
}
trap 'stop_vm; exit 130' INT
trap 'stop_vm; exit 143' TERM

# run_host: the same tests directly on this machine.
run_host() {
	local dir=$OUT/host t rc secs note
	rm -rf "$dir"
	mkdir -p "$dir/out"
	say "host: kernel $(uname -r), tests run directly on this machine"
	FWVM_MODE=host FWVM_OUT=$dir/out FWVM_TESTS="${runs[*]}" FWVM_BINS="${bins[*]}" FW_ROOT=$root FW_BUILD=$FW_BUILD \
		FINWATCH=$FINWATCH VM_TEST_TIMEOUT=$VM_TEST_TIMEOUT bash "$here/guest.sh" >"$dir/guest.out" 2>&1
	collect host direct "$dir/out"
	explain host/direct "$dir/out"
}

# explain LABEL RUNOUT: after a failure, the loader's own account of it
# (finwatch -v, run once by guest.sh), its libbpf and verifier lines.
explain() {
	[ -s "$2/finwatch-v.log" ] || return 0
	say "$1: finwatch -v says ($2/finwatch-v.log):"
	# A verifier rejection: the source line of the refused instruction too.
	awk '/^; / { src = $0; next }
		/R[0-9]+ type=|invalid|expected=/ && src != "" { print src; src = "" }
		/^== |libbpf: .*(fail|error|Error)|R[0-9]+ type=|Kconfig|^finwatch:|^exit / { print }' \
		"$2/finwatch-v.log" | head -n 14 | cut -c1-240 | sed 's/^/    /'
}

# collect KERNEL VARIANT RUNOUT: a result line per test (missing ones fail).
collect() {
	local k=$1 v=$2 runout=$3 t rc secs note line
	declare -A got=()
	if [ -f "$runout/results.tsv" ]; then
		while IFS=$'\t' read -r t rc secs; do
			[ -n "$t" ] || continue
			note=
			[ "$rc" = 0 ] || note=$(first_error "$runout/$t.log")
			record "$k" "$v" "$t" "$rc" "$secs" "$note"
			[ "$rc" = 0 ] || [ "$rc" = 77 ] || sed "s|^|  $k/$v/$t: |" "$runout/$t.log" 2>/dev/null | tail -n 25 >&2
			got[$t]=1
		done <"$runout/results.tsv"
	fi
	for t in "${runs[@]}"; do
		[ -n "${got[$t]:-}" ] || record "$k" "$v" "$t" 1 0 "no result: ${why_missing:-the guest did not run it}"
	done
}

accel=$VM_ACCEL
kvm_key="$(uname -r) $("$QEMU" --version 2>/dev/null | head -n1)"
vm_ok=1
vm_why=
for k in "${kernels[@]}"; do
	if [ "$k" = host ]; then
		run_host
		continue
	fi
	if [ "$vm_ok" = 1 ] && [ -z "${BUSYBOX:-}" ]; then
		need_vm_tools || vm_ok=0
	fi
	if [ "$vm_ok" = 0 ]; then
		warn "$k: cannot run VMs: $vm_why"
		for v in $VM_VARIANTS; do record "$k" "$v" all 77 0 "no VM: $vm_why"; done
		continue
	fi
	if ! resolve "$k"; then
		warn "$k: apt knows no generic -amd64 kernel image for '$k' (apt-cache pkgnames linux-image-)"
		for v in $VM_VARIANTS; do record "$k" "$v" all 77 0 "no Debian kernel package for $k"; done
		continue
	fi
	if ! fetch; then
		for v in $VM_VARIANTS; do record "$k" "$v" all 77 0 "kernel package $PKG unavailable"; done
		continue
	fi
	say "$k: kernel $KVER from $PKG $PKGVER (cache $CACHE/$KVER)"
	for v in $VM_VARIANTS; do
		label=$k-$v
		if [ "$accel" = auto ]; then
			if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then try=kvm; else try=tcg; fi
			# A KVM found unable to boot a guest on this host kernel with
			# this qemu is not tried again (VM_ACCEL=kvm forces it).
			if [ "$try" = kvm ] && [ "$(cat "$CACHE/kvm-unusable" 2>/dev/null)" = "$kvm_key" ]; then
				try=tcg
				say "KVM: not tried, it could not boot a guest here before ($CACHE/kvm-unusable)"
			fi
		else
			try=$accel
		fi
		boot "$label" "$v" "$try"
		brc=$?
		if [ "$brc" = 2 ]; then
			say "/dev/kvm did not boot $KVER within 20 s ($(grep -m1 -E 'error|Assertion' "$OUT/kvm-failed/qemu.out" 2>/dev/null || echo "no init line; see $OUT/kvm-failed/")): using TCG"
			[ "$accel" != auto ] || accel=tcg
			echo "$kvm_key" >"$CACHE/kvm-unusable"
			try=tcg
			boot "$label" "$v" "$try"
			brc=$?
		elif [ "$accel" = auto ]; then
			accel=$try
		fi
		runout=$OUT/$label/out
		uname_r=$(cat "$runout/uname" 2>/dev/null || echo '?')
		boot_s=$(cat "$runout/boot_uptime" 2>/dev/null || echo '?')
		say "$k/$v: accel $try, guest uname -r $uname_r, booted to tests in ${boot_s}s (guest uptime), VM ran ${VM_SECS}s, qemu exit ${VM_RC}"
		why_missing=
		if [ "$brc" != 0 ]; then
			if [ "$VM_RC" = 124 ] || [ "$VM_RC" = 137 ]; then
				why_missing="VM deadline ${VM_TIMEOUT}s exceeded"
			else
				why_missing="the VM stopped before the test (qemu exit $VM_RC; $OUT/$label/serial.log)"
			fi
			warn "$k/$v: serial console (last 30 lines of $OUT/$label/serial.log):"
			tail -n 30 "$OUT/$label/serial.log" 2>/dev/null | sed 's/^/  | /' >&2
			tail -n 5 "$OUT/$label/qemu.out" 2>/dev/null | sed 's/^/  qemu: /' >&2
		fi
		if [ -f "$runout/check.tsv" ]; then
			while IFS=$'\t' read -r t rc note; do
				record "$k" "$v" "$t" "$rc" 0 "$note"
			done <"$runout/check.tsv"
		fi
		collect "$k" "$v" "$runout"
		explain "$k/$v" "$runout"
	done
done

say "$(( $(date +%s) - matrix_start ))s; total: $passed passed, $failed failed, $skipped skipped (results: $RESULTS)"
if [ "$failed" -gt 0 ]; then exit 1; fi
if [ "$passed" -eq 0 ] && [ "$skipped" -gt 0 ]; then exit 77; fi
exit 0
