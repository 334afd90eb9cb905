/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Prometheus text exposition (format 0.0.4) of the tracker's state. Kernel-
 * and network-free: the HTTP server and the textfile writer serve what this
 * renders. */
#ifndef FW_METRICS_H
#define FW_METRICS_H

#include <stddef.h>
#include "fw2_tracker.h"
#include "run_stats.h"
#include "strbuf.h"

/* Renders every finwatch_* metric; top_k peers by count keep their own
 * series and the rest fold into peer="other". wl_labels (FW_ML_* of
 * --metrics-labels) adds the peer group's pod, namespace and container
 * (from workload_map) to per-peer series. Returns 0 or -ENOMEM. */
int metrics_render(struct strbuf *sb, const struct fw2_tracker *t, const struct fw_run_stats *st,
		   int top_k, __u64 now_ns, __u64 reaped_ok, __u64 reaped_failed, int wl_labels);

/* Writes the text to path atomically (temp file in the same directory,
 * fsync, rename, mode 0644). 0 or -errno. */
int metrics_write_file(const char *path, const struct strbuf *sb);

#endif
