// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "kernel_hz.h"

#define NS_PER_SEC 1000000000ULL
/* kernel/Kconfig.hz and the values arch configs pick. */
static const __u32 hz_values[] = { 100, 250, 300, 1000, 24, 32, 48, 64, 128, 256, 512, 1024, 1200 };
#define N_HZ (sizeof(hz_values) / sizeof(hz_values[0]))

static int hz_known(__u64 hz)
{
	for (unsigned i = 0; i < N_HZ; i++)
		if (hz_values[i] == hz)
			return 1;
	return 0;
}

__u32 kernel_hz_from_fin_timeout(__u64 fin_timeout_jiffies, int fin_timeout_s)
{
	if (fin_timeout_s <= 0 || !fin_timeout_jiffies || fin_timeout_jiffies % (__u64)fin_timeout_s)
		return 0;
	return hz_known(fin_timeout_jiffies / (__u64)fin_timeout_s)
		       ? (__u32)(fin_timeout_jiffies / (__u64)fin_timeout_s) : 0;
}

__u32 kernel_hz_from_clock(__u64 jiffies64, __u64 mono_ns)
{
	/* The two start a tick or so apart; a second covers that and the
	 * time between reading them. */
	const __s64 slack_ns = (__s64)NS_PER_SEC;
	__u32 found = 0;

	for (unsigned i = 0; i < N_HZ; i++) {
		__s64 hz = hz_values[i];
		/* Ticks since boot if HZ were hz; jiffies wrap in 64 bits too. */
		__s64 ticks = (__s64)(jiffies64 - ((1ULL << 32) - 300 * (__u64)hz));
		__s64 diff;

		if (ticks < 0)
			continue;
		/* Not ticks * (NS_PER_SEC / hz): 300 does not divide it, and
		 * the remainder grows to seconds over months of uptime. */
		diff = (ticks / hz) * (__s64)NS_PER_SEC + (ticks % hz) * (__s64)NS_PER_SEC / hz -
		       (__s64)mono_ns;
		if (diff < -slack_ns || diff > slack_ns)
			continue;
		if (found)
			return 0;       /* ambiguous */
		found = hz_values[i];
	}
	return found;
}
