// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* finwatch top's screen model over a tracker fed synthetic events and scans:
 * rows, rates, sparklines, expiry (held: never; orphans: tcp_fin_timeout of
 * their netns after entry, or the timewait timer), sorting, filtering, the
 * detail of one peer. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "cli.h"
#include "fw2_tracker.h"
#include "golden.h"
#include "top_model.h"
#include "workload_map.h"

#define S NS_PER_SEC
#define HZ 250
#define NETNS 4026531840u

static struct fw2_tracker *mk(struct fw_config *cfg)
{
	struct fw2_callbacks cb = { 0 };

	return fw2_tracker_new((const struct fw2_policy[]){ cli_tracker_policy(cfg) }, &cb, 0);
}

static struct fw_config defaults(void)
{
	struct fw_config c;

	cli_defaults(&c);
	return c;
}

static void enter(struct fw2_tracker *t, __u64 cookie, int peer, __u64 ts, int orphaned)
{
	struct fw_event e = golden_ev(cookie, peer, FW_TCP_FIN_WAIT1, FW_TCP_FIN_WAIT2, ts,
				      FW_EVF_CLOSER | (orphaned ? FW_EVF_ORPHANED : 0), 0);

	fw2_on_event(t, &e);
}

static void leave_fin(struct fw2_tracker *t, __u64 cookie, int peer, __u64 ts)
{
	struct fw_event e = golden_ev(cookie, peer, FW_TCP_FIN_WAIT2, FW_TCP_TIME_WAIT, ts, 0, 0);

	fw2_on_event(t, &e);
}

/* Tells the tracker the netns's tcp_fin_timeout, as a scan does. */
static void scan_nothing(struct fw2_tracker *t, __u64 now, int fin_timeout_s)
{
	fw2_scan_begin(t, NETNS, now, fin_timeout_s, HZ, 0);
	fw2_scan_end(t, now);
}

static const struct top_row *row_of(struct top_model *m, const char *peer)
{
	const struct top_row *const *rows;
	int n = top_model_rows(m, &rows);

	for (int i = 0; i < n; i++)
		if (!strcmp(rows[i]->peer, peer))
			return rows[i];
	return NULL;
}

static void test_rows_counts_and_order(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_tracker *t = mk(&cfg);
	struct top_model *m = top_model_new("host1", "6.18.0", 0);
	const struct top_row *const *rows;

	for (int i = 0; i < 5; i++)
		enter(t, 1 + i, 7, 10 * S + i, 0);         /* a stuck peer: 5 held */
	enter(t, 50, 9, 1 * S, 0);                          /* an older, smaller one */
	assert_int_equal(top_model_update(m, t, NULL, 20 * S), 0);
	assert_int_equal(top_model_rows(m, &rows), 2);
	assert_string_equal(rows[0]->peer, "192.0.2.7");
	assert_int_equal(rows[0]->count, 5);
	assert_int_equal(rows[0]->held, 5);
	assert_int_equal(rows[0]->orphaned, 0);
	assert_int_equal(rows[0]->oldest_ns, 10 * S);
	assert_int_equal(rows[0]->pid, 1234);
	assert_string_equal(rows[0]->comm, "frontend");
	assert_int_equal(rows[0]->pid_socks, 5);
	assert_string_equal(rows[1]->peer, "192.0.2.9");

	char buf[64];

	assert_string_equal(top_expiry_text(rows[0], buf, sizeof(buf)), "never");
	const struct top_header *h = top_model_header(m);

	assert_string_equal(h->host, "host1");
	assert_int_equal(h->total, 6);
	assert_int_equal(h->held, 6);
	assert_int_equal(h->peers, 2);
	assert_int_equal(h->uptime_ns, 20 * S);

	/* By age the older peer comes first; back to count. */
	top_model_set_sort(m, TOP_SORT_AGE);
	assert_int_equal(top_model_rows(m, &rows), 2);
	assert_string_equal(rows[0]->peer, "192.0.2.9");
	top_model_set_sort(m, TOP_SORT_COUNT);
	top_model_rows(m, &rows);
	assert_string_equal(rows[0]->peer, "192.0.2.7");
	top_model_free(m);
	fw2_tracker_free(t);
}

