// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cap-ng.h>
#include <netinet/in.h>
#include "bpf_loader.h"
#include "kernel_features.h"
#include "finwatch.skel.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static int has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return !!(d[cap / 32].effective & (1U << (cap % 32)));
}

int fw_preflight(char *msg, size_t len)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};

	if (syscall(SYS_capget, &hdr, data) == 0 && !has_cap(data, CAP_SYS_ADMIN) &&
	    !(has_cap(data, CAP_BPF) && has_cap(data, CAP_PERFMON))) {
		snprintf(msg, len, "missing privileges: run as root, or grant CAP_BPF and CAP_PERFMON "
			 "(plus CAP_SYS_ADMIN and CAP_SYS_PTRACE to scan other network namespaces, "
			 "CAP_DAC_READ_SEARCH to name holding processes, CAP_NET_ADMIN to reap)");
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(msg, len, "no kernel BTF at /sys/kernel/btf/vmlinux: finwatch needs a kernel built "
			 "with CONFIG_DEBUG_INFO_BTF=y (5.8 or later)");
		return -ENOENT;
	}
	return 0;
}

static int print_all(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return vfprintf(stderr, fmt, ap);
}

static int print_none(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

void fw_setup_libbpf_log(int verbose)
{
	libbpf_set_print(verbose ? print_all : print_none);
}

int fw_open(const struct fw_config *cfg, const struct fw_kernel_support *ks, const __u32 *netns,
	    int n_netns, struct finwatch_bpf **out)
{
	struct finwatch_bpf *skel;
	int err;

	skel = finwatch_bpf__open();
	if (!skel)
		return -errno;
	/* Loaded only when attached: no program sits unused in the kernel. */
	if (cfg->single_program)
		bpf_program__set_autoload(skel->progs.fw_set_state_backup, false);
	if (cfg->cmd == FW_CMD_DOCTOR) {
		/* a one-shot report: scans only, no tracepoint */
		bpf_program__set_autoload(skel->progs.fw_set_state, false);
		bpf_program__set_autoload(skel->progs.fw_set_state_backup, false);
	}
	if (cfg->cmd == FW_CMD_TRACE) {
		/* trace follows nothing: no scans, no holders */
		bpf_program__set_autoload(skel->progs.fw_scan, false);
		bpf_program__set_autoload(skel->progs.fw_owners, false);
	}
	/* One program the kernel cannot take fails the whole load: leave
	 * out what has a fallback (no scans; holders from /proc). */
	if (ks->have[FW_FEAT_ITER_TCP] == FW_FEAT_NO)
		bpf_program__set_autoload(skel->progs.fw_scan, false);
	if (ks->have[FW_FEAT_ITER_TASK_FILE] == FW_FEAT_NO)
		bpf_program__set_autoload(skel->progs.fw_owners, false);
	skel->rodata->trace_all = cfg->cmd == FW_CMD_TRACE;
	/* An eighth of the ring: the reader wakes long before it fills, and
	 * the 100 ms poll timeout bounds the latency of quiet periods. */
	skel->rodata->wakeup_bytes = cfg->ringbuf_bytes / 8;
	skel->rodata->family_filter = cfg->family;
	skel->rodata->n_lports = (__u8)cfg->n_lports;
	skel->rodata->n_rports = (__u8)cfg->n_rports;
	for (int i = 0; i < cfg->n_lports; i++)
		skel->rodata->lports[i] = cfg->lports[i];
	for (int i = 0; i < cfg->n_rports; i++)
		skel->rodata->rports[i] = cfg->rports[i];
	skel->rodata->n_netns = (__u8)n_netns;
	for (int i = 0; i < n_netns && i < FW_MAX_NETNS; i++)
		skel->rodata->netns_list[i] = netns[i];
	/* doctor reads no events: the smallest ring (one page) */
	err = bpf_map__set_max_entries(skel->maps.events, cfg->cmd == FW_CMD_DOCTOR
				       ? (__u32)sysconf(_SC_PAGESIZE) : (__u32)cfg->ringbuf_bytes);
	/* The closers of sockets in FIN_WAIT1 only for watch (trace keeps
	 * its closers in user space). */
	if (!err && cfg->cmd == FW_CMD_TRACE)
		err = bpf_map__set_max_entries(skel->maps.closers, 1);
	if (err) {
		finwatch_bpf__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

int fw_load(struct finwatch_bpf *skel, char *msg, size_t len)
{
	int err = finwatch_bpf__load(skel);

	if (!err)
		return 0;
	switch (-err) {
	case EPERM:
		snprintf(msg, len, "the kernel refused to load the BPF programs (%s): run as root or with "
			 "CAP_BPF+CAP_PERFMON (and check kernel.unprivileged_bpf_disabled, lockdown)",
			 strerror(-err));
		break;
	case EACCES:
		snprintf(msg, len, "the BPF verifier rejected finwatch's programs on this kernel; rerun with "
			 "-v to see the verifier log and report it with `uname -r`");
		break;
	case ENOENT:
	case ESRCH:
	case EINVAL:
		snprintf(msg, len, "loading the BPF programs failed (%s): this kernel may lack the "
			 "features finwatch needs (kernel 5.12+: ring buffers, tp_btf, BTF pointers and socket cookies in tracing programs); "
			 "rerun with -v for libbpf's and the verifier's log", strerror(-err));
		break;
	default:
		snprintf(msg, len, "loading the BPF programs failed (%s); rerun with -v for the verifier log",
			 strerror(-err));
	}
	return err;
}

int fw_read_stats(struct finwatch_bpf *skel, __u64 out[FW_STAT_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = bpf_map__fd(skel->maps.fw_stats);

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	__u64 vals[ncpu];

	for (__u32 k = 0; k < FW_STAT_MAX; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, vals))
			return -errno;
		for (int c = 0; c < ncpu; c++)
			out[k] += vals[c];
	}
	return 0;
}

static __u64 prog_misses(struct bpf_program *p)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len))
		return 0;
	return info.recursion_misses;
}

