// SPDX-License-Identifier: GPL-2.0
/*
 * The BPF programs themselves, loaded for real and driven through
 * BPF_PROG_TEST_RUN with argument arrays in the kernel's event order,
 * including the VMX and SVM events this host never emits. Nothing is
 * attached, so only these runs touch the maps. Needs root.
 *
 * The test thread plays the vCPU thread (events that find their vCPU by
 * the current thread) and the VMM thread (injections); sched_* events take
 * a task pointer we cannot forge, so tid 0 (what a failed read of one
 * yields) is mapped to the same vCPU.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "collector.h"
#include "episode.h"
#include "kvmrt.skel.h"
#include "loader.h"
#include "names.h"

static struct loader l;
static struct collector c;
static int nrecords;
static __u32 rec_vectors[16];

static void on_rec(struct collector *col, const struct kvmrt_outlier *r, void *ctx)
{
	if (nrecords < 16)
		rec_vectors[nrecords] = r->vector;
	nrecords++;
}

/* Program fd run once with nargs arguments, on cpu (-1: this thread's) */
static void test_run(int fd, int cpu, int nargs, va_list ap)
{
	__u64 args[8] = { 0 };
	int i;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = nargs * 8,
		    .flags = cpu < 0 ? 0 : BPF_F_TEST_RUN_ON_CPU, .cpu = cpu < 0 ? 0 : cpu);

	assert_true(fd >= 0);
	for (i = 0; i < nargs; i++)
		args[i] = va_arg(ap, __u64);
	assert_int_equal(bpf_prog_test_run_opts(fd, &opts), 0);
	assert_int_equal(opts.retval, 0);
}

static void run(int prog, int nargs, ...)
{
	va_list ap;

	va_start(ap, nargs);
	test_run(loader__prog_fd(&l, prog), -1, nargs, ap);
	va_end(ap);
}

#define BOGUS 0x10ULL /* a pointer that every probe read rejects */

/* This thread (and tid 0, the BOGUS task's) is vCPU 0 of this process. */
static void seed(void)
{
	struct kvmrt_thread ti = { .vk = { .tgid = (__u32)getpid(), .vcpu = 0 } };
	__u32 tid = (__u32)syscall(SYS_gettid), zero = 0, one = 1, pid = (__u32)getpid();

	bpf_map_update_elem(bpf_map__fd(l.skel->maps.threads), &tid, &ti, BPF_ANY);
	bpf_map_update_elem(bpf_map__fd(l.skel->maps.threads), &zero, &ti, BPF_ANY);
	bpf_map_update_elem(bpf_map__fd(l.skel->maps.vms), &pid, &one, BPF_ANY);
}

static int setup(void **state)
{
	/* control records on: they go only to vCPUs in rt_vcpus (none until
	 * control_wakeups puts ours there) */
	struct loader_opts o = { .threshold_ns = 1, .force_raw = 1, .no_attach = 1, .control = 1 };

	if (geteuid() != 0) {
		fprintf(stderr, "test_bpf: needs root\n");
		return -1;
	}
	if (loader__open_load_attach(&l, &o))
		return -1;
	if (collector__init(&c, &l, on_rec, NULL))
		return -1;
	seed();
	return 0;
}

/* Each test starts from nothing, whatever ran before it: no records
 * waiting, no vCPU state, exits or per-CPU notes; only the seed. */
static int fresh(void **state)
{
	struct bpf_map *cm = l.skel->maps.cpu_ctxs;
	size_t sz = ((bpf_map__value_size(cm) + 7) & ~7UL) * libbpf_num_possible_cpus();
	void *zeros = calloc(1, sz);
	__u32 zero = 0;

	if (!zeros)
		return -1;
	collector__on_ctl(&c, NULL);
	collector__poll(&c, 0);
	collector__forget(&c, (__u32)getpid());
	bpf_map_update_elem(bpf_map__fd(cm), &zero, zeros, BPF_ANY);
	free(zeros);
	seed();
	nrecords = 0;
	return 0;
}

/* The outlier records the last events gave: as many as n, these vectors. */
static void records_are(int n, const __u32 *vectors)
{
	int i;

	nrecords = 0;
	collector__poll(&c, 0);
	assert_int_equal(nrecords, n);
	for (i = 0; i < n && i < 16; i++)
		assert_int_equal(rec_vectors[i], vectors[i]);
}

static int teardown(void **state)
{
	collector__destroy(&c);
	loader__destroy(&l);
	return 0;
}

static struct vcpu_stats *vcpu0(struct snapshot *s)
{
	struct vm_stats *vm = snapshot__vm(s, (__u32)getpid());

	assert_non_null(vm);
	assert_non_null(snapshot__vcpu(vm, 0));
	return snapshot__vcpu(vm, 0);
}

/* vCPU 0's counters now; zeros if it has none yet. */
static struct kvmrt_counters counters0(void)
{
	struct kvmrt_counters k = { 0 };
	struct snapshot s;
	struct vm_stats *vm;

	collector__snapshot(&c, &s);
	vm = snapshot__vm(&s, (__u32)getpid());
	if (vm && snapshot__vcpu(vm, 0))
		k = snapshot__vcpu(vm, 0)->c;
	snapshot__free(&s);
	return k;
}

static __u64 exits_of(struct vcpu_stats *v, __u32 isa)
{
	__u64 n = 0;
	int i;

	for (i = 0; i < v->nexits; i++)
		if (v->exits[i].isa == isa)
			n += v->exits[i].count;
	return n;
}

