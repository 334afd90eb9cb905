// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libFuzzer: fw_event_decode and fw_scan_rec_decode on arbitrary bytes.
 * Whatever they accept must be safe to use without further checks: state
 * names exist, the family is one we format, comm is terminated. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "event.h"
#include "tcp_states.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void try_event(const uint8_t *data, size_t len)
{
	struct fw_event e;

	memset(&e, 0xa5, sizeof(e));
	if (fw_event_decode(data, len, &e)) {
		if (((const uint8_t *)&e)[0] != 0xa5)
			abort();        /* wrote *out on failure */
		return;
	}
	/* Everything but comm's last byte (the terminator) is as given. */
	const size_t term = offsetof(struct fw_event, comm) + FW_COMM_LEN - 1;

	if (len != sizeof(e) || (e.family != 2 && e.family != 10) ||
	    !tcp_state_name(e.oldstate) || !tcp_state_name(e.newstate) ||
	    e.comm[FW_COMM_LEN - 1] != '\0' || memcmp(&e, data, term) ||
	    memcmp((const uint8_t *)&e + term + 1, data + term + 1, sizeof(e) - term - 1))
		abort();
}

static void try_scan(const uint8_t *data, size_t len)
{
	struct fw_scan_rec r;

	memset(&r, 0xa5, sizeof(r));
	if (fw_scan_rec_decode(data, len, &r)) {
		if (((const uint8_t *)&r)[0] != 0xa5)
			abort();
		return;
	}
	if (len != sizeof(r) || (r.family != 2 && r.family != 10) || !tcp_state_name(r.state) ||
	    (r.kind != FW_SCAN_FULL && r.kind != FW_SCAN_TW) ||
	    (r.kind == FW_SCAN_FULL && r.state != FW_TCP_FIN_WAIT2) ||
	    (r.state != FW_TCP_FIN_WAIT2 && r.state != FW_TCP_TIME_WAIT) ||
	    memcmp(&r, data, sizeof(r)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The whole input as given, then a record-sized prefix so the field
	 * checks are reached without the fuzzer having to hit exact sizes. */
	try_event(data, size);
	try_scan(data, size);
	if (size > sizeof(struct fw_event))
		try_event(data, sizeof(struct fw_event));
	if (size > sizeof(struct fw_scan_rec))
		try_scan(data, sizeof(struct fw_scan_rec));
	return 0;
}
