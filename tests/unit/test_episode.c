// SPDX-License-Identifier: GPL-2.0
/*
 * The episode state machine fed with event sequences in the order the
 * kernel emits them (arch/x86/kvm: x86.c vcpu_enter_guest, lapic.c,
 * i8259.c), for VMX and SVM hosts, this emulated host, posted interrupts,
 * halted, running and preempted vCPUs, and several VMs interleaved.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <linux/types.h>
#include "episode.h"
#include "names.h"

#define VEC 0x40

static void assert_stages_sum(const struct kvmrt_ep_done *d)
{
	__s64 st[ST_NR], sum = 0;
	int i;

	ep_stages(d, st);
	for (i = 0; i < ST_NR; i++)
		if (st[i] >= 0)
			sum += st[i];
	assert_int_equal(sum, d->t_eoi - d->t_inject);
}

/* VMX or SVM, vCPU halted: MSI from the VMM thread. The kernel order is
 * kvm_msi_set_irq, kvm_apic_accept_irq, (kick) sched_waking, sched_switch
 * onto the vCPU thread, kvm_vcpu_wakeup, kvm_inj_virq, kvm_entry, exits,
 * kvm_eoi. Exit/entry do not touch the episode. */
static void vmx_halted(void **state)
{
	struct kvmrt_vcpu_state v = { 0 };
	struct kvmrt_ep_done d = { 0 };
	__s64 st[ST_NR];

	v.running = 0;
	assert_int_equal(ep_inject(&v, VEC, SRC_MSI, 1000, 0), EP_NEW);
	ep_wake(&v, 1500);
	assert_int_equal(ep_switch_in(&v, 4000), 2500); /* waited 2.5 us to run */
	assert_int_equal(ep_deliver(&v, VEC, 4600), 3600);
	assert_int_equal(ep_deliver(&v, VEC, 4700), 0); /* re-injection: counted once */
	assert_int_equal(ep_eoi(&v, VEC, 9000, &d), 1);
	assert_int_equal(d.source, SRC_MSI);
	ep_stages(&d, st);
	assert_int_equal(st[ST_WAKE], 500);
	assert_int_equal(st[ST_QUEUE], 2500);
	assert_int_equal(st[ST_DELIVER], 600);
	assert_int_equal(st[ST_HANDLE], 4400);
	assert_stages_sum(&d);
	/* ended: a second EOI for the vector matches nothing */
	assert_int_equal(ep_eoi(&v, VEC, 9500, &d), 0);
}

/* vCPU in guest mode when the MSI arrives: the kick is an IPI, the exit
 * is EXTERNAL_INTERRUPT (VMX 1) or intr (SVM 0x60), then injection. No
 * wake, no queue. */
static void vmx_svm_running(void **state)
{
	struct kvmrt_vcpu_state v = { 0 };
	struct kvmrt_ep_done d = { 0 };
	__s64 st[ST_NR];

	ep_switch_in(&v, 10);
	assert_int_equal(ep_inject(&v, VEC, SRC_MSI, 1000, 0), EP_NEW);
	assert_int_equal(ep_deliver(&v, VEC, 1800), 800);
	assert_int_equal(ep_eoi(&v, VEC, 3000, &d), 1);
	ep_stages(&d, st);
	assert_int_equal(st[ST_WAKE], -1);
	assert_int_equal(st[ST_QUEUE], -1);
	assert_int_equal(st[ST_DELIVER], 800);
	assert_int_equal(st[ST_HANDLE], 1200);
	assert_string_equal(exit_reason_name(ISA_VMX, 1), "EXTERNAL_INTERRUPT");
	assert_string_equal(exit_reason_name(ISA_SVM, 0x60), "intr");
	assert_string_equal(exit_reason_name(ISA_VMX, 48), "EPT_VIOLATION");
	assert_string_equal(exit_reason_name(ISA_SVM, 0x400), "npf");
	assert_null(exit_reason_name(ISA_UNKNOWN, 1));
}

/* This host: guest code emulated, no kvm_inj_virq or kvm_entry. */
static void emulated_host(void **state)
{
	struct kvmrt_vcpu_state v = { 0 };
	struct kvmrt_ep_done d = { 0 };
	__s64 st[ST_NR];

	ep_inject(&v, VEC, SRC_MSI, 1000, 0);
	ep_wake(&v, 1200);
	ep_switch_in(&v, 2000);
	assert_int_equal(ep_eoi(&v, VEC, 5000, &d), 1);
	assert_int_equal(d.t_deliver, 0);
	ep_stages(&d, st);
	assert_int_equal(st[ST_DELIVER], -1);
	assert_int_equal(st[ST_HANDLE], 3000);
	assert_stages_sum(&d);
}

/* Posted interrupts with virtual EOI: after the injection nothing is
 * visible. Re-injections coalesce into the open episode until it is stale,
 * then it is dropped and a new one starts. */
