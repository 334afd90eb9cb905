// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libFuzzer: parse_cidr, cidr_match and parse_port_list on the same input.
 * A parsed CIDR must be self-consistent: its own network address matches,
 * host bits are clear, and its text form parses back to the same value. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "parse.h"

#define FW_PORTS_MAX 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_cidr(const struct cidr *c, const uint8_t *data, size_t size)
{
	unsigned int bits = c->family == 2 ? 32 : 128;
	uint8_t probe[16] = { 0 }, mapped[16] = { [10] = 0xff, [11] = 0xff };
	char text[64], again[80];
	struct cidr back;

	if ((c->family != 2 && c->family != 10) || c->prefix > bits)
		abort();
	for (unsigned int i = 0; i < bits; i++)
		if (i >= c->prefix && (c->addr[i / 8] >> (7 - i % 8) & 1))
			abort();        /* host bit set */
	for (unsigned int i = bits / 8; i < 16; i++)
		if (c->addr[i])
			abort();
	if (!cidr_match(c, c->family, c->addr))
		abort();
	if (c->family == 2) {
		memcpy(mapped + 12, c->addr, 4);
		if (!cidr_match(c, 10, mapped))
			abort();
	}
	/* Any address from the input: match may say anything, but must not
	 * read out of bounds or disagree with the mapped form. */
	memcpy(probe, data, size < 16 ? size : 16);
	if (c->family == 2) {
		memcpy(mapped + 12, probe, 4);
		if (cidr_match(c, 2, probe) != cidr_match(c, 10, mapped))
			abort();
	} else {
		cidr_match(c, 10, probe);
	}
	for (unsigned int f = 0; f < 12; f++)
		if (f != 2 && f != 10 && cidr_match(c, (uint16_t)f, probe))
			abort();

	if (format_addr(c->family, c->addr, text, sizeof(text)) != text)
		abort();
	snprintf(again, sizeof(again), "%s/%u", text, c->prefix);
	if (parse_cidr(again, &back) || back.family != c->family || back.prefix != c->prefix ||
	    memcmp(back.addr, c->addr, 16))
		abort();
}

static void check_ports(const char *s)
{
	uint16_t ports[FW_PORTS_MAX + 1];
	int n = -1, r;

	ports[FW_PORTS_MAX] = 0xbeef;
	r = parse_port_list(s, ports, FW_PORTS_MAX, &n);
	if (r != 0 && r != -EINVAL && r != -ERANGE)
		abort();
	if (r) {
		if (n != -1)
			abort();
		return;
	}
	if (n < 1 || n > FW_PORTS_MAX || ports[FW_PORTS_MAX] != 0xbeef)
		abort();
	for (int i = 0; i < n; i++) {
		if (!ports[i])
			abort();
		for (int j = 0; j < i; j++)
			if (ports[i] == ports[j])
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct cidr c;
	int r;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	memset(&c, 0xa5, sizeof(c));
	r = parse_cidr(s, &c);
	if (r == 0)
		check_cidr(&c, data, size);
	else if (r != -EINVAL && r != -ERANGE)
		abort();
	else if (c.family != 0xa5a5)
		abort();        /* wrote *out on failure */

	check_ports(s);
	free(s);
	return 0;
}
