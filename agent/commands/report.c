// SPDX-License-Identifier: GPL-2.0
/*
 * kvmrt report: kvmrt trace's analysis from a recording (trace.dat or
 * tracefs text), through the same handlers the BPF programs run
 * (include/handlers.h over agent/collect/store.c), event by event.
 *
 * Two passes over the file, each one event at a time:
 *  1. learn what the BPF programs read through kernel pointers and a
 *     recording only shows by its effects: which hrtimer is which vCPU's
 *     LAPIC timer (the vCPU thread that starts it, or wakes in its expiry)
 *     and that timer's vector and vCPU (the injection that follows), which
 *     threads run vCPUs, so which processes hold VMs;
 *  2. hand every event to its handler, as the tracepoint would.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "causes.h"
#include "escape.h"
#include "clock.h"
#include "commands.h"
#include "if_feed.h"
#include "latency.h"
#include "log.h"
#include "recording.h"
#include "names.h"
#include "results.h"
#include "session.h"
#include "store.h"
#include "vmreg.h"

#define REPORT_MAX_TIMERS 4096
#define TIMER_CANDIDATES 4
#define REPORT_MAX_INJECTORS 4096
#define KVMRT_MAX_VCPUS_SEEN 1024 /* vCPU numbers told apart when inferring VMs */

/* A LAPIC timer's hrtimer, as pass 1 learned it. */
struct timer_info {
	__u32 cand[TIMER_CANDIDATES]; /* threads that armed it or woke in its expiry */
	int ncand;
	__u32 tid;	/* after pass 1: the first candidate that is a vCPU thread */
	/* pass 2: the vCPU thread that armed it last in its own context
	 * (0: none yet, tid holds). A VM that exits frees its kvm_lapic, and
	 * the next VM's may get the same address: its hrtimer is the same
	 * pointer with another owner from the time that VM arms it. */
	__u32 owner;
	__u32 vcpu;
	__s32 vector;	/* of the injection after an expiry, -1 until known */
	int expect;	/* expired: its thread's next injection says its vector */
};

/* A thread, as pass 1 learned it. */
struct thread_info {
	int vcpu_thread; /* emitted an event only a vCPU thread emits */
	int injects;	/* named an injection's source, not in a hard irq */
	int injects_in_task; /* ... known to be in its own context (irq flags) */
	__s32 vcpu;	/* from kvm_eoi, kvm_exit or kvm_entry; -1 none */
	struct timer_info *timer; /* its LAPIC timer, once it is a vCPU thread */
	struct timer_info *cand;  /* a timer it armed or woke for */
	__s64 lvtt;	/* pass 2: the last LVT timer write seen, -1 none */
	/* pass 2, what a recording shows of a vCPU thread (rec_findings) */
	__u64 ends_unmatched, deliveries_unmatched;
	__u32 reinj_vector, reinj_count;	/* the run of re-injections now */
	__u64 reinj_first, reinj_last;
	__u32 best_vector, best_count;		/* the longest run */
	__u64 best_span;
};

/* A thread the recording's comms name as a VM's: a vCPU thread by its
 * VMM's naming, or a kernel thread that injects for it. */
struct named_thread {
	__u32 vm, tid, vcpu;
	int injector;
};

/* Per CPU, pass 1: the LAPIC timer expiring there, and the last source
 * event (kvm_set_irq, kvm_msi_set_irq, kvm_apic_ipi) in that context. */
struct cpu_info {
	struct timer_info *expiring;
	__u64 src_t;
	__u32 src_pid;
};

struct report {
	struct results t;
	const char *input;
	__u32 tsc_khz;	/* --tsc-khz */
	struct recording *rec;
	struct kvs s;
	struct kvs_table timers;  /* hrtimer address -> timer_info */
	struct kvs_table threads; /* tid -> thread_info */
	struct cpu_info *cpus;
	__u32 ncpus;
	__u32 *vms;	/* processes with a vCPU thread, sorted (pass 1) */
	__u32 nvms;
	struct named_thread *named; /* sorted by vm */
	__u32 nnamed;
	__u64 first_ts, last_ts, nevents;
	__u64 timers_unnamed;	/* expiries whose vCPU the recording does not say */
	__u32 inferred_vm;	/* no tgids: the one VM inferred, 0 none */
	int several_vms;	/* no tgids, and a vCPU number on two threads */
	/* no tgids, several VMs: pass 1's evidence of which threads share one
	 * (an injection, and the delivery or EOI of that vector by a vCPU of
	 * that APIC id after it), the VMs it gave, and pass 2's injections
	 * from threads tied to none */
	struct kvs_table pending;	/* apicid << 8 | vector -> injecting tid */
	struct kvs_table group;		/* tid -> union-find parent tid */
	__u32 grouped_vms;
	__u64 ambiguous;
	int analyze;		/* -a */
	struct if_feed feed;	/* -a: who held each CPU */
	struct kvs_table p99;	/* -a without -T: vCPU key -> its response p99, ns */
};

static struct thread_info *thread_of(struct report *r, __u32 tid, int add)
{
	int added;
	struct thread_info *th = add ? kvs_table__add(&r->threads, &tid, &added) :
				       kvs_table__get(&r->threads, &tid);

	if (th && add && added) {
		th->vcpu = -1;
		th->lvtt = -1;
	}
	return th;
}

static struct timer_info *timer_of(struct report *r, __u64 hrtimer, int add)
{
	int added;
	struct timer_info *tm = add ? kvs_table__add(&r->timers, &hrtimer, &added) :
				      kvs_table__get(&r->timers, &hrtimer);

	if (tm && add && added)
		tm->vector = -1;
	return tm;
}

static struct cpu_info *cpu_of(struct report *r, __u32 cpu)
{
	if (cpu >= r->ncpus) {
		struct cpu_info *c;
		__u32 n = cpu + 1;

		if (cpu >= KVS_MAX_CPUS || !(c = realloc(r->cpus, n * sizeof(*c))))
			return NULL;
		memset(c + r->ncpus, 0, (n - r->ncpus) * sizeof(*c));
		r->cpus = c;
		r->ncpus = n;
	}
	return &r->cpus[cpu];
}

/* Link a vCPU thread and the timer it is a candidate for, so that its
 * next injections can name the timer's vector. */
