// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fw2_internal.h"
#include "parse.h"

static const char *const outcome_names[FW2_OUT_MAX] = {
	"peer_fin", "rst", "timeout", "killed", "other",
};

const char *fw2_outcome_name(enum fw2_outcome o)
{
	return (unsigned)o < FW2_OUT_MAX ? outcome_names[o] : "other";
}

static const char *const rule_names[FW2_RULE_MAX] = { "max_age", "max_per_peer", "max_total" };

const char *fw2_rule_name(enum fw2_rule r)
{
	return (unsigned)r < FW2_RULE_MAX ? rule_names[r] : "?";
}

__u64 fw2_tw_cutoff_expiry(const struct fw2_tracker *t, __u32 netns)
{
	struct netns_info *n = fw2i_ns_get((struct fw2_tracker *)t, netns, 0);
	__s64 d_ns, j;

	/* An HZ guessed wrong would skip sockets that walk never saw. */
	if (!n || !n->walked_from_ns || !t->cal_hz || !t->cal_jiffies)
		return 0;
	d_ns = (__s64)(n->walked_from_ns - t->cal_ns);
	/* A second early: jiffies and ktime tick apart, and so do we. */
	j = (__s64)t->cal_jiffies + d_ns / (__s64)(NS_PER_SEC / t->cal_hz) - (__s64)t->cal_hz;
	if (j <= 0)
		return 0;
	/* The FIN re-armed the timer to FIN + TCP_TIMEWAIT_LEN. */
	return (__u64)j + TCP_TIMEWAIT_LEN_NS / NS_PER_SEC * t->cal_hz;
}

/* Only reaping needs a socket's local address. */
static int keeps_laddr(const struct fw2_tracker *t)
{
	return t->pol.keep_laddr;
}

static unsigned hist_bucket(__u64 ns)
{
	__u64 ms = ns / NS_PER_MS;
	unsigned b = ms ? 64 - (unsigned)__builtin_clzll(ms) : 0;

	return b < FW2_HIST_BUCKETS ? b : FW2_HIST_BUCKETS - 1;
}

static void record_exit(struct fw2_tracker *t, struct fw2_peer *p, __u64 cookie, __u64 dur,
			__u64 exit_ns, __u16 sport, __u16 dport, enum fw2_outcome o, int orphaned,
			int lower_bound, __u32 pid, const char *comm, __u64 cgroup)
{
	p->exited++;
	p->outcomes[o]++;
	p->hist[hist_bucket(dur)]++;
	t->ctr.exits++;
	t->ctr.outcomes[o]++;
	t->ctr.hist[hist_bucket(dur)]++;
	t->ctr.lifetime_sum_ns += dur;
	if (exit_ns > p->last_active_ns)
		p->last_active_ns = exit_ns;
	if (t->cb.on_exit) {
		struct fw2_exit x = {
			.peer = p, .cookie = cookie, .duration_ns = dur, .exit_ns = exit_ns,
			.sport = sport, .dport = dport, .outcome = o, .orphaned = orphaned,
			.duration_lower_bound = lower_bound, .pid = pid, .comm = comm,
			.cgroup_id = cgroup,
		};
		t->cb.on_exit(t->cb.ctx, &x);
	}
}

/* Ends tracking of socket idx with outcome o at exit_ns. */
void fw2i_sock_exit(struct fw2_tracker *t, __u32 idx, enum fw2_outcome o, __u64 exit_ns)
{
	struct fw2_sock *s = &t->socks[idx];
	struct fw2_peer *p = &t->peers[s->peer];
	int orphaned = !!(s->flags & FW2_F_ORPHANED);
	__u64 dur = exit_ns > s->enter_ns ? exit_ns - s->enter_ns : 0;
	struct fw2_proc *pr = s->proc != FW2_NIL ? &t->procs[s->proc] : NULL;

	record_exit(t, p, s->cookie, dur, exit_ns, s->sport, s->dport, o, orphaned,
		    !!(s->flags & FW2_F_LOWER_BOUND), pr ? pr->pid : 0, pr ? pr->comm : NULL, s->cgroup);
	/* The scan deletes the entry itself when it reports TIME_WAIT. */
	if ((s->state == FW2_TW || s->state == FW2_TW_PENDING) && !t->exiting_seen_tw &&
	    t->cb.unfollow)
		t->cb.unfollow(t->cb.ctx, s->cookie);
	fw2i_sock_free(t, idx);
}

/* ---- construction ---- */

