// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stddef.h>
#include "tcp_states.h"

/* Indexed by the kernel's numbering (include/net/tcp_states.h); slot 0 is
 * unused so the state number is the index. */
static const char *const state_names[] = {
	[1] = "ESTABLISHED",
	[2] = "SYN_SENT",
	[3] = "SYN_RECV",
	[4] = "FIN_WAIT1",
	[5] = "FIN_WAIT2",
	[6] = "TIME_WAIT",
	[7] = "CLOSE",
	[8] = "CLOSE_WAIT",
	[9] = "LAST_ACK",
	[10] = "LISTEN",
	[11] = "CLOSING",
	[12] = "NEW_SYN_RECV",
};

const char *tcp_state_name(unsigned int s)
{
	if (s >= sizeof(state_names) / sizeof(state_names[0]))
		return NULL;
	return state_names[s];   /* NULL for 0 */
}
