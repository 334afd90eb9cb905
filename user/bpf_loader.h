/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Everything that talks to libbpf and the kernel besides the main loop. */
#ifndef FW_BPF_LOADER_H
#define FW_BPF_LOADER_H

#include <stddef.h>
#include <linux/types.h>
#include "finwatch.h"
#include "cli.h"

struct finwatch_bpf;

/* Checks root/capabilities and BTF before libbpf prints anything cryptic.
 * 0 or -errno with an actionable message in msg. */
int fw_preflight(char *msg, size_t len);

/* libbpf's own log goes to stderr only with -v. */
void fw_setup_libbpf_log(int verbose);

struct fw_kernel_support;

/* Opens the skeleton and sets rodata and map sizes from cfg (before load).
 * Programs for optional features ks says are missing are not loaded; n_netns
 * namespaces (0: all) are filtered in the kernel. */
int fw_open(const struct fw_config *cfg, const struct fw_kernel_support *ks, const __u32 *netns,
	    int n_netns, struct finwatch_bpf **out);

/* Loads; on failure explains the likely cause (msg) and with -v the
 * verifier log has already been printed by libbpf. */
int fw_load(struct finwatch_bpf *skel, char *msg, size_t len);

/* Sums the per-CPU fw_stats counters. */
int fw_read_stats(struct finwatch_bpf *skel, __u64 out[FW_STAT_MAX]);

/* Runs the kernel skipped because the program was already running on that
 * CPU (bpf_prog_info.recursion_misses), for the main copy and in *backup
 * for the second copy (0 when not attached). */
__u64 fw_recursion_misses(struct finwatch_bpf *skel, __u64 *backup);

/*
 * Least privilege: once programs are loaded and attached, keep only what
 * the run still needs (CAP_BPF for maps and iterators; in watch mode
 * CAP_SYS_ADMIN and CAP_SYS_PTRACE to enter other network namespaces,
 * CAP_DAC_READ_SEARCH to name holders via /proc/PID/fd, CAP_NET_ADMIN only
 * when reaping, CAP_NET_BIND_SERVICE only for a metrics port below 1024),
 * in the effective, permitted and bounding sets, so hooks cannot regain
 * more. Call before any other thread starts. 0 or -errno.
 */
int fw_drop_privileges(const struct fw_config *cfg);

/* Attaches the tracepoint program, and its second copy unless single. */
int fw_attach(struct finwatch_bpf *skel, int single);

#endif
