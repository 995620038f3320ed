// SPDX-License-Identifier: GPL-2.0
/*
 * What each of kvmrt's BPF programs costs per event, whether or not this
 * host fires its tracepoint: every program (raw_tp flavour) driven with
 * BPF_PROG_TEST_RUN with its hot path's arguments, as test_bpf.c drives
 * them in the kernel's orders, many thousands of times with the kernel's
 * BPF stats on, next to an empty program run the same way (the floor:
 * dispatch and the stats' clock reads), rounds alternated. VM exits: one
 * kvm_exit plus one kvm_entry, VMX and SVM, for a vCPU thread of a traced
 * VM, and with a hundred other VMs in the maps. Root.
 *
 *   prog-cost [RUNS_PER_ROUND] [ROUNDS]     (default 20000 5)
 *
 * What it cannot say: the tracepoint's own cost on real hardware, nor the
 * kernel reads that succeed there (struct kvm_vcpu, task_struct: a bogus
 * pointer here, so each probe read fails fast, and the vCPU is found by
 * its thread, as for an event without a vCPU pointer).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "episode.h"
#include "kvmrt.skel.h"
#include "loader.h"
#include "log.h"

#define BOGUS 0x10ULL /* a pointer every probe read rejects */
#define MAX_STEPS 4

static struct loader l, la; /* la: loaded as kvmrt trace -a loads it */
static struct ring_buffer *rb_a; /* la's records, read between runs */
static int empty_fd, clock_fd, lookup_fd;

/* Reference programs, rows of their own: what one clock read and one
 * hash lookup (a hit in kvmrt's `threads`) cost alone on this host, the
 * bricks every program that needs a time or a vCPU is made of. */
#define REF_CLOCK (-1)
#define REF_LOOKUP (-2)
/* -a's: a tracepoint's program as trace -a loads it (A(p)), or an
 * analysis program (AA(a)) */
#define A_BASE 1000
#define A(p) (A_BASE + (p))
#define AA(a) (2 * A_BASE + (a))

/* One event: a program and its arguments. */
struct step {
	int prog;
	int nargs;
	__u64 args[6];
};

/* A row of the table: the events of one case, run in turn. */
struct row {
	const char *name;
	int nsteps;
	struct step s[MAX_STEPS];
	int others; /* a hundred other VMs in the maps */
	int watched; /* -a: every CPU watched (an interrupt in flight there) */
	int ignored; /* its VM filtered out (-p, -g): marked as collector__keep does */
	double ns, floor;
};

static int empty_program(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "empty", "GPL", insns, 2, NULL);
}

/* r0 = bpf_ktime_get_ns(); return 0 */
static int clock_program(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_ktime_get_ns },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "ref_clock", "GPL", insns, 3, NULL);
}

/* bpf_map_lookup_elem(map, &key) with a 4-byte key; return 0 */
static int lookup_program(int map_fd, __u32 key)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ST | BPF_MEM | BPF_W, .dst_reg = BPF_REG_10, .off = -4, .imm = (int)key },
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_1, .src_reg = BPF_PSEUDO_MAP_FD,
		  .imm = map_fd },
		{ 0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_2, .src_reg = BPF_REG_10 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_2, .imm = -4 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_map_lookup_elem },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "ref_lookup", "GPL", insns, 8, NULL);
}

static int prog_fd(int prog)
{
	if (prog >= 2 * A_BASE)
		return loader__aprog_fd(&la, prog - 2 * A_BASE);
	if (prog >= A_BASE)
		return loader__prog_fd(&la, prog - A_BASE);
	return prog == REF_CLOCK ? clock_fd : prog == REF_LOOKUP ? lookup_fd : loader__prog_fd(&l, prog);
}

static int run(int fd, const __u64 *args, int nargs)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = nargs * 8);

	return bpf_prog_test_run_opts(fd, &opts);
}

/* run_time_ns and run_cnt of a program so far (kernel BPF stats) */
static void stats(int fd, __u64 *ns, __u64 *cnt)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	bpf_obj_get_info_by_fd(fd, &info, &len);
	*ns = info.run_time_ns;
	*cnt = info.run_cnt;
}

/* This thread (and tid 0, a bogus task's) is vCPU 0 of this process, a
 * traced VM (ignored: one the command filters out); with others, a
 * hundred more VMs' vCPU threads beside it. */
