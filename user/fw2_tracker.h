/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * fw2_tracker: every socket from entering FIN_WAIT_2 until it really leaves
 * it, and per-peer aggregates. Pure user-space state driven by decoded
 * events, scan records and a clock, so unit tests replay scenarios without a
 * kernel. All times are CLOCK_MONOTONIC nanoseconds (bpf_ktime_get_ns()).
 *
 * Orphaned sockets usually leave the tracepoint's view early: the kernel
 * swaps the full socket for a timewait mini-socket that is still in
 * FIN_WAIT_2 and reports FIN_WAIT2->CLOSE with no error. Such a socket stays
 * counted (state FW2_TW_PENDING, then FW2_TW once a scan has seen the
 * timewait socket) until a scan shows it gone (timeout/rst) or in TIME_WAIT
 * (peer_fin).
 */
#ifndef FW_FW2_TRACKER_H
#define FW_FW2_TRACKER_H

#include <stdint.h>
#include <linux/types.h>
#include "finwatch.h"
#include "fw2_policy.h"

#define FW2_NIL UINT32_MAX
#define FW2_HIST_BUCKETS 32        /* log2 buckets of lifetime in ms */

enum fw2_outcome {
	FW2_OUT_PEER_FIN = 0,  /* the peer's FIN arrived: -> TIME_WAIT */
	FW2_OUT_RST,           /* the peer reset the connection */
	FW2_OUT_TIMEOUT,       /* the kernel's fin timeout ended it */
	FW2_OUT_KILLED,        /* destroyed locally (ss -K, finwatch reaping) */
	FW2_OUT_OTHER,         /* anything else (timewait overflow, linger2 < 0, missed) */
	FW2_OUT_MAX,
};
const char *fw2_outcome_name(enum fw2_outcome o);

enum fw2_sock_state {
	FW2_FULL = 1,          /* a full socket in FIN_WAIT2 */
	FW2_TW_PENDING,        /* handed off, timewait successor not yet seen */
	FW2_TW,                /* timewait socket with substate FIN_WAIT2 */
};

/* fw2_sock.flags */
#define FW2_F_ORPHANED 0x01
#define FW2_F_DISCOVERED 0x02   /* found by a scan: enter_ns is an estimate */
#define FW2_F_LOWER_BOUND 0x04  /* ... and only a lower bound of the age */
#define FW2_F_REAPED 0x08       /* a reap was attempted or reported: not again */

struct fw2_sock {
	__u64 cookie;
	__u64 cgroup;           /* the socket's cgroup v2 id, 0 unknown */
	__u64 enter_ns;
	__u64 aux_ns;           /* TW_PENDING: handoff time; TW: timer expiry */
	__u32 peer;             /* index into the peer table */
	__u32 prev, next;       /* the peer's list, oldest first; next links
				 * the free list while unused */
	__u32 proc;             /* index into the process table, or FW2_NIL */
	__u32 laddr;            /* index into the local address table, or FW2_NIL */
	__u16 sport, dport;
	__u8 state;             /* enum fw2_sock_state */
	__u8 flags;
	__u16 scan_gen;         /* last scan that saw it */
};

struct fw2_proc {
	__u32 pid;
	__u32 refs;
	char comm[FW_COMM_LEN];
};

enum fw2_rule { FW2_RULE_MAX_AGE = 0, FW2_RULE_MAX_PER_PEER, FW2_RULE_MAX_TOTAL, FW2_RULE_MAX };
const char *fw2_rule_name(enum fw2_rule r);

struct fw2_peer {
	__u32 netns;
	__u16 family;
	__u16 port;             /* FW_GROUP_ADDR_PORT only */
	__u8 addr[16];          /* masked to the grouping prefix */
	__u8 prefix;            /* FW_GROUP_PREFIX only; else full length */
	__u64 wl_key;           /* with a workload group-by: its key (a cgroup id) */
	__u8 alert_firing;      /* bit per enum fw2_rule */
	__u8 in_use;
	__u8 unsorted;          /* list appended out of order during a scan */
	__u32 hnext;
	__u32 head, tail;       /* sockets, oldest first */
	__u32 held, orphaned;
	__u64 entered, exited;
	__u64 outcomes[FW2_OUT_MAX];
	__u64 hist[FW2_HIST_BUCKETS];
	__u64 last_active_ns;
	__u64 alert_since_ns[FW2_RULE_MAX];
};

/* What a callback receives when a socket leaves FIN_WAIT_2. */
struct fw2_exit {
	const struct fw2_peer *peer;
	__u64 cookie;
	__u64 duration_ns;
	__u64 exit_ns;
	__u16 sport, dport;
	enum fw2_outcome outcome;
	int orphaned;
	int duration_lower_bound;   /* entered before finwatch saw it */
	__u32 pid;                  /* 0 if unknown */
	const char *comm;           /* NULL if unknown */
	__u64 cgroup_id;            /* the socket's cgroup v2, 0 if unknown */
};