static void test_rates_and_rate_sort(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_tracker *t = mk(&cfg);
	struct top_model *m = top_model_new("h", "k", 0);
	const struct top_row *const *rows;

	enter(t, 1, 7, 1 * S, 0);
	enter(t, 2, 7, 1 * S, 0);
	enter(t, 3, 8, 1 * S, 0);
	top_model_update(m, t, NULL, 2 * S);
	/* Over the next 2 s peer 8 churns: 10 in, 10 out. */
	for (int i = 0; i < 10; i++) {
		enter(t, 100 + i, 8, 2 * S + i, 1);
		leave_fin(t, 100 + i, 8, 2 * S + i + 1000);
	}
	top_model_update(m, t, NULL, 4 * S);
	const struct top_row *r8 = row_of(m, "192.0.2.8");

	assert_non_null(r8);
	assert_true(r8->enter_rate > 4.99 && r8->enter_rate < 5.01);
	assert_true(r8->exit_rate > 4.99 && r8->exit_rate < 5.01);
	assert_true(row_of(m, "192.0.2.7")->enter_rate == 0);
	top_model_rows(m, &rows);
	assert_string_equal(rows[0]->peer, "192.0.2.7");
	top_model_set_sort(m, TOP_SORT_RATE);
	top_model_rows(m, &rows);
	assert_string_equal(rows[0]->peer, "192.0.2.8");
	top_model_free(m);
	fw2_tracker_free(t);
}

static void test_filter(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_tracker *t = mk(&cfg);
	struct top_model *m = top_model_new("h", "k", 0);
	const struct top_row *const *rows;

	enter(t, 1, 7, 1 * S, 0);
	enter(t, 2, 8, 1 * S, 0);
	enter(t, 3, 18, 1 * S, 0);
	top_model_update(m, t, NULL, 2 * S);
	top_model_set_filter(m, ".2.8");
	assert_int_equal(top_model_rows(m, &rows), 1);
	assert_string_equal(rows[0]->peer, "192.0.2.8");
	assert_string_equal(top_model_filter(m), ".2.8");
	top_model_set_filter(m, "2.1");
	assert_int_equal(top_model_rows(m, &rows), 1);
	assert_string_equal(rows[0]->peer, "192.0.2.18");
	/* The holder's name matches too, case-insensitively. */
	top_model_set_filter(m, "FrontEnd");
	assert_int_equal(top_model_rows(m, &rows), 3);
	top_model_set_filter(m, "nomatch");
	assert_int_equal(top_model_rows(m, &rows), 0);
	/* A filter stays across updates. */
	top_model_update(m, t, NULL, 3 * S);
	assert_int_equal(top_model_rows(m, &rows), 0);
	top_model_set_filter(m, "");
	assert_int_equal(top_model_rows(m, &rows), 3);
	top_model_free(m);
	fw2_tracker_free(t);
}