static void posted_nothing_visible(void **state)
{
	struct kvmrt_vcpu_state v = { 0 };

	ep_switch_in(&v, 10);
	assert_int_equal(ep_inject(&v, VEC, SRC_MSI, 1000, 0), EP_NEW);
	v.ep[ep_find(&v, VEC)].flags |= EP_POSTED; /* kvm_apicv_accept_irq */
	assert_int_equal(ep_inject(&v, VEC, SRC_MSI, 2000, 0), EP_COALESCED);
	assert_int_equal(ep_inject(&v, VEC, SRC_MSI, 1000 + EP_STALE_NS, 0), EP_STALE);
	assert_int_equal(v.ep[ep_find(&v, VEC)].t_inject, 1000 + EP_STALE_NS);
}

/* A runnable vCPU that was preempted: no wake, the queue stage runs from
 * the injection to the switch back in. */
static void preempted_vcpu(void **state)
{
	struct kvmrt_vcpu_state v = { 0 };
	struct kvmrt_ep_done d = { 0 };
	__s64 st[ST_NR];

	ep_switch_in(&v, 10);
	ep_switch_out(&v, 100, 1);
	ep_inject(&v, VEC, SRC_IOAPIC, 1000, 0);
	ep_wake(&v, 1100); /* a waking of a runnable task changes nothing */
	assert_int_equal(ep_switch_in(&v, 50100), 50000);
	ep_eoi(&v, VEC, 51000, &d);
	ep_stages(&d, st);
	assert_int_equal(st[ST_QUEUE], 49100);
	assert_int_equal(st[ST_HANDLE], 900);
}

/* LAPIC timer: the hrtimer expiry opens the episode, the vCPU thread then
 * runs kvm_apic_accept_irq for it: one episode, from the expiry. */
static void lapic_timer_merge(void **state)
{
	struct kvmrt_vcpu_state v = { 0 };
	struct kvmrt_ep_done d = { 0 };

	assert_int_equal(ep_inject(&v, 0x30, SRC_TIMER, 1000, 1), EP_NEW);
	ep_wake(&v, 1100);
	ep_switch_in(&v, 3000);
	assert_int_equal(ep_inject(&v, 0x30, SRC_TIMER, 3500, 0), EP_MERGED);
	/* a second accept for it is another tick: coalesced or its own
	 * (delivery is not seen here), its EOI will say */
	assert_int_equal(ep_inject(&v, 0x30, SRC_TIMER, 3600, 0), EP_UNDECIDED);
	ep_eoi(&v, 0x30, 6000, &d);
	assert_int_equal(d.t_inject, 1000);
	assert_int_equal(d.t_eoi - d.t_inject, 5000);
	/* the next expiry, behind an open tick: one undecided accept, its
	 * expiry and its accept_irq counted once */
	v = (struct kvmrt_vcpu_state){ 0 };
	assert_int_equal(ep_inject(&v, 0x30, SRC_TIMER, 1000, 1), EP_NEW);
	assert_int_equal(ep_inject(&v, 0x30, SRC_TIMER, 1100, 0), EP_MERGED);
	assert_int_equal(ep_inject(&v, 0x30, SRC_TIMER, 2000, 1), EP_UNDECIDED);
	assert_int_equal(ep_inject(&v, 0x30, SRC_TIMER, 2100, 0), EP_MERGED);
	assert_int_equal(ep_inject(&v, 0x30, SRC_TIMER, 3000, 1), EP_COALESCED);
	assert_int_equal(ep_inject(&v, 0x30, SRC_TIMER, 3100, 0), EP_MERGED);
}

/* Legacy PIC: keyed by pin until the guest acks; kvm_inj_virq carries the
 * real vector, which falls back to the pending PIC episode. */
static void pic_extint(void **state)
{
	struct kvmrt_vcpu_state v = { 0 };
	struct kvmrt_ep_done d = { 0 };
	__u32 pin3 = KVMRT_PIC_VECTOR_BASE + 3;

	ep_inject(&v, pin3, SRC_PIC, 1000, 0);
	ep_inject(&v, VEC, SRC_MSI, 1100, 0);
	assert_int_equal(ep_deliver(&v, 0x23, 2000), 1000);
	assert_int_equal(v.ep[ep_find(&v, VEC)].t_deliver, 0);
	assert_int_equal(ep_eoi(&v, pin3, 3000, &d), 1);
	assert_int_equal(d.source, SRC_PIC);
}

/* Two VMs, two vCPUs each, events interleaved: nothing crosses over. */
static void interleaved_vms(void **state)
{
	struct kvmrt_vcpu_state v[4];
	struct kvmrt_ep_done d = { 0 };
	int i;

	memset(v, 0, sizeof(v));
	for (i = 0; i < 4; i++)
		ep_inject(&v[i], VEC, SRC_MSI, 1000 + i, 0);
	ep_wake(&v[2], 2000);
	ep_wake(&v[0], 2100);
	ep_switch_in(&v[0], 3000);
	ep_switch_in(&v[2], 3100);
	ep_deliver(&v[1], VEC, 3500);
	for (i = 3; i >= 0; i--) {
		assert_int_equal(ep_eoi(&v[i], VEC, 10000 + i, &d), 1);
		assert_int_equal(d.t_inject, 1000 + i);
		assert_int_equal(d.t_wake, i == 0 ? 2100 : i == 2 ? 2000 : 0);
		assert_int_equal(d.t_deliver, i == 1 ? 3500 : 0);
		assert_stages_sum(&d);
	}
}

