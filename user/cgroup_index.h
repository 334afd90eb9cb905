/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Cgroup v2 ids (what BPF reports: the kernfs node id, which is the
 * cgroup directory's inode number) to paths, by walking the cgroup2 mount.
 * Works on pure v2 and hybrid hosts (v2 at /sys/fs/cgroup/unified) and in
 * a container that mounts the host's hierarchy. Kernel-free: the walk is
 * a directory walk, so tests drive it with a fake tree.
 */
#ifndef FW_CGROUP_INDEX_H
#define FW_CGROUP_INDEX_H

#include <stddef.h>
#include <linux/types.h>

/*
 * Finds the cgroup2 mount in a mountinfo file (normally
 * /proc/self/mountinfo): its mount point in mnt and, in root, the path of
 * that mount's root inside the hierarchy ("/" unless a cgroup namespace or
 * a bind mount shows a subtree). 0, -ENOENT (none), or -errno.
 */
int cgroup2_find_mount(const char *mountinfo, char *mnt, size_t mnt_len, char *root, size_t root_len);

struct cgroup_index;

/* An index of the tree at mnt (paths reported as root + relative path).
 * NULL on allocation failure. Nothing is read until a lookup. */
struct cgroup_index *cgroup_index_new(const char *mnt, const char *root);
void cgroup_index_free(struct cgroup_index *ix);

/*
 * The path of cgroup id ("/kubepods.slice/..."), or NULL when not found.
 * A miss rewalks the tree, at most once per min_rewalk_ns of now_ns (new
 * cgroups appear all the time; a vanished one stays unknown).
 */
const char *cgroup_index_path(struct cgroup_index *ix, __u64 id, __u64 now_ns, __u64 min_rewalk_ns);

/* The id of a path under the mount (e.g. to scope --cgroup), 0 if none. */
__u64 cgroup_index_id(const struct cgroup_index *ix, const char *path);

/* 1 when cgroup id is path_id's cgroup or below it (after a lookup). */
int cgroup_index_under(struct cgroup_index *ix, __u64 id, const char *path, __u64 now_ns,
		       __u64 min_rewalk_ns);

/* Walks now; returns the number of cgroups indexed or -errno. */
int cgroup_index_rewalk(struct cgroup_index *ix);

#endif
