// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Unit tests for user/json_writer.c: exact output for structure, commas,
 * numbers and the escaping of every byte value. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <cmocka.h>
#include "json_writer.h"

#define CHECK(cond, fmt, ...)                                                       \
	do {                                                                        \
		if (!(cond)) {                                                      \
			print_error("%s:%d: " fmt "\n", __FILE__, __LINE__, __VA_ARGS__); \
			fail();                                                     \
		}                                                                   \
	} while (0)

/* A writer on an open_memstream buffer, set up and torn down per test. */
struct mem {
	struct json_writer jw;
	FILE *f;
	char *buf;
	size_t len;
};

static int mem_setup(void **state)
{
	struct mem *m = calloc(1, sizeof(*m));

	if (!m || !(m->f = open_memstream(&m->buf, &m->len)))
		return -1;
	jw_init(&m->jw, m->f);
	*state = m;
	return 0;
}

static int mem_teardown(void **state)
{
	struct mem *m = *state;

	fclose(m->f);
	free(m->buf);
	free(m);
	return 0;
}

/* Everything written so far, then starts over. */
static const char *take(struct mem *m, char *dst, size_t dstlen)
{
	jw_flush(&m->jw);
	assert_int_equal(fflush(m->f), 0);
	assert_true(m->len < dstlen);
	/* After rewind the buffer keeps old bytes past len: copy len only. */
	memcpy(dst, m->buf, m->len);
	dst[m->len] = '\0';
	rewind(m->f);
	return dst;
}

#define OUT(m) take((m), out, sizeof(out))

/* What one byte must become, written out independently of the writer. */
static const char *expected_byte(unsigned int b, char *tmp)
{
	switch (b) {
	case '"': return "\\\"";
	case '\\': return "\\\\";
	case '\n': return "\\n";
	case '\t': return "\\t";
	case '\r': return "\\r";
	case '\b': return "\\b";
	case '\f': return "\\f";
	}
	if (b < 0x20 || b >= 0x7f)   /* a lone byte >= 0x80 is never valid UTF-8 */
		sprintf(tmp, "\\u%04x", b);
	else
		sprintf(tmp, "%c", b);
	return tmp;
}

/* Strict UTF-8 check by decoding and range-testing the code point, a
 * different method from the writer's lead-byte table. */
static int valid_utf8(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len; ) {
		unsigned int c = s[i], cp, n;

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
			return 0;
		}
		if (i + n > len)
			return 0;
		for (unsigned int k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return 0;
		i += n;
	}
	return 1;
}

static void assert_no_raw_controls(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		CHECK((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] != 0x7f,
		      "raw byte 0x%02x at offset %zu", (unsigned char)s[i], i);
}

/* ---- structure ---- */

static void test_empty_containers(void **state)
{
	struct mem *m = *state;
	char out[256];

	jw_start_object(&m->jw);
	jw_end_object(&m->jw);
	assert_int_equal(jw_end_line(&m->jw), 0);
	assert_string_equal(OUT(m), "{}\n");

	jw_start_array(&m->jw);
	jw_end_array(&m->jw);
	assert_int_equal(jw_end_line(&m->jw), 0);
	assert_string_equal(OUT(m), "[]\n");
}

static void test_all_field_types(void **state)
{
	struct mem *m = *state;
	char out[512];

	jw_start_object(&m->jw);
	jw_string_field(&m->jw, "s", "x");
	jw_uint_field(&m->jw, "u", UINT64_MAX);
	jw_uint_field(&m->jw, "z", 0);
	jw_int_field(&m->jw, "i", INT64_MIN);
	jw_int_field(&m->jw, "j", INT64_MAX);
	jw_double_field(&m->jw, "d", 1.5);
	jw_bool_field(&m->jw, "t", 1);
	jw_bool_field(&m->jw, "t2", 42);
	jw_bool_field(&m->jw, "f", 0);
	jw_null_field(&m->jw, "n");
	jw_end_object(&m->jw);
	assert_int_equal(jw_end_line(&m->jw), 0);
	assert_string_equal(OUT(m),
			    "{\"s\":\"x\",\"u\":18446744073709551615,\"z\":0,"
			    "\"i\":-9223372036854775808,\"j\":9223372036854775807,"
			    "\"d\":1.500,\"t\":true,\"t2\":true,\"f\":false,\"n\":null}\n");
}

