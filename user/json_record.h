/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The envelope of every JSON record. */
#ifndef FW_JSON_RECORD_H
#define FW_JSON_RECORD_H

#include <stddef.h>
#include <linux/types.h>
#include "json_writer.h"

/*
 * Every JSON record starts the same way: type, ts_ns (monotonic), time
 * (ISO-8601 UTC) and host, so a log collector needs no parsing rules.
 * json_record_setup() fixes the host name and the realtime-monotonic
 * offset once; unit tests pass their own.
 */
void json_record_setup(const char *host, __s64 realtime_minus_mono_ns);
void json_record_begin(struct json_writer *jw, const char *type, __u64 ts_ns);
/* ISO-8601 UTC with milliseconds for a monotonic timestamp. */
const char *json_iso_time(__u64 mono_ns, char *buf, size_t len);

#endif
