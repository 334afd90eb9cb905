// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Watch-mode records (exits, alerts, summaries, tables, histograms), text
 * and JSON, pinned byte for byte from a tracker fed synthetic events. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "cli.h"
#include "parse.h"
#include "trace_fmt.h"
#include "watch_out.h"
#include "golden.h"

#define S NS_PER_SEC

static struct capture exits_json, alerts_json, alerts_text;

static void on_exit_cb(void *ctx, const struct fw2_exit *x)
{
	struct json_writer jw;

	jw_init(&jw, exits_json.f);
	out_exit_json(&jw, x);
	jw_end_line(&jw);
}

static void on_alert_cb(void *ctx, const struct fw2_alert *a)
{
	struct json_writer jw;

	jw_init(&jw, alerts_json.f);
	out_alert_json(&jw, a);
	jw_end_line(&jw);
	out_alert_text(alerts_text.f, a);
}

static void enter(struct fw2_tracker *t, __u64 cookie, int peer, __u64 ts, int orphaned)
{
	struct fw_event e = golden_ev(cookie, peer, FW_TCP_FIN_WAIT1, FW_TCP_FIN_WAIT2, ts,
				      FW_EVF_CLOSER | (orphaned ? FW_EVF_ORPHANED : 0), 0);

	fw2_on_event(t, &e);
}

static void leave(struct fw2_tracker *t, __u64 cookie, int peer, __u64 ts, __u8 flags, int err)
{
	struct fw_event e = golden_ev(cookie, peer, FW_TCP_FIN_WAIT2, FW_TCP_CLOSE, ts, flags, err);

	fw2_on_event(t, &e);
}

static const struct fw_run_stats stats = {
	.transitions = 11, .events = 10, .received = 9, .lost = 1, .recursion_misses = 2,
	.recursion_misses_backup = 3, .storage_failures = 4, .handoff_map_full = 5, .malformed = 6,
	.print_errors = 7, .scans = 8, .cpu_ns = 1500000000, .scan_cpu_ns = 250000000,
	.rss_bytes = 4096000,
};

/* Three sockets to 192.0.2.7 (one orphaned), one to .9 that ends. */
static struct fw2_tracker *scenario(void)
{
	struct fw_config cfg;
	struct fw2_callbacks cb = { on_exit_cb, on_alert_cb, NULL, NULL, NULL };
	struct fw2_tracker *t;

	cli_defaults(&cfg);
	cfg.max_per_peer = 2;
	cfg.max_age_ns = 30 * S;
	json_record_setup("testhost", 1700000000LL * (__s64)S);
	assert_non_null(cap_open(&exits_json));
	assert_non_null(cap_open(&alerts_json));
	assert_non_null(cap_open(&alerts_text));
	t = fw2_tracker_new((const struct fw2_policy[]){ cli_tracker_policy(&cfg) }, &cb, 0);
	assert_non_null(t);
	enter(t, 1, 7, 100 * S, 0);
	enter(t, 2, 7, 101 * S, 1);
	enter(t, 3, 7, 102 * S, 0);
	enter(t, 4, 9, 103 * S, 0);
	enter(t, 5, 9, 103 * S, 0);
	leave(t, 4, 9, 110 * S + 250000000, FW_EVF_FIN_RCVD, 0);
	leave(t, 5, 9, 111 * S, 0, 104);
	fw2_tick(t, 112 * S);
	fw2_tick(t, 140 * S);
	return t;
}

