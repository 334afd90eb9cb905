// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Socket inode -> holding process, over a fake /proc tree. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "sock_owner.h"

static char root[] = "/tmp/fwproc.XXXXXX";

static void mkproc(const char *pid, const char *comm, const char *fd, const char *target)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, pid);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/%s/fd", root, pid);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/%s/comm", root, pid);
	f = fopen(p, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", comm);
	fclose(f);
	snprintf(p, sizeof(p), "%s/%s/fd/%s", root, pid, fd);
	assert_int_equal(symlink(target, p), 0);
}

static int setup(void **state)
{
	if (!mkdtemp(root))
		return -1;
	mkproc("100", "frontend", "3", "socket:[5555]");
	mkproc("100", "frontend", "4", "/dev/null");
	mkproc("200", "worker", "7", "socket:[7777]");
	mkproc("300", "other", "1", "pipe:[5555]");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_resolves_held_sockets(void **state)
{
	struct sock_owner_req r[3] = {
		{ .cookie = 1, .ino = 7777 }, { .cookie = 2, .ino = 5555 }, { .cookie = 3, .ino = 9999 },
	};

	assert_int_equal(sock_owner_resolve(root, r, 3, NULL, NULL), 2);
	for (int i = 0; i < 3; i++) {
		if (r[i].cookie == 1) {
			assert_int_equal(r[i].pid, 200);
			assert_string_equal(r[i].comm, "worker");
		} else if (r[i].cookie == 2) {
			assert_int_equal(r[i].pid, 100);
			assert_string_equal(r[i].comm, "frontend");
		} else {
			assert_int_equal(r[i].pid, 0);   /* pipe:[5555] is not a socket */
		}
	}
}

static void test_missing_root(void **state)
{
	struct sock_owner_req r = { .ino = 1 };

	assert_true(sock_owner_resolve("/nonexistent-proc", &r, 1, NULL, NULL) < 0);
	assert_int_equal(sock_owner_resolve(root, &r, 0, NULL, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolves_held_sockets),
		cmocka_unit_test(test_missing_root),
	};

	return cmocka_run_group_tests_name("sock_owner", tests, setup, teardown);
}
