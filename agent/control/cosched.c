// SPDX-License-Identifier: GPL-2.0
#include "cosched.h"

static int has_work(const struct cosched *c)
{
	return c->pending || c->busy_hint;
}

static enum cosched_action boost(struct cosched *c, __u64 now)
{
	if (c->state != CS_IDLE)
		return CS_NONE;
	c->state = CS_BOOSTED;
	c->seg_start = now;
	c->run_ns = 0;
	c->boosts++;
	return CS_BOOST;
}

static enum cosched_action demote(struct cosched *c, __u64 now)
{
	if (c->state == CS_BOOSTED)
		c->boosted_ns += now - c->seg_start;
	c->state = CS_IDLE;
	c->demotes++;
	return CS_DEMOTE;
}

/* Parked and work arrives, or it runs again: boosted already. */
static void unpark(struct cosched *c, const struct cosched_cfg *cfg, __u64 now)
{
	if (c->state != CS_PARKED)
		return;
	if (now - c->park_start >= cfg->grace_ns)
		c->run_ns = 0; /* a real rest: a new stretch for the cap */
	c->state = CS_BOOSTED;
	c->seg_start = now;
}

enum cosched_action cosched_inject(struct cosched *c, const struct cosched_cfg *cfg, __u64 now)
{
	enum cosched_action a;

	/* the work counts before time does: a grace that ran out unnoticed
	 * must not demote a vCPU that has work again (only the cap may) */
	c->pending++;
	if (c->state == CS_PARKED) {
		c->parked_wakes++;
		unpark(c, cfg, now);
	}
	a = cosched_tick(c, cfg, now);
	return a != CS_NONE || cfg->work_off ? a : boost(c, now);
}

enum cosched_action cosched_eoi(struct cosched *c, const struct cosched_cfg *cfg, __u64 now)
{
	if (c->pending)
		c->pending--;
	c->last_end = now;
	return cosched_tick(c, cfg, now);
}

enum cosched_action cosched_posted(struct cosched *c, const struct cosched_cfg *cfg, __u32 n,
				   __u64 now)
{
	c->pending = c->pending > n ? c->pending - n : 0;
	c->last_end = now;
	return cosched_tick(c, cfg, now);
}

enum cosched_action cosched_hint(struct cosched *c, const struct cosched_cfg *cfg, int busy,
				 __u64 now)
{
	enum cosched_action a;

	if (busy) {
		c->busy_hint = 1;
		unpark(c, cfg, now);
		a = cosched_tick(c, cfg, now); /* as for an injection: work first */
		return a != CS_NONE || cfg->work_off ? a : boost(c, now);
	}
	/* idle: the guest is done, including with interrupts we saw no EOI of */
	c->busy_hint = 0;
	c->pending = 0;
	c->last_end = now;
	return cosched_tick(c, cfg, now);
}

enum cosched_action cosched_sleep(struct cosched *c, const struct cosched_cfg *cfg, int asleep,
				  __u64 now)
{
	int was_idle;

	if (!asleep) {
		if (c->state != CS_PARKED)
			return CS_NONE;
		unpark(c, cfg, now);
		if (!has_work(c))
			c->last_end = now; /* running without work: the grace runs */
		return cosched_tick(c, cfg, now);
	}
	switch (c->state) {
	case CS_BOOSTED:
		c->run_ns += now - c->seg_start;
		c->boosted_ns += now - c->seg_start;
		break;
	case CS_IDLE:
		c->run_ns = 0;
		c->boosts++;
		break;
	default:
		return CS_NONE; /* parked already, or cooling down */
	}
	c->park_start = now;
	c->parks++;
	was_idle = c->state == CS_IDLE;
	c->state = CS_PARKED;
	/* from IDLE this is the one boost a halted guest needs */
	return was_idle ? CS_BOOST : CS_NONE;
}

