#!/usr/bin/env bash
# The container image: `make image` builds Containerfile (FROM scratch + the
# static binary) offline with podman into a private vfs store; the image has
# the OCI labels, the binary and ncurses-base's terminfo (for top). `podman run` does not work on these
# machines (hybrid cgroups, no CAP_SYS_RESOURCE for its rlimits), so this test
# does the nearest real thing to `podman run`: it exports the image's root
# file system (podman create + podman export) and runs the image's entrypoint
# with tests/e2e/image_run.py, in a new mount and PID namespace, chrooted into
# that root (read-only) with /proc, /sys and a minimal /dev, and exactly the
# host mounts, capabilities (bounding set, no_new_privs) and host namespaces
# listed in deploy/runtime-needs: the list deploy/check.sh holds the DaemonSet
# to. There: doctor succeeds with a private PID namespace (a fresh procfs, as
# unshare --mount-proc); the seed case (test_watch_seed.sh in the netns lab,
# finwatch in the host network namespace) gives per-peer counts equal to ss;
# the DaemonSet's args serve /metrics (the probes' and the scrape's path) and
# SIGTERM (the kubelet's stop) ends it with status 0; test_top.sh passes with
# the image's binary and terminfo (kubectl exec -it ... top); without the
# capabilities it does not start (the runner really restricts them).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
skip_unless_root podman tar python3 make tmux
NEEDS=$FW_ROOT/deploy/runtime-needs
RUN=(python3 "$E2E_DIR/image_run.py")
HTTP=(python3 "$E2E_DIR/http_client.py")
PODMAN=(podman --storage-driver vfs --root "$TEST_TMP/storage" --runroot "$TEST_TMP/runroot")
IMAGE=localhost/finwatch-e2e
STATIC_BIN=$FW_ROOT/build/static/finwatch

# ---- build ----
t0=${EPOCHREALTIME/[.,]/}
make -C "$FW_ROOT" --no-print-directory image IMAGE="$IMAGE" IMAGE_TAG=test \
	PODMAN_FLAGS="--storage-driver vfs --root $TEST_TMP/storage --runroot $TEST_TMP/runroot" \
	>"$TEST_TMP/build.log" 2>&1 || fail "make image: $(tail -n 20 "$TEST_TMP/build.log")"
build_ms=$(( (${EPOCHREALTIME/[.,]/} - t0) / 1000 ))
size=$("${PODMAN[@]}" image inspect --format '{{.Size}}' "$IMAGE:test") || fail "no image $IMAGE:test"
pass "make image: $IMAGE:test, $size bytes ($((size / 1024)) KiB), built in ${build_ms} ms"

label() { "${PODMAN[@]}" image inspect --format "{{index .Labels \"org.opencontainers.image.$1\"}}" "$IMAGE:test"; }
version=$("$STATIC_BIN" --version)
[ "finwatch $(label version)" = "$version" ] || fail "label version '$(label version)', binary says '$version'"
for l in source licenses revision; do
	[ -n "$(label "$l")" ] && [ "$(label "$l")" != "<no value>" ] || fail "no org.opencontainers.image.$l label"
done
entry=$("${PODMAN[@]}" image inspect --format '{{json .Config.Entrypoint}}' "$IMAGE:test")
[ "$entry" = '["/finwatch"]' ] || fail "entrypoint $entry"
pass "labels: version $(label version), source $(label source), licenses '$(label licenses)'; entrypoint $entry"

# ---- the root file system, as the runtime would see it ----
ROOTFS=$TEST_TMP/rootfs
mkdir "$ROOTFS"
cid=$("${PODMAN[@]}" create "$IMAGE:test") || fail "podman create"
"${PODMAN[@]}" export "$cid" | tar -x -C "$ROOTFS" || fail "podman export | tar"
"${PODMAN[@]}" rm "$cid" >/dev/null || fail "podman rm"
files=$(cd "$ROOTFS" && find . -mindepth 1 -not -path './lib/terminfo/*' | LC_ALL=C sort | tr '\n' ' ')
[ "$files" = "./finwatch ./lib ./lib/terminfo " ] || fail "image root holds more than the binary and terminfo: $files"
cmp -s "$ROOTFS/finwatch" "$STATIC_BIN" || fail "the image's /finwatch is not build/static/finwatch"
diff -r /lib/terminfo "$ROOTFS/lib/terminfo" >/dev/null || fail "the image's /lib/terminfo is not ncurses-base's"
pass "image root file system: /finwatch (= build/static/finwatch) and /lib/terminfo ($(find "$ROOTFS/lib/terminfo" -type f | wc -l) terminal types)"

# ---- doctor: new mount + PID namespace, fresh procfs ----
"${RUN[@]}" --pid private "$ROOTFS" /finwatch doctor >"$TEST_TMP/doctor.out" 2>"$TEST_TMP/doctor.err" ||
	fail "doctor in the image: $(cat "$TEST_TMP/doctor.err") $(tail -n 5 "$TEST_TMP/doctor.out")"
