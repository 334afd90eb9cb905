// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Kernel side of finwatch: report TCP state transitions and scan sockets.
 * Policy (peers, limits, output) lives in user space; this file only
 * captures what is visible at the moment a transition happens.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "finwatch.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by user space before load (rodata: the verifier prunes dead filters). */
const volatile __u8 trace_all = 0;        /* 0: only FIN_WAIT-relevant events */
const volatile __u16 family_filter = 0;   /* 0, FW_AF_INET or FW_AF_INET6 */
const volatile __u8 n_lports = 0;
const volatile __u8 n_rports = 0;
const volatile __u16 lports[FW_MAX_PORTS] = {};
const volatile __u16 rports[FW_MAX_PORTS] = {};
/* --netns: only these network namespaces (inode numbers). */
const volatile __u8 n_netns = 0;
const volatile __u32 netns_list[FW_MAX_NETNS] = {};
/* Wake the reader only once this much is queued; it also polls every
 * 100 ms. Batches wakeups: one per record would cost more than the record. */
const volatile __u64 wakeup_bytes = 0;

/*
 * Watch mode: the closing process, seen only where ESTABLISHED -> FIN_WAIT1
 * runs (close()/shutdown()), carried to FIN_WAIT1 -> FIN_WAIT2, which runs
 * in softirq. A direct-mapped table indexed by the socket cookie's low
 * bits: no allocation, lock or delete (a cookie-keyed LRU hash, tried
 * first, cost both copies 272-284 ns per transition against 212-227 ns
 * for this table in the same quick benchmark). Cookies come from per-CPU batches of
 * consecutive numbers, so a slot is reused only after about
 * FW_CLOSER_SLOTS more cookies were handed out host-wide: a socket that
 * stays in FIN_WAIT1 longer than that loses its closer, counted as
 * FW_STAT_CLOSER_MISSES (held sockets get theirs from the holder walk).
 * The cookie is written last and checked twice by the reader: a slot
 * being rewritten is a miss, never another socket's process.
 */
#define FW_CLOSER_SLOTS (1 << 16)
#define READ_ONCE(x) (*(volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile typeof(x) *)&(x) = (v))

struct closer_info {
	__u64 cookie;         /* 0 while being written */
	__u64 ts_ns;          /* FIN_WAIT1 entry, then FIN_WAIT2 entry */
	__u32 pid;
	__u32 tid;
	char comm[FW_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FW_CLOSER_SLOTS);
	__type(key, __u32);
	__type(value, struct closer_info);
} closers SEC(".maps");

/*
 * Deduplication of the two attached copies without per-socket state.
 * fw_set_state (the main copy) pushes every hit it handled, as
 * cookie << 8 | oldstate << 4 | newstate, into a per-CPU ring of
 * FW_HANDLED_SLOTS; fw_set_state_backup, which the kernel runs after it for
 * the same hit on the same CPU, acts only on hits it does not find there
 * (the main copy skipped them to recursion) and clears the slot it found.
 * Hits nested between the two copies of an outer hit go through both copies
 * and take their own slots, so the outer one is still found: no
 * interleaving reports a hit twice unless FW_HANDLED_SLOTS hits nest inside
 * one (FW_STAT_HANDLED_OVERWRITES counts every slot overwritten before it
 * was consumed: an upper bound on such duplicates). A slot left behind
 * (the backup copy skipped a hit the main copy handled) matches no later
 * hit in watch mode: its transitions happen at most once per socket and
 * cookies are never reused. In trace mode a socket can repeat one
 * (CLOSE -> SYN_SENT after a failed connect); a left slot would have to
 * meet that repeat on the same CPU within FW_HANDLED_SLOTS handled hits,
 * with the main copy skipping it. One 64-bit store per slot: a nested
 * writer cannot tear it.
 */
#define FW_HANDLED_SLOTS 8

