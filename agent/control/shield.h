/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CPU shielding with cpusets: the real-time vCPU threads get the shield
 * CPUs to themselves (cpuset kvmrt.rt); every movable task of the root
 * cpuset, and every IRQ that allows it, goes to the other CPUs (cpuset
 * kvmrt.hk). Everything moved is recorded in the state file first.
 * cgroup v1 cpusets, or a cgroup v2 threaded partition (kvmrt.rt).
 */
#ifndef KVMRT_SHIELD_H
#define KVMRT_SHIELD_H

#include <sched.h> /* cpu_set_t: needs _GNU_SOURCE before any include */
#include <signal.h>
#include "taskstate.h"

/* "1", "2-3,6": every CPU online, none twice, and at least one left for
 * housekeeping. 0 or -EINVAL with the reason printed. */
int shield_parse(const char *list, cpu_set_t *set);
/* A CPU list as the kernel writes it ("0-3,6"; empty is none), without
 * policy checks: 0, or -EINVAL if it is not one. */
int cpulist_parse(const char *list, cpu_set_t *set);
/* Where the cpusets are: the v1 cpuset mount, or a cgroup2 mount whose
 * root offers the cpuset controller. */
struct cpuset_root {
	char path[128];
	int v2;
};
/* -ENOTSUP (message printed) without either. */
int shield_root(struct cpuset_root *r);
/* Can a shield be made here now (cpusets, none of ours in place)? */
int shield_check(void);
/* Shield the threads (pid/tid pairs) on the CPUs. A failure undoes what
 * was done (the caller restores from the state). stop (may be NULL): a
 * signal's flag, looked at between steps, threads and IRQs; once set,
 * -EINTR, with everything done so far in the state. */
int shield_apply(struct state_file *st, const cpu_set_t *cpus, const struct task_saved *rt, int n,
		 const volatile sig_atomic_t *stop);
/* Its cpuset half, at a given root (hk: the housekeeping CPU list), and
 * the way back; shield_restore adds the IRQs. */
int shield_cpusets_apply(struct state_file *st, const struct cpuset_root *r, const cpu_set_t *cpus,
			 const struct task_saved *rt, int n, const char *hk,
			 const volatile sig_atomic_t *stop);
int shield_cpusets_restore(const struct state_file *st);
/* The whole shield undone: threads back to their old cpusets, IRQs to
 * their old CPUs, our cpusets removed. Returns the number of failures. */
int shield_restore(const struct state_file *st);
/* The housekeeping CPUs: every online CPU not in rt (where the real-time
 * vCPUs may run). The one definition the shield, the plan and the
 * controller's own placement use. */
void shield_housekeeping(const cpu_set_t *rt, cpu_set_t *hk);
/* CPU list text of a set ("0,2-3"). */
void shield_format(const cpu_set_t *set, char *buf, size_t len);
/* Enough for any list of CPU_SETSIZE (1024) CPUs: "0,2,...,1022" is 2,459 */
#define SHIELD_LIST_MAX 4096

#endif
