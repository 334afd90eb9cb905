/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef FW_TCP_STATES_H
#define FW_TCP_STATES_H

/* Kernel name ("ESTABLISHED", "FIN_WAIT2", ...) or NULL when s is not a
 * valid TCP state number (1..12). Never index with an unchecked number. */
const char *tcp_state_name(unsigned int s);

#endif
