// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* JSON Lines writer. Strings may carry arbitrary bytes (a comm is whatever
 * the process wrote into it), so escaping is the part that must be exact:
 * the output has to stay valid UTF-8 JSON whatever comes in. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <math.h>
#include <string.h>
#include "json_writer.h"

/* Length of the valid UTF-8 sequence of 2..4 bytes at s, or 0. Follows
 * Unicode Table 3-7, so overlong forms, surrogates (ED A0..BF) and code
 * points past U+10FFFF are not sequences and end up \u00XX-escaped. */
static size_t utf8_seq_len(const unsigned char *s, size_t len)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;       /* ASCII, continuation byte, C0/C1 overlong lead, F5..FF */
	if (c == 0xe0)
		lo = 0xa0;      /* overlong below U+0800 */
	else if (c == 0xed)
		hi = 0x9f;      /* U+D800..DFFF */
	else if (c == 0xf0)
		lo = 0x90;      /* overlong below U+10000 */
	else if (c == 0xf4)
		hi = 0x8f;      /* past U+10FFFF */
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* The escaped form of the input at s[0]: writes up to 6 bytes to piece,
 * returns its length and how many input bytes it stands for. */
static size_t escape_one(const unsigned char *s, size_t len, char piece[6], size_t *used)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char c = s[0];
	size_t n;

	*used = 1;
	switch (c) {
	case '"':  memcpy(piece, "\\\"", 2); return 2;
	case '\\': memcpy(piece, "\\\\", 2); return 2;
	case '\n': memcpy(piece, "\\n", 2); return 2;
	case '\t': memcpy(piece, "\\t", 2); return 2;
	case '\r': memcpy(piece, "\\r", 2); return 2;
	case '\b': memcpy(piece, "\\b", 2); return 2;
	case '\f': memcpy(piece, "\\f", 2); return 2;
	}
	if (c >= 0x20 && c < 0x7f) {
		piece[0] = (char)c;
		return 1;
	}
	if (c >= 0x80 && (n = utf8_seq_len(s, len))) {
		memcpy(piece, s, n);
		*used = n;
		return n;
	}
	/* Controls, DEL (terminals act on it) and stray high bytes as Latin-1. */
	memcpy(piece, "\\u00", 4);
	piece[4] = hex[c >> 4];
	piece[5] = hex[c & 0xf];
	return 6;
}

size_t json_escape(char *dst, size_t dstlen, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t need = 0, i = 0, w = 0;
	char piece[6];

	while (i < len) {
		size_t used, n = escape_one(u + i, len - i, piece, &used);

		/* Whole pieces only, so a truncated result never ends mid-escape
		 * or mid-character. w stops growing after the first piece that
		 * does not fit. */
		if (w == need && dstlen && need + n <= dstlen - 1) {
			memcpy(dst + w, piece, n);
			w += n;
		}
		need += n;
		i += used;
	}
	if (dstlen)
		dst[w] = '\0';
	return need;
}

/* Remembers the first failure; jw_end_line reports it for the line. The
 * writer is used from one thread: no stdio locking per piece (a trace line
 * is ~40 pieces). */
static void jw_write(struct json_writer *jw, const char *p, size_t n)
{
	if (n && fwrite_unlocked(p, 1, n, jw->out) != n && !jw->error)
		jw->error = errno ? errno : EIO;
}

void jw_flush(struct json_writer *jw)
{
	jw_write(jw, jw->buf, jw->len);
	jw->len = 0;
}

static void jw_put(struct json_writer *jw, const char *p, size_t n)
{
	if (jw->len + n > sizeof(jw->buf))
		jw_flush(jw);
	if (n > sizeof(jw->buf)) {
		jw_write(jw, p, n);
		return;
	}
	memcpy(jw->buf + jw->len, p, n);
	jw->len += n;
}

static void jw_putc(struct json_writer *jw, char c)
{
	if (jw->len == sizeof(jw->buf))
		jw_flush(jw);
	jw->buf[jw->len++] = c;
}

