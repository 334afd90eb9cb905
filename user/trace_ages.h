/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * trace mode: each socket's time in its state and its closing process, kept
 * in user space from the records themselves. The BPF program only stamps a
 * record with the process a transition runs in where that is the closer;
 * keeping per-socket state in a BPF map (socket storage, then an LRU hash)
 * was most of trace mode's kernel cost per transition.
 */
#ifndef FW_TRACE_AGES_H
#define FW_TRACE_AGES_H

#include "cookie_index.h"
#include "finwatch.h"

struct trace_age {
	__u64 cookie;
	__u64 ts_ns;          /* when the socket entered its current state; 0 unknown */
	__u32 pid;
	__u32 tid;
	char comm[FW_COMM_LEN];
	__u8 has_closer;
	__u8 referenced;      /* eviction's second chance */
	__u8 used;
	__u8 state;           /* the new state of the last record seen */
	__u8 _pad[4];
};

struct trace_ages {
	struct cookie_index index;
	struct trace_age *ages;
	__u32 alloc, top;      /* ages[] allocated, and indices ever handed out */
	__u32 used, max;       /* max: entries kept before evicting */
	__u32 free_head;       /* free list through .pid, COOKIE_INDEX_NIL ends it */
	__u32 hand;            /* the eviction clock's hand */
	__u64 misses;          /* transitions without an age: of sockets with no
	                        * entry that were not new, or whose previous
	                        * record was lost (the ring buffer was full) */
	__u64 evictions;       /* sockets whose entry went to a newer one, or
	                        * could not be made (their next transition
	                        * counts in misses) */
};

/* Keeps at most max sockets. 0 or -ENOMEM. */
int trace_ages_init(struct trace_ages *ta, __u32 max);
void trace_ages_free(struct trace_ages *ta);

/*
 * Records come in order per socket. Fills e->ns_in_old and the closer
 * (pid, tid, comm, FW_EVF_CLOSER) from what earlier records of the socket
 * said, then remembers this one; forgets the socket at CLOSE.
 */
void trace_ages_apply(struct trace_ages *ta, struct fw_event *e);

#endif