static void link_timer(struct thread_info *th, __u32 tid)
{
	if (th->vcpu_thread && th->cand && !th->timer && !th->cand->tid) {
		th->cand->tid = tid;
		th->timer = th->cand;
	}
}

static void timer_candidate(struct report *r, struct timer_info *tm, __u32 tid)
{
	struct thread_info *th;
	int i;

	if (!tid)
		return;
	for (i = 0; i < tm->ncand; i++)
		if (tm->cand[i] == tid)
			return;
	if (tm->ncand == TIMER_CANDIDATES)
		return;
	tm->cand[tm->ncand++] = tid;
	th = thread_of(r, tid, 1);
	if (th && !th->cand)
		th->cand = tm;
	if (th)
		link_timer(th, tid);
}

/* An event only a vCPU thread emits, with its vCPU number if it has one. */
static struct thread_info *vcpu_thread(struct report *r, __u32 tid, __s64 vcpu)
{
	struct thread_info *th = thread_of(r, tid, 1);

	if (!th)
		return NULL;
	th->vcpu_thread = 1;
	if (vcpu >= 0)
		th->vcpu = (__s32)vcpu;
	link_timer(th, tid);
	return th;
}

/* Kernel threads by their comm: they inject for whichever vCPU they wake
 * (irqfd's kworker, VFIO's irq thread), never belong to a VM's process. */
static int kernel_comm(const char *comm)
{
	static const char *const prefixes[] = { "kworker/", "ksoftirqd/", "irq/", "<idle>",
						"swapper/", "migration/", "rcu", "kthreadd",
						"kvm-nx-lpage" };
	unsigned int i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(comm, prefixes[i], strlen(prefixes[i])))
			return 1;
	return 0;
}

/* Union-find over threads: the representative of tid's group. */
static __u32 group_of(struct report *r, __u32 tid)
{
	__u32 *p = kvs_table__get(&r->group, &tid);

	while (p && *p != tid) {
		__u32 *pp = kvs_table__get(&r->group, p);

		if (!pp)
			break;
		tid = *p;
		p = pp;
	}
	return tid;
}

static void join(struct report *r, __u32 a, __u32 b)
{
	__u32 *pa, *pb, ra, rb;

	if (!(pa = kvs_table__add(&r->group, &a, NULL)) || !(pb = kvs_table__add(&r->group, &b, NULL)))
		return;
	if (!*pa)
		*pa = a;
	if (!*pb)
		*pb = b;
	ra = group_of(r, a);
	rb = group_of(r, b);
	if (ra != rb && (pa = kvs_table__get(&r->group, &rb)))
		*pa = ra;
}

/* vCPU thread tid delivered or ended vector on APIC id apicid: the thread
 * that injected it last (an injection pending for it) shares its VM. */
static void delivered(struct report *r, __u32 tid, __u32 apicid, __u32 vector)
{
	__u32 key = (apicid & 0xffffff) << 8 | (vector & 0xff), *t = kvs_table__get(&r->pending, &key);

	if (!t || !*t)
		return;
	if (*t != tid)
		join(r, *t, tid);
	*t = 0; /* taken */
}

/* Pass 1: one event. */
static void learn(struct report *r, const struct rec_event *e)
{
	struct cpu_info *c = cpu_of(r, e->cpu);
	struct thread_info *th;
	struct timer_info *tm;

	if (!c)
		return;
	switch (e->kind) {
	case P_KVM_EOI: /* apicid is apic->vcpu->vcpu_id */
	case P_KVM_PV_EOI:
		if (e->eoi.vector >= 0)
			delivered(r, e->pid, (__u32)e->eoi.apicid, (__u32)e->eoi.vector);
		vcpu_thread(r, e->pid, e->eoi.apicid);
		break;
	case P_KVM_EXIT: /* vcpu_id -1: a kernel whose kvm_exit prints none */
		vcpu_thread(r, e->pid, e->exit.vcpu_id);
		break;
	case P_KVM_ENTRY:
		vcpu_thread(r, e->pid, e->entry.vcpu_id);
		break;
	case P_KVM_INJ_VIRQ:
		th = vcpu_thread(r, e->pid, -1);
		if (th && th->vcpu >= 0)
			delivered(r, e->pid, (__u32)th->vcpu, (__u32)e->inj.vector);
		break;
	case P_KVM_VCPU_WAKEUP:
		vcpu_thread(r, e->pid, -1);
		break;
	case P_KVM_SET_IRQ:
	case P_KVM_MSI_SET_IRQ:
	case P_KVM_APIC_IPI:
		c->src_t = e->ts;
		c->src_pid = e->pid;
		/* who injects, for a recording without tgids */
		__attribute__((fallthrough));
	case P_KVM_IOAPIC_SET_IRQ:
	case P_KVM_PIC_SET_IRQ:
		if (e->hardirq != 1 && (th = thread_of(r, e->pid, 1))) {
			th->injects = 1;
			th->injects_in_task |= e->hardirq == 0;
		}
		break;
	case RK_HRTIMER_START:
		/* armed by its vCPU thread (start_sw_timer, migration), or
		 * re-armed in the hard irq (periodic) over whatever ran: only
		 * candidates, the vCPU thread among them chosen after pass 1 */
		if (e->hrtimer.is_apic_timer && e->hardirq <= 0 &&
		    (tm = timer_of(r, (__u64)e->hrtimer.hrtimer, 1)))
			timer_candidate(r, tm, e->pid);
		break;
	case P_HRTIMER_EXPIRE_ENTRY:
		c->expiring = e->hrtimer.is_apic_timer ? timer_of(r, (__u64)e->hrtimer.hrtimer, 1) : NULL;
		if (c->expiring)
			c->expiring->expect = 1;
		break;
	case P_HRTIMER_EXPIRE_EXIT:
		c->expiring = NULL;
		break;
	case P_SCHED_WAKING:
		/* apic_timer_fn -> kvm_vcpu_kick wakes its halted vCPU thread */
		if (c->expiring && e->hardirq != 0)
			timer_candidate(r, c->expiring, (__u32)e->waking.pid);
		c->expiring = NULL;
		break;
	case P_KVM_APIC_ACCEPT_IRQ:
		/* evidence of the injector's VM: the vCPU that delivers it */
		if (e->hardirq != 1 && !kernel_comm(e->comm)) {
			__u32 key = (__u32)(((__u64)e->accept.apicid & 0xffffff) << 8 |
					   (e->accept.vec & 0xff)), *t;

			if ((t = kvs_table__add(&r->pending, &key, NULL)))
				*t = e->pid;
		}
		/* the first injection in a thread after an expiry of its
		 * timer, not named by a source event just before (an IPI, an
		 * MSI), to its own vCPU: the timer's
		 * (kvm_inject_apic_timer_irqs -> kvm_apic_local_deliver) */
		th = thread_of(r, e->pid, 0);
		tm = th ? th->timer : NULL;
		if (!tm || !tm->expect ||
		    (c->src_pid == e->pid && e->ts - c->src_t <= SRC_FRESH_NS) ||
		    (th->vcpu >= 0 && e->accept.apicid != th->vcpu))
			break;
		tm->expect = 0;
		if (tm->vector < 0) {
			tm->vector = (__s32)(e->accept.vec & 0xff);
			tm->vcpu = (__u32)e->accept.apicid;
		}
		break;
	}
}

