// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Command-line value parsers. Hand-rolled rather than strtoull(): that one
 * accepts leading blanks, a sign and "0x", none of which a port, prefix or
 * duration should silently take. Every parser checks the whole string for
 * syntax before reporting a range error, so junk is always -EINVAL. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "parse.h"

#define DIGITS "0123456789"
#define LOWER "abcdefghijklmnopqrstuvwxyz"

/* n decimal digits at s (the caller has checked they are digits). On
 * overflow returns -ERANGE with *v unspecified. */
static int read_uint(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	for (size_t i = 0; i < n; i++)
		if (__builtin_mul_overflow(x, 10, &x) ||
		    __builtin_add_overflow(x, (uint64_t)(s[i] - '0'), &x))
			return -ERANGE;
	*v = x;
	return 0;
}

int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v;
	size_t n;

	if (!s || !out)
		return -EINVAL;
	n = strspn(s, DIGITS);
	if (!n || s[n])
		return -EINVAL;
	if (read_uint(s, n, &v) || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* Largest unit first: components must appear in this order, each at most
 * once, so "30m1h" or "1m1m" (likely typos) are refused. */
static const struct {
	const char *name;
	uint64_t ns;
} units[] = {
	{ "d", 86400 * NS_PER_SEC },
	{ "h", 3600 * NS_PER_SEC },
	{ "m", 60 * NS_PER_SEC },
	{ "s", NS_PER_SEC },
	{ "ms", NS_PER_MS },
};

static int unit_index(const char *u, size_t n)
{
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i].name) == n && !memcmp(units[i].name, u, n))
			return (int)i;
	return -1;
}

int parse_duration_ns(const char *s, uint64_t *out)
{
	uint64_t total = 0, v;
	const char *p;
	int last = -1, range = 0;
	size_t nd;

	if (!s || !out || !*s)
		return -EINVAL;
	nd = strspn(s, DIGITS);
	if (!s[nd]) {
		/* A bare number is seconds, the unit people mean by "--interval 5". */
		if (read_uint(s, nd, &v) || __builtin_mul_overflow(v, NS_PER_SEC, &v))
			return -ERANGE;
		*out = v;
		return 0;
	}
	for (p = s; *p; ) {
		size_t nu;
		int u;

		nd = strspn(p, DIGITS);
		if (!nd)
			return -EINVAL;     /* sign, blank, '.', or a unit with no number */
		nu = strspn(p + nd, LOWER);
		u = unit_index(p + nd, nu);
		if (u <= last)              /* unknown (-1), missing, repeated or out of order */
			return -EINVAL;
		if (read_uint(p, nd, &v) || __builtin_mul_overflow(v, units[u].ns, &v) ||
		    __builtin_add_overflow(total, v, &total))
			range = 1;
		last = u;
		p += nd + nu;
	}
	if (range)
		return -ERANGE;
	*out = total;
	return 0;
}

int parse_port_list(const char *s, uint16_t *ports, int max, int *n)
{
	/* One bit per port: dedup without allocating, and lets the first pass
	 * count unique ports so nothing is written unless the whole list is good. */
	uint8_t seen[65536 / 8];
	const char *p;
	int count = 0, range = 0, k = 0;

	if (!s || !ports || !n || max < 0)
		return -EINVAL;
	memset(seen, 0, sizeof(seen));
	for (p = s; ; p++) {
		size_t nd = strspn(p, DIGITS);
		uint64_t v;

		if (!nd || (p[nd] != ',' && p[nd]))
			return -EINVAL;     /* empty item, stray comma, blank or junk */
		if (read_uint(p, nd, &v) || v == 0 || v > 65535)
			range = 1;
		else if (!(seen[v / 8] & (1u << (v % 8)))) {
			seen[v / 8] |= (uint8_t)(1u << (v % 8));
			count++;
		}
		p += nd;
		if (!*p)
			break;
	}
	if (range || count > max)
		return -ERANGE;
	/* Second pass over a list now known to be valid: emit each port at its
	 * first occurrence, clearing its bit so repeats are skipped. */
	for (p = s; *p; p++) {
		size_t nd = strspn(p, DIGITS);
		uint64_t v = 0;     /* bit 0 is never set: port 0 was refused */

		read_uint(p, nd, &v);
		if (seen[v / 8] & (1u << (v % 8))) {
			seen[v / 8] &= (uint8_t)~(1u << (v % 8));
			ports[k++] = (uint16_t)v;
		}
		p += nd;
		if (!*p)
			break;
	}
	*n = k;
	return 0;
}

