// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "parse.h"
#include "top_model.h"
#include "trace_fmt.h"
#include "workload_map.h"

/* A peer's count, one sample per update, and what rates are taken from. */
struct top_hist {
	char peer[80];
	__u32 netns;
	__u64 wl_key;
	__u64 entered, exited;   /* at the last update, for rates */
	__u64 seen;              /* update number that last saw it */
	__u32 samples[TOP_HIST_SAMPLES];   /* ring, samples[head] is the newest */
};

struct top_model {
	struct top_header hdr;
	__u64 start_ns, last_ns;
	__u64 last_events, last_cpu_ns;
	__u64 updates;           /* samples taken */
	int head;                /* ring position of the newest sample */
	enum top_sort sort;
	char filter[TOP_FILTER_LEN];
	struct top_row *all;     /* every row of the last update */
	int n_all;
	const struct top_row **shown;   /* filtered and sorted */
	int n_shown;
	struct top_hist *hist;
	__u32 n_hist, hist_cap;
	__u32 *slots;            /* open addressing over hist, FW2_NIL empty */
	__u32 n_slots;
};

static const char *const sort_names[TOP_SORT_MAX] = { "count", "age", "rate" };

const char *top_sort_name(enum top_sort s)
{
	return s < TOP_SORT_MAX ? sort_names[s] : "?";
}

struct top_model *top_model_new(const char *host, const char *kernel, __u64 start_ns)
{
	struct top_model *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	snprintf(m->hdr.host, sizeof(m->hdr.host), "%s", host ? host : "");
	snprintf(m->hdr.kernel, sizeof(m->hdr.kernel), "%s", kernel ? kernel : "");
	m->start_ns = start_ns;
	m->all = calloc(TOP_MAX_ROWS, sizeof(*m->all));
	m->shown = calloc(TOP_MAX_ROWS, sizeof(*m->shown));
	if (!m->all || !m->shown) {
		top_model_free(m);
		return NULL;
	}
	return m;
}

void top_model_free(struct top_model *m)
{
	if (!m)
		return;
	free(m->all);
	free(m->shown);
	free(m->hist);
	free(m->slots);
	free(m);
}

/* ---- count history per peer ---- */

