/* SPDX-License-Identifier: GPL-2.0 */
/* /proc's text, read and parsed in one place (vmreg, taskstate, top,
 * export): what a VMM or any task named itself cannot confuse it. */
#ifndef KVMRT_PROCFS_H
#define KVMRT_PROCFS_H

#include <stddef.h>
#include <linux/types.h>

/* A file's text (up to len - 1 bytes, NUL-terminated): its length, or -1
 * with errno. */
int procfs_read(const char *path, char *buf, size_t len);
/* Fields 3..n (numbered as in proc(5)) of a stat line into f[3..n] (f
 * holds n + 1); field 3, the state letter, reads as 0. The comm (field 2)
 * may hold spaces, parentheses and newlines: counted from its end. The
 * Tgid of a status text. Both -EINVAL if the text is not that. */
int proc_stat_fields(const char *buf, long long *f, int n);
int proc_status_tgid(const char *buf, __u32 *tgid);

/* Where and how a thread runs now: state (R, S, D...), last CPU, policy
 * (SCHED_*), RT priority and nice, from /proc/PID/task/TID/stat. 0 or
 * -errno. */
struct task_sched {
	char state;
	int cpu;
	int policy;
	int rt_priority;
	int nice;
};
int task_sched_read(const char *proc, __u32 pid, __u32 tid, struct task_sched *ts);

/* IPIs taken, from /proc/interrupts' x86 rows (0 where absent): irq work
 * (a BPF ring buffer's wake-up among them), rescheduling, function calls. */
struct ipi_counts {
	__u64 iwi, res, cal;
};
/* From an /proc/interrupts text, summed over the CPUs whose cpus[i] is
 * not 0 (i < ncpus; cpus NULL: all). 0, or -EINVAL if no row was found. */
int proc_ipi_counts(const char *text, const __u8 *cpus, int ncpus, struct ipi_counts *c);
/* The same of this host's /proc/interrupts. 0 or -errno. */
int ipi_counts_read(struct ipi_counts *c, const __u8 *cpus, int ncpus);

#endif
