/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The episode state machine: one interrupt to one vCPU, from injection to
 * end of interrupt. Pure functions over plain structs of scalars, compiled
 * into the BPF programs and into the host unit tests, which replay the
 * kernel's event orders for VMX, SVM and emulated hosts through it.
 *
 * Stages of an episode, each measured from the previous observed point so
 * that they always add up to the response:
 *   wake    inject -> vCPU thread woken          (vCPU was halted)
 *   queue   inject or wake -> thread on a CPU    (host scheduling delay)
 *   deliver previous point -> injected into guest (kvm_inj_virq; VMX/SVM)
 *   handle  previous point -> end of interrupt   (kvm_eoi, PIC ack)
 */
#ifndef KVMRT_EPISODE_H
#define KVMRT_EPISODE_H

#include "kvmrt.h"

#define EP_SLOTS 4
/* An episode pending this long never ended where we could see it (posted
 * interrupts and virtual EOI hide the end): drop it instead of merging
 * every later injection of the vector into it. */
#define EP_STALE_NS 1000000000ULL

enum ep_flags {
	EP_USED = 1,
	EP_FROM_TIMER = 2, /* opened at LAPIC hrtimer expiry, before accept_irq */
	EP_POSTED = 4,	   /* posted (APICv, AVIC): the CPU delivers it, no kvm_inj_virq */
	EP_IN_GUEST = 8,   /* posted while the vCPU ran the guest: delivered at
			    * once by the notification IPI, at no time we see */
	EP_HANDED = 16,	   /* posted, then delivered at the vCPU's entry */
};

enum ep_inject_result {
	EP_NEW,
	EP_COALESCED, /* the vector was already pending: one episode, not two */
	EP_UNDECIDED, /* coalesced or an interrupt of its own: its EOI will say (ep_undecided) */
	EP_MERGED,    /* accept_irq of an episode the hrtimer already opened */
	EP_EVICTED,   /* new, after dropping an older unfinished one (no slot) */
	EP_STALE,     /* new, replacing one of the vector pending past EP_STALE_NS */
};

enum ep_stage {
	ST_WAKE,
	ST_QUEUE,
	ST_DELIVER,
	ST_HANDLE,
	ST_NR,
};

struct kvmrt_episode {
	__u64 t_inject;
	__u64 t_wake;
	__u64 t_run;
	__u64 t_deliver;
	__u32 vector;
	__u32 source;
	__u64 flags;	/* 64 bits: another CPU ORs EP_POSTED in atomically
			 * (BPF has no 32-bit fetch-or before -mcpu=v3) */
};

/* What an ended episode looked like: input to histograms and outliers. */
struct kvmrt_ep_done {
	__u64 t_inject;
	__u64 t_wake;
	__u64 t_run;
	__u64 t_deliver;
	__u64 t_eoi;	/* its end, of whichever kind */
	__u32 vector;
	__u32 source;
	__u32 handed;	/* 1: handed over at delivery (ep_handed_over) */
	__u32 pad;
};

struct kvmrt_vcpu_state {
	__u32 tid;	 /* vCPU thread, 0 until known */
	__u32 running;	 /* thread is on a CPU */
	__u64 t_runnable; /* became runnable while off-CPU; 0 when not waiting */
	__u64 t_exit;	 /* last kvm_exit, for exit handling time */
	__u32 exit_isa;
	__u32 exit_reason;
	__u32 nblame;	 /* who held the CPU during the last wait */
	__u32 asleep;	 /* switched out not runnable (halted), not yet back */
	__u32 in_guest;	 /* between kvm_entry and kvm_exit */
	__u32 eoi_vector; /* 1 + the vector kvm_eoi ended at this exit, and */
	__u32 idle_ended; /* the last this HLT exit ended: a kvm_pv_eoi for
			   * it that follows says it was a PV EOI */
	__u32 eoi_pending; /* ends of those kinds at this exit, counted in */
	__u32 idle_pending; /* c.ends at the entry: a PV EOI may rename them */
	__u32 tsc_khz;	 /* the guest's TSC rate (kvm_vcpu.arch.virtual_tsc_khz),
			  * read at its first kvm_entry; 0 until then */
	__u32 cpu1;	 /* -a: 1 + the CPU its thread last switched in on; 0 unknown */
	__u32 ignored;	 /* the agent's: a VM or vCPU its command filters out
			  * (-p, -g, --vcpu); the programs leave it at once */
	__u32 cand_vec;	 /* 1 + the vector of an undecided accept (ep_undecided); 0 none */
	__u32 cand_flags; /* CAND_*, and its source << CAND_SRC_SHIFT */
	__u64 t_cand;	 /* when it was accepted */
	__u64 watch1;	 /* -a: 1 + the CPU it watches (kvmrt.h REC_IF); 0 none
			  * (64 bits: BPF's compare-and-swap) */
	struct kvmrt_blame blame[KVMRT_BLAME_SLOTS];
	struct kvmrt_episode ep[EP_SLOTS];
	struct kvmrt_counters c;
	struct kvmrt_hist h[M_NR];
};