static void seed_one(struct loader *ld, int others, int watched, int ignored)
{
	struct kvmrt_vcpu_key vk = { .tgid = (__u32)getpid(), .vcpu = 0 };
	static struct kvmrt_vcpu_state v;
	struct kvmrt_thread ti = { .vk = { .tgid = (__u32)getpid(), .vcpu = 0 } };
	__u32 tid = (__u32)syscall(SYS_gettid), zero = 0, one = 1, pid = (__u32)getpid(), i;
	int threads = bpf_map__fd(ld->skel->maps.threads), vms = bpf_map__fd(ld->skel->maps.vms);
	int ncpus = libbpf_num_possible_cpus();

	for (i = 0; i < (__u32)ncpus; i++) { /* no count of its own: set, not added */
		__u64 w = watched;

		bpf_map_update_elem(bpf_map__fd(ld->skel->maps.watch), &i, &w, BPF_ANY);
	}
	ti.ignored = ignored;
	bpf_map_update_elem(threads, &tid, &ti, BPF_ANY);
	bpf_map_update_elem(threads, &zero, &ti, BPF_ANY);
	bpf_map_update_elem(vms, &pid, &one, BPF_ANY);
	if (ignored) {
		memset(&v, 0, sizeof(v));
		v.ignored = 1;
		bpf_map_update_elem(bpf_map__fd(ld->skel->maps.vcpus), &vk, &v, BPF_ANY);
	} else if (!bpf_map_lookup_elem(bpf_map__fd(ld->skel->maps.vcpus), &vk, &v) && v.ignored) {
		bpf_map_delete_elem(bpf_map__fd(ld->skel->maps.vcpus), &vk);
	}
	for (i = 0; i < 100; i++) {
		struct kvmrt_thread o = { .vk = { .tgid = 4000000 + i, .vcpu = 0 } };
		__u32 otid = 4000000 + i, otgid = o.vk.tgid;

		if (others) {
			bpf_map_update_elem(threads, &otid, &o, BPF_ANY);
			bpf_map_update_elem(vms, &otgid, &one, BPF_ANY);
		} else {
			bpf_map_delete_elem(threads, &otid);
			bpf_map_delete_elem(vms, &otgid);
		}
	}
}

static void seed(const struct row *r)
{
	seed_one(&l, r->others, 0, r->ignored);
	seed_one(&la, r->others, r->watched, r->ignored);
}

static int ignore(void *ctx, void *data, size_t len)
{
	return 0;
}

/* ns per case (all its steps), in run_time_ns, over n runs */
static double measure(const struct row *r, int n, int empty)
{
	__u64 ns0[MAX_STEPS], c0[MAX_STEPS], ns1, c1, total = 0, runs = 0;
	int i, k, fd[MAX_STEPS];

	for (k = 0; k < r->nsteps; k++) {
		fd[k] = empty ? empty_fd : prog_fd(r->s[k].prog);
		if (fd[k] < 0)
			return -1;
	}
	for (k = 0; k < r->nsteps; k++)
		stats(fd[k], &ns0[k], &c0[k]);
	for (i = 0; i < n; i++) {
		for (k = 0; k < r->nsteps; k++)
			if (run(fd[k], r->s[k].args, r->s[k].nargs))
				return -1;
		if (!(i & 1023)) /* -a's records read, as trace reads them: never full */
			ring_buffer__consume(rb_a);
	}
	if (empty) { /* one program for every step: its totals */
		stats(fd[0], &ns1, &c1);
		return c1 > c0[0] ? (double)(ns1 - ns0[0]) / ((double)(c1 - c0[0]) / r->nsteps) : -1;
	}
	for (k = 0; k < r->nsteps; k++) {
		stats(fd[k], &ns1, &c1);
		total += ns1 - ns0[k];
		runs += c1 - c0[k];
	}
	return runs ? (double)total / ((double)runs / r->nsteps) : -1;
}

#define E(p, ...)                                                                                  \
	{                                                                                          \
		.prog = p, .nargs = sizeof((__u64[]){ __VA_ARGS__ }) / 8, .args = { __VA_ARGS__ }  \
	}