/* The byte i of a mask with prefix leading one-bits. */
static uint8_t mask_byte(unsigned int prefix, unsigned int i)
{
	if (prefix >= 8 * (i + 1))
		return 0xff;
	if (prefix <= 8 * i)
		return 0;
	return (uint8_t)(0xff << (8 - (prefix - 8 * i)));
}

static int prefix_match(const uint8_t *net, const uint8_t *a, unsigned int prefix)
{
	for (unsigned int i = 0; 8 * i < prefix; i++)
		if ((net[i] ^ a[i]) & mask_byte(prefix, i))
			return 0;
	return 1;
}

int parse_cidr(const char *s, struct cidr *out)
{
	char host[INET6_ADDRSTRLEN];
	struct cidr c;
	const char *slash;
	uint64_t prefix;
	unsigned int bits;
	size_t alen;
	int r;

	if (!s || !out)
		return -EINVAL;
	memset(&c, 0, sizeof(c));
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (!alen || alen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, alen);
	host[alen] = '\0';
	/* The text decides the family; inet_pton then rejects anything else
	 * (zone ids, blanks, short IPv4 forms like "10.1"). */
	if (strchr(host, ':')) {
		c.family = AF_INET6;
		bits = 128;
	} else {
		c.family = AF_INET;
		bits = 32;
	}
	if (inet_pton(c.family, host, c.addr) != 1)
		return -EINVAL;
	prefix = bits;
	if (slash && (r = parse_u64(slash + 1, bits, &prefix)))
		return r;
	c.prefix = (uint8_t)prefix;
	for (unsigned int i = 0; i < bits / 8; i++)
		if (c.addr[i] & (uint8_t)~mask_byte(c.prefix, i))
			return -EINVAL;
	*out = c;
	return 0;
}

int cidr_match(const struct cidr *c, uint16_t family, const uint8_t *addr)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (!c || !addr)
		return 0;
	/* A hand-built cidr with a bad prefix must not read past addr. */
	if (c->family == AF_INET && c->prefix <= 32) {
		if (family == AF_INET)
			return prefix_match(c->addr, addr, c->prefix);
		/* Dual-stack listeners see IPv4 peers as ::ffff:a.b.c.d. */
		if (family == AF_INET6 && !memcmp(addr, v4mapped, sizeof(v4mapped)))
			return prefix_match(c->addr, addr + 12, c->prefix);
		return 0;
	}
	if (c->family == AF_INET6 && c->prefix <= 128 && family == AF_INET6)
		return prefix_match(c->addr, addr, c->prefix);
	return 0;
}

int format_duration(char *buf, size_t len, uint64_t ns)
{
	uint64_t s = ns / NS_PER_SEC;

	if (s < 1)
		return snprintf(buf, len, "%" PRIu64 "ms", (uint64_t)(ns / NS_PER_MS));
	if (s < 60)
		return snprintf(buf, len, "%" PRIu64 "s", s);
	if (s < 3600)
		return snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	if (s < 86400)
		return snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s / 60 % 60);
	return snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s / 3600 % 24);
}

const char *format_addr(uint16_t family, const uint8_t *addr, char *buf, size_t len)
{
	/* buf gets "?" too: text callers print buf, not the return value. */
	if ((family != AF_INET && family != AF_INET6) || !addr || !buf || !len ||
	    !inet_ntop(family, addr, buf, len > 1024 ? 1024 : (socklen_t)len)) {
		if (buf && len)
			snprintf(buf, len, "?");
		return "?";
	}
	return buf;
}
