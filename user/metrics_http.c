// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>
#include "metrics_http.h"

struct metrics_server {
	struct MHD_Daemon *daemon;
	pthread_mutex_t lock;
	char *snap;
	size_t snap_len;
};

static enum MHD_Result send_text(struct MHD_Connection *conn, unsigned status, const char *body,
				 size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", status == 200 ? "text/plain; version=0.0.4; charset=utf-8"
								: "text/plain; charset=utf-8");
	if (status == 405)
		MHD_add_response_header(r, "Allow", "GET");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	struct metrics_server *ms = cls;
	static const char not_found[] = "finwatch serves only GET /metrics\n";
	static const char bad_method[] = "only GET is allowed\n";
	enum MHD_Result ret;

	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return send_text(conn, 405, bad_method, sizeof(bad_method) - 1);
	/* A GET with a body is not ours to read: refuse rather than buffer. */
	if (*upload_data_size)
		return MHD_NO;
	if (strcmp(url, "/metrics"))
		return send_text(conn, 404, not_found, sizeof(not_found) - 1);
	pthread_mutex_lock(&ms->lock);
	ret = send_text(conn, 200, ms->snap ? ms->snap : "", ms->snap ? ms->snap_len : 0);
	pthread_mutex_unlock(&ms->lock);
	return ret;
}

int metrics_server_start(const struct sockaddr_storage *addr, struct metrics_server **out)
{
	struct metrics_server *ms = calloc(1, sizeof(*ms));
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;

	if (!ms)
		return -ENOMEM;
	pthread_mutex_init(&ms->lock, NULL);
	if (addr->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	ms->daemon = MHD_start_daemon(flags, 0, NULL, NULL, handle, ms,
				      MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)addr,
				      /* Bounds against slow or hostile clients. */
				      MHD_OPTION_CONNECTION_LIMIT, (unsigned int)16,
				      MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)8,
				      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)5,
				      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
				      MHD_OPTION_END);
	if (!ms->daemon) {
		int err = errno ? -errno : -EADDRINUSE;

		pthread_mutex_destroy(&ms->lock);
		free(ms);
		return err;
	}
	*out = ms;
	return 0;
}

void metrics_server_publish(struct metrics_server *ms, const struct strbuf *sb)
{
	char *copy;

	if (!ms || sb->oom)
		return;
	copy = malloc(sb->len + 1);
	if (!copy)
		return;
	memcpy(copy, sb->buf ? sb->buf : "", sb->len);
	copy[sb->len] = '\0';
	pthread_mutex_lock(&ms->lock);
	free(ms->snap);
	ms->snap = copy;
	ms->snap_len = sb->len;
	pthread_mutex_unlock(&ms->lock);
}

void metrics_server_stop(struct metrics_server *ms)
{
	if (!ms)
		return;
	MHD_stop_daemon(ms->daemon);
	pthread_mutex_destroy(&ms->lock);
	free(ms->snap);
	free(ms);
}