/* After pass 1: each timer's thread, the first candidate that is a vCPU
 * thread (a periodic re-arm's candidate may be any task). */
static void resolve_timers(struct report *r)
{
	__u32 i;
	int j;

	for (i = 0; i < r->timers.cap; i++) {
		struct timer_info *tm = kvs_table__at(&r->timers, i, NULL);

		if (!tm)
			continue;
		tm->tid = 0;
		for (j = 0; j < tm->ncand && !tm->tid; j++) {
			struct thread_info *th = thread_of(r, tm->cand[j], 0);

			if (th && th->vcpu_thread)
				tm->tid = tm->cand[j];
		}
	}
}


/*
 * After pass 1, for a recording that does not say which process a thread
 * belongs to (a trace.dat without kvmrt-record's lines, tracefs text
 * without record-tgid, trace-cmd report, perf script without pid): vCPU
 * threads are known by their own events; if no vCPU number is on two of
 * them, they are one VM, and so are the user threads that inject
 * (the VMM's). Its pid: the one a "kvm-pit/PID" or "vhost-PID" names, else
 * the lowest of its vCPU threads' and of the injectors' seen in their own
 * context (a process's first thread is its pid).
 * Kernel threads stay their own, as they are live. With a vCPU number on
 * two threads there are several VMs: each vCPU thread is taken for a VM
 * of its own, and said so.
 */
/* The thread in slot i of pass 1's table, if the inferred VM holds it: a
 * vCPU thread, or a user thread that injects. */
static struct thread_info *vm_member_at(struct report *r, __u32 i, __u32 *pid)
{
	const void *key;
	struct thread_info *th = kvs_table__at(&r->threads, i, &key);
	const char *comm;

	if (!th || !(th->vcpu_thread || th->injects))
		return NULL;
	*pid = *(const __u32 *)key;
	comm = rec_comm(r->rec, *pid);
	return th->vcpu_thread || !comm || !kernel_comm(comm) ? th : NULL;
}

/* Several VMs without tgids: each group of threads that pass 1's
 * evidence tied together and that holds vCPU threads, none two of one vCPU
 * number, is a VM; its pid the lowest of its vCPU threads' and of its
 * injectors' seen in their own context. vCPU threads tied to no group stay
 * VMs of their own (find_vms). */
static void group_vms(struct report *r)
{
	__u32 i, pid, root;
	const void *key;
	struct group_info { __u32 vm; __u64 vcpus_seen; int bad, vcpus; } *g;
	struct kvs_table groups;

	if (kvs_table__init(&groups, sizeof(__u32), sizeof(*g), KVMRT_MAX_THREADS))
		return;
	for (i = 0; i < r->group.cap; i++) { /* each group: its vCPUs and pid */
		struct thread_info *th;

		if (!kvs_table__at(&r->group, i, &key))
			continue;
		pid = *(const __u32 *)key;
		th = thread_of(r, pid, 0);
		root = group_of(r, pid);
		if (!th || !(g = kvs_table__add(&groups, &root, NULL)))
			continue;
		if (th->vcpu_thread) {
			g->vcpus++;
			if (th->vcpu >= 0 && th->vcpu < 64 && (g->vcpus_seen >> th->vcpu & 1))
				g->bad = 1; /* two threads of one vCPU number: not one VM */
			if (th->vcpu >= 0 && th->vcpu < 64)
				g->vcpus_seen |= 1ULL << th->vcpu;
		}
		if ((th->vcpu_thread || th->injects_in_task) && (!g->vm || pid < g->vm))
			g->vm = pid;
	}
	for (i = 0; i < r->group.cap; i++) {
		if (!kvs_table__at(&r->group, i, &key))
			continue;
		pid = *(const __u32 *)key;
		root = group_of(r, pid);
		g = kvs_table__get(&groups, &root);
		if (!g || g->bad || !g->vcpus || !g->vm)
			continue;
		rec_tgid_set(r->rec, pid, g->vm);
		if (pid == root)
			r->grouped_vms++;
	}
	kvs_table__free(&groups);
}

