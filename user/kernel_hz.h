/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The kernel's HZ, needed to turn the jiffies of an iter/tcp record (timer
 * expiries, last-ACK stamps) into time. It is a build option and kernels
 * rarely expose their config (Debian's have no /proc/config.gz, and a pod
 * sees no /boot), so it is derived from what every record carries.
 */
#ifndef FW_KERNEL_HZ_H
#define FW_KERNEL_HZ_H

#include <linux/types.h>

/*
 * Exact: tcp_fin_timeout is stored in jiffies and shown in whole seconds
 * (seconds * HZ on write). 0 when it cannot tell (seconds <= 0, or a
 * ratio that is not a whole, plausible HZ).
 */
__u32 kernel_hz_from_fin_timeout(__u64 fin_timeout_jiffies, int fin_timeout_s);

/*
 * From the clock: jiffies start at INITIAL_JIFFIES (2^32 - 300 * HZ) when
 * CLOCK_MONOTONIC starts at 0, so only one of the HZ values Linux offers
 * fits a (jiffies, monotonic ns) pair. 0 when two fit (about 300 s after
 * boot every HZ does).
 */
__u32 kernel_hz_from_clock(__u64 jiffies64, __u64 mono_ns);

#endif
