/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* GET /metrics over HTTP with libmicrohttpd (a maintained server with
 * connection, memory and time limits, rather than a hand-written one). The
 * main loop publishes a rendered snapshot; the server thread only copies it,
 * so the tracker is never touched from another thread. */
#ifndef FW_METRICS_HTTP_H
#define FW_METRICS_HTTP_H

#include <stddef.h>
#include <sys/socket.h>
#include "metrics.h"

struct metrics_server;

int metrics_server_start(const struct sockaddr_storage *addr, struct metrics_server **out);
void metrics_server_publish(struct metrics_server *ms, const struct strbuf *sb);
void metrics_server_stop(struct metrics_server *ms);

#endif
