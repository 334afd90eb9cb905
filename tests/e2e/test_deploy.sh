#!/usr/bin/env bash
# deploy/ validates: systemd unit (systemd-analyze verify), logrotate config,
# Kubernetes and Prometheus YAML (yamllint), alerting rules (promtool check
# and unit-test rules), Vector TOML, the man page (groff/mandoc warnings).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
"$FW_ROOT/deploy/check.sh" || fail "deploy/check.sh found problems"
pass "deploy files validate"
