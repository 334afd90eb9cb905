// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* fw2_tracker driven by synthetic events, scans and clocks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "cli.h"
#include "fw2_tracker.h"
#include "golden.h"

#define S NS_PER_SEC
#define MS NS_PER_MS
#define HZ 250
#define NETNS 4026531840u

struct rec_log {
	int n_exit;
	struct fw2_exit exits[64];
	char exit_peer[64][64];
	int n_alert;
	struct fw2_alert alerts[64];
	int n_follow, n_unfollow;
	__u64 followed[16], unfollowed[16];
};

static struct rec_log lg;

static void on_exit_cb(void *ctx, const struct fw2_exit *x)
{
	if (lg.n_exit < 64) {
		fw2_peer_str(x->peer, lg.exit_peer[lg.n_exit], sizeof(lg.exit_peer[0]));
		lg.exits[lg.n_exit++] = *x;
	}
}

static void on_alert_cb(void *ctx, const struct fw2_alert *a)
{
	if (lg.n_alert < 64)
		lg.alerts[lg.n_alert++] = *a;
}

static void follow_cb(void *ctx, __u64 c)
{
	if (lg.n_follow < 16)
		lg.followed[lg.n_follow++] = c;
}

static void unfollow_cb(void *ctx, __u64 c)
{
	if (lg.n_unfollow < 16)
		lg.unfollowed[lg.n_unfollow++] = c;
}

static struct fw2_tracker *mk(struct fw_config *cfg)
{
	struct fw2_callbacks cb = { on_exit_cb, on_alert_cb, follow_cb, unfollow_cb, NULL };

	memset(&lg, 0, sizeof(lg));
	return fw2_tracker_new((const struct fw2_policy[]){ cli_tracker_policy(cfg) }, &cb, 0);
}

static struct fw_config defaults(void)
{
	struct fw_config c;

	cli_defaults(&c);
	return c;
}

static struct fw_event ev(__u64 cookie, int peer_last_octet, __u8 old, __u8 nw, __u64 ts, __u8 flags, int err)
{
	return golden_ev(cookie, peer_last_octet, old, nw, ts, flags | FW_EVF_CLOSER, err);
}

static void enter(struct fw2_tracker *t, __u64 cookie, int peer, __u64 ts, int orphaned)
{
	struct fw_event e = ev(cookie, peer, FW_TCP_FIN_WAIT1, FW_TCP_FIN_WAIT2, ts,
			       orphaned ? FW_EVF_ORPHANED : 0, 0);

	fw2_on_event(t, &e);
}

static void leave(struct fw2_tracker *t, __u64 cookie, int peer, __u64 ts, __u8 flags, int err)
{
	struct fw_event e = ev(cookie, peer, FW_TCP_FIN_WAIT2, FW_TCP_CLOSE, ts, flags, err);

	fw2_on_event(t, &e);
}

static struct fw_scan_rec tw_rec(__u64 cookie, int peer, __u64 now_ns, __u64 expires_in_ns, __u8 substate)
{
	struct fw_scan_rec r;

	memset(&r, 0, sizeof(r));
	r.cookie = cookie;
	r.now_ns = now_ns;
	r.now_jiffies = 1000000;
	r.stamp_jiffies = r.now_jiffies + expires_in_ns / (S / HZ);
	r.netns = NETNS;
	r.family = FW_AF_INET;
	r.daddr[0] = 192; r.daddr[2] = 2; r.daddr[3] = (__u8)peer;
	r.sport = (__u16)(40000 + cookie);
	r.dport = 443;
	r.kind = FW_SCAN_TW;
	r.state = substate;
	r.flags = FW_EVF_ORPHANED;
	r.fin_timeout_jiffies = 60 * HZ;
	return r;
}

