// SPDX-License-Identifier: GPL-2.0
#include "endpoints.h"

static const struct {
	const char *name;
	int progs[3]; /* any of these, -1: none */
	int must_fire;
} endpoints[ENDPOINT_NR] = {
	[ENDPOINT_INJECT] = { "inject", { P_KVM_APIC_ACCEPT_IRQ, P_KVM_PIC_SET_IRQ, -1 }, 0 },
	[ENDPOINT_WAKE] = { "wake", { P_SCHED_WAKING, -1, -1 }, 0 },
	[ENDPOINT_RUN] = { "run", { P_SCHED_SWITCH, -1, -1 }, 0 },
	/* kvm_inj_virq, or a posted interrupt's next kvm_entry */
	[ENDPOINT_DELIVER] = { "deliver", { P_KVM_INJ_VIRQ, P_KVM_APICV_ACCEPT_IRQ, -1 }, 1 },
	[ENDPOINT_EOI] = { "eoi", { P_KVM_EOI, P_KVM_ACK_IRQ, P_KVM_PV_EOI }, 1 },
	[ENDPOINT_EXITS] = { "exits", { P_KVM_EXIT, -1, -1 }, 1 },
	/* LAPIC timer lateness: only with lapic_timer_advance (VMX/SVM) */
	[ENDPOINT_TIMER_LATENESS] = { "timer_lateness", { P_KVM_WAIT_LAPIC_EXPIRE, -1, -1 }, 1 },
};

const char *endpoint_name(int e)
{
	return e >= 0 && e < ENDPOINT_NR ? endpoints[e].name : "?";
}

int endpoint_observable(int e, const int attached[P_NR], const __u64 hits[P_NR])
{
	int i;

	if (e < 0 || e >= ENDPOINT_NR)
		return 0;
	for (i = 0; i < 3; i++) {
		int p = endpoints[e].progs[i];

		if (p >= 0 && attached[p] && (!endpoints[e].must_fire || hits[p]))
			return 1;
	}
	return 0;
}
