// SPDX-License-Identifier: GPL-2.0
/* --slo: once a second, each vCPU's last second decides its grace, its
 * work boosts, static priority and the shield (cosched_adapt decides,
 * this measures and acts). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "latency.h"
#include "log.h"
#include "shield.h"
#include "controller.h"

/* --slo: a shield that did no good goes; the state file forgets it. */
static void remove_shield(struct control *ctl)
{
	if (!ctl->st.groups && !ctl->st.nirqs)
		return;
	if (shield_restore(&ctl->st)) {
		/* the state file keeps it: the restore at exit tries again */
		pr_warn("control: undoing the shield: some of it could not be restored");
		return;
	}
	state_forget_shield(&ctl->st);
	ctl->shielded = 0;
	control__save_state(ctl);
}

/* Shield all the real-time vCPUs (at start, or as --slo's last resort). */
int control__apply_shield(struct control *ctl)
{
	struct task_saved *rt = calloc(ctl->nv ? ctl->nv : 1, sizeof(*rt));
	int i, err;

	if (ctl->shielded)
		return 0;
	for (i = 0; rt && i < ctl->nv; i++)
		rt[i] = ctl->v[i].saved;
	err = rt ? shield_apply(&ctl->st, &ctl->o.shield, rt, ctl->nv, ctl->stop) : -ENOMEM;
	free(rt);
	if (!err)
		ctl->shielded = 1;
	return err;
}

/* The p99 of what a histogram took since the last call; with top, the
 * lower bound of its highest bucket (the interval's max, to a bucket). */
static __u64 interval_p99(const struct kvmrt_hist *now, struct kvmrt_hist *prev, __u64 *count,
			  __u64 *top)
{
	struct kvmrt_hist d;
	int b;

	hist_sub(&d, prev, now);
	*prev = *now;
	if (count)
		*count = d.count;
	if (top) {
		for (b = HIST_NBUCKETS - 1; b > 0 && !d.b[b]; b--)
			;
		*top = d.b[b] ? hist_bucket_lo(b) : 0;
	}
	return d.count ? hist_percentile(&d, 99) : 0;
}

/* How long RT throttling keeps SCHED_FIFO tasks off a CPU each period
 * (sched_rt_period_us - sched_rt_runtime_us): a boosted vCPU thread that
 * waited most of that for its CPU was throttled. */
__u64 control__rt_throttle_gap_ns(void)
{
	long period = 1000000, runtime = 950000;
	FILE *f;

	f = fopen("/proc/sys/kernel/sched_rt_period_us", "r");
	if (f) {
		if (fscanf(f, "%ld", &period) != 1)
			period = 1000000;
		fclose(f);
	}
	f = fopen("/proc/sys/kernel/sched_rt_runtime_us", "r");
	if (f) {
		if (fscanf(f, "%ld", &runtime) != 1)
			runtime = 950000;
		fclose(f);
	}
	return period > runtime && runtime >= 0 ? (__u64)(period - runtime) * 1000 : 50000000ULL;
}

/* What the last second of one vCPU says (cosched.h's adapt_sample). */
static void sample(struct control *ctl, struct rt_vcpu *v, const struct vcpu_stats *st, __u64 now,
		   struct adapt_sample *s)
{
	__u64 wait_top;
	struct cpuload l;
	int ok;

	s->p99_ns = interval_p99(&st->h[M_RESPONSE], &v->prev[0], &s->count, NULL);
	s->wait_p99_ns = interval_p99(&st->h[M_VCPU_WAIT], &v->prev[1], NULL, &wait_top);
	/* the cap fired, or a wait as long as RT throttling's (boosted:
	 * nothing else keeps a FIFO thread off its CPU that long) */
	s->harm = v->cs.capped != v->capped_seen ||
		  (v->boosted && wait_top >= ctl->throttle_gap_ns * 3 / 4);
	v->capped_seen = v->cs.capped;
	s->caught_pm = v->iv_boosts ? (__u32)(v->iv_caught * 1000 / v->iv_boosts) : 0;
	s->need_pm = s->count ? (__u32)(v->iv_work_boosts * 1000 / s->count) : 0;
	v->iv_boosts = v->iv_caught = v->iv_work_boosts = 0;
	s->busy_pm = 1000;
	if (v->t_adapt && now > v->t_adapt) {
		__u64 halted = st->c.halted_ns - v->halted_seen, span = now - v->t_adapt;

		s->busy_pm = halted >= span ? 0 : (__u32)(1000 - halted * 1000 / span);
	}
	v->halted_seen = st->c.halted_ns;
	v->t_adapt = now;
	ok = !cpuload_read(&l, (pid_t)v->saved.tid);
	s->others_pm = ok && v->load.t ? cpuload_others_pm(&v->load, &l) : 1000;
	v->load = ok ? l : (struct cpuload){ 0 };
}

/* Say what cosched_adapt decided, and do it: one case per decision, each
 * with its message (kept whole: every line --slo prints is here). */
