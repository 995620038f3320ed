/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What each tracepoint handler does once it has read its scalars: find the
 * vCPU, learn threads, run the episode state machine (episode.h), blame,
 * histograms, outlier and control records. Compiled into the BPF programs
 * (bpf/kvmrt.bpf.c: CO-RE reads and maps) and into the agent (agent/collect/store.c:
 * hash tables fed from a recording by kvmrt report, and the unit tests).
 * One latency model, two drivers, the same code event by event.
 *
 * The includer defines `struct kvs` and implements include/kvs.h (the
 * event's context, the storage, the configuration) before including it.
 */
#ifndef KVMRT_HANDLERS_H
#define KVMRT_HANDLERS_H

/* A function the BPF object keeps as a subprogram of its own rather than
 * inlined at each call: end_slot, whose body (histograms, stages, control
 * and outlier records) the loops over episode slots would otherwise
 * repeat, multiplying the verifier's states and so the time every command
 * takes to load (docs/performance.md, bench/load_time.c). */
#define KVMRT_SUBPROG __attribute__((noinline))

#include "episode.h"
#include "kvs.h"

#define APIC_DM_MASK 0x700
#define APIC_DM_FIXED 0x000
#define APIC_DM_LOWEST 0x100
#define APIC_LVT_MASKED (1 << 16)
#define SRC_FRESH_NS 200000ULL /* report's first pass: a source event this recent names the injection */
#define UNBOUND_FRESH_NS 1000000ULL

static __always_inline void hist_add(struct kvmrt_vcpu_state *v, __u32 metric, __u64 val)
{
	if (metric < M_NR)
		hist_record(&v->h[metric], val);
}

/* A process seen running a vCPU for the first time: tell the agent at
 * once, so that it reads the VM's name while the process lives (a VM may
 * last less than the agent's scan interval). Only from a vCPU's own thread:
 * a user task that injects may be one a hard irq landed on. */
static __always_inline void note_vm(struct kvs *s, __u32 tgid)
{
	struct kvmrt_ctl_rec *r;

	if (kvs_vm_add(s, tgid))
		return; /* known already (or the map is full) */
	r = kvs_reserve(s, sizeof(*r));
	if (!r) {
		kvs_lost(s);
		return;
	}
	__builtin_memset(r, 0, sizeof(*r));
	r->type = REC_VM;
	r->tgid = tgid;
	kvs_submit(s, r, KVS_WAKE_NOW);
}

/* The VM the current context injects for: the VMM's own threads, or a
 * helper thread the agent told us about. 0 when unknown (kworker, a hard
 * irq on the idle task); a hard irq landing on some user task is taken for
 * that task's process, a known blind spot (VFIO without posting). */
static __always_inline __u32 vm_of_current(struct kvs *s, __u64 id)
{
	__u32 tid = (__u32)id, tgid = id >> 32, *alias;

	if (kvs_vm_known(s, tgid))
		return tgid;
	alias = kvs_injector(s, tid);
	if (alias)
		return *alias;
	/* A user thread that injects is a VMM thread (ioctl, irqfd write,
	 * vhost worker since 6.4) even before the agent has seen the VM;
	 * kernel threads (kworker, kvm-pit, idle under a hard irq) are not. */
	if (!kvs_current_kthread(s))
		return tgid;
	return 0;
}

/* Record that thread tid of process tgid runs vCPU vcpu_id. */
static __always_inline struct kvmrt_vcpu_state *learn_thread(struct kvs *s, __u32 tgid, __u32 tid,
							     __u32 vcpu_id)
{
	struct kvmrt_thread ti = { .vk = { .tgid = tgid, .vcpu = vcpu_id } };
	struct kvmrt_thread *old = kvs_thread(s, tid);
	struct kvmrt_vcpu_state *v;

	if (!old || old->vk.tgid != tgid || old->vk.vcpu != vcpu_id)
		kvs_thread_set(s, tid, &ti);
	if (!kvs_vm_known(s, tgid))
		note_vm(s, tgid);
	v = kvs_vcpu(s, &ti.vk, 1);
	if (v && v->tid != tid)
		v->tid = tid;
	return v;
}

/* The vCPU that the current thread runs, if it is a vCPU thread. */
static __always_inline struct kvmrt_vcpu_state *current_vcpu(struct kvs *s, struct kvmrt_vcpu_key *vk)
{
	struct kvmrt_thread *ti = kvs_thread(s, (__u32)kvs_current(s));

	if (!ti)
		return NULL;
	*vk = ti->vk;
	return kvs_vcpu(s, vk, 1);
}

/* The vCPU of an event that carries a kvm_vcpu, learning the thread as we
 * go: its vcpu_id is only read for a thread not known yet. */
static __always_inline struct kvmrt_vcpu_state *vcpu_of_event(struct kvs *s, struct kvmrt_vcpu_key *vk)
{
	__u64 id = kvs_current(s);
	struct kvmrt_thread *ti = kvs_thread(s, (__u32)id);

	if (ti) {
		*vk = ti->vk;
		return kvs_vcpu(s, vk, 1);
	}
	vk->tgid = id >> 32;
	vk->vcpu = kvs_vcpu_id(s);
	return learn_thread(s, vk->tgid, (__u32)id, vk->vcpu);
}

/* A source event (kvm_set_irq, kvm_msi_set_irq, ...) only names the
 * injection that follows in the same context: noted with the scheduler
 * tick (kvs_tick: a clock read was most of these programs' cost), taken
 * by an injection of the same thread in the same tick or the next. (A
 * note no injection followed, a masked MSI say, can so name one that
 * comes a tick later in that thread: the window was 200 us.) */
static __always_inline void note_source(struct kvs *s, __u32 src, __u32 level)
{
	struct kvmrt_cpu_ctx *c = kvs_this_cpu(s);

	if (!c)
		return;
	c->src_tick = kvs_tick(s) + 1; /* 0: none */
	c->src_pid = (__u32)kvs_current(s);
	c->src = src;
	c->src_level = level;
}

/* The source named by a kvm_*_set_irq just before, in this context. */
static __always_inline __u32 take_source(struct kvs *s, __u32 tid, __u32 *level)
{
	struct kvmrt_cpu_ctx *c = kvs_this_cpu(s);
	__u32 src;

	if (!c || !c->src_tick || c->src_pid != tid || kvs_tick(s) + 1 - c->src_tick > 1)
		return SRC_OTHER;
	src = c->src;
	if (level)
		*level = c->src_level;
	return src;
}

/* Injections run in any thread: atomics. */
static __always_inline void count_inject(struct kvmrt_vcpu_state *v, __u32 source, int result)
{
	if (result == EP_MERGED)
		return; /* already counted when the hrtimer opened it */
	if (source >= SRC_NR)
		source = SRC_OTHER;
	/* in a register, tested where it indexes: clang may otherwise
	 * index with a copy the verifier knows no bound of */
	asm volatile("" : "+r"(source));
	if (source < SRC_NR)
		__sync_fetch_and_add(&v->c.injected[source], 1);
	if (result == EP_COALESCED)
		__sync_fetch_and_add(&v->c.coalesced, 1);
	if (result == EP_EVICTED)
		__sync_fetch_and_add(&v->c.dropped, 1);
	if (result == EP_STALE)
		__sync_fetch_and_add(&v->c.ends[END_STALE], 1);
}

/* Tell kvmrt control about a real-time vCPU's work and sleep; wake it only
 * when it has something to do (ctl_urgent). */
static __always_inline void ctl_event(struct kvs *s, __u32 type, const struct kvmrt_vcpu_key *vk,
				      const struct kvmrt_vcpu_state *v, __u64 t, __u32 value)
{
	struct kvmrt_ctl_rec *r;
	__u32 *rt;
	int pending;

	/* a constant at load: no lookup on every event for trace/top/export */
	if (!kvs_control(s))
		return;
	rt = kvs_rt_vcpu(s, vk);
	if (!rt)
		return;
	pending = type == REC_CTL_SLEEP && !value ? ep_any_pending(v) : 0;
	r = kvs_reserve(s, sizeof(*r));
	if (!r) {
		kvs_lost(s);
		return;
	}
	r->type = type;
	r->tgid = vk->tgid;
	r->vcpu = vk->vcpu;
	r->tid = v->tid;
	r->t = t;
	r->value = value;
	r->pad = 0;
	kvs_submit(s, r, ctl_urgent(type, value, *rt, pending) ? KVS_WAKE_NOW : KVS_WAKE_LATER);
}

/* ---- the end of an episode, of any kind ---- */

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

	if (slot < 0 || slot >= EP_SLOTS)
		return 0; /* nothing pending for it: no clock read */
	if (!(v->ep[slot].flags & EP_USED))
		return 0;
	end_slot(s, vk, v, slot, kind);
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
	return last;
}