static void test_held_socket_alerts_and_resolves(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_tracker *t;
	__u32 held, orph;

	cfg.max_age_ns = 5 * S;
	t = mk(&cfg);
	enter(t, 1, 7, 100 * S, 0);
	assert_int_equal(fw2_total(t, &held, &orph), 1);
	assert_int_equal(held, 1);
	fw2_tick(t, 104 * S);
	assert_int_equal(lg.n_alert, 0);
	/* Stuck forever: no exit event ever comes, the tick must fire. */
	fw2_tick(t, 105 * S + 1);
	assert_int_equal(lg.n_alert, 1);
	assert_int_equal(lg.alerts[0].rule, FW2_RULE_MAX_AGE);
	assert_true(lg.alerts[0].firing);
	assert_int_equal(lg.alerts[0].held, 1);
	assert_int_equal(lg.alerts[0].n_procs, 1);
	assert_int_equal(lg.alerts[0].procs[0].pid, 1234);
	assert_string_equal(lg.alerts[0].procs[0].comm, "frontend");
	assert_int_equal(lg.alerts[0].n_examples, 1);
	/* Once per episode. */
	fw2_tick(t, 106 * S);
	fw2_tick(t, 200 * S);
	assert_int_equal(lg.n_alert, 1);
	/* The peer's FIN finally arrives. */
	leave(t, 1, 7, 201 * S, FW_EVF_FIN_RCVD, 0);
	assert_int_equal(lg.n_exit, 1);
	assert_int_equal(lg.exits[0].outcome, FW2_OUT_PEER_FIN);
	assert_int_equal(lg.exits[0].duration_ns, 101 * S);
	fw2_tick(t, 201 * S + 1);
	assert_int_equal(lg.n_alert, 2);
	assert_false(lg.alerts[1].firing);
	assert_int_equal(fw2_total(t, NULL, NULL), 0);
	fw2_tracker_free(t);
}

static void test_outcomes_from_close_events(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_tracker *t = mk(&cfg);

	enter(t, 1, 1, 1 * S, 0);
	enter(t, 2, 1, 1 * S, 0);
	enter(t, 3, 1, 1 * S, 0);
	leave(t, 1, 1, 2 * S, 0, 104);
	leave(t, 2, 1, 2 * S, 0, 103);
	leave(t, 3, 1, 2 * S, 0, 0);   /* held, no FIN, no error: other */
	assert_int_equal(lg.n_exit, 3);
	assert_int_equal(lg.exits[0].outcome, FW2_OUT_RST);
	assert_int_equal(lg.exits[1].outcome, FW2_OUT_KILLED);
	assert_int_equal(lg.exits[2].outcome, FW2_OUT_OTHER);
	assert_string_equal(fw2_outcome_name(FW2_OUT_TIMEOUT), "timeout");
	fw2_tracker_free(t);
}

static void test_handoff_followed_to_timeout(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_tracker *t = mk(&cfg);
	struct fw_scan_rec r;

	enter(t, 5, 9, 10 * S, 1);
	leave(t, 5, 9, 10 * S + 3000, FW_EVF_ORPHANED, 0);   /* handoff */
	assert_int_equal(lg.n_exit, 0);
	/* Not counted until a scan confirms it is still in FIN_WAIT2. */
	assert_int_equal(fw2_total(t, NULL, NULL), 0);
	assert_int_equal(fw2_unconfirmed_handoffs(t), 1);
	assert_true(fw2_netns_needs_scan(t, NETNS));
	assert_int_equal(fw2_counters(t)->handoffs, 1);

	fw2_scan_begin(t, NETNS, 11 * S, 5, HZ, 0);
	r = tw_rec(5, 9, 11 * S, 4 * S, FW_TCP_FIN_WAIT2);
	fw2_scan_rec(t, &r);
	fw2_scan_end(t, 11 * S + 1000);
	assert_int_equal(lg.n_exit, 0);
	assert_int_equal(fw2_counters(t)->tw_confirmed, 1);
	assert_int_equal(fw2_total(t, NULL, NULL), 1);
	assert_int_equal(fw2_unconfirmed_handoffs(t), 0);

	/* Gone at the next scan after its expiry (15 s): timeout, dated at expiry. */
	fw2_scan_begin(t, NETNS, 16 * S, 5, HZ, 0);
	fw2_scan_end(t, 16 * S + 1000);
	assert_int_equal(lg.n_exit, 1);
	assert_int_equal(lg.exits[0].outcome, FW2_OUT_TIMEOUT);
	assert_int_equal(lg.exits[0].exit_ns, 15 * S);
	assert_int_equal(lg.exits[0].duration_ns, 5 * S);
	assert_true(lg.exits[0].orphaned);
	assert_false(fw2_netns_needs_scan(t, NETNS));
	assert_int_equal(lg.n_unfollow, 1);
	assert_int_equal(lg.unfollowed[0], 5);
	fw2_tracker_free(t);
}

