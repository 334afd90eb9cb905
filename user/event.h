/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Validation of raw records from the kernel before anything indexes with
 * them: sizes, families, state numbers. */
#ifndef FW_EVENT_H
#define FW_EVENT_H

#include <stddef.h>
#include <linux/types.h>
#include "finwatch.h"

/* Copies a ring-buffer record into *out if it is exactly one fw_event with a
 * known family and valid states; forces comm NUL-terminated. 0 or -EINVAL. */
int fw_event_decode(const void *data, size_t len, struct fw_event *out);

/* Same for one iter/tcp scan record (state must be FIN_WAIT2 or TIME_WAIT,
 * kind FW_SCAN_FULL/FW_SCAN_TW). */
int fw_scan_rec_decode(const void *data, size_t len, struct fw_scan_rec *out);
/* One iter/task_file record: a process holding a FIN_WAIT2 socket. */
int fw_owner_rec_decode(const void *data, size_t len, struct fw_owner_rec *out);

#endif
