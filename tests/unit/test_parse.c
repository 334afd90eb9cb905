// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Unit tests for user/parse.c: every accepted form, every rejection class,
 * and the boundaries where off-by-one bugs live. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>
#include "parse.h"

/* Table tests name the failing input; a bare line number would not. */
#define CHECK(cond, fmt, ...)                                                       \
	do {                                                                        \
		if (!(cond)) {                                                      \
			print_error("%s:%d: " fmt "\n", __FILE__, __LINE__, __VA_ARGS__); \
			fail();                                                     \
		}                                                                   \
	} while (0)

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SENTINEL 0xdeadbeefcafef00dULL
#define MAX_NS 18446744073709000000ULL   /* the largest whole-ms duration */

/* ---- parse_duration_ns ---- */

static void test_duration_accepts(void **state)
{
	static const struct {
		const char *s;
		uint64_t ns;
	} ok[] = {
		{ "0", 0 },
		{ "00", 0 },
		{ "1", NS_PER_SEC },
		{ "30", 30 * NS_PER_SEC },
		{ "007", 7 * NS_PER_SEC },
		{ "0ms", 0 },
		{ "0s", 0 },
		{ "250ms", 250 * NS_PER_MS },
		{ "1ms", NS_PER_MS },
		{ "30s", 30 * NS_PER_SEC },
		{ "5m", 300 * NS_PER_SEC },
		{ "2h", 7200 * NS_PER_SEC },
		{ "1d", 86400 * NS_PER_SEC },
		{ "1h30m", 5400 * NS_PER_SEC },
		{ "1m30s", 90 * NS_PER_SEC },
		{ "1s500ms", 1500 * NS_PER_MS },
		{ "1d1ms", 86400 * NS_PER_SEC + NS_PER_MS },
		{ "1d2h3m4s5ms", ((((1 * 24 + 2) * 60 + 3) * 60 + 4) * 1000 + 5) * NS_PER_MS },
		{ "90m", 5400 * NS_PER_SEC },          /* no carry rule: 90m is fine */
		{ "2h0m", 7200 * NS_PER_SEC },
		{ "1500ms", 1500 * NS_PER_MS },
		/* Upper boundaries, one per form. */
		{ "18446744073", 18446744073ULL * NS_PER_SEC },
		{ "18446744073s", 18446744073ULL * NS_PER_SEC },
		{ "18446744073709ms", MAX_NS },
		{ "213503d", 213503ULL * 86400 * NS_PER_SEC },
		{ "213503d23h34m33s709ms", MAX_NS },
	};

	for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
		uint64_t v = SENTINEL;
		int r = parse_duration_ns(ok[i].s, &v);

		CHECK(r == 0, "parse_duration_ns(\"%s\") = %d, want 0", ok[i].s, r);
		CHECK(v == ok[i].ns, "parse_duration_ns(\"%s\") -> %llu, want %llu", ok[i].s,
		      (unsigned long long)v, (unsigned long long)ok[i].ns);
	}
}

static void test_duration_rejects_syntax(void **state)
{
	static const char *const bad[] = {
		"", "-1", "-1s", "+1s", " 1s", "1s ", "1 s", "1h 30m", "\t1", "1\n",
		"1.5s", "1,5s", ".5s", "1e3", "0x10", "s", "ms", "h1", "1x", "1us",
		"1ns", "1S", "1H", "1Ms", "1sec", "1min", "1hr", "1hh", "1h30",
		"30m1h", "1m1m", "1s1m", "1ms1s", "1s1s", "1h-30m", "1h+30m", "1h_30m",
		"5m\x80", "\xd9\xa1s",
	};

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		uint64_t v = SENTINEL;
		int r = parse_duration_ns(bad[i], &v);

		CHECK(r == -EINVAL, "parse_duration_ns(\"%s\") = %d, want -EINVAL", bad[i], r);
		CHECK(v == SENTINEL, "parse_duration_ns(\"%s\") wrote *out on failure", bad[i]);
	}
	assert_int_equal(parse_duration_ns(NULL, &(uint64_t){ 0 }), -EINVAL);
	assert_int_equal(parse_duration_ns("1s", NULL), -EINVAL);
}