static void test_handoff_then_peer_fin(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_tracker *t = mk(&cfg);
	struct fw_scan_rec r;

	enter(t, 6, 9, 10 * S, 1);
	leave(t, 6, 9, 10 * S, FW_EVF_ORPHANED, 0);
	/* The FIN came at 12 s: timer re-armed to 12 s + 60 s. */
	fw2_scan_begin(t, NETNS, 13 * S, 60, HZ, 0);
	r = tw_rec(6, 9, 13 * S, 59 * S, FW_TCP_TIME_WAIT);
	fw2_scan_rec(t, &r);
	fw2_scan_end(t, 13 * S);
	assert_int_equal(lg.n_exit, 1);
	assert_int_equal(lg.exits[0].outcome, FW2_OUT_PEER_FIN);
	assert_int_equal(lg.exits[0].duration_ns, 2 * S);
	/* The scan already removed it from the kernel map. */
	assert_int_equal(lg.n_unfollow, 0);
	fw2_tracker_free(t);
}

static void test_timewait_rst_and_no_successor(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_tracker *t = mk(&cfg);
	struct fw_scan_rec r;

	/* 7: confirmed timewait that vanishes long before expiry -> rst. */
	enter(t, 7, 9, 10 * S, 1);
	leave(t, 7, 9, 10 * S, FW_EVF_ORPHANED, 0);
	/* 8: handoff candidate that never had a timewait successor -> other. */
	enter(t, 8, 9, 10 * S, 1);
	leave(t, 8, 9, 10 * S + 5, FW_EVF_ORPHANED, 0);
	fw2_scan_begin(t, NETNS, 11 * S, 60, HZ, 0);
	r = tw_rec(7, 9, 11 * S, 59 * S, FW_TCP_FIN_WAIT2);
	fw2_scan_rec(t, &r);
	fw2_scan_end(t, 11 * S);
	assert_int_equal(lg.n_exit, 1);
	assert_int_equal(lg.exits[0].cookie, 8);
	assert_int_equal(lg.exits[0].outcome, FW2_OUT_OTHER);
	fw2_scan_begin(t, NETNS, 20 * S, 60, HZ, 0);
	fw2_scan_end(t, 20 * S);
	assert_int_equal(lg.n_exit, 2);
	assert_int_equal(lg.exits[1].outcome, FW2_OUT_RST);
	fw2_tracker_free(t);
}

static void test_pending_handoff_not_judged_by_older_scan(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_tracker *t = mk(&cfg);

	enter(t, 9, 9, 10 * S, 1);
	/* The handoff happened after this scan began: not comparable. */
	fw2_scan_begin(t, NETNS, 11 * S, 60, HZ, 0);
	leave(t, 9, 9, 12 * S, FW_EVF_ORPHANED, 0);
	fw2_scan_end(t, 12 * S);
	assert_int_equal(lg.n_exit, 0);
	assert_int_equal(fw2_unconfirmed_handoffs(t), 1);
	fw2_tracker_free(t);
}

static void test_keepalive_expiry_is_timeout(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_tracker *t = mk(&cfg);

	/* fin_timeout 5 s; an orphan held by the keepalive timer ends at 5 s
	 * with no timewait successor. */
	enter(t, 10, 9, 10 * S, 1);
	leave(t, 10, 9, 15 * S, FW_EVF_ORPHANED, 0);
	fw2_scan_begin(t, NETNS, 16 * S, 5, HZ, 0);
	fw2_scan_end(t, 16 * S);
	assert_int_equal(lg.n_exit, 1);
	assert_int_equal(lg.exits[0].outcome, FW2_OUT_TIMEOUT);
	assert_int_equal(lg.exits[0].duration_ns, 5 * S);
	fw2_tracker_free(t);
}

static void test_unscannable_netns_expires_timewait(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_tracker *t = mk(&cfg);
	struct fw_scan_rec r;

	enter(t, 12, 9, 10 * S, 1);
	leave(t, 12, 9, 10 * S, FW_EVF_ORPHANED, 0);
	fw2_scan_begin(t, NETNS, 11 * S, 30, HZ, 0);
	r = tw_rec(12, 9, 11 * S, 29 * S, FW_TCP_FIN_WAIT2);  /* expires at 40 s */
	fw2_scan_rec(t, &r);
	fw2_scan_end(t, 11 * S);
	enter(t, 11, 9, 10 * S, 1);
	leave(t, 11, 9, 12 * S, FW_EVF_ORPHANED, 0);      /* pending, never confirmed */
	/* The namespace can no longer be scanned: nothing ends early... */
	assert_int_equal(fw2_total(t, NULL, NULL), 1);
	fw2_netns_unscannable(t, NETNS, 20 * S);
	assert_int_equal(lg.n_exit, 0);
	/* No scan can confirm the pending one: it counts as stuck now. */
	assert_int_equal(fw2_total(t, NULL, NULL), 2);
	assert_int_equal(fw2_unconfirmed_handoffs(t), 0);
	/* ...and each ends at its expected expiry once that has passed. */
	fw2_netns_unscannable(t, NETNS, 41 * S);
	assert_int_equal(lg.n_exit, 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(lg.exits[i].outcome, FW2_OUT_TIMEOUT);
		/* 12: its timer; 11: entered at 10 s + tcp_fin_timeout 30 s. */
		assert_int_equal(lg.exits[i].exit_ns, 40 * S);
	}
	assert_int_equal(fw2_total(t, NULL, NULL), 0);
	fw2_tracker_free(t);
}

