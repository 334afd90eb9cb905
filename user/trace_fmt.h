/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* `finwatch trace` output: one transition as a text row or a JSON line. */
#ifndef FW_TRACE_FMT_H
#define FW_TRACE_FMT_H

#include <stdio.h>
#include <linux/types.h>
#include "finwatch.h"
#include "json_record.h"
#include "json_writer.h"

void trace_print_header(FILE *out);
/* t0_ns: monotonic start of the run; rows show seconds since then. */
void trace_print_text(FILE *out, const struct fw_event *e, __u64 t0_ns);
void trace_print_json(struct json_writer *jw, const struct fw_event *e);

/* Shared by every JSON record about one socket: family as 4/6 and
 * addresses as text. */
void json_socket_fields(struct json_writer *jw, __u16 family, const __u8 *saddr, __u16 sport,
			const __u8 *daddr, __u16 dport);
/* Printable form of a comm for the terminal (control bytes would let a
 * process name rewrite the operator's screen): other bytes become '?'.
 * comm may be NULL; it is not always NUL-terminated. */
void text_comm(char *dst, size_t len, const char *comm);

/* comm may hold any byte and is not always NUL-terminated. */
void json_comm_field(struct json_writer *jw, const char *name, const char *comm);
/* "pid" and "comm" of a process, or both null when comm is NULL (unknown). */
void json_holder_fields(struct json_writer *jw, __u32 pid, const char *comm);

#endif