#define FW2_ALERT_EXAMPLES 3
#define FW2_ALERT_PROCS 3
#define FW2_ALERT_CGROUPS 3

struct fw2_alert {
	enum fw2_rule rule;
	int firing;                 /* 1 firing, 0 resolved */
	const struct fw2_peer *peer; /* NULL for max_total */
	__u64 now_ns;
	__u32 count, held, orphaned;
	__u64 oldest_age_ns;
	__u64 threshold;            /* ns for max_age, a count otherwise */
	int n_examples;
	struct { __u64 cookie; __u16 sport, dport; __u64 age_ns; int orphaned; } examples[FW2_ALERT_EXAMPLES];
	int n_procs;
	struct { __u32 pid; __u32 count; char comm[FW_COMM_LEN]; } procs[FW2_ALERT_PROCS];
	int n_cgroups;              /* the cgroups holding the most, for workloads */
	struct { __u64 id; __u32 count; } cgroups[FW2_ALERT_CGROUPS];
	int fin_timeout_s;          /* of the peer's netns, -1 if unknown */
};

struct fw2_callbacks {
	void (*on_exit)(void *ctx, const struct fw2_exit *x);
	void (*on_alert)(void *ctx, const struct fw2_alert *a);
	/* Timewait sockets the scan must report even once they reach
	 * TIME_WAIT (the BPF "handoffs" map): follow when a scan discovers
	 * one, unfollow when one ends without the scan having seen it leave. */
	void (*follow)(void *ctx, __u64 cookie);
	void (*unfollow)(void *ctx, __u64 cookie);
	void *ctx;
};

struct fw2_counters {
	__u64 events;               /* transitions fed in */
	__u64 untracked_exits;      /* FIN_WAIT2 exits of sockets never seen entering */
	__u64 discovered;           /* found by a scan, not by an event */
	__u64 reconciled_missing;   /* tracked but gone at a full scan: exit missed */
	__u64 handoffs;             /* orphan FIN_WAIT2->CLOSE followed into timewait */
	__u64 tw_confirmed;         /* ... whose timewait socket a scan saw */
	__u64 alerts_fired;
	__u64 capacity_drops;       /* sockets not tracked: table full */
	/* Host-wide, never reset (peers may be evicted; counters must not
	 * go backwards for Prometheus). */
	__u64 exits;
	__u64 outcomes[FW2_OUT_MAX];
	__u64 hist[FW2_HIST_BUCKETS];
	__u64 lifetime_sum_ns;
	__u64 fired_by_rule[FW2_RULE_MAX];
};

struct fw2_tracker;

/* max_socks bounds memory (0 = default 4M). Returns NULL on ENOMEM. */
struct fw2_tracker *fw2_tracker_new(const struct fw2_policy *pol, const struct fw2_callbacks *cb,
				    __u32 max_socks);
void fw2_tracker_free(struct fw2_tracker *t);

/* One decoded transition (any states; non-FIN_WAIT2 ones are ignored). */
void fw2_on_event(struct fw2_tracker *t, const struct fw_event *e);

/*
 * Scans of one network namespace, with its tcp_fin_timeout (seconds, -1 if
 * unknown) and the kernel's HZ for jiffies (0 if unknown: conversions then
 * assume 250 and follow-up walks skip nothing). full=1 when the scan listed
 * every FIN_WAIT2 socket of the netns (startup/reconciliation), so tracked
 * full sockets it did not list are exits that were missed. The caller must
 * have consumed every queued event before fw2_scan_end().
 */
void fw2_scan_begin(struct fw2_tracker *t, __u32 netns, __u64 start_ns, int fin_timeout_s,
		    __u32 hz, int full);
void fw2_scan_rec(struct fw2_tracker *t, const struct fw_scan_rec *r);
void fw2_scan_end(struct fw2_tracker *t, __u64 end_ns);

/* Sockets found by a scan have no closing process; the caller can look the
 * holder up by socket inode (/proc/PID/fd) and attach it. */
int fw2_needs_proc(const struct fw2_tracker *t, __u64 cookie);
/* 1 if the socket is tracked (a scope filter lets its records through). */
int fw2_tracks(const struct fw2_tracker *t, __u64 cookie);
void fw2_set_proc(struct fw2_tracker *t, __u64 cookie, __u32 pid, const char *comm);

/* A socket old enough to reap, with what a kill needs (the 4-tuple, the
 * cookie the kernel checks, the netns) and what the report says. */
struct fw2_candidate {
	__u64 cookie;
	__u64 age_ns;
	__u32 netns;
	__u16 family;
	__u16 sport, dport;
	__u8 saddr[16], daddr[16];
	int orphaned;
	int timewait;               /* a timewait mini-socket (no state event when killed) */
	__u32 pid;
	char comm[FW_COMM_LEN];
	__u64 cgroup_id;
	const struct fw2_peer *peer;
};