static void test_discovery_and_reconcile(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_tracker *t = mk(&cfg);
	struct fw_scan_rec r;
	int lb;

	/* A held full socket whose last ACK came 3 s before the scan. */
	memset(&r, 0, sizeof(r));
	r.cookie = 20;
	r.now_ns = 100 * S;
	r.now_jiffies = 50000;
	r.stamp_jiffies = 50000 - 3 * HZ;
	r.netns = NETNS;
	r.family = FW_AF_INET;
	r.daddr[0] = 192; r.daddr[2] = 2; r.daddr[3] = 5;
	r.kind = FW_SCAN_FULL;
	r.state = FW_TCP_FIN_WAIT2;
	r.fin_timeout_jiffies = 60 * HZ;
	fw2_scan_begin(t, NETNS, 100 * S, 60, HZ, 1);
	fw2_scan_rec(t, &r);
	/* And an orphan in timewait with 20 s left of 60. */
	struct fw_scan_rec w = tw_rec(21, 5, 100 * S, 20 * S, FW_TCP_FIN_WAIT2);

	fw2_scan_rec(t, &w);
	fw2_scan_end(t, 100 * S);
	assert_int_equal(fw2_counters(t)->discovered, 2);
	assert_int_equal(lg.n_follow, 1);
	assert_int_equal(lg.followed[0], 21);

	const struct fw2_peer *top[4];

	assert_int_equal(fw2_top_peers(t, top, 4, 0), 1);
	assert_int_equal(top[0]->held, 1);
	assert_int_equal(top[0]->orphaned, 1);
	assert_int_equal(fw2_peer_oldest_age(t, top[0], 100 * S, &lb), 40 * S);
	assert_true(lb);

	/* The held one's exit event was lost: a full scan corrects it. */
	fw2_scan_begin(t, NETNS, 110 * S, 60, HZ, 1);
	w = tw_rec(21, 5, 110 * S, 10 * S, FW_TCP_FIN_WAIT2);
	fw2_scan_rec(t, &w);
	fw2_scan_end(t, 110 * S);
	assert_int_equal(fw2_counters(t)->reconciled_missing, 1);
	assert_int_equal(fw2_total(t, NULL, NULL), 1);
	fw2_tracker_free(t);
}

static void test_event_fixes_discovered_estimate(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_tracker *t = mk(&cfg);
	struct fw_scan_rec r;
	const struct fw2_peer *top[1];
	int lb;

	memset(&r, 0, sizeof(r));
	r.cookie = 30;
	r.now_ns = 100 * S;
	r.now_jiffies = r.stamp_jiffies = 7;
	r.netns = NETNS;
	r.family = FW_AF_INET;
	r.daddr[3] = 5;
	r.kind = FW_SCAN_FULL;
	r.state = FW_TCP_FIN_WAIT2;
	fw2_scan_begin(t, NETNS, 100 * S, 60, HZ, 1);
	fw2_scan_rec(t, &r);
	/* The enter event was still queued when the walk saw the socket. */
	struct fw_event e = ev(30, 5, FW_TCP_FIN_WAIT1, FW_TCP_FIN_WAIT2, 99 * S, 0, 0);

	e.daddr[0] = 0; e.daddr[2] = 0;
	fw2_on_event(t, &e);
	fw2_scan_end(t, 100 * S);
	assert_int_equal(fw2_top_peers(t, top, 1, 0), 1);
	assert_int_equal(fw2_peer_oldest_age(t, top[0], 101 * S, &lb), 2 * S);
	assert_false(lb);
	assert_int_equal(fw2_total(t, NULL, NULL), 1);
	fw2_tracker_free(t);
}