/* v: the vCPU's state if the caller has it already, else NULL. */
static __always_inline void inject(struct kvs *s, __u32 tgid, __u32 vcpu_id, __u32 vector,
				   __u32 source, __u64 now, int from_timer,
				   struct kvmrt_vcpu_state *v)
{
	struct kvmrt_vcpu_key vk = { .tgid = tgid, .vcpu = vcpu_id };
	int r;

	if (!kvs_armed(s))
		return;
	if (!v)
		v = kvs_vcpu(s, &vk, 1);
	if (!v)
		return;
	r = ep_inject(v, vector, source, now, from_timer);
	count_inject(v, source, r);
	/* one record per episode: coalesced and merged ones end only once */
	if (r == EP_NEW || r == EP_EVICTED || r == EP_STALE)
		ctl_event(s, REC_CTL_INJECT, &vk, v, now, vector);
}

/* Injection from a context that is not the VM's: keep it on this CPU until
 * this context wakes that vCPU's thread. */
static __always_inline void park_unbound(struct kvs *s, __u32 vcpu_id, __u32 vector, __u32 source,
					 __u64 now)
{
	struct kvmrt_cpu_ctx *c = kvs_this_cpu(s);

	if (!c || !kvs_armed(s))
		return;
	c->unb_t = now;
	c->unb_vcpu = vcpu_id;
	c->unb_vector = vector;
	c->unb_source = source;
	c->unb_valid = 1;
}