struct handled_ring {
	__u64 key[FW_HANDLED_SLOTS];
	__u32 head;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct handled_ring);
} handled SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);     /* resized by user space before load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FW_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} fw_stats SEC(".maps");

/*
 * Orphaned sockets handed to a timewait mini-socket (FIN_WAIT2 -> CLOSE with
 * no error and no FIN from the peer). The iter/tcp scan reports timewait
 * sockets in TIME_WAIT only when their cookie is here, so a peer FIN that
 * arrives during the timewait phase (no tracepoint fires for it) is seen
 * without dumping every TIME_WAIT socket of a busy host.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 20);
	__type(key, __u64);
	__type(value, __u64);
} handoffs SEC(".maps");

/* Atomic although per-CPU: a softirq can run the other copy on this CPU
 * between the load and the store of a plain ++, losing its increment. */
static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&fw_stats, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline int port_listed(__u16 port, const volatile __u16 *list, __u8 n)
{
	for (int i = 0; i < FW_MAX_PORTS; i++) {
		if (i >= n)
			break;
		if (list[i] == port)
			return 1;
	}
	return 0;
}

static __always_inline int netns_listed(__u32 inum)
{
	for (int i = 0; i < FW_MAX_NETNS; i++) {
		if (i >= n_netns)
			break;
		if (netns_list[i] == inum)
			return 1;
	}
	return 0;
}

/* Kernels before 5.15 kept the cgroup pointer in a union with
 * net_cls/net_prio data, told apart by the low bit. */
struct sock_cgroup_data___old {
	__u64 val;
};

/*
 * The cgroup v2 a socket was created in (accepted sockets: their
 * listener's), as its id (the cgroup directory's inode number). Readable
 * in any context, unlike the current task's cgroup. 0 when unknown.
 */
static __always_inline __u64 sock_cgroup_id(struct sock *sk)
{
	struct cgroup *cgrp;

	if (bpf_core_field_exists(sk->sk_cgrp_data.cgroup)) {
		/* Direct loads (BTF pointers): a probe read each cost more
		 * than the rest of the record. */
		cgrp = sk->sk_cgrp_data.cgroup;
		return cgrp ? cgrp->kn->id : 0;
	} else {
		struct sock_cgroup_data___old *old = (void *)&sk->sk_cgrp_data;
		__u64 val = BPF_CORE_READ(old, val);

		/* Data, not a pointer: the socket is in the root cgroup. */
		if (val & 1)
			return 1;
		cgrp = (struct cgroup *)val;
		return cgrp ? BPF_CORE_READ(cgrp, kn, id) : 0;
	}
}

static __always_inline __u64 handled_key(__u64 cookie, int oldstate, int newstate)
{
	return cookie << 8 | (__u64)(oldstate & 0xf) << 4 | (__u64)(newstate & 0xf);
}

/* Main copy: this hit is handled (reported, counted or dropped). */
static __always_inline void handled_push(__u64 key)
{
	__u32 zero = 0;
	struct handled_ring *r = bpf_map_lookup_elem(&handled, &zero);

	if (r) {
		__u64 *slot = &r->key[r->head & (FW_HANDLED_SLOTS - 1)];

		if (*slot)
			stat_inc(FW_STAT_HANDLED_OVERWRITES);
		*slot = key;
		r->head++;
	}
}

/* Backup copy: did the main copy handle this hit? Consumes the slot. */
static __always_inline int handled_take(__u64 key)
{
	__u32 zero = 0;
	struct handled_ring *r = bpf_map_lookup_elem(&handled, &zero);

	if (!r)
		return 0;
	for (int i = 0; i < FW_HANDLED_SLOTS; i++) {
		if (r->key[i] == key) {
			r->key[i] = 0;
			return 1;
		}
	}
	return 0;
}

/* The reader is woken only when this record crosses the threshold: forcing
 * a wakeup for every record past it is an IPI per record (measured: 27% of
 * all CPU in a churn), which starves the reader it wants to wake. */
static __always_inline void submit_event(struct fw_event *e)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 rec = sizeof(*e) + 8;   /* record + ring buffer header */

	bpf_ringbuf_submit(e, avail >= wakeup_bytes && avail < wakeup_bytes + rec
			      ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
	stat_inc(FW_STAT_EVENTS);
}

/*
 * Watch mode: the closing process and the time of the last state change
 * from the socket's closers slot while the slot is still its own (entry
 * to FIN_WAIT1, then to FIN_WAIT2); FW_NS_UNKNOWN and no closer once it was
 * reused. Returns 1 when no record is to be sent (FIN_WAIT1 bookkeeping).
 */
