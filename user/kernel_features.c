// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include "kernel_features.h"
#include "trace_fmt.h"

static const struct fw_feature_desc descs[FW_FEAT_MAX] = {
	[FW_FEAT_BTF] = { "btf", "kernel type information (/sys/kernel/btf/vmlinux) for CO-RE",
			  "5.5 (CONFIG_DEBUG_INFO_BTF=y)", 1 },
	[FW_FEAT_TP_BTF] = { "tp_btf", "tp_btf/inet_sock_set_state: every TCP state change", "5.5", 1 },
	[FW_FEAT_RINGBUF] = { "ringbuf", "BPF ring buffer for events", "5.8", 1 },
	[FW_FEAT_SOCK_COOKIE] = { "socket_cookie", "socket cookies from tracing programs: socket identity",
				  "5.12", 1 },
	[FW_FEAT_ITER_TCP] = { "iter_tcp", "iter/tcp: startup discovery, timewait follow-up, reaping",
			       "5.9", 0 },
	[FW_FEAT_ITER_TASK_FILE] = { "iter_task_file",
				     "iter/task_file with bpf_sock_from_file: holders (else /proc)", "5.11", 0 },
	[FW_FEAT_SOCK_DESTROY] = { "sock_destroy", "sock_diag SOCK_DESTROY: reaping",
				   "4.5 (CONFIG_INET_DIAG_DESTROY=y)", 0 },
	[FW_FEAT_BPF_STATS] = { "bpf_stats", "kernel.bpf_stats_enabled and recursion-miss counts", "5.12", 0 },
};

const struct fw_feature_desc *kernel_feature_desc(enum fw_feature f)
{
	return (unsigned)f < FW_FEAT_MAX ? &descs[f] : NULL;
}

int kernel_features_check(const struct fw_kernel_support *ks, char *msg, size_t len)
{
	for (int f = 0; f < FW_FEAT_MAX; f++) {
		if (!descs[f].required || ks->have[f] != FW_FEAT_NO)
			continue;
		snprintf(msg, len, "kernel %s lacks %s (%s; Linux %s or later): finwatch cannot run here "
			 "(`finwatch doctor` lists every feature)", ks->release, descs[f].name,
			 descs[f].what, descs[f].since);
		return -EOPNOTSUPP;
	}
	return 0;
}

static const char *answer(int have)
{
	return have == FW_FEAT_YES ? "yes" : have == FW_FEAT_NO ? "no" : "unknown";
}

void kernel_features_print(const struct fw_kernel_support *ks, FILE *out)
{
	fprintf(out, "kernel %s:\n", ks->release);
	for (int f = 0; f < FW_FEAT_MAX; f++)
		fprintf(out, "  %-15s %-7s %s (%s%s)\n", descs[f].name, answer(ks->have[f]), descs[f].what,
			descs[f].required ? "required, " : "", descs[f].since);
}

void kernel_features_json(const struct fw_kernel_support *ks, struct json_writer *jw, __u64 now_ns)
{
	json_record_begin(jw, "kernel", now_ns);
	jw_string_field(jw, "release", ks->release);
	jw_name(jw, "features");
	jw_start_object(jw);
	for (int f = 0; f < FW_FEAT_MAX; f++) {
		jw_name(jw, descs[f].name);
		jw_start_object(jw);
		if (ks->have[f] == FW_FEAT_UNKNOWN)
			jw_null_field(jw, "supported");
		else
			jw_bool_field(jw, "supported", ks->have[f] == FW_FEAT_YES);
		jw_bool_field(jw, "required", descs[f].required);
		jw_string_field(jw, "since", descs[f].since);
		jw_string_field(jw, "used_for", descs[f].what);
		jw_end_object(jw);
	}
	jw_end_object(jw);
	jw_end_object(jw);
	jw_end_line(jw);
}
