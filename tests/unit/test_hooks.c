// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* --on-alert hooks with real processes: input and variables delivered, the
 * queue bounded, failures, timeouts and unrunnable commands reported. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "hooks.h"

#define MS 1000000ULL

static char dir[64];
static char reports[4][256];
static int n_reports;

static void report(void *ctx, const char *msg)
{
	if (n_reports < 4)
		snprintf(reports[n_reports], sizeof(reports[0]), "%s", msg);
	n_reports++;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* A hook script in the test's directory; returns its path. */
static const char *script(const char *name, const char *body)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	assert_int_equal(chmod(path, 0700), 0);
	return path;
}

static char *slurp(const char *name)
{
	static char buf[512];
	char path[128];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* Polls until a report comes or the hook touched "done", at most 5 s. */
static void settle(struct hook_runner *h, __u64 fake_offset_ns)
{
	__u64 end = now_ns() + 5000 * MS;
	struct timespec ms = { 0, 5 * 1000 * 1000 };

	do {
		hook_poll(h, now_ns() + fake_offset_ns, report, NULL);
		nanosleep(&ms, NULL);
	} while (now_ns() < end && n_reports == 0 && !slurp("done"));
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/fwhooks.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	n_reports = 0;
	memset(reports, 0, sizeof(reports));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? -1 : 0;
}

static void test_input_and_variables_delivered_queue_bounded(void **state)
{
	char body[512];
	const char *env[] = { "FINWATCH_RULE=max_age", "FINWATCH_STATE=firing" };
	struct hook_runner *h;

	snprintf(body, sizeof(body), "cat > %s/in; echo \"$FINWATCH_RULE $FINWATCH_STATE\" > %s/env; "
		 "touch %s/done", dir, dir, dir);
	h = hook_new(script("ok.sh", body), 5000 * MS, 1, 1);
	assert_non_null(h);
	assert_int_equal(hook_submit(h, "{\"a\":1}", 7, env, 2, now_ns()), 0);
	/* One waiting at most: the next is dropped, not queued. */
	assert_int_equal(hook_submit(h, "x", 1, env, 2, now_ns()), -ENOSPC);
	settle(h, 0);
	hook_free(h, 2000 * MS);
	assert_int_equal(n_reports, 0);
	assert_string_equal(slurp("in"), "{\"a\":1}");
	assert_string_equal(slurp("env"), "max_age firing\n");
}

static void test_failure_reported(void **state)
{
	struct hook_runner *h = hook_new(script("fail.sh", "exit 3"), 5000 * MS, 1, 4);

	assert_non_null(h);
	assert_int_equal(hook_submit(h, "", 0, NULL, 0, now_ns()), 0);
	settle(h, 0);
	hook_free(h, 0);
	assert_int_equal(n_reports, 1);
	assert_non_null(strstr(reports[0], "--on-alert: hook pid "));
	assert_non_null(strstr(reports[0], " exited with status 3"));
}

static void test_timeout_kills(void **state)
{
	struct hook_runner *h = hook_new(script("slow.sh", "sleep 30"), 100 * MS, 1, 4);

	assert_non_null(h);
	assert_int_equal(hook_submit(h, "", 0, NULL, 0, now_ns()), 0);
	hook_poll(h, now_ns(), report, NULL);          /* starts it */
	settle(h, 200 * MS);                            /* ... past its timeout */
	hook_free(h, 0);
	assert_int_equal(n_reports, 1);
	assert_non_null(strstr(reports[0], "ran longer than 100 ms; killed"));
}

static void test_unrunnable_and_invalid(void **state)
{
	struct hook_runner *h = hook_new("/nonexistent/finwatch-hook arg", 100 * MS, 1, 4);

	assert_non_null(h);
	assert_int_equal(hook_submit(h, "", 0, NULL, 0, now_ns()), 0);
	hook_poll(h, now_ns(), report, NULL);
	hook_free(h, 0);
	assert_int_equal(n_reports, 1);
	assert_string_equal(reports[0], "--on-alert: cannot run '/nonexistent/finwatch-hook': No such file or directory");
	errno = 0;
	assert_null(hook_new(" ", 100 * MS, 1, 4));
	assert_int_equal(errno, EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_input_and_variables_delivered_queue_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_kills, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unrunnable_and_invalid, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