/* ---- sources: name the injection that follows in the same context ---- */

/* kvm_set_irq: the generic GSI path; the PIC/IOAPIC events that follow
 * refine it. */
static __always_inline void on_kvm_set_irq(struct kvs *s, int level)
{
	kvs_hit(s, P_KVM_SET_IRQ);
	note_source(s, SRC_IOAPIC, level);
}

static __always_inline void on_kvm_msi_set_irq(struct kvs *s)
{
	kvs_hit(s, P_KVM_MSI_SET_IRQ);
	note_source(s, SRC_MSI, 1);
}

static __always_inline void on_kvm_ioapic_set_irq(struct kvs *s)
{
	__u32 level = 1;

	kvs_hit(s, P_KVM_IOAPIC_SET_IRQ);
	take_source(s, (__u32)kvs_current(s), &level);
	note_source(s, SRC_IOAPIC, level);
}

static __always_inline void on_kvm_apic_ipi(struct kvs *s)
{
	kvs_hit(s, P_KVM_APIC_IPI);
	note_source(s, SRC_IPI, 1);
}

/* Is this CPU in the hard irq of vcpu_id's LAPIC timer expiry? A posted
 * timer interrupt (apic_timer_expired -> kvm_use_posted_timer_interrupt)
 * is accepted there, over whatever task ran: that task says nothing of the
 * VM (it may be another VM's thread), the expiring timer does. Then *vk is
 * its vCPU. vec: the interrupt's vector, -1 for any. */
#define TIMER_EXPIRY_FRESH_NS 100000ULL

static __always_inline int timer_expiring_here(struct kvs *s, __u32 vcpu_id, int vec,
					       struct kvmrt_vcpu_key *vk)
{
	struct kvmrt_cpu_ctx *c = kvs_this_cpu(s);

	/* the vector first: no clock read for other interrupts */
	if (!c || !c->timer_t || c->timer_vk.vcpu != vcpu_id ||
	    (vec >= 0 && c->timer_vec != (__u32)vec) ||
	    kvs_now(s) - c->timer_t > TIMER_EXPIRY_FRESH_NS)
		return 0;
	*vk = c->timer_vk;
	return 1;
}

/* ---- injection ---- */

/* Legacy PIC: an episode starts on a rising edge the PIC does not mask or
 * coalesce. The PIC drives vCPU 0 (the BSP's LINT0). */