/* An MSI as KVM_SIGNAL_MSI makes it: the source, then the LAPIC's accept */
static void inject_msi(__u64 vector)
{
	run(P_KVM_MSI_SET_IRQ, 2, 0xfee00000ULL, vector);
	run(P_KVM_APIC_ACCEPT_IRQ, 4, 0ULL, 0ULL, 0ULL, vector);
}

/* VMX host, halted vCPU, MSI from the VMM thread. */
static void vmx_msi_halted(void **state)
{
	struct snapshot s;
	struct vcpu_stats *v;

	inject_msi(0x40ULL);
	run(P_SCHED_WAKING, 1, BOGUS);
	run(P_SCHED_SWITCH, 3, 0ULL, BOGUS, BOGUS);
	run(P_KVM_INJ_VIRQ, 3, 0x40ULL, 0ULL, 0ULL);
	run(P_KVM_ENTRY, 1, BOGUS);
	run(P_KVM_EXIT, 2, BOGUS, (__u64)ISA_VMX);
	run(P_KVM_ENTRY, 1, BOGUS);
	run(P_KVM_EOI, 2, BOGUS, 0x40ULL);

	collector__snapshot(&c, &s);
	v = vcpu0(&s);
	assert_int_equal(v->c.injected[SRC_MSI], 1);
	assert_int_equal(v->c.completed, 1);
	assert_int_equal(v->h[M_DELIVERY].count, 1);
	assert_int_equal(v->h[M_RESPONSE].count, 1);
	assert_int_equal(v->h[M_ST_WAKE].count, 1);
	assert_int_equal(v->h[M_ST_QUEUE].count, 1);
	assert_int_equal(v->h[M_ST_DELIVER].count, 1);
	assert_int_equal(v->h[M_ST_HANDLE].count, 1);
	assert_int_equal(v->h[M_VCPU_WAIT].count, 1);
	/* one exit counted at the entry after it: the first entry had none */
	assert_int_equal(exits_of(v, ISA_VMX), 1);
	assert_int_equal(v->h[M_EXIT].count, 1);
	/* stages add up to the response */
	assert_int_equal(v->h[M_ST_WAKE].sum + v->h[M_ST_QUEUE].sum + v->h[M_ST_DELIVER].sum +
				 v->h[M_ST_HANDLE].sum,
			 v->h[M_RESPONSE].sum);
	snapshot__free(&s);
	records_are(1, (const __u32[]){ 0x40 });
}

/* VMX, vCPU in the guest: the vector is accepted again while the guest
 * handles it (in service), and once more before that one is delivered
 * (coalesced in the IRR). Two episodes, each ended by its own EOI, the
 * second delivered only after the first's (vmx_inject_irq after
 * apic_set_eoi's KVM_REQ_EVENT). */
static void vmx_accept_in_service(void **state)
{
	struct snapshot s;
	struct vcpu_stats *v;

	run(P_KVM_ENTRY, 1, BOGUS);
	inject_msi(0x43ULL);
	run(P_KVM_EXIT, 2, BOGUS, (__u64)ISA_VMX);
	run(P_KVM_INJ_VIRQ, 3, 0x43ULL, 0ULL, 0ULL);
	run(P_KVM_ENTRY, 1, BOGUS);
	inject_msi(0x43ULL);
	run(P_KVM_EXIT, 2, BOGUS, (__u64)ISA_VMX);
	run(P_KVM_ENTRY, 1, BOGUS);
	inject_msi(0x43ULL);
	run(P_KVM_EXIT, 2, BOGUS, (__u64)ISA_VMX);
	run(P_KVM_EOI, 2, BOGUS, 0x43ULL);
	run(P_KVM_INJ_VIRQ, 3, 0x43ULL, 0ULL, 0ULL);
	run(P_KVM_ENTRY, 1, BOGUS);
	run(P_KVM_EXIT, 2, BOGUS, (__u64)ISA_VMX);
	run(P_KVM_EOI, 2, BOGUS, 0x43ULL);
	run(P_KVM_ENTRY, 1, BOGUS);

	collector__snapshot(&c, &s);
	v = vcpu0(&s);
	assert_int_equal(v->c.injected[SRC_MSI], 3);
	assert_int_equal(v->c.coalesced, 1);
	assert_int_equal(v->c.completed, 2);
	assert_int_equal(v->h[M_DELIVERY].count, 2);
	assert_int_equal(v->h[M_RESPONSE].count, 2);
	snapshot__free(&s);
	records_are(2, (const __u32[]){ 0x43, 0x43 });
}

/* An EOI with an empty ISR (vector -1) ends nothing, not even a pending
 * episode of vector 0xff. */