static void test_nesting_commas(void **state)
{
	struct mem *m = *state;
	char out[512];

	jw_start_object(&m->jw);
	jw_name(&m->jw, "a");
	jw_start_array(&m->jw);
	jw_uint(&m->jw, 1);
	jw_int(&m->jw, -2);
	jw_start_object(&m->jw);
	jw_name(&m->jw, "b");
	jw_start_array(&m->jw);
	jw_end_array(&m->jw);
	jw_string_field(&m->jw, "c", "d");
	jw_end_object(&m->jw);
	jw_start_array(&m->jw);
	jw_end_array(&m->jw);
	jw_start_array(&m->jw);
	jw_null(&m->jw);
	jw_bool(&m->jw, 0);
	jw_end_array(&m->jw);
	jw_string(&m->jw, "e");
	jw_end_array(&m->jw);
	jw_name(&m->jw, "f");
	jw_start_object(&m->jw);
	jw_end_object(&m->jw);
	jw_uint_field(&m->jw, "g", 7);
	jw_end_object(&m->jw);
	assert_int_equal(jw_end_line(&m->jw), 0);
	assert_string_equal(OUT(m),
			    "{\"a\":[1,-2,{\"b\":[],\"c\":\"d\"},[],[null,false],\"e\"],"
			    "\"f\":{},\"g\":7}\n");
}

static void test_array_of_objects(void **state)
{
	struct mem *m = *state;
	char out[256];

	jw_start_array(&m->jw);
	for (int i = 0; i < 3; i++) {
		jw_start_object(&m->jw);
		jw_int_field(&m->jw, "i", i);
		jw_end_object(&m->jw);
	}
	jw_end_array(&m->jw);
	jw_end_line(&m->jw);
	assert_string_equal(OUT(m), "[{\"i\":0},{\"i\":1},{\"i\":2}]\n");
}

/* JSON Lines: records never pick up a comma from the previous one. */
static void test_lines_independent(void **state)
{
	struct mem *m = *state;
	char out[256];

	for (int i = 0; i < 3; i++) {
		jw_start_object(&m->jw);
		jw_uint_field(&m->jw, "n", (uint64_t)i);
		jw_end_object(&m->jw);
		assert_int_equal(jw_end_line(&m->jw), 0);
	}
	jw_uint(&m->jw, 5);
	jw_end_line(&m->jw);
	jw_string(&m->jw, "x");
	jw_end_line(&m->jw);
	assert_string_equal(OUT(m), "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n5\n\"x\"\n");
}

/* A caller that forgets to close still gets a clean next line. */
static void test_unbalanced_recovers(void **state)
{
	struct mem *m = *state;
	char out[256];

	jw_start_object(&m->jw);
	jw_name(&m->jw, "a");
	jw_start_array(&m->jw);
	jw_uint(&m->jw, 1);
	assert_int_equal(jw_end_line(&m->jw), 0);
	assert_int_equal(m->jw.depth, 0);
	jw_start_object(&m->jw);
	jw_uint_field(&m->jw, "b", 2);
	jw_end_object(&m->jw);
	jw_end_line(&m->jw);
	assert_string_equal(OUT(m), "{\"a\":[1\n{\"b\":2}\n");

	/* Extra ends are ignored, not written, and depth never goes negative. */
	jw_end_object(&m->jw);
	jw_end_array(&m->jw);
	assert_int_equal(m->jw.depth, 0);
	jw_uint(&m->jw, 3);
	jw_end_line(&m->jw);
	assert_string_equal(OUT(m), "3\n");
}