/* The counters of a vCPU whose events are over (a recording read to its
 * end): the ends still pending at its last exit, which its next entry
 * would have counted (a PV EOI may rename them until then), are final.
 * Not for a live reader: its counters must never go down. */
static __always_inline struct kvmrt_counters ep_counters_final(const struct kvmrt_vcpu_state *v)
{
	struct kvmrt_counters c = v->c;

	c.ends[END_EOI] += v->eoi_pending;
	c.ends[END_IDLE] += v->idle_pending;
	return c;
}

/* Delivered, as far as the host can tell: injected into the guest
 * (kvm_inj_virq, or a posted one's next entry), or posted while it ran
 * the guest. Only such an episode can end at the guest's idle or hint. */
static __always_inline int ep_delivered(const struct kvmrt_episode *e)
{
	return (e->flags & EP_USED) && (e->t_deliver || (e->flags & EP_IN_GUEST));
}

/* A vector has up to two episodes, as the LAPIC holds it in two places: one
 * delivered and not yet ended (its ISR bit) and one accepted after that
 * delivery and waiting for it to end (its IRR bit). */

/* The episode an end of interrupt ends: the one in service, else the
 * pending one (a host that does not show delivery). -1 if none. */
static __always_inline int ep_find(const struct kvmrt_vcpu_state *v, __u32 vector)
{
	int i, found = -1;

	for (i = 0; i < EP_SLOTS; i++) {
		if (!(v->ep[i].flags & EP_USED) || v->ep[i].vector != vector)
			continue;
		if (ep_delivered(&v->ep[i]))
			return i;
		found = i;
	}
	return found;
}

/* The vector's episode not yet delivered (in the IRR), -1 if none. */
static __always_inline int ep_find_pending(const struct kvmrt_vcpu_state *v, __u32 vector)
{
	int i;

	for (i = 0; i < EP_SLOTS; i++)
		if ((v->ep[i].flags & EP_USED) && v->ep[i].vector == vector && !ep_delivered(&v->ep[i]))
			return i;
	return -1;
}

/* Posted and delivered: the guest has it, and its end may never show (a
 * virtual EOI). kvmrt control takes it as ended at delivery (REC_CTL_POSTED). */
static __always_inline int ep_handed_over(const struct kvmrt_episode *e)
{
	return (e->flags & EP_USED) && (e->flags & (EP_HANDED | EP_IN_GUEST));
}

/* Any interrupt in flight (handed over ones too), injected less than
 * EP_STALE_NS ago? One whose end the host never sees (a posted interrupt
 * to a guest that never halts) is not in flight for ever. */
static __always_inline int ep_in_flight(const struct kvmrt_vcpu_state *v, __u64 now)
{
	int i;

	for (i = 0; i < EP_SLOTS; i++)
		if ((v->ep[i].flags & EP_USED) && now - v->ep[i].t_inject < EP_STALE_NS)
			return 1;
	return 0;
}

/* Any interrupt injected and not yet ended (or handed over)? */
static __always_inline int ep_any_pending(const struct kvmrt_vcpu_state *v)
{
	int i;

	for (i = 0; i < EP_SLOTS; i++)
		if ((v->ep[i].flags & EP_USED) && !ep_handed_over(&v->ep[i]))
			return 1;
	return 0;
}