static void eoi_without_isr(void **state)
{
	__u64 done = counters0().completed;

	inject_msi(0xffULL);
	run(P_KVM_EOI, 2, BOGUS, ~0ULL);
	assert_int_equal(counters0().completed, done);
	run(P_KVM_EOI, 2, BOGUS, 0xffULL);
	assert_int_equal(counters0().completed, done + 1);

	/* yet a thread not known is learned from one (on this host the PIC's
	 * deliveries give nothing else): forget ours, and every CPU's note of
	 * the last thread known, and it is learned again */
	{
		int tfd = bpf_map__fd(l.skel->maps.threads);
		struct bpf_map *cm = l.skel->maps.cpu_ctxs;
		size_t sz = ((bpf_map__value_size(cm) + 7) & ~7UL) * libbpf_num_possible_cpus();
		void *zeros = calloc(1, sz);
		__u32 tid = (__u32)syscall(SYS_gettid), zero = 0;
		struct kvmrt_thread ti;

		assert_non_null(zeros);
		assert_int_equal(bpf_map_update_elem(bpf_map__fd(cm), &zero, zeros, BPF_ANY), 0);
		free(zeros);
		assert_int_equal(bpf_map_delete_elem(tfd, &tid), 0);
		run(P_KVM_EOI, 2, BOGUS, ~0ULL);
		assert_int_equal(bpf_map_lookup_elem(tfd, &tid, &ti), 0);
		assert_int_equal(ti.vk.tgid, (__u32)getpid());
	}
}

/* SVM host, vCPU running in the guest, IOAPIC pin from the VMM. */
static void svm_ioapic_running(void **state)
{
	struct snapshot s;
	struct vcpu_stats *v;

	run(P_KVM_SET_IRQ, 3, 10ULL, 1ULL, 0ULL);
	run(P_KVM_IOAPIC_SET_IRQ, 3, 0ULL, 10ULL, 0ULL);
	run(P_KVM_APIC_ACCEPT_IRQ, 4, 0ULL, 0ULL, 0x8000ULL, 0x41ULL);
	run(P_KVM_EXIT, 2, BOGUS, (__u64)ISA_SVM);
	run(P_KVM_INJ_VIRQ, 3, 0x41ULL, 0ULL, 0ULL);
	run(P_KVM_ENTRY, 1, BOGUS);
	run(P_KVM_EOI, 2, BOGUS, 0x41ULL);

	collector__snapshot(&c, &s);
	v = vcpu0(&s);
	assert_int_equal(v->c.injected[SRC_IOAPIC], 1);
	assert_int_equal(v->c.completed, 1);
	assert_int_equal(v->h[M_RESPONSE].count, 1);
	assert_int_equal(v->h[M_DELIVERY].count, 1);
	assert_int_equal(v->h[M_ST_WAKE].count, 0); /* running: no wake */
	assert_int_equal(exits_of(v, ISA_SVM), 1);
	snapshot__free(&s);
	records_are(1, (const __u32[]){ 0x41 });
}

/* VMX with APICv, the BPF programs themselves: kvm_entry puts the vCPU in
 * the guest, an MSI is posted (kvm_apic_accept_irq, then
 * kvm_apicv_accept_irq from vmx_deliver_interrupt): delivered there, at no
 * time, and counted; a Linux guest's PV EOI (kvm_eoi, then kvm_pv_eoi from
 * apic_sync_pv_eoi_from_guest at its next exit) ends it as a PV EOI. Then
 * one posted while it is out of the guest is delivered at its kvm_entry. */
static void apicv_posted_pv_eoi(void **state)
{
	struct snapshot a, b, d;
	struct vcpu_stats *v;

	collector__snapshot(&c, &a);
	run(P_KVM_ENTRY, 1, BOGUS);
	run(P_KVM_MSI_SET_IRQ, 2, 0xfee00000ULL, 0x51ULL);
	run(P_KVM_APIC_ACCEPT_IRQ, 4, 0ULL, 0ULL, 0ULL, 0x51ULL);
	run(P_KVM_APICV_ACCEPT_IRQ, 4, 0ULL, 0ULL, 0ULL, 0x51ULL);
	run(P_KVM_EXIT, 2, BOGUS, (__u64)ISA_VMX);
	run(P_KVM_EOI, 2, BOGUS, 0x51ULL);
	run(P_KVM_PV_EOI, 2, BOGUS, 0x51ULL);
	/* out of the guest now: posted, delivered at the next entry */
	run(P_KVM_MSI_SET_IRQ, 2, 0xfee00000ULL, 0x52ULL);
	run(P_KVM_APIC_ACCEPT_IRQ, 4, 0ULL, 0ULL, 0ULL, 0x52ULL);
	run(P_KVM_APICV_ACCEPT_IRQ, 4, 0ULL, 0ULL, 0ULL, 0x52ULL);
	run(P_KVM_ENTRY, 1, BOGUS);
	run(P_KVM_EXIT, 2, BOGUS, (__u64)ISA_VMX);
	run(P_KVM_EOI, 2, BOGUS, 0x52ULL);
	collector__snapshot(&c, &b);
	assert_int_equal(snapshot__diff(&a, &b, &d), 0);
	/* an EOI at an exit is counted by kind at the entry: a PV EOI found
	 * at the same exit could still rename it */
	assert_int_equal(vcpu0(&d)->c.completed, 2);
	assert_int_equal(vcpu0(&d)->c.ends[END_EOI], 0);
	snapshot__free(&b);
	snapshot__free(&d);
	run(P_KVM_ENTRY, 1, BOGUS);
	collector__snapshot(&c, &b);
	assert_int_equal(snapshot__diff(&a, &b, &d), 0);
	v = vcpu0(&d);
	assert_int_equal(v->c.injected[SRC_MSI], 2);
	assert_int_equal(v->c.posted_in_guest, 1);
	assert_int_equal(v->c.completed, 2);
	assert_int_equal(v->c.ends[END_PV_EOI], 1);
	assert_int_equal(v->c.ends[END_EOI], 1);
	assert_int_equal(v->h[M_DELIVERY].count, 1); /* only the one out of the guest */
	collector__poll(&c, 0); /* its outlier records, out of the next tests' way */
	snapshot__free(&a);
	snapshot__free(&b);
	snapshot__free(&d);
}

