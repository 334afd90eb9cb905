/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One peer's sockets, one at a time, for views that list them (finwatch
 * top's detail and its per-row holder and expiry). Implemented in
 * fw2_query.c with the tracker's other read access.
 */
#ifndef FW_FW2_PEER_SOCKS_H
#define FW_FW2_PEER_SOCKS_H

#include "fw2_tracker.h"

struct fw2_sock_view {
	__u64 cookie;
	__u64 enter_ns;         /* FIN_WAIT_2 entry (an estimate when lower_bound) */
	/* Orphans: when the kernel ends it on its own (the timewait timer a
	 * scan read, else tcp_fin_timeout of its netns after entry); 0 for
	 * held sockets (never) and when the netns's timeout is unknown. */
	__u64 expiry_ns;
	__u64 cgroup_id;        /* 0 if unknown */
	__u16 sport, dport;
	__u8 orphaned;
	__u8 lower_bound;       /* enter_ns only bounds the age from below */
	__u8 timewait;          /* a timewait mini-socket (orphaned, no process) */
	__u32 pid;              /* 0 if unknown */
	const char *comm;       /* NULL if unknown; valid until the tracker changes */
};

/* fn for up to max of p's counted sockets (handoffs no scan confirmed yet are
 * left out, as in the counts), oldest first or newest first; stops early when
 * fn returns non-zero. Returns how many fn saw. */
int fw2_peer_socks(const struct fw2_tracker *t, const struct fw2_peer *p, int newest_first, int max,
		   int (*fn)(void *ctx, const struct fw2_sock_view *s), void *ctx);

#endif
