// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The benchmark's cost floor: an empty tp_btf program on the same tracepoint
 * finwatch uses. Its bpf_stats run_time_ns/run_cnt is what the kernel charges
 * a BPF program that does nothing (stats bookkeeping included), and its
 * run_cnt counts every inet_sock_set_state hit of the run.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(fwbench_empty, struct sock *sk, int oldstate, int newstate)
{
	return 0;
}
