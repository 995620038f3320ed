// SPDX-License-Identifier: GPL-2.0
/*
 * include/handlers.h, the code every BPF program runs, driven here through
 * agent/collect/store.c with whole event sequences in the kernel's order: what the
 * programs read through kvm_vcpu, kvm_lapic and task pointers (vCPU ids,
 * exit reasons, the LAPIC timer's owner and LVT, the task's state) given
 * as they would read it. VMX and SVM hosts, which this host cannot be, and
 * this emulating host.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "names.h"
#include "store.h"

#define US 1000ULL
#define VM 1000
#define VMM_TID 1001
#define VCPU_TID 1002

struct recs {
	int nvm, nout, nctl;
	struct kvmrt_outlier out[8];
	struct kvmrt_ctl_rec ctl[16];
};

static void on_rec(void *ctx, const void *rec, size_t len)
{
	struct recs *r = ctx;
	const struct kvmrt_ctl_rec *c = rec;

	if (c->type == REC_VM)
		r->nvm++;
	if (c->type >= REC_CTL_INJECT && c->type <= REC_CTL_POSTED && r->nctl < 16)
		r->ctl[r->nctl++] = *c;
	if (c->type == REC_OUTLIER && r->nout < 8)
		r->out[r->nout++] = *(const struct kvmrt_outlier *)rec;
}

static struct kvs s;
static struct recs recs;

static int setup(void **state)
{
	memset(&recs, 0, sizeof(recs));
	return kvs__init(&s, 1 /* every episode is an outlier record */, on_rec, &recs);
}

static int teardown(void **state)
{
	kvs__free(&s);
	return 0;
}

/* The current event: at t us, on cpu, in thread tid of process tgid. */
static void at(__u64 t_us, __u32 cpu, __u32 tgid, __u32 tid)
{
	assert_int_equal(kvs__event(&s, t_us * US, cpu, tgid, tid, tgid == 0), 0);
}

/* Events carrying a kvm_vcpu or kvm_lapic of vCPU 0: what the programs
 * would read through them. */
static void entry(void)
{
	s.vcpu_id = 0;
	on_kvm_entry(&s);
}

static void vm_exit(__u32 isa, __u32 reason)
{
	s.vcpu_id = 0;
	s.exit_reason = reason;
	on_kvm_exit(&s, isa);
}

static void eoi(int vector)
{
	s.vcpu_id = 0;
	on_kvm_eoi(&s, vector);
}

static void vcpu_switch_out(__u64 t, int runnable)
{
	at(t, 1, VM, VCPU_TID);
	s.prev_runnable = runnable;
	memcpy(s.prev_comm, "CPU 0/KVM", 10);
	on_sched_switch(&s, VCPU_TID, 0);
}

static void vcpu_switch_in(__u64 t)
{
	at(t, 1, 0, 0);
	s.prev_runnable = 1;
	memcpy(s.prev_comm, "swapper/1", 10);
	on_sched_switch(&s, 0, VCPU_TID);
}

static struct kvmrt_vcpu_state *vcpu0(void)
{
	struct kvmrt_vcpu_key vk = { .tgid = VM, .vcpu = 0 };
	struct kvmrt_vcpu_state *v = kvs_vcpu(&s, &vk, 0);

	assert_non_null(v);
	return v;
}

static __u64 exits_of(__u32 isa, __u32 reason)
{
	struct kvmrt_exit_key k = { .vk = { .tgid = VM, .vcpu = 0 }, .isa = isa, .reason = reason };

	return kvs_exit(&s, &k)->count;
}

/* VMX without APICv, a halted vCPU, an MSI from a VMM thread:
 * kvm_exit(HLT) (vcpu_vmx.exit_reason), sched_switch out (S), kvm_msi_set_irq,
 * kvm_apic_accept_irq and sched_waking in the VMM thread, sched_switch in,
 * kvm_vcpu_wakeup, kvm_inj_virq (vmx_inject_irq), kvm_entry, then the xAPIC
 * EOI: kvm_exit(APIC_ACCESS), kvm_eoi, kvm_entry. */
