// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "netns.h"
#include "grow.h"

static void add_ref(struct netns_set *set, const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return;
	for (int i = 0; i < set->n; i++)
		if (set->refs[i].inum == (__u32)st.st_ino)
			return;
	if (GROW(set->refs, set->n, set->cap, 16))
		return;
	set->refs[set->n].inum = (__u32)st.st_ino;
	snprintf(set->refs[set->n].path, sizeof(set->refs[0].path), "%s", path);
	set->n++;
}

int netns_enumerate(struct netns_set *set)
{
	char path[300];
	struct dirent *de;
	DIR *d;

	set->n = 0;
	add_ref(set, "/proc/self/ns/net");
	d = opendir("/run/netns");
	if (d) {
		while ((de = readdir(d)))
			if (de->d_name[0] != '.') {
				snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
				add_ref(set, path);
			}
		closedir(d);
	}
	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", de->d_name);
		add_ref(set, path);
	}
	closedir(d);
	return 0;
}

void netns_set_free(struct netns_set *set)
{
	free(set->refs);
	set->refs = NULL;
	set->n = set->cap = 0;
}

static int open_checked(const char *path, __u32 inum)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || (__u32)st.st_ino != inum) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

int netns_open(struct netns_set *set, __u32 inum)
{
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < set->n; i++) {
			if (set->refs[i].inum != inum)
				continue;
			int fd = open_checked(set->refs[i].path, inum);

			if (fd >= 0)
				return fd;
		}
		if (pass == 0 && netns_enumerate(set))
			break;
	}
	return -ENOENT;
}

__u32 netns_self(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (__u32)st.st_ino;
}
