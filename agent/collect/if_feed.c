// SPDX-License-Identifier: GPL-2.0
/* Events into the interference timeline: see if_feed.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "episode.h"
#include "if_feed.h"
#include "names.h"

#define IF_FEED_THREADS (1u << 16)

/* A vCPU thread: where its last wakeup and switch-in were, and what its
 * last exit went out to the VMM for. */
struct feed_thread {
	__u64 wake_ts, run_ts;
	__u32 wake_cpu, run_cpu;
	__u32 pio_port;
	__u64 mmio_gpa;
	int mmio, to_vmm;
};

int if_feed__init(struct if_feed *f, if_comm_fn comm_of, void *ctx)
{
	memset(f, 0, sizeof(*f));
	f->comm_of = comm_of;
	f->ctx = ctx;
	if (if_timeline__init(&f->tl))
		return -ENOMEM;
	if (kvs_table__init(&f->threads, sizeof(__u32), sizeof(struct feed_thread), IF_FEED_THREADS)) {
		if_timeline__free(&f->tl);
		return -ENOMEM;
	}
	return 0;
}

void if_feed__free(struct if_feed *f)
{
	if_timeline__free(&f->tl);
	kvs_table__free(&f->threads);
}

int if_feed__track(struct if_feed *f, __u32 tid)
{
	return kvs_table__add(&f->threads, &tid, NULL) ? 0 : -ENOMEM;
}

static struct feed_thread *thread_of(const struct if_feed *f, __u32 tid)
{
	return kvs_table__get(&f->threads, &tid);
}

/* Events a vCPU thread emits only inside KVM_RUN, for its own vCPU. */
static int in_kvm_run(int kind)
{
	switch (kind) {
	case P_KVM_ENTRY:
	case P_KVM_EXIT:
	case P_KVM_INJ_VIRQ:
	case P_KVM_EOI:
	case P_KVM_PV_EOI:
	case P_KVM_VCPU_WAKEUP:
	case P_KVM_WAIT_LAPIC_EXPIRE:
	case P_KVM_PIO:
	case RK_KVM_APIC:
	case RK_MMIO:
		return 1;
	}
	return 0;
}

static const char *comm(const struct if_feed *f, __u32 pid)
{
	return f->comm_of ? f->comm_of(f->ctx, pid) : NULL;
}