static void vmx_msi_halted(void **state)
{
	struct kvmrt_vcpu_state *v;
	struct kvmrt_outlier *o;

	at(0, 1, VM, VCPU_TID);
	entry(); /* learns the thread from the kvm_vcpu */
	assert_int_equal(recs.nvm, 1);
	at(100, 1, VM, VCPU_TID);
	vm_exit(ISA_VMX, 12 /* HLT */);
	vcpu_switch_out(102, 0);
	at(1000, 0, VM, VMM_TID);
	on_kvm_msi_set_irq(&s);
	at(1001, 0, VM, VMM_TID);
	on_kvm_apic_accept_irq(&s, 0, APIC_DM_FIXED, 0x22);
	at(1002, 0, VM, VMM_TID);
	on_sched_waking(&s, VCPU_TID);
	vcpu_switch_in(1010);
	at(1012, 1, VM, VCPU_TID);
	on_kvm_vcpu_wakeup(&s, 910 * US);
	at(1014, 1, VM, VCPU_TID);
	on_kvm_inj_virq(&s, 0x22);
	at(1015, 1, VM, VCPU_TID);
	entry();
	at(1030, 1, VM, VCPU_TID);
	vm_exit(ISA_VMX, 44 /* APIC_ACCESS */);
	at(1032, 1, VM, VCPU_TID);
	eoi(0x22);
	at(1034, 1, VM, VCPU_TID);
	entry();

	v = vcpu0();
	assert_int_equal(v->tid, VCPU_TID);
	assert_int_equal(v->c.injected[SRC_MSI], 1);
	assert_int_equal(v->c.completed, 1);
	assert_int_equal(v->c.wakeups, 1);
	assert_int_equal(v->h[M_RESPONSE].max, 31 * US);
	assert_int_equal(v->h[M_DELIVERY].max, 13 * US);
	assert_int_equal(v->h[M_ST_WAKE].max, 1 * US);
	assert_int_equal(v->h[M_ST_QUEUE].max, 8 * US);
	assert_int_equal(v->h[M_ST_DELIVER].max, 4 * US);
	assert_int_equal(v->h[M_ST_HANDLE].max, 18 * US);
	assert_int_equal(v->h[M_VCPU_WAIT].max, 8 * US);
	/* exits by reason, and their names */
	assert_int_equal(exits_of(ISA_VMX, 12), 1);
	assert_int_equal(exits_of(ISA_VMX, 44), 1);
	assert_string_equal(exit_reason_name(ISA_VMX, 12), "HLT");
	assert_string_equal(exit_reason_name(ISA_VMX, 44), "APIC_ACCESS");
	assert_int_equal(v->h[M_EXIT].count, 2);
	assert_int_equal(v->h[M_EXIT].max, 915 * US); /* halted inside the HLT exit */
	/* one outlier record, its stages, and who held the CPU (the ring of
	 * switches on CPU 1: idle, from the vCPU's sleep to its run) */
	assert_int_equal(recs.nout, 1);
	o = &recs.out[0];
	assert_int_equal(o->tgid, VM);
	assert_int_equal(o->tid, VCPU_TID);
	assert_int_equal(o->vector, 0x22);
	assert_int_equal(o->source, SRC_MSI);
	assert_int_equal(o->t_wake - o->t_inject, 1 * US);
	assert_int_equal(o->t_run - o->t_wake, 8 * US);
	assert_int_equal(o->t_deliver - o->t_run, 4 * US);
	assert_int_equal(o->t_eoi - o->t_deliver, 18 * US);
	assert_int_equal(o->cpu, 1);
	assert_int_equal(o->nblame, 1);
	assert_int_equal(o->blame[0].pid, 0);
	assert_int_equal(o->blame[0].ns, 8 * US);
	assert_string_equal(o->blame[0].comm, "swapper/1");
	assert_int_equal(s.hits[P_KVM_EXIT], 2);
	assert_int_equal(s.hits[P_KVM_ENTRY], 3);
}

/* SVM without AVIC, the vCPU in guest mode, an IOAPIC pin from the VMM
 * (kvm_set_irq, kvm_ioapic_set_irq, kvm_apic_accept_irq): the kick is an
 * IPI, so an intr (0x60) exit, svm_inject_irq (kvm_inj_virq), kvm_entry,
 * then the x2APIC EOI: msr (0x7c) exit, kvm_eoi. No wake, no queue. */
static void svm_ioapic_running(void **state)
{
	struct kvmrt_vcpu_state *v;
	struct kvmrt_outlier *o;

	at(0, 1, VM, VCPU_TID);
	entry();
	at(1000, 0, VM, VMM_TID);
	on_kvm_set_irq(&s, 1);
	at(1001, 0, VM, VMM_TID);
	on_kvm_ioapic_set_irq(&s);
	at(1002, 0, VM, VMM_TID);
	on_kvm_apic_accept_irq(&s, 0, APIC_DM_FIXED, 0x25);
	at(1004, 1, VM, VCPU_TID);
	vm_exit(ISA_SVM, 0x60);
	at(1006, 1, VM, VCPU_TID);
	on_kvm_inj_virq(&s, 0x25);
	at(1007, 1, VM, VCPU_TID);
	entry();
	at(1030, 1, VM, VCPU_TID);
	vm_exit(ISA_SVM, 0x7c);
	at(1031, 1, VM, VCPU_TID);
	eoi(0x25);
	at(1032, 1, VM, VCPU_TID);
	entry();

	v = vcpu0();
	assert_int_equal(v->c.injected[SRC_IOAPIC], 1);
	assert_int_equal(v->c.completed, 1);
	assert_int_equal(v->h[M_ST_WAKE].count, 0);
	assert_int_equal(v->h[M_ST_QUEUE].count, 0);
	assert_int_equal(v->h[M_ST_DELIVER].max, 4 * US);
	assert_int_equal(v->h[M_ST_HANDLE].max, 25 * US);
	assert_int_equal(exits_of(ISA_SVM, 0x60), 1);
	assert_int_equal(exits_of(ISA_SVM, 0x7c), 1);
	assert_string_equal(exit_reason_name(ISA_SVM, 0x60), "intr");
	assert_string_equal(exit_reason_name(ISA_SVM, 0x7c), "msr");
	assert_int_equal(recs.nout, 1);
	o = &recs.out[0];
	assert_int_equal(o->source, SRC_IOAPIC);
	assert_int_equal(o->t_wake, 0);
	assert_int_equal(o->t_run, 0);
	assert_int_equal(o->nblame, 0);
}