static __always_inline void on_kvm_pic_set_irq(struct kvs *s, __u8 chip, __u8 pin, __u8 imr,
					       int coalesced)
{
	__u64 now = kvs_now(s), id = kvs_current(s);
	__u32 level = 0, vm, vector;

	kvs_hit(s, P_KVM_PIC_SET_IRQ);
	take_source(s, (__u32)id, &level);
	if (!level || coalesced || (imr & (1 << (pin & 7))))
		return;
	vector = KVMRT_PIC_VECTOR_BASE + (chip & 1) * 8 + (pin & 7);
	vm = vm_of_current(s, id);
	if (vm)
		inject(s, vm, 0, vector, SRC_PIC, now, 0, NULL);
	else
		park_unbound(s, 0, vector, SRC_PIC, now);
}

static __always_inline void on_kvm_apic_accept_irq(struct kvs *s, __u32 apicid, __u32 dm, __u32 vec)
{
	struct kvmrt_vcpu_state *v = NULL;
	__u64 now, id;
	__u32 src, vm, tid, level = 1;

	kvs_hit(s, P_KVM_APIC_ACCEPT_IRQ);
	/* NMI, SMI, INIT and SIPI have no end of interrupt to wait for */
	if ((dm & APIC_DM_MASK) != APIC_DM_FIXED && (dm & APIC_DM_MASK) != APIC_DM_LOWEST)
		return;
	now = kvs_now(s);
	id = kvs_current(s);
	tid = (__u32)id;
	/* a line lowered (level 0) injects nothing: its note names no one */
	src = take_source(s, tid, &level);
	if (!level)
		src = SRC_OTHER;
	vm = 0;
	if (src == SRC_OTHER) {
		struct kvmrt_vcpu_key vk;

		/* in the timer's expiry: over whatever task ran, maybe another
		 * VM's thread (a posted timer interrupt), or its own vCPU
		 * thread; one inject() below (two inlined copies lose the
		 * verifier's bound on the source index) */
		if (timer_expiring_here(s, apicid, vec & 0xff, &vk)) {
			vm = vk.tgid;
			src = SRC_TIMER;
		} else if (kvs_thread(s, tid)) {
			src = SRC_TIMER; /* a local LVT source fired in the vCPU thread */
		}
	}
	if (!vm) {
		/* a vCPU of this process seen before: the process is its VM,
		 * and the injection needs that entry anyway (one hash lookup
		 * where asking the VM table first made two) */
		struct kvmrt_vcpu_key k = { .tgid = id >> 32, .vcpu = apicid };

		v = kvs_vcpu(s, &k, 0);
		vm = v ? k.tgid : vm_of_current(s, id);
	}
	if (vm)
		inject(s, vm, apicid, vec & 0xff, src, now, 0, v);
	else
		park_unbound(s, apicid, vec & 0xff, src, now);
}

/* The LAPIC timer's hrtimer expired (apic_timer_fn): when the interrupt
 * really became due; KVM injects it from the vCPU thread after it wakes.
 * tgid is kvm->userspace_pid, tid the vCPU's thread (0 if none), lvtt the
 * LVT timer register. */
static __always_inline void on_lapic_timer(struct kvs *s, __u32 tgid, __u32 tid, __u32 vcpu_id,
					   __u32 lvtt)
{
	struct kvmrt_cpu_ctx *c;
	__u64 now;

	kvs_hit(s, P_HRTIMER_EXPIRE_ENTRY);
	now = kvs_now(s);
	if ((lvtt & APIC_LVT_MASKED) || !tgid)
		return;
	c = kvs_this_cpu(s);
	if (c) { /* for a kvm_wait_lapic_expire in this expiry */
		c->timer_t = now;
		c->timer_vk.tgid = tgid;
		c->timer_vk.vcpu = vcpu_id;
		c->timer_vec = lvtt & 0xff;
	}
	if (tid)
		learn_thread(s, tgid, tid, vcpu_id);
	inject(s, tgid, vcpu_id, lvtt & 0xff, SRC_TIMER, now, 1, NULL);
}

/* ---- host scheduling ---- */

static __always_inline void on_sched_waking(struct kvs *s, __u32 tid)
{
	struct kvmrt_thread *ti;
	struct kvmrt_vcpu_state *v;
	struct kvmrt_cpu_ctx *c;
	__u64 now;

	ti = kvs_thread(s, tid);
	if (!ti)
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
}

/* ---- delivery and exits (VMX/SVM only: not on an emulating host) ---- */

