/* SPDX-License-Identifier: GPL-2.0 */
/* CLOCK_MONOTONIC in ns: the clock bpf_ktime_get_ns() reads too, so agent
 * and BPF timestamps compare directly. */
#ifndef KVMRT_CLOCK_H
#define KVMRT_CLOCK_H

#include <time.h>
#include <linux/types.h>

static inline __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

#endif
