// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The Prometheus page, pinned byte for byte from a tracker fed synthetic
 * events, and its label escaping. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "cli.h"
#include "metrics.h"
#include "parse.h"
#include "golden.h"

#define S NS_PER_SEC

static void feed(struct fw2_tracker *t, __u64 cookie, int peer, int enter, __u64 ts, __u8 flags, int err)
{
	struct fw_event e = enter ? golden_ev(cookie, peer, FW_TCP_FIN_WAIT1, FW_TCP_FIN_WAIT2, ts,
					      flags | FW_EVF_CLOSER, err)
				  : golden_ev(cookie, peer, FW_TCP_FIN_WAIT2, FW_TCP_CLOSE, ts, flags, err);

	fw2_on_event(t, &e);
}

static void test_page(void **state)
{
	struct fw_config cfg;
	struct fw2_callbacks cb = { 0 };
	struct fw_run_stats st = {
		.transitions = 11, .events = 10, .received = 9, .lost = 1, .recursion_misses = 2,
		.recursion_misses_backup = 3, .storage_failures = 4, .handoff_map_full = 5,
		.malformed = 6, .print_errors = 7, .scans = 8, .cpu_ns = 1500000000,
		.scan_cpu_ns = 250000000, .rss_bytes = 4096000,
	};
	struct strbuf sb = { 0 };
	struct fw2_tracker *t;

	cli_defaults(&cfg);
	cfg.max_per_peer = 2;
	t = fw2_tracker_new((const struct fw2_policy[]){ cli_tracker_policy(&cfg) }, &cb, 0);
	assert_non_null(t);
	feed(t, 1, 7, 1, 100 * S, 0, 0);
	feed(t, 2, 7, 1, 101 * S, FW_EVF_ORPHANED, 0);
	feed(t, 3, 7, 1, 102 * S, 0, 0);
	feed(t, 4, 9, 1, 103 * S, 0, 0);
	feed(t, 5, 8, 1, 103 * S, 0, 0);
	feed(t, 4, 9, 0, 110 * S, FW_EVF_FIN_RCVD, 0);
	fw2_tick(t, 112 * S);
	/* top 1: peer .8 folds into "other" */
	assert_int_equal(metrics_render(&sb, t, &st, 1, 120 * S, 5, 2, 0), 0);
	assert_golden("page", sb.buf,
	"# HELP finwatch_fin_wait2_sockets TCP sockets in FIN_WAIT_2 now per peer; kind=held (fd kept, no kernel timeout) or orphaned (closed, ends after tcp_fin_timeout); peer=\"other\" folds peers beyond the top K.\n"
	"# TYPE finwatch_fin_wait2_sockets gauge\n"
	"finwatch_fin_wait2_sockets{peer=\"192.0.2.7\",netns=\"4026531840\",kind=\"held\"} 2\n"
	"finwatch_fin_wait2_sockets{peer=\"192.0.2.7\",netns=\"4026531840\",kind=\"orphaned\"} 1\n"
	"finwatch_fin_wait2_sockets{peer=\"other\",netns=\"other\",kind=\"held\"} 1\n"
	"finwatch_fin_wait2_sockets{peer=\"other\",netns=\"other\",kind=\"orphaned\"} 0\n"
	"# HELP finwatch_fin_wait2_host_sockets TCP sockets in FIN_WAIT_2 now on this host, after finwatch's filters.\n"
	"# TYPE finwatch_fin_wait2_host_sockets gauge\n"
	"finwatch_fin_wait2_host_sockets{kind=\"held\"} 3\n"
	"finwatch_fin_wait2_host_sockets{kind=\"orphaned\"} 1\n"
	"# HELP finwatch_handoffs_unconfirmed Orphans handed to a timewait socket that no scan has looked at yet; most got the peer's FIN a round trip later. Not in the FIN_WAIT_2 gauges until a scan sees them still there.\n"
	"# TYPE finwatch_handoffs_unconfirmed gauge\n"
	"finwatch_handoffs_unconfirmed 0\n"
	"# HELP finwatch_fin_wait2_oldest_age_seconds Age of the peer's oldest FIN_WAIT_2 socket (a lower bound for sockets older than finwatch).\n"
	"# TYPE finwatch_fin_wait2_oldest_age_seconds gauge\n"
	"finwatch_fin_wait2_oldest_age_seconds{peer=\"192.0.2.7\",netns=\"4026531840\"} 20.000\n"
	"# HELP finwatch_fin_wait2_lifetime_seconds Time sockets spent in FIN_WAIT_2, counted when they left it.\n"
	"# TYPE finwatch_fin_wait2_lifetime_seconds histogram\n"
	"finwatch_fin_wait2_lifetime_seconds_bucket{le=\"0.001\"} 0\n"
	"finwatch_fin_wait2_lifetime_seconds_bucket{le=\"0.002\"} 0\n"
	"finwatch_fin_wait2_lifetime_seconds_bucket{le=\"0.004\"} 0\n"
	"finwatch_fin_wait2_lifetime_seconds_bucket{le=\"0.008\"} 0\n"
	"finwatch_fin_wait2_lifetime_seconds_bucket{le=\"0.016\"} 0\n"
	"finwatch_fin_wait2_lifetime_seconds_bucket{le=\"0.032\"} 0\n"
	"finwatch_fin_wait2_lifetime_seconds_bucket{le=\"0.064\"} 0\n"
	"finwatch_fin_wait2_lifetime_seconds_bucket{le=\"0.128\"} 0\n"
	"finwatch_fin_wait2_lifetime_seconds_bucket{le=\"0.256\"} 0\n"
	"finwatch_fin_wait2_lifetime_seconds_bucket{le=\"0.512\"} 0\n"
	"finwatch_fin_wait2_lifetime_seconds_bucket{le=\"1.024\"} 0\n"
	"finwatch_fin_wait2_lifetime_seconds_bucket{le=\"2.048\"} 0\n"
	"finwatch_fin_wait2_lifetime_seconds_bucket{le=\"4.096\"} 0\n"
	"finwatch_fin_wait2_lifetime_seconds_bucket{le=\"8.192\"} 1\n"
	"finwatch_fin_wait2_lifetime_seconds_bucket{le=\"16.384\"} 1\n"
	"finwatch_fin_wait2_lifetime_seconds_bucket{le=\"32.768\"} 1\n"
	"finwatch_fin_wait2_lifetime_seconds_bucket{le=\"65.536\"} 1\n"
	"finwatch_fin_wait2_lifetime_seconds_bucket{le=\"131.072\"} 1\n"
	"finwatch_fin_wait2_lifetime_seconds_bucket{le=\"262.144\"} 1\n"
	"finwatch_fin_wait2_lifetime_seconds_bucket{le=\"524.288\"} 1\n"
	"finwatch_fin_wait2_lifetime_seconds_bucket{le=\"1048.576\"} 1\n"
	"finwatch_fin_wait2_lifetime_seconds_bucket{le=\"2097.152\"} 1\n"
	"finwatch_fin_wait2_lifetime_seconds_bucket{le=\"4194.304\"} 1\n"
	"finwatch_fin_wait2_lifetime_seconds_bucket{le=\"8388.608\"} 1\n"
	"finwatch_fin_wait2_lifetime_seconds_bucket{le=\"16777.216\"} 1\n"
	"finwatch_fin_wait2_lifetime_seconds_bucket{le=\"+Inf\"} 1\n"
	"finwatch_fin_wait2_lifetime_seconds_sum 7.000000\n"
	"finwatch_fin_wait2_lifetime_seconds_count 1\n"
	"# HELP finwatch_fin_wait2_exits_total Sockets that left FIN_WAIT_2, by how: peer_fin, rst, timeout (tcp_fin_timeout), killed, other.\n"
	"# TYPE finwatch_fin_wait2_exits_total counter\n"
	"finwatch_fin_wait2_exits_total{outcome=\"peer_fin\"} 1\n"
	"finwatch_fin_wait2_exits_total{outcome=\"rst\"} 0\n"
	"finwatch_fin_wait2_exits_total{outcome=\"timeout\"} 0\n"
	"finwatch_fin_wait2_exits_total{outcome=\"killed\"} 0\n"
	"finwatch_fin_wait2_exits_total{outcome=\"other\"} 0\n"
	"# HELP finwatch_events_total Events the BPF program submitted to the ring buffer.\n"
	"# TYPE finwatch_events_total counter\n"
	"finwatch_events_total 10\n"
	"# HELP finwatch_events_lost_total Events dropped because the ring buffer was full (raise --ringbuf-size).\n"
	"# TYPE finwatch_events_lost_total counter\n"
	"finwatch_events_lost_total 1\n"
	"# HELP finwatch_recursion_misses_total Tracepoint hits the kernel did not run a copy of finwatch's program for (it was already running on that CPU); two copies run, an event is lost only if both skipped it.\n"
	"# TYPE finwatch_recursion_misses_total counter\n"
	"finwatch_recursion_misses_total{copy=\"main\"} 2\n"
	"finwatch_recursion_misses_total{copy=\"backup\"} 3\n"
	"# HELP process_cpu_seconds_total CPU finwatch's process used, user and system (the kernel's socket walks for its scans included).\n"
	"# TYPE process_cpu_seconds_total counter\n"
	"process_cpu_seconds_total 1.500\n"
	"# HELP process_resident_memory_bytes finwatch's resident memory.\n"
	"# TYPE process_resident_memory_bytes gauge\n"
	"process_resident_memory_bytes 4096000\n"
	"# HELP finwatch_scans_total iter/tcp walks of a network namespace (follow-ups, discovery, reconciliation).\n"
	"# TYPE finwatch_scans_total counter\n"
	"finwatch_scans_total 8\n"
	"# HELP finwatch_scan_cpu_seconds_total CPU those walks used.\n"
	"# TYPE finwatch_scan_cpu_seconds_total counter\n"
	"finwatch_scan_cpu_seconds_total 0.250\n"
	"# HELP finwatch_alerts_firing Alerts firing now, by rule and peer.\n"
	"# TYPE finwatch_alerts_firing gauge\n"
	"finwatch_alerts_firing{rule=\"max_per_peer\",peer=\"192.0.2.7\",netns=\"4026531840\"} 1\n"
	"finwatch_alerts_firing{rule=\"max_total\",peer=\"*\",netns=\"*\"} 0\n"
	"# HELP finwatch_alerts_fired_total Alerts that started firing, by rule.\n"
	"# TYPE finwatch_alerts_fired_total counter\n"
	"finwatch_alerts_fired_total{rule=\"max_age\"} 0\n"
	"finwatch_alerts_fired_total{rule=\"max_per_peer\"} 1\n"
	"finwatch_alerts_fired_total{rule=\"max_total\"} 0\n"
	"# HELP finwatch_reaped_total FIN_WAIT_2 sockets finwatch destroyed, by result.\n"
	"# TYPE finwatch_reaped_total counter\n"
	"finwatch_reaped_total{result=\"ok\"} 5\n"
	"finwatch_reaped_total{result=\"failed\"} 2\n"
	"# HELP finwatch_build_info finwatch version.\n"
	"# TYPE finwatch_build_info gauge\n"
	"finwatch_build_info{version=\"0.1.0\"} 1\n");
	sb_free(&sb);
	fw2_tracker_free(t);
}

static void test_label_escaping(void **state)
{
	struct strbuf sb = { 0 };

	sb_label_value(&sb, "a\\b\"c\nd");
	assert_golden("label", sb.buf,
	"a\\\\b\\\"c\\nd");
	sb_free(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page),
		cmocka_unit_test(test_label_escaping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
