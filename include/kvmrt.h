/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Map keys, map values and ring-buffer records shared by the BPF programs
 * and the agent. Fixed-width types only: this header is read by both sides.
 */
#ifndef KVMRT_H
#define KVMRT_H

#ifndef __VMLINUX_H__
#include <linux/types.h> /* BPF programs get the types from vmlinux.h */
#endif
#include "hist.h"
#include "tracepoints.h"

/* The LVT timer register's offset in the LAPIC's register page (APIC_LVTT,
 * arch/x86/include/asm/apicdef.h): its vector and mask. */
#define KVMRT_APIC_LVTT 0x320

#define KVMRT_COMM_LEN 16
#define KVMRT_MAX_VCPUS 4096  /* vCPU state entries, all VMs together */
#define KVMRT_MAX_THREADS 8192
#define KVMRT_MAX_EXIT_KEYS 8192
#define KVMRT_BLAME_SLOTS 3
#define KVMRT_CPU_RING 16 /* sched_switch records kept per CPU for blame */

/* Pseudo-vectors for legacy PIC episodes: the PIC's vector is only known
 * when the guest acknowledges it, so PIC episodes are keyed by pin. */
#define KVMRT_PIC_VECTOR_BASE 0x100

/* What a histogram measures. Stages split the response of one episode. */
enum kvmrt_metric {
	M_DELIVERY,	/* inject -> injected into the guest (kvm_inj_virq) */
	M_RESPONSE,	/* inject -> end of interrupt */
	M_ST_WAKE,	/* stages of the response, in episode.h's order */
	M_ST_QUEUE,
	M_ST_DELIVER,
	M_ST_HANDLE,
	M_VCPU_WAIT,	/* any runnable -> running gap of a vCPU thread */
	M_EXIT,		/* VM exit -> next VM entry */
	M_TIMER_LATE,	/* LAPIC timer: reached the guest this long after its deadline
			 * (kvm_wait_lapic_expire's delta > 0, guest TSC -> ns) */
	M_TIMER_EARLY,	/* or this long before it (delta < 0): KVM then busy-waits
			 * up to timer_advance_ns, host CPU the advance costs */
	M_NR,
};

/* Who raised the interrupt (Prometheus label "source"). */
enum kvmrt_source {
	SRC_OTHER,
	SRC_MSI,
	SRC_IOAPIC,
	SRC_PIC,
	SRC_TIMER,
	SRC_IPI,
	SRC_NR,
};

/* Tracepoints we attach (tracepoints.h), also the index of their run
 * counters. */
#define KVMRT_PROG_ENUM(id, sys, name) P_##id,
enum kvmrt_prog { KVMRT_TRACEPOINTS(KVMRT_PROG_ENUM) P_NR };
#undef KVMRT_PROG_ENUM
#define KVMRT_APROG_ENUM(id, sys, name) A_##id,
enum kvmrt_aprog { KVMRT_ANALYSIS_TRACEPOINTS(KVMRT_APROG_ENUM) A_NR };
#undef KVMRT_APROG_ENUM
#define KVMRT_VECTOR_COUNT(v, X) +1
#define KVMRT_NVECTORS (0 KVMRT_VECTORS(KVMRT_VECTOR_COUNT, _))

/* Instruction-set flavour of kvm_exit's reason (the tracepoint's "isa"). */
enum kvmrt_isa {
	ISA_UNKNOWN = 0,
	ISA_VMX = 1,
	ISA_SVM = 2,
};

struct kvmrt_vcpu_key {
	__u32 tgid;	/* the VMM process: one VM */
	__u32 vcpu;	/* vcpu_id, which KVM also uses as the APIC id */
};

/* Thread -> vCPU, learned from kvm_* events or from /proc by the agent. */
struct kvmrt_thread {
	struct kvmrt_vcpu_key vk;
	__u32 ignored; /* the agent's: its vCPU is filtered out (collector__keep):
			* the programs stop at this lookup */
};

struct kvmrt_hist {
	__u64 count;
	__u64 sum;
	__u64 max;
	__u64 b[HIST_NBUCKETS];
};

/* One value into a histogram: the BPF programs' and the agent's one way. */
static __always_inline void hist_record(struct kvmrt_hist *h, __u64 val)
{
	/* 64 bits: the bound checked is the index used. A 32-bit index is
	 * zero-extended twice by clang, and 6.1's verifier loses the bound
	 * between the two copies ("unbounded memory access") */
	__u64 b = hist_bucket(val);

	if (b >= HIST_NBUCKETS)
		b = HIST_NBUCKETS - 1;
	h->b[b]++;
	h->count++;
	h->sum += val;
	if (val > h->max)
		h->max = val;
}