/* The slot's closer and age if it still belongs to this socket. */
static __always_inline int closer_read(struct closer_info *c, __u64 cookie, __u64 now,
				       struct closer_info *out, __u64 *ns_in_old)
{
	if (!c || READ_ONCE(c->cookie) != cookie)
		return 0;
	barrier();
	out->ts_ns = c->ts_ns;
	out->pid = c->pid;
	out->tid = c->tid;
	__builtin_memcpy(out->comm, c->comm, sizeof(out->comm));
	barrier();
	if (READ_ONCE(c->cookie) != cookie)
		return 0;
	out->cookie = cookie;
	*ns_in_old = now - out->ts_ns;
	return 1;
}

static __always_inline int watch_closer(__u64 cookie, int oldstate, int newstate,
					__u64 now, struct closer_info *out, __u64 *ns_in_old)
{
	__u32 slot = (__u32)cookie & (FW_CLOSER_SLOTS - 1);
	struct closer_info *c = bpf_map_lookup_elem(&closers, &slot);

	if (newstate == TCP_FIN_WAIT1) {
		__u64 id = bpf_get_current_pid_tgid();

		if (!c) {
			stat_inc(FW_STAT_STORAGE_FAILS);
			return 1;
		}
		WRITE_ONCE(c->cookie, 0);
		barrier();
		c->ts_ns = now;
		c->pid = id >> 32;
		c->tid = (__u32)id;
		bpf_get_current_comm(c->comm, sizeof(c->comm));
		barrier();
		WRITE_ONCE(c->cookie, cookie);
		return 1;
	}
	if (oldstate == TCP_FIN_WAIT1 && newstate == TCP_FIN_WAIT2) {
		if (closer_read(c, cookie, now, out, ns_in_old))
			c->ts_ns = now;         /* FIN_WAIT2 entry, for its exit */
		else
			stat_inc(FW_STAT_CLOSER_MISSES);
		return 0;
	}
	if (oldstate == TCP_FIN_WAIT2 && newstate == TCP_FIN_WAIT2) {
		/* close() of a socket shut down earlier runs in the closer. */
		__u64 id = bpf_get_current_pid_tgid();

		out->pid = id >> 32;
		out->tid = (__u32)id;
		bpf_get_current_comm(out->comm, sizeof(out->comm));
		out->cookie = cookie;
		return 0;
	}
	/* Leaving FIN_WAIT2: its age, and the closer for an exit of a socket
	 * whose entry the tracker missed. */
	closer_read(c, cookie, now, out, ns_in_old);
	return 0;
}

/*
 * Trace mode: the closing process, where the transition runs in its
 * context: entering FIN_WAIT1 (close/shutdown), entering LAST_ACK (passive
 * close) and FIN_WAIT2 -> FIN_WAIT2 (close() of a socket shut down earlier:
 * it becomes an orphan). Ages, and the closer on later transitions, are
 * kept in user space from the records (user/trace_ages.c): a per-socket
 * map here (socket storage, then an LRU hash) was most of trace mode's
 * cost per transition.
 */
static __always_inline void trace_closer(int oldstate, int newstate, struct closer_info *out)
{
	__u64 id;

	if (newstate != TCP_FIN_WAIT1 && newstate != TCP_LAST_ACK &&
	    !(oldstate == TCP_FIN_WAIT2 && newstate == TCP_FIN_WAIT2))
		return;
	id = bpf_get_current_pid_tgid();
	out->pid = id >> 32;
	out->tid = (__u32)id;
	bpf_get_current_comm(out->comm, sizeof(out->comm));
	out->cookie = 1;
}

/* One transition that passed the filters, handled by whichever copy the
 * kernel offered it to first. */