static void test_duration_rejects_overflow(void **state)
{
	static const char *const big[] = {
		"18446744074",                  /* bare seconds, one past */
		"18446744074s",
		"18446744073710ms",
		"213504d",
		"213503d23h34m33s710ms",        /* sum overflows, not any one part */
		"213503d23h34m34s",
		"18446744073709551616",         /* the number itself overflows */
		"99999999999999999999999999s",
		"99999999999999999999999999ms",
		"99999999999999999999999999999999999999999999999999",
	};

	for (size_t i = 0; i < ARRAY_LEN(big); i++) {
		uint64_t v = SENTINEL;
		int r = parse_duration_ns(big[i], &v);

		CHECK(r == -ERANGE, "parse_duration_ns(\"%s\") = %d, want -ERANGE", big[i], r);
		CHECK(v == SENTINEL, "parse_duration_ns(\"%s\") wrote *out on failure", big[i]);
	}
}

/* Junk wins over range: the message should say "malformed", not "too big". */
static void test_duration_syntax_before_range(void **state)
{
	uint64_t v;

	assert_int_equal(parse_duration_ns("99999999999999999999999s1x", &v), -EINVAL);
	assert_int_equal(parse_duration_ns("213504d1d", &v), -EINVAL);
}

/* ---- parse_u64 ---- */

static void test_u64(void **state)
{
	uint64_t v = SENTINEL;

	assert_int_equal(parse_u64("0", 0, &v), 0);
	assert_true(v == 0);
	assert_int_equal(parse_u64("42", 100, &v), 0);
	assert_true(v == 42);
	assert_int_equal(parse_u64("0042", 100, &v), 0);
	assert_true(v == 42);
	assert_int_equal(parse_u64("32", 32, &v), 0);
	assert_true(v == 32);
	assert_int_equal(parse_u64("18446744073709551615", UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);

	v = SENTINEL;
	assert_int_equal(parse_u64("33", 32, &v), -ERANGE);
	assert_int_equal(parse_u64("1", 0, &v), -ERANGE);
	assert_int_equal(parse_u64("18446744073709551616", UINT64_MAX, &v), -ERANGE);
	assert_int_equal(parse_u64("99999999999999999999999", UINT64_MAX, &v), -ERANGE);
	assert_true(v == SENTINEL);
}

static void test_u64_rejects(void **state)
{
	/* "\xd9\xa1" is ARABIC-INDIC DIGIT ONE: only ASCII digits count. */
	static const char *const bad[] = {
		"", " 1", "1 ", "+1", "-1", "1a", "0x1", "1.0", "1e3", "\xd9\xa1",
	};
	uint64_t v = SENTINEL;

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		int r = parse_u64(bad[i], UINT64_MAX, &v);

		CHECK(r == -EINVAL, "parse_u64(\"%s\") = %d, want -EINVAL", bad[i], r);
	}
	assert_int_equal(parse_u64(NULL, 1, &v), -EINVAL);
	assert_int_equal(parse_u64("1", 1, NULL), -EINVAL);
	assert_true(v == SENTINEL);
}

/* ---- parse_port_list ---- */

