// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "grow.h"
#include "trace_ages.h"

int trace_ages_init(struct trace_ages *ta, __u32 max)
{
	memset(ta, 0, sizeof(*ta));
	ta->max = max ? max : 1;
	ta->free_head = COOKIE_INDEX_NIL;
	return cookie_index_resize(&ta->index, 1024);
}

void trace_ages_free(struct trace_ages *ta)
{
	cookie_index_free(&ta->index);
	free(ta->ages);
	memset(ta, 0, sizeof(*ta));
}

static void age_release(struct trace_ages *ta, __u32 idx)
{
	cookie_index_delete(&ta->index, ta->ages[idx].cookie);
	ta->ages[idx].used = 0;
	ta->ages[idx].pid = ta->free_head;
	ta->free_head = idx;
	ta->used--;
}

/*
 * Second-chance clock over the entries: one touched since the hand last
 * passed is spared once. Approximates least recently used without a list
 * (a churn's sockets live for milliseconds; what is left when the table is
 * full is mostly sockets whose CLOSE was never seen).
 */
static void age_evict(struct trace_ages *ta)
{
	for (__u64 steps = 0; ta->top && steps < 2 * (__u64)ta->top + 2; steps++) {
		__u32 i = ta->hand++ % ta->top;

		if (!ta->ages[i].used)
			continue;
		if (ta->ages[i].referenced) {
			ta->ages[i].referenced = 0;
			continue;
		}
		age_release(ta, i);
		ta->evictions++;
		return;
	}
}

static struct trace_age *age_new(struct trace_ages *ta, __u64 cookie)
{
	__u32 idx;

	if (ta->used >= ta->max)
		age_evict(ta);
	if (ta->free_head != COOKIE_INDEX_NIL) {
		idx = ta->free_head;
		ta->free_head = ta->ages[idx].pid;
	} else {
		if (GROW(ta->ages, ta->top, ta->alloc, 1024))
			return NULL;
		idx = ta->top++;
	}
	/* A failed resize only matters once the index has no room at all. */
	if ((__u64)(ta->used + 1) * 4 > (__u64)ta->index.nslots * 3 &&
	    cookie_index_resize(&ta->index, ta->index.nslots * 2) &&
	    ta->used + 1 >= ta->index.nslots) {
		ta->ages[idx].used = 0;
		ta->ages[idx].pid = ta->free_head;
		ta->free_head = idx;
		return NULL;
	}
	memset(&ta->ages[idx], 0, sizeof(ta->ages[idx]));
	ta->ages[idx].cookie = cookie;
	ta->ages[idx].used = 1;
	cookie_index_put(&ta->index, cookie, idx);
	ta->used++;
	return &ta->ages[idx];
}

void trace_ages_apply(struct trace_ages *ta, struct fw_event *e)
{
	__u32 idx = cookie_index_find(&ta->index, e->cookie);
	struct trace_age *a;

	e->ns_in_old = FW_NS_UNKNOWN;
	if (idx == COOKIE_INDEX_NIL) {
		/* New sockets start from CLOSE (connect, listen) or from
		 * their listener's LISTEN (accepted): anything else was
		 * there before us or lost its entry. */
		if (e->oldstate != FW_TCP_CLOSE && e->oldstate != FW_TCP_LISTEN)
			ta->misses++;
		if (e->newstate == FW_TCP_CLOSE)
			return;
		a = age_new(ta, e->cookie);
		if (!a) {
			ta->evictions++;   /* no memory: as good as evicted */
			return;
		}
		/* The start of a state we did not see begin stays unknown. */
		a->ts_ns = e->oldstate != e->newstate ? e->ts_ns : 0;
	} else {
		a = &ta->ages[idx];
		a->referenced = 1;
		/* A lost record in between would make this age span two
		 * states: none rather than a wrong one. */
		if (a->state != e->oldstate)
			ta->misses++;
		else if (a->ts_ns && e->ts_ns >= a->ts_ns)
			e->ns_in_old = e->ts_ns - a->ts_ns;
		/* FIN_WAIT2 -> FIN_WAIT2 (close() after shutdown()) keeps
		 * counting the same FIN_WAIT2. */
		if (e->oldstate != e->newstate)
			a->ts_ns = e->ts_ns;
	}
	/* The BPF program names the process only where the transition runs
	 * in the closer's context. The first closer of a FIN_WAIT2 stays: the
	 * shutdown() that made it, not a later close() of the held socket. */
	if ((e->flags & FW_EVF_CLOSER) && (e->newstate != FW_TCP_FIN_WAIT2 || !a->has_closer)) {
		a->pid = e->pid;
		a->tid = e->tid;
		memcpy(a->comm, e->comm, sizeof(a->comm));
		a->has_closer = 1;
	}
	if (a->has_closer) {
		e->pid = a->pid;
		e->tid = a->tid;
		memcpy(e->comm, a->comm, sizeof(e->comm));
		e->flags |= FW_EVF_CLOSER;
	}
	a->state = e->newstate;
	if (e->newstate == FW_TCP_CLOSE)
		age_release(ta, (__u32)(a - ta->ages));
}
