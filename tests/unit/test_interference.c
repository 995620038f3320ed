// SPDX-License-Identifier: GPL-2.0
/*
 * agent/collect/interference.c: who held a CPU, net of what nested in it,
 * from event sequences in the kernel's order: a hard irq inside a softirq
 * (irq_exit -> __do_softirq runs with irqs on; the H flag), an NMI inside
 * a thread (nmi:nmi_handler fires after its handler, with its delta), a
 * VM exit out to the VMM (kvm_exit, kvm_userspace_exit, then kvm_entry),
 * a halt poll (kvm_vcpu_wakeup "poll", after the fact). The parts of every
 * interval add up to it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "causes.h"
#include "if_feed.h"
#include "interference.h"

#define US 1000ULL
#define HOG 500
#define VCPU 700

static struct if_timeline tl;

static int setup(void **state)
{
	return if_timeline__init(&tl);
}

static int teardown(void **state)
{
	if_timeline__free(&tl);
	return 0;
}

static __u64 part(const struct if_part *p, int n, __u32 kind, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (p[i].who.kind == kind && (!name || !strcmp(p[i].who.name, name)))
			return p[i].ns;
	return 0;
}

static __u64 sum(const struct if_part *p, int n)
{
	__u64 t = 0;
	int i;

	for (i = 0; i < n; i++)
		t += p[i].ns;
	return t;
}

/* 100 us on CPU 1, every kind of interference in turn */
static void feed(void)
{
	assert_int_equal(if__switch(&tl, 0 * US, 1, HOG, "stress-ng"), 0);
	if__softirq(&tl, 10 * US, 1, 1, 3);		 /* NET_RX */
	if__irq(&tl, 20 * US, 1, 1, 24, "virtio0-input"); /* nested in it */
	if__irq(&tl, 25 * US, 1, 0, 24, NULL);
	if__softirq(&tl, 40 * US, 1, 0, 3);
	if__vector(&tl, 50 * US, 1, 1, "local_timer");
	if__vector(&tl, 52 * US, 1, 0, "local_timer");
	if__nmi(&tl, 62 * US, 1, 1 * US, "perf_event_nmi_handler");
	if__switch(&tl, 70 * US, 1, VCPU, "CPU 0/KVM");
	if__vm_exit(&tl, 80 * US, 1, VCPU, 30, "IO_INSTRUCTION");
	if__to_vmm(&tl, 85 * US, 1, VCPU, "io 0x3f8");
	if__from_vmm(&tl, 93 * US, 1, VCPU); /* back in KVM_RUN, then the entry */
	if__vm_entry(&tl, 93 * US, 1, VCPU);
	/* a HLT exit, kvm_vcpu_halt polls (kvm_vcpu_wakeup "poll" at its end) */
	if__vm_exit(&tl, 95 * US, 1, VCPU, 12, "HLT");
	if__halt_poll(&tl, 100 * US, 1, VCPU, 4 * US);
	if__switch(&tl, 100 * US, 1, 0, "swapper/1");
}

/* feed()'s 100 us on CPU 1, explained whole: each kind's net time */
static void feed_parts(const struct if_part *p, int n)
{
	assert_int_equal(sum(p, n), 100 * US);
	assert_int_equal(part(p, n, IF_THREAD, "stress-ng"), 37 * US);
	assert_int_equal(part(p, n, IF_SOFTIRQ, "NET_RX"), 25 * US);
	assert_int_equal(part(p, n, IF_IRQ, "virtio0-input"), 5 * US);
	assert_int_equal(part(p, n, IF_VECTOR, "local_timer"), 2 * US);
	assert_int_equal(part(p, n, IF_NMI, NULL), 1 * US);
	assert_int_equal(part(p, n, IF_VCPU, NULL), 12 * US);
	assert_int_equal(part(p, n, IF_EXIT, "IO_INSTRUCTION"), 5 * US);
	assert_int_equal(part(p, n, IF_VMM, "io 0x3f8"), 8 * US);
	assert_int_equal(part(p, n, IF_EXIT, "HLT"), 1 * US);
	assert_int_equal(part(p, n, IF_HALT_POLL, NULL), 4 * US);
}

static void nested_net(void **state)
{
	struct if_part p[16];
	int n;

	feed();
	n = if__explain(&tl, 1, 0, 100 * US, VCPU, p, 16);
	feed_parts(p, n);
	/* biggest first */
	assert_int_equal(p[0].who.kind, IF_THREAD);
	assert_int_equal(p[1].who.kind, IF_SOFTIRQ);

	/* at most 3 parts: the rest is "other" */
	n = if__explain(&tl, 1, 0, 100 * US, VCPU, p, 3);
	assert_int_equal(n, 3);
	assert_int_equal(p[2].who.kind, IF_UNKNOWN);
	assert_int_equal(p[2].ns, 38 * US);
	assert_int_equal(sum(p, n), 100 * US);

	/* a part of it: the softirq's window, irq inside */
	n = if__explain(&tl, 1, 15 * US, 30 * US, VCPU, p, 16);
	assert_int_equal(sum(p, n), 15 * US);
	assert_int_equal(part(p, n, IF_IRQ, NULL), 5 * US);
	assert_int_equal(part(p, n, IF_SOFTIRQ, NULL), 10 * US);
}

