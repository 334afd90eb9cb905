#!/usr/bin/env python3
"""Checks deploy/kubernetes/daemonset.yaml against deploy/runtime-needs, the
list tests/e2e/test_image.sh runs the image with (one source of truth):

  check-daemonset.py [DAEMONSET [RUNTIME_NEEDS [SCRAPE_CONFIG]]]

Host PID/network, args, capabilities (exactly those, NET_ADMIN only with
--reap-after, drop ALL, not privileged, no privilege escalation), host mounts
(exactly those, same path on both sides, read-only and propagation as listed:
no /boot), the image (REPO/finwatch:VERSION of `make image`, the entrypoint
not overridden), the metrics port (args, containerPort "metrics", probes,
annotations, and the Kubernetes scrape config's filters) and resources.
Prints every mismatch; exit 1 if any.
"""
import json
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
args = sys.argv[1:]
ds_file = args[0] if len(args) > 0 else os.path.join(ROOT, "deploy/kubernetes/daemonset.yaml")
needs_file = args[1] if len(args) > 1 else os.path.join(ROOT, "deploy/runtime-needs")
scrape_file = args[2] if len(args) > 2 else os.path.join(ROOT, "deploy/prometheus/prometheus-scrape-kubernetes.yml")
bad = []


def check(cond, msg):
    if not cond:
        bad.append(msg)


needs = {"cap": [], "reap": [], "mount": {}}
with open(needs_file) as f:
    for line in f:
        w = line.split("#", 1)[0].split()
        if not w:
            continue
        if w[0] == "cap":
            needs["reap" if w[2:3] == ["reap"] else "cap"].append(w[1])
        elif w[0] == "mount":
            needs["mount"][w[1]] = (w[2] == "ro", w[3] if len(w) > 3 and w[3] != "-" else None)
        elif w[0] == "args":
            needs["args"] = w[1:]
        else:
            needs[w[0]] = w[1]
with open(os.path.join(ROOT, "user/cli.h")) as f:
    version = re.search(r'#define FW_VERSION "([^"]+)"', f.read()).group(1)
with open(os.path.join(ROOT, "Containerfile")) as f:
    entrypoint = json.loads(re.search(r"^ENTRYPOINT (.*)$", f.read(), re.M).group(1))

docs = [d for d in yaml.safe_load_all(open(ds_file)) if d]
ds = [d for d in docs if d.get("kind") == "DaemonSet"]
if len(ds) != 1:
    sys.exit("check-daemonset: %s: want one DaemonSet, found %d" % (ds_file, len(ds)))
ds = ds[0]
pod = ds["spec"]["template"]
spec = pod["spec"]
yes = {"yes": True, "no": False}
check(bool(spec.get("hostPID")) == yes[needs["host-pid"]], "hostPID %s, runtime-needs host-pid %s" % (spec.get("hostPID"), needs["host-pid"]))
check(bool(spec.get("hostNetwork")) == yes[needs["host-network"]],
      "hostNetwork %s, runtime-needs host-network %s" % (spec.get("hostNetwork"), needs["host-network"]))
check(not spec.get("initContainers"), "initContainers: not in runtime-needs")
cs = spec.get("containers", [])
check(len(cs) == 1, "want one container, found %d" % len(cs))
c = cs[0]

# Image and command.
img = c.get("image", "")
check(re.fullmatch(r"[a-z0-9.:-]+(/[a-z0-9._-]+)*/finwatch:" + re.escape(version) + r"(@sha256:[0-9a-f]{64})?", img) is not None,
      "image %r: want REGISTRY/finwatch:%s (what make image builds, pushed)" % (img, version))
check(c.get("command") in (None, entrypoint), "command %r overrides the image's entrypoint %r" % (c.get("command"), entrypoint))
check(c.get("args") == needs["args"], "args %r, runtime-needs %r" % (c.get("args"), needs["args"]))