static void test_exit_and_alert_records(void **state)
{
	struct fw2_tracker *t = scenario();
	char *ex = cap_text(&exits_json), *aj = cap_text(&alerts_json), *at = cap_text(&alerts_text);

	assert_golden("exits json", ex,
	"{\"type\":\"fw2_exit\",\"ts_ns\":110250000000,\"time\":\"2023-11-14T22:15:10.250Z\",\"host\":\"testhost\",\"peer\":\"192.0.2.9\",\"netns\":4026531840,\"sport\":40004,\"dport\":443,\"duration_ms\":7250.000,\"duration_lower_bound\":false,\"outcome\":\"peer_fin\",\"orphaned\":false,\"pid\":1234,\"comm\":\"frontend\",\"cookie\":4}\n"
	"{\"type\":\"fw2_exit\",\"ts_ns\":111000000000,\"time\":\"2023-11-14T22:15:11.000Z\",\"host\":\"testhost\",\"peer\":\"192.0.2.9\",\"netns\":4026531840,\"sport\":40005,\"dport\":443,\"duration_ms\":8000.000,\"duration_lower_bound\":false,\"outcome\":\"rst\",\"orphaned\":false,\"pid\":1234,\"comm\":\"frontend\",\"cookie\":5}\n");
	assert_golden("alerts json", aj,
	"{\"type\":\"alert\",\"ts_ns\":112000000000,\"time\":\"2023-11-14T22:15:12.000Z\",\"host\":\"testhost\",\"rule\":\"max_per_peer\",\"state\":\"firing\",\"peer\":\"192.0.2.7\",\"netns\":4026531840,\"count\":3,\"held\":2,\"orphaned\":1,\"oldest_age_s\":12.000,\"threshold\":2,\"examples\":[{\"cookie\":1,\"sport\":40001,\"dport\":443,\"age_s\":12.000,\"orphaned\":false},{\"cookie\":2,\"sport\":40002,\"dport\":443,\"age_s\":11.000,\"orphaned\":true},{\"cookie\":3,\"sport\":40003,\"dport\":443,\"age_s\":10.000,\"orphaned\":false}],\"processes\":[{\"pid\":1234,\"comm\":\"frontend\",\"sockets\":3}],\"advice\":\"process frontend (pid 1234) holds 3 half-closed sockets; tcp_fin_timeout does not apply to held sockets: the application must close() them (or reap them with finwatch, which resets the peer). 1 orphaned socket(s) end after net.ipv4.tcp_fin_timeout of their netns. The peer ACKs our FIN but never sends its own: check it is alive and not overloaded.\"}\n"
	"{\"type\":\"alert\",\"ts_ns\":140000000000,\"time\":\"2023-11-14T22:15:40.000Z\",\"host\":\"testhost\",\"rule\":\"max_age\",\"state\":\"firing\",\"peer\":\"192.0.2.7\",\"netns\":4026531840,\"count\":3,\"held\":2,\"orphaned\":1,\"oldest_age_s\":40.000,\"threshold\":30.000,\"examples\":[{\"cookie\":1,\"sport\":40001,\"dport\":443,\"age_s\":40.000,\"orphaned\":false},{\"cookie\":2,\"sport\":40002,\"dport\":443,\"age_s\":39.000,\"orphaned\":true},{\"cookie\":3,\"sport\":40003,\"dport\":443,\"age_s\":38.000,\"orphaned\":false}],\"processes\":[{\"pid\":1234,\"comm\":\"frontend\",\"sockets\":3}],\"advice\":\"process frontend (pid 1234) holds 3 half-closed sockets; tcp_fin_timeout does not apply to held sockets: the application must close() them (or reap them with finwatch, which resets the peer). 1 orphaned socket(s) end after net.ipv4.tcp_fin_timeout of their netns. The peer ACKs our FIN but never sends its own: check it is alive and not overloaded.\"}\n");
	assert_golden("alerts text", at,
	"ALERT max_per_peer peer=192.0.2.7 netns=4026531840 count=3 (held 2, orphaned 1) oldest=12s procs=frontend[1234]x3 e.g. sport=40001,40002,40003\n"
	"  advice: process frontend (pid 1234) holds 3 half-closed sockets; tcp_fin_timeout does not apply to held sockets: the application must close() them (or reap them with finwatch, which resets the peer). 1 orphaned socket(s) end after net.ipv4.tcp_fin_timeout of their netns. The peer ACKs our FIN but never sends its own: check it is alive and not overloaded.\n"
	"ALERT max_age peer=192.0.2.7 netns=4026531840 count=3 (held 2, orphaned 1) oldest=40s procs=frontend[1234]x3 e.g. sport=40001,40002,40003\n"
	"  advice: process frontend (pid 1234) holds 3 half-closed sockets; tcp_fin_timeout does not apply to held sockets: the application must close() them (or reap them with finwatch, which resets the peer). 1 orphaned socket(s) end after net.ipv4.tcp_fin_timeout of their netns. The peer ACKs our FIN but never sends its own: check it is alive and not overloaded.\n");
	free(ex);
	free(aj);
	free(at);
	fw2_tracker_free(t);
}

