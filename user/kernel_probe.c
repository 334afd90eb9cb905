// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Map types come from libbpf's own probe. Program types and helpers are
 * probed here, with tiny programs of the exact kind finwatch loads:
 * libbpf_probe_bpf_helper() refuses tracing programs (they need an attach
 * target), and whether a helper is offered to a tracing program depends
 * on that target (socket storage is refused on some functions).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "kernel_probe.h"
#include "sock_destroy.h"

static const struct bpf_insn prog_ret0[] = {
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
	{ .code = BPF_JMP | BPF_EXIT },
};

/*
 * Loads "call helper; exit" (or "return 0" when helper is 0) as a tracing
 * program attached to target. A missing helper fails with "unknown func"
 * or "invalid func"; one that exists fails later (arguments unset) or not
 * at all. FW_FEAT_UNKNOWN when the target or the permission is missing.
 */
static int probe_tracing(enum bpf_attach_type type, const char *target, int helper)
{
	struct bpf_insn call[2] = {
		{ .code = BPF_JMP | BPF_CALL, .imm = helper },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	char log[4096] = "";
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = type, .log_buf = log,
		    .log_size = sizeof(log), .log_level = 1);
	int id = libbpf_find_vmlinux_btf_id(target, type), fd;

	if (id < 0)
		return id == -ENOENT || id == -ESRCH ? FW_FEAT_NO : FW_FEAT_UNKNOWN;
	opts.attach_btf_id = (__u32)id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "fw_probe", "GPL", helper ? call : prog_ret0, 2, &opts);
	if (fd >= 0) {
		close(fd);
		return FW_FEAT_YES;
	}
	if (strstr(log, "unknown func") || strstr(log, "invalid func"))
		return FW_FEAT_NO;
	if (helper && log[0])
		return FW_FEAT_YES;     /* the verifier got past the call */
	/* No log: refused before the verifier ran (EPERM, or an iterator
	 * target this kernel does not register: ENOENT/EINVAL). */
	return errno == EPERM ? FW_FEAT_UNKNOWN : FW_FEAT_NO;
}

static int all_of(const int *v, int n)
{
	int r = FW_FEAT_YES;

	for (int i = 0; i < n; i++) {
		if (v[i] == FW_FEAT_NO)
			return FW_FEAT_NO;
		if (v[i] == FW_FEAT_UNKNOWN)
			r = FW_FEAT_UNKNOWN;
	}
	return r;
}

static int probe_map(enum bpf_map_type type)
{
	int r = libbpf_probe_bpf_map_type(type, NULL);

	return r > 0 ? FW_FEAT_YES : r == 0 ? FW_FEAT_NO : FW_FEAT_UNKNOWN;
}

void kernel_probe(struct fw_kernel_support *ks)
{
	struct utsname u;
	struct btf *vmlinux;
	int destroy;

	memset(ks, 0, sizeof(*ks));
	snprintf(ks->release, sizeof(ks->release), "%s", uname(&u) ? "unknown" : u.release);
	vmlinux = btf__load_vmlinux_btf();
	ks->have[FW_FEAT_BTF] = vmlinux ? FW_FEAT_YES : FW_FEAT_NO;
	btf__free(vmlinux);
	if (ks->have[FW_FEAT_BTF] == FW_FEAT_NO) {
		/* Every program finwatch has is typed by BTF. */
		for (int f = FW_FEAT_TP_BTF; f <= FW_FEAT_ITER_TASK_FILE; f++)
			ks->have[f] = FW_FEAT_NO;
	} else {
		const char *tp = "inet_sock_set_state";
		int tcp[] = {
			probe_tracing(BPF_TRACE_ITER, "tcp", 0),
			probe_tracing(BPF_TRACE_ITER, "tcp", BPF_FUNC_skc_to_tcp_timewait_sock),
			probe_tracing(BPF_TRACE_ITER, "tcp", BPF_FUNC_get_socket_cookie),
			probe_tracing(BPF_TRACE_ITER, "tcp", BPF_FUNC_seq_write),
			probe_tracing(BPF_TRACE_ITER, "tcp", BPF_FUNC_jiffies64),
		};
		int task_file[] = {
			probe_tracing(BPF_TRACE_ITER, "task_file", 0),
			probe_tracing(BPF_TRACE_ITER, "task_file", BPF_FUNC_sock_from_file),
			probe_tracing(BPF_TRACE_ITER, "task_file", BPF_FUNC_get_socket_cookie),
		};
		int ringbuf[] = {
			probe_map(BPF_MAP_TYPE_RINGBUF),
			probe_tracing(BPF_TRACE_RAW_TP, tp, BPF_FUNC_ringbuf_reserve),
		};

		ks->have[FW_FEAT_TP_BTF] = probe_tracing(BPF_TRACE_RAW_TP, tp, 0);
		ks->have[FW_FEAT_RINGBUF] = all_of(ringbuf, 2);
		ks->have[FW_FEAT_SOCK_COOKIE] = probe_tracing(BPF_TRACE_RAW_TP, tp, BPF_FUNC_get_socket_cookie);
		ks->have[FW_FEAT_ITER_TCP] = all_of(tcp, 5);
		ks->have[FW_FEAT_ITER_TASK_FILE] = all_of(task_file, 3);
	}
	destroy = sock_destroy_supported();
	ks->have[FW_FEAT_SOCK_DESTROY] = destroy > 0 ? FW_FEAT_YES : destroy == 0 ? FW_FEAT_NO : FW_FEAT_UNKNOWN;
	ks->have[FW_FEAT_BPF_STATS] = access("/proc/sys/kernel/bpf_stats_enabled", F_OK) == 0
					      ? FW_FEAT_YES : FW_FEAT_NO;
}
