// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The one warning path: the stderr line, and the JSON record once set up. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "warn.h"
#include "golden.h"

static struct capture records;

static void record(void *ctx, const char *msg)
{
	fprintf(records.f, "[%s]\n", msg);
	/* A warning while writing one must not loop. */
	fw_warn(LOG_ERR, "nested %d", 1);
}

static void test_stderr_then_record(void **state)
{
	FILE *saved = stderr;
	struct capture err;
	char *e, *r;

	stderr = cap_open(&err);
	assert_non_null(cap_open(&records));
	fw_warn(LOG_WARNING, "before setup: %s %u", "stderr only", 7u);
	fw_warn_setup(record, NULL, 0);
	fw_warn(LOG_ERR, "reaping stopped: the kernel refused socket destroy (%s); %s", "x", "y");
	fw_warn_setup(NULL, NULL, 0);
	fw_warn(LOG_ERR, "after");
	e = cap_text(&err);
	stderr = saved;
	r = cap_text(&records);
	assert_golden("stderr", e,
		"finwatch: before setup: stderr only 7\n"
		"finwatch: reaping stopped: the kernel refused socket destroy (x); y\n"
		"finwatch: nested 1\n"
		"finwatch: after\n");
	assert_golden("records", r, "[reaping stopped: the kernel refused socket destroy (x); y]\n");
	free(e);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stderr_then_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
