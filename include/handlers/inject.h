/* SPDX-License-Identifier: GPL-2.0 */
/* include/handlers.h, part: Injection: the source events that name it, the injection itself (kvm_apic_accept_irq,
 * the PIC, the LAPIC timer's expiry), and one whose VM is not known yet. */
#ifndef KVMRT_HANDLERS_INJECT_H
#define KVMRT_HANDLERS_INJECT_H

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
	watch_start(s, v);
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

/* hrtimer_expire_exit of an LAPIC timer: its hard irq is over. A timer's
 * interrupt accepted after this, on this CPU, is not that expiry's (posted)
 * one: it is the accepting thread's own (kvm_inject_apic_timer_irqs), even
 * when another VM's timer expired here a moment before (two VMs' vCPU 0 on
 * one vector, on a shared CPU). */
static __always_inline void on_lapic_timer_done(struct kvs *s)
{
	struct kvmrt_cpu_ctx *c;

	kvs_hit(s, P_HRTIMER_EXPIRE_EXIT);
	c = kvs_this_cpu(s);
	if (c)
		c->timer_t = 0;
}

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

#endif
