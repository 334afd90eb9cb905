// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "sink.h"

static void make_nonblocking(struct sink *s)
{
	struct stat st;
	int fl;

	s->restore_flags = -1;
	/* Only pipes and sockets: a terminal's flags are shared with the
	 * shell, and regular files never wait for a reader. */
	if (fstat(s->fd, &st) || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		return;
	fl = fcntl(s->fd, F_GETFL);
	if (fl < 0 || (fl & O_NONBLOCK))
		return;
	if (!fcntl(s->fd, F_SETFL, fl | O_NONBLOCK))
		s->restore_flags = fl;
}

int sink_open(struct sink *s, int fd)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->mem = open_memstream(&s->membuf, &s->memsize);
	if (!s->mem)
		return -errno;
	make_nonblocking(s);
	return 0;
}

/* 1 when nothing is left pending. */
static int finish_pending(struct sink *s)
{
	while (s->pending && s->pending_off < s->pending_len) {
		ssize_t n = write(s->fd, s->pending + s->pending_off, s->pending_len - s->pending_off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN) {
				/* The reader is gone: the tail can never arrive. */
				free(s->pending);
				s->pending = NULL;
				return 1;
			}
			return 0;
		}
		s->pending_off += (size_t)n;
	}
	free(s->pending);
	s->pending = NULL;
	return 1;
}

/* The unwritten tail [off, len) of the record just built becomes pending. */
static void keep_rest(struct sink *s, size_t off, size_t len)
{
	s->pending = malloc(len - off);
	if (!s->pending)
		return;
	memcpy(s->pending, s->membuf + off, len - off);
	s->pending_len = len - off;
	s->pending_off = 0;
}

/* Bounded wait for the reader to make room (only at exit). */
static void wait_room(struct sink *s, struct timespec *deadline)
{
	struct timespec now;
	struct pollfd p = { .fd = s->fd, .events = POLLOUT };
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
	if (ms > 0)
		poll(&p, 1, (int)ms);
}

static int emit_final(struct sink *s, size_t len)
{
	struct timespec deadline;
	size_t off = 0;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += s->final_wait_ms / 1000;
	deadline.tv_nsec += (long)(s->final_wait_ms % 1000) * 1000000;
	for (;;) {
		struct timespec now;

		if (finish_pending(s)) {
			ssize_t n = write(s->fd, s->membuf + off, len - off);

			if (n > 0)
				off += (size_t)n;
			else if (n < 0 && errno != EAGAIN && errno != EINTR)
				return -errno;
			if (off == len)
				return 0;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > deadline.tv_sec ||
		    (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec))
			break;
		wait_room(s, &deadline);
	}
	if (off) {
		/* Never leave half a line: keep the rest for sink_close. */
		keep_rest(s, off, len);
		return 0;
	}
	return -EAGAIN;
}

/* Writes every record built since the last write, whole: one write(2) for
 * a batch. Returns 0, or -errno when the batch was dropped (counted). */
static int write_batch(struct sink *s)
{
	size_t len;
	ssize_t n;
	int err = 0;

	if (fflush(s->mem))
		err = -ENOMEM;
	len = (size_t)ftello(s->mem);
	if (!err && len && s->final_wait_ms > 0) {
		err = emit_final(s, len);
	} else if (!err && len) {
		if (!finish_pending(s)) {
			err = -EAGAIN;
		} else {
			do
				n = write(s->fd, s->membuf, len);
			while (n < 0 && errno == EINTR);
			if (n < 0) {
				err = -errno;
			} else if ((size_t)n < len) {
				/* Part of it left: the rest goes before anything else. */
				keep_rest(s, (size_t)n, len);
			}
		}
	}
	if (err)
		s->dropped += s->batch_records;
	else
		s->written += s->batch_records;
	s->batch_records = 0;
	fseeko(s->mem, 0, SEEK_SET);
	return err;
}

int sink_emit(struct sink *s)
{
	s->batch_records++;
	if (fflush(s->mem) == 0 && (size_t)ftello(s->mem) < SINK_BATCH_BYTES)
		return 0;
	return write_batch(s);
}

int sink_emit_now(struct sink *s)
{
	s->batch_records++;
	return write_batch(s);
}

void sink_flush(struct sink *s)
{
	if (s->pending)
		finish_pending(s);
	if (s->batch_records)
		write_batch(s);
}

/* Last writes to the current fd (what it can take now), then its flags back. */
static void let_go_of_fd(struct sink *s)
{
	if (s->mem && s->batch_records)
		write_batch(s);
	finish_pending(s);
	free(s->pending);
	s->pending = NULL;
	if (s->restore_flags >= 0)
		fcntl(s->fd, F_SETFL, s->restore_flags);
}

void sink_set_fd(struct sink *s, int fd)
{
	let_go_of_fd(s);
	s->fd = fd;
	make_nonblocking(s);
}

void sink_close(struct sink *s)
{
	let_go_of_fd(s);
	if (s->mem)
		fclose(s->mem);
	free(s->membuf);
	s->mem = NULL;
	s->membuf = NULL;
}
