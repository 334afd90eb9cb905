/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * --netns and --cgroup: which sockets this run is about. The same test
 * applies to events, scan records, alerts and reaping (what is out of
 * scope is never tracked). Network namespaces are also filtered in the
 * kernel (rodata); cgroups here, by subtree. Kernel-free.
 */
#ifndef FW_SCOPE_H
#define FW_SCOPE_H

#include <stddef.h>
#include <linux/types.h>
#include "finwatch.h"
#include "workload_map.h"

struct fw_scope {
	__u32 netns[FW_MAX_NETNS];
	int n_netns;                 /* 0: every namespace */
	char cgroup[512];            /* subtree, relative to the cgroup2 root; "" = any */
	struct workload_map *map;    /* resolves cgroup ids (needed with a cgroup) */
};

/*
 * One --netns item to its inode: digits (an inode), "self", a path
 * (/proc/PID/ns/net, /run/netns/NAME) or a NAME under /run/netns. 0 or
 * -errno (-ENOENT: no such namespace file, -EINVAL: not a namespace).
 */
int scope_netns_arg(const char *arg, size_t arg_len, __u32 *inum);

/* 1 when netns is in scope. */
int scope_netns(const struct fw_scope *s, __u32 netns);

/*
 * 1 when a socket of netns and cgroup_id is in scope. A timewait socket
 * has no cgroup (0): in scope only when already tracked (its full socket
 * was), so pass tracked for those.
 */
int scope_socket(const struct fw_scope *s, __u32 netns, __u64 cgroup_id, int tracked, __u64 now_ns);

#endif