/* VMX or SVM: the vector is accepted again while the guest still handles
 * it (delivered, not yet EOIed). The LAPIC holds it twice, in ISR and IRR:
 * two episodes, not a coalesced one. Only a third accept before the second
 * is delivered coalesces. The second cannot be delivered before the first
 * ends (same priority class), so an injection in between re-injects the
 * first. Each EOI ends the one in service. */
static void accepted_in_service(void **state)
{
	struct kvmrt_vcpu_state v = { 0 };
	struct kvmrt_ep_done d = { 0 };

	v.h[M_DELIVERY].count = 1; /* a host that shows delivery (kvm_inj_virq) */
	ep_switch_in(&v, 10);
	assert_int_equal(ep_inject(&v, VEC, SRC_TIMER, 1000, 0), EP_NEW);
	assert_int_equal(ep_deliver(&v, VEC, 2000), 1000);
	assert_int_equal(ep_inject(&v, VEC, SRC_TIMER, 3000, 0), EP_NEW);
	assert_int_equal(ep_inject(&v, VEC, SRC_TIMER, 3500, 0), EP_COALESCED);
	assert_int_equal(ep_deliver(&v, VEC, 3600), 0); /* re-injection of the first */
	assert_int_equal(ep_eoi(&v, VEC, 5000, &d), 1);
	assert_int_equal(d.t_inject, 1000);
	assert_int_equal(d.t_deliver, 2000);
	assert_int_equal(ep_deliver(&v, VEC, 5200), 2200);
	assert_int_equal(ep_eoi(&v, VEC, 6000, &d), 1);
	assert_int_equal(d.t_inject, 3000);
	assert_int_equal(d.t_deliver, 5200);
	assert_stages_sum(&d);
	assert_int_equal(ep_eoi(&v, VEC, 6500, &d), 0);

	/* the LAPIC timer: its expiry opens the next tick behind the one in
	 * service, and its accept merges into that one, not into the first */
	assert_int_equal(ep_inject(&v, 0x30, SRC_TIMER, 10000, 1), EP_NEW);
	assert_int_equal(ep_inject(&v, 0x30, SRC_TIMER, 10100, 0), EP_MERGED);
	assert_int_equal(ep_deliver(&v, 0x30, 10200), 200);
	assert_int_equal(ep_inject(&v, 0x30, SRC_TIMER, 11000, 1), EP_NEW);
	assert_int_equal(ep_inject(&v, 0x30, SRC_TIMER, 11100, 0), EP_MERGED);
	assert_int_equal(ep_eoi(&v, 0x30, 12000, &d), 1);
	assert_int_equal(d.t_inject, 10000);
	assert_int_equal(ep_find_pending(&v, 0x30) >= 0, 1);
	assert_int_equal(ep_eoi(&v, 0x30, 12500, &d), 1); /* its delivery unseen */
	assert_int_equal(d.t_inject, 11000);

	/* a host that shows no delivery cannot tell: the second accept of a
	 * vector before its end coalesces, as before */
	assert_int_equal(ep_inject(&v, VEC, SRC_MSI, 20000, 0), EP_NEW);
	assert_int_equal(ep_inject(&v, VEC, SRC_MSI, 21000, 0), EP_COALESCED);
}

/* More vectors pending than slots: the oldest is dropped, and counted. */
static void slots_full(void **state)
{
	struct kvmrt_vcpu_state v = { 0 };
	struct kvmrt_ep_done d = { 0 };
	int i;

	for (i = 0; i < EP_SLOTS; i++)
		assert_int_equal(ep_inject(&v, 0x40 + i, SRC_MSI, 1000 + i, 0), EP_NEW);
	assert_int_equal(ep_inject(&v, 0x50, SRC_MSI, 2000, 0), EP_EVICTED);
	assert_int_equal(ep_eoi(&v, 0x40, 3000, &d), 0);
	assert_int_equal(ep_eoi(&v, 0x50, 3000, &d), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vmx_halted),	      cmocka_unit_test(vmx_svm_running),
		cmocka_unit_test(emulated_host),      cmocka_unit_test(posted_nothing_visible),
		cmocka_unit_test(preempted_vcpu),     cmocka_unit_test(lapic_timer_merge),
		cmocka_unit_test(pic_extint),	      cmocka_unit_test(interleaved_vms),
		cmocka_unit_test(slots_full),	      cmocka_unit_test(accepted_in_service),
	};

	return cmocka_run_group_tests_name("episode", tests, NULL, NULL);
}
