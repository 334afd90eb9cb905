/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Parsers for command-line values. All return 0 or -errno (-EINVAL for
 * malformed text, -ERANGE for out-of-range values) and never write *out on
 * failure. None of them allocate. */
#ifndef FW_PARSE_H
#define FW_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define NS_PER_SEC 1000000000ULL
#define NS_PER_MS 1000000ULL

/* "250ms", "30s", "5m", "2h", "1d", combinations like "1h30m", or a bare
 * number meaning seconds. "0" is valid. Overflow past ~584 years is -ERANGE. */
int parse_duration_ns(const char *s, uint64_t *out);

/* Decimal unsigned integer, no sign, no trailing text, <= max. */
int parse_u64(const char *s, uint64_t max, uint64_t *out);

/* Comma-separated ports, each 1..65535, at most max entries ("80,443").
 * Duplicates are kept once. */
int parse_port_list(const char *s, uint16_t *ports, int max, int *n);

struct cidr {
	uint16_t family;   /* 2 (AF_INET) or 10 (AF_INET6) */
	uint8_t prefix;    /* 0..32 or 0..128 */
	uint8_t addr[16];  /* network byte order, host bits cleared */
};

/* "10.0.0.0/8", "fd00::/64", or a bare address (/32, /128). Host bits set
 * in the address are rejected (-EINVAL) so typos do not silently widen. */
int parse_cidr(const char *s, struct cidr *out);

/* 1 when addr (16 bytes, IPv4 in the first 4) of family is inside c.
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d) matches an IPv4 CIDR. */
int cidr_match(const struct cidr *c, uint16_t family, const uint8_t *addr);

/* Human duration: "850ms", "42s", "3m12s", "2h05m", "3d04h". Always
 * NUL-terminates; returns the snprintf-style length. */
int format_duration(char *buf, size_t len, uint64_t ns);

/* Address text (inet_ntop) of a 16-byte address; "?" for a bad family. */
const char *format_addr(uint16_t family, const uint8_t *addr, char *buf, size_t len);

#endif
