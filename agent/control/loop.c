// SPDX-License-Identifier: GPL-2.0
/* kvmrt control's event loop: the BPF side's records and the grace and
 * cap deadlines drive co-scheduling (cosched.c decides, this acts); once a
 * second, the checks, --slo and the metrics. */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <time.h>
#include <bpf/libbpf.h>
#include "clock.h"
#include "log.h"
#include "controller.h"

static struct rt_vcpu *find_vcpu(struct control *ctl, __u32 tgid, __u32 vcpu)
{
	int i;

	for (i = 0; i < ctl->nv; i++)
		if (ctl->v[i].saved.pid == tgid && ctl->v[i].vcpu == vcpu)
			return &ctl->v[i];
	return NULL;
}

/* -l: one line per change, with its cause */
static void log_change(struct control *ctl, const struct rt_vcpu *v, enum cosched_action a,
		       const char *why, __u64 reaction_ns)
{
	if (!ctl->o.log)
		return;
	printf("%.6f VM %s vCPU %u: %s (%s", (mono_ns() - ctl->t_start) / 1e9, v->vm, v->vcpu,
	       a == CS_DEMOTE ? "demote" : v->cs.state == CS_PARKED ? "park at FIFO" : "boost", why);
	if (reaction_ns)
		printf(", %.1f us after the injection", reaction_ns / 1e3);
	printf(")\n");
	fflush(stdout);
}

void control__act(struct control *ctl, struct rt_vcpu *v, enum cosched_action a, __u64 t_event,
		const char *why)
{
	__u64 dt = 0;

	if (a == CS_BOOST) {
		__u64 t0 = mono_ns(), t1, woke;

		if (control__boost(ctl, v))
			return;
		v->iv_work_boosts += t_event != 0;
		if (t_event && v->t_demoted && t_event > v->t_demoted) {
			/* demoted a grace after the work ended: twice the grace
			 * would have kept it boosted one grace longer */
			v->iv_boosts++;
			v->iv_caught += t_event - v->t_demoted <= v->cfg.grace_ns;
		}
		if (t_event) {
			t1 = mono_ns();
			/* awake already (polling, or reading older records): no wake-up */
			woke = ctl->t_woke > t_event ? ctl->t_woke : t_event;
			dt = t1 - t_event;
			hist_record(&ctl->reaction[R_TOTAL], dt);
			hist_record(&ctl->reaction[R_WAKE], woke - t_event);
			hist_record(&ctl->reaction[R_READ], t0 > woke ? t0 - woke : 0);
			hist_record(&ctl->reaction[R_SET], t1 - t0);
		}
	} else if (a == CS_DEMOTE) {
		if (control__demote(ctl, v))
			return;
		/* a grace's demotion (not the cap's) is what a longer grace moves */
		v->t_demoted = v->cs.state == CS_COOLDOWN ? 0 : mono_ns();
		if (v->cs.state == CS_COOLDOWN) {
			why = "the cap";
			pr_warn("VM %s vCPU %u: boosted for the cap (%.0f ms): demoted for %.0f ms",
				v->vm, v->vcpu, v->cfg.cap_ns / 1e6, v->cfg.cooldown_ns / 1e6);
		}
	} else {
		return;
	}
	log_change(ctl, v, a, why, dt);
}

void control__on_ctl(struct collector *c, const struct kvmrt_ctl_rec *r, void *ctx)
{
	struct control *ctl = ctx;
	struct rt_vcpu *v = find_vcpu(ctl, r->tgid, r->vcpu);
	__u64 now = mono_ns();

	if (!v || v->foreign)
		return;
	/* the event's own time (some records are read late), kept monotonic
	 * per vCPU: records from two CPUs may come slightly out of order */
	if (r->t < now)
		now = r->t > v->last_t ? r->t : v->last_t;
	v->last_t = now;
	switch (r->type) {
	case REC_CTL_INJECT:
		ctl->injections++;
		control__act(ctl, v, cosched_inject(&v->cs, &v->cfg, now), r->t, "injection");
		break;
	case REC_CTL_EOI:
		if (r->value & CTL_EOI_HANDED)
			break; /* ended for us at its delivery (REC_CTL_POSTED) */
		control__act(ctl, v, cosched_eoi(&v->cs, &v->cfg, now), 0, "grace over after the EOI");
		break;
	case REC_CTL_POSTED:
		control__act(ctl, v, cosched_posted(&v->cs, &v->cfg, r->value, now), 0,
		    "grace over after a posted delivery");
		break;
	case REC_CTL_SLEEP:
		control__act(ctl, v, cosched_sleep(&v->cs, &v->cfg, r->value != 0, now), 0,
		    r->value ? "its thread sleeps" : "grace over after a wake-up");
		break;
	case REC_CTL_HINT:
		/* an escalated vCPU stays busy whatever its guest says */
		control__act(ctl, v, cosched_hint(&v->cs, &v->cfg, r->value != 0 || adapt_static(&v->ad), now),
		    r->t, r->value ? "busy hint" : "idle hint");
		break;
	}
}