static void test_untracked_exit_counted(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_tracker *t = mk(&cfg);
	struct fw_event e = ev(40, 3, FW_TCP_FIN_WAIT2, FW_TCP_CLOSE, 5 * S, 0, 104);

	e.ns_in_old = 2 * S;
	fw2_on_event(t, &e);
	assert_int_equal(fw2_counters(t)->untracked_exits, 1);
	assert_int_equal(lg.n_exit, 1);
	assert_int_equal(lg.exits[0].duration_ns, 2 * S);
	assert_int_equal(lg.exits[0].outcome, FW2_OUT_RST);
	assert_int_equal(fw2_total(t, NULL, NULL), 0);
	fw2_tracker_free(t);
}

static void test_close_after_shutdown_becomes_orphan(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_tracker *t = mk(&cfg);
	__u32 held, orph;

	enter(t, 50, 3, 1 * S, 0);
	struct fw_event e = ev(50, 3, FW_TCP_FIN_WAIT2, FW_TCP_FIN_WAIT2, 2 * S, FW_EVF_ORPHANED, 0);

	fw2_on_event(t, &e);
	assert_int_equal(lg.n_exit, 0);
	fw2_total(t, &held, &orph);
	assert_int_equal(held, 0);
	assert_int_equal(orph, 1);
	fw2_tracker_free(t);
}

static void test_per_peer_and_total_limits(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_tracker *t;

	cfg.max_per_peer = 3;
	cfg.max_total = 5;
	cfg.max_age_ns = 0;
	t = mk(&cfg);
	for (int i = 0; i < 3; i++)
		enter(t, 100 + i, 1, S + i, 1);
	for (int i = 0; i < 2; i++)
		enter(t, 200 + i, 2, S + i, 0);
	fw2_tick(t, 2 * S);
	assert_int_equal(lg.n_alert, 0);   /* 3 is not more than 3, 5 not more than 5 */
	enter(t, 103, 1, 3 * S, 1);
	fw2_tick(t, 3 * S);
	assert_int_equal(lg.n_alert, 2);
	int saw_peer = 0, saw_total = 0;

	for (int i = 0; i < 2; i++) {
		if (lg.alerts[i].rule == FW2_RULE_MAX_PER_PEER) {
			saw_peer = 1;
			assert_int_equal(lg.alerts[i].count, 4);
			assert_non_null(lg.alerts[i].peer);
			assert_int_equal(lg.alerts[i].peer->addr[3], 1);
		}
		if (lg.alerts[i].rule == FW2_RULE_MAX_TOTAL) {
			saw_total = 1;
			assert_null(lg.alerts[i].peer);
			assert_int_equal(lg.alerts[i].count, 6);
		}
	}
	assert_true(saw_peer && saw_total);
	leave(t, 103, 1, 4 * S, FW_EVF_ORPHANED | FW_EVF_FIN_RCVD, 0);
	fw2_tick(t, 4 * S);
	assert_int_equal(lg.n_alert, 4);
	assert_false(lg.alerts[2].firing);
	assert_false(lg.alerts[3].firing);
	assert_int_equal(fw2_counters(t)->alerts_fired, 2);
	fw2_tracker_free(t);
}

static void test_disabled_rules_never_fire(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_tracker *t;

	cfg.max_per_peer = cfg.max_total = 0;
	cfg.max_age_ns = 0;
	t = mk(&cfg);
	for (int i = 0; i < 50; i++)
		enter(t, 300 + i, 1, S, 0);
	fw2_tick(t, 10000 * S);
	assert_int_equal(lg.n_alert, 0);
	fw2_tracker_free(t);
}

static void test_group_by_prefix_and_port(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_tracker *t;
	char buf[64];

	cfg.group_by = FW_GROUP_PREFIX;
	cfg.group_prefix4 = 24;
	cfg.group_prefix6 = 64;
	t = mk(&cfg);
	enter(t, 1, 7, S, 0);
	enter(t, 2, 8, S, 0);
	const struct fw2_peer *top[4];

	assert_int_equal(fw2_top_peers(t, top, 4, 0), 1);
	assert_int_equal(top[0]->held, 2);
	assert_string_equal(fw2_peer_str(top[0], buf, sizeof(buf)), "192.0.2.0/24");
	fw2_tracker_free(t);

	cfg.group_by = FW_GROUP_ADDR_PORT;
	t = mk(&cfg);
	enter(t, 1, 7, S, 0);
	assert_int_equal(fw2_top_peers(t, top, 4, 0), 1);
	assert_string_equal(fw2_peer_str(top[0], buf, sizeof(buf)), "192.0.2.7:443");
	fw2_tracker_free(t);
}

