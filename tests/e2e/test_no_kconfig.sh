#!/usr/bin/env bash
# finwatch runs where the kernel's config cannot be read (a pod on a Debian
# node: no /boot mounted, no /proc/config.gz): it must not depend on
# CONFIG_* values. The config is hidden in a private mount namespace: an
# empty /boot, and /proc/config.gz (when present) covered by a socket inode,
# which open() refuses (ENXIO) as libbpf would find it missing. Ages of held
# sockets found at startup come from kernel jiffies, so they also check the
# HZ finwatch derives without the config.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
skip_unless_root python3 unshare
lab_up

sock="$TEST_TMP/noconfig.sock"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$sock"
hide="$TEST_TMP/hide-kconfig.sh"
cat >"$hide" <<HIDE
#!/bin/sh
set -e
mount -t tmpfs none /boot
if [ -e /proc/config.gz ]; then mount --bind "$sock" /proc/config.gz; fi
if [ -r "/boot/config-\$(uname -r)" ] || head -c1 /proc/config.gz >/dev/null 2>&1; then
	echo "kernel config still readable" >&2; exit 99
fi
exec "\$@"
HIDE
chmod +x "$hide"
noconfig() { unshare -m --propagation private "$hide" "$@"; }

rc=0
noconfig "$FINWATCH" doctor --json >"$TEST_TMP/doctor.out" 2>"$TEST_TMP/doctor.err" || rc=$?
[ "$rc" = 0 ] || fail "doctor without a kernel config exited $rc: $(head -c 400 "$TEST_TMP/doctor.err")"
[ "$("$FWCHECK" count "$TEST_TMP/doctor.out" kernel)" = 1 ] || fail "doctor --json printed no kernel record"
for f in btf tp_btf ringbuf socket_cookie iter_tcp iter_task_file; do
	v=$(python3 -c 'import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["type"] == "kernel": print(json.dumps(r["features"][sys.argv[2]]["supported"]))' \
		"$TEST_TMP/doctor.out" "$f")
	[ "$v" = true ] || fail "doctor says $f is $v on this kernel"
done
pass "doctor runs without a kernel config and reports every feature supported"

spawn_server hold "$LAB_P1" "$LAB_P1_V4:5451" hold
before=$(date +%s%N)   # the sockets are younger than this ...
spawn early "$LAB_HOST" "$FWPEER" client --connect "$LAB_P1_V4:5451" --count 3 --how shutdown \
	--hold-sec -1 --comm oldapp
wait_ready early
wait_for 5 ss_expect "$LAB_HOST" fin-wait-2 3 "$LAB_P1_V4" || fail "setup: no held sockets"
created=$(date +%s%N)  # ... and older than this (ss takes seconds on a slow VM)
aged() { [ $(( $(date +%s%N) - created )) -ge 3000000000 ]; }
wait_for 5 aged

spawn fw - unshare -m --propagation private "$hide" "$FINWATCH" --json --interval 500ms \
	--max-age 0 --max-per-peer 0 --max-total 0
OUT_FW=$(spawn_out fw)
wait_for 10 grep -q '"type":"summary"' "$OUT_FW" || fail "no summary without a kernel config: $(head -c 400 "$TEST_TMP/fw.err")"
peer() { "$FWCHECK" peer "$OUT_FW" "$1" "$2" "$LAB_HOST_NSINO"; }
[ "$(peer "$LAB_P1_V4" held)" = 3 ] || fail "held $(peer "$LAB_P1_V4" held), want 3"
age=$(peer "$LAB_P1_V4" oldest_age_s)
now=$(date +%s%N)
elapsed=$(( (now - created) / 1000000 )) most=$(( (now - before) / 1000000 ))
# A wrong HZ scales the age (250 taken for 1000 would show a quarter).
python3 -c 'import sys; a, e, m = float(sys.argv[1]), int(sys.argv[2]) / 1000, int(sys.argv[3]) / 1000
sys.exit(0 if e - 1.5 <= a <= m + 0.5 else 1)' "$age" "$elapsed" "$most" ||
	fail "oldest age ${age}s, but the sockets are ${elapsed}-${most}ms old"
spawn_stop fw INT || fail "finwatch did not exit 0"
pass "watch without a kernel config: 3 held sockets found, oldest ${age}s (${elapsed}-${most}ms old)"
