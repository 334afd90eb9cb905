/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * --reap-after: destroy sockets stuck in FIN_WAIT_2 longer than a limit,
 * the Linux counterpart of a FIN_WAIT_2 timer for sockets tcp_fin_timeout
 * does not cover (held ones). Opt-in, rate-limited, scoped by peer and kind,
 * every attempt reported; a kernel that refuses is told about once.
 */
#ifndef FW_REAPER_H
#define FW_REAPER_H

#include "cli.h"
#include "fw2_tracker.h"
#include "scan.h"

struct reaper;

/* result: "ok", "dry_run", "gone", "stale", "failed" (with err) */
typedef void (*reap_report_fn)(void *ctx, const struct fw2_candidate *c, const char *result, int err);

struct reaper *reaper_new(const struct fw_config *cfg);
void reaper_free(struct reaper *r);

/* One pass at now_ns: kills at most what the rate allows. */
void reaper_run(struct reaper *r, struct fw2_tracker *t, struct fw_scanner *sc, __u64 now_ns,
		reap_report_fn report, void *ctx);

__u64 reaper_ok(const struct reaper *r);
__u64 reaper_failed(const struct reaper *r);

#endif
