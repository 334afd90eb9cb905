// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The whole command line: input split on NUL bytes into argv. Every input
 * must parse to 0, 1 (help) or -EINVAL with a one-line message, and never
 * crash or overflow. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[64] = { "finwatch" };
	struct fw_config cfg;
	char err[256];
	int argc = 1, r;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (size_t i = 0, start = 0; i <= size && argc < 63; i++)
		if (buf[i] == '\0') {
			argv[argc++] = buf + start;
			start = i + 1;
		}
	argv[argc] = NULL;
	r = cli_parse(argc, argv, &cfg, err, sizeof(err));
	if (r != 0 && r != 1 && r != 2 && r != -EINVAL)
		abort();
	if (r == -EINVAL && (!err[0] || strchr(err, '\n')))
		abort();
	if (r == 0 && (cfg.n_lports > FW_MAX_PORTS || cfg.n_peers > FW_MAX_PEERS || cfg.top < 1))
		abort();
	free(buf);
	return 0;
}