static void infer_vm(struct report *r)
{
	__u32 i, pid, vm = 0, owner, seen[KVMRT_MAX_VCPUS_SEEN] = { 0 };
	__s64 tgid;

	for (i = 0; i < r->threads.cap; i++) {
		struct thread_info *th = vm_member_at(r, i, &pid);

		if (!th)
			continue;
		if (th->vcpu_thread && th->vcpu >= 0 && th->vcpu < KVMRT_MAX_VCPUS_SEEN &&
		    seen[th->vcpu]++)
			r->several_vms = 1;
		/* its pid: a vCPU thread's, or an injector's known to run in
		 * its own context (without irq flags, a hard irq's injection
		 * may have landed on any task: not a name for the VM) */
		if ((th->vcpu_thread || th->injects_in_task) && (!vm || pid < vm))
			vm = pid;
	}
	for (i = 0; i < r->rec->tasks.cap; i++) {
		const char *comm = rec_task_at(r->rec, i, &pid, &tgid);

		if (comm && vmreg_parse_injector_comm(comm, &owner))
			vm = owner;
	}
	if (r->several_vms) {
		group_vms(r);
		return;
	}
	if (!vm)
		return;
	r->inferred_vm = vm;
	for (i = 0; i < r->threads.cap; i++)
		if (vm_member_at(r, i, &pid))
			rec_tgid_set(r->rec, pid, vm);
	rec_tgid_set(r->rec, vm, vm);
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static int cmp_named(const void *a, const void *b)
{
	return cmp_u32(&((const struct named_thread *)a)->vm, &((const struct named_thread *)b)->vm);
}

/* After pass 1: the processes that hold a VM, and the threads their
 * comms name as theirs. */
static int find_vms(struct report *r)
{
	__u32 i, n = 0, pid, id, cap = r->threads.n + 1;
	const void *key;
	__s64 tgid;

	r->vms = calloc(cap, sizeof(*r->vms));
	if (!r->vms)
		return -ENOMEM;
	for (i = 0; i < r->threads.cap; i++) {
		struct thread_info *th = kvs_table__at(&r->threads, i, &key);

		if (!th || !th->vcpu_thread)
			continue;
		tgid = rec_tgid(r->rec, *(const __u32 *)key);
		if (tgid <= 0 && r->several_vms) /* no tgids: a VM of its own */
			rec_tgid_set(r->rec, *(const __u32 *)key, (__u32)(tgid = *(const __u32 *)key));
		if (tgid > 0)
			r->vms[n++] = (__u32)tgid;
	}
	qsort(r->vms, n, sizeof(*r->vms), cmp_u32);
	for (i = 0; i < n; i++)
		if (!r->nvms || r->vms[r->nvms - 1] != r->vms[i])
			r->vms[r->nvms++] = r->vms[i];
	for (i = 0; i < r->rec->tasks.cap; i++) {
		const char *comm = rec_task_at(r->rec, i, &pid, &tgid);
		struct named_thread nt = { .tid = pid };

		if (!comm || !comm[0])
			continue;
		if (tgid > 0 && vmreg_parse_vcpu_comm(comm, &id)) {
			nt.vm = (__u32)tgid;
			nt.vcpu = id;
		} else if (vmreg_parse_injector_comm(comm, &id)) {
			nt.vm = id;
			nt.injector = 1;
		} else {
			continue;
		}
		if (r->nnamed % 64 == 0) {
			struct named_thread *p = realloc(r->named, (r->nnamed + 64) * sizeof(*p));

			if (!p)
				return -ENOMEM;
			r->named = p;
		}
		if (r->nnamed < KVMRT_MAX_THREADS + REPORT_MAX_INJECTORS)
			r->named[r->nnamed++] = nt;
	}
	if (r->nnamed) /* qsort may not take NULL, even for none */
		qsort(r->named, r->nnamed, sizeof(*r->named), cmp_named);
	return 0;
}

static int is_vm(struct report *r, __u32 tgid)
{
	return bsearch(&tgid, r->vms, r->nvms, sizeof(*r->vms), cmp_u32) != NULL;
}

/* A process seen with a VM for the first time: what kvmrt's registry reads
 * from /proc, from the recording's comms instead: vCPU threads by name,
 * the kernel threads that inject for it (vmreg.c). */
static void register_vm(struct report *r, __u32 vm)
{
	__u32 lo = 0, hi = r->nnamed, i;

	while (lo < hi) { /* the first entry of vm */
		__u32 mid = lo + (hi - lo) / 2;

		if (r->named[mid].vm < vm)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < r->nnamed && r->named[i].vm == vm; i++) {
		if (r->named[i].injector)
			kvs__add_injector(&r->s, r->named[i].tid, vm);
		else
			kvs__add_thread(&r->s, r->named[i].tid, vm, r->named[i].vcpu);
	}
}

static void on_record(void *ctx, const void *rec, size_t len)
{
	struct report *r = ctx;
	const struct kvmrt_ctl_rec *c = rec;

	if (c->type == REC_VM) {
		register_vm(r, c->tgid);
	} else if (c->type == REC_OUTLIER && len >= sizeof(struct kvmrt_outlier)) {
		const struct kvmrt_outlier *o = rec;
		struct kvmrt_vcpu_key vk = { .tgid = o->tgid, .vcpu = o->vcpu };
		struct kvmrt_ep_done d = outlier_episode(o);
		__u64 *p99 = r->p99.vals ? kvs_table__get(&r->p99, &vk) : NULL;
		struct outlier_causes oc;

		if (p99 && ep_response_ns(&d) < *p99)
			return; /* -a without -T: only its vCPU's slowest 1% */

		if (r->analyze)
			causes__explain(&r->feed, rec, &oc);
		results__outlier(&r->t, rec, r->analyze ? &oc : NULL);
	}
}

/* An expiring LAPIC timer, as the BPF program reads it from its kvm_lapic. */
static void lapic_timer(struct report *r, const struct rec_event *e)
{
	struct timer_info *tm = timer_of(r, (__u64)e->hrtimer.hrtimer, 0);
	__u32 tid = tm ? (tm->owner ? tm->owner : tm->tid) : 0;
	struct thread_info *th = tid ? thread_of(r, tid, 0) : NULL;
	__s64 tgid = th ? rec_tgid(r->rec, tid) : -1, lvtt;

	if (!e->hrtimer.is_apic_timer)
		return; /* another hrtimer: the program leaves at once */
	lvtt = th && th->lvtt >= 0 ? th->lvtt : tm ? tm->vector : -1;
	if (!th || tgid <= 0 || lvtt < 0) {
		r->timers_unnamed++;
		kvs_hit(&r->s, P_HRTIMER_EXPIRE_ENTRY); /* the program ran */
		return;
	}
	on_lapic_timer(&r->s, (__u32)tgid, tid, th->vcpu >= 0 ? (__u32)th->vcpu : tm->vcpu,
		       (__u32)lvtt);
}

/* An LAPIC timer armed by a vCPU thread in its own context (start_sw_timer:
 * the guest programmed it) is that thread's from now on. */
static void lapic_timer_armed(struct report *r, const struct rec_event *e)
{
	struct thread_info *th = thread_of(r, e->pid, 0);
	struct timer_info *tm;

	if (!e->hrtimer.is_apic_timer || e->hardirq > 0 || !th || !th->vcpu_thread)
		return;
	tm = timer_of(r, (__u64)e->hrtimer.hrtimer, 0);
	if (tm)
		tm->owner = e->pid;
}

/* Pass 2, around the handler: what a recording shows that a live trace
 * need not name. A vector injected again and again ([reinjected]: an exit
 * during its delivery each time, an EPT violation say) before it ends: the
 * longest such run per vCPU thread. An end (kvm_eoi, kvm_ack_irq) that
 * ended nothing: its injection was before the recording, or it had ended
 * already. */
/* The handlers' state of the vCPU thread tid runs, if they know it. */
static struct kvmrt_vcpu_state *store_vcpu(struct report *r, __u32 tid)
{
	struct kvmrt_thread *ti = kvs_thread(&r->s, tid);

	return ti ? kvs_vcpu(&r->s, &ti->vk, 0) : NULL;
}

static __u64 ended_of(struct report *r, __u32 tid, int deliveries)
{
	struct kvmrt_vcpu_state *v = store_vcpu(r, tid);

	if (!v) { /* not known to the handlers yet: nothing for it to end */
		struct thread_info *th = thread_of(r, tid, 0);

		return th && th->vcpu_thread ? 1 : 0;
	}
	return 1 + (deliveries ? v->h[M_DELIVERY].count : v->c.completed);
}

/* Is this kvm_inj_virq a re-injection? 5.19 on say so ([reinjected]);
 * before, a vector injected again while its episode, delivered, has not
 * ended is one (KVM injects a vector anew only after its EOI). */
static int reinjection(struct report *r, const struct rec_event *e)
{
	struct kvmrt_vcpu_state *v = store_vcpu(r, e->pid);
	int i = v ? ep_find(v, (__u32)e->inj.vector) : -1;

	return e->inj.reinjected || (i >= 0 && i < EP_SLOTS && v->ep[i].t_deliver);
}

static void note_reinjection(struct thread_info *th, const struct rec_event *e, int again)
{
	__u32 vector = (__u32)e->inj.vector;

	if (!again || vector != th->reinj_vector) { /* a first injection: a new run */
		th->reinj_vector = vector;
		th->reinj_count = 0;
		th->reinj_first = e->ts;
	}
	if (!again)
		return;
	th->reinj_count++;
	th->reinj_last = e->ts;
	if (th->reinj_count > th->best_count) {
		th->best_vector = vector;
		th->best_count = th->reinj_count;
		th->best_span = th->reinj_last - th->reinj_first;
	}
}

/* Pass 2: one event to its handler (handlers.h). The handlers take
 * scalars: here each case passes the event's fields by name (struct
 * rec_event), where bpf/kvmrt.bpf.c's entry point reads the same values
 * from the tracepoint's arguments; one case per tracepoint, in the entry
 * points' order, so the two read side by side. */
static void handle(struct report *r, const struct rec_event *e)
{
	struct kvs *s = &r->s;
	__u32 tgid = e->tgid >= 0 ? (__u32)e->tgid : e->pid; /* a kernel thread's is its pid */
	int kthread = e->pid == 0 || !is_vm(r, tgid);

	if (kvs__event(s, e->ts, e->cpu, tgid, e->pid, kthread))
		return;
	kvs__event_comm(s, e->comm);
	/* several VMs without tgids: a user thread's injection that the
	 * evidence tied to no VM goes the kernel threads' way (bound to the
	 * vCPU it wakes, if one does on its CPU), and is counted */
	if (r->several_vms && e->kind == P_KVM_APIC_ACCEPT_IRQ && kthread && e->pid &&
	    !kernel_comm(e->comm) && e->hardirq != 1)
		r->ambiguous++;
	switch (e->kind) {
	case P_KVM_SET_IRQ:
		on_kvm_set_irq(s, (int)e->set_irq.level);
		break;
	case P_KVM_MSI_SET_IRQ:
		on_kvm_msi_set_irq(s);
		break;
	case P_KVM_IOAPIC_SET_IRQ:
		on_kvm_ioapic_set_irq(s);
		break;
	case P_KVM_APIC_IPI:
		on_kvm_apic_ipi(s);
		break;
	case P_KVM_PIC_SET_IRQ:
		on_kvm_pic_set_irq(s, (__u8)e->pic.chip, (__u8)e->pic.pin,
				   e->pic.masked ? (__u8)(1 << (e->pic.pin & 7)) : 0,
				   (int)e->pic.coalesced);
		break;
	case P_KVM_APIC_ACCEPT_IRQ:
		on_kvm_apic_accept_irq(s, (__u32)e->accept.apicid, (__u32)e->accept.dm,
				       (__u32)e->accept.vec);
		break;
	case RK_HRTIMER_START:
		lapic_timer_armed(r, e);
		break;
	case P_HRTIMER_EXPIRE_ENTRY:
		lapic_timer(r, e);
		break;
	case P_HRTIMER_EXPIRE_EXIT:
		if (timer_of(r, (__u64)e->hrtimer.hrtimer, 0)) /* an LAPIC timer's */
			on_lapic_timer_done(s);
		break;
	case P_SCHED_WAKING:
		on_sched_waking(s, (__u32)e->waking.pid);
		break;
	case P_SCHED_SWITCH:
		s->prev_runnable = (int)e->sw.prev_runnable;
		memcpy(s->prev_comm, e->tcomm, KVMRT_COMM_LEN);
		on_sched_switch(s, (__u32)e->sw.prev_pid, (__u32)e->sw.next_pid);
		break;
	case P_KVM_VCPU_WAKEUP:
		on_kvm_vcpu_wakeup(s, (__u64)e->wakeup.ns);
		break;
	case P_KVM_INJ_VIRQ:
		on_kvm_inj_virq(s, (__u32)e->inj.vector);
		break;
	case P_KVM_ENTRY:
		s->vcpu_id = (__u32)e->entry.vcpu_id;
		on_kvm_entry(s);
		break;
	case P_KVM_EXIT:
		if (e->exit.vcpu_id < 0) { /* a kvm_exit that prints no vcpu: the thread's */
			struct thread_info *th = thread_of(r, e->pid, 0);

			if (!th || th->vcpu < 0)
				break;
			s->vcpu_id = (__u32)th->vcpu;
		} else {
			s->vcpu_id = (__u32)e->exit.vcpu_id;
		}
		s->exit_reason = (__u32)e->exit.reason;
		on_kvm_exit(s, (__u32)e->exit.isa);
		break;
	case P_KVM_EOI:
		s->vcpu_id = (__u32)e->eoi.apicid;
		on_kvm_eoi(s, (int)e->eoi.vector);
		break;
	case P_KVM_ACK_IRQ:
		on_kvm_ack_irq(s, (__u32)e->ack.irqchip, (__u32)e->ack.pin);
		break;
	case P_KVM_APICV_ACCEPT_IRQ:
		on_kvm_apicv_accept_irq(s, (__u32)e->accept.apicid, (__u32)e->accept.vec);
		break;
	case P_KVM_PV_EOI:
		s->vcpu_id = (__u32)e->eoi.apicid;
		on_kvm_pv_eoi(s, (int)e->eoi.vector);
		break;
	case P_KVM_WAIT_LAPIC_EXPIRE:
		on_kvm_wait_lapic_expire(s, (__u32)e->lapic_expire.vcpu_id, e->lapic_expire.delta);
		break;
	case P_KVM_APICV_INHIBIT_CHANGED:
		on_kvm_apicv_inhibit_changed(s, (__u64)e->inhibit.inhibits);
		break;
	case P_KVM_PIO:
		s->pio_value = (__u8)e->pio.val;
		on_kvm_pio(s, (__u32)e->pio.out, (__u32)e->pio.port);
		break;
	case RK_KVM_APIC:
		/* the LVT timer's vector and mask, as the register page holds them */
		if (e->apic.write && e->apic.reg == KVMRT_APIC_LVTT) {
			struct thread_info *th = thread_of(r, e->pid, 0);

			if (th)
				th->lvtt = e->apic.val & 0xffffffff;
		}
		break;
	}
}

static void handle_noting(struct report *r, const struct rec_event *e)
{
	int is_end = e->kind == P_KVM_EOI || e->kind == P_KVM_ACK_IRQ;
	int is_inj = e->kind == P_KVM_INJ_VIRQ, again = is_inj && reinjection(r, e);
	__u64 before = is_end || (is_inj && !again) ? ended_of(r, e->pid, is_inj) : 0;
	struct thread_info *th;

	handle(r, e);
	if (!is_inj && !is_end)
		return;
	th = thread_of(r, e->pid, 0);
	if (!th)
		return;
	if (before && ended_of(r, e->pid, is_inj) == before) {
		if (is_inj)
			th->deliveries_unmatched++;
		else
			th->ends_unmatched++;
	}
	if (is_inj) {
		note_reinjection(th, e, again);
	} else {
		th->reinj_count = 0; /* the run, if any, ended */
		th->reinj_vector = 0;
	}
}

/* What the recording lacks, said once (never refused for it: a recording
 * of kvm:* alone, what most people record, has injection, delivery, end
 * and exits). A trace.dat says which events were enabled (their formats);
 * text only shows those that fired, so for text only the scheduler's are
 * named (the end of interrupt never fires on some hosts: APICv, AVIC).
 * And, without tgids, how the VMs were inferred. */
static void say_what_is_missing(struct report *r)
{
	int dat = !strcmp(recording__format(r->rec), "trace.dat");
	static const int kinds[] = { P_KVM_APIC_ACCEPT_IRQ, P_KVM_EOI, P_SCHED_SWITCH, P_SCHED_WAKING };
	char missing[256] = "";
	unsigned int i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		int k = kinds[i];

		if (recording__has(r->rec, k) || (!dat && k != P_SCHED_SWITCH && k != P_SCHED_WAKING) ||
		    (k == P_KVM_APIC_ACCEPT_IRQ && recording__has(r->rec, P_KVM_PIC_SET_IRQ)) ||
		    (k == P_KVM_EOI && recording__has(r->rec, P_KVM_ACK_IRQ)))
			continue;
		snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s:%s",
			 missing[0] ? ", " : "", prog_tp_system(k), prog_tp_name(k));
	}
	if (missing[0] && !recording__has(r->rec, P_SCHED_SWITCH) &&
	    !recording__has(r->rec, P_SCHED_WAKING))
		pr_warn("the recording has no sched events (%s): wake, queue, sched wait and blame "
			"not observed", missing);
	else if (missing[0])
		pr_warn("the recording lacks %s: what needs them is not observed", missing);
	if (r->inferred_vm)
		pr_warn("the recording has no tgids: one VM inferred (pid %u), its threads by their "
			"KVM events", r->inferred_vm);
	else if (r->several_vms && r->grouped_vms)
		pr_warn("the recording has no tgids and more than one VM: %u inferred from which "
			"vCPU delivered each injection (any other vCPU thread: a VM of its own)",
			r->grouped_vms);
	else if (r->several_vms)
		pr_warn("the recording has no tgids and more than one VM: each vCPU thread is "
			"reported as a VM of its own");
}