/* A slot for a new episode: a free one, else the oldest (evicted). */
static __always_inline int ep_slot_for_new(const struct kvmrt_vcpu_state *v, int *evicted)
{
	int i, oldest = 0;

	*evicted = 0;
	for (i = 0; i < EP_SLOTS; i++) {
		if (!(v->ep[i].flags & EP_USED))
			return i;
		if (v->ep[i].t_inject < v->ep[oldest].t_inject)
			oldest = i;
	}
	*evicted = 1;
	return oldest;
}

/* An undecided accept (where the host does not show delivery).
 *
 * A vector accepted again while its episode is still open, on a host that
 * never shows delivery (an emulating KVM: no kvm_inj_virq), is one of two
 * things the host cannot tell apart then: coalesced (the first still in
 * the IRR: the guest takes one) or an interrupt of its own (the first
 * already in service, the ISR, and this one in the IRR: the guest takes
 * both, and ends each with an EOI). Counted coalesced at once, the
 * second of those was lost: its EOI found nothing to end (the soak's VMs,
 * now and then). So it stays undecided (the vCPU's candidate), and
 *  - the EOI that ends the open episode arms it (CAND_ARMED);
 *  - an armed one is an interrupt of its own if an EOI of the vector comes
 *    with nothing open (ep_take_undecided, from its accept);
 *  - it was coalesced if the vCPU halts first (kvm_vcpu_wakeup: KVM halts
 *    no vCPU with a deliverable interrupt in its IRR), if another takes
 *    its place, or if EP_STALE_NS pass (ep_drop_undecided).
 * Where the host shows delivery (VMX/SVM, posted interrupts), an accept
 * while the episode is pending is coalesced, as it always was. */
enum {
	CAND_ARMED = 1,	/* the episode it was accepted behind has ended */
	CAND_TIMER = 2,	/* opened at the hrtimer's expiry: its accept_irq follows */
	CAND_SRC_SHIFT = 8,
};

/* Delivery is never seen on this vCPU (no kvm_inj_virq, nothing posted). */
static __always_inline int ep_delivery_unseen(const struct kvmrt_vcpu_state *v,
					      const struct kvmrt_episode *e)
{
	return !v->h[M_DELIVERY].count && !v->c.posted_in_guest && !(e->flags & EP_POSTED);
}

/* The candidate was coalesced after all (or is given up): counted so. */
static __always_inline void ep_drop_undecided(struct kvmrt_vcpu_state *v)
{
	if (!v->cand_vec)
		return;
	__sync_fetch_and_add(&v->c.coalesced, 1); /* injections count it from any thread */
	v->cand_vec = 0;
	v->cand_flags = 0;
	v->t_cand = 0;
}

/* An accept of vector behind its open episode, delivery unseen. */
static __always_inline int ep_undecided(struct kvmrt_vcpu_state *v, __u32 vector, __u32 source,
					__u64 now, int from_timer)
{
	if (v->cand_vec == vector + 1 && !(v->cand_flags & CAND_ARMED)) {
		/* a third with two open: coalesced into one of them, surely;
		 * an expiry's accept_irq is the same one, counted once */
		if (from_timer) {
			v->cand_flags |= CAND_TIMER;
		} else if (v->cand_flags & CAND_TIMER) {
			v->cand_flags &= ~CAND_TIMER;
			return EP_MERGED;
		}
		return EP_COALESCED;
	}
	ep_drop_undecided(v); /* another takes its place */
	v->cand_vec = vector + 1;
	v->cand_flags = (from_timer ? CAND_TIMER : 0) | (source << CAND_SRC_SHIFT);
	v->t_cand = now;
	return EP_UNDECIDED;
}

/* An EOI of vector found nothing open: the armed candidate's, if any (it
 * was an interrupt of its own). Returns the slot it now opens (to be
 * ended by the caller), -1 if none. */
static __always_inline int ep_take_undecided(struct kvmrt_vcpu_state *v, __u32 vector, __u64 now)
{
	struct kvmrt_episode *e;
	int i, evicted;

	if (v->cand_vec != vector + 1 || !(v->cand_flags & CAND_ARMED))
		return -1;
	i = ep_slot_for_new(v, &evicted);
	if (evicted || i < 0 || i >= EP_SLOTS || now - v->t_cand >= EP_STALE_NS) {
		ep_drop_undecided(v);
		return -1;
	}
	e = &v->ep[i];
	e->t_inject = v->t_cand;
	e->t_wake = 0;
	e->t_run = 0;
	e->t_deliver = 0;
	e->vector = vector;
	e->source = v->cand_flags >> CAND_SRC_SHIFT;
	e->flags = EP_USED;
	v->cand_vec = 0;
	v->cand_flags = 0;
	v->t_cand = 0;
	return i;
}

