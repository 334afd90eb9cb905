/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The one JSON writer (bpftool's json_writer pattern): nesting and commas are
 * tracked here so callers only name fields. Output is always valid UTF-8:
 * '"', '\\', every byte below 0x20 and 0x7f are escaped, valid UTF-8
 * sequences pass through and any other byte becomes \u00XX (read as
 * Latin-1), so arbitrary comm bytes cannot break a log pipeline. */
#ifndef FW_JSON_WRITER_H
#define FW_JSON_WRITER_H

#include <stdint.h>
#include <stdio.h>
#include <stddef.h>

#define JW_MAX_DEPTH 16

#define JW_BUF 4096

struct json_writer {
	FILE *out;
	int depth;
	unsigned char need_comma[JW_MAX_DEPTH];
	int error;          /* first stdio error (errno), sticky */
	/* A line is built here and handed to stdio whole: one fwrite per
	 * line instead of ~40 small ones (memstream's small writes go byte
	 * by byte: 17% of a trace reader's CPU). */
	size_t len;
	char buf[JW_BUF];
};

void jw_init(struct json_writer *jw, FILE *out);
void jw_start_object(struct json_writer *jw);
void jw_end_object(struct json_writer *jw);
void jw_start_array(struct json_writer *jw);
void jw_end_array(struct json_writer *jw);
void jw_name(struct json_writer *jw, const char *name);

void jw_string(struct json_writer *jw, const char *s);
/* Exactly len bytes, NULs included (escaped as \u0000). */
void jw_string_len(struct json_writer *jw, const char *s, size_t len);
void jw_uint(struct json_writer *jw, uint64_t v);
void jw_int(struct json_writer *jw, int64_t v);
void jw_double(struct json_writer *jw, double v);  /* non-finite -> null */
/* v / unit with 3 decimals, rounded to nearest (unit a multiple of 1000):
 * a duration in ns as ms or s without vfprintf, which was most of the
 * cost of a trace record's one fractional field. */
void jw_fixed3(struct json_writer *jw, uint64_t v, uint64_t unit);
void jw_bool(struct json_writer *jw, int v);
void jw_null(struct json_writer *jw);

void jw_string_field(struct json_writer *jw, const char *name, const char *s);
void jw_uint_field(struct json_writer *jw, const char *name, uint64_t v);
void jw_int_field(struct json_writer *jw, const char *name, int64_t v);
void jw_double_field(struct json_writer *jw, const char *name, double v);
void jw_fixed3_field(struct json_writer *jw, const char *name, uint64_t v, uint64_t unit);
void jw_bool_field(struct json_writer *jw, const char *name, int v);
void jw_null_field(struct json_writer *jw, const char *name);

/* Hands what was built so far to the stream (no newline): for a caller
 * that reads the stream without ending a line. */
void jw_flush(struct json_writer *jw);

/* Ends one JSON Lines record: writes '\n' and flushes. Returns 0 or -errno
 * (e.g. -EPIPE, -EAGAIN) so callers can count lines they could not print. */
int jw_end_line(struct json_writer *jw);

/* Escapes s (len bytes) into dst as the body of a JSON string (no quotes).
 * Returns the length needed; writes at most dstlen-1 bytes plus NUL. */
size_t json_escape(char *dst, size_t dstlen, const char *s, size_t len);

#endif
