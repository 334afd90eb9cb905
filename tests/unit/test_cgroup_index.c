// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Cgroup ids to paths over a fake tree (ids are inode numbers, as on
 * cgroup2), and finding the cgroup2 mount in mountinfo. */
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
#include "cgroup_index.h"

#define S 1000000000ULL
static char tree[] = "/tmp/fwcg.XXXXXX";

static __u64 ino(const char *rel)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s%s", tree, rel);
	assert_int_equal(stat(p, &st), 0);
	return st.st_ino;
}

static void mk(const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s%s", tree, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static int setup(void **state)
{
	if (!mkdtemp(tree))
		return -1;
	mk("/kubepods.slice");
	mk("/kubepods.slice/kubepods-pod1.slice");
	mk("/kubepods.slice/kubepods-pod1.slice/cri-containerd-a.scope");
	mk("/system.slice");
	return 0;
}

static int teardown(void **state)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tree);
	return system(cmd);
}

static void test_paths(void **state)
{
	struct cgroup_index *ix = cgroup_index_new(tree, "/");
	const char *c = "/kubepods.slice/kubepods-pod1.slice/cri-containerd-a.scope";

	assert_non_null(ix);
	assert_string_equal(cgroup_index_path(ix, ino(c), 1 * S, S), c);
	assert_string_equal(cgroup_index_path(ix, ino(""), 1 * S, S), "/");
	assert_string_equal(cgroup_index_path(ix, ino("/system.slice"), 1 * S, S), "/system.slice");
	assert_null(cgroup_index_path(ix, 0, 1 * S, S));
	assert_int_equal(cgroup_index_id(ix, c), ino(c));
	assert_int_equal(cgroup_index_id(ix, "/nope"), 0);
	/* A cgroup made after the walk: found by the next walk, not sooner than
	 * min_rewalk after the last one. */
	mk("/system.slice/new.scope");
	__u64 id = ino("/system.slice/new.scope");

	assert_null(cgroup_index_path(ix, id, 1 * S + 1, S));
	assert_string_equal(cgroup_index_path(ix, id, 3 * S, S), "/system.slice/new.scope");
	/* Subtrees, for --cgroup. */
	assert_true(cgroup_index_under(ix, ino(c), "/kubepods.slice", 3 * S, S));
	assert_true(cgroup_index_under(ix, ino(c), "/kubepods.slice/", 3 * S, S));
	assert_true(cgroup_index_under(ix, ino(c), c, 3 * S, S));
	assert_true(cgroup_index_under(ix, ino(c), "/", 3 * S, S));
	assert_false(cgroup_index_under(ix, ino(c), "/kubepods", 3 * S, S));  /* not a prefix of a name */
	assert_false(cgroup_index_under(ix, ino("/system.slice"), "/kubepods.slice", 3 * S, S));
	assert_false(cgroup_index_under(ix, 12345678, "/", 3 * S, S));       /* unknown */
	cgroup_index_free(ix);
}

/* Inside a cgroup namespace the mount shows a subtree: paths are the host's. */
static void test_mount_root_prefix(void **state)
{
	char sub[512];
	struct cgroup_index *ix;

	snprintf(sub, sizeof(sub), "%s/kubepods.slice", tree);
	ix = cgroup_index_new(sub, "/kubepods.slice");
	assert_non_null(ix);
	assert_string_equal(cgroup_index_path(ix, ino("/kubepods.slice/kubepods-pod1.slice"), S, S),
			    "/kubepods.slice/kubepods-pod1.slice");
	assert_string_equal(cgroup_index_path(ix, ino("/kubepods.slice"), S, S), "/kubepods.slice");
	cgroup_index_free(ix);
	ix = cgroup_index_new("/nonexistent/cgroup", "/");
	assert_int_equal(cgroup_index_rewalk(ix), -ENOENT);
	assert_null(cgroup_index_path(ix, 5, 10 * S, S));
	cgroup_index_free(ix);
}

static void test_find_mount(void **state)
{
	char mi[] = "/tmp/fwmi.XXXXXX", mnt[256], root[256];
	int fd = mkstemp(mi);
	FILE *f = fdopen(fd, "w");

	/* A hybrid host: v1 controllers, v2 at /sys/fs/cgroup/unified. */
	fprintf(f, "24 1 0:22 / /sys rw,nosuid - sysfs sysfs rw\n"
		   "30 24 0:26 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755\n"
		   "31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
		   "32 30 0:28 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n");
	fclose(f);
	assert_int_equal(cgroup2_find_mount(mi, mnt, sizeof(mnt), root, sizeof(root)), 0);
	assert_string_equal(mnt, "/sys/fs/cgroup/unified");
	assert_string_equal(root, "/");
	/* A container with its own cgroup namespace root and an escaped space. */
	f = fopen(mi, "w");
	fprintf(f, "900 800 0:27 /kubepods.slice/pod\\040x /host/sys\\040fs - cgroup2 cgroup rw\n");
	fclose(f);
	assert_int_equal(cgroup2_find_mount(mi, mnt, sizeof(mnt), root, sizeof(root)), 0);
	assert_string_equal(mnt, "/host/sys fs");
	assert_string_equal(root, "/kubepods.slice/pod x");
	/* Only v1. */
	f = fopen(mi, "w");
	fprintf(f, "32 30 0:28 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n");
	fclose(f);
	assert_int_equal(cgroup2_find_mount(mi, mnt, sizeof(mnt), root, sizeof(root)), -ENOENT);
	unlink(mi);
	assert_int_equal(cgroup2_find_mount(mi, mnt, sizeof(mnt), root, sizeof(root)), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_mount_root_prefix),
		cmocka_unit_test(test_find_mount),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