__u64 fw_recursion_misses(struct finwatch_bpf *skel, __u64 *backup)
{
	if (backup)
		*backup = bpf_program__fd(skel->progs.fw_set_state_backup) >= 0
				  ? prog_misses(skel->progs.fw_set_state_backup) : 0;
	return prog_misses(skel->progs.fw_set_state);
}

int fw_attach(struct finwatch_bpf *skel, int single)
{
	skel->links.fw_set_state = bpf_program__attach(skel->progs.fw_set_state);
	if (!skel->links.fw_set_state)
		return -errno;
	if (single)
		return 0;
	skel->links.fw_set_state_backup = bpf_program__attach(skel->progs.fw_set_state_backup);
	return skel->links.fw_set_state_backup ? 0 : -errno;
}

int fw_drop_privileges(const struct fw_config *cfg)
{
	int want[8], have[8], n = 0;
	unsigned port = 0;

	if (cfg->metrics_enabled) {
		const struct sockaddr_storage *a = &cfg->metrics_addr;

		port = ntohs(a->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)a)->sin6_port
						      : ((const struct sockaddr_in *)a)->sin_port);
	}
	want[n++] = CAP_BPF;
	if (cfg->cmd != FW_CMD_TRACE) {
		want[n++] = CAP_SYS_ADMIN;
		want[n++] = CAP_SYS_PTRACE;
		want[n++] = CAP_DAC_READ_SEARCH;
	}
	if (cfg->reap_after_ns)
		want[n++] = CAP_NET_ADMIN;
	/* -- CMD: removing CMD's cgroup at the end (the cgroup2 root is
	 * read-only to root without it). */
	if (cfg->child_argv)
		want[n++] = CAP_DAC_OVERRIDE;
	if (port && port < 1024)
		want[n++] = CAP_NET_BIND_SERVICE;
	if (capng_get_caps_process())
		return -EPERM;
	/* Only what we hold can be kept; asking for more would fail. */
	for (int i = 0; i < n; i++)
		have[i] = capng_have_capability(CAPNG_PERMITTED, want[i]);
	capng_clear(CAPNG_SELECT_BOTH);
	for (int i = 0; i < n; i++)
		if (have[i])
			capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET, want[i]);
	return capng_apply(CAPNG_SELECT_BOTH) ? -EPERM : 0;
}