# Capabilities.
sc = c.get("securityContext", {})
check(not sc.get("privileged"), "privileged: true (runtime-needs lists capabilities instead)")
check(sc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation is not false")
caps = sc.get("capabilities", {})
check(caps.get("drop") == ["ALL"], "capabilities.drop %r, want [ALL]" % caps.get("drop"))
want = set(needs["cap"])
if any(a == "--reap-after" or a.startswith("--reap-after=") for a in c.get("args") or []):
    want |= set(needs["reap"])
have = caps.get("add") or []
check(len(have) == len(set(have)) and set(have) == want,
      "capabilities.add %s, runtime-needs %s (+%s only with --reap-after)" % (sorted(have), sorted(want), needs["reap"]))

# Mounts: exactly runtime-needs', host path = container path.
vols = {v["name"]: v for v in spec.get("volumes", [])}
mounts = {}
for m in c.get("volumeMounts", []):
    v = vols.get(m["name"])
    check(v is not None, "volumeMount %s: no volume %s" % (m["mountPath"], m["name"]))
    if v is None:
        continue
    hp = v.get("hostPath", {}).get("path")
    check(hp == m["mountPath"], "volume %s: host %s mounted at %s (runtime-needs mounts keep the path)" % (m["name"], hp, m["mountPath"]))
    prop = {"HostToContainer": "rslave", "Bidirectional": "rshared"}.get(m.get("mountPropagation"))
    mounts[m["mountPath"]] = (bool(m.get("readOnly")), prop)
for p in sorted(set(mounts) | set(needs["mount"])):
    if p not in needs["mount"]:
        bad.append("mount %s is not in runtime-needs" % p)
    elif p not in mounts:
        bad.append("runtime-needs mount %s is missing" % p)
    elif mounts[p] != needs["mount"][p]:
        bad.append("mount %s: (readOnly, propagation) %s, runtime-needs %s" % (p, mounts[p], needs["mount"][p]))
mounted = {m["name"] for m in c.get("volumeMounts", [])}
for name, v in vols.items():
    check(name in mounted, "volume %s (%s) is not mounted" % (name, v.get("hostPath", {}).get("path")))

# Metrics: the port in args, the container port, probes, annotations, scrape.
port = int(needs["port"])
check(any(a.endswith(":%d" % port) for a in c.get("args") or []), "args do not listen on :%d" % port)
ports = [p for p in c.get("ports", []) if p.get("name") == "metrics"]
check(len(ports) == 1 and ports[0].get("containerPort") == port, "no container port 'metrics' = %d" % port)
for probe in ("startupProbe", "livenessProbe"):
    g = c.get(probe, {}).get("httpGet", {})
    check(g.get("path") == "/metrics" and g.get("port") in ("metrics", port), "%s: not GET /metrics on the metrics port" % probe)
ann = pod["metadata"].get("annotations", {})
check(ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/port") == str(port)
      and ann.get("prometheus.io/path") == "/metrics", "prometheus.io annotations do not match port %d" % port)
scrape = yaml.safe_load(open(scrape_file))["scrape_configs"][0]
sd = scrape["kubernetes_sd_configs"][0]
check(ds["metadata"].get("namespace") in sd.get("namespaces", {}).get("names", []),
      "scrape config does not discover namespace %s" % ds["metadata"].get("namespace"))
labels = pod["metadata"].get("labels", {})
for r in scrape.get("relabel_configs", []):
    if r.get("action") != "keep":
        continue
    src = r["source_labels"][0]
    if src == "__meta_kubernetes_pod_label_app_kubernetes_io_name":
        check(re.fullmatch(r["regex"], labels.get("app.kubernetes.io/name", "")), "scrape keeps app.kubernetes.io/name=%s" % r["regex"])
    elif src == "__meta_kubernetes_pod_container_port_name":
        check(re.fullmatch(r["regex"], "metrics"), "scrape keeps port name %s, not metrics" % r["regex"])

# Resources (figures: docs/BENCHMARKS.md, see the manifest's comment).
res = c.get("resources", {})
for k in ("requests", "limits"):
    for r in ("cpu", "memory"):
        check(r in res.get(k, {}), "resources.%s.%s missing" % (k, r))

if bad:
    sys.stderr.write("".join("%s: %s\n" % (ds_file, b) for b in bad))
    sys.exit(1)
print("daemonset matches runtime-needs: caps %s, mounts %s, args %s" % (" ".join(sorted(want)), " ".join(sorted(mounts)), " ".join(needs["args"])))