/* How an episode ended (JSON "ends"): the first the host saw of */
enum kvmrt_end {
	END_EOI,	/* kvm_eoi for its vector, or kvm_ack_irq (PIC) */
	END_PV_EOI,	/* kvm_pv_eoi: the guest's PV EOI, seen at its next exit (later) */
	END_IDLE,	/* after delivery, the vCPU's HLT exit (not its thread's sleep:
			 * that would weigh on the scheduler's program) */
	END_HINT,	/* after delivery, the guest's idle hint (kvmrt control's port) */
	END_STALE,	/* none: replaced after EP_STALE_NS pending */
	END_NR,
};

/* Per-vCPU event counters. */
struct kvmrt_counters {
	__u64 injected[SRC_NR];
	__u64 coalesced;	/* injected while the same vector was pending */
	__u64 completed;	/* episodes that reached an end (not stale) */
	__u64 dropped;		/* episodes evicted without an end: no slot */
	__u64 wakeups;
	__u64 halted_ns;	/* time spent halted (kvm_vcpu_wakeup) */
	__u64 ends[END_NR];
	__u64 posted_in_guest;	/* posted while the vCPU ran the guest */
};

/* Per VM: its APICv/AVIC inhibit reasons (kvm_apicv_inhibit_changed): any
 * set, and the host injects and sees EOIs as without APICv. */
struct kvmrt_apicv {
	__u64 inhibits;	/* the kernel's last word: a bit per enum kvm_apicv_inhibit */
	__u64 changes;
};

struct kvmrt_exit_key {
	struct kvmrt_vcpu_key vk;
	__u32 isa;
	__u32 reason;
};

struct kvmrt_exit_val {
	__u64 count;
	__u64 sum_ns;
};

struct kvmrt_blame {
	__u32 pid;
	__u32 pad;
	__u64 ns;
	char comm[KVMRT_COMM_LEN];
};

/* rt_vcpus values, bits: kvmrt control manages the vCPU; it is SCHED_FIFO
 * now (an injection for it then need not wake the controller); --slo has
 * turned its boosts on work off (no contention seen: nor need they). */
#define RT_VCPU_MANAGED 1
#define RT_VCPU_BOOSTED 2
#define RT_VCPU_WORK_OFF 4

enum kvmrt_rec_type {
	REC_OUTLIER = 1,
	REC_CTL_INJECT,	/* an interrupt for a real-time vCPU (kvmrt control) */
	REC_CTL_EOI,	/* one of its interrupts ended (value: vector, with
			 * CTL_EOI_HANDED if control had it at delivery) */
	REC_CTL_HINT,	/* its guest wrote the hint port: value 1 busy, 0 idle */
	REC_CTL_SLEEP,	/* its thread went to sleep (value 1: halted) or runs again (0) */
	REC_CTL_POSTED,	/* value of its posted interrupts reached the guest, whose
			 * ends the host may never see (virtual EOI): for control,
			 * they ended here, and no REC_CTL_EOI follows for them */
	REC_VM,		/* a process seen with a VM for the first time (a kvmrt_ctl_rec) */
	REC_IF,		/* -a: what ran on a watched CPU (a kvmrt_if_rec) */
};

/* -a: a CPU is watched while a traced vCPU whose thread is there (running
 * or queued) has an interrupt in flight; what runs on a watched CPU is
 * sent, for the agent's timeline (agent/collect/interference.h). */
#define KVMRT_MAX_CPUS 8192

enum kvmrt_if_event {
	IFE_SWITCH,	   /* a[0] next pid; name its comm */
	IFE_WAKING,	   /* a vCPU thread woken (from any CPU): a[0] its tid */
	IFE_IRQ_ENTRY,	   /* a[0] irq; name the handler's (its irqaction's) */
	IFE_IRQ_EXIT,	   /* a[0] irq */
	IFE_SOFTIRQ_ENTRY, /* a[0] vector (NET_RX ...) */
	IFE_SOFTIRQ_EXIT,
	IFE_NMI,	   /* after the handler: a[0] its ns, a[1] the handler's address */
	IFE_VECTOR_ENTRY,  /* an x86 vector: a[0] its index in KVMRT_VECTORS */
	IFE_VECTOR_EXIT,
	IFE_VM_EXIT,	   /* kvm_exit: a[0] vcpu_id, a[1] isa, a[2] reason */
	IFE_VM_ENTRY,	   /* kvm_entry: a[0] vcpu_id */
	IFE_PIO,	   /* kvm_pio: a[0] rw, a[1] port */
	IFE_MMIO,	   /* kvm_mmio: a[0] type, a[1] gpa */
	IFE_TO_VMM,	   /* kvm_userspace_exit: a[0] KVM_EXIT_* (-1: restart, error) */
	IFE_HALT_POLL,	   /* kvm_vcpu_wakeup: a[0] ns, a[1] waited (0: polled) */
	IFE_WATCH,	   /* cpu watched from t on: what was known of it is old */
};

