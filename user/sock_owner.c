// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sock_owner.h"

static int cmp_ino(const void *a, const void *b)
{
	const struct sock_owner_req *x = a, *y = b;

	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static void read_comm(const char *proc_root, const char *pid, char *comm, size_t len)
{
	char path[300];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s/comm", proc_root, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	comm[0] = '\0';
	if (fd < 0)
		return;
	n = read(fd, comm, len - 1);
	close(fd);
	if (n < 0)
		n = 0;
	comm[n] = '\0';
	if (n && comm[n - 1] == '\n')
		comm[n - 1] = '\0';
}

int sock_owner_resolve(const char *proc_root, struct sock_owner_req *reqs, int n,
		       void (*between)(void *ctx), void *ctx)
{
	unsigned procs = 0;
	char path[300], link[64];
	struct dirent *pe, *fe;
	DIR *pd, *fdd;
	int found = 0;

	if (n <= 0)
		return 0;
	/* Sorted by inode: each fd costs one binary search. */
	qsort(reqs, (size_t)n, sizeof(*reqs), cmp_ino);
	pd = opendir(proc_root);
	if (!pd)
		return -errno;
	while ((pe = readdir(pd)) && found < n) {
		if (!isdigit((unsigned char)pe->d_name[0]))
			continue;
		if (between && ++procs % 64 == 0)
			between(ctx);
		snprintf(path, sizeof(path), "%s/%s/fd", proc_root, pe->d_name);
		fdd = opendir(path);
		if (!fdd)
			continue;   /* exited, or not ours to read */
		while ((fe = readdir(fdd))) {
			struct sock_owner_req key, *hit;
			char fpath[600];
			ssize_t l;
			unsigned long ino;

			if (fe->d_name[0] == '.')
				continue;
			snprintf(fpath, sizeof(fpath), "%s/%s", path, fe->d_name);
			l = readlink(fpath, link, sizeof(link) - 1);
			if (l <= 0)
				continue;
			link[l] = '\0';
			if (sscanf(link, "socket:[%lu]", &ino) != 1)
				continue;
			key.ino = (__u32)ino;
			hit = bsearch(&key, reqs, (size_t)n, sizeof(*reqs), cmp_ino);
			if (!hit)
				continue;
			/* Several requests can share nothing: inodes are unique. */
			if (!hit->pid) {
				hit->pid = (__u32)strtoul(pe->d_name, NULL, 10);
				read_comm(proc_root, pe->d_name, hit->comm, sizeof(hit->comm));
				found++;
			}
		}
		closedir(fdd);
	}
	closedir(pd);
	return found;
}
