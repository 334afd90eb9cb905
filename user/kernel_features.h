/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What finwatch needs from the kernel, feature by feature: probed before
 * loading (user/kernel_probe.c), so that a missing one is named with the
 * kernel that brings it instead of surfacing as a verifier log, optional
 * ones degrade, and `doctor` shows the whole list. Kernel-free: the
 * verdicts and the report are unit-tested.
 */
#ifndef FW_KERNEL_FEATURES_H
#define FW_KERNEL_FEATURES_H

#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include "json_writer.h"

enum fw_feature {
	FW_FEAT_BTF = 0,         /* /sys/kernel/btf/vmlinux */
	FW_FEAT_TP_BTF,          /* tp_btf/inet_sock_set_state */
	FW_FEAT_RINGBUF,
	FW_FEAT_SOCK_COOKIE,     /* bpf_get_socket_cookie from tracing programs */
	FW_FEAT_ITER_TCP,
	FW_FEAT_ITER_TASK_FILE,  /* iter/task_file with bpf_sock_from_file */
	FW_FEAT_SOCK_DESTROY,    /* sock_diag SOCK_DESTROY (CONFIG_INET_DIAG_DESTROY) */
	FW_FEAT_BPF_STATS,       /* kernel.bpf_stats_enabled, recursion misses */
	FW_FEAT_MAX,
};

/* Probe answers. */
#define FW_FEAT_NO 0
#define FW_FEAT_YES 1
#define FW_FEAT_UNKNOWN (-1)     /* the probe itself failed (e.g. EPERM) */

struct fw_feature_desc {
	const char *name;        /* JSON key and text label */
	const char *what;        /* what finwatch uses it for */
	const char *since;       /* the mainline release that brought it */
	int required;            /* 1: watch and trace cannot run without it */
};

struct fw_kernel_support {
	char release[65];        /* uname -r */
	int have[FW_FEAT_MAX];   /* FW_FEAT_* answers */
};

const struct fw_feature_desc *kernel_feature_desc(enum fw_feature f);

/*
 * Writes one line naming the first required feature that is missing (and
 * the kernel that has it) and returns -EOPNOTSUPP; 0 when everything
 * required is there or could not be probed (the load then tells).
 */
int kernel_features_check(const struct fw_kernel_support *ks, char *msg, size_t len);

/* Text (a line per feature) or one JSON record "kernel". */
void kernel_features_print(const struct fw_kernel_support *ks, FILE *out);
void kernel_features_json(const struct fw_kernel_support *ks, struct json_writer *jw, __u64 now_ns);

#endif
