/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Co-scheduling of one real-time vCPU: boosted the moment it has work (an
 * interrupt injected for it, a "busy" hint from the guest), demoted once
 * the work has ended (every injected interrupt reached its EOI, or, posted,
 * the guest; or the guest said "idle") and a grace period passed; never boosted longer than
 * the cap at a stretch, after which it stays demoted for a cool-down.
 * A vCPU whose thread sleeps (its guest halted) is parked at SCHED_FIFO:
 * asleep it costs the host nothing at any policy, and the next interrupt
 * wakes it at once, with no boost to wait for. Only its running time
 * counts toward the cap; a sleep shorter than the grace does not end a
 * stretch (a guest that spins with blips of hlt is still capped).
 * Pure functions of the events and their times: the controller calls
 * them, the unit tests replay event sequences through them.
 */
#ifndef KVMRT_COSCHED_H
#define KVMRT_COSCHED_H

#include <linux/types.h>

struct cosched_cfg {
	__u64 grace_ns;
	__u64 cap_ns;
	__u64 cooldown_ns;
	int work_off;	/* --slo: work (injection, busy hint) does not boost */
};

enum cosched_state { CS_IDLE, CS_BOOSTED, CS_PARKED, CS_COOLDOWN };
enum cosched_action { CS_NONE, CS_BOOST, CS_DEMOTE };

struct cosched {
	enum cosched_state state;
	__u32 pending;		/* injected, not yet ended */
	int busy_hint;		/* the guest said busy, not yet idle */
	__u64 seg_start;	/* boosted and running since */
	__u64 run_ns;		/* boosted running time of this stretch before seg_start */
	__u64 park_start;
	__u64 last_end;		/* last EOI or idle hint */
	__u64 cooldown_until;
	/* what happened, for logs and metrics */
	__u64 boosts, demotes, capped;
	__u64 parks;		/* sleeps spent at SCHED_FIFO */
	__u64 parked_wakes;	/* work that found it parked: nothing to do */
	__u64 boosted_ns;	/* boosted and running */
};

/* An interrupt was injected for the vCPU. */
enum cosched_action cosched_inject(struct cosched *c, const struct cosched_cfg *cfg, __u64 now);
/* One injected interrupt reached its end. */
enum cosched_action cosched_eoi(struct cosched *c, const struct cosched_cfg *cfg, __u64 now);
/* n posted interrupts reached the guest (APICv, AVIC), whose ends the host
 * may never see (a virtual EOI): for co-scheduling they end here, and the
 * grace runs from delivery. A guest that works longer says so with a busy
 * hint; one that halts is parked at its sleep. */
enum cosched_action cosched_posted(struct cosched *c, const struct cosched_cfg *cfg, __u32 n,
				   __u64 now);
/* The guest's hint: busy (1) or idle (0). */
enum cosched_action cosched_hint(struct cosched *c, const struct cosched_cfg *cfg, int busy,
				 __u64 now);
/* The vCPU's thread went to sleep (1: its guest halted) or runs again (0). */
enum cosched_action cosched_sleep(struct cosched *c, const struct cosched_cfg *cfg, int asleep,
				  __u64 now);
/* Time passes: grace and cap expire here. */
enum cosched_action cosched_tick(struct cosched *c, const struct cosched_cfg *cfg, __u64 now);
/* When cosched_tick next needs calling; 0 when nothing is pending. A vCPU
 * at SCHED_FIFO does not wake the controller for every record (ctl_urgent,
 * kvmrt.h), so the controller also reads them this often: every grace while
 * it runs boosted, every PARK_POLL_NS parked (a parked vCPU that woke with
 * work and then ran on is capped within the cap plus that). */
#define PARK_POLL_NS 20000000ULL
__u64 cosched_deadline(const struct cosched *c, const struct cosched_cfg *cfg, __u64 now);

/*
 * Adaptive mode (--slo): once per interval, from the vCPU's measured p99
 * response, lengthen the grace period when over the SLO, shorten it when
 * comfortably under (less boosted CPU time), and escalate to static
 * priority when even the longest grace does not hold the SLO.
 * A step is taken only after ADAPT_STEP_AFTER intervals over the SLO, and
 * only where it can help: where enough interrupts found the vCPU demoted
 * (a parked vCPU is at SCHED_FIFO already, a boost or static priority
 * changes nothing for it); a longer grace only if it would have spared
 * some of those boosts (they came within it after a demotion); static
 * priority only for a vCPU that sleeps enough not to run into RT
 * throttling. Each step that pays more (a longer grace, static priority,
 * the shield) is then on trial: it stays only if each of the next
 * intervals' p99 beats the p99 that called for it, and neither the cap nor
 * RT throttling fires meanwhile (a setting that trips them is worse,
 * whatever its p99). The first interval that fails undoes it, and it is
 * not tried again for a while, twice as long after each failure. (A
 * longer grace that keeps a busy-idle guest boosted until the cap, then
 * behind the load for the cool-down, made the p99 worse, and the worse
 * p99 then asked for a longer grace still.)
 * The trigger, too: while nothing contends for the vCPU's CPUs and the SLO
 * is comfortably met, work stops boosting it: a boost then buys nothing
 * and costs a controller wake-up in the guest's way. Contention is other
 * tasks using 5% or more of its CPUs (boosting does not hide that), or its
 * thread waiting for a CPU more than a quarter of the SLO at p99. It, or a
 * p99 over the SLO, turns boosting back on at the next interval, before
 * any other step. Parking a sleeping vCPU stays on: it is free.
 */
