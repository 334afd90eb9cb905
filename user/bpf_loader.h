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

/* Opens the skeleton and sets rodata and map sizes from cfg (before load). */
int fw_open(const struct fw_config *cfg, struct finwatch_bpf **out);

/* Loads; on failure explains the likely cause (msg) and with -v the
 * verifier log has already been printed by libbpf. */
int fw_load(struct finwatch_bpf *skel, char *msg, size_t len);

/* Sums the per-CPU fw_stats counters. */
int fw_read_stats(struct finwatch_bpf *skel, __u64 out[FW_STAT_MAX]);

/* Runs the kernel skipped because the program was already running on that
 * CPU (bpf_prog_info.recursion_misses), for the main copy and in *backup
 * for the second copy (0 when not attached). */
__u64 fw_recursion_misses(struct finwatch_bpf *skel, __u64 *backup);

/* Attaches the tracepoint program, and its second copy unless single. */
int fw_attach(struct finwatch_bpf *skel, int single);

#endif
