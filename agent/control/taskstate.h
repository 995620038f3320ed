/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What kvmrt control may change on a thread, saved before it changes it,
 * and the one way back. The state file lists every saved thread (by tid
 * and start time: a tid alone may be reused) and is written before each
 * change, so that a restore after a crash or SIGKILL (the guardian, or
 * `kvmrt control --restore`) puts back exactly what was there.
 */
#ifndef KVMRT_TASKSTATE_H
#define KVMRT_TASKSTATE_H

#define CONTROL_STATE_DEFAULT "/run/kvmrt/control.state"
/* every controller's, for top and export: the default one and those of
 * kvmrt-control@NAME.service (/run/kvmrt/control-NAME.state) */
#define CONTROL_STATE_GLOB "/run/kvmrt/control{,-*}.state"

#include <limits.h>
#include <linux/types.h>

struct task_saved {
	__u32 pid;
	__u32 tid;
	unsigned long long start; /* /proc .../stat field 22 */
	__u32 policy;		  /* SCHED_*, without the reset-on-fork flag */
	__u32 flags;		  /* SCHED_FLAG_RESET_ON_FORK if it was set */
	__u32 rt_priority;
	__s32 nice;
	int pidfd; /* on the thread itself (task_pin), or -1; not in the state file */
};

/* Start time of a thread, 0 if it does not exist. */
unsigned long long task_start_time(__u32 pid, __u32 tid);
/* Read a thread's scheduling state now. 0 or -errno. */
int task_save(struct task_saved *t, __u32 pid, __u32 tid);
/* Is this still the thread we saved (tid not reused)? With a pidfd: has
 * it not exited (a live thread's tid is never reused); else its start time
 * in /proc (a file read: too slow for every boost). */
int task_same(const struct task_saved *t);
/* Open a pidfd on the saved thread (Linux 6.9+, PIDFD_THREAD), for the hot
 * path's task_same. Without one (older kernel), task_same reads /proc. */
void task_pin(struct task_saved *t);
void task_unpin(struct task_saved *t);
/* Does its policy still look like what we left (after set_fifo/restore)? */
int task_policy_is(const struct task_saved *t, __u32 policy, __u32 rt_priority);
/* SCHED_FIFO at prio, with reset-on-fork. 0 or -errno. */
int task_set_fifo(const struct task_saved *t, __u32 prio);
/* Back to the saved policy, priority and nice. 0 or -errno. */
int task_restore(const struct task_saved *t);

/* A thread moved out of its cpuset by --shield. */
struct cpuset_saved {
	__u32 pid;
	__u32 tid;
	unsigned long long start;
	char path[128]; /* its cpuset before, relative to the cpuset root */
	char *cpus;	/* its affinity before (joining a cpuset resets it); a CPU
			 * list has no length worth a bound: heap, state_free's */
};

struct irq_saved {
	int irq;
	char *cpus; /* smp_affinity_list before; heap, as above */
};

struct state_file {
	char path[PATH_MAX];
	struct task_saved *tasks;
	int n;
	/* --shield: cpusets created, threads moved, IRQs re-pointed */
	char cpuset_root[128];
	int groups;
	int v2;		/* cgroup v2: one threaded partition, threads by cgroup.threads */
	int v2_enabled; /* v2: we enabled cpuset in the root's subtree_control */
	struct cpuset_saved *moved;
	int nmoved;
	struct irq_saved *irqs;
	int nirqs;
};

/* Write all saved tasks, atomically (temp file, fsync, rename). */
int state_write(const struct state_file *s);
#define STATE_HEADER "# kvmrt control state"
/* Read a state file whole: 0, or -errno (-ENOENT if there is none) with
 * why it failed in why (may be NULL); a file that is not all valid lines
 * (the first the header) is -EINVAL and s holds nothing. */
int state_read(struct state_file *s, const char *path, char *why, size_t whylen);
/* The same from buf (len bytes, not NUL-terminated). */
int state_parse(struct state_file *s, const char *buf, size_t len, char *why, size_t whylen);
/* The tasks of every controller's state file (CONTROL_STATE_GLOB) in s. */
int state_read_all(struct state_file *s);
/* Does the state list this thread (kvmrt control manages it)? */
int state_manages(const struct state_file *s, __u32 tid);
/* Free what state_read allocated. */
void state_free(struct state_file *s);
/* Forget the shield's part (cpusets, moved threads, IRQs), freeing it. */
void state_forget_shield(struct state_file *s);

#endif
