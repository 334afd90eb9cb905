// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libFuzzer: parse_duration_ns and parse_u64 on arbitrary text, and
 * format_duration on parsed and raw values: formatting must fit any buffer
 * size it is given, and its output must parse back to the value rounded
 * down to the unit it shows. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The smallest unit format_duration shows for ns. */
static uint64_t granularity(uint64_t ns)
{
	uint64_t s = ns / NS_PER_SEC;

	if (s < 1)
		return NS_PER_MS;
	if (s < 3600)
		return NS_PER_SEC;
	if (s < 86400)
		return 60 * NS_PER_SEC;
	return 3600 * NS_PER_SEC;
}

static void check_format(uint64_t ns, size_t small)
{
	char buf[64], *tight;
	uint64_t back = 0;
	int n = format_duration(buf, sizeof(buf), ns);

	if (n <= 0 || (size_t)n >= sizeof(buf) || strlen(buf) != (size_t)n)
		abort();
	if (parse_duration_ns(buf, &back) || back > ns || ns - back >= granularity(ns))
		abort();
	/* An exact-size heap buffer lets ASan catch a write one past len. */
	tight = malloc(small ? small : 1);
	if (!tight)
		return;
	if (format_duration(small ? tight : NULL, small, ns) != n)
		abort();
	if (small && (strlen(tight) != (small - 1 < (size_t)n ? small - 1 : (size_t)n) ||
		      memcmp(tight, buf, strlen(tight))))
		abort();
	free(tight);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	uint64_t v = 0x5a5a5a5a5a5a5a5aULL, raw = 0;
	size_t small = size ? data[0] % 16 : 0;
	int r;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	r = parse_duration_ns(s, &v);
	if (r != 0 && r != -EINVAL && r != -ERANGE)
		abort();
	if (r && v != 0x5a5a5a5a5a5a5a5aULL)
		abort();        /* wrote *out on failure */
	if (!r)
		check_format(v, small);

	memcpy(&raw, data, size < sizeof(raw) ? size : sizeof(raw));
	check_format(raw, small);

	v = 0;
	r = parse_u64(s, raw, &v);
	if (r != 0 && r != -EINVAL && r != -ERANGE)
		abort();
	if (!r && v > raw)
		abort();
	free(s);
	return 0;
}