/* An NMI inside a hard irq (nmi_handler fires after its handler, in NMI
 * context, over whatever ran): its time comes out of the irq's, and the
 * irq's out of the softirq it interrupted. */
static void nmi_in_irq(void **state)
{
	struct if_part p[8];
	int n;

	if__switch(&tl, 0, 1, HOG, "stress-ng");
	if__softirq(&tl, 10 * US, 1, 1, 1);		/* TIMER */
	if__irq(&tl, 20 * US, 1, 1, 30, "nvme0q1");
	if__nmi(&tl, 26 * US, 1, 3 * US, "perf_event_nmi_handler"); /* 23..26 */
	if__irq(&tl, 30 * US, 1, 0, 30, NULL);
	if__softirq(&tl, 35 * US, 1, 0, 1);
	n = if__explain(&tl, 1, 0, 40 * US, VCPU, p, 8);
	assert_int_equal(sum(p, n), 40 * US);
	assert_int_equal(part(p, n, IF_NMI, NULL), 3 * US);
	assert_int_equal(part(p, n, IF_IRQ, "nvme0q1"), 7 * US);
	assert_int_equal(part(p, n, IF_SOFTIRQ, "TIMER"), 15 * US);
	assert_int_equal(part(p, n, IF_THREAD, "stress-ng"), 15 * US);
}

/* Another vCPU thread's exits on the CPU are that thread holding it. */
static void other_vcpu_is_a_thread(void **state)
{
	struct if_part p[16];
	int n;

	feed();
	n = if__explain(&tl, 1, 70 * US, 100 * US, 12345, p, 16);
	assert_int_equal(sum(p, n), 30 * US);
	assert_int_equal(part(p, n, IF_THREAD, "CPU 0/KVM"), 30 * US);
	assert_int_equal(part(p, n, IF_EXIT, NULL), 0);
}

/* A thread is named by its latest comm: a shell forks (the child is
 * "bash"), the child execs the hog; what held the CPU is the hog, both
 * before and after the exec, as a user knows it. */
static void thread_renamed_by_exec(void **state)
{
	struct if_part p[4];
	int n;

	if__switch(&tl, 0, 1, HOG, "bash");
	if__switch(&tl, 10 * US, 1, 0, "swapper/1");
	if__switch(&tl, 20 * US, 1, HOG, "kvmrt-hog"); /* after its execve */
	if__switch(&tl, 30 * US, 1, 0, "swapper/1");
	n = if__explain(&tl, 1, 0, 30 * US, VCPU, p, 4);
	assert_int_equal(part(p, n, IF_THREAD, "kvmrt-hog"), 20 * US);
	assert_int_equal(part(p, n, IF_THREAD, "bash"), 0);
	if__switch(&tl, 40 * US, 1, HOG, NULL); /* a record without a comm keeps it */
	if__switch(&tl, 50 * US, 1, 0, "swapper/1");
	n = if__explain(&tl, 1, 40 * US, 50 * US, VCPU, p, 4);
	assert_int_equal(part(p, n, IF_THREAD, "kvmrt-hog"), 10 * US);
}

/* Before the recording says who ran: unknown; a CPU never seen: unknown;
 * an exit whose entry came before the recording changes nothing. */
static void unknown_before(void **state)
{
	struct if_part p[4];
	int n;

	if__irq(&tl, 5 * US, 2, 0, 24, NULL); /* its entry is not in the recording */
	if__switch(&tl, 10 * US, 2, HOG, "stress-ng");
	n = if__explain(&tl, 2, 0, 20 * US, VCPU, p, 4);
	assert_int_equal(sum(p, n), 20 * US);
	assert_int_equal(part(p, n, IF_THREAD, NULL), 10 * US);
	assert_int_equal(part(p, n, IF_UNKNOWN, NULL), 10 * US);
	n = if__explain(&tl, 3, 0, 20 * US, VCPU, p, 4);
	assert_int_equal(n, 1);
	assert_int_equal(p[0].who.kind, IF_UNKNOWN);
}

/* An exit lost (a ring buffer overrun, a malformed line): the outer
 * context's exit closes it too, and a switch ends whatever is left. */