enum cosched_action cosched_tick(struct cosched *c, const struct cosched_cfg *cfg, __u64 now)
{
	switch (c->state) {
	case CS_BOOSTED:
		if (c->run_ns + (now - c->seg_start) >= cfg->cap_ns) {
			/* a runaway guest: the host gets the CPU back for a while */
			c->capped++;
			c->cooldown_until = now + cfg->cooldown_ns;
			demote(c, now);
			c->state = CS_COOLDOWN;
			c->pending = 0;
			c->busy_hint = 0;
			return CS_DEMOTE;
		}
		if (!has_work(c) && now - c->last_end >= cfg->grace_ns)
			return demote(c, now);
		return CS_NONE;
	case CS_COOLDOWN:
		if (now < c->cooldown_until)
			return CS_NONE;
		c->state = CS_IDLE;
		return has_work(c) ? boost(c, now) : CS_NONE;
	case CS_PARKED:
	case CS_IDLE:
		return CS_NONE;
	}
	return CS_NONE;
}

static __u64 earliest(__u64 a, __u64 b)
{
	return a < b ? a : b;
}

__u64 cosched_deadline(const struct cosched *c, const struct cosched_cfg *cfg, __u64 now)
{
	__u64 cap, grace;

	switch (c->state) {
	case CS_BOOSTED:
		cap = c->seg_start + (cfg->cap_ns > c->run_ns ? cfg->cap_ns - c->run_ns : 0);
		grace = has_work(c) ? now + cfg->grace_ns : c->last_end + cfg->grace_ns;
		return earliest(cap, grace);
	case CS_PARKED:
		return now + earliest(PARK_POLL_NS, cfg->cap_ns);
	case CS_COOLDOWN:
		return c->cooldown_until;
	case CS_IDLE:
		return 0;
	}
	return 0;
}

/* Into state, the step that took it there on trial. */
static enum adapt_action trial(struct cosched_adapt *a, enum adapt_state state, enum adapt_step step,
			       __u64 p99_ns, __u64 grace_ns, enum adapt_action taken)
{
	a->state = state;
	a->trial = (struct adapt_trial){ .on = 1, .step = step, .left = ADAPT_TRIAL,
					 .base = p99_ns, .grace = grace_ns };
	a->over = 0;
	return taken;
}

/* The step on trial failed: back where it came from, and the step held
 * off (longer each time). */
static enum adapt_action undo(struct cosched_adapt *a, struct cosched_cfg *cfg)
{
	enum adapt_step step = a->trial.step;

	a->trial.on = 0;
	if (!a->hold_len[step])
		a->hold_len[step] = ADAPT_HOLD;
	a->hold[step] = a->hold_len[step];
	if (a->hold_len[step] < ADAPT_HOLD_MAX)
		a->hold_len[step] *= 2;
	a->over = 0;
	a->under = 0;
	a->undone++;
	switch (step) {
	case STEP_GRACE:
		cfg->grace_ns = a->trial.grace;
		return AD_GRACE_BACK;
	case STEP_ESCALATE:
		a->state = AS_COSCHED;
		return AD_DEESCALATE;
	case STEP_SHIELD:
	default:
		a->state = AS_STATIC;
		return AD_UNSHIELD;
	}
}