static __always_inline void on_kvm_inj_virq(struct kvs *s, __u32 vector)
{
	struct kvmrt_vcpu_key vk;
	struct kvmrt_vcpu_state *v;
	__u64 lat;

	kvs_hit(s, P_KVM_INJ_VIRQ);
	v = current_vcpu(s, &vk);
	if (!v)
		return;
	lat = ep_deliver(v, vector, kvs_now(s));
	if (lat)
		hist_add(v, M_DELIVERY, lat);
}

#define VMX_EXIT_HLT 12
#define SVM_EXIT_HLT 0x78

/* kvm_exit: isa says how to read the exit reason (kvs_exit_reason). */
static __always_inline void on_kvm_exit(struct kvs *s, __u32 isa)
{
	struct kvmrt_vcpu_state *v;
	struct kvmrt_vcpu_key vk;
	__u64 now;

	kvs_hit(s, P_KVM_EXIT);
	v = vcpu_of_event(s, &vk);
	if (!v)
		return;
	now = kvs_now(s);
	v->in_guest = 0;
	flush_ends(v); /* an entry we did not see */
	v->t_exit = now;
	v->exit_isa = isa;
	v->exit_reason = kvs_exit_reason(s);
	/* halted: its delivered work is done (a PV EOI found at this exit
	 * relabels its episode, on_kvm_pv_eoi) */
	if ((isa == ISA_VMX && v->exit_reason == VMX_EXIT_HLT) ||
	    (isa == ISA_SVM && v->exit_reason == SVM_EXIT_HLT))
		v->idle_ended = end_delivered(s, &vk, v, END_IDLE);
}

/* kvm_entry: a posted interrupt pending while the vCPU was out of the
 * guest is delivered now (vmx_sync_pir_to_irr, avic: at VM entry). */
static __always_inline void on_kvm_entry(struct kvs *s)
{
	struct kvmrt_exit_key ek = {};
	struct kvmrt_exit_val *ev;
	struct kvmrt_vcpu_state *v;
	struct kvmrt_vcpu_key vk;
	__u64 dt, now;
	__u32 posted = 0;
	int i;

	kvs_hit(s, P_KVM_ENTRY);
	v = vcpu_of_event(s, &vk);
	if (!v)
		return;
	now = kvs_now(s);
	v->in_guest = 1;
	if (!v->tsc_khz) /* once: for kvm_wait_lapic_expire's cycles */
		v->tsc_khz = kvs_tsc_khz(s);
	flush_ends(v); /* a PV EOI is found at the exit, before the entry */
	for (i = 0; i < EP_SLOTS; i++) {
		struct kvmrt_episode *e = &v->ep[i];

		if ((e->flags & (EP_USED | EP_POSTED | EP_IN_GUEST)) == (EP_USED | EP_POSTED) &&
		    !e->t_deliver) {
			e->t_deliver = now;
			__sync_fetch_and_or(&e->flags, (__u64)EP_HANDED);
			hist_add(v, M_DELIVERY, ep_delivery_ns(e, now));
			posted++;
		}
	}
	if (posted) /* control: no EOI to wait for, the grace runs from here */
		ctl_event(s, REC_CTL_POSTED, &vk, v, now, posted);
	if (!v->t_exit)
		return;
	dt = now - v->t_exit;
	v->t_exit = 0;
	ek.vk = vk;
	ek.isa = v->exit_isa;
	ek.reason = v->exit_reason;
	ev = kvs_exit(s, &ek);
	if (!ev)
		return;
	ev->count++;
	ev->sum_ns += dt;
	hist_add(v, M_EXIT, dt);
}

/* kvm_apicv_accept_irq: the interrupt kvm_apic_accept_irq just accepted
 * was posted (vmx_deliver_interrupt, svm_complete_interrupt_delivery with
 * APICv or AVIC active). A vCPU in the guest takes it at once from the
 * notification IPI (or AVIC doorbell): counted, with no time to invent;
 * one outside it, at its next kvm_entry. */