/* This emulating host, the LAPIC timer: the hrtimer expires in a hard irq
 * on the idle CPU (the program reads the vCPU, its thread, the VMM's pid
 * and LVTT through the kvm_lapic), wakes the halted vCPU thread, which
 * injects (accept_irq, merged: counted once) and whose KVM ends the
 * interrupt at delivery: an empty-ISR kvm_eoi (-1) first learns nothing
 * new, then the guest's EOI ends it. A masked LVT timer opens nothing. */
static void emulated_lapic_timer(void **state)
{
	struct kvmrt_vcpu_state *v;

	vcpu_switch_out(0, 0); /* not known yet: nothing happens */
	at(1000, 1, 0, 0);
	on_lapic_timer(&s, VM, VCPU_TID, 0, 0xec);
	assert_int_equal(recs.nvm, 1); /* the VM is told once */
	at(1001, 1, 0, 0);
	on_sched_waking(&s, VCPU_TID);
	vcpu_switch_in(1010);
	at(1013, 1, VM, VCPU_TID);
	on_kvm_apic_accept_irq(&s, 0, APIC_DM_FIXED, 0xec);
	at(1014, 1, VM, VCPU_TID);
	eoi(-1);
	at(1032, 1, VM, VCPU_TID);
	eoi(0xec);

	v = vcpu0();
	assert_int_equal(v->c.injected[SRC_TIMER], 1);
	assert_int_equal(v->c.coalesced, 0);
	assert_int_equal(v->c.completed, 1);
	assert_int_equal(v->h[M_RESPONSE].max, 32 * US);
	assert_int_equal(v->h[M_ST_WAKE].max, 1 * US);
	assert_int_equal(v->h[M_ST_QUEUE].max, 9 * US);
	assert_int_equal(v->h[M_ST_HANDLE].max, 22 * US);
	assert_int_equal(v->h[M_DELIVERY].count, 0); /* not observable here */
	assert_int_equal(recs.nvm, 1);

	at(2000, 1, 0, 0);
	on_lapic_timer(&s, VM, VCPU_TID, 0, APIC_LVT_MASKED | 0xec);
	assert_int_equal(v->c.injected[SRC_TIMER], 1);
	assert_int_equal(ep_any_pending(v), 0);
	assert_int_equal(s.hits[P_HRTIMER_EXPIRE_ENTRY], 2);
}

/* A LAPIC timer tick of vCPU 0 at t: its hrtimer expiry, then its
 * accept_irq in the vCPU thread 10 us later. */
static void tick(__u64 t_us)
{
	at(t_us, 1, 0, 0);
	on_lapic_timer(&s, VM, VCPU_TID, 0, 0xec);
	at(t_us + 10, 1, VM, VCPU_TID);
	on_kvm_apic_accept_irq(&s, 0, APIC_DM_FIXED, 0xec);
}

/* An emulating host (no kvm_inj_virq): the LAPIC timer expires again
 * while the last tick is open. The guest may already handle the last one
 * (ISR) and take this one after it (IRR), or take one for both: the EOIs
 * say which. Ticks from hrtimer expiry (apic_timer_fn) and accept_irq in
 * the vCPU thread (kvm_inject_apic_timer_irqs), as on this host. */