static int read_pass(struct report *r, int pass);

/* What pass 2 noted in pass 1's thread table, cleared for another pass 2. */
static void forget_pass2(struct report *r)
{
	__u32 i;

	for (i = 0; i < r->threads.cap; i++) {
		struct thread_info *th = kvs_table__at(&r->threads, i, NULL);

		if (!th)
			continue;
		th->lvtt = -1;
		th->ends_unmatched = th->deliveries_unmatched = 0;
		th->reinj_vector = th->reinj_count = th->best_vector = th->best_count = 0;
		th->reinj_first = th->reinj_last = th->best_span = 0;
	}
	for (i = 0; i < r->timers.cap; i++) {
		struct timer_info *tm = kvs_table__at(&r->timers, i, NULL);

		if (tm)
			tm->owner = 0;
	}
	r->ambiguous = 0;
	r->timers_unnamed = 0;
}

/* -a without -T: a first pass 2 over every episode gives each vCPU's
 * slowest 1% (hist_slowest_from: where it begins); the real one records
 * the episodes from the lowest of them on, and keeps each vCPU's from its
 * own on (on_record). */
static int find_p99s(struct report *r)
{
	__u64 lowest = ~0ULL;
	const void *key;
	__u32 i;
	int analyze = r->analyze;

	r->analyze = 0;
	if (read_pass(r, 2) ||
	    kvs_table__init(&r->p99, sizeof(struct kvmrt_vcpu_key), sizeof(__u64), KVMRT_MAX_VCPUS))
		return -1;
	for (i = 0; i < r->s.vcpus.cap; i++) {
		struct kvmrt_vcpu_state *v = kvs_table__at(&r->s.vcpus, i, &key);
		__u64 *p;

		if (!v || !v->h[M_RESPONSE].count || !(p = kvs_table__add(&r->p99, key, NULL)))
			continue;
		*p = hist_slowest_from(&v->h[M_RESPONSE], 0.01);
		if (*p && *p < lowest)
			lowest = *p;
	}
	kvs__free(&r->s);
	forget_pass2(r);
	r->analyze = analyze;
	if (kvs__init(&r->s, lowest == ~0ULL ? 1 : lowest, on_record, r))
		return -1;
	r->s.tsc_khz = r->tsc_khz;
	return 0;
}

