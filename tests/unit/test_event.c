// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Unit tests for user/event.c and user/tcp_states.c: raw kernel records are
 * accepted only with the exact size, a known family and valid states. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "event.h"
#include "tcp_states.h"

#define CHECK(cond, fmt, ...)                                                       \
	do {                                                                        \
		if (!(cond)) {                                                      \
			print_error("%s:%d: " fmt "\n", __FILE__, __LINE__, __VA_ARGS__); \
			fail();                                                     \
		}                                                                   \
	} while (0)

static const unsigned int bad_families[] = { 0, 1, 3, 9, 11, 0x0200, 0x0a00, 0xffff };
static const unsigned int bad_states[] = { 0, 13, 14, 128, 255 };

static struct fw_event good_event(void)
{
	struct fw_event e;

	memset(&e, 0, sizeof(e));
	e.ts_ns = 123456789;
	e.cookie = 0x1122334455667788ULL;
	e.ns_in_old = FW_NS_UNKNOWN;
	e.netns = 4026531840u;
	e.pid = 4242;
	e.tid = 4243;
	e.sk_err = 104;
	e.saddr[0] = 10;
	e.saddr[3] = 1;
	e.daddr[0] = 192;
	e.daddr[3] = 7;
	e.sport = 80;
	e.dport = 54321;
	e.family = FW_AF_INET;
	e.oldstate = FW_TCP_FIN_WAIT1;
	e.newstate = FW_TCP_FIN_WAIT2;
	e.flags = FW_EVF_ORPHANED | FW_EVF_CLOSER;
	memcpy(e.comm, "nginx", 6);
	return e;
}

static struct fw_scan_rec good_scan(void)
{
	struct fw_scan_rec r;

	memset(&r, 0, sizeof(r));
	r.cookie = 77;
	r.now_ns = 1000;
	r.now_jiffies = 5000;
	r.stamp_jiffies = 4000;
	r.netns = 4026531840u;
	r.ino = 31337;
	r.saddr[0] = 0xfd;
	r.daddr[0] = 0xfd;
	r.daddr[15] = 2;
	r.sport = 443;
	r.dport = 40000;
	r.family = FW_AF_INET6;
	r.kind = FW_SCAN_FULL;
	r.state = FW_TCP_FIN_WAIT2;
	r.uid = 1000;
	return r;
}

/* Runs fw_event_decode on e and checks it fails without touching *out. */
static void expect_event_rejected(const struct fw_event *e, size_t len, const char *what)
{
	struct fw_event out, before;

	memset(&out, 0xa5, sizeof(out));
	before = out;
	CHECK(fw_event_decode(e, len, &out) == -EINVAL, "%s: accepted", what);
	CHECK(!memcmp(&out, &before, sizeof(out)), "%s: wrote *out on failure", what);
}

static void expect_scan_rejected(const struct fw_scan_rec *r, size_t len, const char *what)
{
	struct fw_scan_rec out, before;

	memset(&out, 0xa5, sizeof(out));
	before = out;
	CHECK(fw_scan_rec_decode(r, len, &out) == -EINVAL, "%s: accepted", what);
	CHECK(!memcmp(&out, &before, sizeof(out)), "%s: wrote *out on failure", what);
}

/* ---- tcp_state_name ---- */

static void test_state_names(void **state)
{
	static const char *const names[] = {
		NULL, "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
		"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
		"NEW_SYN_RECV",
	};

	for (unsigned int s = 1; s <= FW_TCP_MAX_STATE; s++) {
		const char *n = tcp_state_name(s);

		CHECK(n && !strcmp(n, names[s]), "tcp_state_name(%u) = %s", s, n ? n : "NULL");
	}
	assert_string_equal(tcp_state_name(FW_TCP_FIN_WAIT2), "FIN_WAIT2");
	assert_string_equal(tcp_state_name(FW_TCP_TIME_WAIT), "TIME_WAIT");
	assert_null(tcp_state_name(0));
	assert_null(tcp_state_name(13));
	assert_null(tcp_state_name(255));
	assert_null(tcp_state_name(256));
	assert_null(tcp_state_name(UINT_MAX));
	assert_null(tcp_state_name((unsigned int)-1));
}

