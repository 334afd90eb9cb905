/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Where output records go (stdout or --output). Each record (a JSON line,
 * a text row or table) is built in memory; records are written whole, a
 * batch per write(2): high-rate ones (one per event) wait for the main
 * loop's sink_flush (at most one poll cycle, 100 ms) or a full batch, so a
 * churn costs no syscall per event; the rest go out at once. A pipe whose
 * reader stops reading never blocks monitoring: the fd is non-blocking, a
 * batch that finds no room is dropped and its records counted, and a batch
 * written only in part is finished before any other, so a line is never
 * split or interleaved.
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
	__u64 written, dropped;   /* records */
	__u64 batch_records;      /* built in mem, not written yet */
	int restore_flags;    /* fd flags to restore at close, or -1 */
	int final_wait_ms;    /* >0: wait this long for room instead of dropping
			       * (the final summary at exit) */
};

/* fd stays owned by the caller. Pipes and sockets become non-blocking
 * (restored by sink_close). 0 or -errno. */
int sink_open(struct sink *s, int fd);
#define SINK_BATCH_BYTES (64 * 1024)

/* Ends the record built in s->mem since the last one; it is written with
 * the batch (at sink_flush or once SINK_BATCH_BYTES are waiting). 0, or
 * -errno when that made a batch go out and it was dropped. */
int sink_emit(struct sink *s);
/* Ends the record and writes the batch now. 0 written (or queued to
 * finish), -EAGAIN dropped (no room, counted), other -errno dropped. */
int sink_emit_now(struct sink *s);
/* Writes the batch and tries to finish a partly written one; call from
 * the main loop every cycle. */
void sink_flush(struct sink *s);
/* Switches to another fd (log rotation); a half-written record is
 * abandoned on the old one only if it cannot be finished now. */
void sink_set_fd(struct sink *s, int fd);
void sink_close(struct sink *s);

#endif
