// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The follow-up scan driver against a fake scanner: what it walks, when,
 * how it reports failures, finds holders and paces follow-ups. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "parse.h"
#include "scan_driver.h"

#define S NS_PER_SEC
#define MS NS_PER_MS
#define NS_A 4026531840u
#define NS_B 4026532000u
#define HZ 250

/* The fake kernel: per-netns result and held sockets, a clock, a CPU
 * counter, and a log of what the driver asked for. */
struct fake {
	__u64 now, cpu, cpu_per_scan;
	int err_a, err_b;         /* scan results per namespace */
	int held_a;               /* held sockets in NS_A, cookies 1.. */
	int kernel_owners;
	int stop_after;           /* stopping() after this many scans, 0 = never */
	int scans, full_scans, drains, warns, owner_walks, proc_walks;
	__u32 scanned[16];
	__u64 cutoff[16];
	char warn[256];
};

static struct fake fk;

static struct fw_scan_rec held_rec(__u64 cookie, __u32 netns)
{
	struct fw_scan_rec r;

	memset(&r, 0, sizeof(r));
	r.cookie = cookie;
	r.now_ns = fk.now;
	r.now_jiffies = 1000000;
	r.stamp_jiffies = r.now_jiffies - 10 * HZ;
	r.netns = netns;
	r.ino = 5000 + (__u32)cookie;
	r.family = FW_AF_INET;
	r.daddr[0] = 192; r.daddr[2] = 2; r.daddr[3] = 7;
	r.sport = (__u16)(40000 + cookie);
	r.dport = 443;
	r.kind = FW_SCAN_FULL;
	r.state = FW_TCP_FIN_WAIT2;
	r.fin_timeout_jiffies = 60 * HZ;
	return r;
}

static int f_scan(void *ctx, __u32 inum, __u64 cutoff, scan_rec_fn fn, void *fn_ctx, int *fin_timeout_s)
{
	int err = inum == NS_A ? fk.err_a : fk.err_b;

	if (fk.scans < 16) {
		fk.scanned[fk.scans] = inum;
		fk.cutoff[fk.scans] = cutoff;
	}
	fk.scans++;
	fk.cpu += fk.cpu_per_scan;
	if (err)
		return err;
	*fin_timeout_s = 60;
	if (inum == NS_A)
		for (int i = 1; i <= fk.held_a; i++) {
			struct fw_scan_rec r = held_rec((__u64)i, inum);

			fn(fn_ctx, &r);
		}
	return 0;
}

static int f_netns_list(void *ctx, __u32 **out)
{
	__u32 *v = malloc(2 * sizeof(*v));

	if (!v)
		return -ENOMEM;
	v[0] = NS_A;
	v[1] = NS_B;
	*out = v;
	fk.full_scans++;
	return 2;
}

static int f_kernel_owners(void *ctx)
{
	return fk.kernel_owners;
}

static int f_owners(void *ctx, owner_rec_fn fn, void *fn_ctx)
{
	struct fw_owner_rec r = { .cookie = 1, .tgid = 4321, .state = FW_TCP_FIN_WAIT2 };

	memcpy(r.comm, "kernwalk", 9);
	fk.owner_walks++;
	fn(fn_ctx, &r);
	return 0;
}

static int f_owners_proc(void *ctx, struct sock_owner_req *reqs, int n)
{
	fk.proc_walks++;
	for (int i = 0; i < n; i++) {
		reqs[i].pid = 1000 + reqs[i].ino;
		memcpy(reqs[i].comm, "procwalk", 9);
	}
	return n;
}

static void f_drain(void *ctx) { fk.drains++; }
static __u64 f_now(void *ctx) { return fk.now; }
static __u64 f_cpu(void *ctx) { return fk.cpu; }
static int f_stopping(void *ctx) { return fk.stop_after && fk.scans >= fk.stop_after; }

static void f_warn(void *ctx, const char *msg)
{
	fk.warns++;
	snprintf(fk.warn, sizeof(fk.warn), "%s", msg);
}

static const struct scan_ops fake_ops = {
	.scan = f_scan, .netns_list = f_netns_list, .kernel_owners = f_kernel_owners,
	.owners = f_owners, .owners_proc = f_owners_proc, .drain = f_drain, .now = f_now,
	.scan_cpu_ns = f_cpu, .stopping = f_stopping, .warn = f_warn,
};

struct world {
	struct fw_config cfg;
	struct fw2_tracker *t;
	struct scan_driver d;
};

static int setup(void **state)
{
	static struct world w;
	struct fw2_callbacks cb = { 0 };

	memset(&fk, 0, sizeof(fk));
	fk.now = 100 * S;
	cli_defaults(&w.cfg);
	w.t = fw2_tracker_new((const struct fw2_policy[]){ cli_tracker_policy(&w.cfg) }, &cb, 0);
	if (!w.t)
		return -1;
	scan_driver_init(&w.d, &fake_ops, NULL, w.t, &w.cfg);
	*state = &w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	scan_driver_free(&w->d);
	fw2_tracker_free(w->t);
	return 0;
}