/* Deeper than JW_MAX_DEPTH: still balanced, commas still right. */
static void test_deep_nesting(void **state)
{
	struct mem *m = *state;
	char out[1024], want[1024];
	const int levels = 3 * JW_MAX_DEPTH;
	size_t w = 0;

	for (int i = 0; i < levels; i++) {
		jw_start_array(&m->jw);
		jw_uint(&m->jw, (uint64_t)i % 10);
		w += (size_t)sprintf(want + w, "%s[%d", i ? "," : "", i % 10);
	}
	for (int i = 0; i < levels; i++) {
		jw_end_array(&m->jw);
		jw_uint(&m->jw, 9);
		w += (size_t)sprintf(want + w, "]%s", i < levels - 1 ? ",9" : "");
	}
	/* the final 9 is at depth 0: a second top-level value, no comma */
	w += (size_t)sprintf(want + w, "9");
	assert_int_equal(m->jw.depth, 0);
	jw_end_line(&m->jw);
	sprintf(want + w, "\n");
	assert_string_equal(OUT(m), want);
}

static void test_double(void **state)
{
	struct mem *m = *state;
	char out[512];

	jw_start_array(&m->jw);
	jw_double(&m->jw, 0.0);
	jw_double(&m->jw, 1.5);
	jw_double(&m->jw, -2.25);
	jw_double(&m->jw, 0.0004);
	jw_double(&m->jw, 12345.6789);
	jw_double(&m->jw, 999999999999999.0);
	jw_double(&m->jw, 1e15);
	jw_double(&m->jw, -1e300);
	jw_double(&m->jw, NAN);
	jw_double(&m->jw, INFINITY);
	jw_double(&m->jw, -INFINITY);
	jw_end_array(&m->jw);
	jw_end_line(&m->jw);
	assert_string_equal(OUT(m),
			    "[0.000,1.500,-2.250,0.000,12345.679,999999999999999.000,"
			    "1.000000e+15,-1.000000e+300,null,null,null]\n");
}

/* Durations in ns as ms or s with 3 decimals, rounded to nearest, as %.3f
 * would print them but without its cost. */
static void test_fixed3(void **state)
{
	struct mem *m = *state;
	char out[512];

	jw_start_array(&m->jw);
	jw_fixed3(&m->jw, 0, 1000000);
	jw_fixed3(&m->jw, 499, 1000000);
	jw_fixed3(&m->jw, 500, 1000000);
	jw_fixed3(&m->jw, 1499, 1000000);
	jw_fixed3(&m->jw, 457917000, 1000000);
	jw_fixed3(&m->jw, 999999500, 1000000);
	jw_fixed3(&m->jw, 61234567890ULL, 1000000000);
	jw_fixed3(&m->jw, UINT64_MAX, 1000000);
	jw_end_array(&m->jw);
	jw_end_line(&m->jw);
	assert_string_equal(OUT(m), "[0.000,0.000,0.001,0.001,457.917,1000.000,61.235,"
				    "18446744073709.552]\n");
}

static void test_null_strings(void **state)
{
	struct mem *m = *state;
	char out[256];

	jw_start_object(&m->jw);
	jw_string_field(&m->jw, "old", NULL);
	jw_name(&m->jw, NULL);
	jw_uint(&m->jw, 1);
	jw_string_len(&m->jw, NULL, 0);
	jw_end_object(&m->jw);
	jw_end_line(&m->jw);
	assert_string_equal(OUT(m), "{\"old\":null,\"\":1,\"\"}\n");
}

/* ---- escaping ---- */

static void test_escape_short_forms(void **state)
{
	struct mem *m = *state;
	char out[256];

	jw_start_object(&m->jw);
	jw_string_field(&m->jw, "k\"\\", "q\" b\\ n\n t\t r\r b\b f\f /");
	jw_end_object(&m->jw);
	jw_end_line(&m->jw);
	assert_string_equal(OUT(m),
			    "{\"k\\\"\\\\\":\"q\\\" b\\\\ n\\n t\\t r\\r b\\b f\\f /\"}\n");
}

