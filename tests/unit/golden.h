/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Golden-line checks: output captured in memory and compared byte for byte.
 * A mismatch prints what was produced as a C string literal, ready to paste
 * when a change of the output is intended (GOLDEN_PRINT=1 prints every
 * mismatch instead of stopping at the first). Include after cmocka.h. */
#ifndef FW_TEST_GOLDEN_H
#define FW_TEST_GOLDEN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "finwatch.h"

struct capture {
	char *buf;
	size_t len;
	FILE *f;
};

static inline FILE *cap_open(struct capture *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	return c->f;
}

/* Closes the stream; the caller frees the text. */
static inline char *cap_text(struct capture *c)
{
	fclose(c->f);
	c->f = NULL;
	return c->buf;
}

static inline void golden_print(const char *name, const char *got)
{
	fprintf(stderr, "golden %s: got\n\t\"", name);
	for (const char *p = got; *p; p++) {
		if (*p == '\n')
			fprintf(stderr, p[1] ? "\\n\"\n\t\"" : "\\n");
		else if (*p == '"' || *p == '\\')
			fprintf(stderr, "\\%c", *p);
		else
			fputc(*p, stderr);
	}
	fprintf(stderr, "\"\n");
}

#define assert_golden(name, got, want)                                  \
	do {                                                             \
		const char *g_ = (got), *w_ = (want);                    \
		if (strcmp(g_, w_))                                      \
			golden_print(name, g_);                          \
		if (!getenv("GOLDEN_PRINT"))                             \
			assert_string_equal(g_, w_);                     \
	} while (0)

/* Captures what expr writes to FILE *out, and checks it. */
#define assert_output(name, want, expr)                                  \
	do {                                                              \
		struct capture c_;                                        \
		FILE *out = cap_open(&c_);                                \
		assert_non_null(out);                                     \
		expr;                                                     \
		char *t_ = cap_text(&c_);                                 \
		assert_golden(name, t_, want);                            \
		free(t_);                                                 \
	} while (0)

/* One transition of socket `cookie` of 10.0.0.1 to 192.0.2.<peer>:443 in
 * the init netns, closed by frontend[1234]: the event every tracker and
 * record test is built from. */
static inline struct fw_event golden_ev(__u64 cookie, int peer, __u8 old, __u8 nw, __u64 ts,
					__u8 flags, int err)
{
	struct fw_event e;

	memset(&e, 0, sizeof(e));
	e.ts_ns = ts;
	e.cookie = cookie;
	e.ns_in_old = FW_NS_UNKNOWN;
	e.netns = 4026531840u;
	e.family = FW_AF_INET;
	e.saddr[0] = 10; e.saddr[3] = 1;
	e.daddr[0] = 192; e.daddr[2] = 2; e.daddr[3] = (__u8)peer;
	e.sport = (__u16)(40000 + cookie);
	e.dport = 443;
	e.oldstate = old;
	e.newstate = nw;
	e.flags = flags;
	e.pid = 1234;
	memcpy(e.comm, "frontend", 9);
	e.sk_err = err;
	return e;
}

#endif
