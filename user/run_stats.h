/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef FW_RUN_STATS_H
#define FW_RUN_STATS_H

#include <linux/types.h>

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
	__u64 closer_misses;     /* watch: FIN_WAIT2 entries without their closing process */
	__u64 age_misses;        /* trace: transitions without the time in the old state */
	__u64 handled_overwrites; /* upper bound on transitions reported by both copies */
	__u64 malformed;         /* records that failed validation: events and scan records */
	__u64 print_errors;      /* lines stdout did not take */
	__u64 scans;
	/* What finwatch itself costs, for the SRE who runs it: CPU of the
	 * whole process (user + system, the kernel's socket walks for its
	 * scans included), the part spent in scans, and resident memory. */
	__u64 cpu_ns;
	__u64 scan_cpu_ns;
	__u64 rss_bytes;
};

#endif