static void test_escape_selected_bytes(void **state)
{
	static const struct {
		unsigned char b;
		const char *want;
	} cases[] = {
		{ 0x00, "\\u0000" }, { 0x01, "\\u0001" }, { 0x07, "\\u0007" },
		{ 0x0b, "\\u000b" }, { 0x1b, "\\u001b" }, { 0x1f, "\\u001f" },
		{ 0x20, " " }, { 0x2f, "/" }, { 0x41, "A" }, { 0x7e, "~" },
		{ 0x7f, "\\u007f" }, { 0x80, "\\u0080" }, { 0xa9, "\\u00a9" },
		{ 0xc3, "\\u00c3" }, { 0xff, "\\u00ff" },
	};
	char out[16];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = json_escape(out, sizeof(out), (const char *)&cases[i].b, 1);

		CHECK(!strcmp(out, cases[i].want), "byte 0x%02x -> \"%s\", want \"%s\"",
		      cases[i].b, out, cases[i].want);
		CHECK(n == strlen(cases[i].want), "byte 0x%02x: returned %zu", cases[i].b, n);
	}
}

/* Every byte value alone, through both entry points. */
static void test_escape_every_byte(void **state)
{
	struct mem *m = *state;
	char out[64], want[16], tmp[16], esc[16];

	for (unsigned int b = 0; b < 256; b++) {
		char c = (char)b;
		size_t n = json_escape(esc, sizeof(esc), &c, 1);
		const char *e = expected_byte(b, tmp);

		CHECK(!strcmp(esc, e), "json_escape(0x%02x) = \"%s\", want \"%s\"", b, esc, e);
		CHECK(n == strlen(e), "json_escape(0x%02x) returned %zu", b, n);
		assert_no_raw_controls(esc, strlen(esc));

		jw_string_len(&m->jw, &c, 1);
		snprintf(want, sizeof(want), "\"%s\"", e);
		CHECK(!strcmp(OUT(m), want), "jw_string_len(0x%02x) = %s, want %s", b, out, want);
	}
}

/* All 256 bytes in one string: still valid UTF-8, no raw control bytes. */
static void test_escape_all_bytes_in_one_string(void **state)
{
	struct mem *m = *state;
	char in[256], want[2048], tmp[16], esc[2048], out[2048];
	size_t w = 0, n;

	for (unsigned int b = 0; b < 256; b++) {
		in[b] = (char)b;
		w += (size_t)sprintf(want + w, "%s", expected_byte(b, tmp));
	}
	n = json_escape(esc, sizeof(esc), in, sizeof(in));
	assert_int_equal(n, w);
	assert_string_equal(esc, want);
	assert_no_raw_controls(esc, n);
	assert_true(valid_utf8((const unsigned char *)esc, n));

	/* Reversed, so high bytes precede low ones: 0xc3 0xc2 ... must not
	 * pair with what follows. */
	for (unsigned int b = 0; b < 256; b++)
		in[b] = (char)(255 - b);
	jw_string_len(&m->jw, in, sizeof(in));
	OUT(m);
	assert_no_raw_controls(out, strlen(out));
	assert_true(valid_utf8((const unsigned char *)out, strlen(out)));
	assert_int_equal(strlen(out), w + 2);
}

static void check_escape(const char *in, size_t len, const char *want)
{
	char out[128];
	size_t n = json_escape(out, sizeof(out), in, len);

	CHECK(!strcmp(out, want), "json_escape gave \"%s\", want \"%s\"", out, want);
	CHECK(n == strlen(want), "json_escape returned %zu, want %zu", n, strlen(want));
	assert_true(valid_utf8((const unsigned char *)out, n));
	assert_no_raw_controls(out, n);
}

