/* SPDX-License-Identifier: GPL-2.0 */
/* include/handlers.h, part: VM exits (VMX/SVM only): their reasons and handling time, a HLT's end, a
 * posted interrupt delivered at entry. */
#ifndef KVMRT_HANDLERS_EXITS_H
#define KVMRT_HANDLERS_EXITS_H

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

#endif
