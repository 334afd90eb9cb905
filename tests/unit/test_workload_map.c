// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Cgroup ids to workloads over a fake cgroup tree and pods directory (ids
 * are directory inode numbers, as on cgroup2), the grouping keys, what
 * records print, and the --netns/--cgroup scope. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "scope.h"
#include "trace_fmt.h"
#include "workload_map.h"

#define S 1000000000ULL
#define UID "6b1f0e2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
#define ID "3f2a9c1b7d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5061728394a5b6c7d8e"
#define POD "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod6b1f0e2a_3c4d_4e5f_8a9b_0c1d2e3f4a5b.slice"
#define CTR POD "/cri-containerd-" ID ".scope"

static char tree[] = "/tmp/fwwl.XXXXXX";
static char cg[600], pods[600];

static __u64 ino(const char *rel)
{
	char p[900];
	struct stat st;

	snprintf(p, sizeof(p), "%s%s", cg, rel);
	assert_int_equal(stat(p, &st), 0);
	return st.st_ino;
}

static void mk(const char *base, const char *rel)
{
	char p[900];

	snprintf(p, sizeof(p), "%s%s", base, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static __u64 clock_at_1s(void)
{
	return S;
}

static int setup(void **state)
{
	if (!mkdtemp(tree))
		return -1;
	snprintf(cg, sizeof(cg), "%s/cg", tree);
	snprintf(pods, sizeof(pods), "%s/pods", tree);
	mk(cg, "");
	mk(pods, "");
	mk(cg, "/kubepods.slice");
	mk(cg, "/kubepods.slice/kubepods-burstable.slice");
	mk(cg, POD);
	mk(cg, CTR);
	mk(cg, "/system.slice");
	mk(pods, "/shop_frontend-7f9c_" UID);
	return 0;
}

static int teardown(void **state)
{
	char cmd[700];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tree);
	return system(cmd);
}

static void test_views_and_keys(void **state)
{
	struct workload_map *m = workload_map_new(cg, "/", pods);
	const struct wl_view *v;

	assert_non_null(m);
	v = workload_map_get(m, ino(CTR), S);
	assert_non_null(v);
	assert_string_equal(v->cgroup, CTR);
	assert_string_equal(v->w.container_id, ID);
	assert_string_equal(v->w.pod_name, "frontend-7f9c");
	assert_string_equal(v->w.pod_namespace, "shop");
	assert_int_equal(v->container_cg, ino(CTR));
	assert_int_equal(v->pod_cg, ino(POD));
	assert_null(workload_map_get(m, 0, S));
	assert_null(workload_map_get(m, 987654321, 3 * S));
	/* Grouping keys: the container's, the pod's, or the cgroup itself. */
	workload_map_set_group(m, FW_GROUP_WL_POD);
	assert_int_equal(workload_map_key(m, ino(CTR)), ino(POD));
	workload_map_set_group(m, FW_GROUP_WL_CONTAINER);
	assert_int_equal(workload_map_key(m, ino(CTR)), ino(CTR));
	workload_map_set_group(m, FW_GROUP_WL_CGROUP);
	assert_int_equal(workload_map_key(m, ino(CTR)), ino(CTR));
	workload_map_set_group(m, FW_GROUP_WL_POD);
	assert_int_equal(workload_map_key(m, ino("/system.slice")), ino("/system.slice"));
	assert_int_equal(workload_map_key(m, 987654321), 987654321);   /* unknown: itself */
	assert_true(workload_map_under(m, ino(CTR), "/kubepods.slice", S));
	assert_false(workload_map_under(m, ino(CTR), "/system.slice", S));
	workload_map_free(m);
}

static void test_what_records_print(void **state)
{
	struct workload_map *m = workload_map_new(cg, "/", pods);
	struct json_writer jw;
	char *buf = NULL, label[300];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	/* No map: records print nothing and labels are empty. */
	json_record_setup("h", 0);
	jw_init(&jw, f);
	jw_start_object(&jw);
	wl_json_field(&jw, "workload", ino(CTR));
	jw_end_object(&jw);
	jw_flush(&jw);
	fflush(f);
	assert_string_equal(buf, "{}");
	assert_false(wl_active());
	assert_string_equal(wl_text_label(ino(CTR), label, sizeof(label)), "");

	wl_register(m, clock_at_1s);
	rewind(f);
	jw_init(&jw, f);
	jw_start_object(&jw);
	wl_json_field(&jw, "workload", ino(CTR));
	wl_json_field(&jw, "none", 0);
	jw_end_object(&jw);
	jw_flush(&jw);
	fputc('\0', f);
	fflush(f);
	assert_string_equal(buf, "{\"workload\":{\"cgroup\":\"" CTR "\",\"runtime\":\"containerd\",\"container_id\":\""
			    ID "\",\"pod_uid\":\"" UID "\",\"pod\":\"frontend-7f9c\",\"pod_namespace\":\"shop\"},"
			    "\"none\":null}");
	assert_string_equal(wl_text_label(ino(CTR), label, sizeof(label)), "shop/frontend-7f9c");
	assert_string_equal(wl_text_label(ino("/system.slice"), label, sizeof(label)), "/system.slice");
	assert_string_equal(wl_view_of(ino(POD))->w.pod_uid, UID);
	wl_register(NULL, NULL);
	fclose(f);
	free(buf);
	workload_map_free(m);
}

static void test_scope(void **state)
{
	struct fw_scope s = { .n_netns = 2, .netns = { 11, 22 } };
	struct workload_map *m = workload_map_new(cg, "/", pods);
	__u32 inum;
	struct stat st;

	assert_true(scope_netns(&s, 22));
	assert_false(scope_netns(&s, 33));
	assert_true(scope_socket(&s, 11, 0, 0, S));         /* no cgroup scope */
	assert_false(scope_socket(&s, 33, ino(CTR), 1, S));
	s.n_netns = 0;
	snprintf(s.cgroup, sizeof(s.cgroup), "%s", POD);
	s.map = m;
	assert_true(scope_socket(&s, 5, ino(CTR), 0, S));
	assert_false(scope_socket(&s, 5, ino("/system.slice"), 0, S));
	/* A timewait socket has no cgroup: in scope only if already tracked. */
	assert_true(scope_socket(&s, 5, 0, 1, S));
	assert_false(scope_socket(&s, 5, 0, 0, S));
	/* --netns items. */
	assert_int_equal(scope_netns_arg("4026531840", 10, &inum), 0);
	assert_int_equal(inum, 4026531840u);
	assert_int_equal(scope_netns_arg("self", 4, &inum), 0);
	assert_int_equal(stat("/proc/self/ns/net", &st), 0);
	assert_int_equal(inum, st.st_ino);
	assert_int_equal(scope_netns_arg("/proc/self/ns/net,other", 17, &inum), 0);   /* length-bounded */
	assert_int_equal(inum, st.st_ino);
	assert_int_equal(scope_netns_arg("no-such-netns-fw", 16, &inum), -ENOENT);
	assert_int_equal(scope_netns_arg("0", 1, &inum), -EINVAL);
	assert_int_equal(scope_netns_arg("/tmp", 4, &inum), -EINVAL);       /* a directory */
	assert_int_equal(scope_netns_arg("a/b", 3, &inum), -EINVAL);
	assert_int_equal(scope_netns_arg("..", 2, &inum), -EINVAL);
	assert_int_equal(scope_netns_arg("", 0, &inum), -EINVAL);
	workload_map_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_views_and_keys),
		cmocka_unit_test(test_what_records_print),
		cmocka_unit_test(test_scope),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