struct fw2_tracker *fw2_tracker_new(const struct fw2_policy *pol, const struct fw2_callbacks *cb,
				    __u32 max_socks)
{
	struct fw2_tracker *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->pol = *pol;
	if (cb)
		t->cb = *cb;
	t->max_socks = max_socks ? max_socks : DEFAULT_MAX_SOCKS;
	/* Prefix peers keep each socket's own remote address: reaping needs it. */
	if (fw2i_tables_init(t, pol->group_by == FW_GROUP_PREFIX)) {
		fw2_tracker_free(t);
		return NULL;
	}
	return t;
}

void fw2_tracker_free(struct fw2_tracker *t)
{
	if (!t)
		return;
	fw2i_tables_free(t);
	free(t);
}

/* ---- events ---- */

static enum fw2_outcome close_outcome(const struct fw_event *e)
{
	if (e->newstate == FW_TCP_TIME_WAIT)
		return FW2_OUT_PEER_FIN;
	if (e->sk_err == 104)          /* ECONNRESET */
		return FW2_OUT_RST;
	if (e->sk_err == 103)          /* ECONNABORTED: SOCK_DESTROY / bpf_sock_destroy */
		return FW2_OUT_KILLED;
	if (e->sk_err == 0 && (e->flags & FW_EVF_FIN_RCVD))
		return FW2_OUT_PEER_FIN;
	return FW2_OUT_OTHER;
}

void fw2_on_event(struct fw2_tracker *t, const struct fw_event *e)
{
	__u32 idx, peer;

	t->ctr.events++;
	if (e->newstate == FW_TCP_FIN_WAIT2 && e->oldstate != FW_TCP_FIN_WAIT2) {
		idx = fw2i_sock_find(t, e->cookie);
		if (idx != FW2_NIL) {
			/* A scan got there first: the event has the exact time. */
			struct fw2_sock *s = &t->socks[idx];
			struct fw2_peer *p = &t->peers[s->peer];

			fw2i_list_unlink(t, p, idx);
			s->enter_ns = e->ts_ns;
			s->flags &= (__u8)~(FW2_F_DISCOVERED | FW2_F_LOWER_BOUND);
			fw2i_list_insert(t, p, idx);
		} else {
			peer = fw2i_peer_get(t, e->netns, e->family, e->daddr, e->dport, e->cgroup_id, e->ts_ns);
			if (peer == FW2_NIL) {
				t->ctr.capacity_drops++;
				return;
			}
			idx = fw2i_sock_add(t, e->cookie, peer, e->ts_ns, e->sport, e->dport,
				       !!(e->flags & FW_EVF_ORPHANED), 0, e->daddr, e->cgroup_id);
			if (idx == FW2_NIL)
				return;
		}
		if ((e->flags & FW_EVF_CLOSER) && t->socks[idx].proc == FW2_NIL)
			t->socks[idx].proc = fw2i_proc_get(t, e->pid, e->comm);
		if (t->socks[idx].laddr == FW2_NIL && keeps_laddr(t))
			t->socks[idx].laddr = fw2i_laddr_get(t, e->saddr);
		return;
	}
	if (e->oldstate != FW_TCP_FIN_WAIT2)
		return;

	idx = fw2i_sock_find(t, e->cookie);
	if (e->newstate == FW_TCP_FIN_WAIT2) {
		/* close() of a socket shut down earlier: now an orphan, and
		 * the event ran in the process that closed it. */
		if (idx == FW2_NIL)
			return;
		if ((e->flags & FW_EVF_CLOSER) && t->socks[idx].proc == FW2_NIL)
			t->socks[idx].proc = fw2i_proc_get(t, e->pid, e->comm);
		fw2i_sock_set_orphaned(t, &t->socks[idx], !!(e->flags & FW_EVF_ORPHANED));
		return;
	}
	if (idx == FW2_NIL) {
		/* Entered before we looked (or the entry was lost): still
		 * counts for the peer's outcomes, with the kernel's duration. */
		t->ctr.untracked_exits++;
		peer = fw2i_peer_get(t, e->netns, e->family, e->daddr, e->dport, e->cgroup_id, e->ts_ns);
		if (peer == FW2_NIL)
			return;
		enum fw2_outcome o = close_outcome(e);

		record_exit(t, &t->peers[peer], e->cookie,
			    e->ns_in_old == FW_NS_UNKNOWN ? 0 : e->ns_in_old, e->ts_ns, e->sport,
			    e->dport, o, !!(e->flags & FW_EVF_ORPHANED), e->ns_in_old == FW_NS_UNKNOWN,
			    (e->flags & FW_EVF_CLOSER) ? e->pid : 0,
			    (e->flags & FW_EVF_CLOSER) ? e->comm : NULL, e->cgroup_id);
		return;
	}
	struct fw2_sock *s = &t->socks[idx];

	if ((e->flags & FW_EVF_CLOSER) && s->proc == FW2_NIL)
		s->proc = fw2i_proc_get(t, e->pid, e->comm);
	fw2i_sock_set_orphaned(t, s, !!(e->flags & FW_EVF_ORPHANED));
	if (e->newstate == FW_TCP_CLOSE && e->sk_err == 0 &&
	    (e->flags & (FW_EVF_ORPHANED | FW_EVF_FIN_RCVD)) == FW_EVF_ORPHANED) {
		/* Probably a timewait handoff: the connection lives on. */
		t->ctr.handoffs++;
		s->aux_ns = e->ts_ns;
		fw2i_sock_set_state(t, s, FW2_TW_PENDING);
		return;
	}
	fw2i_sock_exit(t, idx, close_outcome(e), e->ts_ns);
}

