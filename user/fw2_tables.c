// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The tracker's tables, apart from its policy (fw2_tracker.c): sockets by
 * cookie (open addressing), peers (chained hash), interned processes and
 * local addresses, per-namespace state, and each peer's list of sockets
 * ordered by FIN_WAIT_2 entry. They keep the held/orphaned counts of peers
 * and of the whole tracker consistent with the lists; what an event or a
 * scan record means is decided by the tracker.
 */
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cookie_index.h"
#include "fw2_internal.h"
#include "grow.h"
#include "parse.h"

/* ---- network namespaces ---- */

struct netns_info *fw2i_ns_get(struct fw2_tracker *t, __u32 netns, int create)
{
	for (__u32 i = 0; i < t->n_ns; i++)
		if (t->ns[i].netns == netns)
			return &t->ns[i];
	if (!create)
		return NULL;
	if (GROW(t->ns, t->n_ns, t->ns_cap, 8))
		return NULL;
	t->ns[t->n_ns] = (struct netns_info){ .netns = netns, .fin_timeout_s = -1 };
	return &t->ns[t->n_ns++];
}


int fw2_netns_fin_timeout(const struct fw2_tracker *t, __u32 netns)
{
	struct netns_info *n = fw2i_ns_get((struct fw2_tracker *)t, netns, 0);

	return n ? n->fin_timeout_s : -1;
}

void fw2_set_fin_timeout(struct fw2_tracker *t, __u32 netns, int fin_timeout_s)
{
	struct netns_info *n = fw2i_ns_get(t, netns, 1);

	if (n && fin_timeout_s >= 0)
		n->fin_timeout_s = fin_timeout_s;
}

static void ns_pending_add(struct fw2_tracker *t, __u32 netns, int delta)
{
	struct netns_info *n = fw2i_ns_get(t, netns, 1);

	if (n)
		n->pending += delta;
}

int fw2_netns_needs_scan(const struct fw2_tracker *t, __u32 netns)
{
	struct netns_info *n = fw2i_ns_get((struct fw2_tracker *)t, netns, 0);

	return n && n->pending;
}

int fw2_netns_pending(const struct fw2_tracker *t, __u32 *out, int max)
{
	int k = 0;

	for (__u32 i = 0; i < t->n_ns && k < max; i++)
		if (t->ns[i].pending)
			out[k++] = t->ns[i].netns;
	return k;
}

/* ---- processes (interned: sockets hold an index, not a comm copy) ---- */

__u32 fw2i_proc_get(struct fw2_tracker *t, __u32 pid, const char *comm)
{
	/* Linear probe over live entries is fine: few distinct closers. A
	 * miss allocates. */
	for (__u32 i = 0; i < t->procs_used; i++) {
		struct fw2_proc *p = &t->procs[i];

		if (p->refs && p->pid == pid && !strncmp(p->comm, comm, FW_COMM_LEN)) {
			p->refs++;
			return i;
		}
	}
	__u32 idx;

	if (t->proc_free != FW2_NIL) {
		idx = t->proc_free;
		t->proc_free = t->procs[idx].pid;
	} else {
		if (GROW(t->procs, t->procs_used, t->procs_cap, 16))
			return FW2_NIL;
		idx = t->procs_used++;
	}
	t->procs[idx].pid = pid;
	t->procs[idx].refs = 1;
	memcpy(t->procs[idx].comm, comm, FW_COMM_LEN);
	t->procs[idx].comm[FW_COMM_LEN - 1] = '\0';
	return idx;
}

static void proc_put(struct fw2_tracker *t, __u32 idx)
{
	if (idx == FW2_NIL || idx >= t->procs_used || !t->procs[idx].refs)
		return;
	if (--t->procs[idx].refs == 0) {
		t->procs[idx].pid = t->proc_free;   /* free-list link */
		t->proc_free = idx;
	}
}

/* ---- local addresses ---- */

static __u32 laddr_hash(const __u8 *addr)
{
	__u64 a, b;

	memcpy(&a, addr, 8);
	memcpy(&b, addr + 8, 8);
	return hash64(a ^ hash64(b));
}