#define ESC(lit, want) check_escape((lit), sizeof(lit) - 1, (want))

static void test_utf8_passthrough(void **state)
{
	ESC("\xc2\x80", "\xc2\x80");                    /* U+0080, lowest 2-byte */
	ESC("\xc3\xa9", "\xc3\xa9");                    /* é */
	ESC("\xdf\xbf", "\xdf\xbf");                    /* U+07FF */
	ESC("\xe0\xa0\x80", "\xe0\xa0\x80");            /* U+0800, lowest 3-byte */
	ESC("\xe2\x82\xac", "\xe2\x82\xac");            /* € */
	ESC("\xed\x9f\xbf", "\xed\x9f\xbf");            /* U+D7FF, below surrogates */
	ESC("\xee\x80\x80", "\xee\x80\x80");            /* U+E000, above surrogates */
	ESC("\xef\xbf\xbf", "\xef\xbf\xbf");            /* U+FFFF */
	ESC("\xf0\x90\x80\x80", "\xf0\x90\x80\x80");    /* U+10000, lowest 4-byte */
	ESC("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80");    /* 😀 */
	ESC("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf");    /* U+10FFFF, the last */
	ESC("a\xc3\xa9\"\xe2\x82\xac\n", "a\xc3\xa9\\\"\xe2\x82\xac\\n");
}

static void test_utf8_rejected(void **state)
{
	/* overlongs */
	ESC("\xc0\x80", "\\u00c0\\u0080");
	ESC("\xc1\xbf", "\\u00c1\\u00bf");
	ESC("\xe0\x80\x80", "\\u00e0\\u0080\\u0080");
	ESC("\xe0\x9f\xbf", "\\u00e0\\u009f\\u00bf");
	ESC("\xf0\x80\x80\x80", "\\u00f0\\u0080\\u0080\\u0080");
	ESC("\xf0\x8f\xbf\xbf", "\\u00f0\\u008f\\u00bf\\u00bf");
	/* surrogates */
	ESC("\xed\xa0\x80", "\\u00ed\\u00a0\\u0080");
	ESC("\xed\xbf\xbf", "\\u00ed\\u00bf\\u00bf");
	/* past U+10FFFF and never-valid leads */
	ESC("\xf4\x90\x80\x80", "\\u00f4\\u0090\\u0080\\u0080");
	ESC("\xf5\x80\x80\x80", "\\u00f5\\u0080\\u0080\\u0080");
	ESC("\xf8\x88\x80\x80\x80", "\\u00f8\\u0088\\u0080\\u0080\\u0080");
	ESC("\xfe\xff", "\\u00fe\\u00ff");
	/* lone continuations, truncated sequences, interrupted sequences */
	ESC("\x80", "\\u0080");
	ESC("\xbf\x80", "\\u00bf\\u0080");
	ESC("\xc3", "\\u00c3");
	ESC("\xe2\x82", "\\u00e2\\u0082");
	ESC("\xf0\x9f\x98", "\\u00f0\\u009f\\u0098");
	ESC("\xe2\x82" "A", "\\u00e2\\u0082A");
	ESC("\xc3\xc3\xa9", "\\u00c3\xc3\xa9");
	ESC("\xe2\x82\xc3\xa9", "\\u00e2\\u0082\xc3\xa9");
	ESC("\xf0\x9f\x98\x22", "\\u00f0\\u009f\\u0098\\\"");
}

static void test_embedded_nul(void **state)
{
	struct mem *m = *state;
	char out[64];

	jw_string_len(&m->jw, "a\0b\0", 4);
	assert_string_equal(OUT(m), "\"a\\u0000b\\u0000\"");
	ESC("a\0b", "a\\u0000b");
}