int fw2_needs_proc(const struct fw2_tracker *t, __u64 cookie)
{
	__u32 idx = fw2i_sock_find(t, cookie);

	return idx != FW2_NIL && t->socks[idx].proc == FW2_NIL;
}

int fw2_tracks(const struct fw2_tracker *t, __u64 cookie)
{
	return fw2i_sock_find(t, cookie) != FW2_NIL;
}

void fw2_set_proc(struct fw2_tracker *t, __u64 cookie, __u32 pid, const char *comm)
{
	__u32 idx = fw2i_sock_find(t, cookie);
	char c[FW_COMM_LEN] = "";

	if (idx == FW2_NIL || t->socks[idx].proc != FW2_NIL)
		return;
	strncpy(c, comm, FW_COMM_LEN - 1);
	t->socks[idx].proc = fw2i_proc_get(t, pid, c);
}

/* ---- scans ---- */

void fw2_scan_begin(struct fw2_tracker *t, __u32 netns, __u64 start_ns, int fin_timeout_s,
		    __u32 hz, int full)
{
	fw2i_scan_finish(t);         /* one that failed halfway never ended */
	t->scanning = 1;
	t->scan_netns = netns;
	t->scan_start_ns = start_ns;
	t->scan_fin_timeout_s = fin_timeout_s;
	t->scan_hz = hz;        /* 0: unknown (conversions assume 250) */
	t->scan_full = full;
	t->scan_gen++;
	if (t->scan_gen == 0)
		t->scan_gen = 1;
	fw2_set_fin_timeout(t, netns, fin_timeout_s);
}

static __u64 jiffies_to_ns(const struct fw2_tracker *t, __s64 j)
{
	return j <= 0 ? 0 : (__u64)j * (NS_PER_SEC / (t->scan_hz ? t->scan_hz : 250));
}

/* A timewait socket: still in FIN_WAIT2 (followed, or discovered), or in
 * TIME_WAIT (the peer's FIN came). */
