// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include "cpuload.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int cpuload_parse_stat(FILE *f, const cpu_set_t *set, long ticks_per_s, __u64 *busy_ns)
{
	char line[512];
	int seen = 0;

	*busy_ns = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long user, nice, sys, idle, iowait, irq, softirq;
		int cpu;

		/* "cpuN user nice system idle iowait irq softirq ..." (not "cpu ") */
		if (sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu", &cpu, &user, &nice,
			   &sys, &idle, &iowait, &irq, &softirq) != 8)
			continue;
		if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, set))
			continue;
		*busy_ns += (user + nice + sys + irq + softirq) * (1000000000ULL / ticks_per_s);
		seen++;
	}
	return seen ? 0 : -ENOENT;
}

/* The thread's time on a CPU: the first field of schedstat, in ns. (A CPU
 * clock of another process's thread is not readable, whatever the rights.) */
static int thread_cpu_ns(pid_t tid, __u64 *ns)
{
	unsigned long long v;
	char path[64];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", tid, tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fscanf(f, "%llu", &v);
	fclose(f);
	if (n != 1)
		return -EINVAL;
	*ns = v;
	return 0;
}

int cpuload_read(struct cpuload *l, pid_t tid)
{
	struct timespec ts;
	cpu_set_t set;
	FILE *f;
	int err;

	if (sched_getaffinity(tid, sizeof(set), &set))
		return -errno;
	err = thread_cpu_ns(tid, &l->thread_ns);
	if (err)
		return err;
	f = fopen("/proc/stat", "re");
	if (!f)
		return -errno;
	err = cpuload_parse_stat(f, &set, sysconf(_SC_CLK_TCK), &l->busy_ns);
	fclose(f);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	l->t = (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	l->ncpu = CPU_COUNT(&set);
	return err;
}

__u32 cpuload_others_pm(const struct cpuload *a, const struct cpuload *b)
{
	__u64 span = (b->t - a->t) * (__u64)(b->ncpu ? b->ncpu : 1);
	__u64 busy = b->busy_ns - a->busy_ns, own = b->thread_ns - a->thread_ns;

	if (!span || b->t <= a->t || b->busy_ns < a->busy_ns || own >= busy)
		return 0;
	busy -= own;
	return busy >= span ? 1000 : (__u32)(busy * 1000 / span);
}
