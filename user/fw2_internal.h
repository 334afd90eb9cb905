/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Inside the tracker: its state and the table operations its other files
 * use. fw2_tracker.c holds the tables (sockets by cookie, peers, interned
 * processes and addresses, per-peer lists) and the event and scan paths;
 * fw2_alerts.c the alert rules; fw2_reap.c reaping; fw2_query.c what the
 * outputs read. Nothing outside the tracker includes this.
 */
#ifndef FW_FW2_INTERNAL_H
#define FW_FW2_INTERNAL_H

#include "fw2_tracker.h"
#include "parse.h"

/* The kernel's TCP_TIMEWAIT_LEN: a timewait socket that receives the peer's
 * FIN re-arms its timer to FIN time + 60 s, which dates the FIN. */
#define TCP_TIMEWAIT_LEN_NS (60ULL * NS_PER_SEC)
/* Peers with nothing open are forgotten after this long. */
#define PEER_IDLE_EVICT_NS (600ULL * NS_PER_SEC)
#define DEFAULT_MAX_SOCKS (4U << 20)
/* Alert details walk at most this many sockets of one peer. */
#define ALERT_WALK_MAX 100000

struct netns_info {
	__u32 netns;
	int fin_timeout_s;
	__u32 pending;          /* sockets in TW_PENDING or TW */
	__u64 walked_from_ns;   /* start of the last walk that ended, 0 for none */
};

struct fw2_tracker {
	struct fw2_policy pol;
	struct fw2_callbacks cb;

	struct fw2_sock *socks;
	/* Remote addresses, parallel to socks, only when peers are prefixes
	 * (otherwise the peer key is the address): reaping needs them. */
	__u8 (*raddrs)[16];
	__u32 socks_cap, socks_used, sock_free, n_socks, max_socks;
	/* Open addressing, cookie stored inline: a lookup costs one cache
	 * miss instead of one per chained socket (measured: the chained table
	 * spent 70% of replay time walking chains). Load stays <= 3/4. */
	struct sock_slot { __u64 cookie; __u32 idx; __u32 pad; } *sock_slots;
	__u32 sock_nslots;

	struct fw2_peer *peers;
	__u32 peers_cap, peers_used, peer_free, n_peers;
	__u32 *peer_buckets;
	__u32 peer_nbuckets;

	struct fw2_proc *procs;
	__u32 procs_cap, procs_used, proc_free;

	/* Local addresses, interned: a host has few, sockets keep an index.
	 * Only reaping needs them (the kernel finds a socket by its 4-tuple):
	 * interning one per event cost ~8% of the reader's CPU in a churn
	 * from 65k source addresses; see keeps_laddr(). */
	struct { __u8 addr[16]; __u32 refs; } *laddrs;
	__u32 laddrs_cap, laddrs_used;
	__u32 *laddr_slots;     /* open addressing over laddrs */
	__u32 laddr_nslots;

	struct netns_info *ns;
	__u32 n_ns, ns_cap;

	__u32 held, orphaned;   /* counted: unconfirmed handoffs excluded */
	__u32 unconfirmed;      /* handoffs no scan has looked at yet */
	int total_firing;
	__u64 total_since_ns;

	/* scan in progress */
	int scanning;
	__u32 n_unsorted;       /* peers whose list the scan appended out of order */
	__u32 scan_netns;
	__u64 scan_start_ns;
	int scan_fin_timeout_s;
	__u32 scan_hz;
	int scan_full;
	__u16 scan_gen;

	int exiting_seen_tw;    /* sock_exit from a TIME_WAIT scan record */

	/* One (ktime, jiffies) pair seen by a scan: converts our clock to the
	 * kernel's jiffies, which timewait timers are in. */
	__u64 cal_ns, cal_jiffies;
	__u32 cal_hz;

	struct fw2_counters ctr;
};

/* Table operations shared by the tracker's files. */
__u32 fw2i_sock_find(const struct fw2_tracker *t, __u64 cookie);
void fw2i_sock_exit(struct fw2_tracker *t, __u32 idx, enum fw2_outcome o, __u64 exit_ns);
void fw2i_peer_remove(struct fw2_tracker *t, __u32 idx);

#endif