static __always_inline int ep_inject(struct kvmrt_vcpu_state *v, __u32 vector, __u32 source, __u64 now,
				     int from_timer)
{
	int i = ep_find_pending(v, vector), evicted = 0;
	struct kvmrt_episode *e;

	if (i >= 0) {
		e = &v->ep[i];
		if (now - e->t_inject < EP_STALE_NS) {
			if ((e->flags & EP_FROM_TIMER) && !from_timer) {
				e->flags &= ~EP_FROM_TIMER;
				return EP_MERGED;
			}
			if (ep_delivery_unseen(v, e))
				return ep_undecided(v, vector, source, now, from_timer);
			return EP_COALESCED; /* already in the IRR */
		}
		evicted = 2; /* stale: replace it */
	} else {
		i = ep_find(v, vector); /* in service, if any */
		/* posted and delivered: its EOI is virtual, so the old one
		 * ends unseen, as a stale one does; delivered by injection
		 * (in service): this is the next one, pending behind it */
		if (i >= 0 && (ep_handed_over(&v->ep[i]) || now - v->ep[i].t_inject >= EP_STALE_NS))
			evicted = 2;
		else
			i = ep_slot_for_new(v, &evicted);
	}
	if (i < 0 || i >= EP_SLOTS)
		return EP_COALESCED;
	e = &v->ep[i];
	e->t_inject = now;
	e->t_wake = 0;
	e->t_deliver = 0;
	e->vector = vector;
	e->source = source;
	e->flags = EP_USED | (from_timer ? EP_FROM_TIMER : 0);
	/* A vCPU already on a CPU has no queue stage; one waiting in the
	 * run queue has no wake stage but does queue. */
	e->t_run = 0;
	return evicted == 2 ? EP_STALE : evicted ? EP_EVICTED : EP_NEW;
}


/* sched_waking of the vCPU thread. The kernel only emits it for a sleeping
 * task; should one arrive for a runnable or running vCPU, it is ignored. */
static __always_inline void ep_wake(struct kvmrt_vcpu_state *v, __u64 now)
{
	int i;

	if (v->running || v->t_runnable)
		return;
	for (i = 0; i < EP_SLOTS; i++) {
		struct kvmrt_episode *e = &v->ep[i];

		if ((e->flags & EP_USED) && !e->t_wake && !e->t_run && !e->t_deliver)
			e->t_wake = now;
	}
	v->t_runnable = now;
}

/* sched_switch onto the vCPU thread. Returns how long it waited to run
 * (0 if we did not see it become runnable). Pending episodes that were
 * waiting for the CPU reach their run stage. */
static __always_inline __u64 ep_switch_in(struct kvmrt_vcpu_state *v, __u64 now)
{
	__u64 wait = 0;
	int i;

	if (v->t_runnable && now >= v->t_runnable)
		wait = now - v->t_runnable;
	for (i = 0; i < EP_SLOTS; i++) {
		struct kvmrt_episode *e = &v->ep[i];

		if ((e->flags & EP_USED) && !e->t_run && !e->t_deliver && !v->running)
			e->t_run = now;
	}
	v->t_runnable = 0;
	v->running = 1;
	return wait;
}

/* sched_switch away from the vCPU thread; preempted: it stays runnable. */
static __always_inline void ep_switch_out(struct kvmrt_vcpu_state *v, __u64 now, int preempted)
{
	v->running = 0;
	v->t_runnable = preempted ? now : 0;
}

/* Delivery: injection to the guest taking the interrupt (kvm_inj_virq, or
 * a posted interrupt's next kvm_entry); never 0, which means none. The one
 * place it is computed. */
static __always_inline __u64 ep_delivery_ns(const struct kvmrt_episode *e, __u64 now)
{
	return now > e->t_inject ? now - e->t_inject : 1;
}

/* kvm_inj_virq: the vector goes into the guest on the next entry. PIC
 * episodes are keyed by pin, so an unknown vector falls back to a pending
 * PIC episode (ExtINT). Returns the delivery latency, 0 if none matched. */
