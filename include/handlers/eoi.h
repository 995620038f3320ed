/* SPDX-License-Identifier: GPL-2.0 */
/* include/handlers.h, part: The end of an interrupt: EOI (LAPIC, PV), the PIC's/IOAPIC's ack, the guest's idle hint. */
#ifndef KVMRT_HANDLERS_EOI_H
#define KVMRT_HANDLERS_EOI_H

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

#endif