/* Every program passes the verifier with every option the front ends set
 * (outliers, control's records, the hint port, -a: each keeps code alive that
 * the others let the verifier prune), in both flavours. A branch too many
 * in the inlined end paths once put kvm_pio over the verifier's limit with
 * --hint-port only. */
static void loads_with_every_option(void **state)
{
	int raw;

	for (raw = 0; raw < 4; raw++) { /* each flavour, with and without -a */
		struct loader_opts o = { .threshold_ns = 1, .force_raw = raw & 1, .no_attach = 1,
					 .control = 1, .hint_port = 0x7c2, .analyze = raw >> 1 };
		struct loader l2 = { 0 };
		struct bpf_program *prog;

		assert_int_equal(loader__open_load_attach(&l2, &o), 0);
		/* half the verifier's limit (1M) at most: kvm_pio once took 443k */
		bpf_object__for_each_program(prog, l2.skel->obj) {
			struct bpf_prog_info info;
			__u32 len = sizeof(info);

			if (bpf_program__fd(prog) < 0)
				continue;
			memset(&info, 0, sizeof(info));
			assert_int_equal(bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len), 0);
			if (info.verified_insns > 500000)
				fail_msg("%s: the verifier processed %u instructions", bpf_program__name(prog),
					 info.verified_insns);
		}
		loader__destroy(&l2);
	}
}

/* Legacy PIC: rising edge on an unmasked pin opens an episode; masked pins
 * and falling edges do not; the PIC's ack ends it. */
static void pic_edges(void **state)
{
	struct snapshot s;
	struct vcpu_stats *v;

	run(P_KVM_SET_IRQ, 3, 3ULL, 1ULL, 0ULL);
	run(P_KVM_PIC_SET_IRQ, 5, 0ULL, 3ULL, 0ULL, 0ULL, 0ULL);
	run(P_KVM_SET_IRQ, 3, 4ULL, 1ULL, 0ULL);
	run(P_KVM_PIC_SET_IRQ, 5, 0ULL, 4ULL, 0ULL, 0x10ULL, 0ULL); /* masked */
	run(P_KVM_SET_IRQ, 3, 3ULL, 0ULL, 0ULL);
	run(P_KVM_PIC_SET_IRQ, 5, 0ULL, 3ULL, 0ULL, 0ULL, 0ULL); /* falling */
	run(P_KVM_INJ_VIRQ, 3, 0x23ULL, 0ULL, 0ULL);
	run(P_KVM_ACK_IRQ, 2, 0ULL, 3ULL);
	run(P_KVM_ACK_IRQ, 2, 2ULL, 3ULL); /* IOAPIC ack: ends at kvm_eoi instead */

	collector__snapshot(&c, &s);
	v = vcpu0(&s);
	assert_int_equal(v->c.injected[SRC_PIC], 1);
	assert_int_equal(v->c.completed, 1);
	assert_int_equal(v->h[M_DELIVERY].count, 1);
	snapshot__free(&s);
	records_are(1, (const __u32[]){ KVMRT_PIC_VECTOR_BASE + 3 });
}

/* NMIs have no EOI and open nothing. Where delivery is not seen (an
 * emulating host), a vector accepted again before its end is undecided:
 * an EOI of it with nothing open (kvm_eoi names a vector only from the
 * ISR) says it was an interrupt of its own; a third accept with two open
 * is coalesced. Every end above the threshold is one record. */
static void nmi_coalesce_outliers(void **state)
{
	struct snapshot s;
	struct vcpu_stats *v;

	run(P_KVM_APIC_ACCEPT_IRQ, 4, 0ULL, 0x400ULL, 0ULL, 2ULL);
	run(P_KVM_APIC_ACCEPT_IRQ, 4, 0ULL, 0ULL, 0ULL, 0x42ULL);
	run(P_KVM_APIC_ACCEPT_IRQ, 4, 0ULL, 0ULL, 0ULL, 0x42ULL); /* undecided */
	run(P_KVM_APIC_ACCEPT_IRQ, 4, 0ULL, 0ULL, 0ULL, 0x42ULL); /* coalesced */
	run(P_KVM_EOI, 2, BOGUS, 0x42ULL);
	run(P_KVM_EOI, 2, BOGUS, 0x42ULL); /* the undecided one's */
	run(P_KVM_EOI, 2, BOGUS, 0x42ULL); /* nothing pending any more */

	collector__snapshot(&c, &s);
	v = vcpu0(&s);
	assert_int_equal(v->c.injected[SRC_OTHER] + v->c.injected[SRC_TIMER], 3);
	assert_int_equal(v->c.coalesced, 1);
	assert_int_equal(v->c.completed, 2);
	assert_int_equal(v->h[M_RESPONSE].count, 2);
	snapshot__free(&s);
	records_are(2, (const __u32[]){ 0x42, 0x42 });
}

static int nctl;
static __u32 ctl_types[8], ctl_values[8];

static void on_ctl_rec(struct collector *col, const struct kvmrt_ctl_rec *r, void *ctx)
{
	if (nctl < 8) {
		ctl_types[nctl] = r->type;
		ctl_values[nctl] = r->value;
	}
	nctl++;
}

/* Would the controller, asleep in epoll, have been woken? */
static int woken(int timeout_ms)
{
	struct epoll_event ev;

	return epoll_wait(ring_buffer__epoll_fd(c.rb), &ev, 1, timeout_ms);
}

