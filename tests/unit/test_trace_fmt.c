// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* `finwatch trace` rows and records, pinned byte for byte. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "parse.h"
#include "trace_fmt.h"
#include "golden.h"

#define S NS_PER_SEC

static struct fw_event ev4(void)
{
	struct fw_event e;

	memset(&e, 0, sizeof(e));
	e.ts_ns = 12 * S + 345678901;
	e.cookie = 77;
	e.ns_in_old = 1500000;
	e.netns = 4026531840u;
	e.family = FW_AF_INET;
	e.saddr[0] = 10; e.saddr[3] = 1;
	e.daddr[0] = 192; e.daddr[2] = 2; e.daddr[3] = 7;
	e.sport = 40001;
	e.dport = 443;
	e.oldstate = FW_TCP_FIN_WAIT1;
	e.newstate = FW_TCP_FIN_WAIT2;
	e.flags = FW_EVF_CLOSER | FW_EVF_ORPHANED;
	e.pid = 1234;
	e.tid = 1235;
	memcpy(e.comm, "front\x1b" "end", 9);
	return e;
}

static struct fw_event ev6(void)
{
	struct fw_event e = ev4();

	e.family = FW_AF_INET6;
	memset(e.saddr, 0, sizeof(e.saddr));
	memset(e.daddr, 0, sizeof(e.daddr));
	e.saddr[0] = 0xfd; e.saddr[15] = 1;
	e.daddr[0] = 0xfd; e.daddr[15] = 2;
	e.oldstate = FW_TCP_FIN_WAIT2;
	e.newstate = FW_TCP_CLOSE;
	e.ns_in_old = FW_NS_UNKNOWN;
	e.flags = FW_EVF_FIN_RCVD;
	e.sk_err = 104;
	return e;
}

static void test_text_rows(void **state)
{
	struct fw_event a = ev4(), b = ev6();

	assert_output("header",
		"TIME(s)    NETNS      PID     COMM             IP LOCAL                                     REMOTE                                    OLD            NEW          MS_IN_OLD FLAGS\n",
		trace_print_header(out));
	assert_output("v4 row",
		"2.345679   4026531840 1234    front?end        4  10.0.0.1:40001                            192.0.2.7:443                             FIN_WAIT1   -> FIN_WAIT2        1.500 orphan \n",
		trace_print_text(out, &a, 10 * S));
	assert_output("v6 row",
		"0.000000   4026531840 -       -                6  [fd00::1]:40001                           [fd00::2]:443                             FIN_WAIT2   -> CLOSE                - err=104\n",
		trace_print_text(out, &b, 20 * S));
}

static void test_json_records(void **state)
{
	struct fw_event a = ev4(), b = ev6();
	struct json_writer jw;

	json_record_setup("testhost", 1700000000LL * (__s64)S);
	assert_output("v4 json",
		"{\"type\":\"transition\",\"ts_ns\":12345678901,\"time\":\"2023-11-14T22:13:32.345Z\",\"host\":\"testhost\",\"netns\":4026531840,\"family\":4,\"saddr\":\"10.0.0.1\",\"sport\":40001,\"daddr\":\"192.0.2.7\",\"dport\":443,\"old\":\"FIN_WAIT1\",\"new\":\"FIN_WAIT2\",\"ms_in_old\":1.500,\"pid\":1234,\"tid\":1235,\"comm\":\"front\\u001bend\",\"cookie\":77,\"orphaned\":true,\"sk_err\":0,\"fin_rcvd\":false}\n",
		(jw_init(&jw, out), trace_print_json(&jw, &a), jw_end_line(&jw)));
	assert_output("v6 json",
		"{\"type\":\"transition\",\"ts_ns\":12345678901,\"time\":\"2023-11-14T22:13:32.345Z\",\"host\":\"testhost\",\"netns\":4026531840,\"family\":6,\"saddr\":\"fd00::1\",\"sport\":40001,\"daddr\":\"fd00::2\",\"dport\":443,\"old\":\"FIN_WAIT2\",\"new\":\"CLOSE\",\"ms_in_old\":null,\"pid\":null,\"tid\":null,\"comm\":null,\"cookie\":77,\"orphaned\":false,\"sk_err\":104,\"fin_rcvd\":true}\n",
		(jw_init(&jw, out), trace_print_json(&jw, &b), jw_end_line(&jw)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_rows),
		cmocka_unit_test(test_json_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
