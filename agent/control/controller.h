/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmrt control: prioritization and co-scheduling of real-time vCPUs,
 * driven by the measurements.
 *
 *   --prio N     SCHED_FIFO N (reset-on-fork) for the real-time vCPU
 *                threads, for as long as control runs;
 *   --cosched    their background policy until their guest has work: the
 *                BPF side reports each injection for them at once, the
 *                controller boosts the thread to SCHED_FIFO, and demotes it
 *                once every interrupt ended (or the guest said idle) and a
 *                grace period passed, never longer than the cap at once.
 *
 * Safety: every thread's state is saved to the state file before it is
 * changed; a guardian process restores from that file if control dies
 * without doing so itself; `--restore` does the same for a service
 * manager's stop hook. Threads are identified by tid and start time before
 * every change; a change made by someone else is reported and that thread
 * left alone; RT throttling must be on.
 *
 * The controller's state, shared by its parts: rt_vcpus.c (the threads),
 * guardian.c, loop.c (records and deadlines), adapt.c (--slo); the command
 * itself, with its --listen metrics, is frontends/control*.c.
 */
#ifndef KVMRT_CONTROLLER_H
#define KVMRT_CONTROLLER_H

#include <sched.h>
#include <signal.h>
#include "collector.h"
#include "claim.h"
#include "cosched.h"
#include "cpuload.h"
#include "loader.h"
#include "procfs.h"
#include "taskstate.h"

#define CTL_MAX_RT 16
#define CTL_DEFAULT_PRIO 50

/* Where a reaction's time goes: the controller's wake-up (the record's
 * notification, its scheduling), its reading up to the boost, and the
 * sched_setattr itself. */
enum { R_TOTAL, R_WAKE, R_READ, R_SET, R_NR };

struct rt_vcpu {
	char vm[VMREG_NAME_LEN];
	__u32 vcpu;
	int how;	/* how its thread was found (enum vcpu_how) */
	struct task_saved saved;
	struct claim claim; /* ours alone while we manage it (claim.h) */
	__u64 last_t; /* time of its last control record */
	struct cosched cs;
	struct cosched_cfg cfg;	 /* its own: --slo adapts it */
	struct cosched_adapt ad;
	struct kvmrt_hist *prev; /* response and thread-wait histograms at the last adaptation */
	struct cpuload load;	 /* its CPUs' use at the last adaptation */
	__u64 capped_seen;	 /* cs.capped at the last adaptation */
	/* since the last adaptation, for --slo: boosts for work after a
	 * demotion, and those that came within twice the grace of it */
	__u64 t_demoted;
	__u64 iv_boosts, iv_caught, iv_work_boosts;
	__u64 halted_seen, t_adapt; /* halted time and time at the last one */
	int boosted;
	int foreign; /* someone else changed it, or gone: hands off */
	int gone;    /* its thread exited (the VM or its vCPU ended) */
};

/* What the command line asked for (control_opts.c), apart from the
 * running controller's state below. */
struct control_opts {
	const char *rt[CTL_MAX_RT];
	int nrt;
	int prio;
	int cosched;
	int static_prio;
	__u64 slo_ns;
	const char *shield_arg;
	cpu_set_t shield;
	struct cosched_cfg cfg;
	unsigned int hint_port;
	int dry_run;
	int log;	/* -l: a line per change */
	int restore;
	double duration_s;
	const char *state_path;
	int poll;	/* --poll: spin on the ring while a managed vCPU is demoted */
	const char *listen;
	const char *web_config;
};

struct control {
	struct control_opts o;
	int state_dirty;	/* a thread let go: the state file to rewrite */
	struct loader *l;	/* the BPF side, when loaded */
	struct collector *c;
	int loaded;
	struct state_file st;
	struct rt_vcpu *v;
	int nv;
	struct kvmrt_hist *reaction; /* [R_NR]: injection -> boost applied, and its parts */
	__u64 t_woke;	/* when the controller last woke to read records */
	int guardian_fd;
	__u64 next_check; /* the next once-a-second checks (control__run_second) */
	int shielded;
	__u64 shield_hold_until; /* --slo: a shield that did no good waits till then */
	__u64 shield_hold_s;
	__u64 throttle_gap_ns; /* RT throttling's off time per period */
	__u64 t_start;
	double cpu_start_s;	/* its own CPU time when it began controlling (after loading) */
	/* what the controller costs the guest: its wake-ups (each an IPI
	 * somewhere), by a record or by its own timer, against the interrupts
	 * it saw; and the IPIs the vCPUs' CPUs took meanwhile */
	__u64 wakes_record, wakes_timer, injections;
	struct ipi_counts ipi_start;
	/* the vCPUs' CPUs at the start: the IPIs are counted on these at the
	 * end too (a VM gone by then has none, and the sums would go back) */
	__u8 ipi_cpus[CPU_SETSIZE];
	volatile sig_atomic_t *stop; /* set: the loops end */
};



/* rt_vcpus.c */
/* Does every real-time VM have a thread for each of its vCPUs? */
int control__all_threads_known(struct control *ctl, struct vmreg *reg);
/* Find the real-time VMs (by name or pid) and their vCPU threads. */
int control__resolve(struct control *ctl, struct vmreg *reg);
int control__save_state(struct control *ctl);
int control__still_ours(struct control *ctl, struct rt_vcpu *v);
/* Once a second: threads gone or changed by someone else let go, and the
 * state file rewritten without them. */
void control__check_threads(struct control *ctl);
int control__all_gone(const struct control *ctl);
void control__publish_boost(struct control *ctl, const struct rt_vcpu *v, int boosted);
int control__boost(struct control *ctl, struct rt_vcpu *v);
int control__demote(struct control *ctl, struct rt_vcpu *v);

/* guardian.c: started once the state file is written; ends with the
 * controller (control__stop_guardian waits for it). */
int control__start_guardian(struct control *ctl);
void control__stop_guardian(struct control *ctl);

/* loop.c */
void control__act(struct control *ctl, struct rt_vcpu *v, enum cosched_action a, __u64 t_event,
		  const char *why);
void control__on_ctl(struct collector *c, const struct kvmrt_ctl_rec *r, void *ctx);
/* The controller runs a second at a time, its once-a-second checks
 * (threads let go, --slo's adaptation) ending each: the command does its
 * own (--listen's page) between seconds. 1: a second ran; 0: stopped, or
 * t_end (0: none) reached. */
int control__run_second(struct control *ctl, __u64 t_end);

/* adapt.c */
int control__apply_shield(struct control *ctl);
__u64 control__rt_throttle_gap_ns(void);
void control__adapt(struct control *ctl, __u64 now);


#endif
