/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Inside the tracker: its state and the table operations its other files
 * use. fw2_tables.c holds the tables (sockets by cookie, peers, interned
 * processes and addresses, per-namespace state, per-peer lists);
 * fw2_tracker.c the policy: what events and scan records mean; fw2_alerts.c
 * the alert rules; fw2_reap.c reaping; fw2_query.c what the outputs read.
 * Nothing outside the tracker includes this.
 */
#ifndef FW_FW2_INTERNAL_H
#define FW_FW2_INTERNAL_H

#include "cookie_index.h"
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
	struct cookie_index sock_index;   /* cookie -> socks[]; load <= 3/4 */

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

/* Table operations (fw2_tables.c). FW2_NIL where nothing was found or
 * memory ran out. */
int fw2i_tables_init(struct fw2_tracker *t, int keep_raddrs);
void fw2i_tables_free(struct fw2_tracker *t);
struct netns_info *fw2i_ns_get(struct fw2_tracker *t, __u32 netns, int create);
__u32 fw2i_proc_get(struct fw2_tracker *t, __u32 pid, const char *comm);
__u32 fw2i_laddr_get(struct fw2_tracker *t, const __u8 *addr);
/* The peer a socket counts for (per --group-by), created if new. */
__u32 fw2i_peer_get(struct fw2_tracker *t, __u32 netns, __u16 family, const __u8 *addr,
		    __u16 dport, __u64 cgroup, __u64 now);
void fw2i_peer_remove(struct fw2_tracker *t, __u32 idx);
__u32 fw2i_sock_find(const struct fw2_tracker *t, __u64 cookie);
__u32 fw2i_sock_add(struct fw2_tracker *t, __u64 cookie, __u32 peer, __u64 enter_ns, __u16 sport,
		    __u16 dport, int orphaned, __u8 flags, const __u8 *daddr, __u64 cgroup);
void fw2i_sock_set_state(struct fw2_tracker *t, struct fw2_sock *s, __u8 state);
void fw2i_sock_set_orphaned(struct fw2_tracker *t, struct fw2_sock *s, int orphaned);
void fw2i_sock_free(struct fw2_tracker *t, __u32 idx);
void fw2i_list_insert(struct fw2_tracker *t, struct fw2_peer *p, __u32 idx);
void fw2i_list_unlink(struct fw2_tracker *t, struct fw2_peer *p, __u32 idx);
void fw2i_scan_finish(struct fw2_tracker *t);

/* The tracker's policy (fw2_tracker.c) that its other files call. */
void fw2i_sock_exit(struct fw2_tracker *t, __u32 idx, enum fw2_outcome o, __u64 exit_ns);

#endif
