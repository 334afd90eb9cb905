/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The workload of a cgroup id, cached: its path (cgroup_index), what the
 * path says (workload.c: container, pod UID) and the pod's name
 * (/var/log/pods). Records call wl_json_field()/wl_text_label() with the
 * cgroup id the tracker kept; until a map is registered (trace mode, unit
 * tests, no cgroup2 mount) they print nothing, so those outputs do not
 * change. Kernel-free: paths and directories only.
 */
#ifndef FW_WORKLOAD_MAP_H
#define FW_WORKLOAD_MAP_H

#include <stddef.h>
#include <linux/types.h>
#include "fw2_policy.h"
#include "json_writer.h"
#include "workload.h"

struct wl_view {
	__u64 cgroup_id;
	char *cgroup;           /* path, NULL while unknown */
	struct workload w;
	__u64 container_cg, pod_cg;   /* their cgroup ids, 0 if none */
};

struct workload_map;

/* cgroup2 mount point and its root in the hierarchy (cgroup2_find_mount),
 * and the pods log directory (normally /var/log/pods). NULL on ENOMEM. */
struct workload_map *workload_map_new(const char *cg_mnt, const char *cg_root, const char *pods_dir);
void workload_map_free(struct workload_map *m);

/* The view of cgroup id at now_ns (a miss may rewalk the tree, at most
 * once a second); NULL for id 0 or an id no walk found. */
const struct wl_view *workload_map_get(struct workload_map *m, __u64 id, __u64 now_ns);

/* --group-by's workload key of cgroup id: the id itself, its container's
 * or its pod's cgroup id (the cgroup id when it has none). A
 * fw2_policy.wl_key; ctx is the map. */
__u64 workload_map_key(void *ctx, __u64 cgroup_id);
void workload_map_set_group(struct workload_map *m, enum fw_group_workload g);

/* 1 if cgroup id is path's cgroup or below it. */
int workload_map_under(struct workload_map *m, __u64 id, const char *path, __u64 now_ns);

/* The map records use (NULL: none); now_ns for lookups comes from clock. */
void wl_register(struct workload_map *m, __u64 (*clock)(void));

/* "name": {"cgroup","runtime","container_id","pod_uid","pod","pod_namespace"},
 * null for an unknown cgroup; nothing at all without a registered map. */
void wl_json_field(struct json_writer *jw, const char *name, __u64 cgroup_id);
/* "shop/frontend-7f9c", "pod:<uid>", "container:3f2a9c1b7d4e", the cgroup path, or ""
 * (unknown, or no map). Returns buf. */
const char *wl_text_label(__u64 cgroup_id, char *buf, size_t len);
/* The registered map's view of cgroup id (NULL: none, unknown, or no map);
 * valid until the next lookup. */
const struct wl_view *wl_view_of(__u64 cgroup_id);
/* 1 when a map is registered (records then carry workloads). */
int wl_active(void);

#endif