static int read_pass(struct report *r, int pass)
{
	struct rec_event e;
	char err[256];
	int ret;

	if (pass == 2 && recording__rewind(r->rec, err, sizeof(err))) {
		pr_err("%s: %s", esc_str(r->input), err);
		return -1;
	}
	while ((ret = recording__next(r->rec, &e, err, sizeof(err))) > 0) {
		if (pass == 1) {
			if (!r->nevents++)
				r->first_ts = e.ts;
			r->last_ts = e.ts;
			learn(r, &e);
		} else {
			if (r->analyze && if_feed__event(&r->feed, &e)) {
				pr_err("%s: out of memory for -a's timeline", esc_str(r->input));
				return -1;
			}
			handle_noting(r, &e);
		}
	}
	if (ret < 0) {
		pr_err("%s: %s", esc_str(r->input), err);
		return -1;
	}
	return 0;
}

/* -a: the threads pass 1 found, followed through pass 2 */
static int track_threads(struct report *r)
{
	const void *key;
	__u32 i;

	for (i = 0; i < r->threads.cap; i++)
		if (kvs_table__at(&r->threads, i, &key) && if_feed__track(&r->feed, *(const __u32 *)key))
			return -1;
	return 0;
}

static const char *comm_of(void *ctx, __u32 pid)
{
	struct report *r = ctx;

	return rec_comm(r->rec, pid);
}

