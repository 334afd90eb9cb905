#!/usr/bin/env bash
# Prometheus metrics, one finwatch run. Scenarios (tests/e2e/lib.sh):
# scrape: --metrics serves GET /metrics whose per-peer FIN_WAIT_2 gauges
#   equal ss's count, the text passes `promtool check metrics`, a real
#   Prometheus server scrapes it and answers the count through its query API;
# hardening: the endpoint survives hostile clients (wrong method/path,
#   garbage, slow and oversized requests);
# metrics_file: --metrics-file is valid, replaced atomically and
#   world-readable (mode 0644) even under the systemd unit's UMask=0027;
# alert_rules: promtool checks and tests deploy/prometheus's rules.
set -euo pipefail
# shellcheck disable=SC2034 # read by lib.sh
SCENARIOS=(scrape hardening metrics_file alert_rules)
. "$(dirname "$0")/lib.sh"
skip_unless_root python3
command -v promtool >/dev/null 2>&1 || skip "needs promtool (Debian package prometheus)"
command -v prometheus >/dev/null 2>&1 || skip "needs prometheus (Debian package prometheus)"
lab_up
HTTP=(python3 "$E2E_DIR/http_client.py")
HELD=30 NORMAL=20
PROM_FILE="$TEST_TMP/fw.prom"
SCRAPE="$TEST_TMP/scrape.prom"

FW_PORT=$(pick_port) || fail "no free port in 19000-19999"
PROM_PORT=$(pick_port "$FW_PORT") || fail "no free port in 19000-19999"
URL="http://127.0.0.1:$FW_PORT/metrics"

# The unit file runs finwatch with UMask=0027: the metrics file must still be
# readable by node_exporter (another user).
umask 0027
spawn fw - "$FINWATCH" --json --metrics "127.0.0.1:$FW_PORT" --metrics-file "$PROM_FILE" \
	--interval 1s --metrics-top 5 --max-per-peer 0 --max-total 0 --max-age 0 \
	--peer "$LAB_P1_V4" --peer "$LAB_P2_V4"
umask 0022
wait_start fw "$(spawn_out fw)"

# A real Prometheus server scraping finwatch every second.
spawn_prometheus prom "127.0.0.1:$FW_PORT" "$PROM_PORT"

spawn_stuck_and_normal "$HELD" "$NORMAL"

# metric VALUE of one series in FILE: metric_value FILE 'name{labels}'
metric_value() { awk -v s="$2" '$1 == s { print $2; f = 1 } END { exit !f }' "$1"; }
scrape() { "${HTTP[@]}" get "$URL" 2 >"$SCRAPE.new" && mv "$SCRAPE.new" "$SCRAPE"; }
held_series="finwatch_fin_wait2_sockets{peer=\"$LAB_P1_V4\",netns=\"$LAB_HOST_NSINO\",kind=\"held\"}"
orph_series="finwatch_fin_wait2_sockets{peer=\"$LAB_P1_V4\",netns=\"$LAB_HOST_NSINO\",kind=\"orphaned\"}"
scraped_held_is() { scrape && [ "$(metric_value "$SCRAPE" "$held_series")" = "$1" ]; }
# finwatch has counted the stuck peer's sockets (what every scenario reads).
wait_scraped_held() {
	wait_for 10 scraped_held_is "$HELD" ||
		fail "GET /metrics: $held_series is '$(metric_value "$SCRAPE" "$held_series" || true)', ss says $HELD"
}

