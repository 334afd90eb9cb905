#!/usr/bin/env bash
# Validates everything under deploy/ and the man page docs/finwatch.8.
#   deploy/check.sh             run every check, exit 1 if any fails
#   deploy/check.sh --install   first install the missing Debian packages (root)
# Debian 12 packages: systemd logrotate yamllint prometheus (for promtool)
# groff-base man-db mandoc python3 (3.11+, for tomllib) python3-yaml.
# Nothing is written outside a temporary directory; the finwatch binary is not
# needed (systemd-analyze runs against a temporary root with a stand-in).
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."

pkgs=(systemd logrotate yamllint prometheus groff-base man-db mandoc python3 python3-yaml)
tools=(systemd-analyze logrotate yamllint promtool groff man mandoc python3)

install_missing() {
	local missing=() p
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || { echo "check.sh: run as root to install: ${missing[*]}" >&2; exit 1; }
	echo "check.sh: installing ${missing[*]}" >&2
	# The prometheus package would start a Prometheus server on :9090 where
	# systemd runs; only promtool is wanted. policy-rc.d 101 = "do not start".
	local policy=/usr/sbin/policy-rc.d own_policy=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && own_policy=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
		[ $own_policy -eq 1 ] && rm -f "$policy"
		exit 1
	}
	[ $own_policy -eq 1 ] && rm -f "$policy"
	if printf '%s\n' "${missing[@]}" | grep -qx prometheus; then
		systemctl disable prometheus.service >/dev/null 2>&1 || true
	fi
}

case "${1:-}" in
	--install) install_missing ;;
	"") ;;
	*) echo "usage: deploy/check.sh [--install]" >&2; exit 2 ;;
esac

for t in "${tools[@]}"; do
	command -v "$t" >/dev/null || {
		echo "check.sh: '$t' not found; install: apt-get install ${pkgs[*]}" >&2
		echo "          (or run deploy/check.sh --install as root)" >&2
		exit 1
	}
done
python3 -c 'import tomllib' 2>/dev/null || { echo "check.sh: python3 3.11+ needed (tomllib)" >&2; exit 1; }
python3 -c 'import yaml' 2>/dev/null || { echo "check.sh: python3-yaml needed" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=()

# run NAME CMD...: run a check; any output on stderr also counts as failure
# (groff and man report warnings with exit status 0).
run() {
	local name=$1 rc=0
	shift
	if "$@" >"$tmp/out" 2>"$tmp/err"; then
		if [ -s "$tmp/err" ] && [ "${ALLOW_STDERR:-0}" != 1 ]; then rc=1; fi
	else
		rc=1
	fi
	if [ $rc -eq 0 ]; then
		echo "ok   $name"
	else
		echo "FAIL $name"
		sed 's/^/     /' "$tmp/out" "$tmp/err"
		failed+=("$name")
	fi
}

# --- systemd unit: verify against a temporary root holding the unit, the
# stock units, a stand-in /usr/local/sbin/finwatch and /bin/kill; the
# Documentation= man page is resolved from docs/.
root=$tmp/root
mkdir -p "$root/usr/local/sbin" "$root/etc/systemd/system" "$root/bin" "$root/lib/systemd" \
	"$tmp/man/man8"
install -m 0755 /dev/null "$root/usr/local/sbin/finwatch"
cp /bin/kill "$root/bin/kill"
cp -a /lib/systemd/system "$root/lib/systemd/"
cp deploy/finwatch.service "$root/etc/systemd/system/"
cp docs/finwatch.8 "$tmp/man/man8/"
run "systemd-analyze verify deploy/finwatch.service" \
	env MANPATH="$tmp/man" systemd-analyze verify --root="$root" finwatch.service

# --- logrotate: parse (debug mode changes nothing), then a real forced
# rotation of a copy pointed at a temporary directory.
# (logrotate -d prints its trace on stderr; an "error:" line or status fails.)
# shellcheck disable=SC2016 # $1 and $out are expanded by the inner bash
run "logrotate -d deploy/finwatch-logrotate" bash -c '
	out=$(logrotate -d -s "$1" deploy/finwatch-logrotate 2>&1) || { echo "$out"; exit 1; }
	if grep -q "^error" <<<"$out"; then echo "$out"; exit 1; fi
' _ "$tmp/lr.state"
# shellcheck disable=SC2016 # expanded by the inner bash
ALLOW_STDERR=1 run "logrotate rotation (temporary copy)" bash -c '
	set -e
	d=$1
	mkdir "$d/log"
	echo "{\"type\":\"start\"}" > "$d/log/finwatch.jsonl"
	sed -e "s#/var/log/finwatch#$d/log#" \
	    -e "s#systemctl kill .*#touch $d/signalled#" deploy/finwatch-logrotate > "$d/lr.conf"
	logrotate -f -s "$d/lr2.state" "$d/lr.conf"
	test -s "$d/log/finwatch.jsonl.1"
	test -e "$d/log/finwatch.jsonl" && ! test -s "$d/log/finwatch.jsonl"
	test "$(stat -c %a "$d/log/finwatch.jsonl")" = 640
	test -e "$d/signalled"
' _ "$tmp"

# --- YAML syntax and style.
run "yamllint --strict -d relaxed deploy/" yamllint --strict -d relaxed deploy/

# --- The DaemonSet against deploy/runtime-needs (what tests/e2e/test_image.sh
# runs the image with): args, capabilities, mounts, image, metrics port.
run "daemonset.yaml = deploy/runtime-needs" python3 deploy/check-daemonset.py

# --- Grafana dashboard: JSON (its queries run against a real Prometheus in
# tests/e2e/test_dashboard.sh).
run "grafana/finwatch.json (JSON)" python3 -c 'import json, sys; json.load(open(sys.argv[1]))' deploy/grafana/finwatch.json

# --- Prometheus: rules, rule unit tests, scrape config (which loads the rules).
# prometheus-scrape-kubernetes.yml is YAML-checked only: Debian's promtool is
# built without Kubernetes service discovery.
run "promtool check rules" promtool check rules deploy/prometheus/finwatch-rules.yml
run "promtool test rules" promtool test rules deploy/prometheus/finwatch-rules.test.yml
run "promtool check config" promtool check config deploy/prometheus/prometheus-scrape.yml

# --- Vector: TOML syntax, and every input names a defined component/output.
run "vector config (TOML + inputs)" python3 - deploy/vector/finwatch.toml <<'EOF'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    c = tomllib.load(f)
outs = set(c.get("sources", {}))
for name, t in c.get("transforms", {}).items():
    outs.add(name)
    if t.get("type") == "route":
        outs.update(f"{name}.{r}" for r in t.get("route", {}))
for kind in ("transforms", "sinks"):
    for name, comp in c.get(kind, {}).items():
        assert comp.get("inputs"), f"{kind}.{name}: no inputs"
        for i in comp["inputs"]:
            assert i in outs, f"{kind}.{name}: unknown input {i!r}"
assert c.get("sinks"), "no sinks"
EOF

# --- Man page: groff and man-db warnings, mandoc lint.
run "groff -man -ww -z docs/finwatch.8" groff -man -ww -z docs/finwatch.8
for w in 60 80 120; do
	run "man --warnings (width $w)" env MANWIDTH=$w man --warnings -l docs/finwatch.8
done
run "mandoc -T lint -W warning docs/finwatch.8" mandoc -T lint -W warning docs/finwatch.8

if [ ${#failed[@]} -ne 0 ]; then
	echo "check.sh: ${#failed[@]} check(s) failed: ${failed[*]}" >&2
	exit 1
fi
echo "check.sh: all checks passed"
