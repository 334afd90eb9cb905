/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What the tracker needs to know of the run's configuration (cli.c fills it
 * from fw_config): how sockets are grouped into peers, the alert rules, and
 * whether reaping needs local addresses. Shared enums live here too, so the
 * tracker does not depend on the command line. */
#ifndef FW_FW2_POLICY_H
#define FW_FW2_POLICY_H

#include <linux/types.h>

enum fw_group_by {
	FW_GROUP_ADDR = 0,     /* (netns, remote address) */
	FW_GROUP_ADDR_PORT,    /* (netns, remote address, remote port) */
	FW_GROUP_PREFIX,       /* (netns, remote prefix /group_prefix4|6) */
};

/* --group-by's workload part: peers are also split by the workload that
 * holds the sockets (the socket's cgroup, its container or its pod). */
enum fw_group_workload {
	FW_GROUP_WL_NONE = 0,
	FW_GROUP_WL_CGROUP,
	FW_GROUP_WL_CONTAINER,
	FW_GROUP_WL_POD,
};

/* Which sockets --reap-kind may destroy: a mask. */
enum fw2_kind {
	FW2_KIND_HELD = 1,
	FW2_KIND_ORPHANED = 2,
	FW2_KIND_ALL = FW2_KIND_HELD | FW2_KIND_ORPHANED,
};

struct fw2_policy {
	enum fw_group_by group_by;
	__u8 group_prefix4, group_prefix6;
	__u64 max_age_ns;      /* alert rules; 0 = off */
	__u64 max_per_peer;
	__u64 max_total;
	int keep_laddr;        /* reaping: remember local addresses */
	enum fw_group_workload group_wl;
	/* The workload key of a socket's cgroup id (the container's or the
	 * pod's cgroup id; the app resolves paths); NULL: the cgroup id. */
	__u64 (*wl_key)(void *ctx, __u64 cgroup_id);
	void *wl_ctx;
};

#endif
