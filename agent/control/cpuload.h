/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How much of a thread's CPUs other tasks used: the CPUs' busy time (from
 * /proc/stat) minus the thread's own CPU time, between two readings.
 * kvmrt control --slo's sign of contention that boosting does not hide:
 * the thread's waits for its CPU vanish while it is boosted, the others'
 * demand on the CPU does not.
 */
#ifndef KVMRT_CPULOAD_H
#define KVMRT_CPULOAD_H

#include <sched.h>
#include <stdio.h>
#include <linux/types.h>

struct cpuload {
	__u64 busy_ns;		/* non-idle time of the thread's CPUs, summed */
	__u64 thread_ns;	/* the thread's own CPU time */
	__u64 t;		/* CLOCK_MONOTONIC of the reading */
	int ncpu;		/* CPUs in its affinity */
};

/* Sum the busy time (user, nice, system, irq, softirq; not idle, iowait or
 * steal) of the CPUs in *set from a /proc/stat stream, in ns. */
int cpuload_parse_stat(FILE *f, const cpu_set_t *set, long ticks_per_s, __u64 *busy_ns);
/* Read it for thread tid now. */
int cpuload_read(struct cpuload *l, pid_t tid);
/* Others' share of the thread's CPUs between two readings, per mille of
 * the CPUs' time (0..1000). */
__u32 cpuload_others_pm(const struct cpuload *before, const struct cpuload *after);

#endif
