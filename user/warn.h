/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One path for errors and warnings (bpftool's p_err, xdp-tools' pr_warn):
 * "finwatch: MSG" on stderr, always; once set up, also a JSON "error"
 * record in JSON mode and a syslog line with --syslog, so a pipeline or a
 * log collector sees why a run degraded or ended.
 */
#ifndef FW_WARN_H
#define FW_WARN_H

#include <syslog.h>

/* record(ctx, msg) writes the JSON record (NULL: not in JSON mode);
 * use_syslog after openlog(). fw_warn_setup(NULL, NULL, 0) detaches. */
void fw_warn_setup(void (*record)(void *ctx, const char *msg), void *ctx, int use_syslog);

/* prio: a syslog level (LOG_ERR, LOG_WARNING, ...). */
void fw_warn(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