/* need_comma has JW_MAX_DEPTH slots; deeper levels share the last one. That
 * is still exact: a slot is reset on entering a container and set again on
 * leaving it, which is what its parent needs at that point anyway. */
static unsigned char *comma_slot(struct json_writer *jw)
{
	return &jw->need_comma[jw->depth < JW_MAX_DEPTH ? jw->depth : JW_MAX_DEPTH - 1];
}

/* Before any value or name. Top-level values are JSON Lines records, one per
 * line, so depth 0 never takes a comma. */
static void jw_sep(struct json_writer *jw)
{
	if (jw->depth > 0 && *comma_slot(jw))
		jw_putc(jw, ',');
}

static void jw_value_done(struct json_writer *jw)
{
	*comma_slot(jw) = 1;
}

static void jw_quoted(struct json_writer *jw, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	char buf[256];
	size_t i = 0, w = 0;

	buf[w++] = '"';
	while (i < len) {
		size_t used, span = 0;

		/* Printable ASCII other than '"' and '\\' passes as it is. */
		while (i + span < len && u[i + span] >= 0x20 && u[i + span] < 0x7f &&
		       u[i + span] != '"' && u[i + span] != '\\')
			span++;
		if (span) {
			if (w + span > sizeof(buf)) {
				jw_put(jw, buf, w);
				w = 0;
			}
			if (span > sizeof(buf)) {
				jw_put(jw, s + i, span);
			} else {
				memcpy(buf + w, s + i, span);
				w += span;
			}
			i += span;
			continue;
		}
		if (w + 6 > sizeof(buf)) {
			jw_put(jw, buf, w);
			w = 0;
		}
		w += escape_one(u + i, len - i, buf + w, &used);
		i += used;
	}
	if (w + 1 > sizeof(buf)) {
		jw_put(jw, buf, w);
		w = 0;
	}
	buf[w++] = '"';
	jw_put(jw, buf, w);
}

void jw_init(struct json_writer *jw, FILE *out)
{
	memset(jw, 0, sizeof(*jw));
	jw->out = out;
}

static void jw_open(struct json_writer *jw, char c)
{
	jw_sep(jw);
	jw_putc(jw, c);
	jw_value_done(jw);
	if (jw->depth < INT_MAX)
		jw->depth++;
	*comma_slot(jw) = 0;
}

static void jw_close(struct json_writer *jw, char c)
{
	/* An unmatched end would drive depth negative and index before
	 * need_comma; ignoring it keeps the writer memory-safe. */
	if (jw->depth <= 0)
		return;
	jw_putc(jw, c);
	jw->depth--;
	jw_value_done(jw);
}

void jw_start_object(struct json_writer *jw)
{
	jw_open(jw, '{');
}

void jw_end_object(struct json_writer *jw)
{
	jw_close(jw, '}');
}

void jw_start_array(struct json_writer *jw)
{
	jw_open(jw, '[');
}

void jw_end_array(struct json_writer *jw)
{
	jw_close(jw, ']');
}

void jw_name(struct json_writer *jw, const char *name)
{
	jw_sep(jw);
	jw_quoted(jw, name ? name : "", name ? strlen(name) : 0);
	jw_putc(jw, ':');
	/* The value that follows belongs to this member: no comma before it. */
	*comma_slot(jw) = 0;
}

void jw_string_len(struct json_writer *jw, const char *s, size_t len)
{
	jw_sep(jw);
	jw_quoted(jw, s, len);
	jw_value_done(jw);
}

void jw_string(struct json_writer *jw, const char *s)
{
	/* NULL (e.g. an unknown state name) is printed as null, not a crash. */
	if (!s) {
		jw_null(jw);
		return;
	}
	jw_string_len(jw, s, strlen(s));
}

static void jw_raw_value(struct json_writer *jw, const char *text, size_t n)
{
	jw_sep(jw);
	jw_put(jw, text, n);
	jw_value_done(jw);
}

