// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "json_record.h"
#include "parse.h"

static char rec_host[256] = "localhost";
static __s64 rec_offset_ns;

void json_record_setup(const char *host, __s64 realtime_minus_mono_ns)
{
	snprintf(rec_host, sizeof(rec_host), "%s", host ? host : "localhost");
	rec_offset_ns = realtime_minus_mono_ns;
}

const char *json_iso_time(__u64 mono_ns, char *buf, size_t len)
{
	/* The date and time to the second, formatted once per second: a trace
	 * line each event made gmtime and printf a tenth of the reader's CPU. */
	static time_t cached_secs = -1;
	static char cached[80];
	static int cached_len;
	__s64 real = (__s64)mono_ns + rec_offset_ns;
	time_t secs = (time_t)(real / (__s64)NS_PER_SEC);
	int ms = (int)((real % (__s64)NS_PER_SEC) / 1000000);
	struct tm tm;

	if (real < 0) {
		snprintf(buf, len, "1970-01-01T00:00:00.000Z");
		return buf;
	}
	if (secs != cached_secs) {
		if (!gmtime_r(&secs, &tm)) {
			snprintf(buf, len, "1970-01-01T00:00:00.000Z");
			return buf;
		}
		cached_len = snprintf(cached, sizeof(cached), "%04d-%02d-%02dT%02d:%02d:%02d",
				      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
				      tm.tm_min, tm.tm_sec);
		cached_secs = secs;
	}
	if (len < 25 || cached_len != 19) {   /* years past 9999, tiny buffers */
		snprintf(buf, len, "%s.%03dZ", cached, ms);
		return buf;
	}
	memcpy(buf, cached, 19);
	buf[19] = '.';
	buf[20] = (char)('0' + ms / 100);
	buf[21] = (char)('0' + ms / 10 % 10);
	buf[22] = (char)('0' + ms % 10);
	buf[23] = 'Z';
	buf[24] = 0;
	return buf;
}

void json_record_begin(struct json_writer *jw, const char *type, __u64 ts_ns)
{
	char t[40];

	jw_start_object(jw);
	jw_string_field(jw, "type", type);
	jw_uint_field(jw, "ts_ns", ts_ns);
	jw_string_field(jw, "time", json_iso_time(ts_ns, t, sizeof(t)));
	jw_string_field(jw, "host", rec_host);
}
