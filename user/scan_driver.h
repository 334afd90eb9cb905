/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The follow-up scan driver: which network namespaces to walk when, and
 * what to do with what a walk reports (discovery, timewait follow-ups,
 * reconciliation, holders of held sockets). Kernel-free: the walks
 * themselves come through struct scan_ops (iter/tcp in finwatch.c, a fake
 * in tests/unit/test_scan_driver.c).
 */
#ifndef FW_SCAN_DRIVER_H
#define FW_SCAN_DRIVER_H

#include <linux/types.h>
#include "cli.h"
#include "fw2_tracker.h"
#include "scan.h"
#include "sock_owner.h"

/* Follow-up scans at most this many --scan-interval apart (8 s by default). */
#define SCAN_FOLLOW_MAX_INTERVALS 16
#define SCAN_MAX_PENDING_NS 64

struct scan_ops {
	/* Walks netns inum calling fn per record; TIME_WAIT sockets whose timer
	 * expires before tw_cutoff_expiry (jiffies, 0 = none) may be skipped.
	 * *fin_timeout_s: the netns's tcp_fin_timeout or -1. 0, -ENOENT when
	 * the namespace is gone, or another -errno. */
	int (*scan)(void *ctx, __u32 inum, __u64 tw_cutoff_expiry, scan_rec_fn fn, void *fn_ctx,
		    int *fin_timeout_s);
	/* Every network namespace now, in a malloc'd array; n or -errno. */
	int (*netns_list)(void *ctx, __u32 **inums);
	/* 1 while a kernel walk of processes' files can name holders. */
	int (*kernel_owners)(void *ctx);
	/* That walk: fn per FIN_WAIT2 socket with its holder. */
	int (*owners)(void *ctx, owner_rec_fn fn, void *fn_ctx);
	/* Otherwise: holders of the listed sockets from /proc (see
	 * sock_owner_resolve); how many were found. */
	int (*owners_proc)(void *ctx, struct sock_owner_req *reqs, int n);
	/* Applies queued events (before and after a walk). */
	void (*drain)(void *ctx);
	/* NULL, or 0 for a record outside --netns/--cgroup (never tracked). */
	int (*in_scope)(void *ctx, const struct fw_scan_rec *r);
	/* Monotonic clock, and the CPU the walks used so far (for pacing). */
	__u64 (*now)(void *ctx);
	__u64 (*scan_cpu_ns)(void *ctx);
	/* 1 once the run is ending: stop between namespaces. */
	int (*stopping)(void *ctx);
	/* A walk failed: said once per run. */
	void (*warn)(void *ctx, const char *msg);
};

struct scan_driver {
	const struct scan_ops *ops;
	void *ctx;
	struct fw2_tracker *t;
	const struct fw_config *cfg;   /* filters for records the kernel did not filter */
	__u32 hz;                      /* the kernel's HZ, 0 until a scan tells */
	int error_reported;
	int owners_wanted;             /* a scan found held sockets without a process */
	struct sock_owner_req *owners; /* ... listed for the /proc walk (no kernel walk) */
	int n_owners, cap_owners;
	__u64 next_follow;
};

void scan_driver_init(struct scan_driver *d, const struct scan_ops *ops, void *ctx,
		      struct fw2_tracker *t, const struct fw_config *cfg);
void scan_driver_free(struct scan_driver *d);

/* One walk of netns inum: full (discovery, reconciliation) or a follow-up. */
void scan_driver_netns(struct scan_driver *d, __u32 inum, int full);
/* A full walk of every namespace, then the holders it found. */
void scan_driver_all(struct scan_driver *d);
/* A full walk that corrects the tracker; *found sockets no event announced
 * and *missing tracked ones already gone. 1 if either is non-zero. */
int scan_driver_reconcile(struct scan_driver *d, __u64 *found, __u64 *missing);
/* First follow-up one --scan-interval after now. */
void scan_driver_arm(struct scan_driver *d, __u64 now_ns);
/* Follow-ups of the namespaces with handed-off orphans, when due; spaced
 * out so they stay under 1% of a CPU, never SCAN_FOLLOW_MAX_INTERVALS apart. */
void scan_driver_follow(struct scan_driver *d, __u64 now_ns);

#endif
