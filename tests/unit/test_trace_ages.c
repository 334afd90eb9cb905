// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* trace mode's ages and closers, kept in user space from the records. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "trace_ages.h"

#define MS 1000000ULL

static struct fw_event tr(__u64 cookie, __u64 ts, int old, int new)
{
	struct fw_event e;

	memset(&e, 0, sizeof(e));
	e.cookie = cookie;
	e.ts_ns = ts;
	e.oldstate = (__u8)old;
	e.newstate = (__u8)new;
	/* The BPF program's stamp: reset by apply unless it is kept. */
	e.ns_in_old = 12345;
	return e;
}

/* As the BPF program stamps a transition run in the closer's context. */
static struct fw_event tr_closer(__u64 cookie, __u64 ts, int old, int new, __u32 pid,
				 const char *comm)
{
	struct fw_event e = tr(cookie, ts, old, new);

	e.flags = FW_EVF_CLOSER;
	e.pid = pid;
	e.tid = pid + 1;
	strncpy(e.comm, comm, sizeof(e.comm) - 1);
	return e;
}

/* Active close of a connected socket: each record gets its time in the old
 * state, the closer rides along from FIN_WAIT1 on, CLOSE forgets it. */
static void test_active_close(void **state)
{
	struct trace_ages ta;
	struct fw_event e;

	(void)state;
	assert_int_equal(trace_ages_init(&ta, 16), 0);
	e = tr(1, 100 * MS, FW_TCP_CLOSE, 2 /* SYN_SENT */);
	trace_ages_apply(&ta, &e);
	assert_true(e.ns_in_old == FW_NS_UNKNOWN);
	assert_false(e.flags & FW_EVF_CLOSER);
	e = tr(1, 101 * MS, 2, FW_TCP_ESTABLISHED);
	trace_ages_apply(&ta, &e);
	assert_true(e.ns_in_old == 1 * MS);
	e = tr_closer(1, 151 * MS, FW_TCP_ESTABLISHED, FW_TCP_FIN_WAIT1, 42, "client");
	trace_ages_apply(&ta, &e);
	assert_true(e.ns_in_old == 50 * MS);
	e = tr(1, 152 * MS, FW_TCP_FIN_WAIT1, FW_TCP_FIN_WAIT2);
	trace_ages_apply(&ta, &e);
	assert_true(e.ns_in_old == 1 * MS);
	assert_true(e.flags & FW_EVF_CLOSER);
	assert_int_equal(e.pid, 42);
	assert_int_equal(e.tid, 43);
	assert_string_equal(e.comm, "client");
	e = tr(1, 452 * MS, FW_TCP_FIN_WAIT2, FW_TCP_CLOSE);
	trace_ages_apply(&ta, &e);
	assert_true(e.ns_in_old == 300 * MS);
	assert_int_equal(e.pid, 42);
	assert_int_equal(ta.used, 0);
	assert_int_equal(ta.misses, 0);
	/* Forgotten: a later record of the cookie has no age. */
	e = tr(1, 500 * MS, FW_TCP_FIN_WAIT2, FW_TCP_CLOSE);
	trace_ages_apply(&ta, &e);
	assert_true(e.ns_in_old == FW_NS_UNKNOWN);
	assert_false(e.flags & FW_EVF_CLOSER);
	assert_int_equal(ta.misses, 1);
	trace_ages_free(&ta);
}

/* shutdown() then close(): FIN_WAIT2 -> FIN_WAIT2 keeps the FIN_WAIT2 clock
 * and the first closer (the shutdown); an accepted socket starts from
 * LISTEN without counting a miss. */
static void test_shutdown_then_close(void **state)
{
	struct trace_ages ta;
	struct fw_event e;

	(void)state;
	assert_int_equal(trace_ages_init(&ta, 16), 0);
	e = tr(7, 10 * MS, FW_TCP_LISTEN, 3 /* SYN_RECV */);
	trace_ages_apply(&ta, &e);
	e = tr(7, 11 * MS, 3, FW_TCP_ESTABLISHED);
	trace_ages_apply(&ta, &e);
	e = tr_closer(7, 20 * MS, FW_TCP_ESTABLISHED, FW_TCP_FIN_WAIT1, 100, "shutter");
	trace_ages_apply(&ta, &e);
	e = tr(7, 21 * MS, FW_TCP_FIN_WAIT1, FW_TCP_FIN_WAIT2);
	trace_ages_apply(&ta, &e);
	e = tr_closer(7, 521 * MS, FW_TCP_FIN_WAIT2, FW_TCP_FIN_WAIT2, 200, "closer");
	trace_ages_apply(&ta, &e);
	assert_true(e.ns_in_old == 500 * MS);
	assert_int_equal(e.pid, 100);
	assert_string_equal(e.comm, "shutter");
	e = tr(7, 1021 * MS, FW_TCP_FIN_WAIT2, FW_TCP_CLOSE);
	trace_ages_apply(&ta, &e);
	assert_true(e.ns_in_old == 1000 * MS);
	assert_int_equal(ta.misses, 0);
	trace_ages_free(&ta);
}