static int laddr_rehash(struct fw2_tracker *t, __u32 n)
{
	__u32 *slots = malloc((size_t)n * sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	memset(slots, 0xff, (size_t)n * sizeof(*slots));
	for (__u32 i = 0; i < t->laddrs_used; i++) {
		__u32 h = laddr_hash(t->laddrs[i].addr) & (n - 1);

		while (slots[h] != FW2_NIL)
			h = (h + 1) & (n - 1);
		slots[h] = i;
	}
	free(t->laddr_slots);
	t->laddr_slots = slots;
	t->laddr_nslots = n;
	return 0;
}

/*
 * Hashed, not scanned: a churn from many source addresses made a linear
 * scan 90% of finwatch's CPU (measured by make bench). Entries are kept
 * once seen (a host's local addresses are a bounded set), so the table
 * needs no deletion.
 */

__u32 fw2i_laddr_get(struct fw2_tracker *t, const __u8 *addr)
{
	__u32 h, idx;

	if (!t->laddr_nslots && laddr_rehash(t, 64))
		return FW2_NIL;
	h = laddr_hash(addr) & (t->laddr_nslots - 1);
	for (; (idx = t->laddr_slots[h]) != FW2_NIL; h = (h + 1) & (t->laddr_nslots - 1))
		if (!memcmp(t->laddrs[idx].addr, addr, 16)) {
			t->laddrs[idx].refs++;
			return idx;
		}
	if (GROW(t->laddrs, t->laddrs_used, t->laddrs_cap, 8))
		return FW2_NIL;
	idx = t->laddrs_used++;
	memcpy(t->laddrs[idx].addr, addr, 16);
	t->laddrs[idx].refs = 1;
	t->laddr_slots[h] = idx;
	if (t->laddrs_used * 2 > t->laddr_nslots)
		laddr_rehash(t, t->laddr_nslots * 2);
	return idx;
}

static void laddr_put(struct fw2_tracker *t, __u32 idx)
{
	if (idx != FW2_NIL && idx < t->laddrs_used && t->laddrs[idx].refs)
		t->laddrs[idx].refs--;
}

/* ---- peers ---- */

static void peer_key(const struct fw2_tracker *t, __u32 netns, __u16 family, const __u8 *addr,
		     __u16 dport, __u64 cgroup, struct fw2_peer *k)
{
	unsigned bits = family == FW_AF_INET6 ? 128 : 32;
	unsigned prefix = bits;

	memset(k, 0, sizeof(*k));
	k->netns = netns;
	k->family = family;
	memcpy(k->addr, addr, family == FW_AF_INET6 ? 16 : 4);
	if (t->pol.group_by == FW_GROUP_ADDR_PORT)
		k->port = dport;
	if (t->pol.group_by == FW_GROUP_PREFIX)
		prefix = family == FW_AF_INET6 ? t->pol.group_prefix6 : t->pol.group_prefix4;
	if (prefix > bits)
		prefix = bits;
	for (unsigned b = prefix; b < bits; b++)
		k->addr[b / 8] &= (__u8)~(0x80 >> (b % 8));
	k->prefix = (__u8)prefix;
	if (t->pol.group_wl != FW_GROUP_WL_NONE)
		k->wl_key = t->pol.wl_key ? t->pol.wl_key(t->pol.wl_ctx, cgroup) : cgroup;
}

static __u32 peer_hash(const struct fw2_peer *k)
{
	__u64 h = ((__u64)k->netns << 32) ^ ((__u64)k->family << 16) ^ k->port ^ k->prefix;
	__u64 a, b;

	memcpy(&a, k->addr, 8);
	memcpy(&b, k->addr + 8, 8);
	return hash64(h ^ hash64(a) ^ ((__u64)hash64(b) << 1) ^ k->wl_key);
}

static int peer_eq(const struct fw2_peer *a, const struct fw2_peer *b)
{
	return a->netns == b->netns && a->family == b->family && a->port == b->port &&
	       a->prefix == b->prefix && a->wl_key == b->wl_key && !memcmp(a->addr, b->addr, 16);
}

static int rehash_peers(struct fw2_tracker *t, __u32 nb)
{
	__u32 *b = malloc(nb * sizeof(*b));

	if (!b)
		return -ENOMEM;
	memset(b, 0xff, nb * sizeof(*b));
	for (__u32 i = 0; i < t->peers_used; i++) {
		struct fw2_peer *p = &t->peers[i];

		if (!p->in_use)
			continue;
		__u32 h = peer_hash(p) & (nb - 1);
		p->hnext = b[h];
		b[h] = i;
	}
	free(t->peer_buckets);
	t->peer_buckets = b;
	t->peer_nbuckets = nb;
	return 0;
}

static __u32 peer_find(struct fw2_tracker *t, const struct fw2_peer *k)
{
	__u32 i = t->peer_buckets[peer_hash(k) & (t->peer_nbuckets - 1)];

	for (; i != FW2_NIL; i = t->peers[i].hnext)
		if (peer_eq(&t->peers[i], k))
			return i;
	return FW2_NIL;
}

__u32 fw2i_peer_get(struct fw2_tracker *t, __u32 netns, __u16 family, const __u8 *addr,
		    __u16 dport, __u64 cgroup, __u64 now)
{
	struct fw2_peer k;
	__u32 idx;

	peer_key(t, netns, family, addr, dport, cgroup, &k);
	idx = peer_find(t, &k);
	if (idx != FW2_NIL)
		return idx;
	if (t->peer_free != FW2_NIL) {
		idx = t->peer_free;
		t->peer_free = t->peers[idx].hnext;
	} else {
		if (GROW(t->peers, t->peers_used, t->peers_cap, 64))
			return FW2_NIL;
		idx = t->peers_used++;
	}
	k.in_use = 1;
	k.head = k.tail = FW2_NIL;
	k.last_active_ns = now;
	t->peers[idx] = k;
	__u32 h = peer_hash(&k) & (t->peer_nbuckets - 1);
	t->peers[idx].hnext = t->peer_buckets[h];
	t->peer_buckets[h] = idx;
	t->n_peers++;
	if (t->n_peers > t->peer_nbuckets)
		rehash_peers(t, t->peer_nbuckets * 2);
	return idx;
}

void fw2i_peer_remove(struct fw2_tracker *t, __u32 idx)
{
	struct fw2_peer *p = &t->peers[idx];
	__u32 *pp = &t->peer_buckets[peer_hash(p) & (t->peer_nbuckets - 1)];

	while (*pp != FW2_NIL && *pp != idx)
		pp = &t->peers[*pp].hnext;
	if (*pp == idx)
		*pp = p->hnext;
	p->in_use = 0;
	p->hnext = t->peer_free;
	t->peer_free = idx;
	t->n_peers--;
}

const char *fw2_peer_str(const struct fw2_peer *p, char *buf, size_t len)
{
	char a[48];
	unsigned full = p->family == FW_AF_INET6 ? 128 : 32;

	format_addr(p->family, p->addr, a, sizeof(a));
	if (p->port)
		snprintf(buf, len, p->family == FW_AF_INET6 ? "[%s]:%u" : "%s:%u", a, p->port);
	else if (p->prefix < full)
		snprintf(buf, len, "%s/%u", a, p->prefix);
	else
		snprintf(buf, len, "%s", a);
	return buf;
}

/* ---- sockets ---- */

static int rehash_socks(struct fw2_tracker *t, __u32 n)
{
	return cookie_index_resize(&t->sock_index, n);
}

__u32 fw2i_sock_find(const struct fw2_tracker *t, __u64 cookie)
{
	return cookie_index_find(&t->sock_index, cookie);
}

static void peer_count(struct fw2_tracker *t, struct fw2_peer *p, int orphaned, int delta)
{
	if (orphaned) {
		p->orphaned += delta;
		t->orphaned += delta;
	} else {
		p->held += delta;
		t->held += delta;
	}
}

/*
 * Keeps each peer's list ordered by enter_ns (oldest first). Events arrive
 * in time order, so the usual insert is at the tail. During a scan,
 * sockets arrive in hash order with estimated ages: walking back for each
 * made discovery quadratic (9 s of CPU for 100k sockets), so they are
 * appended and the scan's end sorts each list it disordered, once.
 */
void fw2i_list_insert(struct fw2_tracker *t, struct fw2_peer *p, __u32 idx)
{
	struct fw2_sock *s = &t->socks[idx];
	__u32 after = p->tail;
	/* Events drained mid-scan are only slightly out of order (two CPUs
	 * share the ring): a few steps back place them, and the list is not
	 * needlessly sorted at the scan's end (measured: a full sort per
	 * follow-up scan in a churn, 8% of the reader). */
	__u32 steps = 0, limit = t->scanning ? 8 : UINT32_MAX;

	while (after != FW2_NIL && t->socks[after].enter_ns > s->enter_ns && steps++ < limit)
		after = after == p->head ? FW2_NIL : t->socks[after].prev;
	if (after != FW2_NIL && t->socks[after].enter_ns > s->enter_ns) {
		after = p->tail;
		if (!p->unsorted) {
			p->unsorted = 1;
			t->n_unsorted++;
		}
	}
	s->prev = after;
	s->next = after == FW2_NIL ? p->head : t->socks[after].next;
	if (s->next != FW2_NIL)
		t->socks[s->next].prev = idx;
	else
		p->tail = idx;
	if (after != FW2_NIL)
		t->socks[after].next = idx;
	else
		p->head = idx;
}

/*
 * Bottom-up merge sort of a peer's list by enter_ns: O(n log n), stable,
 * no allocation (so it cannot fail halfway), prev links rebuilt as it goes.
 */
static void list_sort(struct fw2_tracker *t, struct fw2_peer *p)
{
	struct fw2_sock *sk = t->socks;
	__u32 list = p->head;

	if (list == FW2_NIL)
		return;
	for (__u32 width = 1;; width *= 2) {
		__u32 a = list, tail = FW2_NIL, merges = 0;

		list = FW2_NIL;
		while (a != FW2_NIL) {
			__u32 b = a, na = 0, nb = width;

			merges++;
			while (na < width && b != FW2_NIL) {
				na++;
				b = sk[b].next;
			}
			while (na > 0 || (nb > 0 && b != FW2_NIL)) {
				__u32 e;

				if (na > 0 && (nb == 0 || b == FW2_NIL || sk[a].enter_ns <= sk[b].enter_ns)) {
					e = a;
					a = sk[a].next;
					na--;
				} else {
					e = b;
					b = sk[b].next;
					nb--;
				}
				if (tail != FW2_NIL)
					sk[tail].next = e;
				else
					list = e;
				sk[e].prev = tail;
				tail = e;
			}
			a = b;
		}
		sk[tail].next = FW2_NIL;
		if (merges <= 1) {
			p->head = list;
			p->tail = tail;
			return;
		}
	}
}

/* Ends a scan's relaxed ordering: every list is sorted again. */
void fw2i_scan_finish(struct fw2_tracker *t)
{
	t->scanning = 0;
	for (__u32 pi = 0; pi < t->peers_used && t->n_unsorted; pi++) {
		struct fw2_peer *p = &t->peers[pi];

		if (!p->unsorted)
			continue;
		p->unsorted = 0;
		t->n_unsorted--;
		if (p->in_use)
			list_sort(t, p);
	}
	t->n_unsorted = 0;
}

/*
 * The head's prev link is never read (p->head says which socket is first),
 * so removing the oldest socket, the usual exit, does not write to the next
 * one: at a million sockets that write was a cache miss per exit.
 */
void fw2i_list_unlink(struct fw2_tracker *t, struct fw2_peer *p, __u32 idx)
{
	struct fw2_sock *s = &t->socks[idx];

	if (idx == p->head) {
		p->head = s->next;
		if (s->next == FW2_NIL)
			p->tail = FW2_NIL;
		return;
	}
	t->socks[s->prev].next = s->next;
	if (s->next != FW2_NIL)
		t->socks[s->next].prev = s->prev;
	else
		p->tail = s->prev;
}

__u32 fw2i_sock_add(struct fw2_tracker *t, __u64 cookie, __u32 peer, __u64 enter_ns, __u16 sport,
		    __u16 dport, int orphaned, __u8 flags, const __u8 *daddr, __u64 cgroup)
{
	__u32 idx;

	if (t->n_socks >= t->max_socks) {
		t->ctr.capacity_drops++;
		return FW2_NIL;
	}
	if (t->sock_free != FW2_NIL) {
		idx = t->sock_free;
		t->sock_free = t->socks[idx].next;
	} else {
		/* Not GROW: raddrs is a parallel array that must grow with
		 * socks before the capacity changes. */
		if (t->socks_used == t->socks_cap) {
			__u32 cap = t->socks_cap * 2;
			struct fw2_sock *n = realloc(t->socks, (size_t)cap * sizeof(*n));

			if (!n) {
				t->ctr.capacity_drops++;
				return FW2_NIL;
			}
			t->socks = n;
			advise_huge(n, (size_t)cap * sizeof(*n));
			if (t->raddrs) {
				void *r = realloc(t->raddrs, (size_t)cap * sizeof(*t->raddrs));

				if (!r) {
					t->ctr.capacity_drops++;
					return FW2_NIL;
				}
				t->raddrs = r;
			}
			t->socks_cap = cap;
		}
		idx = t->socks_used++;
	}
	struct fw2_sock *s = &t->socks[idx];

	memset(s, 0, sizeof(*s));
	s->cookie = cookie;
	s->cgroup = cgroup;
	s->enter_ns = enter_ns;
	s->peer = peer;
	s->proc = FW2_NIL;
	s->laddr = FW2_NIL;
	s->sport = sport;
	s->dport = dport;
	s->state = FW2_FULL;
	s->flags = flags | (orphaned ? FW2_F_ORPHANED : 0);
	if (t->raddrs)
		memcpy(t->raddrs[idx], daddr, 16);
	t->n_socks++;
	if ((__u64)t->n_socks * 4 > (__u64)t->sock_index.nslots * 3)
		rehash_socks(t, t->sock_index.nslots * 2);
	cookie_index_put(&t->sock_index, cookie, idx);

	struct fw2_peer *p = &t->peers[peer];

	fw2i_list_insert(t, p, idx);
	peer_count(t, p, orphaned, 1);
	p->entered++;
	p->last_active_ns = enter_ns > p->last_active_ns ? enter_ns : p->last_active_ns;
	return idx;
}

/*
 * An orphan handed to a timewait socket is not counted as stuck until a
 * scan has seen that socket still in FIN_WAIT2: in ordinary traffic the
 * peer's FIN arrives a round trip after the handoff, unannounced, and
 * counting every handoff until the next scan showed thousands of phantom
 * FIN_WAIT_2 sockets (and fired alerts) on a busy but healthy host.
 * Durations are unaffected; the count of a really stuck orphan starts at
 * most one follow-up scan late.
 */
void fw2i_sock_set_state(struct fw2_tracker *t, struct fw2_sock *s, __u8 state)
{
	int was = s->state == FW2_TW_PENDING || s->state == FW2_TW;
	int now = state == FW2_TW_PENDING || state == FW2_TW;
	struct fw2_peer *p = &t->peers[s->peer];
	int orphaned = !!(s->flags & FW2_F_ORPHANED);

	if (was != now)
		ns_pending_add(t, p->netns, now ? 1 : -1);
	if (s->state == FW2_TW_PENDING && state != FW2_TW_PENDING) {
		peer_count(t, p, orphaned, 1);
		t->unconfirmed--;
	} else if (state == FW2_TW_PENDING && s->state != FW2_TW_PENDING) {
		peer_count(t, p, orphaned, -1);
		t->unconfirmed++;
	}
	s->state = state;
}

void fw2i_sock_set_orphaned(struct fw2_tracker *t, struct fw2_sock *s, int orphaned)
{
	if (!!(s->flags & FW2_F_ORPHANED) == !!orphaned)
		return;
	struct fw2_peer *p = &t->peers[s->peer];

	peer_count(t, p, !orphaned, -1);
	peer_count(t, p, orphaned, 1);
	if (orphaned)
		s->flags |= FW2_F_ORPHANED;
	else
		s->flags &= (__u8)~FW2_F_ORPHANED;
}

/* Ends tracking of socket idx in every table; the tracker has recorded
 * its exit. */
void fw2i_sock_free(struct fw2_tracker *t, __u32 idx)
{
	struct fw2_sock *s = &t->socks[idx];
	struct fw2_peer *p = &t->peers[s->peer];
	int orphaned = !!(s->flags & FW2_F_ORPHANED);

	fw2i_sock_set_state(t, s, 0);
	fw2i_list_unlink(t, p, idx);
	peer_count(t, p, orphaned, -1);
	proc_put(t, s->proc);
	laddr_put(t, s->laddr);

	cookie_index_delete(&t->sock_index, s->cookie);
	s->state = 0;
	s->next = t->sock_free;   /* free-list link */
	t->sock_free = idx;
	t->n_socks--;
}

int fw2i_tables_init(struct fw2_tracker *t, int keep_raddrs)
{
	t->socks_cap = 1024;
	t->socks = malloc(t->socks_cap * sizeof(*t->socks));
	t->peers_cap = 64;
	t->peers = malloc(t->peers_cap * sizeof(*t->peers));
	t->sock_free = t->peer_free = t->proc_free = FW2_NIL;
	if (keep_raddrs)
		t->raddrs = malloc(t->socks_cap * sizeof(*t->raddrs));
	if (!t->socks || !t->peers || rehash_socks(t, 1024) || rehash_peers(t, 64) ||
	    (keep_raddrs && !t->raddrs))
		return -ENOMEM;
	return 0;
}

void fw2i_tables_free(struct fw2_tracker *t)
{
	free(t->socks);
	free(t->raddrs);
	cookie_index_free(&t->sock_index);
	free(t->peers);
	free(t->peer_buckets);
	free(t->procs);
	free(t->laddrs);
	free(t->laddr_slots);
	free(t->ns);
}
