// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What finwatch says about a kernel's features: the one-line verdict on a
 * kernel it cannot run on, and doctor's text and JSON report. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "kernel_features.h"
#include "trace_fmt.h"

static struct fw_kernel_support all_yes(void)
{
	struct fw_kernel_support ks = { .release = "6.1.0-57-amd64" };

	for (int f = 0; f < FW_FEAT_MAX; f++)
		ks.have[f] = FW_FEAT_YES;
	return ks;
}

static void test_check_required(void **state)
{
	struct fw_kernel_support ks = all_yes();
	char msg[512] = "";

	assert_int_equal(kernel_features_check(&ks, msg, sizeof(msg)), 0);
	/* Optional features missing: it still runs (degraded). */
	ks.have[FW_FEAT_ITER_TCP] = FW_FEAT_NO;
	ks.have[FW_FEAT_ITER_TASK_FILE] = FW_FEAT_NO;
	ks.have[FW_FEAT_SOCK_DESTROY] = FW_FEAT_NO;
	assert_int_equal(kernel_features_check(&ks, msg, sizeof(msg)), 0);
	/* A probe that could not answer is left to the load. */
	ks.have[FW_FEAT_TP_BTF] = FW_FEAT_UNKNOWN;
	assert_int_equal(kernel_features_check(&ks, msg, sizeof(msg)), 0);
	/* Socket cookies in tracing programs came with 5.12 (5.10 has none). */
	ks.have[FW_FEAT_SOCK_COOKIE] = FW_FEAT_NO;
	assert_int_equal(kernel_features_check(&ks, msg, sizeof(msg)), -EOPNOTSUPP);
	assert_string_equal(msg, "kernel 6.1.0-57-amd64 lacks socket_cookie (socket cookies from tracing "
			    "programs: socket identity; Linux 5.12 or later): finwatch cannot run here "
			    "(`finwatch doctor` lists every feature)");
	assert_null(strchr(msg, '\n'));
	/* The first missing one is named. */
	ks.have[FW_FEAT_RINGBUF] = FW_FEAT_NO;
	assert_int_equal(kernel_features_check(&ks, msg, sizeof(msg)), -EOPNOTSUPP);
	assert_non_null(strstr(msg, "lacks ringbuf"));
	assert_non_null(strstr(msg, "Linux 5.8 or later"));
}

static void test_every_feature_described(void **state)
{
	for (int f = 0; f < FW_FEAT_MAX; f++) {
		const struct fw_feature_desc *d = kernel_feature_desc(f);

		assert_non_null(d);
		assert_non_null(d->name);
		assert_non_null(d->what);
		assert_non_null(d->since);
	}
	assert_null(kernel_feature_desc(FW_FEAT_MAX));
	assert_null(kernel_feature_desc((enum fw_feature)-1));
}

static void test_text_report(void **state)
{
	struct fw_kernel_support ks = all_yes();
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ks.have[FW_FEAT_ITER_TASK_FILE] = FW_FEAT_NO;
	ks.have[FW_FEAT_BPF_STATS] = FW_FEAT_UNKNOWN;
	kernel_features_print(&ks, f);
	fclose(f);
	assert_non_null(strstr(buf, "kernel 6.1.0-57-amd64:\n"));
	assert_non_null(strstr(buf, "  iter_task_file  no      iter/task_file with bpf_sock_from_file: "
				    "holders (else /proc) (5.11)\n"));
	assert_non_null(strstr(buf, "  socket_cookie   yes     socket cookies from tracing programs: "
				    "socket identity (required, 5.12)\n"));
	assert_non_null(strstr(buf, "  bpf_stats       unknown "));
	free(buf);
}

static void test_json_report(void **state)
{
	struct fw_kernel_support ks = all_yes();
	struct json_writer jw;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	json_record_setup("h", 0);
	ks.have[FW_FEAT_SOCK_DESTROY] = FW_FEAT_NO;
	ks.have[FW_FEAT_BPF_STATS] = FW_FEAT_UNKNOWN;
	jw_init(&jw, f);
	kernel_features_json(&ks, &jw, 1000000000ULL);
	jw_flush(&jw);
	fclose(f);
	assert_non_null(strstr(buf, "\"type\":\"kernel\""));
	assert_non_null(strstr(buf, "\"release\":\"6.1.0-57-amd64\""));
	assert_non_null(strstr(buf, "\"tp_btf\":{\"supported\":true,\"required\":true,\"since\":\"5.5\""));
	assert_non_null(strstr(buf, "\"sock_destroy\":{\"supported\":false,\"required\":false"));
	assert_non_null(strstr(buf, "\"bpf_stats\":{\"supported\":null,"));
	/* One line. */
	assert_int_equal(buf[len - 1], '\n');
	assert_ptr_equal(strchr(buf, '\n'), buf + len - 1);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_required),
		cmocka_unit_test(test_every_feature_described),
		cmocka_unit_test(test_text_report),
		cmocka_unit_test(test_json_report),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
