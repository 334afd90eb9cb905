// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernel_hz.h"
#include "grow.h"
#include "parse.h"
#include "scan_driver.h"

void scan_driver_init(struct scan_driver *d, const struct scan_ops *ops, void *ctx,
		      struct fw2_tracker *t, const struct fw_config *cfg)
{
	memset(d, 0, sizeof(*d));
	d->ops = ops;
	d->ctx = ctx;
	d->t = t;
	d->cfg = cfg;
}

void scan_driver_free(struct scan_driver *d)
{
	free(d->owners);
	d->owners = NULL;
	d->n_owners = d->cap_owners = 0;
}

static void want_owner(struct scan_driver *d, __u64 cookie, __u32 ino)
{
	d->owners_wanted = 1;
	if (d->ops->kernel_owners(d->ctx))
		return;         /* the kernel walk matches by cookie: no list */
	if (GROW(d->owners, d->n_owners, d->cap_owners, 256))
		return;
	d->owners[d->n_owners++] = (struct sock_owner_req){ .cookie = cookie, .ino = ino };
}

static void on_owner_rec(void *ctx, const struct fw_owner_rec *r)
{
	struct scan_driver *d = ctx;

	if (fw2_needs_proc(d->t, r->cookie))
		fw2_set_proc(d->t, r->cookie, r->tgid, r->comm);
}

/*
 * Who holds the held sockets a scan found without a process: one kernel
 * walk of every process's files (measured: 100k held sockets in ~200k open
 * fds cost ~1 s of CPU as a readlink per /proc/PID/fd entry), or that
 * /proc walk where the task_file iterator is unavailable.
 */
static void resolve_owners(struct scan_driver *d)
{
	if (!d->owners_wanted)
		return;
	d->owners_wanted = 0;
	/* If it fails, the sockets are listed again by the next full scan. */
	if (d->ops->kernel_owners(d->ctx)) {
		d->ops->owners(d->ctx, on_owner_rec, d);
		return;
	}
	if (d->ops->owners_proc(d->ctx, d->owners, d->n_owners) > 0)
		for (int i = 0; i < d->n_owners; i++)
			if (d->owners[i].pid)
				fw2_set_proc(d->t, d->owners[i].cookie, d->owners[i].pid, d->owners[i].comm);
	d->n_owners = 0;
}

struct scan_cb {
	struct scan_driver *d;
	__u32 inum;
	__u64 start;
	int full, begun, fin_timeout;
};

static void scan_begin_once(struct scan_cb *c, const struct fw_scan_rec *r)
{
	if (c->begun)
		return;
	/* HZ never changes: kept once known exactly, from the clock until then. */
	__u32 hz = c->d->hz;

	if (!hz && r) {
		hz = c->d->hz = kernel_hz_from_fin_timeout(r->fin_timeout_jiffies, c->fin_timeout);
		if (!hz)
			hz = kernel_hz_from_clock(r->now_jiffies, r->now_ns);
	}
	fw2_scan_begin(c->d->t, c->inum, c->start, c->fin_timeout, hz, c->full);
	c->begun = 1;
}

static void on_scan_rec(void *ctx, const struct fw_scan_rec *r)
{
	struct scan_cb *c = ctx;

	if (!cli_socket_allowed(c->d->cfg, r->family, r->sport, r->dport, r->daddr))
		return;
	if (c->d->ops->in_scope && !c->d->ops->in_scope(c->d->ctx, r))
		return;
	scan_begin_once(c, r);
	fw2_scan_rec(c->d->t, r);
	if (r->kind == FW_SCAN_FULL && r->ino && fw2_needs_proc(c->d->t, r->cookie))
		want_owner(c->d, r->cookie, r->ino);
}

void scan_driver_netns(struct scan_driver *d, __u32 inum, int full)
{
	const struct scan_ops *ops = d->ops;
	struct scan_cb c = { .d = d, .inum = inum, .full = full, .fin_timeout = -1 };
	int err;

	/* Exits queued before the walk must be applied first. */
	ops->drain(d->ctx);
	c.start = ops->now(d->ctx);
	/* Follow-ups skip the TIME_WAIT sockets the last walk has seen; full
	 * scans (discovery, reconciliation) look at every one. */
	err = ops->scan(d->ctx, inum, full ? 0 : fw2_tw_cutoff_expiry(d->t, inum), on_scan_rec, &c,
			&c.fin_timeout);
	if (err && err != -ENOENT) {
		if (!d->error_reported) {
			char msg[256];

			snprintf(msg, sizeof(msg), "scanning network namespace %u failed (%s); "
				 "orphaned sockets there are followed less exactly (scans need "
				 "CAP_SYS_ADMIN and CAP_SYS_PTRACE for other namespaces)", inum,
				 strerror(-err));
			ops->warn(d->ctx, msg);
			d->error_reported = 1;
		}
		/* Blind: end what must have expired rather than count it forever. */
		fw2_netns_unscannable(d->t, inum, ops->now(d->ctx));
		return;
	}
	if (err == -ENOENT) {
		/* Deleted: the kernel purged its timewait sockets with it. */
		fw2_netns_gone(d->t, inum, ops->now(d->ctx));
		return;
	}
	scan_begin_once(&c, NULL);
	ops->drain(d->ctx);
	fw2_scan_end(d->t, ops->now(d->ctx));
}

void scan_driver_all(struct scan_driver *d)
{
	__u32 *inums = NULL;
	int n = d->ops->netns_list(d->ctx, &inums);

	if (n < 0)
		return;
	for (int i = 0; i < n && !d->ops->stopping(d->ctx); i++)
		scan_driver_netns(d, inums[i], 1);
	free(inums);
	resolve_owners(d);
}

int scan_driver_reconcile(struct scan_driver *d, __u64 *found, __u64 *missing)
{
	const struct fw2_counters *c = fw2_counters(d->t);
	__u64 f = c->discovered, m = c->reconciled_missing;

	scan_driver_all(d);
	*found = c->discovered - f;
	*missing = c->reconciled_missing - m;
	return *found || *missing;
}

static void scan_pending(struct scan_driver *d)
{
	__u32 inums[SCAN_MAX_PENDING_NS];
	int n = fw2_netns_pending(d->t, inums, SCAN_MAX_PENDING_NS);

	for (int i = 0; i < n && !d->ops->stopping(d->ctx); i++)
		scan_driver_netns(d, inums[i], 0);
}

void scan_driver_arm(struct scan_driver *d, __u64 now_ns)
{
	d->next_follow = now_ns + d->cfg->scan_interval_ns;
}

void scan_driver_follow(struct scan_driver *d, __u64 now_ns)
{
	__u64 interval = d->cfg->scan_interval_ns, spent;

	if (now_ns < d->next_follow)
		return;
	spent = d->ops->scan_cpu_ns(d->ctx);
	scan_pending(d);
	/* Walking a busy namespace costs ~0.4 us per socket: keep follow-ups
	 * under 1% of a CPU by spacing them out. Exit times stay exact (the
	 * kernel's timer); unconfirmed handoffs are not counted, so a lag only
	 * delays counting an orphan that really is stuck... */
	spent = (d->ops->scan_cpu_ns(d->ctx) - spent) * 100;
	/* ... which must stay bounded on a huge namespace. */
	if (spent > SCAN_FOLLOW_MAX_INTERVALS * interval)
		spent = SCAN_FOLLOW_MAX_INTERVALS * interval;
	d->next_follow = d->ops->now(d->ctx) + (spent > interval ? spent : interval);
}