static void test_clock_edges(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_tracker *t = mk(&cfg);

	/* An exit stamped before its entry (different CPUs' clocks) is 0 long,
	 * never a huge unsigned wrap. */
	enter(t, 1, 1, 10 * S, 0);
	leave(t, 1, 1, 10 * S - 5, 0, 104);
	assert_int_equal(lg.n_exit, 1);
	assert_int_equal(lg.exits[0].duration_ns, 0);
	/* Ticks at time 0 with nothing tracked are harmless. */
	fw2_tick(t, 0);
	assert_int_equal(lg.n_alert, 0);
	fw2_tracker_free(t);
}

static void test_idle_peers_evicted(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_tracker *t = mk(&cfg);
	const struct fw2_peer *top[4];

	enter(t, 1, 1, S, 0);
	leave(t, 1, 1, 2 * S, FW_EVF_FIN_RCVD, 0);
	fw2_tick(t, 3 * S);
	assert_int_equal(fw2_top_peers(t, top, 4, 1), 1);
	fw2_tick(t, 2 * S + 601 * S);
	assert_int_equal(fw2_top_peers(t, top, 4, 1), 0);
	fw2_tracker_free(t);
}

static void test_many_sockets_and_memory(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_tracker *t = mk(&cfg);
	const int n = 100000;

	assert_true(sizeof(struct fw2_sock) <= 64);
	for (int i = 0; i < n; i++)
		enter(t, 1000 + i, i % 200, S + i, i & 1);
	assert_int_equal(fw2_total(t, NULL, NULL), n);
	/* Bytes per tracked socket, tables included. */
	assert_true(fw2_memory_bytes(t) / n <= 128);
	for (int i = 0; i < n; i += 2)
		leave(t, 1000 + i, i % 200, 2 * S + i, FW_EVF_FIN_RCVD, 0);
	assert_int_equal(fw2_total(t, NULL, NULL), n / 2);
	fw2_tracker_free(t);
}

static void test_many_local_addresses_for_reaping(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_tracker *t;
	struct fw2_candidate none[1];

	/* Without reaping the local addresses are not kept: no candidates. */
	t = mk(&cfg);
	enter(t, 1, 1, S, 0);
	assert_int_equal(fw2_reap_candidates(t, 100 * S, S, FW2_KIND_HELD, NULL, NULL, none, 1), 0);
	fw2_tracker_free(t);
	cfg.reap_after_ns = S;
	t = mk(&cfg);
	struct fw2_candidate c[8];
	const int n = 3000;

	for (int i = 0; i < n; i++) {
		struct fw_event e = ev(1 + i, 1, FW_TCP_FIN_WAIT1, FW_TCP_FIN_WAIT2, S + i, 0, 0);

		e.saddr[2] = (__u8)(i >> 8);
		e.saddr[3] = (__u8)i;
		fw2_on_event(t, &e);
	}
	/* The oldest sockets, each with its own local address. */
	assert_int_equal(fw2_reap_candidates(t, 100 * S, S, FW2_KIND_HELD, NULL, NULL, c, 8), 8);
	for (int i = 0; i < 8; i++) {
		int k = (int)c[i].cookie - 1;

		assert_int_equal(c[i].saddr[0], 10);
		assert_int_equal(c[i].saddr[2], (__u8)(k >> 8));
		assert_int_equal(c[i].saddr[3], (__u8)k);
	}
	fw2_tracker_free(t);
}

static struct fw_scan_rec full_rec(__u64 cookie, int peer, __u64 now_ns, __u32 age_j)
{
	struct fw_scan_rec r;

	memset(&r, 0, sizeof(r));
	r.cookie = cookie;
	r.now_ns = now_ns;
	r.now_jiffies = 10000000;
	r.stamp_jiffies = r.now_jiffies - age_j;
	r.netns = NETNS;
	r.family = FW_AF_INET;
	r.saddr[0] = 10; r.saddr[3] = 1;
	r.daddr[0] = 192; r.daddr[2] = 2; r.daddr[3] = (__u8)peer;
	r.sport = (__u16)cookie;
	r.dport = 443;
	r.kind = FW_SCAN_FULL;
	r.state = FW_TCP_FIN_WAIT2;
	r.fin_timeout_jiffies = 60 * HZ;
	return r;
}

