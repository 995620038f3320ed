/* SPDX-License-Identifier: GPL-2.0 */
/* include/handlers.h, part: The end of an episode, of any kind: stages, histograms, outlier records. */
#ifndef KVMRT_HANDLERS_END_H
#define KVMRT_HANDLERS_END_H

static __always_inline void emit_outlier(struct kvs *s, const struct kvmrt_vcpu_key *vk,
					 struct kvmrt_vcpu_state *v, const struct kvmrt_ep_done *d,
					 __u32 kind)
{
	struct kvmrt_outlier *r;
	__u32 i;

	r = kvs_reserve(s, sizeof(*r));
	if (!r) {
		kvs_lost(s);
		return;
	}
	r->type = REC_OUTLIER;
	r->tgid = vk->tgid;
	r->tid = v->tid;
	r->vcpu = vk->vcpu;
	r->vector = d->vector;
	r->source = d->source;
	r->t_inject = d->t_inject;
	r->t_wake = d->t_wake;
	r->t_run = d->t_run;
	r->t_deliver = d->t_deliver;
	r->t_eoi = d->t_eoi;
	r->cpu = kvs_cpu_id(s);
	r->end = kind;
	r->pad = 0;
	/* blame is only meaningful if this episode waited for the CPU */
	r->nblame = (d->t_wake || d->t_run) ? v->nblame : 0;
	for (i = 0; i < KVMRT_BLAME_SLOTS; i++)
		r->blame[i] = v->blame[i];
	kvs_submit(s, r, KVS_WAKE_ADAPTIVE);
}

/* The ends of this exit, counted now that no PV EOI can rename them. */
static __always_inline void flush_ends(struct kvmrt_vcpu_state *v)
{
	v->c.ends[END_EOI] += v->eoi_pending;
	v->c.ends[END_IDLE] += v->idle_pending;
	v->eoi_pending = 0;
	v->idle_pending = 0;
	v->eoi_vector = 0;
	v->idle_ended = 0;
}

/* End the episode in slot i now, the end being of kind (enum kvmrt_end).
 * (Five arguments at most: a BPF subprogram takes no more.) */
static KVMRT_SUBPROG void end_slot(struct kvs *s, const struct kvmrt_vcpu_key *vk,
				     struct kvmrt_vcpu_state *v, int i, __u32 kind)
{
	struct kvmrt_ep_done d = {};
	__s64 st[ST_NR];
	__u64 resp, threshold;
	int k;

	if (!ep_end_slot(v, i, kvs_now(s), &d))
		return;
	resp = ep_response_ns(&d);
	hist_add(v, M_RESPONSE, resp);
	ep_stages(&d, st);
	/* unrolled: 6.1's verifier refuses this loop as clang closes it
	 * (a back-edge by fall-through, "back-edge from insn") */
#ifdef __bpf__
#pragma unroll
#endif
	for (k = 0; k < ST_NR; k++)
		if (st[k] >= 0)
			hist_add(v, M_ST_WAKE + k, st[k]);
	v->c.completed++;
	/* between an exit and the entry, an EOI or idle end may turn out to
	 * be a PV EOI (kvm_pv_eoi comes after them): counted at the entry, so
	 * that no counter ever goes down */
	if (kind == END_EOI && v->t_exit)
		v->eoi_pending++;
	else if (kind == END_IDLE && v->t_exit)
		v->idle_pending++;
	else if (kind < END_NR)
		v->c.ends[kind]++;
	ctl_event(s, REC_CTL_EOI, vk, v, d.t_eoi, d.vector | d.handed * CTL_EOI_HANDED);
	threshold = kvs_threshold(s);
	if (threshold && resp >= threshold)
		emit_outlier(s, vk, v, &d, kind);
}

/* The end of interrupt for a vector (kvm_eoi, kvm_ack_irq, kvm_pv_eoi):
 * 1 + the vector if it ended an episode, else 0. */
static __always_inline __u32 end_episode(struct kvs *s, struct kvmrt_vcpu_key *vk,
					 struct kvmrt_vcpu_state *v, __u32 vector, __u32 kind)
{
	int slot = ep_find(v, vector);

	if (v->cand_vec == vector + 1) { /* an undecided accept behind it */
		if (slot < 0)
			slot = ep_take_undecided(v, vector, kvs_now(s));
		else
			v->cand_flags |= CAND_ARMED;
	}
	if (slot < 0 || slot >= EP_SLOTS)
		return 0; /* nothing pending for it: no clock read */
	if (!(v->ep[slot].flags & EP_USED))
		return 0;
	end_slot(s, vk, v, slot, kind);
	watch_sync(s, v); /* -a: nothing in flight, nothing watched */
	return vector + 1;
}

/* The guest is idle (its HLT exit) or says so (its hint): every delivered
 * episode ends now, where no EOI told us earlier (APICv, AVIC: the EOI of
 * an edge-triggered vector does not exit). Returns 1 + the vector of the
 * last one ended, 0 if none. */
static __always_inline __u32 end_delivered(struct kvs *s, const struct kvmrt_vcpu_key *vk,
					   struct kvmrt_vcpu_state *v, __u32 kind)
{
	__u32 last = 0;
	int i;

	for (i = 0; i < EP_SLOTS; i++) {
		if (!ep_delivered(&v->ep[i]))
			continue;
		last = v->ep[i].vector + 1;
		end_slot(s, vk, v, i, kind);
	}
	if (last)
		watch_sync(s, v);
	return last;
}

#endif
