// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Replay harness: feeds synthetic FIN_WAIT_2 lifetimes through fw2_tracker
 * with no kernel, to measure what the tracker costs at scale.
 *   replay [SOCKETS] [PEERS]     defaults: 1000000 sockets over 1000 peers
 * Prints ns per event while filling up to SOCKETS open (tables growing), in
 * steady churn at SOCKETS open (one socket leaves, one enters: the
 * production pattern), and while draining; bytes per tracked socket; and
 * the cost of an alert tick with every socket open (O(peers), not sockets).
 * Then startup discovery: SOCKETS held sockets found by one scan in hash
 * order with estimated ages, and a reconciliation scan of the same ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"
#include "fw2_tracker.h"

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * NS_PER_SEC + (__u64)ts.tv_nsec;
}

static long rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

static __u64 alerts;

static void on_alert(void *ctx, const struct fw2_alert *a)
{
	alerts++;
}

static void mk(struct fw_event *e, __u64 i, __u32 peers, __u8 old, __u8 nw, __u64 ts)
{
	memset(e, 0, sizeof(*e));
	e->ts_ns = ts;
	e->cookie = i + 1;
	e->ns_in_old = FW_NS_UNKNOWN;
	e->netns = 4026531840u;
	e->family = FW_AF_INET;
	e->saddr[0] = 10;
	e->saddr[3] = 1;
	e->daddr[0] = 198;
	e->daddr[1] = 18;
	e->daddr[2] = (__u8)((i % peers) >> 8);
	e->daddr[3] = (__u8)(i % peers);
	e->sport = (__u16)(1024 + i % 60000);
	e->dport = 443;
	e->oldstate = old;
	e->newstate = nw;
	e->flags = FW_EVF_CLOSER | (i & 1 ? FW_EVF_ORPHANED : 0);
	e->pid = 1000 + (__u32)(i % 8);
	memcpy(e->comm, "frontend", 9);
}

static void mk_scan(struct fw_scan_rec *r, __u64 i, __u32 peers, __u64 now, __u64 n)
{
	/* Hash order: a permutation of the ages (n and the step are coprime). */
	__u64 k = (i * 1000003ull) % n;

	memset(r, 0, sizeof(*r));
	r->cookie = i + 1;
	r->now_ns = now;
	r->now_jiffies = 100000000;
	r->stamp_jiffies = r->now_jiffies - 1 - k % 1000000;
	r->fin_timeout_jiffies = 60 * 250;
	r->netns = 4026531840u;
	r->family = FW_AF_INET;
	r->saddr[0] = 10;
	r->saddr[3] = 1;
	r->daddr[0] = 198;
	r->daddr[1] = 18;
	r->daddr[2] = (__u8)((i % peers) >> 8);
	r->daddr[3] = (__u8)(i % peers);
	r->sport = (__u16)(1024 + i % 60000);
	r->dport = 443;
	r->kind = FW_SCAN_FULL;
	r->state = FW_TCP_FIN_WAIT2;
}

/* One scan of n held sockets into t; returns its ns. */
static __u64 scan_all(struct fw2_tracker *t, __u64 n, __u32 peers, __u64 now)
{
	struct fw_scan_rec r;
	__u64 t0 = now_ns();

	fw2_scan_begin(t, 4026531840u, now, 60, 250, 1);
	for (__u64 i = 0; i < n; i++) {
		mk_scan(&r, i, peers, now, n);
		fw2_scan_rec(t, &r);
	}
	fw2_scan_end(t, now + 1);
	return now_ns() - t0;
}