static void jw_number(struct json_writer *jw, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void jw_number(struct json_writer *jw, const char *fmt, ...)
{
	char num[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(num, sizeof(num), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(num)) {
		jw_null(jw);        /* cannot happen for the formats used here */
		return;
	}
	jw_raw_value(jw, num, (size_t)n);
}

/* Integers are most of a trace line: formatted here, not by vfprintf. */
static void jw_decimal(struct json_writer *jw, uint64_t v, int negative)
{
	char buf[24];
	size_t i = sizeof(buf);

	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (negative)
		buf[--i] = '-';
	jw_raw_value(jw, buf + i, sizeof(buf) - i);
}

void jw_uint(struct json_writer *jw, uint64_t v)
{
	jw_decimal(jw, v, 0);
}

void jw_int(struct json_writer *jw, int64_t v)
{
	/* Negated as unsigned: INT64_MIN has no positive counterpart. */
	jw_decimal(jw, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, v < 0);
}

void jw_double(struct json_writer *jw, double v)
{
	/* JSON has no NaN/Infinity; %.3f suits the millisecond values printed
	 * here, and %e keeps huge magnitudes short (both are valid JSON). No
	 * fabs(): the binaries are not linked with -lm. */
	if (!isfinite(v))
		jw_null(jw);
	else if (v < 1e15 && v > -1e15)
		jw_number(jw, "%.3f", v);
	else
		jw_number(jw, "%.6e", v);
}

void jw_fixed3(struct json_writer *jw, uint64_t v, uint64_t unit)
{
	uint64_t step = unit / 1000, q = v / step + (v % step >= step - step / 2);
	char buf[32];
	size_t i = sizeof(buf);

	for (int d = 0; d < 3; d++) {
		buf[--i] = (char)('0' + q % 10);
		q /= 10;
	}
	buf[--i] = '.';
	do {
		buf[--i] = (char)('0' + q % 10);
		q /= 10;
	} while (q);
	jw_raw_value(jw, buf + i, sizeof(buf) - i);
}

void jw_bool(struct json_writer *jw, int v)
{
	jw_raw_value(jw, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(struct json_writer *jw)
{
	jw_raw_value(jw, "null", 4);
}

void jw_string_field(struct json_writer *jw, const char *name, const char *s)
{
	jw_name(jw, name);
	jw_string(jw, s);
}

void jw_uint_field(struct json_writer *jw, const char *name, uint64_t v)
{
	jw_name(jw, name);
	jw_uint(jw, v);
}

void jw_int_field(struct json_writer *jw, const char *name, int64_t v)
{
	jw_name(jw, name);
	jw_int(jw, v);
}

void jw_fixed3_field(struct json_writer *jw, const char *name, uint64_t v, uint64_t unit)
{
	jw_name(jw, name);
	jw_fixed3(jw, v, unit);
}

void jw_double_field(struct json_writer *jw, const char *name, double v)
{
	jw_name(jw, name);
	jw_double(jw, v);
}

void jw_bool_field(struct json_writer *jw, const char *name, int v)
{
	jw_name(jw, name);
	jw_bool(jw, v);
}

void jw_null_field(struct json_writer *jw, const char *name)
{
	jw_name(jw, name);
	jw_null(jw);
}

int jw_end_line(struct json_writer *jw)
{
	int err = 0;

	errno = 0;      /* so a failure that sets no errno reads as EIO */
	jw_putc(jw, '\n');
	jw_flush(jw);
	if (ferror(jw->out))
		err = errno ? errno : EIO;
	if (fflush(jw->out) == EOF && !err)
		err = errno ? errno : EIO;
	/* A write earlier in this line failed but the flush did not notice. */
	if (!err && ferror(jw->out))
		err = jw->error ? jw->error : EIO;
	/* Each line starts clean even if the last was unbalanced. */
	jw->depth = 0;
	memset(jw->need_comma, 0, sizeof(jw->need_comma));
	if (!err)
		return 0;
	if (!jw->error)
		jw->error = err;
	/* jw->error keeps the first failure; clearing the stream's flag lets
	 * the next line report its own fate (EAGAIN passes, EPIPE does not). */
	clearerr(jw->out);
	return -err;
}