static void lost_exits(void **state)
{
	struct if_part p[8];
	int n;

	if__switch(&tl, 0, 1, HOG, "stress-ng");
	if__softirq(&tl, 10 * US, 1, 1, 3);
	if__irq(&tl, 12 * US, 1, 1, 24, "virtio0-input"); /* its exit lost */
	if__softirq(&tl, 20 * US, 1, 0, 3);		   /* closes both */
	if__irq(&tl, 30 * US, 1, 1, 24, "virtio0-input"); /* its exit lost */
	if__switch(&tl, 40 * US, 1, HOG + 1, "cc1");	   /* ends it */
	n = if__explain(&tl, 1, 0, 50 * US, VCPU, p, 8);
	assert_int_equal(sum(p, n), 50 * US);
	assert_int_equal(part(p, n, IF_THREAD, "stress-ng"), 20 * US);
	assert_int_equal(part(p, n, IF_SOFTIRQ, "NET_RX"), 2 * US);
	assert_int_equal(part(p, n, IF_IRQ, "virtio0-input"), 18 * US);
	assert_int_equal(part(p, n, IF_THREAD, "cc1"), 10 * US);
}

/* Past the ring: the oldest time is unknown, the newest exact. */
static void ring_wraps(void **state)
{
	struct if_part p[4];
	__u64 t;
	int n;

	for (t = 0; t < IF_RING + 100; t++)
		if__switch(&tl, t * US, 0, t % 2 ? HOG : HOG + 1, t % 2 ? "a" : "b");
	n = if__explain(&tl, 0, 0, (IF_RING + 100) * US, VCPU, p, 4);
	assert_int_equal(sum(p, n), (IF_RING + 100) * US);
	assert_true(part(p, n, IF_UNKNOWN, NULL) >= 100 * US);
	n = if__explain(&tl, 0, (IF_RING + 90) * US, (IF_RING + 100) * US, VCPU, p, 4);
	assert_int_equal(part(p, n, IF_THREAD, "a"), 5 * US);
	assert_int_equal(part(p, n, IF_THREAD, "b"), 5 * US);
}

/* kvmrt trace -a's path: the BPF programs' records (kvmrt.h REC_IF) for
 * the same 100 us as feed(), through if_feed as kvmrt report's events go,
 * give the same parts; and each stage is explained on its own CPU (the
 * wakeup's, the switch-in's). */
static void live_records(void **state)
{
	static const struct {
		__u64 t;
		__u32 cpu, pid, event;
		__s64 a0, a1, a2;
		const char *name;
	} recs[] = {
		{ 0, 1, 1, IFE_SWITCH, HOG, 0, 0, "stress-ng" },
		{ 5, 0, 42, IFE_WAKING, VCPU, 0, 0, "" },
		{ 10, 1, HOG, IFE_SOFTIRQ_ENTRY, 3, 0, 0, "" },
		{ 20, 1, HOG, IFE_IRQ_ENTRY, 24, 0, 0, "virtio0-input" },
		{ 25, 1, HOG, IFE_IRQ_EXIT, 24, 0, 0, "" },
		{ 40, 1, HOG, IFE_SOFTIRQ_EXIT, 3, 0, 0, "" },
		{ 50, 1, HOG, IFE_VECTOR_ENTRY, 0, 0, 0, "" },
		{ 52, 1, HOG, IFE_VECTOR_EXIT, 0, 0, 0, "" },
		{ 62, 1, HOG, IFE_NMI, 1 * US, 0, 0, "" },
		{ 70, 1, HOG, IFE_SWITCH, VCPU, 0, 0, "CPU 0/KVM" },
		{ 80, 1, VCPU, IFE_VM_EXIT, 0, ISA_VMX, 30, "" },
		{ 81, 1, VCPU, IFE_PIO, 1, 0x3f8, 0, "" },
		{ 85, 1, VCPU, IFE_TO_VMM, 2, 0, 0, "" },
		{ 93, 1, VCPU, IFE_VM_ENTRY, 0, 0, 0, "" },
		{ 95, 1, VCPU, IFE_VM_EXIT, 0, ISA_VMX, 12, "" },
		{ 100, 1, VCPU, IFE_HALT_POLL, 4 * US, 0, 0, "" },
		{ 100, 1, VCPU, IFE_SWITCH, 0, 0, 0, "swapper/1" },
	};
	struct kvmrt_outlier o = { .type = REC_OUTLIER, .tid = VCPU, .cpu = 1, .t_inject = 1 * US,
				   .t_wake = 5 * US, .t_run = 70 * US, .t_deliver = 93 * US,
				   .t_eoi = 100 * US };
	struct outlier_causes oc;
	struct if_feed f;
	struct if_part p[16];
	size_t i;
	int n;

	assert_int_equal(if_feed__init(&f, NULL, NULL), 0);
	assert_int_equal(if_feed__track(&f, VCPU), 0);
	for (i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		struct kvmrt_if_rec r = { .type = REC_IF, .event = recs[i].event, .t = recs[i].t * US,
					  .cpu = recs[i].cpu, .pid = recs[i].pid,
					  .a = { recs[i].a0, recs[i].a1, recs[i].a2 } };

		snprintf(r.name, sizeof(r.name), "%s", recs[i].name);
		assert_int_equal(if_feed__record(&f, &r), 0);
	}
	n = if__explain(&f.tl, 1, 0, 100 * US, VCPU, p, 16);
	feed_parts(p, n);

	/* stages: wake on the waking's CPU 0 (nothing known there: other),
	 * queue [5, 70) on CPU 1 where it was switched in, the rest there */
	causes__explain(&f, &o, &oc);
	assert_int_equal(oc.cpu[ST_WAKE], 0);
	assert_int_equal(oc.cpu[ST_QUEUE], 1);
	assert_int_equal(oc.cpu[ST_DELIVER], 1);
	assert_int_equal(sum(oc.p[ST_QUEUE], oc.n[ST_QUEUE]), 65 * US);
	assert_int_equal(part(oc.p[ST_QUEUE], oc.n[ST_QUEUE], IF_SOFTIRQ, "NET_RX"), 25 * US);
	assert_int_equal(sum(oc.p[ST_DELIVER], oc.n[ST_DELIVER]), 23 * US);
	assert_int_equal(sum(oc.p[ST_HANDLE], oc.n[ST_HANDLE]), 7 * US);
	if_feed__free(&f);
}