static void emulated_undecided_tick(void **state)
{
	struct kvmrt_vcpu_state *v;
	struct kvmrt_counters fin;

	vcpu_switch_in(900);
	/* two ticks, two EOIs: two interrupts */
	tick(1000);
	tick(1500);
	at(1600, 1, VM, VCPU_TID);
	eoi(0xec);
	at(1700, 1, VM, VCPU_TID);
	eoi(0xec); /* the second, from its expiry */
	v = vcpu0();
	assert_int_equal(v->c.injected[SRC_TIMER], 2);
	assert_int_equal(v->c.coalesced, 0);
	assert_int_equal(v->c.completed, 2);
	assert_int_equal(v->h[M_RESPONSE].max, 600 * US);
	assert_int_equal(v->h[M_RESPONSE].b[hist_bucket(200 * US)], 1);

	/* two ticks, one EOI, then the vCPU halts (kvm_vcpu_halt's
	 * kvm_vcpu_wakeup at its end): coalesced */
	tick(3000);
	tick(3500);
	at(3600, 1, VM, VCPU_TID);
	eoi(0xec);
	assert_int_equal(v->c.coalesced, 0); /* not yet known */
	vcpu_switch_out(3700, 0);
	assert_int_equal(v->c.coalesced, 0); /* any sleep is not a halt */
	vcpu_switch_in(3750);
	at(3760, 1, VM, VCPU_TID);
	on_kvm_vcpu_wakeup(&s, 50 * US);
	assert_int_equal(v->c.injected[SRC_TIMER], 4);
	assert_int_equal(v->c.coalesced, 1);
	assert_int_equal(v->c.completed, 3);
	at(3800, 1, VM, VCPU_TID);
	eoi(0xec); /* a stray one now ends nothing */
	assert_int_equal(v->c.completed, 3);

	/* a recording that ends with one undecided: left so, as a live
	 * reader leaves it (neither coalesced nor completed) */
	vcpu_switch_in(4900);
	at(5000, 1, 0, 0);
	on_lapic_timer(&s, VM, VCPU_TID, 0, 0xec);
	at(5500, 1, 0, 0);
	on_lapic_timer(&s, VM, VCPU_TID, 0, 0xec);
	fin = ep_counters_final(v);
	assert_int_equal(fin.injected[SRC_TIMER], 6);
	assert_int_equal(fin.coalesced, 1);
	assert_int_equal(fin.completed, 3);
}

/* Two VMs whose vCPU 0 tick on the same vector share a CPU (the soak's
 * VMMs, any two Linux guests: vector 0xec). Another VM's LAPIC timer
 * expires in a hard irq over this vCPU's thread; after that irq, within the
 * expiry's freshness (100 us), the thread accepts its own pending tick
 * (kvm_inject_apic_timer_irqs): the tick is this VM's, not the one whose
 * timer just expired on this CPU (before hrtimer_expire_exit ended the
 * expiry, it was taken for a posted one). */
static void own_tick_after_another_vms_expiry(void **state)
{
	struct kvmrt_vcpu_key ak = { .tgid = 2000, .vcpu = 0 };
	struct kvmrt_vcpu_state *v, *a;

	at(1000, 1, 0, 0);
	on_lapic_timer(&s, VM, VCPU_TID, 0, 0x30); /* its own tick, expiring */
	at(1010, 1, VM, VCPU_TID);
	on_kvm_apic_accept_irq(&s, 0, APIC_DM_FIXED, 0x30); /* ... accepted */
	at(1015, 1, VM, VCPU_TID);
	on_kvm_inj_virq(&s, 0x30); /* ... delivered: in service */
	at(1020, 1, VM, VCPU_TID);
	on_lapic_timer(&s, 2000, 2002, 0, 0x30); /* VM 2000's, over this thread */
	on_lapic_timer_done(&s);		  /* ... its hard irq over */
	at(1030, 1, VM, VCPU_TID);
	on_kvm_apic_accept_irq(&s, 0, APIC_DM_FIXED, 0x30); /* its own next tick */

	v = vcpu0();
	a = kvs_vcpu(&s, &ak, 0);
	assert_non_null(a);
	assert_int_equal(v->c.injected[SRC_TIMER], 2); /* one in service, one pending */
	assert_int_equal(v->c.coalesced, 0);
	assert_int_equal(a->c.injected[SRC_TIMER], 1); /* its expiry; nothing merged into it */
	assert_true(a->ep[ep_find_pending(a, 0x30)].flags & EP_FROM_TIMER);
}

/* A kernel thread injects (kvm-pit): its VM is unknown to it, so the
 * injection waits on its CPU until that context wakes the vCPU; once the
 * agent names it an injector of the VM, or where its name says whose it
 * is, it injects directly. */