static void scan_tw_rec(struct fw2_tracker *t, const struct fw_scan_rec *r, __u32 idx)
{
	/* Signed: expires can be in the past while the timer runs late. */
	__s64 left_j = (__s64)(r->stamp_jiffies - r->now_jiffies);
	__u64 expiry_ns = left_j > 0 ? r->now_ns + jiffies_to_ns(t, left_j) : r->now_ns;

	if (r->state == FW_TCP_TIME_WAIT) {
		if (idx == FW2_NIL)
			return;
		/* The FIN re-armed the timer to FIN + TCP_TIMEWAIT_LEN. */
		__u64 fin_ns = expiry_ns > TCP_TIMEWAIT_LEN_NS ? expiry_ns - TCP_TIMEWAIT_LEN_NS : 0;
		struct fw2_sock *s = &t->socks[idx];

		if (fin_ns < s->enter_ns)
			fin_ns = s->enter_ns;
		if (fin_ns > r->now_ns)
			fin_ns = r->now_ns;
		t->exiting_seen_tw = 1;
		fw2i_sock_exit(t, idx, FW2_OUT_PEER_FIN, fin_ns);
		t->exiting_seen_tw = 0;
		return;
	}
	if (idx == FW2_NIL) {
		__u64 fin_to = t->scan_fin_timeout_s > 0 ? (__u64)t->scan_fin_timeout_s * NS_PER_SEC
						       : TCP_TIMEWAIT_LEN_NS;
		__u64 left_ns = expiry_ns - r->now_ns;
		__u64 age = fin_to > left_ns ? fin_to - left_ns : 0;
		/* A timewait socket has no cgroup (0): its full socket had one. */
		__u32 peer = fw2i_peer_get(t, r->netns, r->family, r->daddr, r->dport, 0, r->now_ns);

		if (peer == FW2_NIL)
			return;
		idx = fw2i_sock_add(t, r->cookie, peer, r->now_ns - age, r->sport, r->dport, 1,
			       FW2_F_DISCOVERED | FW2_F_LOWER_BOUND, r->daddr, 0);
		if (idx == FW2_NIL)
			return;
		t->ctr.discovered++;
		if (t->cb.follow)
			t->cb.follow(t->cb.ctx, r->cookie);
	} else if (t->socks[idx].state != FW2_TW) {
		t->ctr.tw_confirmed++;
	}
	struct fw2_sock *s = &t->socks[idx];

	if (s->laddr == FW2_NIL && keeps_laddr(t))
		s->laddr = fw2i_laddr_get(t, r->saddr);
	fw2i_sock_set_orphaned(t, s, 1);
	fw2i_sock_set_state(t, s, FW2_TW);
	s->aux_ns = expiry_ns;
	s->scan_gen = t->scan_gen;
}

/* A full socket in FIN_WAIT2: known, or discovered with a lower-bound age. */
static void scan_full_rec(struct fw2_tracker *t, const struct fw_scan_rec *r, __u32 idx)
{
	if (idx == FW2_NIL) {
		__u32 since_j = (__u32)r->now_jiffies - (__u32)r->stamp_jiffies;
		__u64 age = jiffies_to_ns(t, (__s64)since_j);
		__u32 peer = fw2i_peer_get(t, r->netns, r->family, r->daddr, r->dport, r->cgroup_id, r->now_ns);

		if (age > r->now_ns)
			age = r->now_ns;
		if (peer == FW2_NIL)
			return;
		idx = fw2i_sock_add(t, r->cookie, peer, r->now_ns - age, r->sport, r->dport,
			       !!(r->flags & FW_EVF_ORPHANED), FW2_F_DISCOVERED | FW2_F_LOWER_BOUND, r->daddr,
			       r->cgroup_id);
		if (idx == FW2_NIL)
			return;
		t->ctr.discovered++;
	}
	struct fw2_sock *s = &t->socks[idx];

	if (s->laddr == FW2_NIL && keeps_laddr(t))
		s->laddr = fw2i_laddr_get(t, r->saddr);
	fw2i_sock_set_orphaned(t, s, !!(r->flags & FW_EVF_ORPHANED));
	s->scan_gen = t->scan_gen;
}

void fw2_scan_rec(struct fw2_tracker *t, const struct fw_scan_rec *r)
{
	__u32 idx = fw2i_sock_find(t, r->cookie);

	if (!t->scanning)
		return;
	t->cal_ns = r->now_ns;
	t->cal_jiffies = r->now_jiffies;
	t->cal_hz = t->scan_hz;
	if (r->kind == FW_SCAN_TW)
		scan_tw_rec(t, r, idx);
	else
		scan_full_rec(t, r, idx);
}

/* A followed socket the scan no longer lists: how did it end? */
static void judge_missing(struct fw2_tracker *t, __u32 idx, __u64 end_ns)
{
	struct fw2_sock *s = &t->socks[idx];
	__u64 fin_to = t->scan_fin_timeout_s > 0 ? (__u64)t->scan_fin_timeout_s * NS_PER_SEC : 0;

	if (s->state == FW2_TW) {
		/* Gone at or after its timer: the fin timeout; earlier: RST
		 * (a timewait socket answers no state event for it). */
		if (end_ns + NS_PER_SEC / 4 >= s->aux_ns)
			fw2i_sock_exit(t, idx, FW2_OUT_TIMEOUT, s->aux_ns);
		else
			fw2i_sock_exit(t, idx, FW2_OUT_RST, t->scan_start_ns);
		return;
	}
	if (s->state == FW2_TW_PENDING) {
		__u64 age_at_close = s->aux_ns - s->enter_ns;

		if (fin_to && age_at_close + NS_PER_SEC >= fin_to) {
			/* Keepalive-timer expiry of an orphan: kernel timeout. */
			fw2i_sock_exit(t, idx, FW2_OUT_TIMEOUT, s->aux_ns);
		} else if (fin_to && s->enter_ns + fin_to <= t->scan_start_ns) {
			/* Its timewait successor already expired unseen. */
			fw2i_sock_exit(t, idx, FW2_OUT_TIMEOUT, s->enter_ns + fin_to);
		} else {
			/* No timewait successor: overflow, linger2 < 0 or an
			 * RST before the first look. */
			fw2i_sock_exit(t, idx, FW2_OUT_OTHER, s->aux_ns);
		}
		return;
	}
	/* A full socket the kernel no longer has: its exit event was lost. */
	t->ctr.reconciled_missing++;
	fw2i_sock_exit(t, idx, FW2_OUT_OTHER, t->scan_start_ns);
}

