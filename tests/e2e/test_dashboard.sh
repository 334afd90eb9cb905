#!/usr/bin/env bash
# The Grafana dashboard deploy/grafana/finwatch.json against a real
# Prometheus scraping finwatch in the netns lab (as test_metrics.sh does):
# held sockets to a stuck peer (past --max-per-peer, so an alert fires) and
# normal closes to another peer (exits, the lifetime histogram). Every panel's
# query, with the template variables set to the lab's instance, netns and
# peer and then to All, must parse and return data; the panels the lab feeds
# must show non-zero values; the template variables must list the lab's
# values; every metric name must be one finwatch exports
# (tests/e2e/dashboard_check.py).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
skip_unless_root python3
command -v prometheus >/dev/null 2>&1 || skip "needs prometheus (Debian package prometheus)"
DASH=$FW_ROOT/deploy/grafana/finwatch.json
[ -f "$DASH" ] || fail "no $DASH"
lab_up
HTTP=(python3 "$E2E_DIR/http_client.py")
HELD=30 NORMAL=20

FW_PORT=$(pick_port) || fail "no free port in 19000-19999"
PROM_PORT=$(pick_port "$FW_PORT") || fail "no free port in 19000-19999"
PROM=http://127.0.0.1:$PROM_PORT
INSTANCE=127.0.0.1:$FW_PORT

spawn fw - "$FINWATCH" --json --metrics "$INSTANCE" --interval 1s --metrics-top 5 \
	--max-per-peer 10 --max-total 0 --max-age 0 --peer "$LAB_P1_V4" --peer "$LAB_P2_V4"
wait_start fw "$(spawn_out fw)"
spawn_prometheus prom "$INSTANCE" "$PROM_PORT"

# The exits must come after Prometheus' first samples, or rate() sees none.
prom_ready() { "${HTTP[@]}" get "$PROM/-/ready" 1 >/dev/null 2>&1; }
wait_for 15 prom_ready || fail "Prometheus did not become ready on $PROM"
prom_is() { [ "$("${HTTP[@]}" prom_value "$PROM" "$1" 2 2>/dev/null)" = "$2" ]; }
prom_ge() { local v; v=$("${HTTP[@]}" prom_value "$PROM" "$1" 2 2>/dev/null) && [ -n "$v" ] && awk -v v="$v" -v m="$2" 'BEGIN { exit !(v + 0 >= m) }'; }
wait_for 15 prom_ge 'count_over_time(up{job="finwatch"}[1m])' 2 || fail "Prometheus does not scrape finwatch"

spawn_stuck_and_normal "$HELD" "$NORMAL"

# Prometheus has the lab's state: the count, the exits, the alert, and two
# CPU samples (for rate()).
sel="peer=\"$LAB_P1_V4\",netns=\"$LAB_HOST_NSINO\""
wait_for 25 prom_is "sum(finwatch_fin_wait2_sockets{$sel})" "$HELD" || fail "Prometheus never saw $HELD sockets for $LAB_P1_V4"
wait_for 15 prom_ge "sum(finwatch_fin_wait2_exits_total{instance=\"$INSTANCE\"})" "$NORMAL" || fail "Prometheus never saw $NORMAL exits"
wait_for 10 prom_is "max(finwatch_alerts_firing{rule=\"max_per_peer\",$sel})" 1 || fail "Prometheus never saw the max_per_peer alert"
wait_for 10 prom_is "count(rate(process_cpu_seconds_total{instance=\"$INSTANCE\"}[1m]))" 1 || fail "no CPU rate in Prometheus"
pass "Prometheus scraped the lab: $HELD held to $LAB_P1_V4, >= $NORMAL exits, max_per_peer firing"
"${HTTP[@]}" get "http://$INSTANCE/metrics" 2 >"$TEST_TMP/scrape.prom" || fail "GET /metrics"

NONZERO=("FIN_WAIT_2 now" "Oldest FIN_WAIT_2 socket" "Alerts firing" "FIN_WAIT_2 per peer (top \$topk)"
	"Held vs orphaned" "Oldest socket age per peer (top \$topk)" "FIN_WAIT_2 exits by outcome"
	"FIN_WAIT_2 lifetime" "Events lost and skipped" "finwatch CPU" "finwatch memory")
CHECK=(python3 "$E2E_DIR/dashboard_check.py" "$DASH" "$PROM" "$TEST_TMP/scrape.prom")
"${CHECK[@]}" instance="$INSTANCE" netns="$LAB_HOST_NSINO" peer="$LAB_P1_V4" --nonzero "${NONZERO[@]}" \
	>"$TEST_TMP/check-lab.out" 2>&1 || { cat "$TEST_TMP/check-lab.out" >&2; fail "dashboard queries (the lab's instance, netns, peer)"; }
pass "every panel query parses and returns data for instance $INSTANCE, netns $LAB_HOST_NSINO, peer $LAB_P1_V4 ($(tail -n1 "$TEST_TMP/check-lab.out")); the lab's panels non-zero; variables list the lab's values"
"${CHECK[@]}" >"$TEST_TMP/check-all.out" 2>&1 || { cat "$TEST_TMP/check-all.out" >&2; fail "dashboard queries (All)"; }
pass "every panel query returns data with every variable at All"

# The check can fail: a query that does not parse, a metric finwatch does not
# export, a panel without data.
# shellcheck disable=SC2016 # $instance is Grafana's, not the shell's
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
d["panels"][0]["targets"][0]["expr"] = "sum(finwatch_fin_wait2_host_sockets{instance=~\"$instance\"}"
d["panels"][1]["targets"][0]["expr"] = "max(finwatch_fin_wait2_oldest_age{instance=~\"$instance\"})"
d["panels"][2]["targets"][0]["expr"] = "finwatch_alerts_firing{rule=\"no_such_rule\"}"
json.dump(d, open(sys.argv[2], "w"))
' "$DASH" "$TEST_TMP/broken.json"
rc=0
python3 "$E2E_DIR/dashboard_check.py" "$TEST_TMP/broken.json" "$PROM" "$TEST_TMP/scrape.prom" \
	>/dev/null 2>"$TEST_TMP/broken.err" || rc=$?
[ "$rc" = 1 ] || fail "dashboard_check.py accepts a broken dashboard (exit $rc)"
for want in "parse error" "finwatch_fin_wait2_oldest_age is not exported" "no data"; do
	grep -q "$want" "$TEST_TMP/broken.err" || fail "dashboard_check.py did not report '$want': $(cat "$TEST_TMP/broken.err")"
done
pass "dashboard_check.py rejects a parse error, an unknown metric and a query without data"