static void kthread_unbound_then_injector(void **state)
{
	struct kvmrt_vcpu_state *v;

	assert_int_equal(kvs__add_thread(&s, VCPU_TID, VM, 0), 0);
	assert_int_equal(kvs__add_vm(&s, VM), 0);
	vcpu_switch_out(0, 0);
	at(1000, 0, 2000, 2000);
	s.kthread = 1;
	on_kvm_set_irq(&s, 1);
	on_kvm_pic_set_irq(&s, 0, 0, 0, 0);
	v = vcpu0();
	assert_int_equal(v->c.injected[SRC_PIC], 0); /* parked, not lost */
	at(1002, 0, 2000, 2000);
	s.kthread = 1;
	on_sched_waking(&s, VCPU_TID);
	assert_int_equal(v->c.injected[SRC_PIC], 1);
	vcpu_switch_in(1010);
	at(1020, 1, VM, VCPU_TID);
	on_kvm_ack_irq(&s, 0, 0);
	assert_int_equal(v->c.completed, 1);
	assert_int_equal(v->h[M_ST_WAKE].max, 2 * US);

	assert_int_equal(kvs__add_injector(&s, 2000, VM), 0);
	at(3000, 0, 2000, 2000);
	s.kthread = 1;
	on_kvm_set_irq(&s, 1);
	on_kvm_pic_set_irq(&s, 0, 0, 0, 0);
	assert_int_equal(v->c.injected[SRC_PIC], 2); /* at once */
	/* masked pin and a coalesced edge open nothing */
	on_kvm_set_irq(&s, 1);
	on_kvm_pic_set_irq(&s, 0, 1, 1 << 1, 0);
	on_kvm_pic_set_irq(&s, 0, 2, 0, 1);
	assert_int_equal(v->c.injected[SRC_PIC], 2);

	/* before the agent names it: a kernel thread whose name says whose
	 * it is (KVM's "kvm-pit/PID", i8254.c kvm_create_pit) injects for
	 * that VM at once (a VM's first PIT ticks); one named otherwise (a
	 * kworker) waits, as above */
	at(4000, 0, 2100, 2100);
	s.kthread = 1;
	kvs__event_comm(&s, "kvm-pit/1000");
	on_kvm_set_irq(&s, 1);
	on_kvm_pic_set_irq(&s, 0, 4, 0, 0);
	assert_int_equal(v->c.injected[SRC_PIC], 3);
	assert_int_equal(v->c.coalesced, 0);
	at(5000, 0, 2200, 2200);
	s.kthread = 1;
	kvs__event_comm(&s, "kworker/0:1");
	on_kvm_set_irq(&s, 1);
	on_kvm_pic_set_irq(&s, 0, 3, 0, 0);
	assert_int_equal(v->c.injected[SRC_PIC], 3);
}

/* A source event names the injection that follows it in its thread, in
 * the same scheduler tick or the next (kvs_tick); not one two ticks
 * later, not one in another thread, and a lowered line (level 0) none. */
static void source_notes(void **state)
{
	struct kvmrt_vcpu_state *v;

	assert_int_equal(kvs__add_thread(&s, VCPU_TID, VM, 0), 0);
	assert_int_equal(kvs__add_vm(&s, VM), 0);
	at(1000, 0, VM, VMM_TID);
	on_kvm_msi_set_irq(&s);
	at(1000 + KVS_TICK_NS / US, 0, VM, VMM_TID); /* the next tick */
	on_kvm_apic_accept_irq(&s, 0, APIC_DM_FIXED, 0x41);
	v = vcpu0();
	assert_int_equal(v->c.injected[SRC_MSI], 1);
	at(1000 + 2 * KVS_TICK_NS / US, 0, VM, VMM_TID); /* two ticks on */
	on_kvm_apic_accept_irq(&s, 0, APIC_DM_FIXED, 0x41);
	assert_int_equal(v->c.injected[SRC_MSI], 1);
	assert_int_equal(v->c.injected[SRC_OTHER], 1);
	at(20000, 0, VM, VMM_TID);
	on_kvm_msi_set_irq(&s);
	at(20001, 0, VM, VCPU_TID); /* another thread: the vCPU's own timer */
	on_kvm_apic_accept_irq(&s, 0, APIC_DM_FIXED, 0xec);
	assert_int_equal(v->c.injected[SRC_MSI], 1);
	assert_int_equal(v->c.injected[SRC_TIMER], 1);
	at(30000, 0, VM, VCPU_TID);
	on_kvm_set_irq(&s, 0); /* lowered */
	at(30001, 0, VM, VCPU_TID);
	on_kvm_apic_accept_irq(&s, 0, APIC_DM_FIXED, 0xec);
	assert_int_equal(v->c.injected[SRC_IOAPIC], 0);
	assert_int_equal(v->c.injected[SRC_TIMER], 2);
}

/* SVM with AVIC, a guest that hints (kvmrt control's port): an MSI posted
 * while it runs the guest (svm_complete_interrupt_delivery:
 * kvm_apicv_accept_irq, then the doorbell) has no delivery time and no EOI
 * exit; the guest's idle hint (kvm_pio, value 0) ends it; a busy hint does
 * not. A stale one is counted as such. */
