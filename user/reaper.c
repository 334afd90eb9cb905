// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "reaper.h"
#include "warn.h"
#include "sock_destroy.h"

#define REAP_BATCH 256

struct reaper {
	const struct fw_config *cfg;
	double tokens;
	__u64 last_ns;
	__u64 ok, failed;
	int disabled;
	struct fw2_candidate cand[REAP_BATCH];
};

struct reaper *reaper_new(const struct fw_config *cfg)
{
	struct reaper *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->cfg = cfg;
	r->tokens = (double)cfg->reap_rate;   /* a full bucket: one second's worth */
	return r;
}

void reaper_free(struct reaper *r)
{
	free(r);
}

__u64 reaper_ok(const struct reaper *r)
{
	return r ? r->ok : 0;
}

__u64 reaper_failed(const struct reaper *r)
{
	return r ? r->failed : 0;
}


static int peer_allowed(void *ctx, const struct fw2_peer *p, const __u8 *daddr)
{
	const struct fw_config *cfg = ctx;

	return cidr_list_match(cfg->reap_peers, cfg->n_reap_peers, p->family, daddr);
}

struct ns_batch {
	struct reaper *r;
	struct fw2_tracker *t;
	struct fw2_candidate *c;
	int n;
	int *results;
};

/* Inside the sockets' namespace: sock_diag sockets act on their own netns. */
static int destroy_batch(void *ctx)
{
	struct ns_batch *b = ctx;
	int fd = sock_destroy_open();

	if (fd < 0) {
		for (int i = 0; i < b->n; i++)
			b->results[i] = fd;
		return 0;
	}
	for (int i = 0; i < b->n; i++) {
		const struct fw2_candidate *c = &b->c[i];
		struct sock_id id = { .family = c->family, .sport = c->sport, .dport = c->dport,
				      .cookie = c->cookie };

		memcpy(id.saddr, c->saddr, 16);
		memcpy(id.daddr, c->daddr, 16);
		b->results[i] = sock_destroy(fd, &id);
	}
	close(fd);
	return 0;
}

static const char *result_name(int err)
{
	switch (err) {
	case 0: return "ok";
	case -ENOENT: return "gone";
	case -ESTALE: return "stale";
	default: return "failed";
	}
}

void reaper_run(struct reaper *r, struct fw2_tracker *t, struct fw_scanner *sc, __u64 now,
		reap_report_fn report, void *ctx)
{
	const struct fw_config *cfg = r->cfg;
	int results[REAP_BATCH], n, max;

	if (r->disabled || !cfg->reap_after_ns)
		return;
	if (r->last_ns) {
		r->tokens += (double)(now - r->last_ns) / 1e9 * (double)cfg->reap_rate;
		if (r->tokens > (double)cfg->reap_rate)
			r->tokens = (double)cfg->reap_rate;
	}
	r->last_ns = now;
	max = cfg->reap_dry_run ? REAP_BATCH : (int)r->tokens;
	if (max > REAP_BATCH)
		max = REAP_BATCH;
	if (max <= 0)
		return;
	n = fw2_reap_candidates(t, now, cfg->reap_after_ns, cfg->reap_kind, peer_allowed, (void *)cfg,
				r->cand, max);
	if (!n)
		return;
	if (cfg->reap_dry_run) {
		for (int i = 0; i < n; i++) {
			fw2_mark_reaped(t, r->cand[i].cookie);
			report(ctx, &r->cand[i], "dry_run", 0);
		}
		return;
	}
	r->tokens -= n;
	/* Group by namespace: one setns and one netlink socket per group. */
	for (int i = 0; i < n;) {
		int j = i;
		struct ns_batch b;

		while (j < n && r->cand[j].netns == r->cand[i].netns)
			j++;
		b = (struct ns_batch){ r, t, &r->cand[i], j - i, &results[i] };
		int err = scanner_in_netns(sc, r->cand[i].netns, destroy_batch, &b);

		if (err)
			for (int k = i; k < j; k++)
				results[k] = err;
		i = j;
	}
	for (int i = 0; i < n; i++) {
		const struct fw2_candidate *c = &r->cand[i];
		int err = results[i];

		if (err == -EOPNOTSUPP || err == -EPERM) {
			/* The kernel refuses as a whole: say so once and stop. */
			if (!r->disabled) {
				fw_warn(LOG_ERR, "reaping stopped: the kernel refused socket destroy (%s); %s",
					strerror(-err),
					err == -EPERM ? "finwatch needs CAP_NET_ADMIN in the sockets' namespace"
						      : "it needs CONFIG_INET_DIAG_DESTROY=y");
				r->disabled = 1;
			}
			r->failed++;
			report(ctx, c, "failed", err);
			continue;
		}
		fw2_mark_reaped(t, c->cookie);
		if (err == 0) {
			r->ok++;
			/* A full socket announces its end (FIN_WAIT2 -> CLOSE,
			 * ECONNABORTED); a timewait one does not. */
			if (c->timewait)
				fw2_mark_killed(t, c->cookie, now);
		} else if (err != -ENOENT) {
			r->failed++;
		}
		report(ctx, c, result_name(err), err);
	}
}
