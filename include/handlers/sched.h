/* SPDX-License-Identifier: GPL-2.0 */
/* include/handlers.h, part: Wake and run: the host scheduler's events, blame, the vCPU's halt. */
#ifndef KVMRT_HANDLERS_SCHED_H
#define KVMRT_HANDLERS_SCHED_H

static __always_inline void on_sched_waking(struct kvs *s, __u32 tid)
{
	struct kvmrt_thread *ti;
	struct kvmrt_vcpu_state *v;
	struct kvmrt_cpu_ctx *c;
	__u64 now;

	ti = kvs_thread(s, tid);
	if (!ti || ti->ignored)
		return;
	kvs_hit(s, P_SCHED_WAKING);
	now = kvs_now(s);
	c = kvs_this_cpu(s);
	if (c && c->unb_valid) {
		c->unb_valid = 0;
		if (c->unb_vcpu == ti->vk.vcpu && now - c->unb_t < UNBOUND_FRESH_NS)
			inject(s, ti->vk.tgid, ti->vk.vcpu, c->unb_vector, c->unb_source, c->unb_t, 0,
			       NULL);
	}
	v = kvs_vcpu(s, &ti->vk, 1);
	if (!v)
		return;
	if (v->tid != tid)
		v->tid = tid;
	ep_wake(v, now);
}

/* Who held this CPU while the vCPU waited since t_from: up to three tasks,
 * by time, from this CPU's recent sched_switch records. */
static __always_inline void take_blame(struct kvmrt_cpu_ctx *c, struct kvmrt_vcpu_state *v,
				       __u64 t_from, __u32 self)
{
	int i, j;

	v->nblame = 0;
	for (i = 0; i < KVMRT_CPU_RING; i++) {
		struct kvmrt_cpu_run *r = &c->ring[i];
		__u64 from, ns;
		int slot = -1;

		if (!r->end || r->end <= t_from || r->pid == self)
			continue;
		from = r->start > t_from ? r->start : t_from;
		ns = r->end - from;
		for (j = 0; j < KVMRT_BLAME_SLOTS; j++) {
			if (j < (int)v->nblame && v->blame[j].pid == r->pid) {
				slot = j;
				break;
			}
		}
		if (slot >= 0) {
			v->blame[slot & (KVMRT_BLAME_SLOTS - 1)].ns += ns;
			continue;
		}
		if (v->nblame < KVMRT_BLAME_SLOTS) {
			slot = v->nblame++;
		} else {
			/* replace the smallest if this one is bigger */
			slot = 0;
			for (j = 1; j < KVMRT_BLAME_SLOTS; j++)
				if (v->blame[j].ns < v->blame[slot].ns)
					slot = j;
			if (v->blame[slot].ns >= ns)
				continue;
		}
		if (slot < 0 || slot >= KVMRT_BLAME_SLOTS)
			continue;
		v->blame[slot].pid = r->pid;
		v->blame[slot].ns = ns;
		__builtin_memcpy(v->blame[slot].comm, r->comm, KVMRT_COMM_LEN);
	}
}

static __always_inline void on_sched_switch(struct kvs *s, __u32 prev_tid, __u32 next_tid)
{
	struct kvmrt_thread *pti, *nti;
	struct kvmrt_vcpu_state *v;
	struct kvmrt_cpu_ctx *c = NULL;
	__u64 now, wait, t_from, threshold = kvs_threshold(s);

	pti = kvs_thread(s, prev_tid);
	nti = kvs_thread(s, next_tid);
	if (pti && pti->ignored) /* filtered out: as any other task */
		pti = NULL;
	if (nti && nti->ignored)
		nti = NULL;
	if (!threshold && !pti && !nti)
		return; /* the common case: no vCPU thread involved */
	now = kvs_now(s);
	if (threshold) {
		/* remember who ran here, for blame */
		c = kvs_this_cpu(s);
		if (!c)
			return;
		if (c->last_switch) {
			struct kvmrt_cpu_run *r = &c->ring[c->head & (KVMRT_CPU_RING - 1)];

			r->pid = prev_tid;
			r->start = c->last_switch;
			r->end = now;
			kvs_prev_comm(s, r->comm);
			c->head++;
		}
		c->last_switch = now;
	}
	kvs_hit(s, P_SCHED_SWITCH);
	if (pti) {
		v = kvs_vcpu(s, &pti->vk, 1);
		if (v) {
			int runnable = kvs_prev_runnable(s);

			ep_switch_out(v, now, runnable);
			if (!runnable) {
				flush_ends(v); /* past its exit's PV EOI */
				v->asleep = 1; /* kvmrt control parks it at FIFO */
				ctl_event(s, REC_CTL_SLEEP, &pti->vk, v, now, 1);
			}
		}
	}
	if (!nti)
		return;
	v = kvs_vcpu(s, &nti->vk, 1);
	if (!v)
		return;
	if (v->asleep) {
		v->asleep = 0;
		ctl_event(s, REC_CTL_SLEEP, &nti->vk, v, now, 0);
	}
	if (kvs_analyze(s)) { /* where its interrupts in flight wait or run now */
		v->cpu1 = kvs_cpu_id(s) + 1;
		watch_sync(s, v);
	}
	t_from = v->t_runnable;
	wait = ep_switch_in(v, now);
	if (t_from) {
		hist_add(v, M_VCPU_WAIT, wait);
		if (c && wait >= threshold / 4)
			take_blame(c, v, t_from, next_tid);
		else
			v->nblame = 0;
	}
}

/* kvm_vcpu_wakeup: the vCPU thread leaves kvm_vcpu_halt after ns. */
static __always_inline void on_kvm_vcpu_wakeup(struct kvs *s, __u64 ns)
{
	struct kvmrt_vcpu_state *v;
	struct kvmrt_vcpu_key vk;

	kvs_hit(s, P_KVM_VCPU_WAKEUP);
	v = current_vcpu(s, &vk);
	if (!v)
		return;
	v->c.wakeups++;
	v->c.halted_ns += ns;
	/* x86.c vcpu_block halts a vCPU (kvm_vcpu_halt, which ends with this
	 * event) only if !kvm_arch_vcpu_runnable: nothing deliverable in its
	 * IRR. An armed undecided accept was not there: it was coalesced. */
	if (v->cand_flags & CAND_ARMED)
		ep_drop_undecided(v);
}

#endif
