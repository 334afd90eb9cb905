/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Socket cookie -> index into a caller's array: open addressing with the
 * cookie stored inline, so a lookup costs one cache miss instead of one per
 * chained entry (measured: a chained table spent 70% of replay time walking
 * chains). Linear probing, deletes shift the run back (no tombstones). The
 * caller keeps the load at most 3/4 (cookie_index_resize). Used per event by
 * the tracker's socket table and trace mode's ages: inline.
 */
#ifndef FW_COOKIE_INDEX_H
#define FW_COOKIE_INDEX_H

#include <linux/types.h>

#define COOKIE_INDEX_NIL 0xffffffffu

struct cookie_slot {
	__u64 cookie;
	__u32 idx;           /* COOKIE_INDEX_NIL: empty */
	__u32 pad;
};

struct cookie_index {
	struct cookie_slot *slots;
	__u32 nslots;        /* a power of two */
};

static inline __u32 hash64(__u64 v)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdULL;
	v ^= v >> 33;
	v *= 0xc4ceb9fe1a85ec53ULL;
	v ^= v >> 33;
	return (__u32)v;
}

static inline void cookie_index_put(struct cookie_index *ci, __u64 cookie, __u32 idx)
{
	__u32 mask = ci->nslots - 1, h = hash64(cookie) & mask;

	while (ci->slots[h].idx != COOKIE_INDEX_NIL)
		h = (h + 1) & mask;
	ci->slots[h].cookie = cookie;
	ci->slots[h].idx = idx;
}

/* The slot holding cookie, or COOKIE_INDEX_NIL. */
static inline __u32 cookie_index_slot(const struct cookie_index *ci, __u64 cookie)
{
	__u32 mask = ci->nslots - 1, h = hash64(cookie) & mask;

	for (; ci->slots[h].idx != COOKIE_INDEX_NIL; h = (h + 1) & mask)
		if (ci->slots[h].cookie == cookie)
			return h;
	return COOKIE_INDEX_NIL;
}

static inline __u32 cookie_index_find(const struct cookie_index *ci, __u64 cookie)
{
	__u32 h = cookie_index_slot(ci, cookie);

	return h == COOKIE_INDEX_NIL ? COOKIE_INDEX_NIL : ci->slots[h].idx;
}

/* Empties slot h: later members of its run move back so no probe sequence
 * is cut short. */
static inline void cookie_index_delete_slot(struct cookie_index *ci, __u32 h)
{
	__u32 mask = ci->nslots - 1, j = h;

	for (;;) {
		j = (j + 1) & mask;
		if (ci->slots[j].idx == COOKIE_INDEX_NIL)
			break;
		__u32 home = hash64(ci->slots[j].cookie) & mask;

		/* Move j back to h unless its home lies cyclically in (h, j]. */
		if ((h <= j) ? (home <= h || home > j) : (home <= h && home > j)) {
			ci->slots[h] = ci->slots[j];
			h = j;
		}
	}
	ci->slots[h].idx = COOKIE_INDEX_NIL;
}

static inline void cookie_index_delete(struct cookie_index *ci, __u64 cookie)
{
	__u32 h = cookie_index_slot(ci, cookie);

	if (h != COOKIE_INDEX_NIL)
		cookie_index_delete_slot(ci, h);
}

/* n slots (a power of two, more than the entries held), entries kept:
 * 0 or -ENOMEM with the index unchanged. */
int cookie_index_resize(struct cookie_index *ci, __u32 n);
void cookie_index_free(struct cookie_index *ci);

#endif