static void apply(struct control *ctl, struct rt_vcpu *v, enum adapt_action a,
		  const struct adapt_sample *sp, __u64 old_grace, __u64 now)
{
	const struct adapt_sample s = *sp;
	__u64 p99 = s.p99_ns;

	switch (a) {
	case AD_GRACE_UP:
	case AD_GRACE_DOWN:
		fprintf(stderr,
			"kvmrt: adapt: VM %s vCPU %u: p99 %.1f us %s SLO %.1f us: grace %.0f -> %.0f us\n",
			v->vm, v->vcpu, p99 / 1e3, a == AD_GRACE_UP ? ">" : "well under",
			ctl->o.slo_ns / 1e3, old_grace / 1e3, v->cfg.grace_ns / 1e3);
		break;
	case AD_GRACE_BACK:
		fprintf(stderr,
			"kvmrt: adapt: VM %s vCPU %u: grace %.0f us did no good (p99 %.1f us, "
			"was %.1f us%s): back to %.0f us\n",
			v->vm, v->vcpu, old_grace / 1e3, v->ad.trial.worst / 1e3,
			v->ad.trial.base / 1e3, v->ad.trial.harm ? "; the cap or RT throttling fired" : "",
			v->cfg.grace_ns / 1e3);
		break;
	case AD_UNSHIELD:
		fprintf(stderr,
			"kvmrt: adapt: VM %s vCPU %u: the shield did no good (p99 %.1f us, was "
			"%.1f us%s): undone\n",
			v->vm, v->vcpu, v->ad.trial.worst / 1e3, v->ad.trial.base / 1e3,
			v->ad.trial.harm ? "; the cap or RT throttling fired" : "");
		remove_shield(ctl);
		/* one hold for the host's shield, doubling per failure */
		ctl->shield_hold_s = ctl->shield_hold_s ? ctl->shield_hold_s * 2 : ADAPT_HOLD;
		if (ctl->shield_hold_s > ADAPT_HOLD_MAX)
			ctl->shield_hold_s = ADAPT_HOLD_MAX;
		ctl->shield_hold_until = now + ctl->shield_hold_s * 1000000000ULL;
		break;
	case AD_ESCALATE:
		fprintf(stderr,
			"kvmrt: adapt: VM %s vCPU %u: p99 %.1f us > SLO %.1f us at the longest "
			"useful grace: static priority (the cap still applies)\n",
			v->vm, v->vcpu, p99 / 1e3, ctl->o.slo_ns / 1e3);
		control__act(ctl, v, cosched_hint(&v->cs, &v->cfg, 1, now), 0, "--slo: static priority");
		break;
	case AD_DEESCALATE:
		if (v->ad.hold[STEP_ESCALATE])
			fprintf(stderr,
				"kvmrt: adapt: VM %s vCPU %u: static priority did no good (p99 "
				"%.1f us, was %.1f us%s): back to co-scheduling\n",
				v->vm, v->vcpu, v->ad.trial.worst / 1e3, v->ad.trial.base / 1e3,
				v->ad.trial.harm ? "; the cap or RT throttling fired" : "");
		else
			fprintf(stderr,
				"kvmrt: adapt: VM %s vCPU %u: p99 %.1f us well under SLO: back "
				"to co-scheduling\n",
				v->vm, v->vcpu, p99 / 1e3);
		control__act(ctl, v, cosched_hint(&v->cs, &v->cfg, 0, now), 0, "--slo: back to co-scheduling");
		break;
	case AD_SHIELD:
		fprintf(stderr,
			"kvmrt: adapt: VM %s vCPU %u: p99 %.1f us > SLO %.1f us at static "
			"priority: shielding CPUs %s\n",
			v->vm, v->vcpu, p99 / 1e3, ctl->o.slo_ns / 1e3, ctl->o.shield_arg);
		if (control__apply_shield(ctl)) {
			/* shield_apply undid its part: nothing on trial (or a
			 * signal stopped it: the loop ends, the restore follows) */
			if (!*ctl->stop)
				pr_warn("control: shield failed: not trying it again");
			v->ad.state = AS_STATIC;
			v->ad.trial.on = 0;
			ctl->shield_hold_until = ~0ULL;
		}
		break;
	case AD_WORK_OFF:
	case AD_WORK_ON:
		fprintf(stderr,
			"kvmrt: adapt: VM %s vCPU %u: p99 %.1f us, thread wait p99 %.1f us "
			"(contention above %.1f us), others on its CPUs %.1f%% (above %.1f%%): "
			"work boosts %s\n",
			v->vm, v->vcpu, p99 / 1e3, s.wait_p99_ns / 1e3,
			ctl->o.slo_ns / ADAPT_CONTENTION_DIV / 1e3, s.others_pm / 10.0,
			ADAPT_OTHERS_PM / 10.0, a == AD_WORK_ON ? "on" : "off");
		control__publish_boost(ctl, v, v->boosted); /* which records wake us */
		break;
	case AD_NONE:
		break;
	}
}

/* --slo: once a second, each vCPU's p99 over the last second decides. */
void control__adapt(struct control *ctl, __u64 now)
{
	struct vcpu_stats st;
	int i;

	for (i = 0; i < ctl->nv; i++) {
		struct rt_vcpu *v = &ctl->v[i];
		__u64 old_grace = v->cfg.grace_ns;
		struct adapt_sample s;
		enum adapt_action a;

		if (v->foreign || collector__vcpu(ctl->c, v->saved.pid, v->vcpu, &st))
			continue;
		sample(ctl, v, &st, now, &s);
		/* the shield is the host's, not one vCPU's: one that did no
		 * good is held off for every vCPU */
		a = cosched_adapt(&v->ad, &v->cfg, &s, ctl->o.slo_ns,
				  ctl->o.shield_arg && !ctl->shielded && now >= ctl->shield_hold_until);
		apply(ctl, v, a, &s, old_grace, now);
	}
}
