/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A growing text buffer (the metrics page, an alert's JSON for hooks). */
#ifndef FW_STRBUF_H
#define FW_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *buf;
	size_t len, cap;
	int oom;          /* sticky allocation failure */
};

void sb_reset(struct strbuf *sb);
void sb_free(struct strbuf *sb);
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Label values escaped per the exposition format (\\, \", \n). */
void sb_label_value(struct strbuf *sb, const char *v);

#endif