static void test_summaries(void **state)
{
	struct fw2_tracker *t = scenario();
	struct json_writer jw;

	free(cap_text(&exits_json));
	free(cap_text(&alerts_json));
	free(cap_text(&alerts_text));
	assert_output("summary json",
	"{\"type\":\"summary\",\"ts_ns\":140000000000,\"time\":\"2023-11-14T22:15:40.000Z\",\"host\":\"testhost\",\"final\":false,\"count\":3,\"held\":2,\"orphaned\":1,\"unconfirmed_handoffs\":0,\"peers\":[{\"peer\":\"192.0.2.7\",\"netns\":4026531840,\"count\":3,\"held\":2,\"orphaned\":1,\"oldest_age_s\":40.000,\"oldest_age_lower_bound\":false,\"entered\":3,\"exited\":0,\"outcomes\":{\"peer_fin\":0,\"rst\":0,\"timeout\":0,\"killed\":0,\"other\":0}},{\"peer\":\"192.0.2.9\",\"netns\":4026531840,\"count\":0,\"held\":0,\"orphaned\":0,\"oldest_age_s\":0.000,\"oldest_age_lower_bound\":false,\"entered\":2,\"exited\":2,\"outcomes\":{\"peer_fin\":1,\"rst\":1,\"timeout\":0,\"killed\":0,\"other\":0}}],\"transitions\":11,\"events\":10,\"received\":9,\"lost\":1,\"recursion_misses\":2,\"recursion_misses_backup\":3,\"storage_failures\":4,\"handoff_map_full\":5,\"closer_misses\":0,\"age_misses\":0,\"handled_overwrites\":0,\"malformed\":6,\"print_errors\":7,\"cpu_s\":1.500,\"scan_cpu_s\":0.250,\"rss_bytes\":4096000,\"untracked_exits\":0,\"discovered\":0,\"reconciled_missing\":0,\"handoffs\":0,\"capacity_drops\":0,\"alerts_fired\":2,\"scans\":8}\n",
		(jw_init(&jw, out), out_summary_json(&jw, t, 140 * S, 10, &stats, 0), jw_end_line(&jw)));
	assert_output("final summary json",
	"{\"type\":\"summary\",\"ts_ns\":141000000000,\"time\":\"2023-11-14T22:15:41.000Z\",\"host\":\"testhost\",\"final\":true,\"count\":3,\"held\":2,\"orphaned\":1,\"unconfirmed_handoffs\":0,\"peers\":[{\"peer\":\"192.0.2.7\",\"netns\":4026531840,\"count\":3,\"held\":2,\"orphaned\":1,\"oldest_age_s\":41.000,\"oldest_age_lower_bound\":false,\"entered\":3,\"exited\":0,\"outcomes\":{\"peer_fin\":0,\"rst\":0,\"timeout\":0,\"killed\":0,\"other\":0}}],\"transitions\":11,\"events\":10,\"received\":9,\"lost\":1,\"recursion_misses\":2,\"recursion_misses_backup\":3,\"storage_failures\":4,\"handoff_map_full\":5,\"closer_misses\":0,\"age_misses\":0,\"handled_overwrites\":0,\"malformed\":6,\"print_errors\":7,\"cpu_s\":1.500,\"scan_cpu_s\":0.250,\"rss_bytes\":4096000,\"untracked_exits\":0,\"discovered\":0,\"reconciled_missing\":0,\"handoffs\":0,\"capacity_drops\":0,\"alerts_fired\":2,\"scans\":8}\n",
		(jw_init(&jw, out), out_summary_json(&jw, t, 141 * S, 1, &stats, 1), jw_end_line(&jw)));
	assert_output("counters json",
	"{\"transitions\":11,\"events\":10,\"received\":9,\"lost\":1,\"recursion_misses\":2,\"recursion_misses_backup\":3,\"storage_failures\":4,\"handoff_map_full\":5,\"closer_misses\":0,\"age_misses\":0,\"handled_overwrites\":0,\"malformed\":6,\"print_errors\":7,\"cpu_s\":1.500,\"scan_cpu_s\":0.250,\"rss_bytes\":4096000}\n",
		(jw_init(&jw, out), jw_start_object(&jw), out_counters_json(&jw, &stats),
		 jw_end_object(&jw), jw_end_line(&jw)));
	assert_output("table text",
	"--- FIN_WAIT_2 now: 3 (held 2, orphaned 1) in 1 peer shown; events 10, lost 1, skipped 2\n"
	"PEER                                     NETNS        COUNT   HELD ORPHANED     OLDEST   ENTERED    EXITED\n"
	"192.0.2.7                                4026531840       3      2        1        40s         3         0\n", out_table_text(out, t, 140 * S, 10, &stats));
	assert_output("histograms text",
	"\n"
	"FIN_WAIT_2 lifetime, peer 192.0.2.9 netns 4026531840 (exits: peer_fin 1, rst 1, timeout 0, killed 0, other 0)\n"
	"                   msecs : count    |distribution                            |\n"
	"      4096 -> 8191       : 2        |****************************************|\n", out_histograms_text(out, t, 10));
	fw2_tracker_free(t);
}