int main(int argc, char **argv)
{
	struct loader_opts o = { .threshold_ns = 0, .force_raw = 1, .no_attach = 1,
				 .hint_port = 0x7c2, .control = 1 };
	int n = argc > 1 ? atoi(argv[1]) : 20000, rounds = argc > 2 ? atoi(argv[2]) : 5;
	struct row rows[] = {
		{ "VM exit, VMX (kvm_exit + kvm_entry)", 2,
		  { E(P_KVM_EXIT, BOGUS, ISA_VMX), E(P_KVM_ENTRY, BOGUS, 0) } },
		{ "VM exit, SVM (kvm_exit + kvm_entry)", 2,
		  { E(P_KVM_EXIT, BOGUS, ISA_SVM), E(P_KVM_ENTRY, BOGUS, 0) } },
		{ "VM exit, VMX, 100 more VMs traced", 2,
		  { E(P_KVM_EXIT, BOGUS, ISA_VMX), E(P_KVM_ENTRY, BOGUS, 0) }, 1 },
		{ "VM exit, VMX, a VM filtered out (-p, -g)", 2,
		  { E(P_KVM_EXIT, BOGUS, ISA_VMX), E(P_KVM_ENTRY, BOGUS, 0) }, 0, 0, 1 },
		{ "interrupt: msi + accept + inj_virq + eoi", 4,
		  { E(P_KVM_MSI_SET_IRQ, 0xfee00000ULL, 0x41ULL),
		    E(P_KVM_APIC_ACCEPT_IRQ, 0, 0, 0, 0x41), E(P_KVM_INJ_VIRQ, 0x41, 0, 0),
		    E(P_KVM_EOI, BOGUS, 0x41) } },
		{ "kvm_exit (VMX)", 1, { E(P_KVM_EXIT, BOGUS, ISA_VMX) } },
		{ "kvm_entry", 1, { E(P_KVM_ENTRY, BOGUS, 0) } },
		{ "kvm_set_irq", 1, { E(P_KVM_SET_IRQ, 10, 1, 0) } },
		{ "kvm_msi_set_irq", 1, { E(P_KVM_MSI_SET_IRQ, 0xfee00000ULL, 0x41ULL) } },
		{ "kvm_ioapic_set_irq", 1, { E(P_KVM_IOAPIC_SET_IRQ, 0x42, 10, 0) } },
		{ "kvm_apic_ipi", 1, { E(P_KVM_APIC_IPI, 0x4041, 0) } },
		{ "kvm_pic_set_irq", 1, { E(P_KVM_PIC_SET_IRQ, 0, 1, 0, 0, 0) } },
		{ "kvm_apic_accept_irq", 1, { E(P_KVM_APIC_ACCEPT_IRQ, 0, 0, 0, 0x43) } },
		{ "kvm_inj_virq", 1, { E(P_KVM_INJ_VIRQ, 0x43, 0, 0) } },
		{ "kvm_eoi", 1, { E(P_KVM_EOI, BOGUS, 0x43) } },
		{ "kvm_ack_irq", 1, { E(P_KVM_ACK_IRQ, 0, 1) } },
		{ "kvm_pv_eoi", 1, { E(P_KVM_PV_EOI, BOGUS, 0x43) } },
		{ "kvm_apicv_accept_irq", 1, { E(P_KVM_APICV_ACCEPT_IRQ, 0, 0, 0, 0x44) } },
		{ "kvm_vcpu_wakeup", 1, { E(P_KVM_VCPU_WAKEUP, 1000, 1, 1) } },
		{ "kvm_wait_lapic_expire", 1, { E(P_KVM_WAIT_LAPIC_EXPIRE, 0, 100) } },
		{ "kvm_apicv_inhibit_changed", 1, { E(P_KVM_APICV_INHIBIT_CHANGED, 1, 1, 2) } },
		{ "kvm_pio (the hint port)", 1, { E(P_KVM_PIO, 1, 0x7c2, 1, 1, 0) } },
		{ "kvm_pio (another port)", 1, { E(P_KVM_PIO, 1, 0x3f8, 1, 1, 0) } },
		{ "hrtimer_expire_entry", 1, { E(P_HRTIMER_EXPIRE_ENTRY, BOGUS, BOGUS) } },
		{ "hrtimer_expire_exit", 1, { E(P_HRTIMER_EXPIRE_EXIT, BOGUS) } },
		{ "sched_waking", 1, { E(P_SCHED_WAKING, BOGUS) } },
		{ "sched_switch", 1, { E(P_SCHED_SWITCH, 0, BOGUS, BOGUS, 0) } },
		/* -a (trace -a: every switch for blame, CPUs watched): the
		 * analysis programs where no interrupt is in flight (nearly
		 * always) and where one is (a record each) */
		{ "-a: irq_handler_entry, CPU not watched", 1, { E(AA(A_IRQ_HANDLER_ENTRY), 24, BOGUS) } },
		{ "-a: irq_handler_entry, CPU watched", 1, { E(AA(A_IRQ_HANDLER_ENTRY), 24, BOGUS) }, 0, 1 },
		{ "-a: softirq_entry, CPU not watched", 1, { E(AA(A_SOFTIRQ_ENTRY), 3) } },
		{ "-a: local_timer_entry, CPU not watched", 1, { E(AA(A_VEC_local_timer_entry), 0xec) } },
		{ "-a: local_timer_entry, CPU watched", 1, { E(AA(A_VEC_local_timer_entry), 0xec) }, 0, 1 },
		{ "-a: sched_switch, CPU not watched", 1, { E(A(P_SCHED_SWITCH), 0, BOGUS, BOGUS, 0) } },
		{ "-a: sched_switch, CPU watched", 1, { E(A(P_SCHED_SWITCH), 0, BOGUS, BOGUS, 0) }, 0, 1 },
		{ "-a: interrupt: msi + accept + inj_virq + eoi", 4,
		  { E(A(P_KVM_MSI_SET_IRQ), 0xfee00000ULL, 0x41ULL),
		    E(A(P_KVM_APIC_ACCEPT_IRQ), 0, 0, 0, 0x41), E(A(P_KVM_INJ_VIRQ), 0x41, 0, 0),
		    E(A(P_KVM_EOI), BOGUS, 0x41) } },
		{ "reference: one clock read (bpf_ktime_get_ns)", 1, { E(REF_CLOCK, 0) } },
		{ "reference: one hash lookup (a vCPU thread)", 1, { E(REF_LOOKUP, 0) } },
	};
	struct loader_opts oa = { .threshold_ns = 1, .force_raw = 1, .no_attach = 1, .analyze = 1 };
	int nrows = sizeof(rows) / sizeof(rows[0]), i, r, stats_fd;

	log_level = LOG_ERROR;
	log_prefix = "prog-cost";
	if (n < 1 || rounds < 1)
		return 2;
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats_fd < 0 || loader__open_load_attach(&l, &o) || loader__open_load_attach(&la, &oa) ||
	    !(rb_a = ring_buffer__new(bpf_map__fd(la.skel->maps.events), ignore, NULL, NULL)) ||
	    (empty_fd = empty_program()) < 0 ||
	    (clock_fd = clock_program()) < 0 ||
	    (lookup_fd = lookup_program(bpf_map__fd(l.skel->maps.threads),
					(__u32)syscall(SYS_gettid))) < 0) {
		fprintf(stderr, "prog-cost: cannot load (root? BPF stats?)\n");
		return 1;
	}
	l.skel->bss->armed = 1; /* as the collector arms it once it reads */
	la.skel->bss->armed = 1;
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < nrows; i++) {
			double a, b;

			seed(&rows[i]);
			/* alternated with the floor, each round */
			a = measure(&rows[i], n, 0);
			b = measure(&rows[i], n, 1);
			if (a < 0 || b < 0) {
				fprintf(stderr, "prog-cost: %s: a run failed\n", rows[i].name);
				return 1;
			}
			rows[i].ns += a / rounds;
			rows[i].floor += b / rounds;
		}
	}
	printf("## cost per event, BPF_PROG_TEST_RUN (%d x %d runs, kernel BPF stats)\n\n", rounds, n);
	printf("| case | ns | empty programs, ns | ratio |\n|---|---:|---:|---:|\n");
	for (i = 0; i < nrows; i++)
		printf("| %s | %.0f | %.0f | %.1fx |\n", rows[i].name, rows[i].ns, rows[i].floor,
		       rows[i].ns / rows[i].floor);
	printf("\n(the tracepoint's own cost on real hardware is not in these; nor the kernel\n"
	       "reads that succeed there: a bogus vcpu/task pointer here, the vCPU found by\n"
	       "its thread. A VM that -p/-g/--vcpu filter out is left at its vCPU's lookup.\n"
	       "Each run enters by a system call: under PTI on a CPU without PCID (this\n"
	       "host's) that flushes the TLB, so every page a program touches is a miss,\n"
	       "which a tracepoint firing in a busy vCPU thread mostly does not pay. The\n"
	       "reference rows are the bricks: a program that needs a time pays the clock\n"
	       "read's row, one that finds a vCPU the lookup's)\n");
	ring_buffer__free(rb_a);
	loader__destroy(&la);
	loader__destroy(&l);
	close(stats_fd);
	return 0;
}