static void test_orphan_expiry(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_tracker *t = mk(&cfg);
	struct top_model *m = top_model_new("h", "k", 0);
	char buf[64];

	/* Full orphans entering at 10 s and 14 s, a held one; timeout unknown. */
	enter(t, 1, 7, 10 * S, 1);
	enter(t, 2, 7, 14 * S, 1);
	enter(t, 3, 7, 15 * S, 0);
	top_model_update(m, t, NULL, 20 * S);
	const struct top_row *r = row_of(m, "192.0.2.7");

	assert_int_equal(r->expiry_first_ns, TOP_EXPIRY_UNKNOWN);
	assert_string_equal(top_expiry_text(r, buf, sizeof(buf)), "?+never");

	/* A scan says the netns's tcp_fin_timeout is 30 s. */
	scan_nothing(t, 20 * S, 30);
	top_model_update(m, t, NULL, 21 * S);
	r = row_of(m, "192.0.2.7");
	assert_int_equal(r->expiry_first_ns, 19 * S);    /* 10 + 30 - 21 */
	assert_int_equal(r->expiry_last_ns, 23 * S);     /* 14 + 30 - 21 */
	assert_string_equal(top_expiry_text(r, buf, sizeof(buf)), "19s..23s+never");

	struct top_detail *d = calloc(1, sizeof(*d));

	top_model_detail(m, t, "192.0.2.7", NETNS, 0, 21 * S, d);
	assert_true(d->found);
	assert_int_equal(d->fin_timeout_s, 30);
	assert_int_equal(d->n_socks, 3);
	/* Oldest first; age + time left = tcp_fin_timeout for orphans. */
	assert_int_equal(d->socks[0].sport, 40001);
	assert_int_equal(d->socks[0].age_ns, 11 * S);
	assert_int_equal(d->socks[0].expires_in_ns, 19 * S);
	assert_int_equal(d->socks[0].age_ns + d->socks[0].expires_in_ns, 30 * S);
	assert_int_equal(d->socks[2].expires_in_ns, TOP_EXPIRY_NONE);
	assert_false(d->socks[2].orphaned);
	assert_string_equal(d->socks[2].comm, "frontend");
	assert_int_equal(d->socks[2].pid, 1234);
	top_model_detail(m, t, "192.0.2.99", NETNS, 0, 21 * S, d);
	assert_false(d->found);
	free(d);

	/* Orphans only: no "never". */
	enter(t, 4, 9, 20 * S, 1);
	top_model_update(m, t, NULL, 22 * S);
	assert_string_equal(top_expiry_text(row_of(m, "192.0.2.9"), buf, sizeof(buf)), "28s");
	top_model_free(m);
	fw2_tracker_free(t);
}

/* A timewait orphan's expiry is its timer, as the scan read it. */
static void test_timewait_expiry_from_timer(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_tracker *t = mk(&cfg);
	struct top_model *m = top_model_new("h", "k", 0);
	struct fw_scan_rec r;

	memset(&r, 0, sizeof(r));
	r.cookie = 21;
	r.now_ns = 100 * S;
	r.now_jiffies = 1000000;
	r.stamp_jiffies = r.now_jiffies + 12 * HZ;        /* 12 s left */
	r.netns = NETNS;
	r.family = FW_AF_INET;
	r.daddr[0] = 192; r.daddr[2] = 2; r.daddr[3] = 5;
	r.sport = 40021;
	r.dport = 443;
	r.kind = FW_SCAN_TW;
	r.state = FW_TCP_FIN_WAIT2;
	r.flags = FW_EVF_ORPHANED;
	r.fin_timeout_jiffies = 30 * HZ;
	fw2_scan_begin(t, NETNS, 100 * S, 30, HZ, 1);
	fw2_scan_rec(t, &r);
	fw2_scan_end(t, 100 * S);
	top_model_update(m, t, NULL, 101 * S);
	const struct top_row *row = row_of(m, "192.0.2.5");

	assert_non_null(row);
	assert_int_equal(row->orphaned, 1);
	assert_int_equal(row->expiry_first_ns, 11 * S);
	assert_true(row->oldest_lower_bound);
	top_model_free(m);
	fw2_tracker_free(t);
}