struct kvmrt_if_rec {
	__u32 type;	/* REC_IF */
	__u32 event;	/* enum kvmrt_if_event */
	__u64 t;
	__u32 cpu;
	__u32 pid;	/* the current task */
	__s64 a[3];
	char name[KVMRT_COMM_LEN];
};

/* REC_CTL_EOI of an interrupt handed over at its delivery (REC_CTL_POSTED):
 * control has ended it already. */
#define CTL_EOI_HANDED (1U << 16)

/* Whether a record submitted to the ring buffer wakes its reader. */
enum kvs_wake {
	KVS_WAKE_ADAPTIVE, /* when the reader has caught up (the ring's default) */
	KVS_WAKE_NOW,
	KVS_WAKE_LATER,	   /* read at the reader's next wake-up */
};

/* Does a control record need the controller now (else it is read at its
 * next wake-up)? A vCPU at SCHED_FIFO (boosted, or parked asleep) needs
 * nothing until it runs without work: woken with nothing pending. One that
 * is not needs a boost for new work, and parking when it goes to sleep.
 * Every wake-up costs an IPI, some on the guest's own CPU. */
static __always_inline int ctl_urgent(__u32 type, __u32 value, __u32 rt, int pending)
{
	if (rt & RT_VCPU_BOOSTED)
		return type == REC_CTL_SLEEP && !value && !pending;
	if (rt & RT_VCPU_WORK_OFF)
		return type == REC_CTL_SLEEP && value; /* parking still applies */
	return type == REC_CTL_INJECT || (type == REC_CTL_HINT && value) ||
	       (type == REC_CTL_SLEEP && value);
}

/* For kvmrt control, for the vCPUs it marks real-time (rt_vcpus); and
 * REC_VM, which only fills type and tgid. */
struct kvmrt_ctl_rec {
	__u32 type;
	__u32 tgid;
	__u32 vcpu;
	__u32 tid;
	__u64 t;
	__u32 value;
	__u32 pad;
};

/* Who ran on a CPU, for blame. */
struct kvmrt_cpu_run {
	__u32 pid;
	__u32 pad;
	__u64 start;
	__u64 end;
	char comm[KVMRT_COMM_LEN];
};

/* Per-CPU scratch: what the current context just did. */
struct kvmrt_cpu_ctx {
	/* last kvm_set_irq / kvm_msi_set_irq / ... in this context: its
	 * scheduler tick + 1 (0: none) */
	__u64 src_tick;
	__u32 src_pid;
	__u32 src;
	__u32 src_level;
	__u32 eoi_tid;	/* the last known vCPU thread to EOI on this CPU */
	/* an injection whose VM was unknown, bound at the next vCPU wakeup */
	__u64 unb_t;
	__u32 unb_vcpu;
	__u32 unb_vector;
	__u32 unb_source;
	__u32 unb_valid;
	/* who ran on this CPU, for blame */
	__u64 last_switch;
	__u32 head;
	__u32 pad1;
	/* the LAPIC timer expiring in this CPU's hard irq (apic_timer_fn): a
	 * posted timer interrupt's kvm_wait_lapic_expire comes from there */
	__u64 timer_t;
	struct kvmrt_vcpu_key timer_vk;
	__u32 timer_vec;
	__u32 pad2;
	struct kvmrt_cpu_run ring[KVMRT_CPU_RING];
};

/* A slow episode, sent through the ring buffer. Stage times are absolute
 * CLOCK_MONOTONIC ns, 0 when that stage was not observed. */
struct kvmrt_outlier {
	__u32 type;	/* enum kvmrt_rec_type */
	__u32 tgid;
	__u32 tid;
	__u32 vcpu;
	__u32 vector;
	__u32 source;
	__u64 t_inject;
	__u64 t_wake;
	__u64 t_run;
	__u64 t_deliver;
	__u64 t_eoi;	/* its end, of kind end */
	__u32 cpu;
	__u32 nblame;
	__u32 end;	/* enum kvmrt_end */
	__u32 pad;
	struct kvmrt_blame blame[KVMRT_BLAME_SLOTS];
};

#endif /* KVMRT_H */
