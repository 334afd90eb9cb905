// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "parse.h"
#include "scope.h"


int scope_netns_arg(const char *arg, size_t n, __u32 *inum)
{
	char path[300], item[256];
	struct stat st;
	uint64_t v;

	if (!n || n >= sizeof(item))
		return -EINVAL;
	memcpy(item, arg, n);
	item[n] = '\0';
	if (!parse_u64(item, UINT32_MAX, &v)) {
		if (!v)
			return -EINVAL;
		*inum = (__u32)v;
		return 0;
	}
	if (!strcmp(item, "self"))
		snprintf(path, sizeof(path), "/proc/self/ns/net");
	else if (item[0] == '/')
		snprintf(path, sizeof(path), "%s", item);
	else if (!strchr(item, '/') && strcmp(item, ".") && strcmp(item, ".."))
		snprintf(path, sizeof(path), "/run/netns/%s", item);
	else
		return -EINVAL;
	if (stat(path, &st))
		return -errno;
	/* A namespace file is neither a directory nor a regular file with
	 * data; a directory here is a typo for a path. */
	if (S_ISDIR(st.st_mode))
		return -EINVAL;
	*inum = (__u32)st.st_ino;
	return 0;
}

int scope_netns(const struct fw_scope *s, __u32 netns)
{
	if (!s->n_netns)
		return 1;
	for (int i = 0; i < s->n_netns; i++)
		if (s->netns[i] == netns)
			return 1;
	return 0;
}

int scope_socket(const struct fw_scope *s, __u32 netns, __u64 cgroup_id, int tracked, __u64 now_ns)
{
	if (!scope_netns(s, netns))
		return 0;
	if (!s->cgroup[0])
		return 1;
	if (!cgroup_id)
		return tracked;
	return s->map && workload_map_under(s->map, cgroup_id, s->cgroup, now_ns);
}