static void test_sparkline_and_history(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_tracker *t = mk(&cfg);
	struct top_model *m = top_model_new("h", "k", 0);
	char buf[256];

	/* Counts 1, 2, ..., 8 over 8 updates, then the peer empties. */
	for (int i = 0; i < 8; i++) {
		enter(t, 1 + i, 7, (__u64)i * S, 0);
		top_model_update(m, t, NULL, (__u64)i * S + S / 2);
	}
	const struct top_row *r = row_of(m, "192.0.2.7");

	/* 180 samples in 180 cells: the 8 taken are on the right. */
	top_sparkline(m, r, TOP_HIST_SAMPLES, 0, buf, sizeof(buf));
	assert_int_equal(strlen(buf), TOP_HIST_SAMPLES);
	assert_string_equal(buf + TOP_HIST_SAMPLES - 8, "_.,-=+*#");
	top_sparkline(m, r, TOP_HIST_SAMPLES, 1, buf, sizeof(buf));
	assert_string_equal(buf + strlen(buf) - 6, "\u2587\u2588");
	/* Narrow: 180 samples in 9 cells of 20, only the last has any. */
	top_sparkline(m, r, 9, 0, buf, sizeof(buf));
	assert_string_equal(buf, "        #");

	for (int i = 0; i < 8; i++) {
		struct fw_event e = golden_ev(1 + i, 7, FW_TCP_FIN_WAIT2, FW_TCP_CLOSE, 9 * S, 0, 104);

		fw2_on_event(t, &e);
	}
	top_model_update(m, t, NULL, 9 * S + S / 2);
	/* Emptied, it stays while its line shows counts. */
	r = row_of(m, "192.0.2.7");
	assert_non_null(r);
	assert_int_equal(r->count, 0);
	assert_true(r->exit_rate > 3.99 && r->exit_rate < 4.01);     /* 8 in 2 s */
	assert_int_equal(top_model_header(m)->peers, 0);
	top_model_free(m);
	fw2_tracker_free(t);
}

static void test_alert_marked_and_header_rates(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_tracker *t;
	struct top_model *m = top_model_new("h", "k", 0);
	struct fw_run_stats st = { 0 };

	cfg.max_per_peer = 3;
	t = mk(&cfg);
	for (int i = 0; i < 4; i++)
		enter(t, 1 + i, 7, 1 * S, 0);
	enter(t, 10, 8, 1 * S, 0);
	fw2_tick(t, 2 * S);
	st.events = 100;
	st.cpu_ns = 1 * S;
	top_model_update(m, t, &st, 2 * S);
	st.events = 300;
	st.cpu_ns = 1 * S + S / 10;
	st.lost = 4;
	top_model_update(m, t, &st, 4 * S);
	const struct top_header *h = top_model_header(m);

	assert_true(h->events_rate > 99.9 && h->events_rate < 100.1);
	assert_true(h->cpu_pct > 4.99 && h->cpu_pct < 5.01);
	assert_int_equal(h->lost, 4);
	assert_int_equal(h->alerts_firing, 1);
	assert_true(row_of(m, "192.0.2.7")->alert & (1u << FW2_RULE_MAX_PER_PEER));
	assert_false(row_of(m, "192.0.2.8")->alert);
	top_model_free(m);
	fw2_tracker_free(t);
}

/* Grouping by prefix: one row per group, with its sockets together. */
static void test_group_rows(void **state)
{
	struct fw_config cfg = defaults();
	struct fw2_tracker *t;
	struct top_model *m = top_model_new("h", "k", 0);
	const struct top_row *const *rows;

	cfg.group_by = FW_GROUP_PREFIX;
	cfg.group_prefix4 = 24;
	t = mk(&cfg);
	enter(t, 1, 7, 1 * S, 0);
	enter(t, 2, 8, 1 * S, 1);
	top_model_update(m, t, NULL, 2 * S);
	assert_int_equal(top_model_rows(m, &rows), 1);
	assert_string_equal(rows[0]->peer, "192.0.2.0/24");
	assert_int_equal(rows[0]->count, 2);

	struct top_detail *d = calloc(1, sizeof(*d));

	top_model_detail(m, t, "192.0.2.0/24", NETNS, 0, 2 * S, d);
	assert_true(d->found);
	assert_int_equal(d->n_socks, 2);
	free(d);
	top_model_free(m);
	fw2_tracker_free(t);
}

/* Workloads: the main holder's (its socket's cgroup), or the group's with
 * --group-by KEY,pod; over a fake cgroup tree and pods directory. */