static int drain(void)
{
	nctl = 0;
	ring_buffer__consume(c.rb); /* what epoll did not announce too */
	return nctl;
}

/* kvmrt control's records: every one sent, only the urgent ones wake it
 * (ctl_urgent): an injection for a vCPU not at FIFO does, its EOI does not,
 * nothing for a vCPU at FIFO does, nor an injection once --slo has turned
 * work boosts off. */
static void control_wakeups(void **state)
{
	struct kvmrt_vcpu_key k = { .tgid = (__u32)getpid(), .vcpu = 0 };
	int fd = bpf_map__fd(l.skel->maps.rt_vcpus);
	__u32 val = RT_VCPU_MANAGED;

	collector__on_ctl(&c, on_ctl_rec);
	drain();
	woken(0);
	assert_int_equal(bpf_map_update_elem(fd, &k, &val, BPF_ANY), 0);

	inject_msi(0x50ULL);
	assert_int_equal(woken(200), 1);
	assert_int_equal(drain(), 1);
	assert_int_equal(ctl_types[0], REC_CTL_INJECT);
	woken(0); /* level-triggered: one more look finds it empty */
	run(P_KVM_EOI, 2, BOGUS, 0x50ULL);
	assert_int_equal(woken(50), 0);
	assert_int_equal(drain(), 1);
	assert_int_equal(ctl_types[0], REC_CTL_EOI);

	val = RT_VCPU_BOOSTED;
	assert_int_equal(bpf_map_update_elem(fd, &k, &val, BPF_EXIST), 0);
	inject_msi(0x51ULL);
	run(P_KVM_EOI, 2, BOGUS, 0x51ULL);
	assert_int_equal(woken(50), 0);
	assert_int_equal(drain(), 2);
	assert_int_equal(ctl_types[0], REC_CTL_INJECT);
	assert_int_equal(ctl_types[1], REC_CTL_EOI);

	/* --slo turned work boosts off: the injection is sent, and wakes no one */
	val = RT_VCPU_MANAGED | RT_VCPU_WORK_OFF;
	assert_int_equal(bpf_map_update_elem(fd, &k, &val, BPF_EXIST), 0);
	inject_msi(0x52ULL);
	assert_int_equal(woken(50), 0);
	assert_int_equal(drain(), 1);
	assert_int_equal(ctl_types[0], REC_CTL_INJECT);
	run(P_KVM_EOI, 2, BOGUS, 0x52ULL);
	drain();

	/* APICv: a posted interrupt is handed over at its delivery, the next
	 * entry (REC_CTL_POSTED, which wakes no one: a grace follows); its
	 * end, when the host sees one, says control had it already */
	val = RT_VCPU_MANAGED;
	assert_int_equal(bpf_map_update_elem(fd, &k, &val, BPF_EXIST), 0);
	run(P_KVM_EXIT, 2, BOGUS, (__u64)ISA_VMX); /* out of the guest */
	inject_msi(0x53ULL);
	run(P_KVM_APICV_ACCEPT_IRQ, 4, 0ULL, 0ULL, 0ULL, 0x53ULL);
	assert_int_equal(woken(200), 1);
	assert_int_equal(drain(), 1);
	assert_int_equal(ctl_types[0], REC_CTL_INJECT);
	woken(0);
	run(P_KVM_ENTRY, 1, BOGUS);
	assert_int_equal(woken(50), 0);
	assert_int_equal(drain(), 1);
	assert_int_equal(ctl_types[0], REC_CTL_POSTED);
	run(P_KVM_EXIT, 2, BOGUS, (__u64)ISA_VMX);
	run(P_KVM_EOI, 2, BOGUS, 0x53ULL); /* level-triggered: its EOI exits */
	run(P_KVM_ENTRY, 1, BOGUS);
	assert_int_equal(drain(), 1);
	assert_int_equal(ctl_types[0], REC_CTL_EOI);
	assert_int_equal(ctl_values[0], 0x53 | CTL_EOI_HANDED);

	bpf_map_delete_elem(fd, &k);
	collector__on_ctl(&c, NULL);
}

/* Before the agent arms the programs (all attached, maps seeded), an
 * injection is not counted: no episode is seen in part. */
static void not_armed(void **state)
{
	__u64 n = counters0().injected[SRC_MSI];

	l.skel->bss->armed = 0;
	inject_msi(0x60ULL);
	l.skel->bss->armed = 1;
	run(P_KVM_EOI, 2, BOGUS, 0x60ULL);
	assert_int_equal(counters0().injected[SRC_MSI], n);
	inject_msi(0x60ULL);
	run(P_KVM_EOI, 2, BOGUS, 0x60ULL);
	assert_int_equal(counters0().injected[SRC_MSI], n + 1);
}

/* -a: a BPF object of its own, loaded with the analysis on */
static struct loader la;
static struct collector ca;
static struct kvmrt_if_rec ifs[32];
static int nifs;
static struct kvmrt_outlier last_outlier;
static int noutliers_a;

static void on_if_rec(struct collector *col, const struct kvmrt_if_rec *r, void *ctx)
{
	if (nifs < 32)
		ifs[nifs] = *r;
	nifs++;
}

static void on_outlier_a(struct collector *col, const struct kvmrt_outlier *r, void *ctx)
{
	last_outlier = *r;
	noutliers_a++;
}

