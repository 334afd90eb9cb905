// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "strbuf.h"

void sb_reset(struct strbuf *sb)
{
	sb->len = 0;
	sb->oom = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

void sb_free(struct strbuf *sb)
{
	free(sb->buf);
	memset(sb, 0, sizeof(*sb));
}

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->oom)
		return;
	for (;;) {
		size_t room = sb->cap - sb->len;

		va_start(ap, fmt);
		n = vsnprintf(sb->buf ? sb->buf + sb->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			sb->oom = 1;
			return;
		}
		if ((size_t)n < room) {
			sb->len += (size_t)n;
			return;
		}
		size_t cap = sb->cap ? sb->cap * 2 : 4096;

		while (cap - sb->len <= (size_t)n)
			cap *= 2;
		char *nb = realloc(sb->buf, cap);

		if (!nb) {
			sb->oom = 1;
			return;
		}
		sb->buf = nb;
		sb->cap = cap;
	}
}

void sb_label_value(struct strbuf *sb, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			sb_printf(sb, "\\\\");
		else if (*v == '"')
			sb_printf(sb, "\\\"");
		else if (*v == '\n')
			sb_printf(sb, "\\n");
		else
			sb_printf(sb, "%c", *v);
	}
}