static __u32 hist_hash(const char *peer, __u32 netns, __u64 wl_key)
{
	__u64 h = 1469598103934665603ULL ^ netns ^ (wl_key * 0x9e3779b97f4a7c15ULL);

	for (const char *c = peer; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ULL;
	return (__u32)(h ^ (h >> 32));
}

static int hist_rehash(struct top_model *m, __u32 n_slots)
{
	__u32 *s = malloc((size_t)n_slots * sizeof(*s));

	if (!s)
		return -ENOMEM;
	memset(s, 0xff, (size_t)n_slots * sizeof(*s));
	for (__u32 i = 0; i < m->n_hist; i++) {
		__u32 h = hist_hash(m->hist[i].peer, m->hist[i].netns, m->hist[i].wl_key) & (n_slots - 1);

		while (s[h] != FW2_NIL)
			h = (h + 1) & (n_slots - 1);
		s[h] = i;
	}
	free(m->slots);
	m->slots = s;
	m->n_slots = n_slots;
	return 0;
}

/* The history of a peer, made on first sight (*fresh = 1). FW2_NIL on ENOMEM. */
static __u32 hist_get(struct top_model *m, const char *peer, __u32 netns, __u64 wl_key, int *fresh)
{
	__u32 h;

	*fresh = 0;
	if (m->n_slots) {
		for (h = hist_hash(peer, netns, wl_key) & (m->n_slots - 1); m->slots[h] != FW2_NIL;
		     h = (h + 1) & (m->n_slots - 1)) {
			struct top_hist *e = &m->hist[m->slots[h]];

			if (e->netns == netns && e->wl_key == wl_key && !strcmp(e->peer, peer))
				return m->slots[h];
		}
	}
	if (m->n_hist == m->hist_cap) {
		__u32 cap = m->hist_cap ? m->hist_cap * 2 : 64;
		struct top_hist *n = realloc(m->hist, (size_t)cap * sizeof(*n));

		if (!n)
			return FW2_NIL;
		m->hist = n;
		m->hist_cap = cap;
	}
	if ((__u64)(m->n_hist + 1) * 2 > m->n_slots &&
	    hist_rehash(m, m->n_slots ? m->n_slots * 2 : 128))
		return FW2_NIL;
	struct top_hist *e = &m->hist[m->n_hist];

	memset(e, 0, sizeof(*e));
	snprintf(e->peer, sizeof(e->peer), "%s", peer);
	e->netns = netns;
	e->wl_key = wl_key;
	for (h = hist_hash(peer, netns, wl_key) & (m->n_slots - 1); m->slots[h] != FW2_NIL;
	     h = (h + 1) & (m->n_slots - 1))
		;
	m->slots[h] = m->n_hist;
	*fresh = 1;
	return m->n_hist++;
}

static int hist_any(const struct top_hist *e)
{
	for (int i = 0; i < TOP_HIST_SAMPLES; i++)
		if (e->samples[i])
			return 1;
	return 0;
}

/* Peers gone from the tracker (evicted) whose line is flat at zero are
 * forgotten; rows then point at indexes that moved, so this runs before
 * rows are built. */
static int hist_prune(struct top_model *m)
{
	__u32 k = 0;

	for (__u32 i = 0; i < m->n_hist; i++) {
		struct top_hist *e = &m->hist[i];

		if (e->seen + 1 < m->updates && !hist_any(e))
			continue;
		if (k != i)
			m->hist[k] = *e;
		k++;
	}
	if (k == m->n_hist)
		return 0;
	m->n_hist = k;
	return hist_rehash(m, m->n_slots);
}

/* ---- rows ---- */

struct walk_ctx {
	__u64 now;
	struct { __u32 pid; __u32 n; __u64 cgroup; char comm[FW_COMM_LEN + 1]; } procs[16];
	int n_procs;
	__s64 first, last;
	int unknown;
};

static void tally_proc(struct walk_ctx *w, const struct fw2_sock_view *s)
{
	int i;

	if (!s->pid)
		return;
	for (i = 0; i < w->n_procs; i++)
		if (w->procs[i].pid == s->pid)
			break;
	if (i == w->n_procs) {
		if (w->n_procs == (int)(sizeof(w->procs) / sizeof(w->procs[0])))
			return;
		w->n_procs++;
		w->procs[i].pid = s->pid;
		w->procs[i].n = 0;
		w->procs[i].cgroup = s->cgroup_id;
		text_comm(w->procs[i].comm, sizeof(w->procs[i].comm), s->comm ? s->comm : "?");
	}
	w->procs[i].n++;
}

static __s64 remaining(__u64 expiry, __u64 now)
{
	return expiry > now ? (__s64)(expiry - now) : 0;
}

static void note_expiry(struct walk_ctx *w, const struct fw2_sock_view *s)
{
	if (!s->orphaned)
		return;
	if (!s->expiry_ns) {
		w->unknown = 1;
		return;
	}
	__s64 r = remaining(s->expiry_ns, w->now);

	if (w->first < 0 || r < w->first)
		w->first = r;
	if (r > w->last)
		w->last = r;
}

static int walk_oldest(void *ctx, const struct fw2_sock_view *s)
{
	tally_proc(ctx, s);
	note_expiry(ctx, s);
	return 0;
}

/* From the newest end only the last orphan's expiry is missing. */
static int walk_newest(void *ctx, const struct fw2_sock_view *s)
{
	note_expiry(ctx, s);
	return s->orphaned;
}

/* The main holder and the orphans' expiry of one row: its list's two ends
 * (it is in entry order, so the first and last orphans to expire are near
 * them; timewait timers of sockets closed late may differ a little). */
static void row_walk(struct top_row *r, const struct fw2_tracker *t, const struct fw2_peer *p, __u64 now)
{
	struct walk_ctx w = { .now = now, .first = -1, .last = -1 };
	int seen = fw2_peer_socks(t, p, 0, TOP_WALK_MAX, walk_oldest, &w);

	if (seen >= TOP_WALK_MAX)
		fw2_peer_socks(t, p, 1, TOP_WALK_MAX, walk_newest, &w);
	r->walked = 1;
	if (!r->orphaned) {
		r->expiry_first_ns = r->expiry_last_ns = TOP_EXPIRY_NONE;
	} else if (w.unknown || w.first < 0) {
		r->expiry_first_ns = r->expiry_last_ns = TOP_EXPIRY_UNKNOWN;
	} else {
		r->expiry_first_ns = w.first;
		r->expiry_last_ns = w.last;
	}
	int best = -1;

	for (int i = 0; i < w.n_procs; i++)
		if (best < 0 || w.procs[i].n > w.procs[best].n)
			best = i;
	if (best >= 0) {
		r->pid = w.procs[best].pid;
		r->pid_socks = w.procs[best].n;
		snprintf(r->comm, sizeof(r->comm), "%s", w.procs[best].comm);
		if (!r->workload[0])
			wl_text_label(w.procs[best].cgroup, r->workload, sizeof(r->workload));
	}
}

static void row_fill(struct top_row *r, const struct fw2_tracker *t, const struct fw2_peer *p, __u64 now)
{
	memset(r, 0, sizeof(*r));
	fw2_peer_str(p, r->peer, sizeof(r->peer));
	r->netns = p->netns;
	r->wl_key = p->wl_key;
	r->count = p->held + p->orphaned;
	r->held = p->held;
	r->orphaned = p->orphaned;
	r->oldest_ns = fw2_peer_oldest_age(t, p, now, &r->oldest_lower_bound);
	r->alert = p->alert_firing;
	r->expiry_first_ns = r->expiry_last_ns = r->orphaned ? TOP_EXPIRY_UNKNOWN : TOP_EXPIRY_NONE;
	if (fw2_group_workload(t))
		wl_text_label(p->wl_key, r->workload, sizeof(r->workload));
}

static void header_fill(struct top_model *m, const struct fw2_tracker *t, const struct fw_run_stats *st,
			__u64 now, double dt)
{
	struct top_header *h = &m->hdr;

	h->uptime_ns = now > m->start_ns ? now - m->start_ns : 0;
	h->total = fw2_total(t, &h->held, &h->orphaned);
	h->unconfirmed = fw2_unconfirmed_handoffs(t);
	h->total_firing = fw2_total_firing(t);
	h->alerts_firing = h->total_firing;
	if (!st)
		return;
	if (dt > 0 && m->updates) {
		h->events_rate = st->events >= m->last_events ? (double)(st->events - m->last_events) / dt : 0;
		h->cpu_pct = st->cpu_ns >= m->last_cpu_ns ? (double)(st->cpu_ns - m->last_cpu_ns) / 1e7 / dt : 0;
	}
	m->last_events = st->events;
	m->last_cpu_ns = st->cpu_ns;
	h->lost = st->lost;
	h->skipped = st->recursion_misses;
	h->malformed = st->malformed;
	h->rss_bytes = st->rss_bytes;
}

/* One row per peer with a socket now or a count in its history (a peer
 * that emptied stays a while, its line going to zero). */
int top_model_update(struct top_model *m, const struct fw2_tracker *t, const struct fw_run_stats *st,
		     __u64 now)
{
	const struct fw2_peer **peers = malloc(TOP_MAX_ROWS * sizeof(*peers));
	double dt = m->updates && now > m->last_ns ? (double)(now - m->last_ns) / 1e9 : 0;
	int n, err = 0;

	if (!peers)
		return -ENOMEM;
	header_fill(m, t, st, now, dt);
	m->updates++;
	m->head = (m->head + 1) % TOP_HIST_SAMPLES;
	n = fw2_top_peers(t, peers, TOP_MAX_ROWS, 1);
	m->n_all = 0;
	m->hdr.peers = 0;
	for (int i = 0; i < n; i++) {
		const struct fw2_peer *p = peers[i];
		struct top_row *r = &m->all[m->n_all];
		int fresh;

		row_fill(r, t, p, now);
		r->src = p;
		r->hist = hist_get(m, r->peer, r->netns, r->wl_key, &fresh);
		if (r->hist == FW2_NIL) {
			err = -ENOMEM;
			break;
		}
		struct top_hist *e = &m->hist[r->hist];

		if (!fresh && dt > 0) {
			r->enter_rate = p->entered >= e->entered ? (double)(p->entered - e->entered) / dt : 0;
			r->exit_rate = p->exited >= e->exited ? (double)(p->exited - e->exited) / dt : 0;
		}
		e->entered = p->entered;
		e->exited = p->exited;
		e->seen = m->updates;
		e->samples[m->head] = r->count;
		if (r->alert)
			m->hdr.alerts_firing += __builtin_popcount(r->alert);
		if (r->count)
			m->hdr.peers++;
		if (r->count || r->enter_rate > 0 || r->exit_rate > 0 || hist_any(e))
			m->n_all++;
	}
	/* Samples of peers not seen this time are zero. */
	for (__u32 i = 0; i < m->n_hist; i++)
		if (m->hist[i].seen != m->updates)
			m->hist[i].samples[m->head] = 0;
	if (!err) {
		/* Rows keep history indexes: prune first, then look them up again. */
		err = hist_prune(m);
		for (int i = 0; !err && i < m->n_all; i++) {
			int fresh;

			m->all[i].hist = hist_get(m, m->all[i].peer, m->all[i].netns, m->all[i].wl_key, &fresh);
			if (m->all[i].hist == FW2_NIL)
				err = -ENOMEM;
		}
	}
	m->last_ns = now;
	top_model_set_filter(m, m->filter);     /* filter and sort */
	/* Holders and expiry for the rows a screen can show; the tracker's
	 * peers are valid only now. */
	for (int i = 0; !err && i < m->n_shown && i < TOP_WALKED_ROWS; i++)
		row_walk((struct top_row *)m->shown[i], t, m->shown[i]->src, now);
	for (int i = 0; i < m->n_all; i++)
		m->all[i].src = NULL;
	free(peers);
	return err;
}

/* ---- sorting, filtering ---- */

static int cmp_u64_desc(__u64 a, __u64 b)
{
	return a == b ? 0 : a > b ? -1 : 1;
}

static int row_cmp(const void *a, const void *b, void *ctx)
{
	const struct top_row *x = *(const struct top_row *const *)a;
	const struct top_row *y = *(const struct top_row *const *)b;
	enum top_sort s = *(const enum top_sort *)ctx;
	int c = 0;

	if (s == TOP_SORT_AGE)
		c = cmp_u64_desc(x->oldest_ns, y->oldest_ns);
	else if (s == TOP_SORT_RATE)
		c = x->enter_rate + x->exit_rate == y->enter_rate + y->exit_rate ? 0 :
		    x->enter_rate + x->exit_rate > y->enter_rate + y->exit_rate ? -1 : 1;
	if (!c)
		c = cmp_u64_desc(x->count, y->count);
	if (!c)
		c = cmp_u64_desc(x->oldest_ns, y->oldest_ns);
	if (!c)
		c = strcmp(x->peer, y->peer);
	if (!c)
		c = x->netns == y->netns ? 0 : x->netns < y->netns ? -1 : 1;
	return c;
}

static int has_text(const char *hay, const char *needle)
{
	return !needle[0] || strcasestr(hay, needle) != NULL;
}

static int row_matches(const struct top_row *r, const char *f)
{
	return !f[0] || has_text(r->peer, f) || (r->workload[0] && has_text(r->workload, f)) ||
	       (r->comm[0] && has_text(r->comm, f));
}

static void reshow(struct top_model *m)
{
	m->n_shown = 0;
	for (int i = 0; i < m->n_all; i++)
		if (row_matches(&m->all[i], m->filter))
			m->shown[m->n_shown++] = &m->all[i];
	qsort_r(m->shown, m->n_shown, sizeof(*m->shown), row_cmp, &m->sort);
}

void top_model_set_sort(struct top_model *m, enum top_sort s)
{
	m->sort = s < TOP_SORT_MAX ? s : TOP_SORT_COUNT;
	reshow(m);
}

enum top_sort top_model_sort(const struct top_model *m)
{
	return m->sort;
}

void top_model_set_filter(struct top_model *m, const char *substr)
{
	if (substr != m->filter)
		snprintf(m->filter, sizeof(m->filter), "%s", substr ? substr : "");
	reshow(m);
}

const char *top_model_filter(const struct top_model *m)
{
	return m->filter;
}

const struct top_header *top_model_header(const struct top_model *m)
{
	return &m->hdr;
}

int top_model_rows(const struct top_model *m, const struct top_row *const **rows)
{
	*rows = m->shown;
	return m->n_shown;
}

/* ---- what the columns say ---- */

const char *top_sparkline(const struct top_model *m, const struct top_row *r, int width, int utf8,
			  char *buf, size_t len)
{
	static const char *const blocks[8] = { "\u2581", "\u2582", "\u2583", "\u2584",
					       "\u2585", "\u2586", "\u2587", "\u2588" };
	static const char ascii[8] = { '_', '.', ',', '-', '=', '+', '*', '#' };
	const struct top_hist *e = r->hist < m->n_hist ? &m->hist[r->hist] : NULL;
	__u32 cells[256], max = 0;
	size_t off = 0;

	if (width > 256)
		width = 256;
	if (len)
		buf[0] = '\0';
	if (!e || width <= 0)
		return buf;
	/* Samples not taken yet (a young view) are left blank on the left. */
	int have = m->updates < TOP_HIST_SAMPLES ? (int)m->updates : TOP_HIST_SAMPLES;
	int per = (TOP_HIST_SAMPLES + width - 1) / width;

	for (int c = 0; c < width; c++) {
		/* Cell c covers samples ending (width-1-c)*per samples ago. */
		__u32 v = 0;
		int any = 0;

		for (int k = 0; k < per; k++) {
			int ago = (width - 1 - c) * per + k;

			if (ago >= have)
				break;
			any = 1;
			__u32 s = e->samples[(m->head - ago + TOP_HIST_SAMPLES * 2) % TOP_HIST_SAMPLES];

			if (s > v)
				v = s;
		}
		cells[c] = any ? v + 1 : 0;     /* 0: no sample; else count + 1 */
		if (any && v > max)
			max = v;
	}
	for (int c = 0; c < width && off + 4 < len; c++) {
		if (!cells[c] || cells[c] == 1) {
			buf[off++] = ' ';
			continue;
		}
		__u32 v = cells[c] - 1;
		/* 1..max onto the 8 levels: any socket shows. */
		int lvl = max ? (int)(((__u64)v * 8 - 1) / max) : 0;

		if (lvl > 7)
			lvl = 7;
		if (utf8) {
			memcpy(buf + off, blocks[lvl], 3);
			off += 3;
		} else {
			buf[off++] = ascii[lvl];
		}
	}
	buf[off < len ? off : len - 1] = '\0';
	return buf;
}

static void dur_text(char *buf, size_t len, __s64 ns)
{
	/* Round up: "1s" left is still there; 0 only when it is due. */
	format_duration(buf, len, ns > 0 ? ((__u64)ns + NS_PER_SEC - 1) / NS_PER_SEC * NS_PER_SEC : 0);
}

const char *top_expiry_text(const struct top_row *r, char *buf, size_t len)
{
	char a[24], b[24], o[56];

	if (!r->orphaned) {
		snprintf(buf, len, "%s", r->held ? "never" : "-");
		return buf;
	}
	if (!r->walked) {
		snprintf(o, sizeof(o), "...");
	} else if (r->expiry_first_ns < 0) {
		snprintf(o, sizeof(o), "?");
	} else {
		dur_text(a, sizeof(a), r->expiry_first_ns);
		dur_text(b, sizeof(b), r->expiry_last_ns);
		if (!strcmp(a, b))
			snprintf(o, sizeof(o), "%s", a);
		else
			snprintf(o, sizeof(o), "%s..%s", a, b);
	}
	snprintf(buf, len, "%s%s", o, r->held ? "+never" : "");
	return buf;
}

/* ---- one peer ---- */

struct detail_ctx {
	struct top_detail *d;
	__u64 now;
};

static int detail_sock(void *ctx, const struct fw2_sock_view *s)
{
	struct detail_ctx *c = ctx;
	struct top_sock *o = &c->d->socks[c->d->n_socks++];

	memset(o, 0, sizeof(*o));
	o->cookie = s->cookie;
	o->sport = s->sport;
	o->dport = s->dport;
	o->age_ns = c->now > s->enter_ns ? c->now - s->enter_ns : 0;
	o->lower_bound = s->lower_bound;
	o->orphaned = s->orphaned;
	o->timewait = s->timewait;
	o->expires_in_ns = !s->orphaned ? TOP_EXPIRY_NONE :
			   !s->expiry_ns ? TOP_EXPIRY_UNKNOWN : remaining(s->expiry_ns, c->now);
	o->pid = s->pid;
	if (s->pid)
		text_comm(o->comm, sizeof(o->comm), s->comm ? s->comm : "?");
	wl_text_label(s->cgroup_id, o->workload, sizeof(o->workload));
	return c->d->n_socks >= TOP_DETAIL_MAX;
}

void top_model_detail(const struct top_model *m, const struct fw2_tracker *t, const char *peer,
		      __u32 netns, __u64 wl_key, __u64 now, struct top_detail *d)
{
	const struct fw2_peer **peers = malloc(TOP_MAX_ROWS * sizeof(*peers));
	int n = peers ? fw2_top_peers(t, peers, TOP_MAX_ROWS, 1) : 0;
	char ps[80];

	d->found = 0;
	d->n_socks = 0;
	for (int i = 0; i < n; i++) {
		const struct fw2_peer *p = peers[i];

		if (p->netns != netns || p->wl_key != wl_key || strcmp(fw2_peer_str(p, ps, sizeof(ps)), peer))
			continue;
		struct detail_ctx c = { .d = d, .now = now };

		d->found = 1;
		row_fill(&d->row, t, p, now);
		row_walk(&d->row, t, p, now);
		d->entered = p->entered;
		d->exited = p->exited;
		memcpy(d->outcomes, p->outcomes, sizeof(d->outcomes));
		memcpy(d->hist, p->hist, sizeof(d->hist));
		d->fin_timeout_s = fw2_netns_fin_timeout(t, p->netns);
		fw2_peer_socks(t, p, 0, TOP_DETAIL_MAX, detail_sock, &c);
		/* Rates and history are the model's. */
		for (int k = 0; k < m->n_all; k++)
			if (m->all[k].netns == netns && m->all[k].wl_key == wl_key && !strcmp(m->all[k].peer, peer)) {
				d->row.enter_rate = m->all[k].enter_rate;
				d->row.exit_rate = m->all[k].exit_rate;
				d->row.hist = m->all[k].hist;
			}
		break;
	}
	free(peers);
}