scenario_scrape() {
	local out PQ
	wait_scraped_held
	[ "$(ss_count "$LAB_HOST" fin-wait-2 "$LAB_P1_V4")" = "$HELD" ] || fail "ss changed"
	[ "$(metric_value "$SCRAPE" "$orph_series")" = 0 ] || fail "orphaned for the stuck peer: $(metric_value "$SCRAPE" "$orph_series")"
	pass "GET /metrics: $held_series = $HELD = ss"

	out=$(promtool check metrics <"$SCRAPE" 2>&1) || fail "promtool check metrics rejects the scrape: $out"
	pass "promtool check metrics accepts the scraped text${out:+ ($out)}"

	# The normal peer's 20 orphans leave FIN_WAIT_2 as a follow-up scan sees
	# their timewait sockets get the peer's FIN; metrics are published each
	# second: wait for a scrape that has them.
	exits_sum() { awk '/^finwatch_fin_wait2_exits_total/ {s += $2} END {print s + 0}' "$SCRAPE"; }
	scraped_exits() { scrape && [ "$(exits_sum)" -ge 20 ]; }
	wait_for 10 scraped_exits || fail "exits_total stays at $(exits_sum), the normal peer closed 20"

	# Internal consistency of one scrape: the per-peer series (top K + "other")
	# add up to the host gauge, and the histogram counts every exit.
	python3 - "$SCRAPE" <<'EOF' || fail "inconsistent metrics (above)"
import re, sys
vals = {}
for line in open(sys.argv[1]):
    if line.startswith("#") or not line.strip():
        continue
    name, value = line.rsplit(" ", 1)
    vals[name] = float(value)
def series(prefix):
    return {k: v for k, v in vals.items() if k.startswith(prefix + "{") or k == prefix}
bad = []
for kind in ("held", "orphaned"):
    per_peer = sum(v for k, v in series("finwatch_fin_wait2_sockets").items() if 'kind="%s"' % kind in k)
    host = vals.get('finwatch_fin_wait2_host_sockets{kind="%s"}' % kind)
    if host != per_peer:
        bad.append("%s: per-peer series sum to %s, host gauge %s" % (kind, per_peer, host))
exits = sum(series("finwatch_fin_wait2_exits_total").values())
count = vals.get("finwatch_fin_wait2_lifetime_seconds_count")
inf = vals.get('finwatch_fin_wait2_lifetime_seconds_bucket{le="+Inf"}')
if not (count == inf == exits):
    bad.append("histogram count %s, +Inf bucket %s, exits_total sum %s" % (count, inf, exits))
buckets = [(float(re.search(r'le="([^"]+)"', k).group(1)), v) for k, v in series("finwatch_fin_wait2_lifetime_seconds_bucket").items()]
buckets.sort()
if any(b[1] > a[1] for b, a in zip(buckets, buckets[1:])):
    bad.append("histogram buckets are not cumulative: %s" % buckets)
if exits < 20:
    bad.append("only %s exits counted; the normal peer alone closed 20" % exits)
# finwatch's own cost: process CPU, the part in scans, resident memory.
cpu, scpu = vals.get("process_cpu_seconds_total"), vals.get("finwatch_scan_cpu_seconds_total")
scans, rss = vals.get("finwatch_scans_total"), vals.get("process_resident_memory_bytes")
if not (cpu and cpu > 0 and scans and scans >= 1 and scpu is not None and scpu <= cpu
        and rss and rss > 1e6):
    bad.append("self-cost series: cpu %s, scan cpu %s, scans %s, rss %s" % (cpu, scpu, scans, rss))
if bad:
    sys.stderr.write("\n".join(bad) + "\n")
    sys.exit(1)
EOF
	pass "per-peer series add up to the host gauge; histogram count = exits; own CPU, scan CPU and RSS exported"

	# Prometheus (the real server) sees the same number.
	prom_ready() { "${HTTP[@]}" get "http://127.0.0.1:$PROM_PORT/-/ready" 1 >/dev/null 2>&1; }
	wait_for 15 prom_ready || fail "Prometheus did not become ready on 127.0.0.1:$PROM_PORT"
	PQ="sum(finwatch_fin_wait2_sockets{peer=\"$LAB_P1_V4\",netns=\"$LAB_HOST_NSINO\"})"
	prom_is() { [ "$("${HTTP[@]}" prom_value "http://127.0.0.1:$PROM_PORT" "$1" 2 2>/dev/null)" = "$2" ]; }
	wait_for 25 prom_is "$PQ" "$HELD" ||
		fail "Prometheus: $PQ = '$("${HTTP[@]}" prom_value "http://127.0.0.1:$PROM_PORT" "$PQ" 2 || true)', want $HELD"
	prom_is 'up{job="finwatch"}' 1 || fail "Prometheus: target not up"
	pass "Prometheus server scraped finwatch: $PQ = $HELD"
}

hex() { printf '%b' "$1" | od -An -v -tx1 | tr -d ' \n'; }

scenario_hardening() {
	local t0 t1 dt st res big c
	wait_scraped_held
	# Slow clients hold connections open while a normal scrape must still work.
	spawn idle - "${HTTP[@]}" hold 127.0.0.1 "$FW_PORT" - 15
	spawn half - "${HTTP[@]}" hold 127.0.0.1 "$FW_PORT" "$(hex 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ')" 15
	spawn garbage - "${HTTP[@]}" hold 127.0.0.1 "$FW_PORT" "$(hex '\x00\xff\x16GARBAGE \x01\x02 !!\r\n')" 15
	wait_ready idle
	wait_ready half
	wait_ready garbage
	t0=${EPOCHREALTIME/[.,]/}
	scrape || fail "GET /metrics failed while slow clients are connected"
	t1=${EPOCHREALTIME/[.,]/}
	dt=$(( (t1 - t0) / 1000 ))
	[ "$dt" -lt 1500 ] || fail "GET /metrics took ${dt} ms with slow clients connected"
	[ "$(metric_value "$SCRAPE" "$held_series")" = "$HELD" ] || fail "wrong value while slow clients are connected"
	pass "scrape answered in ${dt} ms with an idle, a half-request and a garbage connection open"

	st=$("${HTTP[@]}" status POST "$URL") || fail "POST /metrics: no answer"
	[ "$st" = "405 GET" ] || fail "POST /metrics answered '$st', want 405 with Allow: GET"
	st=$("${HTTP[@]}" status GET "http://127.0.0.1:$FW_PORT/other") || fail "GET /other: no answer"
	[ "$st" = 404 ] || fail "GET /other answered '$st', want 404"
	st=$("${HTTP[@]}" status GET "http://127.0.0.1:$FW_PORT/metrics/../admin") || fail "GET /admin: no answer"
	[ "$st" = 404 ] || fail "GET /metrics/../admin answered '$st', want 404"
	pass "POST -> 405 (Allow: GET), other paths -> 404"

	res=$("${HTTP[@]}" raw 127.0.0.1 "$FW_PORT" "$(hex 'BREW /metrics HTCPCP/1.0 garbage\r\n\r\n')" 7)
	[[ "$res" == "status 4"* || "$res" == "status 5"* || "$res" == closed ]] ||
		fail "garbage request line: '$res', want an error status or a closed connection"
	big=$("${HTTP[@]}" raw 127.0.0.1 "$FW_PORT" bigheader:65536 5)
	[[ "$big" == "status 4"* || "$big" == closed ]] || fail "64 KiB request header: '$big', want it refused (4xx or closed)"
	scrape || fail "GET /metrics failed after a 64 KiB header"
	pass "garbage request line refused ($res), 64 KiB header refused ($big), still serving"

	# The server drops the slow clients by itself (its connection timeout).
	closed() { grep -q '^closed after' "$(spawn_out "$1")"; }
	for c in idle half garbage; do
		wait_for 12 closed "$c" || fail "slow client '$c' still connected after 12 s: $(cat "$(spawn_out "$c")")"
	done
	alive "$(spawn_pid fw)" || fail "finwatch died"
	scrape || fail "GET /metrics failed after the hostile clients"
	pass "slow clients disconnected by the server ($(sed -n 's/^closed after //p' "$(spawn_out idle)") for the idle one); finwatch still serving"
}

scenario_metrics_file() {
	local out version torn in_place changes mode
	wait_scraped_held
	[ -f "$PROM_FILE" ] || fail "--metrics-file $PROM_FILE not written"
	out=$(promtool check metrics <"$PROM_FILE" 2>&1) || fail "promtool check metrics rejects $PROM_FILE: $out"
	grep -qxF "$held_series $HELD" "$PROM_FILE" || fail "$PROM_FILE lacks '$held_series $HELD'"
	# Atomic replacement: every rewrite is a new file renamed over the old one (a
	# different inode from the one it replaces; an in-place rewrite keeps it),
	# and every version read is complete (ends with the last metric).
	version=$(stat -c '%i %y' "$PROM_FILE") torn='' in_place='' changes=0
	replaced() {
		local v last
		last=$(tail -n1 "$PROM_FILE")
		[[ "$last" == "finwatch_build_info{"* ]] || torn="$torn '$last'"
		v=$(stat -c '%i %y' "$PROM_FILE")
		if [ "$v" != "$version" ]; then
			[ "${v%% *}" != "${version%% *}" ] || in_place="$in_place ($version -> $v)"
			version=$v
			changes=$((changes + 1))
		fi
		[ "$changes" -ge 2 ]
	}
	wait_for 5 replaced || fail "$PROM_FILE rewritten $changes times within 5 s at --interval 1s, want 2"
	[ -z "$in_place" ] || fail "$PROM_FILE rewritten in place, not replaced by rename:$in_place"
	[ -z "$torn" ] || fail "read an incomplete $PROM_FILE (last line:$torn)"
	pass "--metrics-file passes promtool, replaced atomically by rename ($changes rewrites seen, all complete)"
	# node_exporter's textfile collector runs as another user.
	mode=$(stat -c %a "$PROM_FILE")
	[ "$mode" = 644 ] || fail "--metrics-file has mode $mode under umask 0027 (the unit's UMask), want 644: node_exporter cannot read it"
	pass "--metrics-file mode 0644 under umask 0027"
}

# The alerting rules shipped in deploy/.
scenario_alert_rules() {
	local out RULES="$FW_ROOT/deploy/prometheus/finwatch-rules.yml"
	if [ -f "$RULES" ]; then
		out=$(promtool check rules "$RULES" 2>&1) || fail "promtool check rules $RULES: $out"
		pass "promtool check rules deploy/prometheus/finwatch-rules.yml"
		if [ -f "${RULES%.yml}.test.yml" ]; then
			out=$(cd "$(dirname "$RULES")" && promtool test rules "$(basename "${RULES%.yml}.test.yml")" 2>&1) ||
				fail "promtool test rules: $out"
			pass "promtool test rules deploy/prometheus/finwatch-rules.test.yml"
		fi
	else
		echo "NOTE: $RULES absent: promtool check rules skipped"
	fi
}

run_scenarios
# Whichever scenarios ran: finwatch exits cleanly and leaves no temporary file.
spawn_stop fw INT || fail "finwatch did not exit 0 on SIGINT"
"$FWCHECK" valid "$(spawn_out fw)" || fail "finwatch's JSON output is invalid"
leftover=$(find "$TEST_TMP" -maxdepth 1 -name 'fw.prom.tmp*' | head -n3)
[ -z "$leftover" ] || fail "temporary metrics files left behind: $leftover"
