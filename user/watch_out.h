/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Watch-mode output: exits, alerts, periodic summaries and histograms, as
 * text for a terminal or JSON Lines (docs/JSON.md). */
#ifndef FW_WATCH_OUT_H
#define FW_WATCH_OUT_H

#include <stdio.h>
#include "fw2_tracker.h"
#include "json_writer.h"

/* Counters that do not come from the tracker. */
struct fw_run_stats {
	__u64 transitions;       /* transitions that passed the in-kernel filters */
	__u64 events;            /* records the BPF side submitted */
	__u64 received;          /* records user space decoded */
	__u64 lost;              /* ring buffer full */
	__u64 recursion_misses;  /* runs the kernel skipped (main copy) */
	__u64 recursion_misses_backup; /* ... (second copy); lost only if both skip */
	__u64 storage_failures;
	__u64 handoff_map_full;  /* timewait phases not followed: map full */
	__u64 malformed;
	__u64 print_errors;      /* lines stdout did not take */
	__u64 scans;
	__u64 scan_ms;
	/* What finwatch itself costs, for the SRE who runs it: CPU of the
	 * whole process (user + system, the kernel's socket walks for its
	 * scans included), the part spent in scans, and resident memory. */
	__u64 cpu_ns;
	__u64 scan_cpu_ns;
	__u64 rss_bytes;
};

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

#endif