/* Oldest first within each peer, every socket once; returns how many. */
static int assert_oldest_first(struct fw2_tracker *t, __u64 now, int n)
{
	struct fw2_candidate *c = calloc((size_t)n + 1, sizeof(*c));
	int got;

	assert_non_null(c);
	got = fw2_reap_candidates(t, now, 0, FW2_KIND_HELD | FW2_KIND_ORPHANED, NULL, NULL, c, n + 1);
	for (int i = 1; i < got; i++)
		if (c[i].peer == c[i - 1].peer)
			assert_true(c[i].age_ns <= c[i - 1].age_ns);
	free(c);
	return got;
}

/*
 * Discovery feeds sockets in hash order with estimated ages; the lists
 * must come out oldest first (alerts, top examples and reaping read the
 * head) whether the scan ends normally or fails halfway.
 */
static void test_discovery_in_hash_order_sorted(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_tracker *t;

	cfg.reap_after_ns = S;          /* the order is read through reap candidates */
	t = mk(&cfg);
	const int n = 30000;
	const __u64 now = 1000 * S;
	const struct fw2_peer *top[4];
	int lb;

	fw2_scan_begin(t, NETNS, now, 60, HZ, 1);
	for (int i = 0; i < n; i++) {
		int k = (int)(((long)i * 7919) % n);   /* a permutation of 0..n-1 */
		struct fw_scan_rec r = full_rec(100 + (__u64)k, 1 + k % 3, now, 1 + (__u32)k);

		fw2_scan_rec(t, &r);
	}
	/* An event consumed mid-scan: the youngest socket of its peer. */
	enter(t, 99, 1, now, 0);
	fw2_scan_end(t, now + 1000);
	assert_int_equal(fw2_total(t, NULL, NULL), n + 1);
	assert_int_equal(assert_oldest_first(t, now + S, n + 1), n + 1);
	assert_int_equal(fw2_top_peers(t, top, 3, 0), 3);
	for (int i = 0; i < 3; i++) {
		/* The oldest age of peer .j is (n - 3 + j) + 1 jiffies or so. */
		__u64 age = fw2_peer_oldest_age(t, top[i], now, &lb);

		assert_true(age >= (__u64)(n - 3) * (S / HZ));
		assert_true(age <= (__u64)n * (S / HZ));
		assert_true(lb);
	}
	fw2_tracker_free(t);

	/* A scan that fails halfway ends without fw2_scan_end. */
	t = mk(&cfg);
	fw2_scan_begin(t, NETNS, now, 60, HZ, 1);
	for (int i = 0; i < 1000; i++) {
		struct fw_scan_rec r = full_rec(100 + (__u64)i, 1, now, 1 + (__u32)((i * 37) % 1000));

		fw2_scan_rec(t, &r);
	}
	fw2_netns_unscannable(t, NETNS, now);
	assert_int_equal(assert_oldest_first(t, now + S, 1000), 1000);
	assert_int_equal(fw2_top_peers(t, top, 1, 0), 1);
	assert_int_equal(fw2_peer_oldest_age(t, top[0], now, &lb), 1000 * (S / HZ));
	fw2_tracker_free(t);
}

/* Follow-up walks skip TIME_WAIT sockets older than the last complete walk. */
static void test_tw_cutoff_expiry(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_tracker *t = mk(&cfg);
	struct fw_scan_rec r = tw_rec(7, 9, 101 * S, 30 * S, FW_TCP_FIN_WAIT2);

	assert_int_equal(fw2_tw_cutoff_expiry(t, NETNS), 0);      /* never walked */
	fw2_scan_begin(t, NETNS, 100 * S, 60, HZ, 0);
	fw2_scan_rec(t, &r);                                        /* jiffies 1000000 at 101 s */
	/* A walk that fails halfway does not count. */
	fw2_netns_unscannable(t, NETNS, 101 * S);
	assert_int_equal(fw2_tw_cutoff_expiry(t, NETNS), 0);
	fw2_scan_begin(t, NETNS, 100 * S, 60, HZ, 0);
	fw2_scan_rec(t, &r);
	fw2_scan_end(t, 102 * S);
	/* The walk began 1 s before the record: 250 jiffies, 250 more of margin,
	 * and the FIN re-armed the timer 60 s on. */
	assert_int_equal(fw2_tw_cutoff_expiry(t, NETNS), 1000000 - 2 * HZ + 60 * HZ);
	assert_int_equal(fw2_tw_cutoff_expiry(t, NETNS + 1), 0);   /* another namespace */
	/* A walk that did not know HZ: a wrong guess would skip what no walk saw. */
	fw2_scan_begin(t, NETNS, 100 * S, 60, 0, 0);
	fw2_scan_rec(t, &r);
	fw2_scan_end(t, 102 * S);
	assert_int_equal(fw2_tw_cutoff_expiry(t, NETNS), 0);
	fw2_tracker_free(t);
}