/* A socket older than finwatch: no age for the first record seen, a miss
 * counted; FIN_WAIT2 -> FIN_WAIT2 of one leaves its FIN_WAIT2 start unknown,
 * but its closer is known from then on. */
static void test_older_socket(void **state)
{
	struct trace_ages ta;
	struct fw_event e;

	(void)state;
	assert_int_equal(trace_ages_init(&ta, 16), 0);
	e = tr_closer(9, 5 * MS, FW_TCP_FIN_WAIT2, FW_TCP_FIN_WAIT2, 300, "old");
	trace_ages_apply(&ta, &e);
	assert_true(e.ns_in_old == FW_NS_UNKNOWN);
	assert_int_equal(ta.misses, 1);
	e = tr(9, 9 * MS, FW_TCP_FIN_WAIT2, FW_TCP_CLOSE);
	trace_ages_apply(&ta, &e);
	assert_true(e.ns_in_old == FW_NS_UNKNOWN);
	assert_int_equal(e.pid, 300);
	assert_int_equal(ta.misses, 1);
	trace_ages_free(&ta);
}

/* A record lost in between (ring buffer full): no age spanning two states,
 * a miss counted, ages again from the next state on. */
static void test_lost_record(void **state)
{
	struct trace_ages ta;
	struct fw_event e;

	(void)state;
	assert_int_equal(trace_ages_init(&ta, 16), 0);
	e = tr(3, 1 * MS, FW_TCP_CLOSE, 2);
	trace_ages_apply(&ta, &e);
	e = tr(3, 2 * MS, 2, FW_TCP_ESTABLISHED);
	trace_ages_apply(&ta, &e);
	/* ESTABLISHED -> FIN_WAIT1 at 50 ms was lost. */
	e = tr(3, 51 * MS, FW_TCP_FIN_WAIT1, FW_TCP_FIN_WAIT2);
	trace_ages_apply(&ta, &e);
	assert_true(e.ns_in_old == FW_NS_UNKNOWN);
	assert_int_equal(ta.misses, 1);
	e = tr(3, 91 * MS, FW_TCP_FIN_WAIT2, FW_TCP_CLOSE);
	trace_ages_apply(&ta, &e);
	assert_true(e.ns_in_old == 40 * MS);
	assert_int_equal(ta.misses, 1);
	trace_ages_free(&ta);
}

/* Full: the least recently touched socket goes, the next record of it is a
 * miss, the table never holds more than its limit. */
static void test_eviction(void **state)
{
	struct trace_ages ta;
	struct fw_event e;

	(void)state;
	assert_int_equal(trace_ages_init(&ta, 4), 0);
	for (__u64 c = 1; c <= 4; c++) {
		e = tr(c, c * MS, FW_TCP_CLOSE, 2);
		trace_ages_apply(&ta, &e);
	}
	/* 1, 3 and 4 are touched again: 2 is the one to go. */
	for (__u64 c = 1; c <= 4; c++) {
		if (c == 2)
			continue;
		e = tr(c, 10 * MS, 2, FW_TCP_ESTABLISHED);
		trace_ages_apply(&ta, &e);
	}
	e = tr(5, 11 * MS, FW_TCP_CLOSE, 2);
	trace_ages_apply(&ta, &e);
	assert_int_equal(ta.used, 4);
	assert_int_equal(ta.evictions, 1);
	e = tr(2, 12 * MS, 2, FW_TCP_ESTABLISHED);
	trace_ages_apply(&ta, &e);
	assert_true(e.ns_in_old == FW_NS_UNKNOWN);
	assert_int_equal(ta.misses, 1);
	e = tr(5, 13 * MS, 2, FW_TCP_ESTABLISHED);
	trace_ages_apply(&ta, &e);
	assert_true(e.ns_in_old == 2 * MS);
	assert_true(ta.used <= 4);
	trace_ages_free(&ta);
}

/* Many sockets at once: the index grows, every one keeps its own age,
 * releases leave nothing behind. */
static void test_many(void **state)
{
	struct trace_ages ta;
	struct fw_event e;
	const __u64 n = 20000;

	(void)state;
	assert_int_equal(trace_ages_init(&ta, 1u << 18), 0);
	for (__u64 c = 1; c <= n; c++) {
		e = tr(c * 4096, c, FW_TCP_CLOSE, 2);
		trace_ages_apply(&ta, &e);
	}
	assert_int_equal(ta.used, n);
	for (__u64 c = n; c >= 1; c--) {
		e = tr(c * 4096, 100000 + c, 2, FW_TCP_CLOSE);
		trace_ages_apply(&ta, &e);
		assert_true(e.ns_in_old == 100000);
	}
	assert_int_equal(ta.used, 0);
	assert_int_equal(ta.misses, 0);
	assert_int_equal(ta.evictions, 0);
	trace_ages_free(&ta);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_active_close),
		cmocka_unit_test(test_shutdown_then_close),
		cmocka_unit_test(test_older_socket),
		cmocka_unit_test(test_lost_record),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