/* ---- fw_event_decode ---- */

static void test_event_valid_ipv4(void **state)
{
	struct fw_event e = good_event(), out;

	memset(&out, 0xa5, sizeof(out));
	assert_int_equal(fw_event_decode(&e, sizeof(e), &out), 0);
	assert_memory_equal(&out, &e, sizeof(e));
}

static void test_event_valid_ipv6(void **state)
{
	struct fw_event e = good_event(), out;

	e.family = FW_AF_INET6;
	memset(e.saddr, 0x20, sizeof(e.saddr));
	memset(e.daddr, 0xfe, sizeof(e.daddr));
	assert_int_equal(fw_event_decode(&e, sizeof(e), &out), 0);
	assert_memory_equal(&out, &e, sizeof(e));
}

static void test_event_all_states(void **state)
{
	for (unsigned int o = 1; o <= FW_TCP_MAX_STATE; o++) {
		for (unsigned int n = 1; n <= FW_TCP_MAX_STATE; n++) {
			struct fw_event e = good_event(), out;

			e.oldstate = (__u8)o;
			e.newstate = (__u8)n;
			CHECK(fw_event_decode(&e, sizeof(e), &out) == 0, "states %u -> %u rejected", o, n);
			CHECK(out.oldstate == o && out.newstate == n, "states %u -> %u not copied", o, n);
		}
	}
}

/* The kernel copies comm with bpf_get_current_comm, but a record built any
 * other way may fill all 16 bytes. */
static void test_event_comm_terminated(void **state)
{
	struct fw_event e = good_event(), out;

	memset(e.comm, 'A', sizeof(e.comm));
	assert_int_equal(fw_event_decode(&e, sizeof(e), &out), 0);
	assert_int_equal(out.comm[FW_COMM_LEN - 1], '\0');
	assert_int_equal(strlen(out.comm), FW_COMM_LEN - 1);
	assert_memory_equal(out.comm, e.comm, FW_COMM_LEN - 1);
	assert_int_equal(e.comm[FW_COMM_LEN - 1], 'A');   /* the input is not modified */

	/* Arbitrary bytes pass through; only the last is forced. */
	for (int i = 0; i < FW_COMM_LEN; i++)
		e.comm[i] = (char)(0x80 + i);
	assert_int_equal(fw_event_decode(&e, sizeof(e), &out), 0);
	assert_memory_equal(out.comm, e.comm, FW_COMM_LEN - 1);
	assert_int_equal(out.comm[FW_COMM_LEN - 1], '\0');
}

static void test_event_unaligned(void **state)
{
	struct fw_event e = good_event(), out;
	_Alignas(8) unsigned char buf[sizeof(e) + 1];

	memcpy(buf + 1, &e, sizeof(e));
	assert_int_equal(fw_event_decode(buf + 1, sizeof(e), &out), 0);
	assert_memory_equal(&out, &e, sizeof(e));
}

static void test_event_wrong_sizes(void **state)
{
	struct fw_event e[3];
	const size_t sz = sizeof(struct fw_event);
	const size_t lens[] = { 0, 1, 8, sz - 8, sz - 1, sz + 1, sz + 8, 2 * sz,
				sizeof(struct fw_scan_rec), SIZE_MAX };
	char what[64];

	e[0] = e[1] = e[2] = good_event();
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		snprintf(what, sizeof(what), "len %zu", lens[i]);
		expect_event_rejected(e, lens[i], what);
	}
}

static void test_event_bad_family(void **state)
{
	char what[64];

	for (size_t i = 0; i < sizeof(bad_families) / sizeof(bad_families[0]); i++) {
		struct fw_event e = good_event();

		e.family = (__u16)bad_families[i];
		snprintf(what, sizeof(what), "family %u", bad_families[i]);
		expect_event_rejected(&e, sizeof(e), what);
	}
}

