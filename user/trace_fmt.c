// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>
#include <time.h>
#include "parse.h"
#include "tcp_states.h"
#include "trace_fmt.h"

void json_socket_fields(struct json_writer *jw, __u16 family, const __u8 *saddr, __u16 sport,
			const __u8 *daddr, __u16 dport)
{
	char buf[64];

	jw_uint_field(jw, "family", family == FW_AF_INET6 ? 6 : 4);
	jw_string_field(jw, "saddr", format_addr(family, saddr, buf, sizeof(buf)));
	jw_uint_field(jw, "sport", sport);
	jw_string_field(jw, "daddr", format_addr(family, daddr, buf, sizeof(buf)));
	jw_uint_field(jw, "dport", dport);
}

void json_comm_field(struct json_writer *jw, const char *name, const char *comm)
{
	jw_name(jw, name);
	jw_string_len(jw, comm, strnlen(comm, FW_COMM_LEN));
}

void json_holder_fields(struct json_writer *jw, __u32 pid, const char *comm)
{
	if (comm) {
		jw_uint_field(jw, "pid", pid);
		json_comm_field(jw, "comm", comm);
	} else {
		jw_null_field(jw, "pid");
		jw_null_field(jw, "comm");
	}
}

void text_comm(char *dst, size_t len, const char *comm)
{
	size_t j = 0;

	for (size_t i = 0; comm && i < FW_COMM_LEN && comm[i] && j + 1 < len; i++) {
		unsigned char ch = comm[i];

		dst[j++] = (ch < 0x20 || ch >= 0x7f) ? '?' : (char)ch;
	}
	dst[j] = '\0';
}

void trace_print_header(FILE *out)
{
	fprintf(out, "%-10s %-10s %-7s %-16s %-2s %-41s %-41s %-11s    %-11s %10s %s\n",
		"TIME(s)", "NETNS", "PID", "COMM", "IP", "LOCAL", "REMOTE", "OLD", "NEW",
		"MS_IN_OLD", "FLAGS");
}

void trace_print_text(FILE *out, const struct fw_event *e, __u64 t0_ns)
{
	char sa[48], da[48], local[64], remote[64], comm[FW_COMM_LEN + 1] = "-", pid[16] = "-";
	char ms[24] = "-", flags[32] = "";
	double t = e->ts_ns >= t0_ns ? (double)(e->ts_ns - t0_ns) / 1e9 : 0.0;

	format_addr(e->family, e->saddr, sa, sizeof(sa));
	format_addr(e->family, e->daddr, da, sizeof(da));
	snprintf(local, sizeof(local), e->family == FW_AF_INET6 ? "[%s]:%u" : "%s:%u", sa, e->sport);
	snprintf(remote, sizeof(remote), e->family == FW_AF_INET6 ? "[%s]:%u" : "%s:%u", da, e->dport);
	if (e->flags & FW_EVF_CLOSER) {
		text_comm(comm, sizeof(comm), e->comm);
		snprintf(pid, sizeof(pid), "%u", e->pid);
	}
	if (e->ns_in_old != FW_NS_UNKNOWN)
		snprintf(ms, sizeof(ms), "%.3f", (double)e->ns_in_old / 1e6);
	if (e->flags & FW_EVF_ORPHANED)
		strcat(flags, "orphan ");
	if (e->sk_err)
		snprintf(flags + strlen(flags), sizeof(flags) - strlen(flags), "err=%d", e->sk_err);
	fprintf(out, "%-10.6f %-10u %-7s %-16s %-2d %-41s %-41s %-11s -> %-11s %10s %s\n", t,
		e->netns, pid, comm, e->family == FW_AF_INET6 ? 6 : 4, local, remote,
		tcp_state_name(e->oldstate), tcp_state_name(e->newstate), ms, flags);
}

void trace_print_json(struct json_writer *jw, const struct fw_event *e)
{
	json_record_begin(jw, "transition", e->ts_ns);
	jw_uint_field(jw, "netns", e->netns);
	json_socket_fields(jw, e->family, e->saddr, e->sport, e->daddr, e->dport);
	jw_string_field(jw, "old", tcp_state_name(e->oldstate));
	jw_string_field(jw, "new", tcp_state_name(e->newstate));
	if (e->ns_in_old == FW_NS_UNKNOWN)
		jw_null_field(jw, "ms_in_old");
	else
		jw_fixed3_field(jw, "ms_in_old", e->ns_in_old, 1000000);
	if (e->flags & FW_EVF_CLOSER) {
		jw_uint_field(jw, "pid", e->pid);
		jw_uint_field(jw, "tid", e->tid);
		json_comm_field(jw, "comm", e->comm);
	} else {
		jw_null_field(jw, "pid");
		jw_null_field(jw, "tid");
		jw_null_field(jw, "comm");
	}
	jw_uint_field(jw, "cookie", e->cookie);
	jw_bool_field(jw, "orphaned", !!(e->flags & FW_EVF_ORPHANED));
	jw_int_field(jw, "sk_err", e->sk_err);
	jw_bool_field(jw, "fin_rcvd", !!(e->flags & FW_EVF_FIN_RCVD));
	jw_end_object(jw);
}