static void avic_hint_end(void **state)
{
	struct kvmrt_vcpu_state *v;

	s.hint_port = 0x7c2;
	at(0, 1, VM, VCPU_TID);
	entry();
	at(1000, 0, VM, VMM_TID);
	on_kvm_msi_set_irq(&s);
	on_kvm_apic_accept_irq(&s, 0, APIC_DM_FIXED, 0x30);
	on_kvm_apicv_accept_irq(&s, 0, 0x30);
	v = vcpu0();
	assert_int_equal(v->c.posted_in_guest, 1);
	at(1010, 1, VM, VCPU_TID);
	s.pio_value = 1; /* busy */
	on_kvm_pio(&s, 1, 0x7c2);
	assert_int_equal(v->c.completed, 0);
	at(1025, 1, VM, VCPU_TID);
	s.pio_value = 0; /* idle */
	on_kvm_pio(&s, 1, 0x7c2);
	assert_int_equal(v->c.completed, 1);
	assert_int_equal(v->c.ends[END_HINT], 1);
	assert_int_equal(v->h[M_RESPONSE].max, 25 * US);
	assert_int_equal(v->h[M_DELIVERY].count, 0);
	assert_int_equal(recs.out[recs.nout - 1].end, END_HINT);
	/* posted in the guest again and again, no end seen: each is a new
	 * interrupt (its EOI was virtual), the one before ends unseen */
	at(1100, 0, VM, VMM_TID);
	on_kvm_apic_accept_irq(&s, 0, APIC_DM_FIXED, 0x32);
	on_kvm_apicv_accept_irq(&s, 0, 0x32);
	at(1200, 0, VM, VMM_TID);
	on_kvm_apic_accept_irq(&s, 0, APIC_DM_FIXED, 0x32);
	on_kvm_apicv_accept_irq(&s, 0, 0x32);
	assert_int_equal(v->c.coalesced, 0);
	assert_int_equal(v->c.posted_in_guest, 3);
	assert_int_equal(v->c.ends[END_STALE], 1);
	/* not delivered, never ended: replaced after EP_STALE_NS, counted */
	at(2000, 0, VM, VMM_TID);
	on_kvm_apic_accept_irq(&s, 0, APIC_DM_FIXED, 0x31);
	at(2000 + EP_STALE_NS / US, 0, VM, VMM_TID);
	on_kvm_apic_accept_irq(&s, 0, APIC_DM_FIXED, 0x31);
	assert_int_equal(v->c.ends[END_STALE], 2);
	assert_int_equal(v->c.dropped, 0);
}

/* No hint port (kvmrt report of any recording, or a trace): a guest's
 * "out" to port 0 with 0 is no idle hint; the posted MSI stays pending
 * until its real end. */
static void no_hint_port_no_hint(void **state)
{
	struct kvmrt_vcpu_state *v;

	s.hint_port = 0;
	at(0, 1, VM, VCPU_TID);
	entry();
	at(1000, 0, VM, VMM_TID);
	on_kvm_msi_set_irq(&s);
	on_kvm_apic_accept_irq(&s, 0, APIC_DM_FIXED, 0x30);
	on_kvm_apicv_accept_irq(&s, 0, 0x30);
	at(1025, 1, VM, VCPU_TID);
	s.pio_value = 0;
	on_kvm_pio(&s, 1, 0);
	v = vcpu0();
	assert_int_equal(v->c.ends[END_HINT], 0);
	assert_int_equal(v->c.completed, 0);
	assert_int_equal(s.hits[P_KVM_PIO], 0); /* not a hint: as if not attached */
}

/* What kvmrt control hears under VMX+APICv, from the kernel's order:
 * vmx_deliver_interrupt posts (kvm_apicv_accept_irq after
 * kvm_apic_accept_irq, __apic_accept_irq); a vCPU out of the guest gets it
 * at its next entry (vmx_sync_pir_to_irr before vmx_vcpu_run's
 * trace_kvm_entry), one in the guest from the notification IPI. Either way
 * control takes it as ended there (REC_CTL_POSTED): the edge-triggered
 * EOI is virtual. The later HLT exit ends both episodes (idle), and their
 * end records say control had them already; an injected one (APICv inhibited: vmx_inject_irq) still
 * waits for its EOI exit (EOI_INDUCED, kvm_apic_set_eoi_accelerated). */