static __always_inline void on_kvm_apicv_accept_irq(struct kvs *s, __u32 apicid, __u32 vec)
{
	struct kvmrt_vcpu_key vk;
	__u32 in_guest;
	__u64 id;
	struct kvmrt_vcpu_state *v;
	struct kvmrt_episode *e;
	int i;

	kvs_hit(s, P_KVM_APICV_ACCEPT_IRQ);
	id = kvs_current(s);
	vk.tgid = id >> 32;
	vk.vcpu = apicid;
	/* not from the VM: a posted timer interrupt in its hard irq, or a
	 * thread the agent has not named yet */
	if (!timer_expiring_here(s, apicid, vec & 0xff, &vk) && !kvs_vm_known(s, vk.tgid)) {
		vk.tgid = vm_of_current(s, id);
		vk.vcpu = apicid;
	}
	if (!vk.tgid)
		return;
	v = kvs_vcpu(s, &vk, 0);
	if (!v)
		return;
	i = ep_find(v, vec & 0xff);
	if (i < 0 || i >= EP_SLOTS)
		return;
	e = &v->ep[i];
	if (e->t_deliver || (e->flags & EP_POSTED))
		return; /* a coalesced one: the episode's first posting counts */
	/* atomic: the vCPU's CPU may be ending this episode right now (a plain
	 * read-modify-write could bring a freed slot back); a stray bit on a
	 * freed slot is harmless, EP_USED is what counts */
	in_guest = *(volatile __u32 *)&v->in_guest; /* once: the flag and the record agree */
	if (!(__sync_fetch_and_or(&e->flags, (__u64)(in_guest ? EP_POSTED | EP_IN_GUEST : EP_POSTED)) &
	      EP_USED))
		return;
	if (!in_guest)
		return;
	__sync_fetch_and_add(&v->c.posted_in_guest, 1);
	ctl_event(s, REC_CTL_POSTED, &vk, v, kvs_now(s), 1);
}

/* kvm_apicv_inhibit_changed (x86.c __kvm_set_or_clear_apicv_inhibit): a
 * reason to turn APICv/AVIC off for the VM was set or cleared, inhibits the
 * VM's reasons now. From the thread that asked: a vCPU thread (IRQ window,
 * x2APIC id changes) or a VMM thread (KVM_SET_GUEST_DEBUG, PIT reinject). */
static __always_inline void on_kvm_apicv_inhibit_changed(struct kvs *s, __u64 inhibits)
{
	struct kvmrt_apicv *a;
	__u32 vm;

	kvs_hit(s, P_KVM_APICV_INHIBIT_CHANGED);
	vm = vm_of_current(s, kvs_current(s));
	if (!vm)
		return;
	a = kvs_apicv(s, vm);
	if (!a)
		return;
	a->inhibits = inhibits;
	__sync_fetch_and_add(&a->changes, 1);
}

/* kvm_wait_lapic_expire (__kvm_wait_lapic_expire, lapic.c): with
 * lapic_timer_advance, KVM arms the LAPIC timer's hrtimer early and, when
 * the timer interrupt goes in, compares the guest's TSC with its deadline:
 * delta = guest_tsc - tsc_deadline, in guest TSC cycles. Late (> 0): the
 * guest got its tick that late. Early (< 0): KVM busy-waits the rest (up to
 * timer_advance_ns). It runs in the vCPU thread before the entry
 * (vmx_vcpu_run, svm_vcpu_run -> kvm_wait_lapic_expire), or for a posted
 * timer interrupt (pi_inject_timer: nohz_full hosts) in the hrtimer's hard
 * irq (apic_timer_fn -> apic_timer_expired), on any CPU. */
static __always_inline void on_kvm_wait_lapic_expire(struct kvs *s, __u32 vcpu_id, __s64 delta)
{
	struct kvmrt_vcpu_state *v;
	struct kvmrt_vcpu_key vk;
	__u64 cycles, ns;

	kvs_hit(s, P_KVM_WAIT_LAPIC_EXPIRE);
	/* the expiring timer first: in its hard irq the task may be another
	 * VM's vCPU thread, with the same vCPU number */
	if (timer_expiring_here(s, vcpu_id, -1, &vk)) {
		v = kvs_vcpu(s, &vk, 0);
	} else {
		v = current_vcpu(s, &vk);
		if (v && vk.vcpu != vcpu_id)
			v = NULL;
	}
	if (!v)
		return;
	if (!v->tsc_khz)
		return; /* no entry seen yet: no rate to convert with */
	cycles = delta < 0 ? (__u64)-delta : (__u64)delta;
	ns = cycles * 1000000ULL / v->tsc_khz;
	hist_add(v, delta < 0 ? M_TIMER_EARLY : M_TIMER_LATE, ns);
}

/* ---- end of interrupt ---- */

