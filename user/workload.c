// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "workload.h"

static int all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return 0;
	return 1;
}

/* A container id: 64 lower-case hex digits, exactly the span [s, s+n). */
static int take_id(const char *s, size_t n, struct workload *w)
{
	if (n != 64 || !all_hex(s, n))
		return 0;
	memcpy(w->container_id, s, 64);
	w->container_id[64] = '\0';
	return 1;
}

/*
 * A pod UID at s: 36 characters 8-4-4-4-12 of hex, with '-' (cgroupfs
 * driver) or '_' (systemd driver: '-' separates slice levels there).
 * Stored with dashes.
 */
static int take_uid(const char *s, size_t n, struct workload *w)
{
	static const int dash_at[] = { 8, 13, 18, 23 };
	char uid[WL_UID_LEN];

	if (n != 36)
		return 0;
	for (size_t i = 0, d = 0; i < 36; i++) {
		if (d < 4 && (int)i == dash_at[d]) {
			if (s[i] != '-' && s[i] != '_')
				return 0;
			uid[i] = '-';
			d++;
		} else if (isxdigit((unsigned char)s[i]) && !isupper((unsigned char)s[i])) {
			uid[i] = s[i];
		} else {
			return 0;
		}
	}
	uid[36] = '\0';
	memcpy(w->pod_uid, uid, sizeof(uid));
	return 1;
}

static int has_prefix(const char *s, size_t n, const char *p)
{
	size_t pl = strlen(p);

	return n >= pl && !memcmp(s, p, pl);
}

static int has_suffix(const char *s, size_t n, const char *x)
{
	size_t xl = strlen(x);

	return n >= xl && !memcmp(s + n - xl, x, xl);
}

/* Runtime scope names: "<prefix><id>.scope" (systemd) or "<prefix><id>". */
static const struct { const char *prefix, *runtime; } scopes[] = {
	{ "cri-containerd-", "containerd" },
	{ "crio-", "cri-o" },
	{ "docker-", "docker" },
	{ "libpod-", "podman" },
	{ "nerdctl-", "containerd" },
};

/* 1 when c (one path component) named a container or a pod. */
static int component(const char *c, size_t n, int under_kubepods, int under_docker,
		     struct workload *w)
{
	size_t body = n;

	if (has_suffix(c, n, ".scope"))
		body = n - 6;
	for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
		size_t pl = strlen(scopes[i].prefix);

		if (has_prefix(c, body, scopes[i].prefix) && take_id(c + pl, body - pl, w)) {
			snprintf(w->runtime, sizeof(w->runtime), "%s", scopes[i].runtime);
			return 2;
		}
	}
	/* kubepods-pod<uid>.slice, kubepods-burstable-pod<uid>.slice */
	if (has_prefix(c, n, "kubepods-") && has_suffix(c, n, ".slice")) {
		const char *p = memmem(c, n, "pod", 3);

		while (p && !take_uid(p + 3, (size_t)(c + n - 6 - (p + 3)), w))
			p = memmem(p + 1, (size_t)(c + n - (p + 1)), "pod", 3);
		return p ? 1 : 0;
	}
	/* cgroupfs driver: /kubepods/burstable/pod<uid>/<id>, /docker/<id> */
	if (under_kubepods && has_prefix(c, n, "pod") && take_uid(c + 3, n - 3, w))
		return 1;
	if ((under_kubepods || under_docker) && take_id(c, n, w)) {
		if (under_docker && !w->runtime[0])
			snprintf(w->runtime, sizeof(w->runtime), "docker");
		return 2;
	}
	return 0;
}

int workload_from_cgroup_path(const char *path, struct workload *w)
{
	int under_kubepods = 0, under_docker = 0;

	memset(w, 0, sizeof(*w));
	if (!path)
		return -ENOENT;
	for (const char *c = path; *c;) {
		const char *end = strchr(c, '/');
		size_t n = end ? (size_t)(end - c) : strlen(c);

		if (n) {
			if ((n == 8 && !memcmp(c, "kubepods", 8)) || has_prefix(c, n, "kubepods.slice") ||
			    has_prefix(c, n, "kubepods-"))
				under_kubepods = 1;
			if (n == 6 && !memcmp(c, "docker", 6))
				under_docker = 1;
			/* The innermost container wins (a pod's sandbox, nested runtimes). */
			int found = component(c, n, under_kubepods, under_docker, w);

			if (found == 1)
				w->pod_end = (size_t)(c + n - path);
			else if (found == 2)
				w->container_end = (size_t)(c + n - path);
		}
		if (!end)
			break;
		c = end + 1;
	}
	return w->container_id[0] || w->pod_uid[0] ? 0 : -ENOENT;
}

int workload_name_pod(const char *pods_dir, struct workload *w)
{
	struct dirent *d;
	DIR *dir;
	int ret = -ENOENT;

	if (!w->pod_uid[0])
		return -ENOENT;
	dir = opendir(pods_dir);
	if (!dir)
		return -errno;
	while ((d = readdir(dir))) {
		/* <namespace>_<name>_<uid>: neither a namespace nor a pod name
		 * may contain '_', so the split is unambiguous. */
		const char *a = strchr(d->d_name, '_'), *b = a ? strchr(a + 1, '_') : NULL;
		size_t nl, pl;

		if (!b || strcmp(b + 1, w->pod_uid) || strchr(b + 1, '_'))
			continue;
		nl = (size_t)(a - d->d_name);
		pl = (size_t)(b - (a + 1));
		if (!nl || !pl || nl >= WL_NS_LEN || pl >= WL_NAME_LEN)
			continue;
		memcpy(w->pod_namespace, d->d_name, nl);
		w->pod_namespace[nl] = '\0';
		memcpy(w->pod_name, a + 1, pl);
		w->pod_name[pl] = '\0';
		ret = 0;
		break;
	}
	closedir(dir);
	return ret;
}
