/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* iter/tcp scans of one network namespace at a time. */
#ifndef FW_SCAN_H
#define FW_SCAN_H

#include <linux/types.h>
#include "finwatch.h"
#include "netns.h"

struct bpf_program;
struct bpf_link;

struct fw_scanner {
	struct bpf_link *link;
	struct bpf_link *owners_link;   /* iter/task_file; NULL: walk /proc instead */
	int self_fd;            /* our own netns, to return to */
	__u32 self_inum;
	struct netns_set nsset;
	__u64 records, malformed, scans, scan_ns_total;
	__u64 scan_cpu_ns_total;  /* this thread's CPU in walks, drains excluded */
	char *buf;
	size_t buf_len;
	/* Called between chunks of a long walk, so the caller can drain its
	 * ring buffer: a scan of 100k sockets must not let events overflow. */
	void (*between)(void *ctx);
	void *between_ctx;
};

typedef void (*scan_rec_fn)(void *ctx, const struct fw_scan_rec *r);

/* owners_prog may be NULL or fail to attach: holders then come from /proc. */
int scanner_init(struct fw_scanner *sc, struct bpf_program *iter_prog,
		 struct bpf_program *owners_prog);
void scanner_free(struct fw_scanner *sc);

/*
 * Walks netns inum (entering it with setns when it is not ours) and calls
 * fn for each record. *fin_timeout_s gets the netns's tcp_fin_timeout (-1
 * if unreadable). Returns 0, -ENOENT when the namespace no longer exists,
 * or another -errno (then the caller should say what to do).
 */
int scanner_scan(struct fw_scanner *sc, __u32 inum, scan_rec_fn fn, void *ctx, int *fin_timeout_s);

typedef void (*owner_rec_fn)(void *ctx, const struct fw_owner_rec *r);

/*
 * One kernel walk of every process's open files, calling fn for each
 * FIN_WAIT2 TCP socket with its holder. -EOPNOTSUPP without owners_link;
 * after a failed walk owners_link is gone (callers then use /proc).
 */
int scanner_owners(struct fw_scanner *sc, owner_rec_fn fn, void *ctx);

/* Runs fn(ctx) with the calling thread in network namespace inum and
 * returns its result; sockets fn creates belong to that namespace.
 * -ENOENT if the namespace is gone. */
int scanner_in_netns(struct fw_scanner *sc, __u32 inum, int (*fn)(void *ctx), void *ctx);

#endif