static __always_inline void report(struct sock *sk, __u64 cookie, int oldstate, int newstate,
				   __u16 family, __u16 sport, __u16 dport)
{
	struct closer_info cl;
	struct fw_event *e;
	__u64 now = bpf_ktime_get_ns(), ns_in_old = FW_NS_UNKNOWN;

	cl.cookie = 0;   /* 0: no closer known */
	if (trace_all) {
		trace_closer(oldstate, newstate, &cl);
	} else if (watch_closer(cookie, oldstate, newstate, now, &cl, &ns_in_old)) {
		/* Counted as before: FIN_WAIT1 entries, not the closer's
		 * bookkeeping when the socket leaves FIN_WAIT1 otherwise. */
		if (newstate == TCP_FIN_WAIT1)
			stat_inc(FW_STAT_SEEN);
		return;
	}
	/* Trace mode reports every transition that passed: user space adds
	 * records and drops instead of a second counter update per hit. */
	if (!trace_all)
		stat_inc(FW_STAT_SEEN);

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(FW_STAT_RB_DROPS);
		return;
	}
	e->ts_ns = now;
	e->cookie = cookie;
	e->ns_in_old = ns_in_old;
	e->netns = sk->__sk_common.skc_net.net->ns.inum;
	e->sk_err = sk->sk_err;
	e->sport = sport;
	e->dport = dport;
	e->family = family;
	e->oldstate = oldstate;
	e->newstate = newstate;
	e->flags = 0;
	e->cgroup_id = sock_cgroup_id(sk);
	if (sk->__sk_common.skc_flags & (1UL << SOCK_DEAD))
		e->flags |= FW_EVF_ORPHANED;
	if (sk->__sk_common.skc_flags & (1UL << SOCK_DONE))
		e->flags |= FW_EVF_FIN_RCVD;
	if (family == FW_AF_INET) {
		__builtin_memset(e->saddr, 0, sizeof(e->saddr));
		__builtin_memset(e->daddr, 0, sizeof(e->daddr));
		__builtin_memcpy(e->saddr, &sk->__sk_common.skc_rcv_saddr, 4);
		__builtin_memcpy(e->daddr, &sk->__sk_common.skc_daddr, 4);
	} else {
		__builtin_memcpy(e->saddr, &sk->__sk_common.skc_v6_rcv_saddr, 16);
		__builtin_memcpy(e->daddr, &sk->__sk_common.skc_v6_daddr, 16);
	}
	if (cl.cookie) {
		e->pid = cl.pid;
		e->tid = cl.tid;
		__builtin_memcpy(e->comm, cl.comm, sizeof(e->comm));
		e->flags |= FW_EVF_CLOSER;
	} else {
		e->pid = 0;
		e->tid = 0;
		__builtin_memset(e->comm, 0, sizeof(e->comm));
	}
	/* Candidate timewait handoff: the scan confirms it and follows it
	 * (watch mode: trace follows nothing). */
	if (!trace_all && oldstate == TCP_FIN_WAIT2 && newstate == TCP_CLOSE && e->sk_err == 0 &&
	    (e->flags & (FW_EVF_ORPHANED | FW_EVF_FIN_RCVD)) == FW_EVF_ORPHANED) {
		/* The cookie from the stack: verifiers before 6.2 take no
		 * ring-buffer memory as a map key (R2 type=alloc_mem on 6.1). */
		if (bpf_map_update_elem(&handoffs, &cookie, &now, BPF_ANY))
			stat_inc(FW_STAT_HANDOFF_FULL);
	}
	submit_event(e);
}

/*
 * The kernel skips a tracing program for a tracepoint hit that arrives
 * while the same program runs on that CPU (a softirq interrupting it):
 * bpf_prog_info.recursion_misses. Two copies of this handler are attached;
 * each has its own guard, so a hit one copy skips the other sees. The
 * backup copy acts only on hits the main copy did not handle (the handled
 * ring above).
 */