/* Could a managed vCPU need a boost (--poll spins only then)? */
static int any_demoted(const struct control *ctl)
{
	int i;

	for (i = 0; i < ctl->nv; i++)
		if (!ctl->v[i].boosted && !ctl->v[i].foreign)
			return 1;
	return 0;
}

/* Wait for records until the nearest grace/cap deadline, then tick; till
 * the second's checks are done. */
static int cosched_second(struct control *ctl, __u64 t_end)
{
	int epfd = ring_buffer__epoll_fd(ctl->c->rb);

	while (!*ctl->stop) {
		__u64 now = mono_ns(), deadline = ctl->next_check;
		struct epoll_event ev;
		struct timespec ts;
		int i, demoted;

		if (t_end && now >= t_end)
			break;
		for (i = 0; i < ctl->nv; i++) {
			__u64 d = cosched_deadline(&ctl->v[i].cs, &ctl->v[i].cfg, now);

			if (d && d < deadline)
				deadline = d;
		}
		if (t_end && t_end < deadline)
			deadline = t_end;
		ts.tv_sec = deadline > now ? (deadline - now) / 1000000000ULL : 0;
		ts.tv_nsec = deadline > now ? (deadline - now) % 1000000000ULL : 0;
		if (ctl->o.poll && any_demoted(ctl)) {
			/* --poll: read the ring as records come, no wake-up */
			while (!*ctl->stop && mono_ns() < deadline) {
				ctl->t_woke = mono_ns();
				if (ring_buffer__consume(ctl->c->rb) > 0)
					break;
			}
		} else {
			/* consume on a timeout too: some records do not wake
			 * us (a vCPU going to sleep), and they must count
			 * before the tick */
			if (epoll_pwait2(epfd, &ev, 1, &ts, NULL) > 0)
				ctl->wakes_record++;
			else
				ctl->wakes_timer++;
			ctl->t_woke = mono_ns();
			ring_buffer__consume(ctl->c->rb);
		}
		now = mono_ns();
		demoted = 0;
		for (i = 0; i < ctl->nv; i++) {
			enum cosched_action a = cosched_tick(&ctl->v[i].cs, &ctl->v[i].cfg, now);

			ctl->v[i].last_t = now; /* records read later are not older */
			control__act(ctl, &ctl->v[i], a, 0,
			    a == CS_BOOST ? "cool-down over, work pending" : "grace over");
			demoted |= a == CS_DEMOTE;
		}
		/* work that came while the BPF side still saw it at FIFO did not
		 * wake us: read it now, or it waits for the next interrupt */
		if (demoted)
			ring_buffer__consume(ctl->c->rb);
		collector__read_seen(ctl->c); /* new VMs' names, while they live */
		if (now >= ctl->next_check) {
			/* notice threads that vanished or were changed meanwhile */
			control__check_threads(ctl);
			if (ctl->o.slo_ns)
				control__adapt(ctl, now);
			ctl->next_check = now + 1000000000ULL;
			return 1;
		}
	}
	return 0;
}

/* Static priority: only threads to watch, five times a second. */
static int static_second(struct control *ctl, __u64 t_end)
{
	while (!*ctl->stop && (!t_end || mono_ns() < t_end)) {
		struct timespec ts = { 0, 200000000 };

		nanosleep(&ts, NULL);
		control__check_threads(ctl);
		if (mono_ns() >= ctl->next_check) {
			ctl->next_check = mono_ns() + 1000000000ULL;
			return 1;
		}
	}
	return 0;
}

int control__run_second(struct control *ctl, __u64 t_end)
{
	if (!ctl->next_check)
		ctl->next_check = mono_ns() + (ctl->o.cosched ? 1000000000ULL : 0);
	if (!(ctl->o.cosched ? cosched_second(ctl, t_end) : static_second(ctl, t_end)))
		return 0;
	if (control__all_gone(ctl)) {
		/* without -d it would wait for ever on VMs that have ended */
		fprintf(stderr, "kvmrt: control: every vCPU thread it managed is gone: stopping\n");
		return 0;
	}
	return 1;
}