/* The one per-namespace walk: fn(t, i, ctx) for every socket of netns,
 * oldest first per peer; fn may end the socket it is given. */
static void netns_each_sock(struct fw2_tracker *t, __u32 netns,
			    void (*fn)(struct fw2_tracker *t, __u32 i, void *ctx), void *ctx)
{
	for (__u32 pi = 0; pi < t->peers_used; pi++) {
		struct fw2_peer *p = &t->peers[pi];

		if (!p->in_use || p->netns != netns)
			continue;
		for (__u32 i = p->head, next; i != FW2_NIL; i = next) {
			next = t->socks[i].next;
			fn(t, i, ctx);
		}
	}
}

/* After a complete walk: a socket it did not see is gone (or missed). */
static void judge_unseen(struct fw2_tracker *t, __u32 i, void *ctx)
{
	const struct fw2_sock *s = &t->socks[i];
	__u64 end_ns = *(const __u64 *)ctx;

	if (s->scan_gen == t->scan_gen)
		return;
	if (s->state == FW2_FULL) {
		/* Entered after the walk began: not comparable. */
		if (t->scan_full && s->enter_ns < t->scan_start_ns)
			judge_missing(t, i, end_ns);
		return;
	}
	if (s->state == FW2_TW_PENDING && s->aux_ns >= t->scan_start_ns)
		return;
	judge_missing(t, i, end_ns);
}

void fw2_scan_end(struct fw2_tracker *t, __u64 end_ns)
{
	struct netns_info *n;

	if (!t->scanning)
		return;
	fw2i_scan_finish(t);
	n = fw2i_ns_get(t, t->scan_netns, 1);
	if (n)
		n->walked_from_ns = t->scan_start_ns;
	netns_each_sock(t, t->scan_netns, judge_unseen, &end_ns);
}

struct blind_ctx {
	__u64 now, fin_to;
};

/* No scan can see this namespace: timewait sockets end at their expected
 * timeout. */
static void end_when_expired(struct fw2_tracker *t, __u32 i, void *ctx)
{
	const struct blind_ctx *b = ctx;
	struct fw2_sock *s = &t->socks[i];
	__u64 end;

	if (s->state == FW2_TW)
		end = s->aux_ns;
	else if (s->state == FW2_TW_PENDING)
		end = s->enter_ns + b->fin_to;
	else
		return;
	if (b->now >= end) {
		fw2i_sock_exit(t, i, FW2_OUT_TIMEOUT, end);
	} else if (s->state == FW2_TW_PENDING) {
		/* No scan will confirm it: count it as stuck until its
		 * expected timeout. */
		s->aux_ns = end;
		fw2i_sock_set_state(t, s, FW2_TW);
	}
}

void fw2_netns_unscannable(struct fw2_tracker *t, __u32 netns, __u64 now)
{
	fw2i_scan_finish(t);          /* the scan that found this ended without scan_end */
	int fin_s = fw2_netns_fin_timeout(t, netns);
	struct blind_ctx b = { now, (fin_s > 0 ? (__u64)fin_s : 60) * NS_PER_SEC };

	netns_each_sock(t, netns, end_when_expired, &b);
}

/* The namespace is deleted: its timewait sockets went with it. */
static void end_timewait(struct fw2_tracker *t, __u32 i, void *ctx)
{
	if (t->socks[i].state == FW2_TW || t->socks[i].state == FW2_TW_PENDING)
		fw2i_sock_exit(t, i, FW2_OUT_OTHER, *(const __u64 *)ctx);
}

void fw2_netns_gone(struct fw2_tracker *t, __u32 netns, __u64 now)
{
	fw2i_scan_finish(t);          /* the scan that found this ended without scan_end */
	netns_each_sock(t, netns, end_timewait, &now);
}