static void apicv_control_records(void **state)
{
	struct kvmrt_vcpu_key vk = { .tgid = VM, .vcpu = 0 };
	struct kvmrt_vcpu_state *v;
	__u32 *rt;

	s.control = 1;
	at(0, 1, VM, VCPU_TID);
	entry();
	rt = kvs_table__add(&s.rt_vcpus, &vk, NULL);
	assert_non_null(rt);
	*rt = RT_VCPU_MANAGED;
	v = vcpu0();
	at(100, 1, VM, VCPU_TID);
	vm_exit(ISA_VMX, 1 /* EXTERNAL_INTERRUPT */);
	at(110, 0, VM, VMM_TID);
	on_kvm_msi_set_irq(&s);
	on_kvm_apic_accept_irq(&s, 0, APIC_DM_FIXED, 0x30);
	on_kvm_apicv_accept_irq(&s, 0, 0x30);
	assert_int_equal(ep_any_pending(v), 1);
	at(120, 1, VM, VCPU_TID);
	entry();
	assert_int_equal(ep_any_pending(v), 0); /* handed over: nothing to wait for */
	at(200, 0, VM, VMM_TID);
	on_kvm_msi_set_irq(&s);
	on_kvm_apic_accept_irq(&s, 0, APIC_DM_FIXED, 0x31);
	on_kvm_apicv_accept_irq(&s, 0, 0x31);
	at(300, 1, VM, VCPU_TID);
	vm_exit(ISA_VMX, 12 /* HLT */);
	assert_int_equal(v->c.completed, 2);
	assert_int_equal(recs.nctl, 6);
	assert_int_equal(recs.ctl[0].type, REC_CTL_INJECT);
	assert_int_equal(recs.ctl[1].type, REC_CTL_POSTED);
	assert_int_equal(recs.ctl[1].value, 1);
	assert_int_equal(recs.ctl[1].t, 120 * US);
	assert_int_equal(recs.ctl[2].type, REC_CTL_INJECT);
	assert_int_equal(recs.ctl[3].type, REC_CTL_POSTED);
	assert_int_equal(recs.ctl[3].t, 200 * US);
	assert_int_equal(recs.ctl[4].type, REC_CTL_EOI);
	assert_int_equal(recs.ctl[4].value & CTL_EOI_HANDED, CTL_EOI_HANDED);
	assert_int_equal(recs.ctl[5].value & CTL_EOI_HANDED, CTL_EOI_HANDED);
	at(310, 1, VM, VCPU_TID);
	entry();
	assert_int_equal(v->c.ends[END_IDLE], 2);
	/* not posted: its EOI exits, and control waits for it */
	at(400, 0, VM, VMM_TID);
	on_kvm_msi_set_irq(&s);
	on_kvm_apic_accept_irq(&s, 0, APIC_DM_FIXED, 0x32);
	at(405, 1, VM, VCPU_TID);
	vm_exit(ISA_VMX, 1);
	at(410, 1, VM, VCPU_TID);
	on_kvm_inj_virq(&s, 0x32);
	entry();
	at(420, 1, VM, VCPU_TID);
	vm_exit(ISA_VMX, 45 /* EOI_INDUCED */);
	eoi(0x32);
	assert_int_equal(recs.nctl, 8);
	assert_int_equal(recs.ctl[6].type, REC_CTL_INJECT);
	assert_int_equal(recs.ctl[7].type, REC_CTL_EOI);
	assert_int_equal(recs.ctl[7].value, 0x32); /* control waited for this one */
}

/* kvm_wait_lapic_expire (lapic.c __kvm_wait_lapic_expire): the delta is
 * guest TSC cycles, converted with the rate read at the vCPU's kvm_entry
 * (here 2 GHz). From the vCPU thread (vmx_vcpu_run, after trace_kvm_entry),
 * and from the timer's hard irq on another CPU over another task (posted
 * timer interrupt: apic_timer_fn -> apic_timer_expired), matched there by
 * the expiring timer; another vCPU's number there matches nothing. */