/* -a's records come only while a CPU is watched: in the gap before, the
 * vCPU's entry, its halt and the hog's switch-in went unsent. A watch
 * starting (IFE_WATCH) makes what was known of the CPU old: the task the
 * first record names counts from the watch's start, the vCPU's exit seen
 * before the gap is over. A vCPU thread woken from an unwatched CPU says
 * nothing of who runs there. */
static void live_gap(void **state)
{
	struct kvmrt_if_rec r[] = {
		{ .event = IFE_SWITCH, .t = 0, .cpu = 1, .pid = 1, .a = { VCPU } },
		{ .event = IFE_VM_EXIT, .t = 10 * US, .cpu = 1, .pid = VCPU, .a = { 0, ISA_VMX, 56 } },
		/* its episode ended: CPU 1 unwatched, nothing sent until... */
		{ .event = IFE_WAKING, .t = 900 * US, .cpu = 0, .pid = 99, .a = { VCPU } },
		{ .event = IFE_WATCH, .t = 1000 * US, .cpu = 1 },
		{ .event = IFE_SWITCH, .t = 1500 * US, .cpu = 1, .pid = HOG, .a = { VCPU } },
	};
	struct if_feed f;
	struct if_part p[8];
	size_t i;
	int n;

	assert_int_equal(if_feed__init(&f, NULL, NULL), 0);
	assert_int_equal(if_feed__track(&f, VCPU), 0);
	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		r[i].type = REC_IF;
		if (r[i].event == IFE_SWITCH)
			snprintf(r[i].name, sizeof(r[i].name), "%s", r[i].a[0] == VCPU ? "CPU 0/KVM" : "x");
		assert_int_equal(if_feed__record(&f, &r[i]), 0);
	}
	n = if__explain(&f.tl, 1, 1000 * US, 1500 * US, VCPU, p, 8);
	assert_int_equal(sum(p, n), 500 * US);
	assert_int_equal(part(p, n, IF_THREAD, NULL), 500 * US);
	assert_int_equal(p[0].who.id, HOG);
	assert_int_equal(part(p, n, IF_EXIT, NULL), 0);
	/* after its switch-in, the vCPU runs its own code, not the old exit */
	n = if__explain(&f.tl, 1, 1500 * US, 1600 * US, VCPU, p, 8);
	assert_int_equal(part(p, n, IF_VCPU, NULL), 100 * US);
	/* the waker's CPU: never watched, nothing known */
	n = if__explain(&f.tl, 0, 800 * US, 1000 * US, VCPU, p, 8);
	assert_int_equal(part(p, n, IF_UNKNOWN, NULL), 200 * US);
	if_feed__free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(nested_net, setup, teardown),
		cmocka_unit_test_setup_teardown(nmi_in_irq, setup, teardown),
		cmocka_unit_test_setup_teardown(other_vcpu_is_a_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_before, setup, teardown),
		cmocka_unit_test_setup_teardown(thread_renamed_by_exec, setup, teardown),
		cmocka_unit_test_setup_teardown(lost_exits, setup, teardown),
		cmocka_unit_test_setup_teardown(ring_wraps, setup, teardown),
		cmocka_unit_test(live_records),
		cmocka_unit_test(live_gap),
	};

	return cmocka_run_group_tests_name("interference", tests, NULL, NULL);
}