static const char *vm_name(void *ctx, __u32 pid)
{
	struct report *r = ctx;
	const char *comm = rec_comm(r->rec, pid);
	static char buf[4 * KVMRT_COMM_LEN + 1];

	if (comm) /* the recording's, so escaped as a live VM's name is */
		return esc(buf, sizeof(buf), comm, strnlen(comm, KVMRT_COMM_LEN));
	snprintf(buf, sizeof(buf), "pid-%u", pid);
	return buf;
}

/* What the recording's end and its events say of a vCPU (rec_findings). */
static void recording_findings(struct report *r, const struct kvmrt_vcpu_state *st,
			       struct rec_findings *f)
{
	struct thread_info *th = st->tid ? thread_of(r, st->tid, 0) : NULL;
	int i;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < EP_SLOTS; i++) {
		if (!(st->ep[i].flags & EP_USED))
			continue;
		f->pending_at_end++;
		if (!ep_delivered(&st->ep[i]))
			f->undelivered[f->nundelivered++] = st->ep[i].vector;
	}
	if (!th)
		return;
	f->ends_unmatched = th->ends_unmatched;
	f->deliveries_unmatched = th->deliveries_unmatched;
	f->reinj_vector = th->best_vector;
	f->reinj_count = th->best_count;
	f->reinj_span_ns = th->best_span;
}

/* The store's tables as the snapshot the printing reads (the collector
 * does the same from the BPF maps): VMs the handlers know, their vCPUs. */
static int build_snapshot(struct report *r, struct snapshot *snap)
{
	const struct kvs_table *t;
	const void *key;
	__u32 i;

	memset(snap, 0, sizeof(*snap));
	t = &r->s.vms;
	for (i = 0; i < t->cap; i++) {
		struct vm_stats *vm;

		if (!kvs_table__at(t, i, &key))
			continue;
		vm = snapshot__add_vm(snap, *(const __u32 *)key);
		if (!vm)
			return -ENOMEM;
		snprintf(vm->name, sizeof(vm->name), "%s", vm_name(r, vm->pid));
		vm->alive = 1;
	}
	t = &r->s.vcpus;
	for (i = 0; i < t->cap; i++) {
		const struct kvmrt_vcpu_key *vk;
		const struct kvmrt_vcpu_state *st;
		struct vm_stats *vm;
		struct vcpu_stats *v;

		st = kvs_table__at(t, i, &key);
		vk = key;
		if (!st || !(vm = snapshot__vm(snap, vk->tgid)))
			continue; /* injections for processes that are no VM: noise */
		v = snapshot__add_vcpu(vm, vk->vcpu);
		if (!v)
			return -ENOMEM;
		memcpy(v->h, st->h, sizeof(v->h));
		v->c = ep_counters_final(st); /* the recording is over */
		v->tid = st->tid;
		recording_findings(r, st, &v->rec);
	}
	t = &r->s.exits;
	for (i = 0; i < t->cap; i++) {
		const struct kvmrt_exit_key *ek;
		const struct kvmrt_exit_val *x = kvs_table__at(t, i, &key);
		struct vm_stats *vm;
		struct vcpu_stats *v;
		struct exit_stat *es;

		ek = key;
		if (!x || !(vm = snapshot__vm(snap, ek->vk.tgid)) ||
		    !(v = snapshot__add_vcpu(vm, ek->vk.vcpu)))
			continue;
		es = realloc(v->exits, (v->nexits + 1) * sizeof(*es));
		if (!es)
			return -ENOMEM;
		v->exits = es;
		es[v->nexits++] = (struct exit_stat){ .isa = ek->isa, .reason = ek->reason,
						      .count = x->count, .sum_ns = x->sum_ns };
	}
	t = &r->s.apicv;
	for (i = 0; i < t->cap; i++) {
		const struct kvmrt_apicv *a = kvs_table__at(t, i, &key);
		struct vm_stats *vm;

		if (a && (vm = snapshot__vm(snap, *(const __u32 *)key)))
			vm->apicv = *a;
	}
	memcpy(snap->hits, r->s.hits, sizeof(snap->hits));
	snap->lost = r->s.lost + r->rec->lost; /* the recording's own, and the store's */
	snapshot__sort(snap);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: kvmrt report -i FILE [OPTIONS]\n"
		   "kvmrt trace's analysis from a recording: a trace-cmd trace.dat, or text from\n"
		   "tracefs, trace-cmd report or perf script. kvmrt-record(1): how to record.\n\n"
		   "  -i, --input FILE       the recording\n"
		   "      --tsc-khz KHZ      the guests' TSC rate, for kvm_wait_lapic_expire's\n"
		   "                         cycles (a recording does not hold it; without it\n"
		   "                         timer lateness is not reported)\n"
		   RESULTS_USAGE
		   "                         (-a: with kvmrt-record -a's irq, vector and NMI events)\n"
		   SESSION_USAGE);
}

