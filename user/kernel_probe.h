/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Probes the running kernel for what finwatch needs (kernel_features.h). */
#ifndef FW_KERNEL_PROBE_H
#define FW_KERNEL_PROBE_H

#include "kernel_features.h"

/* Fills ks; every answer is FW_FEAT_YES, FW_FEAT_NO or FW_FEAT_UNKNOWN. */
void kernel_probe(struct fw_kernel_support *ks);

#endif