static void test_full_scan_discovers_and_names_holders_from_proc(void **state)
{
	struct world *w = *state;
	__u32 held;

	fk.held_a = 3;
	fk.err_b = -ENOENT;     /* deleted meanwhile: not an error */
	scan_driver_all(&w->d);
	assert_int_equal(fk.scans, 2);
	assert_int_equal(fk.scanned[0], NS_A);
	assert_int_equal(fk.scanned[1], NS_B);
	assert_int_equal(fk.cutoff[0], 0);   /* full scans look at every socket */
	assert_int_equal(fk.warns, 0);
	/* Queued events applied before and after each completed walk. */
	assert_int_equal(fk.drains, 3);
	assert_int_equal(fw2_counters(w->t)->discovered, 3);
	assert_int_equal(w->d.hz, HZ);
	/* Held sockets without a process: one /proc walk for all three. */
	assert_int_equal(fk.proc_walks, 1);
	assert_int_equal(fk.owner_walks, 0);
	assert_int_equal(w->d.n_owners, 0);
	for (__u64 c = 1; c <= 3; c++)
		assert_false(fw2_needs_proc(w->t, c));
	assert_int_equal(fw2_total(w->t, &held, NULL), 3);
	assert_int_equal(held, 3);
}

static void test_kernel_walk_names_holders_without_a_list(void **state)
{
	struct world *w = *state;

	fk.held_a = 2;
	fk.kernel_owners = 1;
	scan_driver_all(&w->d);
	assert_int_equal(fk.owner_walks, 1);
	assert_int_equal(fk.proc_walks, 0);
	assert_int_equal(w->d.n_owners, 0);
	assert_false(fw2_needs_proc(w->t, 1));   /* the walk named it */
	assert_true(fw2_needs_proc(w->t, 2));    /* not seen: asked again next time */
}

static void test_failure_said_once(void **state)
{
	struct world *w = *state;

	fk.err_a = -EPERM;
	fk.err_b = -EPERM;
	scan_driver_all(&w->d);
	scan_driver_netns(&w->d, NS_A, 0);
	assert_int_equal(fk.scans, 3);
	assert_int_equal(fk.warns, 1);
	assert_string_equal(fk.warn, "scanning network namespace 4026531840 failed (Operation not permitted); "
			    "orphaned sockets there are followed less exactly (scans need CAP_SYS_ADMIN and "
			    "CAP_SYS_PTRACE for other namespaces)");
}

static void test_reconcile_counts_what_events_missed(void **state)
{
	struct world *w = *state;
	__u64 found, missing;

	assert_int_equal(scan_driver_reconcile(&w->d, &found, &missing), 0);
	fk.held_a = 2;
	fk.now += S;
	assert_int_equal(scan_driver_reconcile(&w->d, &found, &missing), 1);
	assert_int_equal(found, 2);
	assert_int_equal(missing, 0);
	fk.held_a = 1;
	fk.now += S;
	assert_int_equal(scan_driver_reconcile(&w->d, &found, &missing), 1);
	assert_int_equal(found, 0);
	assert_int_equal(missing, 1);
}

static void test_stops_between_namespaces(void **state)
{
	struct world *w = *state;

	fk.stop_after = 1;
	scan_driver_all(&w->d);
	assert_int_equal(fk.scans, 1);
}

/* An orphan handed off to a timewait socket makes its netns pending. */
static void handoff(struct world *w, __u64 cookie, __u64 ts)
{
	struct fw_event e;

	memset(&e, 0, sizeof(e));
	e.cookie = cookie;
	e.ns_in_old = FW_NS_UNKNOWN;
	e.netns = NS_A;
	e.family = FW_AF_INET;
	e.daddr[0] = 192; e.daddr[3] = 9;
	e.sport = 40100;
	e.dport = 443;
	e.flags = FW_EVF_ORPHANED;
	e.ts_ns = ts;
	e.oldstate = FW_TCP_FIN_WAIT1;
	e.newstate = FW_TCP_FIN_WAIT2;
	fw2_on_event(w->t, &e);
	e.ts_ns = ts + 1000;
	e.oldstate = FW_TCP_FIN_WAIT2;
	e.newstate = FW_TCP_CLOSE;
	fw2_on_event(w->t, &e);
}

static void test_follow_ups_paced(void **state)
{
	struct world *w = *state;
	__u64 interval = w->cfg.scan_interval_ns;

	scan_driver_arm(&w->d, fk.now);
	handoff(w, 50, fk.now);
	assert_true(fw2_netns_needs_scan(w->t, NS_A));
	scan_driver_follow(&w->d, fk.now + interval - 1);
	assert_int_equal(fk.scans, 0);                  /* not due yet */
	/* Cheap walks: the next one a --scan-interval later. */
	fk.cpu_per_scan = 1 * MS;
	fk.now += interval;
	scan_driver_follow(&w->d, fk.now);
	assert_int_equal(fk.scans, 1);
	assert_int_equal(fk.scanned[0], NS_A);
	assert_int_equal(fk.full_scans, 0);             /* a follow-up, not a full scan */
	assert_int_equal(w->d.next_follow, fk.now + interval);
	/* Costly walks: spaced to 100x their CPU, at most 16 intervals. */
	handoff(w, 51, fk.now);
	fk.cpu_per_scan = 20 * MS;
	fk.now = w->d.next_follow;
	scan_driver_follow(&w->d, fk.now);
	assert_int_equal(fk.scans, 2);
	assert_int_equal(w->d.next_follow, fk.now + 2 * S);
	handoff(w, 52, fk.now);
	fk.cpu_per_scan = 1 * S;
	fk.now = w->d.next_follow;
	scan_driver_follow(&w->d, fk.now);
	assert_int_equal(fk.scans, 3);
	assert_int_equal(w->d.next_follow, fk.now + SCAN_FOLLOW_MAX_INTERVALS * interval);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_full_scan_discovers_and_names_holders_from_proc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_walk_names_holders_without_a_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_said_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile_counts_what_events_missed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stops_between_namespaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_follow_ups_paced, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