static int parse_args(struct report *r, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "tsc-khz", required_argument, NULL, OPT_TSC_KHZ },
		RESULTS_LONGOPTS,
		SESSION_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	int c, ret;

	results_opts_init(&r->t.o);
	optind = 1;
	while ((c = getopt_long(argc, argv, "i:" RESULTS_SHORTOPTS SESSION_SHORTOPTS, longopts, NULL)) != -1) {
		int so = session_option(c, results_option(&r->t.o, c, optarg), usage, &ret);

		if (so < 0)
			return ret;
		if (so)
			continue;
		switch (c) {
		case 'i':
			r->input = optarg;
			break;
		case OPT_TSC_KHZ: {
			double khz;

			if (cli_number("--tsc-khz", optarg, 1, 100000000, &khz))
				return 2;
			r->tsc_khz = (__u32)khz;
			break;
		}
		default:
			return 2;
		}
	}
	if (cli_no_extra_args("report", argc, argv))
		return 2;
	if (!r->input) {
		pr_err("report: -i FILE is required (a trace.dat or tracefs text recording)");
		return 2;
	}
	r->analyze = r->t.o.analyze;

	return 0;
}

static void report_free(struct report *r)
{
	recording__close(r->rec);
	if_feed__free(&r->feed);
	kvs__free(&r->s);
	results__free(&r->t);
	kvs_table__free(&r->timers);
	kvs_table__free(&r->threads);
	kvs_table__free(&r->pending);
	kvs_table__free(&r->p99);
	kvs_table__free(&r->group);
	free(r->cpus);
	free(r->vms);
	free(r->named);
}

int cmd_report(int argc, char **argv)
{
	struct report r = { 0 };
	struct snapshot snap;
	char err[256];
	__u64 t0 = mono_ns();
	int i, ret;

	ret = parse_args(&r, argc, argv);
	if (ret)
		return ret < 0 ? 0 : ret;
	r.rec = recording__open(r.input, err, sizeof(err));
	if (!r.rec) {
		pr_err("%s", err);
		return 1;
	}
	if (kvs_table__init(&r.timers, sizeof(__u64), sizeof(struct timer_info), REPORT_MAX_TIMERS) ||
	    kvs_table__init(&r.threads, sizeof(__u32), sizeof(struct thread_info), KVMRT_MAX_THREADS) ||
	    kvs_table__init(&r.pending, sizeof(__u32), sizeof(__u32), 1 << 16) ||
	    kvs_table__init(&r.group, sizeof(__u32), sizeof(__u32), KVMRT_MAX_THREADS) ||
	    results__init(&r.t, "kvmrt report", r.analyze) ||
	    (r.analyze && if_feed__init(&r.feed, comm_of, &r)) ||
	    kvs__init(&r.s, r.t.o.threshold_ns, on_record, &r)) {
		pr_err("out of memory");
		report_free(&r);
		return 1;
	}
	r.s.tsc_khz = r.tsc_khz; /* as a kvm_entry would read it */
	r.t.vm_name = vm_name;
	r.t.name_ctx = &r;
	/* pass 1 reads it all: a bad file fails here, before any output */
	if (read_pass(&r, 1)) {
		report_free(&r);
		return 1;
	}
	if (!recording__has_tgids(r.rec))
		infer_vm(&r);
	say_what_is_missing(&r);
	if (find_vms(&r)) {
		report_free(&r);
		return 1;
	}
	resolve_timers(&r);
	if (r.analyze && track_threads(&r)) {
		pr_err("out of memory");
		report_free(&r);
		return 1;
	}
	if (r.analyze && !r.t.o.threshold_ns && find_p99s(&r)) {
		pr_err("out of memory, or the recording changed under us");
		report_free(&r);
		return 1;
	}
	if (read_pass(&r, 2)) {
		report_free(&r);
		return 1;
	}
	r.t.events_read = r.rec->seen;
	for (i = 0; i < P_NR; i++) {
		r.t.attached[i] = recording__has(r.rec, i);
		r.t.prog_mode[i] = r.t.attached[i] ? "recorded" : "off";
	}
	if (!r.t.o.quiet) {
		double secs = (mono_ns() - t0) / 1e9;

		int passes = r.p99.vals ? 3 : 2;

		fprintf(stderr, "kvmrt: %s: %llu records read %s in %.2f s (%.0f/s), %llu kvmrt reads\n",
			recording__format(r.rec), (unsigned long long)r.rec->records / passes,
			passes == 2 ? "twice" : "3 times", secs,
			secs > 0 ? r.rec->records / secs : 0.0, (unsigned long long)r.nevents);
	}
	if (r.ambiguous)
		pr_warn("%llu injections from threads the recording ties to no VM: counted only "
			"where the vCPU they woke shows whose they were",
			(unsigned long long)r.ambiguous);
	r.t.ambiguous_injections = r.ambiguous;
	if (r.timers_unnamed)
		pr_warn("%llu LAPIC timer expiries whose vCPU or vector the recording does not show "
			"were left out",
			(unsigned long long)r.timers_unnamed);
	if (build_snapshot(&r, &snap)) {
		pr_err("out of memory");
		report_free(&r);
		return 1;
	}
	ret = results__print(&r.t, &snap, (r.last_ts - r.first_ts) / 1e9);
	snapshot__free(&snap);
	report_free(&r);
	return ret;
}