/* kvm_eoi: kvs_vcpu_id is the LAPIC's vCPU (what the event's apicid holds). */
static __always_inline void on_kvm_eoi(struct kvs *s, int vector)
{
	__u64 id = kvs_current(s);
	struct kvmrt_cpu_ctx *c = NULL;
	struct kvmrt_vcpu_state *v;
	struct kvmrt_vcpu_key vk;

	kvs_hit(s, P_KVM_EOI);
	/* -1: the ISR was empty, nothing ends (not to be taken for vector
	 * 0xff). On hosts whose KVM ends an interrupt when it delivers it
	 * (an emulating one), every guest EOI is one of these, and the PIC's
	 * deliveries too: still worth learning the thread from, once. */
	if (vector < 0) {
		c = kvs_this_cpu(s);
		if (c && c->eoi_tid == (__u32)id)
			return;
	}
	v = current_vcpu(s, &vk);
	if (!v) {
		/* a thread we do not know yet: learn it from the LAPIC's vCPU */
		vk.tgid = id >> 32;
		vk.vcpu = kvs_vcpu_id(s);
		v = learn_thread(s, vk.tgid, (__u32)id, vk.vcpu);
	}
	if (!v)
		return;
	if (vector < 0) {
		if (c)
			c->eoi_tid = (__u32)id;
		return;
	}
	v->eoi_vector = end_episode(s, &vk, v, vector & 0xff, END_EOI);
}

/* kvm_pv_eoi (kvm_lapic_sync_from_vapic): the guest's PV EOI, found at its
 * next exit: the end, at the latest. */
static __always_inline void on_kvm_pv_eoi(struct kvs *s, int vector)
{
	struct kvmrt_vcpu_state *v;
	struct kvmrt_vcpu_key vk;

	kvs_hit(s, P_KVM_PV_EOI);
	if (vector < 0)
		return;
	v = current_vcpu(s, &vk);
	if (!v)
		return;
	/* apic_sync_pv_eoi_from_guest -> apic_set_eoi emits kvm_eoi first:
	 * the episode it ended ended by a PV EOI */
	if (v->eoi_vector == (__u32)(vector & 0xff) + 1 && v->eoi_pending) {
		v->eoi_vector = 0;
		v->eoi_pending--;
		v->c.ends[END_PV_EOI]++;
		return;
	}
	/* ended at this HLT exit as idle: it was the PV EOI, found there */
	if (v->idle_ended == (__u32)(vector & 0xff) + 1 && v->idle_pending) {
		v->idle_ended = 0;
		v->idle_pending--;
		v->c.ends[END_PV_EOI]++;
		return;
	}
	end_episode(s, &vk, v, vector & 0xff, END_PV_EOI);
}

/* kvm_ack_irq (kvm_notify_acked_irq): for the PIC, the guest's EOI command
 * (or the ack itself in auto-EOI mode). irqchip 0/1 = master/slave PIC,
 * 2 = IOAPIC, whose interrupts end at kvm_eoi already. */
static __always_inline void on_kvm_ack_irq(struct kvs *s, __u32 irqchip, __u32 pin)
{
	struct kvmrt_vcpu_state *v;
	struct kvmrt_vcpu_key vk;

	kvs_hit(s, P_KVM_ACK_IRQ);
	if (irqchip > 1)
		return;
	v = current_vcpu(s, &vk);
	if (!v)
		return;
	end_episode(s, &vk, v, KVMRT_PIC_VECTOR_BASE + (irqchip & 1) * 8 + (pin & 7), END_EOI);
}

/* kvm_pio: only the guest hint port of kvmrt control matters here. */
static __always_inline void on_kvm_pio(struct kvs *s, __u32 rw, __u32 port)
{
	struct kvmrt_vcpu_key vk;
	struct kvmrt_vcpu_state *v;
	__u8 val;

	/* rw: 1 for out; no hint port (0) means no hints, not port 0 */
	if (!kvs_hint_port(s) || port != kvs_hint_port(s) || !rw)
		return;
	kvs_hit(s, P_KVM_PIO);
	v = current_vcpu(s, &vk);
	if (!v)
		return;
	val = kvs_pio_value(s);
	if (!val) /* idle: its delivered work is done */
		end_delivered(s, &vk, v, END_HINT);
	ctl_event(s, REC_CTL_HINT, &vk, v, kvs_now(s), val);
}

#endif /* KVMRT_HANDLERS_H */