int if_feed__event(struct if_feed *f, const struct rec_event *e)
{
	struct if_timeline *tl = &f->tl;
	struct feed_thread *th = NULL;
	char what[40], buf[32];
	int err = 0;

	if (e->hardirq != 1) /* in a hard irq, the task is only what it landed on */
		th = thread_of(f, e->pid);
	/* a CPU no switch has named yet: the event's task runs there (its
	 * comm from the line, maybe cut short: a switch's payload is whole) */
	if (if_timeline__seen(tl, e->ts, e->cpu, e->pid, comm(f, e->pid)))
		return -ENOMEM;
	/* a thread gone out to the VMM is back in KVM_RUN at its next event of
	 * the vCPU's own (kvm_entry, or another where kvm_entry never fires, as
	 * on a host that emulates); not at the VMM's own ioctls (injections) */
	if (th && th->to_vmm && in_kvm_run(e->kind)) {
		th->to_vmm = 0;
		err = if__from_vmm(tl, e->ts, e->cpu, e->pid);
	}
	switch (e->kind) {
	case P_SCHED_SWITCH:
		err = if__switch(tl, e->ts, e->cpu, (__u32)e->sw.next_pid,
				 e->name[0] ? e->name : comm(f, (__u32)e->sw.next_pid));
		if ((th = thread_of(f, (__u32)e->sw.next_pid))) {
			th->run_ts = e->ts;
			th->run_cpu = e->cpu;
		}
		break;
	case P_SCHED_WAKING:
		if ((th = thread_of(f, (__u32)e->waking.pid))) {
			th->wake_ts = e->ts;
			th->wake_cpu = e->cpu;
		}
		break;
	case RK_IRQ_ENTRY:
	case RK_IRQ_EXIT:
		err = if__irq(tl, e->ts, e->cpu, e->kind == RK_IRQ_ENTRY, (__u32)e->irq.irq, e->name);
		break;
	case RK_SOFTIRQ_ENTRY:
	case RK_SOFTIRQ_EXIT:
		err = if__softirq(tl, e->ts, e->cpu, e->kind == RK_SOFTIRQ_ENTRY, (__u32)e->softirq.vec);
		break;
	case RK_VECTOR_ENTRY:
	case RK_VECTOR_EXIT:
		err = if__vector(tl, e->ts, e->cpu, e->kind == RK_VECTOR_ENTRY, e->name);
		break;
	case RK_NMI:
		err = if__nmi(tl, e->ts, e->cpu, e->nmi.delta_ns > 0 ? (__u64)e->nmi.delta_ns : 0, e->name);
		break;
	case P_KVM_EXIT:
		err = if__vm_exit(tl, e->ts, e->cpu, e->pid, (__u32)(e->exit.isa << 16 | e->exit.reason),
				  exit_reason_label((__u32)e->exit.isa, (__u32)e->exit.reason, buf,
						    sizeof(buf)));
		break;
	case P_KVM_ENTRY:
		err = if__vm_entry(tl, e->ts, e->cpu, e->pid);
		break;
	case P_KVM_PIO:
		if (th) {
			th->pio_port = (__u32)e->pio.port;
			th->mmio = 0;
		}
		break;
	case RK_MMIO:
		if (th) {
			th->mmio_gpa = (__u64)e->mmio.gpa;
			th->mmio = 1;
		}
		break;
	case RK_USERSPACE_EXIT:
		if (e->uexit.reason == 2 && th) /* KVM_EXIT_IO */
			snprintf(what, sizeof(what), "io 0x%x", th->pio_port);
		else if (e->uexit.reason == 6 && th) /* KVM_EXIT_MMIO */
			snprintf(what, sizeof(what), "mmio 0x%llx", (unsigned long long)th->mmio_gpa);
		else
			snprintf(what, sizeof(what), "exit %lld", (long long)e->uexit.reason);
		if (th)
			th->to_vmm = 1;
		err = if__to_vmm(tl, e->ts, e->cpu, e->pid, what);
		break;
	case P_KVM_VCPU_WAKEUP:
		if (!e->wakeup.waited && e->wakeup.ns > 0) /* "poll": it polled all that time */
			err = if__halt_poll(tl, e->ts, e->cpu, e->pid, (__u64)e->wakeup.ns);
		break;
	}
	return err;
}

/* An NMI handler's name from its address (kallsyms), as the tracepoint's
 * %ps prints it; its address if kallsyms hides it. A few handlers exist:
 * each looked up once. */
static void ksym_name(__u64 addr, char *name, size_t len)
{
	static struct {
		__u64 addr;
		char name[REC_NAME_LEN];
	} cache[16];
	static int ncache;
	char line[512], sym[256], type;
	unsigned long long a;
	FILE *kf;
	int i;

	for (i = 0; i < ncache; i++) {
		if (cache[i].addr == addr) {
			snprintf(name, len, "%s", cache[i].name);
			return;
		}
	}
	snprintf(name, len, "0x%llx", (unsigned long long)addr);
	kf = addr ? fopen("/proc/kallsyms", "r") : NULL;
	while (kf && fgets(line, sizeof(line), kf)) {
		if (sscanf(line, "%llx %c %255s", &a, &type, sym) == 3 && a == addr) {
			snprintf(name, len, "%.*s", REC_NAME_LEN - 1, sym);
			break;
		}
	}
	if (kf)
		fclose(kf);
	if (ncache < 16) {
		cache[ncache].addr = addr;
		snprintf(cache[ncache++].name, REC_NAME_LEN, "%s", name);
	}
}