static void test_ports_accepts(void **state)
{
	uint16_t p[8];
	int n = -1;

	assert_int_equal(parse_port_list("80", p, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(p[0], 80);

	assert_int_equal(parse_port_list("443,80", p, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(p[0], 443);      /* order kept */
	assert_int_equal(p[1], 80);

	assert_int_equal(parse_port_list("1,65535", p, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(p[0], 1);
	assert_int_equal(p[1], 65535);

	assert_int_equal(parse_port_list("080", p, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(p[0], 80);
}

static void test_ports_dedup(void **state)
{
	uint16_t p[8];
	int n = -1;

	assert_int_equal(parse_port_list("80,80,443,80,443", p, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(p[0], 80);
	assert_int_equal(p[1], 443);

	/* Nine items but eight unique: the limit is on what is kept. */
	assert_int_equal(parse_port_list("1,2,3,4,5,6,7,8,1", p, 8, &n), 0);
	assert_int_equal(n, 8);
	for (int i = 0; i < 8; i++)
		assert_int_equal(p[i], i + 1);

	/* A duplicate of the only slot fits max == 1. */
	assert_int_equal(parse_port_list("22,22", p, 1, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(p[0], 22);
}

static void test_ports_max_entries(void **state)
{
	uint16_t p[9] = { 0 };
	int n = -1;

	assert_int_equal(parse_port_list("1,2,3,4,5,6,7,8", p, 8, &n), 0);
	assert_int_equal(n, 8);

	n = -1;
	p[8] = 0x5a5a;
	assert_int_equal(parse_port_list("1,2,3,4,5,6,7,8,9", p, 8, &n), -ERANGE);
	assert_int_equal(n, -1);
	assert_int_equal(p[8], 0x5a5a);   /* never wrote past max */

	assert_int_equal(parse_port_list("80", p, 0, &n), -ERANGE);
	assert_int_equal(parse_port_list("80", p, -1, &n), -EINVAL);
	assert_int_equal(n, -1);
}

static void test_ports_rejects_range(void **state)
{
	static const char *const bad[] = {
		"0", "65536", "99999", "80,0", "0,80", "80,65536",
		"18446744073709551616", "99999999999999999999999",
	};

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		uint16_t p[8] = { 7, 7, 7, 7, 7, 7, 7, 7 };
		int n = -1, r = parse_port_list(bad[i], p, 8, &n);

		CHECK(r == -ERANGE, "parse_port_list(\"%s\") = %d, want -ERANGE", bad[i], r);
		CHECK(n == -1 && p[0] == 7 && p[1] == 7, "parse_port_list(\"%s\") wrote on failure", bad[i]);
	}
}

static void test_ports_rejects_syntax(void **state)
{
	static const char *const bad[] = {
		"", ",", ",,", "80,", ",80", "80,,443", "80, 443", "80 ,443", " 80", "80 ",
		"80;443", "80-90", "+80", "-80", "abc", "80,abc", "0x50", "80.0", "8o",
		"0,abc",          /* junk beats the range error */
		"65536,x",
	};

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		uint16_t p[8] = { 7, 7, 7, 7, 7, 7, 7, 7 };
		int n = -1, r = parse_port_list(bad[i], p, 8, &n);

		CHECK(r == -EINVAL, "parse_port_list(\"%s\") = %d, want -EINVAL", bad[i], r);
		CHECK(n == -1 && p[0] == 7, "parse_port_list(\"%s\") wrote on failure", bad[i]);
	}
	assert_int_equal(parse_port_list(NULL, (uint16_t[1]){ 0 }, 1, &(int){ 0 }), -EINVAL);
	assert_int_equal(parse_port_list("80", NULL, 1, &(int){ 0 }), -EINVAL);
	assert_int_equal(parse_port_list("80", (uint16_t[1]){ 0 }, 1, NULL), -EINVAL);
}

/* ---- parse_cidr ---- */

static void check_cidr(const char *s, uint16_t family, uint8_t prefix, const uint8_t *addr)
{
	struct cidr c;
	int r;

	memset(&c, 0xa5, sizeof(c));
	r = parse_cidr(s, &c);
	CHECK(r == 0, "parse_cidr(\"%s\") = %d, want 0", s, r);
	CHECK(c.family == family, "parse_cidr(\"%s\") family %u", s, c.family);
	CHECK(c.prefix == prefix, "parse_cidr(\"%s\") prefix %u, want %u", s, c.prefix, prefix);
	CHECK(!memcmp(c.addr, addr, 16), "parse_cidr(\"%s\") address differs", s);
}

static void test_cidr_ipv4(void **state)
{
	static const uint8_t ten[16] = { 10 };
	static const uint8_t zero[16] = { 0 };
	static const uint8_t host[16] = { 192, 0, 2, 7 };
	static const uint8_t bcast[16] = { 255, 255, 255, 255 };
	static const uint8_t b254[16] = { 255, 255, 255, 254 };
	static const uint8_t b128[16] = { 10, 0, 0, 128 };
	static const uint8_t p172[16] = { 172, 16 };

	check_cidr("10.0.0.0/8", 2, 8, ten);
	check_cidr("10.0.0.0/08", 2, 8, ten);   /* decimal, leading zero allowed */
	check_cidr("0.0.0.0/0", 2, 0, zero);
	check_cidr("192.0.2.7", 2, 32, host);   /* bare address is a /32 */
	check_cidr("192.0.2.7/32", 2, 32, host);
	check_cidr("255.255.255.255/32", 2, 32, bcast);
	check_cidr("255.255.255.254/31", 2, 31, b254);
	check_cidr("10.0.0.128/25", 2, 25, b128);
	check_cidr("172.16.0.0/12", 2, 12, p172);
}

static void test_cidr_ipv6(void **state)
{
	static const uint8_t fd00[16] = { 0xfd };
	static const uint8_t zero[16] = { 0 };
	static const uint8_t one[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff, [12] = 10 };
	static const uint8_t all[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	check_cidr("fd00::/64", 10, 64, fd00);
	check_cidr("FD00::/8", 10, 8, fd00);
	check_cidr("::/0", 10, 0, zero);
	check_cidr("2001:db8::1", 10, 128, one);         /* bare address is a /128 */
	check_cidr("2001:db8::1/128", 10, 128, one);
	check_cidr("::ffff:10.0.0.0/104", 10, 104, mapped);
	check_cidr("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", 10, 128, all);
	check_cidr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", 10, 128, all);
}

static void test_cidr_rejects_range(void **state)
{
	static const char *const bad[] = {
		"10.0.0.0/33", "0.0.0.0/255", "::/129", "fd00::/256",
		"10.0.0.0/99999999999999999999999",
	};

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		struct cidr c = { .family = 77 };
		int r = parse_cidr(bad[i], &c);

		CHECK(r == -ERANGE, "parse_cidr(\"%s\") = %d, want -ERANGE", bad[i], r);
		CHECK(c.family == 77, "parse_cidr(\"%s\") wrote on failure", bad[i]);
	}
}

static void test_cidr_rejects_syntax(void **state)
{
	static const char *const bad[] = {
		/* host bits set: a typo must not silently widen the match */
		"10.0.0.1/8", "10.0.0.128/24", "255.255.255.255/31", "fd00::1/64",
		"::ffff:10.0.0.1/104", "::1/127", "0.0.0.1/0",
		/* malformed */
		"", "/8", "10.0.0.0/", "10.0.0.0/8/8", "10.0.0.0/-1", "10.0.0.0/+8",
		"10.0.0.0/ 8", "10.0.0.0 /8", " 10.0.0.0/8", "10.0.0.0/8 ", "10.0.0.0/8x",
		"10.0.0.0/0x8", "10.0.0/8", "10.1", "10.0.0.256", "1.2.3.4.5", "1.2.3.-4",
		"fe80::1%eth0", "gggg::", ":::", "1::2::3", "localhost",
		"0000:0000:0000:0000:0000:0000:0000:0000:0000/0",   /* too long for any address */
		"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255.255",
	};

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		struct cidr c = { .family = 77 };
		int r = parse_cidr(bad[i], &c);

		CHECK(r == -EINVAL, "parse_cidr(\"%s\") = %d, want -EINVAL", bad[i], r);
		CHECK(c.family == 77, "parse_cidr(\"%s\") wrote on failure", bad[i]);
	}
	assert_int_equal(parse_cidr(NULL, &(struct cidr){ 0 }), -EINVAL);
	assert_int_equal(parse_cidr("10.0.0.0/8", NULL), -EINVAL);
}

/* ---- cidr_match ---- */

static struct cidr cidr_of(const char *s)
{
	struct cidr c;

	assert_int_equal(parse_cidr(s, &c), 0);
	return c;
}

static int match4(const struct cidr *c, uint8_t a, uint8_t b, uint8_t cc, uint8_t d)
{
	/* Bytes 4..15 are junk on purpose: IPv4 uses only the first four. */
	uint8_t addr[16] = { a, b, cc, d, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

	return cidr_match(c, 2, addr);
}

static int match_mapped(const struct cidr *c, uint8_t a, uint8_t b, uint8_t cc, uint8_t d)
{
	uint8_t addr[16] = { [10] = 0xff, [11] = 0xff, [12] = a, [13] = b, [14] = cc, [15] = d };

	return cidr_match(c, 10, addr);
}

static void test_match_ipv4(void **state)
{
	struct cidr c = cidr_of("10.0.0.0/8");

	assert_true(match4(&c, 10, 0, 0, 0));
	assert_true(match4(&c, 10, 255, 255, 255));
	assert_false(match4(&c, 11, 0, 0, 0));
	assert_false(match4(&c, 9, 255, 255, 255));

	c = cidr_of("172.16.0.0/12");     /* prefix inside a byte */
	assert_true(match4(&c, 172, 16, 0, 0));
	assert_true(match4(&c, 172, 31, 255, 255));
	assert_false(match4(&c, 172, 32, 0, 0));
	assert_false(match4(&c, 172, 15, 255, 255));

	c = cidr_of("192.0.2.7");
	assert_true(match4(&c, 192, 0, 2, 7));
	assert_false(match4(&c, 192, 0, 2, 6));
	assert_false(match4(&c, 192, 0, 2, 8));

	c = cidr_of("192.0.2.6/31");
	assert_true(match4(&c, 192, 0, 2, 6));
	assert_true(match4(&c, 192, 0, 2, 7));
	assert_false(match4(&c, 192, 0, 2, 8));

	c = cidr_of("0.0.0.0/0");
	assert_true(match4(&c, 0, 0, 0, 0));
	assert_true(match4(&c, 255, 255, 255, 255));
}

static void test_match_mapped(void **state)
{
	struct cidr c = cidr_of("10.0.0.0/8");
	uint8_t compat[16] = { [12] = 10, [13] = 1 };                      /* ::10.1.0.0 */
	uint8_t nat64[16] = { 0x00, 0x64, 0xff, 0x9b, [12] = 10, [13] = 1 }; /* 64:ff9b::10.1.0.0 */
	uint8_t almost[16] = { [9] = 1, [10] = 0xff, [11] = 0xff, [12] = 10 };
	uint8_t half[16] = { [10] = 0xff, [11] = 0xfe, [12] = 10 };

	assert_true(match_mapped(&c, 10, 1, 2, 3));
	assert_false(match_mapped(&c, 11, 1, 2, 3));
	assert_false(cidr_match(&c, 10, compat));
	assert_false(cidr_match(&c, 10, nat64));
	assert_false(cidr_match(&c, 10, almost));
	assert_false(cidr_match(&c, 10, half));

	c = cidr_of("0.0.0.0/0");
	assert_true(match_mapped(&c, 1, 2, 3, 4));
	assert_false(cidr_match(&c, 10, compat));

	c = cidr_of("192.0.2.7");
	assert_true(match_mapped(&c, 192, 0, 2, 7));
	assert_false(match_mapped(&c, 192, 0, 2, 8));
}

static void test_match_ipv6(void **state)
{
	struct cidr c = cidr_of("fd00::/64");
	uint8_t in[16] = { 0xfd, [15] = 1 };
	uint8_t edge[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t out[16] = { 0xfd, [7] = 1, [15] = 1 };
	uint8_t v4[16] = { 0xfd };

	assert_true(cidr_match(&c, 10, in));
	assert_true(cidr_match(&c, 10, edge));
	assert_false(cidr_match(&c, 10, out));
	assert_false(cidr_match(&c, 2, v4));        /* an IPv6 CIDR never takes IPv4 */

	c = cidr_of("::/0");
	assert_true(cidr_match(&c, 10, out));
	assert_false(cidr_match(&c, 2, v4));

	c = cidr_of("2001:db8::1");
	{
		uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

		assert_true(cidr_match(&c, 10, a));
		a[15] = 0;
		assert_false(cidr_match(&c, 10, a));
		a[15] = 1;
		assert_false(cidr_match(&c, 2, a));
	}

	c = cidr_of("::ffff:10.0.0.0/104");   /* an explicit mapped CIDR is plain IPv6 */
	assert_true(match_mapped(&c, 10, 9, 9, 9));
	assert_false(match4(&c, 10, 9, 9, 9));
}

static void test_match_bad_inputs(void **state)
{
	struct cidr c = cidr_of("0.0.0.0/0");
	uint8_t a[16] = { 0 };

	assert_false(cidr_match(&c, 0, a));
	assert_false(cidr_match(&c, 3, a));
	assert_false(cidr_match(&c, 0xffff, a));
	assert_false(cidr_match(NULL, 2, a));
	assert_false(cidr_match(&c, 2, NULL));

	/* Hand-built cidrs that parse_cidr would never produce. */
	c = (struct cidr){ .family = 2, .prefix = 33 };
	assert_false(cidr_match(&c, 2, a));
	c = (struct cidr){ .family = 10, .prefix = 129 };
	assert_false(cidr_match(&c, 10, a));
	c = (struct cidr){ .family = 0, .prefix = 0 };
	assert_false(cidr_match(&c, 2, a));
	assert_false(cidr_match(&c, 0, a));
}

/* ---- format_duration / format_addr ---- */

static void test_format_duration(void **state)
{
	static const struct {
		uint64_t ns;
		const char *s;
	} cases[] = {
		{ 0, "0ms" },
		{ 999999, "0ms" },
		{ 850 * NS_PER_MS, "850ms" },
		{ NS_PER_SEC - 1, "999ms" },
		{ NS_PER_SEC, "1s" },
		{ 42 * NS_PER_SEC, "42s" },
		{ 60 * NS_PER_SEC - 1, "59s" },
		{ 60 * NS_PER_SEC, "1m00s" },
		{ 192 * NS_PER_SEC, "3m12s" },
		{ 65 * NS_PER_SEC, "1m05s" },
		{ 3599 * NS_PER_SEC, "59m59s" },
		{ 3600 * NS_PER_SEC, "1h00m" },
		{ 7500 * NS_PER_SEC, "2h05m" },
		{ 86399 * NS_PER_SEC, "23h59m" },
		{ 86400 * NS_PER_SEC, "1d00h" },
		{ (3 * 86400 + 4 * 3600) * NS_PER_SEC, "3d04h" },
		{ UINT64_MAX, "213503d23h" },
	};
	char buf[32];

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		int n = format_duration(buf, sizeof(buf), cases[i].ns);

		CHECK(!strcmp(buf, cases[i].s), "format_duration(%llu) = \"%s\", want \"%s\"",
		      (unsigned long long)cases[i].ns, buf, cases[i].s);
		CHECK(n == (int)strlen(cases[i].s), "format_duration(%llu) returned %d",
		      (unsigned long long)cases[i].ns, n);
	}
}

static void test_format_duration_truncates(void **state)
{
	char buf[8];

	memset(buf, 'X', sizeof(buf));
	assert_int_equal(format_duration(buf, 4, 850 * NS_PER_MS), 5);
	assert_string_equal(buf, "850");
	assert_int_equal(buf[4], 'X');

	memset(buf, 'X', sizeof(buf));
	assert_int_equal(format_duration(buf, 1, UINT64_MAX), 10);
	assert_string_equal(buf, "");
	assert_int_equal(buf[1], 'X');

	assert_int_equal(format_duration(NULL, 0, 7500 * NS_PER_SEC), 5);
}

static void test_format_addr(void **state)
{
	uint8_t v4[16] = { 192, 0, 2, 7, 0xff, 0xff };
	uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff, [12] = 10, [15] = 1 };
	char buf[64];

	assert_string_equal(format_addr(2, v4, buf, sizeof(buf)), "192.0.2.7");
	assert_string_equal(buf, "192.0.2.7");
	assert_string_equal(format_addr(10, v6, buf, sizeof(buf)), "2001:db8::1");
	assert_string_equal(format_addr(10, mapped, buf, sizeof(buf)), "::ffff:10.0.0.1");

	/* Bad family: "?" returned and left in buf for text callers. */
	assert_string_equal(format_addr(0, v4, buf, sizeof(buf)), "?");
	assert_string_equal(buf, "?");
	assert_string_equal(format_addr(3, v4, buf, sizeof(buf)), "?");
	assert_string_equal(format_addr(0xffff, v4, buf, sizeof(buf)), "?");
	assert_string_equal(format_addr(2, NULL, buf, sizeof(buf)), "?");

	/* Too small for the address. */
	assert_string_equal(format_addr(2, v4, buf, 4), "?");
	assert_string_equal(buf, "?");
	buf[0] = 'X';
	assert_string_equal(format_addr(2, v4, buf, 1), "?");
	assert_int_equal(buf[0], '\0');
	assert_string_equal(format_addr(2, v4, NULL, 0), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_accepts),
		cmocka_unit_test(test_duration_rejects_syntax),
		cmocka_unit_test(test_duration_rejects_overflow),
		cmocka_unit_test(test_duration_syntax_before_range),
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_u64_rejects),
		cmocka_unit_test(test_ports_accepts),
		cmocka_unit_test(test_ports_dedup),
		cmocka_unit_test(test_ports_max_entries),
		cmocka_unit_test(test_ports_rejects_range),
		cmocka_unit_test(test_ports_rejects_syntax),
		cmocka_unit_test(test_cidr_ipv4),
		cmocka_unit_test(test_cidr_ipv6),
		cmocka_unit_test(test_cidr_rejects_range),
		cmocka_unit_test(test_cidr_rejects_syntax),
		cmocka_unit_test(test_match_ipv4),
		cmocka_unit_test(test_match_mapped),
		cmocka_unit_test(test_match_ipv6),
		cmocka_unit_test(test_match_bad_inputs),
		cmocka_unit_test(test_format_duration),
		cmocka_unit_test(test_format_duration_truncates),
		cmocka_unit_test(test_format_addr),
	};

	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
