// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdlib.h>
#include <string.h>
#include "fw2_internal.h"

/* ---- reaping ---- */

int fw2_reap_candidates(const struct fw2_tracker *t, __u64 now, __u64 min_age, int kind_mask,
			int (*allow)(void *ctx, const struct fw2_peer *p, const __u8 *daddr), void *ctx,
			struct fw2_candidate *out, int max)
{
	int n = 0;

	for (__u32 pi = 0; pi < t->peers_used && n < max; pi++) {
		const struct fw2_peer *p = &t->peers[pi];

		if (!p->in_use || p->head == FW2_NIL)
			continue;
		/* Oldest first: stop at the first socket that is too young. */
		for (__u32 i = p->head; i != FW2_NIL && n < max; i = t->socks[i].next) {
			const struct fw2_sock *s = &t->socks[i];
			int orph = !!(s->flags & FW2_F_ORPHANED);
			struct fw2_candidate *c;

			if (now <= s->enter_ns || now - s->enter_ns <= min_age)
				break;
			if (!(kind_mask & (orph ? FW2_KIND_ORPHANED : FW2_KIND_HELD)) ||
			    (s->flags & FW2_F_REAPED))
				continue;
			if (allow && !allow(ctx, p, t->raddrs ? t->raddrs[i] : p->addr))
				continue;
			/* Without the local address the kernel cannot find it. */
			if (s->laddr == FW2_NIL || s->state == FW2_TW_PENDING)
				continue;
			c = &out[n++];
			memset(c, 0, sizeof(*c));
			c->cookie = s->cookie;
			c->age_ns = now - s->enter_ns;
			c->netns = p->netns;
			c->family = p->family;
			c->sport = s->sport;
			c->dport = s->dport;
			memcpy(c->saddr, t->laddrs[s->laddr].addr, 16);
			c->orphaned = orph;
			c->timewait = s->state == FW2_TW;
			c->peer = p;
			c->cgroup_id = s->cgroup;
			if (s->proc != FW2_NIL) {
				c->pid = t->procs[s->proc].pid;
				memcpy(c->comm, t->procs[s->proc].comm, FW_COMM_LEN);
			}
			memcpy(c->daddr, t->raddrs ? t->raddrs[i] : p->addr, 16);
		}
	}
	return n;
}

void fw2_mark_reaped(struct fw2_tracker *t, __u64 cookie)
{
	__u32 idx = fw2i_sock_find(t, cookie);

	if (idx != FW2_NIL)
		t->socks[idx].flags |= FW2_F_REAPED;
}

void fw2_mark_killed(struct fw2_tracker *t, __u64 cookie, __u64 now)
{
	__u32 idx = fw2i_sock_find(t, cookie);

	if (idx != FW2_NIL)
		fw2i_sock_exit(t, idx, FW2_OUT_KILLED, now);
}