/* Longer than the writer's internal chunk, every byte expanding 6x. */
static void test_long_string(void **state)
{
	struct mem *m = *state;
	char in[1000];
	char *out = malloc(8000);

	assert_non_null(out);
	memset(in, 0x01, sizeof(in));
	in[500] = 'x';
	in[999] = '"';
	jw_string_len(&m->jw, in, sizeof(in));
	take(m, out, 8000);
	assert_int_equal(strlen(out), 2 + 998 * 6 + 1 + 2);
	assert_int_equal(out[0], '"');
	assert_memory_equal(out + 1, "\\u0001", 6);
	assert_int_equal(out[1 + 500 * 6], 'x');
	assert_string_equal(out + 1 + 998 * 6 + 1, "\\\"\"");
	assert_no_raw_controls(out, strlen(out));
	free(out);
}

/* Long plain runs are copied in spans, across the writer's buffer. */
static void test_long_plain_string(void **state)
{
	struct mem *m = *state;
	char in[1000], want[1100];
	char *out = malloc(2000);
	size_t w = 0;

	assert_non_null(out);
	memset(in, 'a', sizeof(in));
	in[255] = '"';
	in[600] = '\\';
	in[700] = '\t';
	want[w++] = '"';
	for (size_t i = 0; i < sizeof(in); i++) {
		if (in[i] == '"' || in[i] == '\\')
			want[w++] = '\\';
		if (in[i] == '\t') {
			want[w++] = '\\';
			want[w++] = 't';
			continue;
		}
		want[w++] = in[i];
	}
	want[w++] = '"';
	want[w] = 0;
	jw_string_len(&m->jw, in, sizeof(in));
	take(m, out, 2000);
	assert_string_equal(out, want);
	free(out);
}

/* json_escape's snprintf contract: full length back, whole escapes only. */
static void test_escape_truncation(void **state)
{
	char out[16];

	memset(out, 'X', sizeof(out));
	assert_int_equal(json_escape(out, 3, "a\nb", 3), 4);
	assert_string_equal(out, "a");         /* "\\n" would not fit whole */
	assert_int_equal(out[3], 'X');

	memset(out, 'X', sizeof(out));
	assert_int_equal(json_escape(out, 4, "a\nb", 3), 4);
	assert_string_equal(out, "a\\n");

	memset(out, 'X', sizeof(out));
	assert_int_equal(json_escape(out, 5, "a\nb", 3), 4);
	assert_string_equal(out, "a\\nb");

	memset(out, 'X', sizeof(out));
	assert_int_equal(json_escape(out, 6, "\x01", 1), 6);
	assert_string_equal(out, "");           /* \u0001 needs 7 with the NUL */
	assert_int_equal(json_escape(out, 7, "\x01", 1), 6);
	assert_string_equal(out, "\\u0001");

	memset(out, 'X', sizeof(out));
	assert_int_equal(json_escape(out, 3, "a\xe2\x82\xac", 4), 4);
	assert_string_equal(out, "a");          /* never half a character */

	memset(out, 'X', sizeof(out));
	assert_int_equal(json_escape(out, 1, "abc", 3), 3);
	assert_int_equal(out[0], '\0');
	assert_int_equal(out[1], 'X');

	assert_int_equal(json_escape(NULL, 0, "a\"b", 3), 4);
	assert_int_equal(json_escape(out, sizeof(out), "", 0), 0);
	assert_string_equal(out, "");
}

/* ---- errors ---- */

static void test_end_line_enospc(void **state)
{
	struct json_writer jw;
	FILE *f = fopen("/dev/full", "w");

	if (!f)
		skip();
	jw_init(&jw, f);
	assert_int_equal(jw.error, 0);
	jw_start_object(&jw);
	jw_string_field(&jw, "a", "b");
	jw_end_object(&jw);
	assert_int_equal(jw_end_line(&jw), -ENOSPC);
	assert_int_equal(jw.error, ENOSPC);
	assert_int_equal(jw.depth, 0);
	jw_uint(&jw, 1);
	assert_int_equal(jw_end_line(&jw), -ENOSPC);
	assert_int_equal(jw.error, ENOSPC);
	fclose(f);
}

