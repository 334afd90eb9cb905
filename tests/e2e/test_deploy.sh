#!/usr/bin/env bash
# deploy/ validates: systemd unit (systemd-analyze verify), logrotate config,
# Kubernetes and Prometheus YAML (yamllint), alerting rules (promtool check
# and unit-test rules), Vector TOML, the man page (groff/mandoc warnings).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
"$FW_ROOT/deploy/check.sh" || fail "deploy/check.sh found problems"
pass "deploy files validate"

# The DaemonSet check (deploy/check-daemonset.py, against deploy/runtime-needs,
# the list test_image.sh runs the image with) catches each kind of drift.
DS=$FW_ROOT/deploy/kubernetes/daemonset.yaml
python3 -c 'import yaml' 2>/dev/null || skip "needs python3-yaml"
# mutate NAME STATEMENT: a copy of the DaemonSet changed by a Python statement
# on c (the container) and s (the pod spec).
mutate() {
	python3 -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
s = d["spec"]["template"]["spec"]; c = s["containers"][0]
exec(sys.argv[3])
yaml.safe_dump(d, open(sys.argv[2], "w"))
' "$DS" "$TEST_TMP/$1.yaml" "$2" || fail "mutate $1"
}
mutate boot 's["volumes"].append({"name": "boot", "hostPath": {"path": "/boot"}}); c["volumeMounts"].append({"name": "boot", "mountPath": "/boot", "readOnly": True})'
mutate privileged 'c["securityContext"]["privileged"] = True'
mutate netadmin 'c["securityContext"]["capabilities"]["add"].append("NET_ADMIN")'
mutate noptrace 'c["securityContext"]["capabilities"]["add"].remove("SYS_PTRACE")'
mutate nonetns 'c["volumeMounts"] = [m for m in c["volumeMounts"] if m["mountPath"] != "/run/netns"]'
mutate rwbtf '[m.update(readOnly=False) for m in c["volumeMounts"] if m["mountPath"] == "/sys/kernel/btf"]'
mutate port 'c["args"] = ["--metrics", "0.0.0.0:9999", "--json"]'
mutate image 'c["image"] = "finwatch:latest"'
mutate nohostpid 's["hostPID"] = False'
mutate reapnocap 'c["args"].append("--reap-after=10m")'
accepted=()
for m in boot privileged netadmin noptrace nonetns rwbtf port image nohostpid reapnocap; do
	python3 "$FW_ROOT/deploy/check-daemonset.py" "$TEST_TMP/$m.yaml" >/dev/null 2>&1 && accepted+=("$m")
done
[ ${#accepted[@]} = 0 ] || fail "deploy/check-daemonset.py accepts drifted manifests: ${accepted[*]}"
pass "check-daemonset.py rejects /boot, privileged, an extra or a missing capability, a missing or writable mount, another port or image, no hostPID, reaping without NET_ADMIN"
