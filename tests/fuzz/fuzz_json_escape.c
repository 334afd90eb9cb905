// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libFuzzer: json_escape and jw_string_len on arbitrary bytes. The body of
 * every string must be valid UTF-8 with no byte below 0x20, no DEL and no
 * '"' or '\\' that is not part of a well-formed escape; both entry points
 * must produce the same text, and truncation must only cut at a whole
 * escape. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json_writer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Aborts unless s is a well-formed JSON string body in strict UTF-8. Decodes
 * code points rather than reusing the writer's lead-byte table, so the two
 * cannot share a mistake. */
static void check_body(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len; ) {
		unsigned int c = s[i], cp, n;

		if (c < 0x20 || c == 0x7f || c == '"')
			abort();
		if (c == '\\') {
			if (i + 1 >= len)
				abort();
			switch (s[i + 1]) {
			case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
				i += 2;
				continue;
			case 'u':
				if (i + 6 > len || !is_hex(s[i + 2]) || !is_hex(s[i + 3]) ||
				    !is_hex(s[i + 4]) || !is_hex(s[i + 5]))
					abort();
				i += 6;
				continue;
			default:
				abort();
			}
		}
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			n = 2;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 3;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 4;
			cp = c & 0x07;
		} else {
			abort();
		}
		if (i + n > len)
			abort();
		for (unsigned int k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				abort();
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			abort();
		i += n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	size_t need = json_escape(NULL, 0, in, size), cut, got;
	char *full, *part, *mbuf = NULL;
	size_t mlen = 0;
	struct json_writer jw;
	FILE *f;

	if (need < size || need > 6 * size)
		abort();
	full = malloc(need + 1);
	if (!full)
		return 0;
	if (json_escape(full, need + 1, in, size) != need || strlen(full) != need)
		abort();
	check_body((const unsigned char *)full, need);

	/* A truncated escape is a prefix of the full one and is itself a
	 * well-formed body. The exact-size heap buffer catches overruns. */
	cut = size ? data[size - 1] % (need + 1) + 1 : 1;
	part = malloc(cut);
	if (!part)
		abort();
	if (json_escape(part, cut, in, size) != need)
		abort();
	got = strlen(part);
	if (got >= cut || memcmp(part, full, got))
		abort();
	check_body((const unsigned char *)part, got);
	free(part);

	f = open_memstream(&mbuf, &mlen);
	if (!f)
		abort();
	jw_init(&jw, f);
	jw_start_object(&jw);
	jw_name(&jw, "comm");
	jw_string_len(&jw, in, size);
	jw_end_object(&jw);
	if (jw_end_line(&jw) || jw.error)
		abort();
	fclose(f);
	if (mlen != need + 12 || memcmp(mbuf, "{\"comm\":\"", 9) ||
	    memcmp(mbuf + 9, full, need) || memcmp(mbuf + 9 + need, "\"}\n", 3))
		abort();
	for (size_t i = 0; i + 1 < mlen; i++)
		if ((unsigned char)mbuf[i] < 0x20)
			abort();
	free(mbuf);
	free(full);
	return 0;
}
