// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Command-line parsing: every bad input is one error naming flag and value. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>
#include "cli.h"

static int parse(struct fw_config *cfg, char *err, size_t len, ...)
{
	char *argv[32] = { "finwatch" };
	int argc = 1;
	va_list ap;

	va_start(ap, len);
	for (char *a; (a = va_arg(ap, char *)) && argc < 31;)
		argv[argc++] = a;
	va_end(ap);
	return cli_parse(argc, argv, cfg, err, len);
}

static void test_defaults(void **state)
{
	struct fw_config c;
	char err[256];

	assert_int_equal(parse(&c, err, sizeof(err), NULL), 0);
	assert_int_equal(c.cmd, FW_CMD_WATCH);
	assert_int_equal(c.max_age_ns, 120 * NS_PER_SEC);
	assert_int_equal(c.max_per_peer, 100);
	assert_int_equal(c.max_total, 1000);
	assert_int_equal(c.duration_ns, 0);
	assert_false(c.json);
}

static void test_trace_options(void **state)
{
	struct fw_config c;
	char err[256];

	assert_int_equal(parse(&c, err, sizeof(err), "trace", "-4", "--lport", "80,443", "--rport", "8080",
			       "--peer", "10.0.0.0/8", "--peer", "fd00::/64", "--duration", "1m30s", "--json",
			       "-v", NULL), 0);
	assert_int_equal(c.cmd, FW_CMD_TRACE);
	assert_int_equal(c.family, FW_AF_INET);
	assert_int_equal(c.n_lports, 2);
	assert_int_equal(c.lports[1], 443);
	assert_int_equal(c.n_rports, 1);
	assert_int_equal(c.n_peers, 2);
	assert_int_equal(c.duration_ns, 90 * NS_PER_SEC);
	assert_true(c.json && c.verbose);
}

static void test_watch_options(void **state)
{
	struct fw_config c;
	char err[256];

	assert_int_equal(parse(&c, err, sizeof(err), "watch", "--max-age", "0", "--max-per-peer", "5",
			       "--max-total", "0", "--group-by", "/24,/48", "--exit-on-alert", "--top", "3",
			       "--interval", "500ms", NULL), 0);
	assert_int_equal(c.max_age_ns, 0);
	assert_int_equal(c.max_per_peer, 5);
	assert_int_equal(c.max_total, 0);
	assert_int_equal(c.group_by, FW_GROUP_PREFIX);
	assert_int_equal(c.group_prefix4, 24);
	assert_int_equal(c.group_prefix6, 48);
	assert_true(c.exit_on_alert);
	assert_int_equal(c.top, 3);
	assert_int_equal(parse(&c, err, sizeof(err), "--group-by", "addr:port", NULL), 0);
	assert_int_equal(c.group_by, FW_GROUP_ADDR_PORT);
}

/* Each bad input: -EINVAL and a message naming the flag and the value. */
static void expect_bad(const char *needle1, const char *needle2, ...)
{
	char *argv[8] = { "finwatch" };
	int argc = 1;
	va_list ap;
	struct fw_config c;
	char err[256];

	va_start(ap, needle2);
	for (char *a; (a = va_arg(ap, char *)) && argc < 7;)
		argv[argc++] = a;
	va_end(ap);
	assert_int_equal(cli_parse(argc, argv, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, needle1));
	if (needle2)
		assert_non_null(strstr(err, needle2));
	assert_null(strchr(err, '\n'));
}

static void test_bad_input(void **state)
{
	expect_bad("--lport", "'0'", "--lport", "0", NULL);
	expect_bad("--rport", "'65536'", "--rport", "65536", NULL);
	expect_bad("--lport", "'1,2,3,4,5,6,7,8,9'", "--lport", "1,2,3,4,5,6,7,8,9", NULL);
	expect_bad("--peer", "'10.0.0.1/33'", "--peer", "10.0.0.1/33", NULL);
	expect_bad("--peer", "'nonsense'", "--peer", "nonsense", NULL);
	expect_bad("--duration", "'5x'", "--duration", "5x", NULL);
	expect_bad("--duration", "'0'", "--duration", "0", NULL);
	expect_bad("--max-age", "'-1'", "--max-age", "-1", NULL);
	expect_bad("--max-per-peer", "'many'", "--max-per-peer", "many", NULL);
	expect_bad("--ringbuf-size", "'5000'", "--ringbuf-size", "5000", NULL);
	expect_bad("--group-by", "'/33'", "--group-by", "/33", NULL);
	expect_bad("--top", "'0'", "--top", "0", NULL);
	expect_bad("--interval", "'1ms'", "--interval", "1ms", NULL);
	expect_bad("unknown option", "--bogus", "--bogus", NULL);
	expect_bad("unknown option", "-x", "-x", NULL);
	expect_bad("--peer", "missing", "--peer", NULL);
	expect_bad("unknown command", "frobnicate", "frobnicate", NULL);
	expect_bad("unexpected argument", "extra", "trace", "extra", NULL);
	expect_bad("-4 and -6", NULL, "-4", "-6", NULL);
	/* Regression (fuzz_cli): a value with a newline stays one line. */
	expect_bad("unknown command 'a?b'", NULL, "a\nb", NULL);
	expect_bad("--peer: invalid CIDR 'x?y'", NULL, "--peer", "x\ty", NULL);
}

static void test_help(void **state)
{
	struct fw_config c;
	char err[256];

	assert_int_equal(parse(&c, err, sizeof(err), "trace", "--help", NULL), 1);
	assert_int_equal(parse(&c, err, sizeof(err), "-h", NULL), 1);
}

static void test_socket_filter(void **state)
{
	struct fw_config c;
	char err[256];
	uint8_t in[16] = { 10, 1, 2, 3 }, out[16] = { 11, 1, 2, 3 };

	assert_int_equal(parse(&c, err, sizeof(err), "--peer", "10.0.0.0/8", "--rport", "443", NULL), 0);
	assert_true(cli_socket_allowed(&c, FW_AF_INET, 1000, 443, in));
	assert_false(cli_socket_allowed(&c, FW_AF_INET, 1000, 443, out));
	assert_false(cli_socket_allowed(&c, FW_AF_INET, 1000, 80, in));
	assert_int_equal(parse(&c, err, sizeof(err), "-6", NULL), 0);
	assert_false(cli_socket_allowed(&c, FW_AF_INET, 1, 2, in));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_trace_options),
		cmocka_unit_test(test_watch_options),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_socket_filter),
	};

	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
