#!/usr/bin/env bash
# Runs the kernel matrix's tests on one kernel: inside a guest (started by
# tests/vm/guest-init, FWVM_MODE=vm) or directly on the host (matrix.sh's
# "host" entry, FWVM_MODE=host).
# FWVM_OUT: where results go (in a guest: the writable 9p share, which
# holds job.env from matrix.sh: FWVM_VARIANT FWVM_TESTS FWVM_BINS FW_ROOT
# FW_BUILD FINWATCH FW_REQUIRE_E2E VM_TEST_TIMEOUT).
# FWVM_TESTS: TEST (run with FINWATCH) or TEST@LABEL (with the binary
# FWVM_BINS gives as LABEL=PATH).
# Writes to FWVM_OUT: uname, boot_uptime, check.tsv (TEST RC NOTE rows of the
# guest's own checks), results.tsv (TEST RC SECONDS rows), TEST.log, done.
set -u
mode=${FWVM_MODE:-host}
out=${FWVM_OUT:?FWVM_OUT not set}
# shellcheck disable=SC1091
[ ! -f "$out/job.env" ] || . "$out/job.env"
: "${FW_ROOT:?}" "${FWVM_TESTS:?}"
export FW_ROOT FW_BUILD FINWATCH FW_REQUIRE_E2E
VM_TEST_TIMEOUT=${VM_TEST_TIMEOUT:-900}
cd "$FW_ROOT" || exit 1

console() { if [ "$mode" = vm ]; then echo "fwvm: $*"; fi; }
uname -r >"$out/uname"
cut -d' ' -f1 /proc/uptime >"$out/boot_uptime"
: >"$out/results.tsv"
: >"$out/check.tsv"
console "kernel $(uname -r), variant ${FWVM_VARIANT:-?}, booted in $(cat "$out/boot_uptime")s, finwatch $FINWATCH"

if [ "$mode" = vm ]; then
	kv=$(uname -r)
	# The variant is what it claims: "noconfig" must offer libbpf no kernel
	# config at all, "config" the package's.
	case "${FWVM_VARIANT:-}" in
	noconfig)
		if [ -e "/boot/config-$kv" ] || [ -e /proc/config.gz ]; then
			printf 'vm_noconfig_check\t1\t%s\n' "a kernel config is visible: $(ls /boot/config-"$kv" /proc/config.gz 2>/dev/null | tr '\n' ' ')" >>"$out/check.tsv"
		else
			printf 'vm_noconfig_check\t0\t\n' >>"$out/check.tsv"
		fi ;;
	config)
		if [ -r "/boot/config-$kv" ]; then
			printf 'vm_config_check\t0\t\n' >>"$out/check.tsv"
		else
			printf 'vm_config_check\t1\t%s\n' "no /boot/config-$kv" >>"$out/check.tsv"
		fi ;;
	esac
	# What the tests use that Debian builds as modules; the kernel's own
	# module requests also work (guest-init), this only makes them early.
	for m in veth ipv6 inet_diag tcp_diag udp_diag raw_diag netlink_diag; do
		modprobe -q "$m" 2>/dev/null || true
	done
	console "modules: $(cut -d' ' -f1 /proc/modules | sort | tr '\n' ' ')"
	[ -e /sys/kernel/btf/vmlinux ] || console "no /sys/kernel/btf/vmlinux"
fi

# shellcheck source=scripts/lib-wait.sh
. "$FW_ROOT/scripts/lib-wait.sh"   # now_ms
declare -A bin=()
for b in ${FWVM_BINS:-}; do [ -z "${b%%=*}" ] || bin[${b%%=*}]=${b#*=}; done
failed_bins=()
for t in $FWVM_TESTS; do
	fw=$FINWATCH
	if [[ "$t" == *@* ]]; then
		fw=${bin[${t#*@}]:-}
		if [ -z "$fw" ]; then
			echo "guest.sh: no binary labelled ${t#*@} in FWVM_BINS" >"$out/$t.log"
			printf '%s\t2\t0\n' "$t" >>"$out/results.tsv"
			continue
		fi
	fi
	console "$t: start"
	start=$(now_ms)
	FINWATCH=$fw timeout -k 10 "$VM_TEST_TIMEOUT" bash "tests/e2e/${t%@*}.sh" >"$out/$t.log" 2>&1 </dev/null
	rc=$?
	[ "$rc" -ne 124 ] || echo "ERROR: $t did not finish within $VM_TEST_TIMEOUT s" >>"$out/$t.log"
	ms=$(( $(now_ms) - start ))
	secs=$(( (ms + 500) / 1000 ))
	printf '%s\t%s\t%s\n' "$t" "$rc" "$secs" >>"$out/results.tsv"
	if [ "$rc" != 0 ] && [ "$rc" != 77 ] && [[ " ${failed_bins[*]} " != *" $fw "* ]]; then failed_bins+=("$fw"); fi
	sync
	console "$t: exit $rc in ${ms} ms"
done
# A failure is explained once with finwatch's own verbose load (libbpf and
# verifier messages), kept as finwatch-v.log beside the tests' logs.
for fw in "${failed_bins[@]}"; do
	console "a test failed: $fw -v --duration 2s for the loader's messages"
	{
		echo "== $fw -v --duration 2s"
		timeout -k 5 120 "$fw" -v --duration 2s --interval 1s 2>&1 </dev/null
		echo "exit $?"
	} >>"$out/finwatch-v.log"
done
echo ok >"$out/done"
sync