/* Up to max sockets in FIN_WAIT_2 for longer than min_age_ns whose kind is
 * in kind_mask and whose peer passes allow() (NULL: all), oldest first per
 * peer. Cost: O(peers + result). Only with pol->keep_laddr set does the
 * tracker keep the local addresses a kill needs; without, this finds none. */
int fw2_reap_candidates(const struct fw2_tracker *t, __u64 now_ns, __u64 min_age_ns, int kind_mask,
			int (*allow)(void *ctx, const struct fw2_peer *p, const __u8 *daddr), void *ctx,
			struct fw2_candidate *out, int max);
/* A reap attempt (or dry-run report) was made: never a candidate again. */
void fw2_mark_reaped(struct fw2_tracker *t, __u64 cookie);
/* A timewait socket we destroyed: no event will announce it. */
void fw2_mark_killed(struct fw2_tracker *t, __u64 cookie, __u64 now_ns);

/* A namespace that cannot be scanned (gone, or no permission): timewait
 * sockets past their expiry are ended as timeouts at their expected end
 * rather than counted forever. */
void fw2_netns_unscannable(struct fw2_tracker *t, __u32 netns, __u64 now_ns);

/* A namespace that no longer exists: its timewait sockets went with it
 * (outcome other, now). */
void fw2_netns_gone(struct fw2_tracker *t, __u32 netns, __u64 now_ns);

/* 1 if the netns has handed-off sockets only a scan can follow. */
int fw2_netns_needs_scan(const struct fw2_tracker *t, __u32 netns);
/* Up to max netns inodes that need a follow-up scan. */
int fw2_netns_pending(const struct fw2_tracker *t, __u32 *out, int max);

/* Evaluates alert rules at now_ns (call at least once a second); also
 * evicts idle peers. Cost is O(peers), never O(sockets). */
void fw2_tick(struct fw2_tracker *t, __u64 now_ns);

/* Read access for output. Counts leave out orphans handed to a timewait
 * socket that no scan has looked at yet (fw2_unconfirmed_handoffs). */
__u32 fw2_total(const struct fw2_tracker *t, __u32 *held, __u32 *orphaned);
__u32 fw2_unconfirmed_handoffs(const struct fw2_tracker *t);
const struct fw2_counters *fw2_counters(const struct fw2_tracker *t);
/* Fills out[] with up to max peer pointers sorted by count (desc), then
 * oldest; with_idle=1 also includes peers that have no socket now. */
int fw2_top_peers(const struct fw2_tracker *t, const struct fw2_peer **out, int max, int with_idle);
/* Age of the peer's oldest socket at now_ns (0 if none) and whether it is a
 * lower bound. */
__u64 fw2_peer_oldest_age(const struct fw2_tracker *t, const struct fw2_peer *p, __u64 now_ns,
			  int *lower_bound);
__u64 fw2_total_oldest_age(const struct fw2_tracker *t, __u64 now_ns);
/* The workload part of --group-by (FW_GROUP_WL_NONE: peers are addresses only). */
enum fw_group_workload fw2_group_workload(const struct fw2_tracker *t);
/* 1 while the max_total rule fires. */
int fw2_total_firing(const struct fw2_tracker *t);
/* Peer key as text: "10.0.0.1", "10.0.0.1:443", "10.0.0.0/24", "[fd00::1]:443". */
const char *fw2_peer_str(const struct fw2_peer *p, char *buf, size_t len);
int fw2_netns_fin_timeout(const struct fw2_tracker *t, __u32 netns);
/* The timer expiry (jiffies) of a TIME_WAIT socket whose FIN came a little
 * before the last complete walk of netns began, 0 if unknown (or HZ is): a
 * walk can skip TIME_WAIT sockets expiring earlier (the walk that began
 * then has seen them). */
__u64 fw2_tw_cutoff_expiry(const struct fw2_tracker *t, __u32 netns);
void fw2_set_fin_timeout(struct fw2_tracker *t, __u32 netns, int fin_timeout_s);
/* The used buckets of a lifetime histogram (FW2_HIST_BUCKETS): the first
 * and last non-empty ones and the largest count; 0 when all are empty. */
int fw2_hist_span(const __u64 *hist, int *lo, int *hi, __u64 *max);
/* The lifetimes (ms) bucket b counts: low..high. */
void fw2_hist_bounds(int b, unsigned long long *low, unsigned long long *high);
/* Approximate bytes used by tracking structures. */
size_t fw2_memory_bytes(const struct fw2_tracker *t);

/* One peer's sockets, one at a time, for views that list them (finwatch
 * top's detail and its per-row holder and expiry). */
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
