/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A recording of kernel trace events, read one event at a time in time
 * order: a trace-cmd data file (trace.dat, through libtracecmd and
 * libtraceevent) or tracefs text (the `trace` file with record-tgid). Each
 * event comes out as the scalars kvmrt's handlers take, so that kvmrt
 * report hands them to the same code the BPF programs run.
 */
#ifndef KVMRT_RECORDING_H
#define KVMRT_RECORDING_H

#include <stdio.h>
#include <linux/types.h>
#include "kvmrt.h"
#include "store.h"

/* The events kvmrt reads. The first P_NR are the tracepoints the BPF
 * programs attach to, in enum kvmrt_prog's order. */
enum rec_kind {
	RK_HRTIMER_START = P_NR, /* which hrtimer is a vCPU's LAPIC timer */
	RK_KVM_APIC,		/* LAPIC register writes: the LVT timer */
	/* who else ran on a CPU, for the auto-analysis (-a) */
	RK_IRQ_ENTRY,		/* irq:irq_handler_entry */
	RK_IRQ_EXIT,
	RK_SOFTIRQ_ENTRY,	/* irq:softirq_entry */
	RK_SOFTIRQ_EXIT,
	RK_NMI,			/* nmi:nmi_handler, after the handler */
	RK_VECTOR_ENTRY,	/* irq_vectors:local_timer_entry and the other x86 vectors */
	RK_VECTOR_EXIT,
	RK_USERSPACE_EXIT,	/* kvm:kvm_userspace_exit: out to the VMM */
	RK_MMIO,		/* kvm:kvm_mmio */
	RK_NR,
	RK_NONE = -1,
};

/* One event: where and when, who ran, and its fields by name. The union
 * below is the one description of each event's fields that kvmrt reads:
 * the text reader (rec_text.c) fills them from the printed line, the data
 * file reader (rec_dat.c) from the format's fields (its table names each
 * member's kernel field), report.c and if_feed.c read them by name. Each
 * is normalised so that every format gives the same value (the comments). */
#define REC_NAME_LEN 32

struct rec_event {
	__u64 ts;	/* ns of the recording's clock */
	__u32 cpu;
	__u32 pid;	/* the current task's */
	__s64 tgid;	/* -1: the recording does not say */
	int hardirq;	/* in hard interrupt context; -1: the recording does not say */
	int kind;	/* enum rec_kind */
	union {
		struct { __s64 gsi, level; } set_irq;		/* kvm_set_irq */
		/* kvm_pic_set_irq: masked (the pin's imr bit), coalesced 0/1 */
		struct { __s64 chip, pin, masked, coalesced; } pic;
		/* kvm_apic_accept_irq, kvm_apicv_accept_irq: dm is the delivery
		 * mode << 8 (APIC_DM_*) */
		struct { __s64 apicid, dm, vec; } accept;
		/* hrtimer_expire_entry, hrtimer_start (is_apic_timer: its
		 * function is apic_timer_fn), hrtimer_expire_exit (hrtimer) */
		struct { __s64 hrtimer, is_apic_timer; } hrtimer;
		struct { __s64 pid; } waking;			/* sched_waking; tcomm */
		/* sched_switch: prev_runnable is R or R+; tcomm is prev's comm,
		 * name next's */
		struct { __s64 prev_pid, prev_runnable, next_pid; } sw;
		struct { __s64 ns, waited; } wakeup;		/* kvm_vcpu_wakeup */
		struct { __s64 vector, reinjected; } inj;	/* kvm_inj_virq (reinjected: 5.19 on) */
		struct { __s64 vcpu_id; } entry;		/* kvm_entry */
		/* kvm_exit: vcpu_id -1 where the kernel does not print it; isa
		 * ISA_VMX or ISA_SVM; reason the basic exit reason (VMX) or the
		 * SVM exit code */
		struct { __s64 vcpu_id, isa, reason; } exit;
		struct { __s64 apicid, vector; } eoi;		/* kvm_eoi, kvm_pv_eoi (vector -1: none) */
		struct { __s64 irqchip, pin; } ack;		/* kvm_ack_irq */
		struct { __s64 out, port, val; } pio;		/* kvm_pio: val the first byte */
		/* kvm_apic: reg KVMRT_APIC_LVTT or another register's offset
		 * (-1 where only its name is printed and it is not LVTT) */
		struct { __s64 write, reg, val; } apic;
		struct { __s64 vcpu_id, delta; } lapic_expire;	/* kvm_wait_lapic_expire */
		struct { __s64 reason, set, inhibits; } inhibit; /* kvm_apicv_inhibit_changed */
		struct { __s64 irq; } irq;	/* irq_handler_entry (name: its name), _exit */
		struct { __s64 vec; } softirq;	/* softirq_entry, softirq_exit */
		struct { __s64 delta_ns, handler; } nmi;	/* nmi_handler; name: the handler */
		/* local_timer_entry and the other x86 vectors' events; name: the
		 * vector's event name less _entry/_exit */
		struct { __s64 vector; } vector;
		/* kvm_userspace_exit: reason KVM_EXIT_* (-1: restart or error) */
		struct { __s64 reason, err; } uexit;
		/* kvm_mmio: type 0 unsatisfied read, 1 read, 2 write */
		struct { __s64 type, gpa; } mmio;
		/* kvm_msi_set_irq, kvm_ioapic_set_irq, kvm_apic_ipi: none needed */
	};
	char comm[KVMRT_COMM_LEN];	/* the current task's */
	char tcomm[KVMRT_COMM_LEN];	/* the woken or switched-out task's */
	char name[REC_NAME_LEN];	/* an irq's, NMI handler's or vector's; next's comm */
};