static void lapic_timer_lateness(void **state)
{
	struct kvmrt_vcpu_state *v;

	s.tsc_khz = 2000000;
	at(0, 1, VM, VCPU_TID);
	entry();
	v = vcpu0();
	assert_int_equal(v->tsc_khz, 2000000);
	at(10, 1, VM, VCPU_TID);
	on_kvm_wait_lapic_expire(&s, 0, -2000);
	on_kvm_wait_lapic_expire(&s, 0, 6000);
	assert_int_equal(v->h[M_TIMER_EARLY].count, 1);
	assert_int_equal(v->h[M_TIMER_EARLY].max, 1000);
	assert_int_equal(v->h[M_TIMER_LATE].count, 1);
	assert_int_equal(v->h[M_TIMER_LATE].max, 3000);
	/* posted: the hrtimer expires on CPU 0 over task 77 of no VM */
	at(1000, 0, 77, 77);
	on_lapic_timer(&s, VM, VCPU_TID, 0, 0xec);
	at(1001, 0, 77, 77);
	on_kvm_wait_lapic_expire(&s, 0, 1000);
	on_kvm_wait_lapic_expire(&s, 1, 1000); /* not the expiring timer's vCPU */
	on_kvm_apic_accept_irq(&s, 0, APIC_DM_FIXED, 0xec);
	on_kvm_apicv_accept_irq(&s, 0, 0xec);
	assert_int_equal(v->h[M_TIMER_LATE].count, 2);
	assert_int_equal(v->c.injected[SRC_TIMER], 1);
	assert_int_equal(v->c.posted_in_guest, 1);
	{ /* the task under the hard irq is no VM */
		struct kvmrt_vcpu_key other = { .tgid = 77, .vcpu = 0 };

		assert_null(kvs_vcpu(&s, &other, 0));
	}
	/* the hard irq over another VM's vCPU 0 thread: still this VM's */
	at(1500, 0, 2000, 2002);
	entry(); /* VM 2000's vCPU 0 thread, known */
	at(1600, 0, 2000, 2002);
	on_lapic_timer(&s, VM, VCPU_TID, 0, 0xec);
	on_kvm_wait_lapic_expire(&s, 0, 2000);
	on_kvm_apic_accept_irq(&s, 0, APIC_DM_FIXED, 0xec);
	on_kvm_apicv_accept_irq(&s, 0, 0xec);
	assert_int_equal(v->h[M_TIMER_LATE].count, 3);
	assert_int_equal(v->c.injected[SRC_TIMER], 2);
	assert_int_equal(v->c.posted_in_guest, 2);
	{
		struct kvmrt_vcpu_key b = { .tgid = 2000, .vcpu = 0 };
		struct kvmrt_vcpu_state *vb = kvs_vcpu(&s, &b, 0);

		assert_non_null(vb);
		assert_int_equal(vb->h[M_TIMER_LATE].count, 0);
		assert_int_equal(vb->c.injected[SRC_TIMER] + vb->c.posted_in_guest, 0);
	}
	/* long after the expiry, this CPU's context says nothing */
	at(1600 + 2 * TIMER_EXPIRY_FRESH_NS / US, 0, 77, 77);
	on_kvm_wait_lapic_expire(&s, 0, 1000);
	assert_int_equal(v->h[M_TIMER_LATE].count, 3);
}

/* kvm_apicv_inhibit_changed: per VM, from whichever of its threads asked
 * (a vCPU's, the VMM's); from a kernel thread, no VM to charge. */
static void apicv_inhibits(void **state)
{
	struct kvmrt_apicv *a;

	at(0, 1, VM, VCPU_TID);
	entry();
	at(10, 0, VM, VMM_TID);
	on_kvm_apicv_inhibit_changed(&s, 0x200); /* PIT reinject on */
	at(20, 1, VM, VCPU_TID);
	on_kvm_apicv_inhibit_changed(&s, 0x300); /* and an IRQ window */
	at(30, 0, 0, 55); /* a kernel thread */
	on_kvm_apicv_inhibit_changed(&s, 0x1);
	a = kvs_apicv(&s, VM);
	assert_int_equal(a->inhibits, 0x300);
	assert_int_equal(a->changes, 2);
	assert_int_equal(s.apicv.n, 1);
}

/* The store is bounded as the BPF maps are: a vCPU beyond KVMRT_MAX_VCPUS
 * is not created, and its events change nothing. */
static void store_bounded(void **state)
{
	struct kvmrt_vcpu_key vk = { .tgid = 1 };
	__u32 i;

	for (i = 0; i < KVMRT_MAX_VCPUS; i++) {
		vk.vcpu = i;
		assert_non_null(kvs_vcpu(&s, &vk, 1));
	}
	vk.vcpu = KVMRT_MAX_VCPUS;
	assert_null(kvs_vcpu(&s, &vk, 1));
	at(1, 0, 5, 5);
	on_kvm_apic_accept_irq(&s, KVMRT_MAX_VCPUS, APIC_DM_FIXED, 0x30);
	assert_int_equal(s.vcpus.n, KVMRT_MAX_VCPUS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(vmx_msi_halted, setup, teardown),
		cmocka_unit_test_setup_teardown(svm_ioapic_running, setup, teardown),
		cmocka_unit_test_setup_teardown(emulated_lapic_timer, setup, teardown),
		cmocka_unit_test_setup_teardown(emulated_undecided_tick, setup, teardown),
		cmocka_unit_test_setup_teardown(kthread_unbound_then_injector, setup, teardown),
		cmocka_unit_test_setup_teardown(source_notes, setup, teardown),
		cmocka_unit_test_setup_teardown(avic_hint_end, setup, teardown),
		cmocka_unit_test_setup_teardown(no_hint_port_no_hint, setup, teardown),
		cmocka_unit_test_setup_teardown(apicv_control_records, setup, teardown),
		cmocka_unit_test_setup_teardown(lapic_timer_lateness, setup, teardown),
		cmocka_unit_test_setup_teardown(own_tick_after_another_vms_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(apicv_inhibits, setup, teardown),
		cmocka_unit_test_setup_teardown(store_bounded, setup, teardown),
	};

	return cmocka_run_group_tests_name("handlers", tests, NULL, NULL);
}