static void test_event_bad_states(void **state)
{
	char what[64];

	for (size_t i = 0; i < sizeof(bad_states) / sizeof(bad_states[0]); i++) {
		struct fw_event e = good_event();

		e.oldstate = (__u8)bad_states[i];
		snprintf(what, sizeof(what), "oldstate %u", bad_states[i]);
		expect_event_rejected(&e, sizeof(e), what);

		e = good_event();
		e.newstate = (__u8)bad_states[i];
		snprintf(what, sizeof(what), "newstate %u", bad_states[i]);
		expect_event_rejected(&e, sizeof(e), what);
	}
}

static void test_event_null(void **state)
{
	struct fw_event e = good_event(), out;

	assert_int_equal(fw_event_decode(NULL, sizeof(e), &out), -EINVAL);
	assert_int_equal(fw_event_decode(&e, sizeof(e), NULL), -EINVAL);
}

/* ---- fw_scan_rec_decode ---- */

static void test_scan_valid(void **state)
{
	static const struct {
		__u8 kind, st;
		__u16 family;
	} ok[] = {
		{ FW_SCAN_FULL, FW_TCP_FIN_WAIT2, FW_AF_INET },
		{ FW_SCAN_FULL, FW_TCP_FIN_WAIT2, FW_AF_INET6 },
		{ FW_SCAN_TW, FW_TCP_FIN_WAIT2, FW_AF_INET },
		{ FW_SCAN_TW, FW_TCP_TIME_WAIT, FW_AF_INET },
		{ FW_SCAN_TW, FW_TCP_TIME_WAIT, FW_AF_INET6 },
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct fw_scan_rec r = good_scan(), out;

		r.kind = ok[i].kind;
		r.state = ok[i].st;
		r.family = ok[i].family;
		memset(&out, 0xa5, sizeof(out));
		CHECK(fw_scan_rec_decode(&r, sizeof(r), &out) == 0, "kind %u state %u family %u rejected",
		      ok[i].kind, ok[i].st, ok[i].family);
		CHECK(!memcmp(&out, &r, sizeof(r)), "kind %u state %u: not copied", ok[i].kind, ok[i].st);
	}
}

static void test_scan_unaligned(void **state)
{
	struct fw_scan_rec r = good_scan(), out;
	_Alignas(8) unsigned char buf[sizeof(r) + 3];

	memcpy(buf + 3, &r, sizeof(r));
	assert_int_equal(fw_scan_rec_decode(buf + 3, sizeof(r), &out), 0);
	assert_memory_equal(&out, &r, sizeof(r));
}

static void test_scan_wrong_sizes(void **state)
{
	struct fw_scan_rec r[3];
	const size_t sz = sizeof(struct fw_scan_rec);
	const size_t lens[] = { 0, 1, sz - 4, sz - 1, sz + 1, sz + 4, 2 * sz,
				sizeof(struct fw_event), SIZE_MAX };
	char what[64];

	r[0] = r[1] = r[2] = good_scan();
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		snprintf(what, sizeof(what), "len %zu", lens[i]);
		expect_scan_rejected(r, lens[i], what);
	}
}

static void test_scan_bad_family(void **state)
{
	char what[64];

	for (size_t i = 0; i < sizeof(bad_families) / sizeof(bad_families[0]); i++) {
		struct fw_scan_rec r = good_scan();

		r.family = (__u16)bad_families[i];
		snprintf(what, sizeof(what), "family %u", bad_families[i]);
		expect_scan_rejected(&r, sizeof(r), what);
	}
}

static void test_scan_bad_kind(void **state)
{
	static const unsigned int kinds[] = { 0, 3, 4, 128, 255 };
	char what[64];

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct fw_scan_rec r = good_scan();

		r.kind = (__u8)kinds[i];
		snprintf(what, sizeof(what), "kind %u", kinds[i]);
		expect_scan_rejected(&r, sizeof(r), what);
	}
}