grep -q '^netns .*(/proc/self/ns/net)' "$TEST_TMP/doctor.out" || fail "doctor in the image: no netns report"
grep -q '^  btf  *yes' "$TEST_TMP/doctor.out" || fail "doctor in the image: no BTF through /sys/kernel/btf"
pass "doctor in the image (chroot, new mount+PID namespace, private procfs): ok"

# Without the capabilities it must not start: the runner really cuts them.
printf 'host-pid yes\n' >"$TEST_TMP/no-caps"
rc=0
"${RUN[@]}" --needs "$TEST_TMP/no-caps" "$ROOTFS" /finwatch --duration 1s >/dev/null 2>"$TEST_TMP/nocaps.err" || rc=$?
[ "$rc" = 1 ] || fail "finwatch without capabilities: exit $rc, want 1: $(cat "$TEST_TMP/nocaps.err")"
pass "without runtime-needs' capabilities finwatch refuses to start (exit 1)"

# ---- e2e tests with finwatch from the image ----
# image_test NAME TEST [image_run.py options]: TEST (tests/e2e) with FINWATCH
# the image's /finwatch run by image_run.py; its log is $TEST_TMP/NAME.log.
image_test() {
	local name=$1 t=$2 wrap=$TEST_TMP/finwatch-image-$1 rc=0
	shift 2
	printf '#!/bin/sh\nexec python3 %q %s %q /finwatch "$@"\n' "$E2E_DIR/image_run.py" "$*" "$ROOTFS" >"$wrap"
	chmod +x "$wrap"
	FINWATCH=$wrap TEST_NAME=image-$t bash "$E2E_DIR/$t.sh" >"$TEST_TMP/$name.log" 2>&1 || rc=$?
	[ "$rc" = 0 ] || { tail -n 30 "$TEST_TMP/$name.log" >&2; fail "$t.sh with the image: exit $rc"; }
}

image_test seed test_watch_seed
pass "seed case from the image (hostPID view, runtime-needs mounts and caps): $(sed -n 's/^PASS: [^:]*: stuck peer: //p' "$TEST_TMP/seed.log")"

# finwatch top in tmux (kubectl exec -it): the terminal is found in the
# image's own terminfo, not the host's. --quiet: top's test counts stderr lines.
image_test top test_top --quiet
pass "finwatch top from the image: $(grep -c '^PASS' "$TEST_TMP/top.log") checks of test_top pass"

# ---- the DaemonSet's args: metrics for the probes and the scrape ----
read -r -a ARGS < <(sed -n 's/^args //p' "$NEEDS")
PORT=$(sed -n 's/^port //p' "$NEEDS")
for ((try = 0; try < 50; try++)); do
	p=$((19000 + RANDOM % 1000))
	[ -n "$(ss -Htln "sport = :$p")" ] || break
done
ARGS=("${ARGS[@]/#0.0.0.0:$PORT/127.0.0.1:$p}")
spawn pod - "${RUN[@]}" "$ROOTFS" /finwatch "${ARGS[@]}"
wait_start pod "$(spawn_out pod)"
metrics_ok() { "${HTTP[@]}" get "http://127.0.0.1:$p/metrics" 2 | grep -q '^finwatch_build_info{'; }
wait_for 10 metrics_ok || fail "GET /metrics from the image (args ${ARGS[*]}) failed"
fwpid=$(cat "/proc/$(spawn_pid pod)/task/$(spawn_pid pod)/children")
fwpid=${fwpid%% *}
[ "$(readlink "/proc/$fwpid/exe")" = "$ROOTFS/finwatch" ] && [ "$(readlink "/proc/$fwpid/root")" = "$ROOTFS" ] ||
	fail "pid $fwpid is not the image's /finwatch chrooted in $ROOTFS"
mask=$((16#$("${RUN[@]}" --cap-mask "${ARGS[@]}")))
bnd=$((16#$(awk '/^CapBnd:/ {print $2}' "/proc/$fwpid/status")))
eff=$((16#$(awk '/^CapEff:/ {print $2}' "/proc/$fwpid/status")))
[ $((bnd & ~mask)) = 0 ] && [ $((eff & ~mask)) = 0 ] || fail "capabilities beyond runtime-needs: bnd $bnd eff $eff mask $mask"
grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$fwpid/status" || fail "no_new_privs not set"
rc=0
spawn_stop pod TERM || rc=$?
[ "$rc" = 0 ] || fail "SIGTERM: exit $rc, want 0"
grep -q '"type":"summary".*"final":true' "$(spawn_out pod)" || fail "no final summary after SIGTERM"
pass "runtime-needs args (${ARGS[*]}): /metrics served, capabilities within runtime-needs, no_new_privs; SIGTERM -> final summary, exit 0"
