/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What `finwatch top` shows, without the terminal: rows per peer (or
 * group) built from the tracker's read access, each peer's count over the
 * last minutes for its sparkline, entries and exits per second, the main
 * holding process, and expiry (when the orphans go away on their own;
 * never for held sockets); the header's rates; sorting and filtering; one
 * peer's detail. Kernel-free: unit tests feed it a tracker and a clock.
 * top_view.c draws it.
 */
#ifndef FW_TOP_MODEL_H
#define FW_TOP_MODEL_H

#include <stddef.h>
#include <linux/types.h>
#include "finwatch.h"
#include "fw2_tracker.h"
#include "run_stats.h"

/* One sample per update (about a second): three minutes of history. */
#define TOP_HIST_SAMPLES 180
/* Rows whose holder and expiry are worked out (the ones a screen shows);
 * each walks at most TOP_WALK_MAX sockets from either end of its list. */
#define TOP_WALKED_ROWS 256
#define TOP_WALK_MAX 4096
#define TOP_MAX_ROWS 2000
#define TOP_DETAIL_MAX 500
#define TOP_FILTER_LEN 64

enum top_sort { TOP_SORT_COUNT = 0, TOP_SORT_AGE, TOP_SORT_RATE, TOP_SORT_MAX };
const char *top_sort_name(enum top_sort s);

/* Expiry of a row's or a socket's orphans, relative to now. */
#define TOP_EXPIRY_NONE (-1)    /* no orphan: held sockets never expire */
#define TOP_EXPIRY_UNKNOWN (-2) /* tcp_fin_timeout of the netns not known yet */

struct top_row {
	char peer[80];
	__u32 netns;
	__u64 wl_key;
	__u32 count, held, orphaned;
	__u64 oldest_ns;
	int oldest_lower_bound;
	double enter_rate, exit_rate;          /* per second, over the last update */
	/* Orphans: ns until the first and the last of them go away (or
	 * TOP_EXPIRY_*); held > 0 adds "never". Only for walked rows. */
	__s64 expiry_first_ns, expiry_last_ns;
	int walked;                            /* holder and expiry filled in */
	__u32 pid;                             /* main holder, 0 if none known */
	char comm[FW_COMM_LEN + 1];
	__u32 pid_socks;                       /* sockets of it among those walked */
	char workload[96];                     /* the group's, or the main holder's */
	__u8 alert;                            /* bit per firing enum fw2_rule */
	__u32 hist;                            /* index of its count history */
	const struct fw2_peer *src;            /* during an update only */
};

struct top_header {
	char host[64], kernel[64];
	__u64 uptime_ns;
	__u32 total, held, orphaned, unconfirmed;
	__u32 peers;                           /* peers with a socket now */
	double events_rate;                    /* events per second */
	__u64 lost, skipped, malformed;
	double cpu_pct;                        /* finwatch's own, since the last update */
	__u64 rss_bytes;
	int alerts_firing;                     /* rules firing: per peer, plus max_total */
	int total_firing;
};

struct top_sock {
	__u64 cookie;
	__u16 sport, dport;
	__u64 age_ns;
	int lower_bound, orphaned, timewait;
	__s64 expires_in_ns;                   /* or TOP_EXPIRY_* */
	__u32 pid;
	char comm[FW_COMM_LEN + 1];
	char workload[96];
};

struct top_detail {
	int found;                             /* the peer still exists */
	struct top_row row;
	__u64 entered, exited;
	__u64 outcomes[FW2_OUT_MAX];
	__u64 hist[FW2_HIST_BUCKETS];          /* lifetimes, log2 ms buckets */
	int fin_timeout_s;                     /* of its netns, -1 unknown */
	int n_socks;                           /* shown: oldest first, at most TOP_DETAIL_MAX */
	struct top_sock socks[TOP_DETAIL_MAX];
};

struct top_model;

/* host and kernel label the header. NULL on ENOMEM. */
struct top_model *top_model_new(const char *host, const char *kernel, __u64 start_ns);
void top_model_free(struct top_model *m);

/* Takes a sample at now_ns: rows, rates since the last update, history.
 * st may be NULL (no run counters). Returns 0 or -ENOMEM. */
int top_model_update(struct top_model *m, const struct fw2_tracker *t, const struct fw_run_stats *st,
		     __u64 now_ns);

/* Sorting and filtering apply at once (no new sample needed). The filter
 * is a case-insensitive substring of the peer, its workload or holder. */
void top_model_set_sort(struct top_model *m, enum top_sort s);
enum top_sort top_model_sort(const struct top_model *m);
void top_model_set_filter(struct top_model *m, const char *substr);
const char *top_model_filter(const struct top_model *m);

const struct top_header *top_model_header(const struct top_model *m);
/* The rows that pass the filter, sorted; valid until the next update,
 * sort or filter change. */
int top_model_rows(const struct top_model *m, const struct top_row *const **rows);

/* Sparkline of a row's count: width cells, oldest left, each cell the
 * highest count of its samples scaled to the line's highest. utf8: block
 * characters (3 bytes each), else ASCII. Returns buf. */
const char *top_sparkline(const struct top_model *m, const struct top_row *r, int width, int utf8,
			  char *buf, size_t len);

/* One peer (as rows name it: peer, netns, wl_key) at the last update's
 * tracker state; fills d (found=0 when it is gone). */
void top_model_detail(const struct top_model *m, const struct fw2_tracker *t, const char *peer,
		      __u32 netns, __u64 wl_key, __u64 now_ns, struct top_detail *d);

/* "12s", "never", "12s..28s", "12s+never", "?" : what the expiry column says. */
const char *top_expiry_text(const struct top_row *r, char *buf, size_t len);

#endif