/* Program fd (a tracepoint's, or -a's with analysis set) run on cpu: on
 * another than the test thread's (pinned to CPU 0), in an IPI, over
 * whatever task runs there: only for events that do not ask for theirs. */
static void run_on(int fd, int cpu, int nargs, ...)
{
	va_list ap;

	va_start(ap, nargs);
	test_run(fd, cpu, nargs, ap);
	va_end(ap);
}

#define P(prog) loader__prog_fd(&la, prog)
#define A(prog) loader__aprog_fd(&la, prog)

static __u64 watched(struct loader *ld, __u32 cpu)
{
	__u64 w = 0;

	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(ld->skel->maps.watch), &cpu, &w), 0);
	return w;
}

/* The records -a sent since the last call, by event */
static int ifs_now(void)
{
	nifs = 0;
	collector__poll(&ca, 0);
	return nifs;
}

/* -a (kvmrt trace -a), the programs themselves: a vCPU's CPU is watched
 * from the injection of an interrupt (its thread last switched in there)
 * to its end; what runs on a watched CPU (a hard irq, a softirq, an x86
 * vector, an NMI, a switch) is one record each, on another CPU nothing;
 * a switch-in elsewhere moves the watch; the wakeup's and switch-in's
 * records carry the times the outlier's stages have. Without -a the same
 * events watch nothing. */