/* Only FIN_WAIT2 (full or timewait) and TIME_WAIT (timewait) are scanned;
 * a valid TCP state that the scan never reports is still malformed. */
static void test_scan_bad_states(void **state)
{
	char what[64];

	for (unsigned int s = 0; s <= 255; s++) {
		struct fw_scan_rec r = good_scan();

		r.state = (__u8)s;
		if (s != FW_TCP_FIN_WAIT2) {
			r.kind = FW_SCAN_FULL;
			snprintf(what, sizeof(what), "FULL state %u", s);
			expect_scan_rejected(&r, sizeof(r), what);
		}
		if (s != FW_TCP_FIN_WAIT2 && s != FW_TCP_TIME_WAIT) {
			r.kind = FW_SCAN_TW;
			snprintf(what, sizeof(what), "TW state %u", s);
			expect_scan_rejected(&r, sizeof(r), what);
		}
	}
}

static void test_scan_null(void **state)
{
	struct fw_scan_rec r = good_scan(), out;

	assert_int_equal(fw_scan_rec_decode(NULL, sizeof(r), &out), -EINVAL);
	assert_int_equal(fw_scan_rec_decode(&r, sizeof(r), NULL), -EINVAL);
}

/* ---- fw_owner_rec_decode ---- */

static void test_owner_rec(void **state)
{
	struct fw_owner_rec r, out, before;

	memset(&r, 0, sizeof(r));
	r.cookie = 77;
	r.tgid = 4242;
	r.fd = 9;
	r.state = FW_TCP_FIN_WAIT2;
	memset(r.comm, 'x', sizeof(r.comm));     /* no NUL from the kernel */
	assert_int_equal(fw_owner_rec_decode(&r, sizeof(r), &out), 0);
	assert_int_equal(out.tgid, 4242);
	assert_int_equal(out.cookie, 77);
	assert_int_equal(strlen(out.comm), sizeof(out.comm) - 1);

	/* Wrong state, no process, no cookie, wrong size: rejected, *out untouched. */
	struct fw_owner_rec bad[3] = { r, r, r };

	bad[0].state = FW_TCP_TIME_WAIT;
	bad[1].tgid = 0;
	bad[2].cookie = 0;
	for (int i = 0; i < 3; i++) {
		memset(&out, 0xa5, sizeof(out));
		before = out;
		assert_int_equal(fw_owner_rec_decode(&bad[i], sizeof(bad[i]), &out), -EINVAL);
		assert_memory_equal(&out, &before, sizeof(out));
	}
	assert_int_equal(fw_owner_rec_decode(&r, sizeof(r) - 1, &out), -EINVAL);
	assert_int_equal(fw_owner_rec_decode(NULL, sizeof(r), &out), -EINVAL);
	assert_int_equal(fw_owner_rec_decode(&r, sizeof(r), NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_event_valid_ipv4),
		cmocka_unit_test(test_event_valid_ipv6),
		cmocka_unit_test(test_event_all_states),
		cmocka_unit_test(test_event_comm_terminated),
		cmocka_unit_test(test_event_unaligned),
		cmocka_unit_test(test_event_wrong_sizes),
		cmocka_unit_test(test_event_bad_family),
		cmocka_unit_test(test_event_bad_states),
		cmocka_unit_test(test_event_null),
		cmocka_unit_test(test_scan_valid),
		cmocka_unit_test(test_scan_unaligned),
		cmocka_unit_test(test_scan_wrong_sizes),
		cmocka_unit_test(test_scan_bad_family),
		cmocka_unit_test(test_scan_bad_kind),
		cmocka_unit_test(test_scan_bad_states),
		cmocka_unit_test(test_scan_null),
		cmocka_unit_test(test_owner_rec),
	};

	return cmocka_run_group_tests_name("event", tests, NULL, NULL);
}
