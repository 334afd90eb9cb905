// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include "warn.h"

static struct {
	void (*record)(void *ctx, const char *msg);
	void *ctx;
	int syslog;
	int busy;       /* a warning while writing one goes to stderr only */
} w;

void fw_warn_setup(void (*record)(void *ctx, const char *msg), void *ctx, int use_syslog)
{
	w.record = record;
	w.ctx = ctx;
	w.syslog = use_syslog;
}

void fw_warn(int prio, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "finwatch: %s\n", msg);
	if (w.busy)
		return;
	w.busy = 1;
	if (w.record)
		w.record(w.ctx, msg);
	if (w.syslog)
		syslog(prio, "%s", msg);
	w.busy = 0;
}
