// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdlib.h>
#include <string.h>
#include "fw2_internal.h"

/* ---- read access ---- */

__u32 fw2_unconfirmed_handoffs(const struct fw2_tracker *t)
{
	return t->unconfirmed;
}

__u32 fw2_total(const struct fw2_tracker *t, __u32 *held, __u32 *orphaned)
{
	if (held)
		*held = t->held;
	if (orphaned)
		*orphaned = t->orphaned;
	return t->held + t->orphaned;
}

const struct fw2_counters *fw2_counters(const struct fw2_tracker *t)
{
	return &t->ctr;
}

__u64 fw2_peer_oldest_age(const struct fw2_tracker *t, const struct fw2_peer *p, __u64 now,
			  int *lower_bound)
{
	if (lower_bound)
		*lower_bound = 0;
	if (p->head == FW2_NIL)
		return 0;
	const struct fw2_sock *s = &t->socks[p->head];

	if (lower_bound)
		*lower_bound = !!(s->flags & FW2_F_LOWER_BOUND);
	return now > s->enter_ns ? now - s->enter_ns : 0;
}

__u64 fw2_total_oldest_age(const struct fw2_tracker *t, __u64 now)
{
	__u64 best = 0;

	for (__u32 pi = 0; pi < t->peers_used; pi++) {
		const struct fw2_peer *p = &t->peers[pi];
		__u64 age;

		if (!p->in_use || p->head == FW2_NIL)
			continue;
		age = fw2_peer_oldest_age(t, p, now, NULL);
		if (age > best)
			best = age;
	}
	return best;
}

int fw2_total_firing(const struct fw2_tracker *t)
{
	return t->total_firing;
}

static int peer_cmp(const void *a, const void *b, void *ctx)
{
	const struct fw2_tracker *t = ctx;
	const struct fw2_peer *x = *(const struct fw2_peer *const *)a;
	const struct fw2_peer *y = *(const struct fw2_peer *const *)b;
	__u32 cx = x->held + x->orphaned, cy = y->held + y->orphaned;
	__u64 ex, ey;

	if (cx != cy)
		return cx > cy ? -1 : 1;
	ex = x->head != FW2_NIL ? t->socks[x->head].enter_ns : UINT64_MAX;
	ey = y->head != FW2_NIL ? t->socks[y->head].enter_ns : UINT64_MAX;
	if (ex != ey)
		return ex < ey ? -1 : 1;
	if (x->exited != y->exited)
		return x->exited > y->exited ? -1 : 1;
	return memcmp(x->addr, y->addr, 16);
}

int fw2_top_peers(const struct fw2_tracker *t, const struct fw2_peer **out, int max, int with_idle)
{
	const struct fw2_peer **all;
	int n = 0;

	if (max <= 0)
		return 0;
	all = malloc((t->n_peers + 1) * sizeof(*all));
	if (!all)
		return 0;
	for (__u32 pi = 0; pi < t->peers_used; pi++) {
		const struct fw2_peer *p = &t->peers[pi];

		if (p->in_use && (with_idle || p->held + p->orphaned))
			all[n++] = p;
	}
	qsort_r(all, n, sizeof(*all), peer_cmp, (void *)t);
	if (n > max)
		n = max;
	memcpy(out, all, n * sizeof(*all));
	free(all);
	return n;
}

size_t fw2_memory_bytes(const struct fw2_tracker *t)
{
	return (size_t)t->socks_cap * (sizeof(struct fw2_sock) + (t->raddrs ? 16 : 0)) +
	       (size_t)t->sock_index.nslots * sizeof(struct cookie_slot) +
	       (size_t)t->peers_cap * sizeof(struct fw2_peer) + (size_t)t->peer_nbuckets * 4 +
	       (size_t)t->procs_cap * sizeof(struct fw2_proc) + t->ns_cap * sizeof(struct netns_info);
}

enum fw_group_workload fw2_group_workload(const struct fw2_tracker *t)
{
	return t->pol.group_wl;
}

int fw2_peer_socks(const struct fw2_tracker *t, const struct fw2_peer *p, int newest_first, int max,
		   int (*fn)(void *ctx, const struct fw2_sock_view *s), void *ctx)
{
	int fin_to = fw2_netns_fin_timeout(t, p->netns);
	int n = 0;

	for (__u32 i = newest_first ? p->tail : p->head; i != FW2_NIL && n < max;) {
		const struct fw2_sock *s = &t->socks[i];
		__u32 next = newest_first ? (i == p->head ? FW2_NIL : s->prev) : s->next;
		struct fw2_sock_view v = {
			.cookie = s->cookie,
			.enter_ns = s->enter_ns,
			.cgroup_id = s->cgroup,
			.sport = s->sport,
			.dport = s->dport,
			.orphaned = !!(s->flags & FW2_F_ORPHANED),
			.lower_bound = !!(s->flags & FW2_F_LOWER_BOUND),
			.timewait = s->state == FW2_TW,
		};

		i = next;
		if (s->state == FW2_TW_PENDING)
			continue;
		if (v.timewait)
			v.expiry_ns = s->aux_ns;
		else if (v.orphaned && fin_to >= 0)
			v.expiry_ns = s->enter_ns + (__u64)fin_to * NS_PER_SEC;
		if (s->proc != FW2_NIL && s->proc < t->procs_used) {
			v.pid = t->procs[s->proc].pid;
			v.comm = t->procs[s->proc].comm;
		}
		n++;
		if (fn(ctx, &v))
			break;
	}
	return n;
}

int fw2_hist_span(const __u64 *hist, int *lo, int *hi, __u64 *max)
{
	*lo = *hi = -1;
	*max = 0;
	for (int b = 0; b < FW2_HIST_BUCKETS; b++)
		if (hist[b]) {
			if (*lo < 0)
				*lo = b;
			*hi = b;
			if (hist[b] > *max)
				*max = hist[b];
		}
	return *lo >= 0;
}

void fw2_hist_bounds(int b, unsigned long long *low, unsigned long long *high)
{
	*low = b ? 1ULL << (b - 1) : 0;
	*high = b ? (1ULL << b) - 1 : 0;
}
