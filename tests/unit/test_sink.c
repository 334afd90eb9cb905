// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The output sink on real pipes: batching, whole records, drops counted. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <cmocka.h>
#include "sink.h"

struct pipe_sink {
	int rd, wr;
	struct sink s;
};

static int pipe_setup(void **state)
{
	static struct pipe_sink p;
	int fds[2];

	if (pipe2(fds, O_CLOEXEC))
		return -1;
	p.rd = fds[0];
	p.wr = fds[1];
	/* One page: small enough to fill, the kernel's minimum. */
	if (fcntl(p.wr, F_SETPIPE_SZ, 4096) < 0 || sink_open(&p.s, p.wr))
		return -1;
	*state = &p;
	return 0;
}

static int pipe_teardown(void **state)
{
	struct pipe_sink *p = *state;

	sink_close(&p->s);
	close(p->rd);
	close(p->wr);
	return 0;
}

static int queued(int fd)
{
	int n = -1;

	assert_int_equal(ioctl(fd, FIONREAD, &n), 0);
	return n;
}

static void record(struct sink *s, char c, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++)
		fputc(c, s->mem);
	fputc('\n', s->mem);
}

static void drain(int fd, char *buf, size_t *got, size_t cap)
{
	ssize_t n;

	while (*got < cap && queued(fd) > 0 && (n = read(fd, buf + *got, cap - *got)) > 0)
		*got += (size_t)n;
}

/* What the reader gets now is exactly want. */
static void expect_read(int fd, const char *want, size_t len)
{
	char buf[256];
	size_t got = 0;

	drain(fd, buf, &got, sizeof(buf));
	assert_int_equal(got, len);
	assert_memory_equal(buf, want, len);
}

/* Batched records wait for sink_flush; an immediate one takes them along. */
static void test_batch_then_flush(void **state)
{
	struct pipe_sink *p = *state;

	record(&p->s, 'a', 4);
	assert_int_equal(sink_emit(&p->s), 0);
	record(&p->s, 'b', 4);
	assert_int_equal(sink_emit(&p->s), 0);
	assert_int_equal(queued(p->rd), 0);
	sink_flush(&p->s);
	expect_read(p->rd, "aaa\nbbb\n", 8);
	assert_int_equal(p->s.written, 2);

	record(&p->s, 'c', 3);
	assert_int_equal(sink_emit(&p->s), 0);
	record(&p->s, 'd', 3);
	assert_int_equal(sink_emit_now(&p->s), 0);
	expect_read(p->rd, "cc\ndd\n", 6);
	assert_int_equal(p->s.written, 4);
	assert_int_equal(p->s.dropped, 0);
}

/* A full pipe: the whole batch is dropped and each of its records counted. */
static void test_full_pipe_drops_batch(void **state)
{
	struct pipe_sink *p = *state;
	char fill[4096];
	char buf[4096];
	size_t got = 0;

	memset(fill, 'x', sizeof(fill));
	assert_int_equal(write(p->wr, fill, sizeof(fill)), (ssize_t)sizeof(fill));
	for (int i = 0; i < 3; i++) {
		record(&p->s, 'r', 10);
		assert_int_equal(sink_emit(&p->s), 0);
	}
	sink_flush(&p->s);
	assert_int_equal(p->s.dropped, 3);
	assert_int_equal(p->s.written, 0);
	/* Nothing of it reached the reader, and the next record is whole. */
	drain(p->rd, buf, &got, sizeof(buf));
	assert_int_equal(got, sizeof(fill));
	record(&p->s, 'z', 5);
	assert_int_equal(sink_emit_now(&p->s), 0);
	expect_read(p->rd, "zzzz\n", 5);
}

/* A batch larger than the pipe goes in part; the rest is finished first. */
static void test_partial_batch_finished_in_order(void **state)
{
	struct pipe_sink *p = *state;
	char buf[8192];
	size_t got = 0;

	for (int i = 0; i < 60; i++) {
		record(&p->s, (char)('A' + i % 26), 100);
		assert_int_equal(sink_emit(&p->s), 0);
	}
	sink_flush(&p->s);
	assert_true(queued(p->rd) > 0 && queued(p->rd) < 6000);
	for (int round = 0; round < 10 && got < 6000; round++) {
		drain(p->rd, buf, &got, sizeof(buf));
		sink_flush(&p->s);
	}
	drain(p->rd, buf, &got, sizeof(buf));
	assert_int_equal(got, 6000);
	for (int i = 0; i < 60; i++) {
		assert_int_equal(buf[i * 100], 'A' + i % 26);
		assert_int_equal(buf[i * 100 + 99], '\n');
	}
	assert_int_equal(p->s.written, 60);
	assert_int_equal(p->s.dropped, 0);
}

/* Once SINK_BATCH_BYTES wait, the batch goes out without a flush. */
static void test_large_batch_written_without_flush(void **state)
{
	struct pipe_sink *p = *state;
	int emitted = 0;

	assert_true(fcntl(p->wr, F_SETPIPE_SZ, 1 << 20) >= (int)(2 * SINK_BATCH_BYTES));
	while (queued(p->rd) == 0 && emitted < 2000) {
		record(&p->s, 'q', 100);
		assert_int_equal(sink_emit(&p->s), 0);
		emitted++;
	}
	assert_true(queued(p->rd) >= (int)SINK_BATCH_BYTES);
	assert_int_equal(queued(p->rd), emitted * 100);
	assert_int_equal(p->s.written, (uint64_t)emitted);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_batch_then_flush, pipe_setup, pipe_teardown),
		cmocka_unit_test_setup_teardown(test_full_pipe_drops_batch, pipe_setup, pipe_teardown),
		cmocka_unit_test_setup_teardown(test_partial_batch_finished_in_order, pipe_setup,
						pipe_teardown),
		cmocka_unit_test_setup_teardown(test_large_batch_written_without_flush, pipe_setup,
						pipe_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
