/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Watch-mode output: exits, alerts, periodic summaries and histograms, as
 * text for a terminal or JSON Lines (docs/JSON.md). */
#ifndef FW_WATCH_OUT_H
#define FW_WATCH_OUT_H

#include <stdio.h>
#include "fw2_tracker.h"
#include "json_writer.h"
#include "run_stats.h"

/* One-line advice for an alert: why and which knob helps. */
const char *fw2_alert_advice(const struct fw2_alert *a, char *buf, size_t len);

void out_exit_json(struct json_writer *jw, const struct fw2_exit *x);
void out_alert_json(struct json_writer *jw, const struct fw2_alert *a);
void out_alert_text(FILE *out, const struct fw2_alert *a);
/* The counters every summary carries (kernel side and reader), so trace
 * and watch summaries cannot drift apart. */
void out_counters_json(struct json_writer *jw, const struct fw_run_stats *st);
void out_summary_json(struct json_writer *jw, const struct fw2_tracker *t, __u64 now_ns, int top,
		      const struct fw_run_stats *st, int final);
void out_table_text(FILE *out, const struct fw2_tracker *t, __u64 now_ns, int top,
		    const struct fw_run_stats *st);
/* Log2 lifetime histograms of the top peers, bcc style. */
void out_histograms_text(FILE *out, const struct fw2_tracker *t, int top);

/* One reap attempt. result: "ok", "dry_run", "gone", "stale", "failed"
 * (err: -errno, or 0). */
void out_reaped_json(struct json_writer *jw, const struct fw2_candidate *c, const char *result, int err,
		     __u64 ts_ns);
void out_reaped_text(FILE *out, const struct fw2_candidate *c, const char *result, int err);
/* A periodic full rescan that corrected the tracker. */
void out_reconcile_json(struct json_writer *jw, __u64 found, __u64 missing, __u64 ts_ns);
void out_reconcile_text(FILE *out, __u64 found, __u64 missing);
/* Tracking is live; discovered is left out when t is NULL (trace). */
void out_start_json(struct json_writer *jw, const char *command, const struct fw2_tracker *t,
		    __u64 ts_ns);
/* trace's final summary: the counters only. */
void out_trace_summary_json(struct json_writer *jw, const struct fw_run_stats *st, __u64 ts_ns);
/* How a wrapped command (finwatch -- CMD) ended and what it left behind. */
struct fw_verdict {
	const char *command;        /* argv[0] */
	int pid;
	int exit_code;              /* the shell's view: code, or 128 + signal */
	const char *scope;          /* "cgroup" or "netns" */
	const char *cgroup;         /* its cgroup path, NULL for netns scope */
	__u32 netns;                /* the netns watched, 0 for cgroup scope */
	int processes_left;         /* still running in its cgroup, -1 unknown */
	int leaks_warn;             /* leaks reported, not failing */
	int status;                 /* finwatch's exit status */
};
/* The leak report: the verdict and the peers CMD's leaked sockets go to. */
void out_verdict_json(struct json_writer *jw, const struct fw_verdict *v, const struct fw2_tracker *t,
		      __u64 now_ns);
void out_verdict_text(FILE *out, const struct fw_verdict *v, const struct fw2_tracker *t, __u64 now_ns);
/* FIN_WAIT_2 sockets tracked now, handed-off orphans included: what a
 * wrapped command leaves behind. */
__u32 out_leaked(const struct fw2_tracker *t, __u32 *held, __u32 *orphaned);

/* A runtime error or warning (bpftool's convention in JSON mode). */
void out_error_json(struct json_writer *jw, const char *what, __u64 ts_ns);

#endif