static void test_reap_start_error_records(void **state)
{
	struct fw2_tracker *t = scenario();
	const struct fw2_peer *peers[4];
	struct fw2_candidate c = { .cookie = 9, .age_ns = 61500000000ULL, .netns = 4026531840u,
				   .family = FW_AF_INET, .sport = 40009, .dport = 443,
				   .saddr = { 10, 0, 0, 1 }, .daddr = { 192, 0, 2, 7 }, .pid = 1234,
				   .comm = "front\nend" };
	struct json_writer jw;

	free(cap_text(&exits_json));
	free(cap_text(&alerts_json));
	free(cap_text(&alerts_text));
	assert_int_equal(fw2_top_peers(t, peers, 4, 0), 1);
	c.peer = peers[0];
	assert_output("reaped json",
	"{\"type\":\"reaped\",\"ts_ns\":150000000000,\"time\":\"2023-11-14T22:15:50.000Z\",\"host\":\"testhost\",\"peer\":\"192.0.2.7\",\"netns\":4026531840,\"family\":4,\"saddr\":\"10.0.0.1\",\"sport\":40009,\"daddr\":\"192.0.2.7\",\"dport\":443,\"cookie\":9,\"age_s\":61.500,\"kind\":\"held\",\"timewait\":false,\"pid\":1234,\"comm\":\"front\\nend\",\"result\":\"ok\"}\n",
		(jw_init(&jw, out), out_reaped_json(&jw, &c, "ok", 0, 150 * S), jw_end_line(&jw)));
	assert_output("reaped text",
	"REAPED (dry run, not destroyed) 10.0.0.1:40009 -> 192.0.2.7:443 peer=192.0.2.7 netns=4026531840 age=61.5s kind=held holder=front?end[1234] result=dry_run\n", out_reaped_text(out, &c, "dry_run", 0));
	c.pid = 0;
	c.orphaned = c.timewait = 1;
	assert_output("reap failed json",
	"{\"type\":\"reaped\",\"ts_ns\":150000000000,\"time\":\"2023-11-14T22:15:50.000Z\",\"host\":\"testhost\",\"peer\":\"192.0.2.7\",\"netns\":4026531840,\"family\":4,\"saddr\":\"10.0.0.1\",\"sport\":40009,\"daddr\":\"192.0.2.7\",\"dport\":443,\"cookie\":9,\"age_s\":61.500,\"kind\":\"orphaned\",\"timewait\":true,\"pid\":null,\"comm\":null,\"result\":\"failed\",\"error\":\"Operation not permitted\"}\n",
		(jw_init(&jw, out), out_reaped_json(&jw, &c, "failed", -EPERM, 150 * S), jw_end_line(&jw)));
	assert_output("reap failed text",
	"REAPED 10.0.0.1:40009 -> 192.0.2.7:443 peer=192.0.2.7 netns=4026531840 age=61.5s kind=orphaned holder=-[0] result=failed: Operation not permitted\n", out_reaped_text(out, &c, "failed", -EPERM));
	assert_output("reconcile json",
	"{\"type\":\"reconcile\",\"ts_ns\":151000000000,\"time\":\"2023-11-14T22:15:51.000Z\",\"host\":\"testhost\",\"found\":3,\"missing\":1}\n",
		(jw_init(&jw, out), out_reconcile_json(&jw, 3, 1, 151 * S), jw_end_line(&jw)));
	assert_output("reconcile text",
	"RECONCILE: a full scan found 3 FIN_WAIT_2 socket(s) no event announced and 1 tracked socket(s) already gone (events were missed; see lost/skipped)\n", out_reconcile_text(out, 3, 1));
	assert_output("start json",
	"{\"type\":\"start\",\"ts_ns\":152000000000,\"time\":\"2023-11-14T22:15:52.000Z\",\"host\":\"testhost\",\"command\":\"watch\",\"discovered\":0}\n"
	"{\"type\":\"start\",\"ts_ns\":152000000000,\"time\":\"2023-11-14T22:15:52.000Z\",\"host\":\"testhost\",\"command\":\"trace\"}\n",
		(jw_init(&jw, out), out_start_json(&jw, "watch", t, 152 * S), jw_end_line(&jw),
		 out_start_json(&jw, "trace", NULL, 152 * S), jw_end_line(&jw)));
	assert_output("trace summary json",
	"{\"type\":\"summary\",\"ts_ns\":153000000000,\"time\":\"2023-11-14T22:15:53.000Z\",\"host\":\"testhost\",\"final\":true,\"transitions\":11,\"events\":10,\"received\":9,\"lost\":1,\"recursion_misses\":2,\"recursion_misses_backup\":3,\"storage_failures\":4,\"handoff_map_full\":5,\"closer_misses\":0,\"age_misses\":0,\"handled_overwrites\":0,\"malformed\":6,\"print_errors\":7,\"cpu_s\":1.500,\"scan_cpu_s\":0.250,\"rss_bytes\":4096000}\n",
		(jw_init(&jw, out), out_trace_summary_json(&jw, &stats, 153 * S), jw_end_line(&jw)));
	assert_output("error json",
	"{\"type\":\"error\",\"ts_ns\":154000000000,\"time\":\"2023-11-14T22:15:54.000Z\",\"host\":\"testhost\",\"error\":\"reaping \\\"stopped\\\"\"}\n",
		(jw_init(&jw, out), out_error_json(&jw, "reaping \"stopped\"", 154 * S), jw_end_line(&jw)));
	fw2_tracker_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_and_alert_records),
		cmocka_unit_test(test_summaries),
		cmocka_unit_test(test_reap_start_error_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
