// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The kernel's HZ without its config: from tcp_fin_timeout, else the clock. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "kernel_hz.h"

#define S 1000000000ULL
#define INITIAL_JIFFIES(hz) ((1ULL << 32) - 300ULL * (hz))

static void test_from_fin_timeout(void **state)
{
	assert_int_equal(kernel_hz_from_fin_timeout(60 * 250, 60), 250);
	assert_int_equal(kernel_hz_from_fin_timeout(5 * 1000, 5), 1000);
	assert_int_equal(kernel_hz_from_fin_timeout(90 * 300, 90), 300);
	assert_int_equal(kernel_hz_from_fin_timeout(60 * 100, 60), 100);
	/* Unread sysctl, a zero timeout, a ratio no kernel is built with. */
	assert_int_equal(kernel_hz_from_fin_timeout(60 * 250, -1), 0);
	assert_int_equal(kernel_hz_from_fin_timeout(0, 0), 0);
	assert_int_equal(kernel_hz_from_fin_timeout(60 * 250 + 1, 60), 0);
	assert_int_equal(kernel_hz_from_fin_timeout(60 * 7, 60), 0);
}

static void test_from_clock(void **state)
{
	static const unsigned hzs[] = { 100, 250, 300, 1000 };

	for (unsigned i = 0; i < 4; i++) {
		unsigned hz = hzs[i];
		/* Measured on this host (HZ 250): jiffies 4294932127 at 159.57 s. */
		assert_int_equal(kernel_hz_from_clock(INITIAL_JIFFIES(hz) + 159ULL * hz, 159570000000ULL), hz);
		/* A day, and a year of uptime with a tick of lag. */
		assert_int_equal(kernel_hz_from_clock(INITIAL_JIFFIES(hz) + 86400ULL * hz - 1, 86400 * S), hz);
		assert_int_equal(kernel_hz_from_clock(INITIAL_JIFFIES(hz) + 31536000ULL * hz + 1,
						      31536000 * S), hz);
		/* Seconds after boot, before jiffies wrap past 2^32. */
		assert_int_equal(kernel_hz_from_clock(INITIAL_JIFFIES(hz) + 3ULL * hz, 3 * S), hz);
	}
	assert_int_equal(kernel_hz_from_clock(4294932127ULL, 159570000000ULL), 250);
	/* About 300 s after boot every HZ fits: no answer rather than a guess. */
	assert_int_equal(kernel_hz_from_clock(1ULL << 32, 300 * S), 0);
	/* Nothing fits a clock that is not the jiffies' one. */
	assert_int_equal(kernel_hz_from_clock(INITIAL_JIFFIES(250) + 1000ULL * 250, 5000 * S), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_fin_timeout),
		cmocka_unit_test(test_from_clock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