#define UID "6b1f0e2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
#define CTR_ID "3f2a9c1b7d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5061728394a5b6c7d8e"
#define POD "/kubepods.slice/kubepods-pod6b1f0e2a_3c4d_4e5f_8a9b_0c1d2e3f4a5b.slice"
#define CTR POD "/cri-containerd-" CTR_ID ".scope"

static __u64 clock_at_1s(void)
{
	return S;
}

static __u64 dir_ino(const char *base, const char *rel)
{
	char p[900];
	struct stat st;

	snprintf(p, sizeof(p), "%s%s", base, rel);
	assert_int_equal(stat(p, &st), 0);
	return st.st_ino;
}

static void test_workload_labels(void **state)
{
	char tree[] = "/tmp/fwtop.XXXXXX", cg[256], pods[256], cmd[300];
	const char *dirs[] = { "/cg", "/cg/kubepods.slice", "/cg" POD, "/cg" CTR, "/pods",
			       "/pods/shop_frontend-7f9c_" UID };

	assert_non_null(mkdtemp(tree));
	for (unsigned i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(cmd, sizeof(cmd), "%s%s", tree, dirs[i]);
		assert_int_equal(mkdir(cmd, 0755), 0);
	}
	snprintf(cg, sizeof(cg), "%s/cg", tree);
	snprintf(pods, sizeof(pods), "%s/pods", tree);
	struct workload_map *wm = workload_map_new(cg, "/", pods);
	struct fw_config cfg = defaults();
	struct fw2_tracker *t = mk(&cfg);
	struct top_model *m = top_model_new("h", "k", 0);
	struct fw_event e = golden_ev(1, 7, FW_TCP_FIN_WAIT1, FW_TCP_FIN_WAIT2, S, FW_EVF_CLOSER, 0);

	assert_non_null(wm);
	wl_register(wm, clock_at_1s);
	e.cgroup_id = dir_ino(cg, CTR);
	fw2_on_event(t, &e);
	top_model_update(m, t, NULL, 2 * S);
	assert_string_equal(row_of(m, "192.0.2.7")->workload, "shop/frontend-7f9c");
	/* The filter finds it by its workload. */
	top_model_set_filter(m, "shop/");
	assert_non_null(row_of(m, "192.0.2.7"));

	struct top_detail *d = calloc(1, sizeof(*d));

	top_model_detail(m, t, "192.0.2.7", NETNS, 0, 2 * S, d);
	assert_string_equal(d->socks[0].workload, "shop/frontend-7f9c");
	free(d);
	top_model_free(m);
	fw2_tracker_free(t);

	/* Grouped by pod: the group's label, with no holder known. */
	cfg.group_wl = FW_GROUP_WL_POD;
	workload_map_set_group(wm, FW_GROUP_WL_POD);
	struct fw2_policy pol = cli_tracker_policy(&cfg);

	pol.wl_key = workload_map_key;
	pol.wl_ctx = wm;
	t = fw2_tracker_new(&pol, &(struct fw2_callbacks){ 0 }, 0);
	m = top_model_new("h", "k", 0);
	e.flags = 0;
	fw2_on_event(t, &e);
	top_model_update(m, t, NULL, 2 * S);
	const struct top_row *const *rows;

	assert_int_equal(top_model_rows(m, &rows), 1);
	assert_int_equal(rows[0]->wl_key, dir_ino(cg, POD));
	assert_string_equal(rows[0]->workload, "shop/frontend-7f9c");
	assert_int_equal(rows[0]->pid, 0);
	top_model_free(m);
	fw2_tracker_free(t);
	wl_register(NULL, NULL);
	workload_map_free(wm);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tree);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_counts_and_order),
		cmocka_unit_test(test_rates_and_rate_sort),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_orphan_expiry),
		cmocka_unit_test(test_timewait_expiry_from_timer),
		cmocka_unit_test(test_sparkline_and_history),
		cmocka_unit_test(test_alert_marked_and_header_rates),
		cmocka_unit_test(test_group_rows),
		cmocka_unit_test(test_workload_labels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