struct recording;

/* Open path, telling the format by its content. NULL with a one-line
 * reason in err (also for a file that is neither format). */
struct recording *recording__open(const char *path, char *err, size_t errlen);
/* The next event of a kind kvmrt reads: 1, 0 at the end, -1 on an error
 * (a truncated file, a malformed line) with the reason in err. */
int recording__next(struct recording *r, struct rec_event *e, char *err, size_t errlen);
/* Start again from the first event. */
int recording__rewind(struct recording *r, char *err, size_t errlen);
/* Was this kind of event recorded? For a data file, whether its format is
 * in it (enabled while recording); for text, whether one was read so far. */
int recording__has(struct recording *r, int kind);
/* The recording says which process a thread belongs to (for text, its
 * tgid column). */
int recording__has_tgids(struct recording *r);
/* What the events read so far said of a thread: its process (-1 when
 * unknown) and its comm (NULL when unknown). The table is bounded; a
 * thread beyond it is unknown. */
__s64 rec_tgid(struct recording *r, __u32 pid);
const char *rec_comm(struct recording *r, __u32 pid);
void rec_tgid_set(struct recording *r, __u32 pid, __u32 tgid);
/* Every thread known, by slot 0 <= i < r->tasks.cap (NULL: empty). */
const char *rec_task_at(struct recording *r, __u32 i, __u32 *pid, __s64 *tgid);
const char *recording__format(struct recording *r); /* "trace.dat", "tracefs text" */
void recording__close(struct recording *r);

/* The kind of an event by name, RK_NONE if kvmrt does not read it. */
int rec_kind_of(const char *name);
/* For an x86 irq vector's event (local_timer_entry, reschedule_exit, ...):
 * RK_VECTOR_ENTRY or RK_VECTOR_EXIT, and its vector's name in label
 * (REC_NAME_LEN bytes); else RK_NONE. The i-th such event's name, NULL past the last. */
int rec_vector_kind(const char *name, char *label);
const char *rec_vector_event(int i);
const char *rec_kind_name(int kind);
/* Its name in output: rec_kind_name's, but "irq_vectors_entry" and
 * "irq_vectors_exit" for the x86 vectors' events, counted together. */
const char *rec_kind_label(int kind);
/* The VMX or SVM exit reason a kvm_exit line prints (recording.c); 0 if
 * unknown. isa_seen: the recording's ISA so far (ISA_UNKNOWN at first). */
int rec_exit_reason(const char *text, __u32 *isa_seen, __u32 *isa, __u32 *reason);

/* The two formats (recording.c dispatches). */
struct rec_ops {
	int (*next)(struct recording *r, struct rec_event *e, char *err, size_t errlen);
	int (*rewind)(struct recording *r, char *err, size_t errlen);
	void (*close)(struct recording *r);
};

struct rec_task {
	__s64 tgid;
	char comm[KVMRT_COMM_LEN];
};

#define REC_MAX_TASKS (1 << 17)

struct recording {
	const struct rec_ops *ops;
	struct kvs_table tasks; /* pid -> struct rec_task */
	const char *format;
	int has[RK_NR];
	int has_tgids;
	__u64 last_ts;
	__u64 records;	/* every record or line read, of any event */
	__u64 lost;	/* events the ring buffer dropped, as the file says */
	__u64 seen[RK_NR]; /* events of each kind read (since the last rewind) */
	void *priv;
};

int rec_text_open(struct recording *r, FILE *f, char *err, size_t errlen);
int rec_dat_open(struct recording *r, const char *path, char *err, size_t errlen);

#endif
