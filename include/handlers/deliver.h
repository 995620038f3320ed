/* SPDX-License-Identifier: GPL-2.0 */
/* include/handlers.h, part: Delivery (VMX/SVM only: not on an emulating host): injection into the guest,
 * posted interrupts, APICv inhibits, the LAPIC timer against its deadline. */
#ifndef KVMRT_HANDLERS_DELIVER_H
#define KVMRT_HANDLERS_DELIVER_H

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
	watch_sync(s, v);
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
	i = ep_find_pending(v, vec & 0xff); /* the one just accepted */
	if (i < 0 || i >= EP_SLOTS)
		return;
	e = &v->ep[i];
	if (e->flags & EP_POSTED)
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

#endif