int main(int argc, char **argv)
{
	__u64 n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	__u32 peers = argc > 2 ? (__u32)strtoul(argv[2], NULL, 10) : 1000;
	struct fw_config cfg;
	struct fw2_callbacks cb = { .on_alert = on_alert };
	struct fw2_tracker *t;
	struct fw_event e;
	long rss0, rss1;
	__u64 t0, t1, t2, t3, t4, base = 1000 * NS_PER_SEC;

	if (!n || !peers || peers > 65536) {
		fprintf(stderr, "usage: replay [SOCKETS>0] [PEERS 1..65536]\n");
		return 2;
	}
	cli_defaults(&cfg);
	cfg.max_per_peer = n / peers / 2;   /* every peer crosses it: the tick fires */
	rss0 = rss_kib();
	t = fw2_tracker_new((const struct fw2_policy[]){ cli_tracker_policy(&cfg) }, &cb, (__u32)(n + 16));
	if (!t)
		return 1;
	t0 = now_ns();
	for (__u64 i = 0; i < n; i++) {
		mk(&e, i, peers, FW_TCP_FIN_WAIT1, FW_TCP_FIN_WAIT2, base + i);
		fw2_on_event(t, &e);
	}
	t1 = now_ns();
	rss1 = rss_kib();
	/* Ticks with everything open: the first fires alerts, later ones are
	 * steady-state checks. */
	fw2_tick(t, base + n + NS_PER_SEC);
	t2 = now_ns();
	for (int k = 0; k < 10; k++)
		fw2_tick(t, base + n + (2 + k) * NS_PER_SEC);
	t3 = now_ns();
	/* Steady churn at n open: the oldest leaves, a new one enters. */
	__u64 ts = base + n + 20 * NS_PER_SEC, t5, t6;

	for (__u64 i = 0; i < n; i++) {
		mk(&e, i, peers, FW_TCP_FIN_WAIT2, FW_TCP_CLOSE, ts + 2 * i);
		e.flags |= FW_EVF_FIN_RCVD;
		fw2_on_event(t, &e);
		mk(&e, n + i, peers, FW_TCP_FIN_WAIT1, FW_TCP_FIN_WAIT2, ts + 2 * i + 1);
		fw2_on_event(t, &e);
	}
	t4 = now_ns();
	for (__u64 i = n; i < 2 * n; i++) {
		mk(&e, i, peers, FW_TCP_FIN_WAIT2, FW_TCP_CLOSE, ts + 2 * n + i);
		e.flags |= FW_EVF_FIN_RCVD;
		fw2_on_event(t, &e);
	}
	t5 = now_ns();
	(void)t6;
	printf("replay: %llu sockets over %u peers\n", (unsigned long long)n, peers);
	printf("  fill to %llu open:   %7.1f ns/event (tables growing)\n", (unsigned long long)n,
	       (double)(t1 - t0) / (double)n);
	printf("  steady churn:       %7.1f ns/event (%llu open; %llu exits + %llu entries)\n",
	       (double)(t4 - t3) / (double)(2 * n), (unsigned long long)n, (unsigned long long)n,
	       (unsigned long long)n);
	printf("  drain:              %7.1f ns/event\n", (double)(t5 - t4) / (double)n);
	printf("  tracker memory:     %7.1f bytes/socket (tables), RSS +%.1f bytes/socket\n",
	       (double)fw2_memory_bytes(t) / (double)n, (double)(rss1 - rss0) * 1024.0 / (double)n);
	printf("  alert tick, all open: first %.3f ms (fires %llu alerts), then %.3f ms per tick "
	       "(O(peers): %u peers)\n", (double)(t2 - t1) / 1e6, (unsigned long long)alerts,
	       (double)(t3 - t2) / 10 / 1e6, peers);
	printf("  left open: %u (want 0)\n", fw2_total(t, NULL, NULL));
	fw2_tracker_free(t);

	/* Startup discovery (1M ages spread over the peers, arriving in hash
	 * order) and a reconciliation that finds them all tracked. */
	t = fw2_tracker_new((const struct fw2_policy[]){ cli_tracker_policy(&cfg) }, &cb, (__u32)(n + 16));
	if (!t)
		return 1;
	__u64 d = scan_all(t, n, peers, base), rc = scan_all(t, n, peers, base + NS_PER_SEC);

	printf("  discovery scan:     %7.1f ns/socket (%.3f s for %llu held sockets), "
	       "reconciliation %.1f ns/socket\n", (double)d / (double)n, (double)d / 1e9,
	       (unsigned long long)n, (double)rc / (double)n);
	printf("  discovered: %u (want %llu)\n", fw2_total(t, NULL, NULL), (unsigned long long)n);
	fw2_tracker_free(t);
	return 0;
}