/* Over the SLO (a->over intervals in a row): the next rung, if it can help. */
static enum adapt_action climb(struct cosched_adapt *a, struct cosched_cfg *cfg,
			       const struct adapt_sample *s, int can_shield)
{
	__u64 p99_ns = s->p99_ns;

	switch (a->state) {
	case AS_SHIELDED:
		return AD_NONE; /* the top */
	case AS_STATIC:
		/* static priority is not enough: its own CPUs */
		if (can_shield && a->over >= ADAPT_STEP_AFTER && !a->hold[STEP_SHIELD])
			return trial(a, AS_SHIELDED, STEP_SHIELD, p99_ns, cfg->grace_ns, AD_SHIELD);
		return AD_NONE;
	case AS_SAVING: /* turned back on before this is reached */
	case AS_COSCHED:
		break;
	}
	if (a->over < ADAPT_STEP_AFTER || s->need_pm < ADAPT_NEED_PM)
		return AD_NONE; /* not yet, or nothing a boost could change */
	if (cfg->grace_ns < ADAPT_GRACE_MAX_NS && !a->hold[STEP_GRACE] &&
	    s->caught_pm >= ADAPT_CATCH_PM) {
		__u64 old = cfg->grace_ns;

		cfg->grace_ns *= 2;
		if (cfg->grace_ns > ADAPT_GRACE_MAX_NS)
			cfg->grace_ns = ADAPT_GRACE_MAX_NS;
		return trial(a, AS_COSCHED, STEP_GRACE, p99_ns, old, AD_GRACE_UP);
	}
	/* the longest useful grace is not enough; static priority, if the
	 * vCPU sleeps enough not to be throttled at it */
	if (!a->hold[STEP_ESCALATE] && s->busy_pm <= ADAPT_FIFO_BUSY_PM)
		return trial(a, AS_STATIC, STEP_ESCALATE, p99_ns, cfg->grace_ns, AD_ESCALATE);
	return AD_NONE;
}

/* Under half the SLO long enough: the rung below, or a shorter grace. */
static enum adapt_action descend(struct cosched_adapt *a, struct cosched_cfg *cfg, int contended)
{
	switch (a->state) {
	case AS_SHIELDED:
		return AD_NONE; /* kept to the end: moving tasks back and forth costs */
	case AS_STATIC:
		a->state = AS_COSCHED;
		return AD_DEESCALATE;
	case AS_COSCHED:
		if (!contended) {
			a->state = AS_SAVING;
			cfg->work_off = 1;
			return AD_WORK_OFF;
		}
		break;
	case AS_SAVING:
		break;
	}
	if (cfg->grace_ns > ADAPT_GRACE_MIN_NS) {
		cfg->grace_ns /= 2;
		if (cfg->grace_ns < ADAPT_GRACE_MIN_NS)
			cfg->grace_ns = ADAPT_GRACE_MIN_NS;
		return AD_GRACE_DOWN;
	}
	return AD_NONE;
}

/* One interval of the ladder: judge the step on trial, else turn work
 * boosts back on, climb or descend (cosched.h says why each). */
enum adapt_action cosched_adapt(struct cosched_adapt *a, struct cosched_cfg *cfg,
				const struct adapt_sample *s, __u64 slo_ns, int can_shield)
{
	__u64 p99_ns = s->p99_ns;
	int contended = s->wait_p99_ns * ADAPT_CONTENTION_DIV > slo_ns ||
			s->others_pm >= ADAPT_OTHERS_PM;
	int i;

	if (!s->count)
		return AD_NONE;
	for (i = 0; i < STEP_NR; i++)
		if (a->hold[i])
			a->hold[i]--;
	if (a->trial.on) {
		/* each interval on trial must do better, or the step goes */
		a->trial.harm |= s->harm;
		if (p99_ns > a->trial.worst)
			a->trial.worst = p99_ns;
		if (s->harm || p99_ns >= a->trial.base)
			return undo(a, cfg);
		if (--a->trial.left > 0)
			return AD_NONE;
		a->hold_len[a->trial.step] = ADAPT_HOLD; /* kept: it may fail anew */
		a->trial.on = 0;
	}
	if (a->state == AS_SAVING && (contended || p99_ns > slo_ns)) {
		/* first undo the last saving, before paying more */
		a->state = AS_COSCHED;
		cfg->work_off = 0;
		a->under = 0;
		a->over = 0;
		return AD_WORK_ON;
	}
	if (p99_ns > slo_ns) {
		a->under = 0;
		a->over++;
		return climb(a, cfg, s, can_shield);
	}
	a->over = 0;
	if (p99_ns * 2 >= slo_ns) {
		a->under = 0;
		return AD_NONE;
	}
	if (++a->under < ADAPT_RELAX_AFTER)
		return AD_NONE;
	a->under = 0;
	return descend(a, cfg, contended);
}
