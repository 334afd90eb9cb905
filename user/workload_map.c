// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cgroup_index.h"
#include "parse.h"
#include "workload_map.h"

/* New cgroups appear all the time; an unknown id rewalks at most this often. */
#define REWALK_NS NS_PER_SEC
/* Pods whose log directory was missing are looked up again after this. */
#define POD_RETRY_NS (10 * NS_PER_SEC)

struct workload_map {
	struct cgroup_index *ix;
	char *pods_dir;
	enum fw_group_workload group;
	struct wl_view *v;
	size_t n, cap;
	__u64 (*clock)(void);
};

struct workload_map *workload_map_new(const char *cg_mnt, const char *cg_root, const char *pods_dir)
{
	struct workload_map *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->ix = cgroup_index_new(cg_mnt, cg_root);
	m->pods_dir = strdup(pods_dir);
	if (!m->ix || !m->pods_dir) {
		workload_map_free(m);
		return NULL;
	}
	return m;
}

void workload_map_free(struct workload_map *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].cgroup);
	free(m->v);
	free(m->pods_dir);
	cgroup_index_free(m->ix);
	free(m);
}

void workload_map_set_group(struct workload_map *m, enum fw_group_workload g)
{
	m->group = g;
}

/* The id of the first `end` bytes of path (a pod's or container's cgroup). */
static __u64 prefix_id(struct workload_map *m, const char *path, size_t end)
{
	char *p;
	__u64 id;

	if (!end || !(p = strndup(path, end)))
		return 0;
	id = cgroup_index_id(m->ix, p);
	free(p);
	return id;
}

static struct wl_view *find(struct workload_map *m, __u64 id)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].cgroup_id == id)
			return &m->v[i];
	return NULL;
}

const struct wl_view *workload_map_get(struct workload_map *m, __u64 id, __u64 now_ns)
{
	struct wl_view *v;
	const char *path;

	if (!m || !id)
		return NULL;
	v = find(m, id);
	if (v)
		return v;
	path = cgroup_index_path(m->ix, id, now_ns, REWALK_NS);
	if (!path)
		return NULL;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct wl_view *nv = realloc(m->v, cap * sizeof(*nv));

		if (!nv)
			return NULL;
		m->v = nv;
		m->cap = cap;
	}
	v = &m->v[m->n];
	memset(v, 0, sizeof(*v));
	v->cgroup_id = id;
	v->cgroup = strdup(path);
	if (!v->cgroup)
		return NULL;
	m->n++;
	if (!workload_from_cgroup_path(path, &v->w)) {
		v->container_cg = prefix_id(m, path, v->w.container_end);
		v->pod_cg = prefix_id(m, path, v->w.pod_end);
		workload_name_pod(m->pods_dir, &v->w);
	}
	return v;
}

__u64 workload_map_key(void *ctx, __u64 cgroup_id)
{
	struct workload_map *m = ctx;
	const struct wl_view *v = workload_map_get(m, cgroup_id, m->clock ? m->clock() : 0);

	if (!v)
		return cgroup_id;
	if (m->group == FW_GROUP_WL_POD && v->pod_cg)
		return v->pod_cg;
	if ((m->group == FW_GROUP_WL_POD || m->group == FW_GROUP_WL_CONTAINER) && v->container_cg)
		return v->container_cg;
	return cgroup_id;
}

int workload_map_under(struct workload_map *m, __u64 id, const char *path, __u64 now_ns)
{
	return cgroup_index_under(m->ix, id, path, now_ns, REWALK_NS);
}

/* ---- what records print ---- */

static struct workload_map *registered;

void wl_register(struct workload_map *m, __u64 (*clock)(void))
{
	registered = m;
	if (m)
		m->clock = clock;
}

int wl_active(void)
{
	return registered != NULL;
}

const struct wl_view *wl_view_of(__u64 id)
{
	return registered ? workload_map_get(registered, id, registered->clock ? registered->clock() : 0)
			  : NULL;
}

static void str_or_null(struct json_writer *jw, const char *name, const char *s)
{
	if (s && s[0])
		jw_string_field(jw, name, s);
	else
		jw_null_field(jw, name);
}

void wl_json_field(struct json_writer *jw, const char *name, __u64 cgroup_id)
{
	const struct wl_view *v;

	if (!registered)
		return;
	v = wl_view_of(cgroup_id);
	if (!v) {
		jw_null_field(jw, name);
		return;
	}
	jw_name(jw, name);
	jw_start_object(jw);
	jw_string_field(jw, "cgroup", v->cgroup);
	str_or_null(jw, "runtime", v->w.runtime);
	str_or_null(jw, "container_id", v->w.container_id);
	str_or_null(jw, "pod_uid", v->w.pod_uid);
	str_or_null(jw, "pod", v->w.pod_name);
	str_or_null(jw, "pod_namespace", v->w.pod_namespace);
	jw_end_object(jw);
}

const char *wl_text_label(__u64 cgroup_id, char *buf, size_t len)
{
	const struct wl_view *v = wl_view_of(cgroup_id);

	if (!v)
		snprintf(buf, len, "%s", "");
	else if (v->w.pod_name[0])
		snprintf(buf, len, "%s/%s", v->w.pod_namespace, v->w.pod_name);
	else if (v->w.pod_uid[0])
		snprintf(buf, len, "pod:%s", v->w.pod_uid);
	else if (v->w.container_id[0])
		snprintf(buf, len, "container:%.12s", v->w.container_id);
	else
		snprintf(buf, len, "%s", v->cgroup);
	return buf;
}
