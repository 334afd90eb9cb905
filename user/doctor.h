/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* `finwatch doctor`: a one-shot report per network namespace. */
#ifndef FW_DOCTOR_H
#define FW_DOCTOR_H

#include "cli.h"
#include "fw2_tracker.h"
#include "json_writer.h"
#include "scan.h"

/* The tracker must hold a fresh full scan of every namespace. Prints text
 * or JSON (one "doctor" record per namespace). Returns 0 or -errno. */
int doctor_run(const struct fw_config *cfg, struct fw_scanner *sc, const struct fw2_tracker *t,
	       struct json_writer *jw, __u64 now_ns);

#endif