/*
 * Random inserts (some out of order), exits of the oldest and of random
 * sockets: the peer's list stays whole and sorted (its links are only
 * checked through what reads them: reaping order, the oldest age).
 */
static void test_list_survives_random_churn(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_tracker *t;
	enum { N = 4000 };
	static __u64 live[N];       /* cookies alive, unordered */
	static __u64 when[N + 1];   /* enter time by cookie */
	int n_live = 0;
	__u64 next_cookie = 1, now = 100 * S;
	unsigned rnd = 12345;

	cfg.reap_after_ns = S;
	t = mk(&cfg);
	for (int op = 0; op < 3 * N && next_cookie <= N; op++) {
		rnd = rnd * 1103515245u + 12345u;
		unsigned r = (rnd >> 16) % 10;

		now += MS;
		if (r < 5 || n_live == 0) {
			__u64 ts = now - (__u64)((rnd >> 8) % 50) * MS;   /* up to 50 ms late */

			when[next_cookie] = ts;
			enter(t, next_cookie, 7, ts, 0);
			live[n_live++] = next_cookie++;
		} else {
			int k = 0;

			if (r < 8) {            /* the oldest */
				for (int i = 1; i < n_live; i++)
					if (when[live[i]] < when[live[k]])
						k = i;
			} else {                /* any */
				k = (int)((rnd >> 4) % (unsigned)n_live);
			}
			leave(t, live[k], 7, now, FW_EVF_FIN_RCVD, 0);
			live[k] = live[--n_live];
		}
	}
	assert_int_equal(fw2_total(t, NULL, NULL), n_live);
	assert_int_equal(assert_oldest_first(t, now + S, N), n_live);
	if (n_live) {
		const struct fw2_peer *top[1];
		__u64 oldest = when[live[0]];

		for (int i = 1; i < n_live; i++)
			if (when[live[i]] < oldest)
				oldest = when[live[i]];
		assert_int_equal(fw2_top_peers(t, top, 1, 0), 1);
		assert_int_equal(fw2_peer_oldest_age(t, top[0], now, NULL), now - oldest);
	}
	fw2_tracker_free(t);
}

static void test_capacity_limit(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_callbacks cb = { 0 };
	struct fw2_tracker *t = fw2_tracker_new((const struct fw2_policy[]){ cli_tracker_policy(&cfg) }, &cb, 3);

	for (int i = 0; i < 5; i++)
		enter(t, 1 + i, 1, S, 0);
	assert_int_equal(fw2_total(t, NULL, NULL), 3);
	assert_int_equal(fw2_counters(t)->capacity_drops, 2);
	fw2_tracker_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_held_socket_alerts_and_resolves),
		cmocka_unit_test(test_outcomes_from_close_events),
		cmocka_unit_test(test_handoff_followed_to_timeout),
		cmocka_unit_test(test_handoff_then_peer_fin),
		cmocka_unit_test(test_timewait_rst_and_no_successor),
		cmocka_unit_test(test_pending_handoff_not_judged_by_older_scan),
		cmocka_unit_test(test_keepalive_expiry_is_timeout),
		cmocka_unit_test(test_unscannable_netns_expires_timewait),
		cmocka_unit_test(test_discovery_and_reconcile),
		cmocka_unit_test(test_event_fixes_discovered_estimate),
		cmocka_unit_test(test_untracked_exit_counted),
		cmocka_unit_test(test_close_after_shutdown_becomes_orphan),
		cmocka_unit_test(test_per_peer_and_total_limits),
		cmocka_unit_test(test_disabled_rules_never_fire),
		cmocka_unit_test(test_group_by_prefix_and_port),
		cmocka_unit_test(test_clock_edges),
		cmocka_unit_test(test_idle_peers_evicted),
		cmocka_unit_test(test_many_sockets_and_memory),
		cmocka_unit_test(test_many_local_addresses_for_reaping),
		cmocka_unit_test(test_discovery_in_hash_order_sorted),
		cmocka_unit_test(test_tw_cutoff_expiry),
		cmocka_unit_test(test_list_survives_random_churn),
		cmocka_unit_test(test_capacity_limit),
	};

	return cmocka_run_group_tests_name("fw2_tracker", tests, NULL, NULL);
}
