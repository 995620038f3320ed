/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Who held each CPU, moment by moment: the auto-analysis behind
 * `kvmrt report -a`. Per CPU, a timeline of segments, each labelled by the
 * innermost context that ran: an NMI, a hard irq (irq_handler_* or an x86
 * irq vector), a softirq, else the task (a thread, a vCPU thread inside a
 * VM exit, or idle). Nested time counts for the innermost only, so an
 * interval's parts add up to the interval. The timeline is fed the
 * recording's events in time order and kept for the last IF_RING segments
 * of each CPU: an episode is analysed when it ends.
 */
#ifndef KVMRT_INTERFERENCE_H
#define KVMRT_INTERFERENCE_H

#include <linux/types.h>
#include "store.h"

enum if_kind {
	IF_UNKNOWN,	/* before the recording says who ran there */
	IF_IDLE,	/* the idle task */
	IF_THREAD,	/* a task: id its pid, name its comm */
	IF_VCPU,	/* the analysed vCPU's own thread: the guest, or KVM for it */
	IF_EXIT,	/* its thread inside a VM exit: id the reason (isa << 16 | reason) */
	IF_VMM,		/* ... out to the VMM in userspace: name "io 0x3f8", "mmio 0x..." */
	IF_HALT_POLL,	/* ... halt polling (kvm_vcpu_wakeup: poll) */
	IF_SOFTIRQ,	/* id the vector, name the kind (NET_RX) */
	IF_IRQ,		/* id the irq, name the handler's (irq_handler_entry) */
	IF_VECTOR,	/* an x86 irq vector without irq_handler_*: name local_timer ... */
	IF_NMI,		/* name the handler */
	IF_KIND_NR,
};

#define IF_NAME_LEN 32

struct if_label {
	__u32 kind;
	__u32 id;
	char name[IF_NAME_LEN];
};

/* One part of an interval: who, and for how long (net). */
struct if_part {
	struct if_label who;
	__u64 ns;
};

#define IF_RING (1u << 15)

struct if_cpu;

struct if_timeline {
	struct if_cpu **cpus;
	__u32 ncpus;
	struct kvs_table labels;	/* struct if_label -> __u32 index */
	struct if_label *label;		/* by index */
	__u32 nlabels;
	struct kvs_table threads;	/* tid -> struct if_thread: in an exit? */
};

int if_timeline__init(struct if_timeline *tl);
void if_timeline__free(struct if_timeline *tl);

/* The events that say who runs (ts in ns; cpu; pid: the current task's).
 * Each returns 0, or -ENOMEM. */
int if__switch(struct if_timeline *tl, __u64 ts, __u32 cpu, __u32 next_pid, const char *next_comm);
/* Any event: pid runs on cpu. Taken as a switch only on a CPU no switch
 * has named yet (a recording without sched events, or its start). */
int if_timeline__seen(struct if_timeline *tl, __u64 ts, __u32 cpu, __u32 pid, const char *comm);
/* What was known of cpu is old from ts on (-a: the CPU was not watched
 * before, nothing of it was sent): "other" until an event names its task,
 * which then counts from ts (every switch after it is sent); exits seen
 * there before are over. */
int if_timeline__reset(struct if_timeline *tl, __u64 ts, __u32 cpu);
int if__irq(struct if_timeline *tl, __u64 ts, __u32 cpu, int entry, __u32 irq, const char *name);
int if__vector(struct if_timeline *tl, __u64 ts, __u32 cpu, int entry, const char *name);
int if__softirq(struct if_timeline *tl, __u64 ts, __u32 cpu, int entry, __u32 vec);
/* After the fact: an NMI handler that ran delta_ns before ts. */
int if__nmi(struct if_timeline *tl, __u64 ts, __u32 cpu, __u64 delta_ns, const char *handler);
/* A vCPU thread's exit (isa << 16 | reason, and its name) and entry; the
 * exit to the VMM within it (what: "io 0x3f8"); its halt polling, ns
 * before ts. */
int if__vm_exit(struct if_timeline *tl, __u64 ts, __u32 cpu, __u32 tid, __u32 reason,
		const char *name);
int if__vm_entry(struct if_timeline *tl, __u64 ts, __u32 cpu, __u32 tid);
int if__to_vmm(struct if_timeline *tl, __u64 ts, __u32 cpu, __u32 tid, const char *what);
/* Back from the VMM: its next KVM event (kvm_entry, or any other where
 * kvm_entry never fires, as on a host that emulates). */
int if__from_vmm(struct if_timeline *tl, __u64 ts, __u32 cpu, __u32 tid);
int if__halt_poll(struct if_timeline *tl, __u64 ts, __u32 cpu, __u32 tid, __u64 ns);

/* Who held cpu over [from, to), net, biggest first: at most max parts
 * (what does not fit summed into the last, kind IF_UNKNOWN, name "other",
 * with the time before what the ring holds or before the recording said
 * who ran), the thread vcpu_tid labelled IF_VCPU. Returns the number of
 * parts; they add up to to - from. */
int if__explain(const struct if_timeline *tl, __u32 cpu, __u64 from, __u64 to, __u32 vcpu_tid,
		struct if_part *parts, int max);

/* "stress-ng[4242]", "softirq NET_RX", "irq 24 virtio0-input",
 * "exit EPT_VIOLATION", "vmm io 0x3f8", "nmi perf_event_nmi_handler"... */
const char *if_kind_name(__u32 kind);
void if_label_text(const struct if_label *l, char *buf, size_t len);

#endif
