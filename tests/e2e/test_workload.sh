#!/usr/bin/env bash
# Which pod holds the stuck sockets. Real cgroups named the way kubelet
# names them (systemd driver with containerd, cgroupfs driver with CRI-O)
# hold real processes; a fake /var/log/pods tree names the pods. finwatch
# reports the container id, pod UID, pod name and namespace in alerts (and
# their advice), summaries grouped by pod, exits and metrics labels, and
# keeps a process outside any pod apart.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
skip_unless_root python3
cgroup2_mount >/dev/null || fail "no cgroup v2 hierarchy mounted (finwatch needs one to name workloads)"
lab_up
OUT="$TEST_TMP/fw.out"
METRICS="$TEST_TMP/fw.prom"
# Unique per run: parallel runs never share a cgroup.
U1=$(printf '%08x-3c4d-4e5f-8a9b-0c1d2e3f4a5b' $$)
U2=$(printf '%08x-1111-4222-8333-444455556666' $$)
C1=$(printf '%08x%056x' $$ 1)
C2=$(printf '%08x%056x' $$ 2)
CG1=/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${U1//-/_}.slice/cri-containerd-$C1.scope
CG2=/kubepods/besteffort/pod$U2/crio-$C2
make_cgroup "$CG1"
make_cgroup "$CG2"
mkdir -p "$TEST_TMP/pods/shop_frontend-7f9c-x2x4q_$U1/frontend" "$TEST_TMP/pods/batch_report-27_$U2/report"

spawn_server hold "$LAB_P1" "$LAB_P1_V4:5801" hold
spawn_server hold2 "$LAB_P1" "$LAB_P1_V4:5802" hold
spawn fw - "$FINWATCH" --json --interval 500ms --max-per-peer 2 --max-age 0 --max-total 0 \
	--group-by addr,pod --pods-dir "$TEST_TMP/pods" --metrics-file "$METRICS" \
	--metrics-labels pod,namespace,container
wait_for 10 grep -q '"type":"start"' "$OUT" || fail "finwatch did not start"
spawn_in_cgroup front "$CG1" "$LAB_HOST" "$FWPEER" client --connect "$LAB_P1_V4:5801" --count 3 \
	--how shutdown --hold-sec -1 --comm frontend
wait_ready front
spawn_in_cgroup report "$CG2" "$LAB_HOST" "$FWPEER" client --connect "$LAB_P1_V4:5802" --count 1 \
	--how shutdown --hold-sec -1 --comm report
wait_ready report
spawn bare "$LAB_HOST" "$FWPEER" client --connect "$LAB_P1_V4:5801" --count 2 --how shutdown --hold-sec -1
wait_ready bare
wait_for 5 ss_expect "$LAB_HOST" fin-wait-2 6 "$LAB_P1_V4" || fail "setup: $(ss_count "$LAB_HOST" fin-wait-2) stuck"

get() { "$FWCHECK" get "$OUT" "$@"; }
firing() { get alert count rule=max_per_peer state=firing >/dev/null; }
wait_for 5 firing || fail "no max_per_peer alert for the frontend pod"
want() {   # want WHAT GOT EXPECTED
	[ "$2" = "$3" ] || fail "$1: $2, want $3"
}
want "alert workload pod" "$(get alert workloads.0.workload.pod rule=max_per_peer state=firing)" '"frontend-7f9c-x2x4q"'
want "alert pod namespace" "$(get alert workloads.0.workload.pod_namespace rule=max_per_peer state=firing)" '"shop"'
want "alert pod UID" "$(get alert workloads.0.workload.pod_uid rule=max_per_peer state=firing)" "\"$U1\""
want "alert container" "$(get alert workloads.0.workload.container_id rule=max_per_peer state=firing)" "\"$C1\""
want "alert runtime" "$(get alert workloads.0.workload.runtime rule=max_per_peer state=firing)" '"containerd"'
want "alert sockets" "$(get alert workloads.0.sockets rule=max_per_peer state=firing)" 3
get alert advice rule=max_per_peer state=firing | grep -q 'in shop/frontend-7f9c-x2x4q holds 3' ||
	fail "advice does not name the pod: $(get alert advice rule=max_per_peer state=firing)"
pass "alert names the container, the pod UID, name and namespace (systemd driver, containerd)"

# Grouped by pod: three groups for one peer address, counts equal to ss.
summary_groups() {
	python3 - "$OUT" "$LAB_P1_V4" <<'PY'
import json, sys
last = None
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["type"] == "summary":
        last = r
groups = {}
for p in last["peers"] if last else []:
    if p["peer"] == sys.argv[2]:
        w = p.get("workload") or {}
        groups["%s/%s" % (w.get("pod_namespace"), w.get("pod"))] = p["count"]
print(" ".join("%s=%d" % kv for kv in sorted(groups.items())))
PY
}
grouped() { [ "$(summary_groups)" = "None/None=2 batch/report-27=1 shop/frontend-7f9c-x2x4q=3" ]; }
wait_for 5 grouped || fail "groups by pod: '$(summary_groups)'"
pass "summary grouped by pod: $(summary_groups) (= ss: $(ss_count "$LAB_HOST" fin-wait-2 "$LAB_P1_V4"))"
want "cgroupfs driver runtime" "$(get summary peers.0.workload.runtime)" null   # a pod group has no runtime
has_metric() { grep -q "finwatch_fin_wait2_sockets{peer=\"$LAB_P1_V4\",netns=\"$LAB_HOST_NSINO\",pod=\"frontend-7f9c-x2x4q\",namespace=\"shop\",container=\"\",kind=\"held\"} 3" "$METRICS"; }
wait_for 5 has_metric || fail "metrics labels: $(grep 'finwatch_fin_wait2_sockets{' "$METRICS" | head -5)"
# The file is rewritten every --interval: wait for the one with every pod.
wait_for 5 grep -q "pod=\"report-27\",namespace=\"batch\"" "$METRICS" ||
	fail "no series for the report pod: $(grep 'finwatch_fin_wait2_sockets{' "$METRICS")"
pass "--metrics-labels: per-peer series carry pod and namespace"

# Exits name the workload of the socket itself (its container): the report
# pod's peer finally closes.
spawn_stop hold2 || true
exit_seen() { get fw2_exit workload.container_id >/dev/null; }
wait_for 5 exit_seen || fail "no fw2_exit"
want "exit container" "$(get fw2_exit workload.container_id)" "\"$C2\""
want "exit runtime" "$(get fw2_exit workload.runtime)" '"cri-o"'
want "exit pod" "$(get fw2_exit workload.pod)" '"report-27"'
pass "fw2_exit names its container (cgroupfs driver, CRI-O) and pod"
spawn_stop fw INT || fail "finwatch did not exit 0"
"$FWCHECK" valid "$OUT" || fail "invalid JSON"