void if_feed__from_rec(const struct kvmrt_if_rec *r, struct rec_event *e)
{
	static const int kinds[] = {
		[IFE_SWITCH] = P_SCHED_SWITCH,	     [IFE_WAKING] = P_SCHED_WAKING,
		[IFE_IRQ_ENTRY] = RK_IRQ_ENTRY,	     [IFE_IRQ_EXIT] = RK_IRQ_EXIT,
		[IFE_SOFTIRQ_ENTRY] = RK_SOFTIRQ_ENTRY, [IFE_SOFTIRQ_EXIT] = RK_SOFTIRQ_EXIT,
		[IFE_NMI] = RK_NMI,		     [IFE_VECTOR_ENTRY] = RK_VECTOR_ENTRY,
		[IFE_VECTOR_EXIT] = RK_VECTOR_EXIT,   [IFE_VM_EXIT] = P_KVM_EXIT,
		[IFE_VM_ENTRY] = P_KVM_ENTRY,	     [IFE_PIO] = P_KVM_PIO,
		[IFE_MMIO] = RK_MMIO,		     [IFE_TO_VMM] = RK_USERSPACE_EXIT,
		[IFE_HALT_POLL] = P_KVM_VCPU_WAKEUP,
	};
	const char *vec;

	memset(e, 0, sizeof(*e));
	e->ts = r->t;
	e->cpu = r->cpu;
	e->pid = r->pid;
	e->tgid = -1;
	e->hardirq = -1;
	e->kind = r->event < sizeof(kinds) / sizeof(kinds[0]) ? kinds[r->event] : RK_NONE;
	switch (r->event) { /* include/kvmrt.h's a[] of each, by name */
	case IFE_SWITCH:
		e->sw.next_pid = r->a[0];
		break;
	case IFE_WAKING:
		e->waking.pid = r->a[0];
		break;
	case IFE_IRQ_ENTRY:
	case IFE_IRQ_EXIT:
		e->irq.irq = r->a[0];
		break;
	case IFE_SOFTIRQ_ENTRY:
	case IFE_SOFTIRQ_EXIT:
		e->softirq.vec = r->a[0];
		break;
	case IFE_NMI:
		e->nmi.delta_ns = r->a[0];
		e->nmi.handler = r->a[1];
		break;
	case IFE_VECTOR_ENTRY:
	case IFE_VECTOR_EXIT:
		e->vector.vector = r->a[0];
		break;
	case IFE_VM_EXIT:
		e->exit.vcpu_id = r->a[0];
		e->exit.isa = r->a[1];
		e->exit.reason = r->a[2];
		break;
	case IFE_VM_ENTRY:
		e->entry.vcpu_id = r->a[0];
		break;
	case IFE_PIO:
		e->pio.out = r->a[0];
		e->pio.port = r->a[1];
		break;
	case IFE_MMIO:
		e->mmio.type = r->a[0];
		e->mmio.gpa = r->a[1];
		break;
	case IFE_TO_VMM:
		e->uexit.reason = r->a[0];
		break;
	case IFE_HALT_POLL:
		e->wakeup.ns = r->a[0];
		e->wakeup.waited = r->a[1];
		break;
	}
	if (r->event == IFE_NMI)
		ksym_name((__u64)r->a[1], e->name, sizeof(e->name));
	else if (r->event == IFE_VECTOR_ENTRY || r->event == IFE_VECTOR_EXIT)
		snprintf(e->name, sizeof(e->name), "%s", (vec = vector_name((int)r->a[0])) ? vec : "?");
	else
		snprintf(e->name, sizeof(e->name), "%.*s", KVMRT_COMM_LEN, r->name);
	if (r->event == IFE_IRQ_ENTRY || r->event == IFE_SWITCH)
		e->hardirq = r->event == IFE_IRQ_ENTRY;
}

int if_feed__record(struct if_feed *f, const struct kvmrt_if_rec *r)
{
	struct feed_thread *th;
	struct rec_event e;

	switch (r->event) {
	case IFE_WATCH:
		return if_timeline__reset(&f->tl, r->t, r->cpu);
	case IFE_WAKING:
		/* a vCPU thread woken from any CPU, watched or not: where and
		 * when, not who runs there */
		if (if_feed__track(f, (__u32)r->a[0]) || !(th = thread_of(f, (__u32)r->a[0])))
			return -ENOMEM;
		th->wake_ts = r->t;
		th->wake_cpu = r->cpu;
		return 0;
	}
	if_feed__from_rec(r, &e);
	return e.kind == RK_NONE ? 0 : if_feed__event(f, &e);
}

int if_feed__crowded(const struct if_feed *f)
{
	const struct kvs_table *t[] = { &f->tl.labels, &f->tl.threads, &f->threads };
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i]->n > t[i]->max / 2)
			return 1;
	return 0;
}

void if_feed__stage_cpus(const struct if_feed *f, const struct kvmrt_outlier *o, __u32 cpu[])
{
	const struct feed_thread *th = thread_of(f, o->tid);
	int i;

	for (i = 0; i < ST_NR; i++)
		cpu[i] = o->cpu;
	if (th && th->wake_ts == o->t_wake)
		cpu[ST_WAKE] = th->wake_cpu;
	if (th && th->run_ts == o->t_run)
		cpu[ST_QUEUE] = th->run_cpu;
}
