// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdlib.h>
#include <string.h>
#include "fw2_internal.h"

/* ---- alerts ---- */

/* The few keys (processes, cgroups) holding the most of a peer's sockets. */
struct tally { __u64 key; __u32 count; };
#define TALLY_CAP 8

static void tally_add(struct tally *top, int *n, __u64 key)
{
	int j;

	for (j = 0; j < *n && top[j].key != key; j++)
		;
	if (j < *n)
		top[j].count++;
	else if (*n < TALLY_CAP)
		top[(*n)++] = (struct tally){ key, 1 };
}

/* Most sockets first; ties keep the order the exchange leaves them in
 * (as alerts always showed them). */
static void tally_sort(struct tally *top, int n)
{
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (top[j].count > top[i].count) {
				struct tally tmp = top[i];

				top[i] = top[j];
				top[j] = tmp;
			}
}

static void fill_alert_details(struct fw2_tracker *t, const struct fw2_peer *p, __u64 now,
			       struct fw2_alert *a)
{
	struct tally procs[TALLY_CAP], cgroups[TALLY_CAP];
	int nprocs = 0, ncgroups = 0, walked = 0;

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
		if (s->proc != FW2_NIL)
			tally_add(procs, &nprocs, s->proc);
		if (s->cgroup)
			tally_add(cgroups, &ncgroups, s->cgroup);
	}
	tally_sort(procs, nprocs);
	tally_sort(cgroups, ncgroups);
	for (int i = 0; i < nprocs && a->n_procs < FW2_ALERT_PROCS; i++) {
		const struct fw2_proc *pr = &t->procs[procs[i].key];
		int k = a->n_procs++;

		a->procs[k].pid = pr->pid;
		a->procs[k].count = procs[i].count;
		memcpy(a->procs[k].comm, pr->comm, FW_COMM_LEN);
	}
	for (int i = 0; i < ncgroups && a->n_cgroups < FW2_ALERT_CGROUPS; i++) {
		a->cgroups[a->n_cgroups].id = cgroups[i].key;
		a->cgroups[a->n_cgroups++].count = cgroups[i].count;
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