#define ADAPT_GRACE_MIN_NS 50000ULL
#define ADAPT_GRACE_MAX_NS 10000000ULL
#define ADAPT_STEP_AFTER 3	/* intervals over the SLO before a step that pays more */
#define ADAPT_RELAX_AFTER 5	/* intervals under half the SLO */
#define ADAPT_CONTENTION_DIV 4	/* a wait p99 over SLO / this: contention */
#define ADAPT_OTHERS_PM 50	/* others using this much (per mille) of its CPUs: too */
#define ADAPT_TRIAL 2		/* intervals that judge a step */
#define ADAPT_HOLD 10		/* intervals before a step that failed is tried again, */
#define ADAPT_HOLD_MAX 320	/* doubling with each failure up to this */
#define ADAPT_CATCH_PM 500	/* a longer grace costs host CPU after every interrupt: worth
				 * a try if it would spare at least half the boosts
				 * (5% took steps that did no good in the study) */
#define ADAPT_NEED_PM 10	/* a step helps only if this many (per mille) of the
				 * interrupts needed a boost (found it demoted) */
#define ADAPT_FIFO_BUSY_PM 900	/* static priority only for a vCPU running at most this
				 * share (per mille) of the time: RT throttling allows 950 */

enum adapt_action {
	AD_NONE,
	AD_GRACE_UP,
	AD_GRACE_DOWN,
	AD_ESCALATE,
	AD_DEESCALATE,
	AD_SHIELD,
	AD_WORK_OFF,	/* work stops boosting (cfg->work_off set) */
	AD_WORK_ON,	/* and boosts again */
	AD_GRACE_BACK,	/* a longer grace did no good: the one before */
	AD_UNSHIELD,	/* the shield did no good: undone */
};

/* The steps on trial, each with its own hold after a failure. */
enum adapt_step { STEP_GRACE, STEP_ESCALATE, STEP_SHIELD, STEP_NR };

/* Where --slo stands for a vCPU: a ladder, the cheapest rung first. Its
 * transitions (cosched_adapt; the diagram is in docs/control.md):
 *   COSCHED  -> SAVING    under half the SLO long enough, nothing contends (AD_WORK_OFF)
 *   SAVING   -> COSCHED   over the SLO, or contended: before anything else (AD_WORK_ON)
 *   COSCHED  -> COSCHED   over it: a longer grace, on trial (AD_GRACE_UP), or, under
 *                         half, a shorter one (AD_GRACE_DOWN; in SAVING too)
 *   COSCHED  -> STATIC    over it, no longer grace helps: on trial (AD_ESCALATE)
 *   STATIC   -> SHIELDED  over it, a shield set: on trial (AD_SHIELD)
 *   STATIC   -> COSCHED   under half long enough (AD_DEESCALATE)
 * A step on trial that does no better goes back where it came from
 * (AD_GRACE_BACK, AD_DEESCALATE, AD_UNSHIELD); SHIELDED stays to the end. */
enum adapt_state {
	AS_COSCHED,	/* boosts on work, for cfg->grace_ns after it */
	AS_SAVING,	/* work boosts off (cfg->work_off: the hot path's copy) */
	AS_STATIC,	/* static priority: always boosted */
	AS_SHIELDED,	/* static priority, on CPUs of its own */
};

/* A step that pays more, judged before it stays. */
struct adapt_trial {
	int on;
	enum adapt_step step;
	int left;		/* intervals still to judge it */
	int harm;		/* the cap or RT throttling fired meanwhile */
	__u64 base;		/* the p99 that called for it */
	__u64 worst;		/* the worst p99 since */
	__u64 grace;		/* the grace before a longer one */
};

struct cosched_adapt {
	enum adapt_state state;
	struct adapt_trial trial;
	int over;	/* consecutive intervals over the SLO */
	int under;	/* consecutive intervals under half of it */
	int hold[STEP_NR];	/* intervals (with interrupts) before a failed step may be
				 * tried again */
	int hold_len[STEP_NR];	/* the next hold, doubled at each failure */
	__u64 undone;		/* steps undone, for the summary */
};

/* At static priority (escalated, shielded or not)? */
static inline int adapt_static(const struct cosched_adapt *a)
{
	return a->state == AS_STATIC || a->state == AS_SHIELDED;
}

/* What one interval measured for the vCPU. */
struct adapt_sample {
	__u64 p99_ns;		/* response */
	__u64 count;		/* interrupts (none: no decision) */
	__u64 wait_p99_ns;	/* its thread's runnable -> running waits */
	__u32 others_pm;	/* other tasks' use of its CPUs, per mille (unknown: 1000) */
	int harm;		/* the boost cap or RT throttling fired in it */
	__u32 caught_pm;	/* of the work boosts after a demotion, those twice the grace
				 * would have spared (per mille) */
	__u32 busy_pm;		/* the share of it the vCPU was not halted (per mille) */
	__u32 need_pm;		/* interrupts that found it demoted and boosted it (per mille) */
};

/* can_shield: a shield is configured to escalate to. */
enum adapt_action cosched_adapt(struct cosched_adapt *a, struct cosched_cfg *cfg,
				const struct adapt_sample *s, __u64 slo_ns, int can_shield);

#endif
