// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Records arrive from the kernel as raw bytes; a BPF object built from a
 * different finwatch.h, or a bug on the BPF side, must show up as "malformed"
 * rather than as an out-of-bounds state-name lookup or an unterminated comm. */
#include <errno.h>
#include <string.h>
#include "event.h"
#include "tcp_states.h"

static int family_ok(__u16 family)
{
	return family == FW_AF_INET || family == FW_AF_INET6;
}

int fw_event_decode(const void *data, size_t len, struct fw_event *out)
{
	struct fw_event e;

	/* Exact size: a shorter or longer record means the two sides disagree
	 * on the layout, and every field after the difference would be wrong. */
	if (!data || !out || len != sizeof(e))
		return -EINVAL;
	/* Copy first: ring-buffer data may be unaligned for a fuzzer's input,
	 * and the checks then see exactly what the caller will. */
	memcpy(&e, data, sizeof(e));
	if (!family_ok(e.family) || !tcp_state_name(e.oldstate) || !tcp_state_name(e.newstate))
		return -EINVAL;
	e.comm[FW_COMM_LEN - 1] = '\0';
	*out = e;
	return 0;
}

int fw_scan_rec_decode(const void *data, size_t len, struct fw_scan_rec *out)
{
	struct fw_scan_rec r;

	if (!data || !out || len != sizeof(r))
		return -EINVAL;
	memcpy(&r, data, sizeof(r));
	if (!family_ok(r.family))
		return -EINVAL;
	/* A full socket is only scanned in FIN_WAIT2 (in TIME_WAIT the kernel
	 * has already replaced it); a timewait socket's substate is FIN_WAIT2
	 * or TIME_WAIT. */
	switch (r.kind) {
	case FW_SCAN_FULL:
		if (r.state != FW_TCP_FIN_WAIT2)
			return -EINVAL;
		break;
	case FW_SCAN_TW:
		if (r.state != FW_TCP_FIN_WAIT2 && r.state != FW_TCP_TIME_WAIT)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	*out = r;
	return 0;
}

int fw_owner_rec_decode(const void *data, size_t len, struct fw_owner_rec *out)
{
	struct fw_owner_rec r;

	if (!data || !out || len != sizeof(r))
		return -EINVAL;
	memcpy(&r, data, sizeof(r));
	if (r.state != FW_TCP_FIN_WAIT2 || !r.tgid || !r.cookie)
		return -EINVAL;
	r.comm[sizeof(r.comm) - 1] = 0;
	*out = r;
	return 0;
}
