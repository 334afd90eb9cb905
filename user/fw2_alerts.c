// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdlib.h>
#include <string.h>
#include "fw2_internal.h"

/* ---- alerts ---- */

static void fill_alert_details(struct fw2_tracker *t, const struct fw2_peer *p, __u64 now,
			       struct fw2_alert *a)
{
	struct { __u32 proc; __u32 count; } top[8];
	int ntop = 0, walked = 0;

	a->count = p->held + p->orphaned;
	a->held = p->held;
	a->orphaned = p->orphaned;
	a->oldest_age_ns = p->head != FW2_NIL && now > t->socks[p->head].enter_ns
				   ? now - t->socks[p->head].enter_ns : 0;
	a->fin_timeout_s = fw2_netns_fin_timeout(t, p->netns);
	for (__u32 i = p->head; i != FW2_NIL && walked < ALERT_WALK_MAX; i = t->socks[i].next, walked++) {
		const struct fw2_sock *s = &t->socks[i];

		if (a->n_examples < FW2_ALERT_EXAMPLES) {
			int k = a->n_examples++;

			a->examples[k].cookie = s->cookie;
			a->examples[k].sport = s->sport;
			a->examples[k].dport = s->dport;
			a->examples[k].age_ns = now > s->enter_ns ? now - s->enter_ns : 0;
			a->examples[k].orphaned = !!(s->flags & FW2_F_ORPHANED);
		}
		if (s->proc == FW2_NIL)
			continue;
		int j;

		for (j = 0; j < ntop && top[j].proc != s->proc; j++)
			;
		if (j < ntop)
			top[j].count++;
		else if (ntop < (int)(sizeof(top) / sizeof(top[0])))
			top[ntop++] = (typeof(top[0])){ s->proc, 1 };
	}
	/* Most sockets first. */
	for (int i = 0; i < ntop; i++)
		for (int j = i + 1; j < ntop; j++)
			if (top[j].count > top[i].count) {
				typeof(top[0]) tmp = top[i];

				top[i] = top[j];
				top[j] = tmp;
			}
	for (int i = 0; i < ntop && a->n_procs < FW2_ALERT_PROCS; i++) {
		const struct fw2_proc *pr = &t->procs[top[i].proc];
		int k = a->n_procs++;

		a->procs[k].pid = pr->pid;
		a->procs[k].count = top[i].count;
		memcpy(a->procs[k].comm, pr->comm, FW_COMM_LEN);
	}
}

static void emit_alert(struct fw2_tracker *t, enum fw2_rule rule, int firing,
		       const struct fw2_peer *p, __u64 now, __u64 threshold)
{
	struct fw2_alert a = { .rule = rule, .firing = firing, .peer = p, .now_ns = now,
			       .threshold = threshold, .fin_timeout_s = -1 };

	if (firing) {
		t->ctr.alerts_fired++;
		t->ctr.fired_by_rule[rule]++;
	}
	if (p) {
		fill_alert_details(t, p, now, &a);
	} else {
		const struct fw2_peer *top;

		/* Host-wide: examples and processes of the biggest peer. */
		if (fw2_top_peers(t, &top, 1, 0) == 1)
			fill_alert_details(t, top, now, &a);
		a.count = t->held + t->orphaned;
		a.held = t->held;
		a.orphaned = t->orphaned;
		a.oldest_age_ns = fw2_total_oldest_age(t, now);
		a.fin_timeout_s = -1;
	}
	if (t->cb.on_alert)
		t->cb.on_alert(t->cb.ctx, &a);
}

static void rule_update(struct fw2_tracker *t, struct fw2_peer *p, enum fw2_rule r, int cond,
			__u64 now, __u64 threshold)
{
	int firing = !!(p->alert_firing & (1u << r));

	if (cond == firing)
		return;
	if (cond) {
		p->alert_firing |= (__u8)(1u << r);
		p->alert_since_ns[r] = now;
	} else {
		p->alert_firing &= (__u8)~(1u << r);
	}
	emit_alert(t, r, cond, p, now, threshold);
}

void fw2_tick(struct fw2_tracker *t, __u64 now)
{
	const struct fw2_policy *c = &t->pol;

	for (__u32 pi = 0; pi < t->peers_used; pi++) {
		struct fw2_peer *p = &t->peers[pi];
		__u32 count;

		if (!p->in_use)
			continue;
		count = p->held + p->orphaned;
		if (c->max_per_peer || (p->alert_firing & (1u << FW2_RULE_MAX_PER_PEER)))
			rule_update(t, p, FW2_RULE_MAX_PER_PEER,
				    c->max_per_peer && count > c->max_per_peer, now, c->max_per_peer);
		if (c->max_age_ns || (p->alert_firing & (1u << FW2_RULE_MAX_AGE))) {
			__u64 age = p->head != FW2_NIL && now > t->socks[p->head].enter_ns
					    ? now - t->socks[p->head].enter_ns : 0;

			rule_update(t, p, FW2_RULE_MAX_AGE, c->max_age_ns && count && age > c->max_age_ns,
				    now, c->max_age_ns);
		}
		if (!count && !p->alert_firing && now > p->last_active_ns + PEER_IDLE_EVICT_NS)
			fw2i_peer_remove(t, pi);
	}
	int cond = c->max_total && t->held + t->orphaned > c->max_total;

	if (cond != t->total_firing) {
		t->total_firing = cond;
		t->total_since_ns = now;
		emit_alert(t, FW2_RULE_MAX_TOTAL, cond, NULL, now, c->max_total);
	}
}