static void analysis_watch(void **state)
{
	struct loader_opts o = { .threshold_ns = 1, .force_raw = 1, .no_attach = 1, .analyze = 1 };
	struct kvmrt_thread ti = { .vk = { .tgid = (__u32)getpid(), .vcpu = 0 } };
	__u32 tid = (__u32)syscall(SYS_gettid), zero = 0, one = 1, pid = (__u32)getpid();
	int i;

	cpu_set_t cpu0, before;

	if (libbpf_num_possible_cpus() < 2 || sched_getaffinity(0, sizeof(before), &before))
		skip();
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	assert_int_equal(sched_setaffinity(0, sizeof(cpu0), &cpu0), 0);
	assert_int_equal(loader__open_load_attach(&la, &o), 0);
	assert_int_equal(collector__init(&ca, &la, on_outlier_a, NULL), 0);
	collector__on_if(&ca, on_if_rec);
	bpf_map_update_elem(bpf_map__fd(la.skel->maps.threads), &tid, &ti, BPF_ANY);
	bpf_map_update_elem(bpf_map__fd(la.skel->maps.threads), &zero, &ti, BPF_ANY);
	bpf_map_update_elem(bpf_map__fd(la.skel->maps.vms), &pid, &one, BPF_ANY);
	la.skel->bss->armed = 1;
	for (i = 0; i < A_NR; i++) /* every one this kernel has is loaded */
		if (strcmp(aprog_tp_system(i), "irq_vectors") || la.aflavour[i] != FLAVOUR_NONE)
			assert_true(A(i) >= 0);

	/* the vCPU runs on CPU 1, nothing in flight: nothing watched, sent */
	run_on(P(P_SCHED_SWITCH), 1, 3, 0ULL, BOGUS, BOGUS);
	ifs_now();
	run_on(A(A_IRQ_HANDLER_ENTRY), 1, 2, 24ULL, BOGUS);
	assert_int_equal(watched(&la, 1), 0);
	assert_int_equal(ifs_now(), 0);

	/* an MSI for it, from CPU 0: CPU 1 watched, only CPU 1 reported */
	run_on(P(P_KVM_MSI_SET_IRQ), 0, 2, 0xfee00000ULL, 0x40ULL);
	run_on(P(P_KVM_APIC_ACCEPT_IRQ), 0, 4, 0ULL, 0ULL, 0ULL, 0x40ULL);
	assert_int_equal(watched(&la, 1), 1);
	assert_int_equal(watched(&la, 0), 0);
	run_on(A(A_IRQ_HANDLER_ENTRY), 1, 2, 24ULL, BOGUS);
	run_on(A(A_SOFTIRQ_ENTRY), 1, 1, 3ULL);
	run_on(A(A_SOFTIRQ_EXIT), 1, 1, 3ULL);
	run_on(A(A_IRQ_HANDLER_EXIT), 1, 3, 24ULL, BOGUS, 1ULL);
	run_on(A(A_NMI_HANDLER), 1, 3, 0x1234ULL, 5000ULL, 1ULL);
	run_on(A(A_VEC_local_timer_entry), 1, 1, 0xecULL);
	run_on(A(A_VEC_local_timer_exit), 1, 1, 0xecULL);
	run_on(A(A_IRQ_HANDLER_ENTRY), 0, 2, 25ULL, BOGUS); /* not watched */
	run_on(A(A_SOFTIRQ_ENTRY), 0, 1, 3ULL);
	assert_int_equal(ifs_now(), 8);
	assert_int_equal(ifs[0].event, IFE_WATCH); /* CPU 1 from now: what was known is old */
	assert_int_equal(ifs[0].cpu, 1);
	assert_int_equal(ifs[1].event, IFE_IRQ_ENTRY);
	assert_int_equal(ifs[1].a[0], 24);
	assert_int_equal(ifs[1].cpu, 1);
	assert_int_equal(ifs[2].event, IFE_SOFTIRQ_ENTRY);
	assert_int_equal(ifs[2].a[0], 3);
	assert_int_equal(ifs[3].event, IFE_SOFTIRQ_EXIT);
	assert_int_equal(ifs[4].event, IFE_IRQ_EXIT);
	assert_int_equal(ifs[5].event, IFE_NMI);
	assert_int_equal(ifs[5].a[0], 5000);
	assert_int_equal(ifs[5].a[1], 0x1234);
	assert_int_equal(ifs[6].event, IFE_VECTOR_ENTRY);
	assert_int_equal(ifs[6].a[0], 0); /* local_timer, the first of KVMRT_VECTORS */
	assert_int_equal(ifs[7].event, IFE_VECTOR_EXIT);
	for (i = 1; i < 8; i++)
		assert_true(ifs[i].t >= ifs[i - 1].t);

	/* its end, in its own context: nothing watched any more */
	run_on(P(P_KVM_EOI), 0, 2, BOGUS, 0x40ULL);
	assert_int_equal(watched(&la, 1), 0);
	run_on(A(A_IRQ_HANDLER_ENTRY), 1, 2, 24ULL, BOGUS);
	assert_int_equal(ifs_now(), 0);

	/* the vCPU's own events (that EOI) ran on CPU 0: that is where it is
	 * now, switched in or not (a vCPU alone on its CPU may never be) */
	run_on(P(P_KVM_MSI_SET_IRQ), 0, 2, 0xfee00000ULL, 0x42ULL);
	run_on(P(P_KVM_APIC_ACCEPT_IRQ), 0, 4, 0ULL, 0ULL, 0ULL, 0x42ULL);
	assert_int_equal(watched(&la, 0), 1);
	assert_int_equal(watched(&la, 1), 0);
	run_on(P(P_KVM_EOI), 0, 2, BOGUS, 0x42ULL);
	assert_int_equal(watched(&la, 0), 0);
	ifs_now();
	run_on(P(P_SCHED_SWITCH), 1, 3, 0ULL, BOGUS, BOGUS); /* back on CPU 1, nothing in flight */
	assert_int_equal(ifs_now(), 0);

	/* in flight, preempted on CPU 1 and back (a switch there, watched:
	 * with no task to forge, prev and next are both the vCPU thread, so
	 * this switch-in is the run stage's, and its record has the outlier's
	 * run time), then switched in on CPU 0: the watch moves there. A woken
	 * vCPU thread is a record wherever the waking is. */
	run_on(P(P_KVM_MSI_SET_IRQ), 0, 2, 0xfee00000ULL, 0x41ULL);
	run_on(P(P_KVM_APIC_ACCEPT_IRQ), 0, 4, 0ULL, 0ULL, 0ULL, 0x41ULL);
	assert_int_equal(watched(&la, 1), 1);
	run_on(P(P_SCHED_SWITCH), 1, 3, 1ULL, BOGUS, BOGUS);
	run_on(P(P_SCHED_WAKING), 1, 1, BOGUS);
	run_on(P(P_SCHED_SWITCH), 0, 3, 0ULL, BOGUS, BOGUS);
	assert_int_equal(watched(&la, 1), 0);
	assert_int_equal(watched(&la, 0), 1);
	noutliers_a = 0;
	run_on(P(P_KVM_EOI), 0, 2, BOGUS, 0x41ULL);
	assert_int_equal(watched(&la, 0), 0);
	/* watch CPU 1, the switch there, waking, watch CPU 0, the switch-in there */
	assert_int_equal(ifs_now(), 5);
	assert_int_equal(noutliers_a, 1);
	assert_int_equal(ifs[0].event, IFE_WATCH);
	assert_int_equal(ifs[0].cpu, 1);
	assert_int_equal(ifs[1].event, IFE_SWITCH);
	assert_int_equal(ifs[1].cpu, 1);
	assert_int_equal(ifs[2].event, IFE_WAKING);
	assert_int_equal(ifs[3].event, IFE_WATCH);
	assert_int_equal(ifs[3].cpu, 0);
	assert_int_equal(ifs[4].event, IFE_SWITCH);
	assert_int_equal(ifs[4].cpu, 0);
	assert_int_equal(ifs[1].t, last_outlier.t_run);
	assert_true(last_outlier.t_run > 0);

	/* a VM forgotten with an interrupt in flight (export after its grace)
	 * gives its CPU's count back */
	run_on(P(P_KVM_MSI_SET_IRQ), 0, 2, 0xfee00000ULL, 0x43ULL);
	run_on(P(P_KVM_APIC_ACCEPT_IRQ), 0, 4, 0ULL, 0ULL, 0ULL, 0x43ULL);
	assert_int_equal(watched(&la, 0), 1);
	collector__forget(&ca, (__u32)getpid());
	assert_int_equal(watched(&la, 0), 0);

	collector__destroy(&ca);
	loader__destroy(&la);
	sched_setaffinity(0, sizeof(before), &before);

	/* without -a: the same injection and switch watch nothing */
	run(P_SCHED_SWITCH, 3, 0ULL, BOGUS, BOGUS);
	inject_msi(0x42ULL);
	for (i = 0; i < libbpf_num_possible_cpus() && i < 64; i++)
		assert_int_equal(watched(&l, (__u32)i), 0);
	run(P_KVM_EOI, 2, BOGUS, 0x42ULL);
	collector__poll(&c, 0);
}

#define TEST(t) cmocka_unit_test_setup(t, fresh)

/* A vCPU the command filters out (collector__ignore, as collector__keep
 * marks it): its exits, entries, injections, ends and scheduling leave its
 * state as the agent wrote it, and send nothing; vCPU 1 of the same VM,
 * kept, counts its injection as before; followed again, it counts afresh.
 * The test thread's entry is marked
 * (exits stop there), tid 0's is not (the scheduler's events here stop at
 * the vCPU's state). */