static void test_end_line_ebadf(void **state)
{
	struct json_writer jw;
	FILE *f = fopen("/dev/null", "r");

	assert_non_null(f);
	jw_init(&jw, f);
	jw_uint(&jw, 1);
	assert_int_equal(jw_end_line(&jw), -EBADF);
	assert_int_equal(jw.error, EBADF);
	fclose(f);
}

/* A sink that fails its first write with EAGAIN, then accepts everything. */
struct flaky {
	int fails;
	char data[256];
	size_t len;
};

static ssize_t flaky_write(void *cookie, const char *buf, size_t size)
{
	struct flaky *fl = cookie;

	if (fl->fails > 0) {
		fl->fails--;
		errno = EAGAIN;
		return -1;
	}
	if (size > sizeof(fl->data) - fl->len)
		size = sizeof(fl->data) - fl->len;
	memcpy(fl->data + fl->len, buf, size);
	fl->len += size;
	return (ssize_t)size;
}

/* One failed line does not poison the next; jw->error keeps the first. */
static void test_end_line_transient(void **state)
{
	struct flaky fl = { .fails = 1 };
	cookie_io_functions_t io = { .write = flaky_write };
	struct json_writer jw;
	FILE *f = fopencookie(&fl, "w", io);

	assert_non_null(f);
	jw_init(&jw, f);
	jw_uint(&jw, 1);
	assert_int_equal(jw_end_line(&jw), -EAGAIN);
	assert_int_equal(jw.error, EAGAIN);
	jw_uint(&jw, 2);
	assert_int_equal(jw_end_line(&jw), 0);
	assert_int_equal(jw.error, EAGAIN);
	assert_true(fl.len >= 2);
	assert_memory_equal(fl.data + fl.len - 2, "2\n", 2);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty_containers, mem_setup, mem_teardown),
		cmocka_unit_test_setup_teardown(test_all_field_types, mem_setup, mem_teardown),
		cmocka_unit_test_setup_teardown(test_nesting_commas, mem_setup, mem_teardown),
		cmocka_unit_test_setup_teardown(test_array_of_objects, mem_setup, mem_teardown),
		cmocka_unit_test_setup_teardown(test_lines_independent, mem_setup, mem_teardown),
		cmocka_unit_test_setup_teardown(test_unbalanced_recovers, mem_setup, mem_teardown),
		cmocka_unit_test_setup_teardown(test_deep_nesting, mem_setup, mem_teardown),
		cmocka_unit_test_setup_teardown(test_double, mem_setup, mem_teardown),
		cmocka_unit_test_setup_teardown(test_fixed3, mem_setup, mem_teardown),
		cmocka_unit_test_setup_teardown(test_long_plain_string, mem_setup, mem_teardown),
		cmocka_unit_test_setup_teardown(test_null_strings, mem_setup, mem_teardown),
		cmocka_unit_test_setup_teardown(test_escape_short_forms, mem_setup, mem_teardown),
		cmocka_unit_test(test_escape_selected_bytes),
		cmocka_unit_test_setup_teardown(test_escape_every_byte, mem_setup, mem_teardown),
		cmocka_unit_test_setup_teardown(test_escape_all_bytes_in_one_string, mem_setup, mem_teardown),
		cmocka_unit_test(test_utf8_passthrough),
		cmocka_unit_test(test_utf8_rejected),
		cmocka_unit_test_setup_teardown(test_embedded_nul, mem_setup, mem_teardown),
		cmocka_unit_test_setup_teardown(test_long_string, mem_setup, mem_teardown),
		cmocka_unit_test(test_escape_truncation),
		cmocka_unit_test(test_end_line_enospc),
		cmocka_unit_test(test_end_line_ebadf),
		cmocka_unit_test(test_end_line_transient),
	};

	return cmocka_run_group_tests_name("json_writer", tests, NULL, NULL);
}
