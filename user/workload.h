/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Which workload a socket belongs to, from its cgroup v2: the container id
 * and pod UID that container runtimes write into cgroup names (systemd and
 * cgroupfs drivers of containerd, CRI-O, Docker, podman), and the pod's
 * name and Kubernetes namespace from the node's /var/log/pods directories
 * (what log collectors read; no API server). Kernel-free: it reads paths
 * and directories only, so tests drive it with a fake tree.
 */
#ifndef FW_WORKLOAD_H
#define FW_WORKLOAD_H

#include <stddef.h>
#include <linux/types.h>

#define WL_ID_LEN 65           /* 64 hex digits + NUL */
#define WL_UID_LEN 37          /* 8-4-4-4-12 + NUL */
#define WL_NAME_LEN 254        /* a DNS subdomain + NUL */
#define WL_NS_LEN 64           /* a DNS label + NUL */

struct workload {
	char runtime[16];          /* "containerd", "cri-o", "docker", "podman", "" */
	char container_id[WL_ID_LEN];
	char pod_uid[WL_UID_LEN];  /* with dashes, as Kubernetes writes it */
	char pod_name[WL_NAME_LEN];
	char pod_namespace[WL_NS_LEN];
	/* Where in the path the pod's and the container's cgroups end (0:
	 * none): their own ids, for grouping by pod or container. */
	size_t pod_end, container_end;
};

/*
 * Fills what the cgroup path (relative to the cgroup2 root, e.g.
 * "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<UID>.slice/
 * cri-containerd-<ID>.scope") tells: runtime, container id, pod UID.
 * 0 when it found a container or a pod, -ENOENT otherwise (w is cleared).
 */
int workload_from_cgroup_path(const char *path, struct workload *w);

/*
 * Names w's pod from <pods_dir>/<namespace>_<name>_<uid>/ (pods_dir is
 * normally /var/log/pods). 0, -ENOENT (no such pod there, or w has no pod
 * UID), or another -errno from reading the directory.
 */
int workload_name_pod(const char *pods_dir, struct workload *w);

#endif
