/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Where output records go (stdout or --output). Each record (a JSON line,
 * a text row or table) is built in memory and written whole with one
 * write(2). A pipe whose reader stops reading never blocks monitoring: the
 * fd is non-blocking, a record that finds no room is dropped and counted,
 * and a record written only in part is finished before any other, so a line
 * is never split or interleaved.
 */
#ifndef FW_SINK_H
#define FW_SINK_H

#include <stdio.h>
#include <linux/types.h>

struct sink {
	int fd;
	FILE *mem;            /* build the record here */
	char *membuf;
	size_t memsize;
	char *pending;        /* unwritten tail of a partly written record */
	size_t pending_len, pending_off;
	__u64 written, dropped;
	int restore_flags;    /* fd flags to restore at close, or -1 */
	int final_wait_ms;    /* >0: wait this long for room instead of dropping
			       * (the final summary at exit) */
};

/* fd stays owned by the caller. Pipes and sockets become non-blocking
 * (restored by sink_close). 0 or -errno. */
int sink_open(struct sink *s, int fd);
/* Writes what was built in s->mem since the last emit as one record.
 * 0 written (or queued to finish), -EAGAIN dropped (no room, counted),
 * other -errno dropped. */
int sink_emit(struct sink *s);
/* Tries to finish a partly written record; call from the main loop. */
void sink_flush(struct sink *s);
/* Switches to another fd (log rotation); a half-written record is
 * abandoned on the old one only if it cannot be finished now. */
void sink_set_fd(struct sink *s, int fd);
void sink_close(struct sink *s);

#endif