static __always_inline int handle_set_state(struct sock *sk, int oldstate, int newstate,
					    const int backup)
{
	__u16 family, sport, dport;
	struct tcp_sock *tp;
	__u64 cookie, key;

	/*
	 * Watch mode needs entering FIN_WAIT1 (the only transition that runs
	 * in the closing process) and entering and leaving FIN_WAIT2. The
	 * other 7 of a connection's 10 transitions leave on the arguments
	 * alone, before any load.
	 */
	if (!trace_all && newstate != TCP_FIN_WAIT1 && newstate != TCP_FIN_WAIT2 &&
	    oldstate != TCP_FIN_WAIT2)
		return 0;
	/* The cookie as stored: the helper (a call) only for a socket that
	 * has none yet, which no copy has handled. */
	cookie = sk->__sk_common.skc_cookie.counter;
	key = handled_key(cookie, oldstate, newstate);
	/* The main copy pushes only hits that passed every filter below. */
	if (backup && cookie && handled_take(key))
		return 0;
	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	family = sk->__sk_common.skc_family;
	if (family != FW_AF_INET && family != FW_AF_INET6)
		return 0;
	if (family_filter && family != family_filter)
		return 0;
	if (n_netns && !netns_listed(sk->__sk_common.skc_net.net->ns.inum))
		return 0;
	/* The local port is skc_num (host order), but that is already 0 at
	 * X->CLOSE, where inet_sport survives. struct sock's BTF type ends
	 * before inet_sock's fields: the helper gives the typed pointer for
	 * a direct load (a probe read cost more), only where needed. */
	sport = sk->__sk_common.skc_num;
	if (newstate == TCP_CLOSE || !sport) {
		tp = bpf_skc_to_tcp_sock(sk);
		if (!tp)
			return 0;
		sport = bpf_ntohs(tp->inet_conn.icsk_inet.inet_sport);
	}
	dport = bpf_ntohs(sk->__sk_common.skc_dport);
	if (n_lports && !port_listed(sport, lports, n_lports))
		return 0;
	if (n_rports && !port_listed(dport, rports, n_rports))
		return 0;
	if (!cookie) {
		cookie = bpf_get_socket_cookie(sk);
		key = handled_key(cookie, oldstate, newstate);
	}
	report(sk, cookie, oldstate, newstate, family, sport, dport);
	if (!backup)
		handled_push(key);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(fw_set_state, struct sock *sk, int oldstate, int newstate)
{
	return handle_set_state(sk, oldstate, newstate, 0);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(fw_set_state_backup, struct sock *sk, int oldstate, int newstate)
{
	return handle_set_state(sk, oldstate, newstate, 1);
}

/*
 * Set by user space before each follow-up walk: the timer expiry (jiffies)
 * of a TIME_WAIT socket whose FIN came when the previous complete walk of
 * this namespace began (less a margin), 0 for none. User space adds
 * TCP_TIMEWAIT_LEN with the HZ it derived, so no kernel config is needed
 * here. A timewait socket that got its FIN before then was in TIME_WAIT
 * during that walk, which reported it if it was followed; the handoffs
 * lookup for it is skipped. In a churn nearly every visited socket is such
 * an old TIME_WAIT one: the lookups were 17% of the reader's CPU.
 */
__u64 tw_cutoff_expiry = 0;

/*
 * Walks the full and timewait sockets of the network namespace the iterator
 * was created in. Reports FIN_WAIT2 full sockets, timewait sockets still in
 * FIN_WAIT2, and timewait sockets that left it for TIME_WAIT if they are
 * followed handoffs.
 */
SEC("iter/tcp")
int fw_scan(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct seq_file *seq = ctx->meta->seq;
	struct fw_scan_rec rec = {};
	__u8 state;

	if (!skc)
		return 0;
	state = skc->skc_state;
	if (state != TCP_FIN_WAIT2 && state != TCP_TIME_WAIT)
		return 0;
	if (skc->skc_family != FW_AF_INET && skc->skc_family != FW_AF_INET6)
		return 0;

	if (state == TCP_TIME_WAIT) {
		struct tcp_timewait_sock *tw = bpf_skc_to_tcp_timewait_sock(skc);

		if (!tw)
			return 0;
		rec.state = tw->tw_sk.tw_substate;
		rec.stamp_jiffies = tw->tw_sk.tw_timer.expires;
		/* The FIN re-armed the timer to FIN + TCP_TIMEWAIT_LEN. */
		if (rec.state == TCP_TIME_WAIT && tw_cutoff_expiry &&
		    (__s64)(rec.stamp_jiffies - tw_cutoff_expiry) < 0)
			return 0;
		/* A timewait socket inherits its full socket's cookie; one
		 * nobody asked for yet (older than finwatch) gets one here. */
		rec.cookie = bpf_get_socket_cookie(skc);
		/* A followed handoff is forgotten as it is reported: one hash
		 * walk (the delete finds it or not) instead of a lookup and
		 * then a delete, each a cache miss in a big table. */
		if (rec.state == TCP_TIME_WAIT) {
			if (bpf_map_delete_elem(&handoffs, &rec.cookie))
				return 0;
		} else if (rec.state != TCP_FIN_WAIT2) {
			return 0;
		}
		rec.kind = FW_SCAN_TW;
		rec.flags = FW_EVF_ORPHANED;
	} else {
		struct tcp_sock *tp = bpf_skc_to_tcp_sock(skc);
		struct socket *sock;

		if (!tp)
			return 0;
		rec.cookie = bpf_get_socket_cookie(tp);
		rec.kind = FW_SCAN_FULL;
		rec.state = TCP_FIN_WAIT2;
		rec.stamp_jiffies = tp->rcv_tstamp;
		if (tp->inet_conn.icsk_inet.sk.__sk_common.skc_flags & (1UL << SOCK_DEAD))
			rec.flags = FW_EVF_ORPHANED;
		sock = tp->inet_conn.icsk_inet.sk.sk_socket;
		if (sock)
			rec.ino = BPF_CORE_READ(sock, file, f_inode, i_ino);
		rec.uid = tp->inet_conn.icsk_inet.sk.sk_uid.val;
		rec.cgroup_id = sock_cgroup_id(&tp->inet_conn.icsk_inet.sk);
	}
	/* Stored in jiffies, shown in seconds by the sysctl: user space
	 * derives HZ from the two without reading the kernel config. */
	rec.fin_timeout_jiffies = BPF_CORE_READ(skc, skc_net.net, ipv4.sysctl_tcp_fin_timeout);
	rec.now_jiffies = bpf_jiffies64();
	rec.now_ns = bpf_ktime_get_ns();
	rec.netns = BPF_CORE_READ(skc, skc_net.net, ns.inum);
	rec.family = skc->skc_family;
	rec.sport = skc->skc_num;
	rec.dport = bpf_ntohs(skc->skc_dport);
	if (rec.family == FW_AF_INET) {
		__builtin_memcpy(rec.saddr, &skc->skc_rcv_saddr, 4);
		__builtin_memcpy(rec.daddr, &skc->skc_daddr, 4);
	} else {
		BPF_CORE_READ_INTO(&rec.saddr, skc, skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&rec.daddr, skc, skc_v6_daddr.in6_u.u6_addr8);
	}
	/*
	 * When the seq buffer is full the kernel runs this program again for
	 * the same socket later: the handoff forgotten above must be found
	 * then (rare: once per buffer; the value is not read).
	 */
	if (bpf_seq_write(seq, &rec, sizeof(rec)) && rec.kind == FW_SCAN_TW &&
	    rec.state == TCP_TIME_WAIT &&
	    bpf_map_update_elem(&handoffs, &rec.cookie, &rec.now_ns, BPF_NOEXIST))
		stat_inc(FW_STAT_HANDOFF_FULL);
	return 0;
}

/*
 * Every open file of every process (thread groups sharing a file table are
 * visited once): reports the FIN_WAIT2 TCP sockets with their holder.
 */
SEC("iter/task_file")
int fw_owners(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct fw_owner_rec rec = {};
	struct socket *sock;
	struct sock *sk;

	if (!task || !file)
		return 0;
	sock = bpf_sock_from_file(file);
	if (!sock)
		return 0;
	sk = sock->sk;
	if (!sk || sk->__sk_common.skc_state != TCP_FIN_WAIT2 || sk->sk_protocol != IPPROTO_TCP)
		return 0;
	/* The cookie as stored: newer kernels mark sock->sk untrusted, which
	 * no helper takes (6.18.44-fc-v1300 rejects bpf_get_socket_cookie here). Every
	 * socket finwatch asks a holder for got its cookie from the tracepoint
	 * or the iter/tcp scan; one with none is not one of them. */
	rec.cookie = sk->__sk_common.skc_cookie.counter;
	if (!rec.cookie)
		return 0;
	rec.tgid = task->tgid;
	rec.fd = ctx->fd;
	rec.state = TCP_FIN_WAIT2;
	bpf_probe_read_kernel_str(rec.comm, sizeof(rec.comm), task->comm);
	bpf_seq_write(seq, &rec, sizeof(rec));
	return 0;
}