static void ignored_vcpu(void **state)
{
	struct kvmrt_vcpu_key k0 = { .tgid = (__u32)getpid(), .vcpu = 0 }, k1 = k0;
	int fd = bpf_map__fd(l.skel->maps.vcpus);
	struct kvmrt_vcpu_state *v = calloc(1, sizeof(*v));
	struct kvmrt_exit_key ek, *prev = NULL;
	struct kvmrt_thread ti;
	__u64 exits_before, n = 0;
	struct snapshot s;
	int i;

	assert_non_null(v);
	k1.vcpu = 1;
	run(P_KVM_ENTRY, 1, BOGUS); /* followed until now: an entry, state */
	collector__ignore(&c, k0.tgid, 0, (__u32)syscall(SYS_gettid));
	collector__snapshot(&c, &s);
	exits_before = s.hits[P_KVM_EXIT];
	snapshot__free(&s);
	for (i = 0; i < 3; i++) {
		inject_msi(0x40ULL);
		run(P_SCHED_WAKING, 1, BOGUS);
		run(P_SCHED_SWITCH, 3, 0ULL, BOGUS, BOGUS);
		run(P_KVM_INJ_VIRQ, 3, 0x40ULL, 0ULL, 0ULL);
		run(P_KVM_ENTRY, 1, BOGUS);
		run(P_KVM_EXIT, 2, BOGUS, (__u64)ISA_VMX);
		run(P_KVM_ENTRY, 1, BOGUS);
		run(P_KVM_EXIT, 2, BOGUS, (__u64)ISA_SVM);
		run(P_KVM_EOI, 2, BOGUS, 0x40ULL);
	}
	run(P_KVM_APIC_ACCEPT_IRQ, 4, 1ULL, 0ULL, 0ULL, 0x41ULL); /* to vCPU 1 */

	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(l.skel->maps.threads),
					     &(__u32){ (__u32)syscall(SYS_gettid) }, &ti), 0);
	assert_int_equal(ti.ignored, 1); /* the exits stop at the thread */
	assert_int_equal(bpf_map_lookup_elem(fd, &k0, v), 0);
	assert_int_equal(v->ignored, 1);
	assert_int_equal(v->c.completed, 0);
	for (i = 0; i < SRC_NR; i++)
		assert_int_equal(v->c.injected[i], 0);
	assert_int_equal(v->h[M_EXIT].count, 0);
	assert_int_equal(v->t_exit, 0);
	assert_int_equal(v->ep[0].flags, 0);
	while (bpf_map_get_next_key(bpf_map__fd(l.skel->maps.exits), prev, &ek) == 0) {
		prev = &ek;
		n += ek.vk.tgid == k0.tgid; /* no exit of this VM counted */
	}
	assert_int_equal(n, 0);
	records_are(0, NULL);
	assert_int_equal(bpf_map_lookup_elem(fd, &k1, v), 0);
	assert_int_equal(v->ignored, 0);
	assert_int_equal(v->c.injected[SRC_MSI] + v->c.injected[SRC_OTHER], 1);
	collector__snapshot(&c, &s); /* the programs ran: the exits were seen */
	assert_int_equal(s.hits[P_KVM_EXIT] - exits_before, 6);
	assert_int_equal(collector__vcpu(&c, k0.tgid, 0, &(struct vcpu_stats){ 0 }), -ENOENT);
	snapshot__free(&s);

	/* followed again (its pid now a VM the command shows): counted from
	 * nothing, each interrupt once */
	collector__follow(&c, k0.tgid, 0, (__u32)syscall(SYS_gettid));
	for (i = 0; i < 2; i++) {
		inject_msi(0x40ULL);
		run(P_KVM_INJ_VIRQ, 3, 0x40ULL, 0ULL, 0ULL);
		run(P_KVM_ENTRY, 1, BOGUS);
		run(P_KVM_EXIT, 2, BOGUS, (__u64)ISA_VMX);
		run(P_KVM_EOI, 2, BOGUS, 0x40ULL);
	}
	assert_int_equal(bpf_map_lookup_elem(fd, &k0, v), 0);
	assert_int_equal(v->ignored, 0);
	assert_int_equal(v->c.injected[SRC_MSI], 2);
	assert_int_equal(v->c.completed, 2);
	records_are(2, (const __u32[]){ 0x40, 0x40 });
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(vmx_msi_halted),	     TEST(svm_ioapic_running), TEST(pic_edges),
		TEST(nmi_coalesce_outliers), TEST(loads_with_every_option), TEST(apicv_posted_pv_eoi),
		TEST(control_wakeups),	     TEST(eoi_without_isr),   TEST(not_armed),
		TEST(analysis_watch),	     TEST(vmx_accept_in_service), TEST(ignored_vcpu),
	};
	struct CMUnitTest reversed[sizeof(tests) / sizeof(tests[0])];
	size_t i, n = sizeof(tests) / sizeof(tests[0]);

	/* in order, then backwards: no test depends on the ones before it */
	for (i = 0; i < n; i++)
		reversed[i] = tests[n - 1 - i];
	return cmocka_run_group_tests_name("bpf", tests, setup, teardown) ||
	       cmocka_run_group_tests_name("bpf, backwards", reversed, setup, teardown);
}
