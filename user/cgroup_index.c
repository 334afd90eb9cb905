// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "cgroup_index.h"

struct cg_entry {
	__u64 id;
	char *path;
};

struct cgroup_index {
	char *mnt, *root;
	struct cg_entry *e;
	size_t n, cap;
	__u64 last_walk_ns;
	int walked;
};

/* mountinfo fields: id parent major:minor root mountpoint opts... - fstype src superopts.
 * Octal escapes (\040) in paths are decoded. */
static void unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

int cgroup2_find_mount(const char *mountinfo, char *mnt, size_t mnt_len, char *root, size_t root_len)
{
	char line[4096];
	FILE *f = fopen(mountinfo, "re");
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *fields[6], *save = NULL, *sep = strstr(line, " - ");
		int n = 0;

		if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
			continue;
		*sep = '\0';
		for (char *t = strtok_r(line, " ", &save); t && n < 6; t = strtok_r(NULL, " ", &save))
			fields[n++] = t;
		if (n < 5)
			continue;
		unescape(fields[3]);
		unescape(fields[4]);
		if (strlen(fields[4]) >= mnt_len || strlen(fields[3]) >= root_len) {
			ret = -ENAMETOOLONG;
			continue;
		}
		strcpy(mnt, fields[4]);
		strcpy(root, fields[3]);
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

struct cgroup_index *cgroup_index_new(const char *mnt, const char *root)
{
	struct cgroup_index *ix = calloc(1, sizeof(*ix));

	if (!ix)
		return NULL;
	ix->mnt = strdup(mnt);
	/* "/" adds nothing in front of the relative paths. */
	ix->root = strdup(strcmp(root, "/") ? root : "");
	if (!ix->mnt || !ix->root) {
		cgroup_index_free(ix);
		return NULL;
	}
	return ix;
}

static void clear(struct cgroup_index *ix)
{
	for (size_t i = 0; i < ix->n; i++)
		free(ix->e[i].path);
	ix->n = 0;
}

void cgroup_index_free(struct cgroup_index *ix)
{
	if (!ix)
		return;
	clear(ix);
	free(ix->e);
	free(ix->mnt);
	free(ix->root);
	free(ix);
}

static int add(struct cgroup_index *ix, __u64 id, const char *rel)
{
	char *p;

	if (ix->n == ix->cap) {
		size_t cap = ix->cap ? ix->cap * 2 : 256;
		struct cg_entry *e = realloc(ix->e, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		ix->e = e;
		ix->cap = cap;
	}
	if (asprintf(&p, "%s%s", ix->root, *rel ? rel : (*ix->root ? "" : "/")) < 0)
		return -ENOMEM;
	ix->e[ix->n++] = (struct cg_entry){ .id = id, .path = p };
	return 0;
}

/* Depth-first under dfd; rel is the path so far ("" for the root). */
static int walk(struct cgroup_index *ix, int dfd, char *rel, size_t rel_len, size_t cap, int depth)
{
	struct dirent *d;
	DIR *dir;
	struct stat st;

	int err = fstat(dfd, &st) ? -errno : add(ix, (__u64)st.st_ino, rel);

	if (err) {
		close(dfd);
		return err;
	}
	/* Bounded: systemd nests a dozen levels at most. */
	if (depth >= 32 || !(dir = fdopendir(dfd))) {
		close(dfd);
		return 0;
	}
	while ((d = readdir(dir))) {
		size_t nl = strlen(d->d_name);
		int fd;

		if (d->d_type != DT_DIR || !strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		if (rel_len + 1 + nl + 1 > cap)
			continue;
		fd = openat(dirfd(dir), d->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;       /* gone meanwhile */
		rel[rel_len] = '/';
		memcpy(rel + rel_len + 1, d->d_name, nl + 1);
		if (walk(ix, fd, rel, rel_len + 1 + nl, cap, depth + 1) == -ENOMEM) {
			closedir(dir);
			return -ENOMEM;
		}
		rel[rel_len] = '\0';
	}
	closedir(dir);
	return 0;
}

static int by_id(const void *a, const void *b)
{
	const struct cg_entry *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

int cgroup_index_rewalk(struct cgroup_index *ix)
{
	char rel[4096] = "";
	int fd, err;

	clear(ix);
	ix->walked = 1;
	fd = open(ix->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = walk(ix, fd, rel, 0, sizeof(rel), 0);
	/* Looked up per socket: sorted once per walk. */
	qsort(ix->e, ix->n, sizeof(*ix->e), by_id);
	return err ? err : (int)ix->n;
}

static const char *find(const struct cgroup_index *ix, __u64 id)
{
	struct cg_entry key = { .id = id };
	const struct cg_entry *e = ix->n ? bsearch(&key, ix->e, ix->n, sizeof(key), by_id) : NULL;

	return e ? e->path : NULL;
}

const char *cgroup_index_path(struct cgroup_index *ix, __u64 id, __u64 now_ns, __u64 min_rewalk_ns)
{
	const char *p = id ? find(ix, id) : NULL;

	if (p || !id)
		return p;
	if (ix->walked && now_ns - ix->last_walk_ns < min_rewalk_ns)
		return NULL;
	ix->last_walk_ns = now_ns;
	cgroup_index_rewalk(ix);
	return find(ix, id);
}

__u64 cgroup_index_id(const struct cgroup_index *ix, const char *path)
{
	for (size_t i = 0; i < ix->n; i++)
		if (!strcmp(ix->e[i].path, path))
			return ix->e[i].id;
	return 0;
}

int cgroup_index_under(struct cgroup_index *ix, __u64 id, const char *path, __u64 now_ns,
		       __u64 min_rewalk_ns)
{
	const char *p = cgroup_index_path(ix, id, now_ns, min_rewalk_ns);
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	if (!p)
		return 0;
	if (n == 1 && path[0] == '/')
		return 1;
	return !strncmp(p, path, n) && (p[n] == '\0' || p[n] == '/');
}