static __always_inline __u64 ep_deliver(struct kvmrt_vcpu_state *v, __u32 vector, __u64 now)
{
	int i = ep_find(v, vector), j;

	if (i < 0) {
		for (j = 0; j < EP_SLOTS; j++) {
			if ((v->ep[j].flags & EP_USED) && v->ep[j].vector >= KVMRT_PIC_VECTOR_BASE &&
			    !v->ep[j].t_deliver) {
				i = j;
				break;
			}
		}
	}
	if (i < 0 || i >= EP_SLOTS || v->ep[i].t_deliver)
		return 0;
	v->ep[i].t_deliver = now;
	return ep_delivery_ns(&v->ep[i], now);
}

/* End the episode in slot i (from ep_find) at now. */
static __always_inline int ep_end_slot(struct kvmrt_vcpu_state *v, int i, __u64 now,
				       struct kvmrt_ep_done *d)
{
	struct kvmrt_episode *e;

	if (i < 0 || i >= EP_SLOTS)
		return 0;
	e = &v->ep[i];
	d->t_inject = e->t_inject;
	d->t_wake = e->t_wake;
	d->t_run = e->t_run;
	d->t_deliver = e->t_deliver;
	d->t_eoi = now;
	d->vector = e->vector;
	d->source = e->source;
	/* without a branch: each one in the end paths' inlined copies adds
	 * to what the verifier walks (kvm_pio's hint end hit its limit) */
	d->handed = (__u32)(((e->flags & EP_HANDED) >> 4) | ((e->flags & EP_IN_GUEST) >> 3));
	e->flags = 0;
	return 1;
}

/* kvm_eoi (LAPIC) or kvm_ack_irq (PIC): the episode ends. */
static __always_inline int ep_eoi(struct kvmrt_vcpu_state *v, __u32 vector, __u64 now,
				  struct kvmrt_ep_done *d)
{
	return ep_end_slot(v, ep_find(v, vector), now, d);
}

/* Response: injection to the end of interrupt. The one place it is
 * computed (the BPF side, report, outliers). */
static __always_inline __u64 ep_response_ns(const struct kvmrt_ep_done *d)
{
	return d->t_eoi > d->t_inject ? d->t_eoi - d->t_inject : 0;
}

/* Where each stage of an ended episode begins and ends; an unobserved
 * stage gets from = to = 0. The one place the stages are cut. Straight-line
 * code: a loop here doubles what the verifier walks in kvm_pio's program. */
static __always_inline void ep_stage_spans(const struct kvmrt_ep_done *d, __u64 from[ST_NR],
					   __u64 to[ST_NR])
{
	__u64 prev = d->t_inject;

	from[ST_WAKE] = to[ST_WAKE] = from[ST_QUEUE] = to[ST_QUEUE] = 0;
	from[ST_DELIVER] = to[ST_DELIVER] = 0;
	if (d->t_wake) {
		from[ST_WAKE] = prev;
		to[ST_WAKE] = prev = d->t_wake;
	}
	if (d->t_run) {
		from[ST_QUEUE] = prev;
		to[ST_QUEUE] = prev = d->t_run;
	}
	if (d->t_deliver) {
		from[ST_DELIVER] = prev;
		to[ST_DELIVER] = prev = d->t_deliver;
	}
	from[ST_HANDLE] = prev;
	to[ST_HANDLE] = d->t_eoi;
}

/* Split an ended episode into stages; unobserved stages get -1. The
 * handle stage is always there (to t_eoi). */
static __always_inline void ep_stages(const struct kvmrt_ep_done *d, __s64 st[ST_NR])
{
	__u64 from[ST_NR], to[ST_NR];

	ep_stage_spans(d, from, to);
	st[ST_WAKE] = to[ST_WAKE] ? (__s64)(to[ST_WAKE] - from[ST_WAKE]) : -1;
	st[ST_QUEUE] = to[ST_QUEUE] ? (__s64)(to[ST_QUEUE] - from[ST_QUEUE]) : -1;
	st[ST_DELIVER] = to[ST_DELIVER] ? (__s64)(to[ST_DELIVER] - from[ST_DELIVER]) : -1;
	st[ST_HANDLE] = (__s64)(to[ST_HANDLE] - from[ST_HANDLE]);
}

#endif /* KVMRT_EPISODE_H */
