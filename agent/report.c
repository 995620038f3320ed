// SPDX-License-Identifier: GPL-2.0
/*
 * kvmrt report: kvmrt trace's analysis from a recording (trace.dat or
 * tracefs text), through the same handlers the BPF programs run
 * (include/handlers.h over agent/store.c), event by event.
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
#include "clock.h"
#include "commands.h"
#include "log.h"
#include "recording.h"
#include "results.h"
#include "store.h"
#include "vmreg.h"

#define REPORT_MAX_TIMERS 4096

/* A LAPIC timer's hrtimer, as pass 1 learned it. */
struct timer_info {
	__u64 hrtimer;
	__u32 tid;	/* its vCPU thread, 0 until known */
	__u32 vcpu;
	__s32 vector;	/* of the injection after an expiry, -1 until known */
	int used;
	int expect;	/* expired: the thread's next injection says its vector */
};

/* A vCPU thread, as pass 1 learned it (the vCPU number from kvm_eoi,
 * kvm_exit or kvm_entry, whose kvm_vcpu the BPF programs read). */
struct thread_info {
	__u32 tid;
	__s32 vcpu;	/* -1: a vCPU thread whose number no event gave */
	struct timer_info *timer; /* its LAPIC timer */
	__s64 lvtt;	/* pass 2: the last LVT timer write seen, -1 none */
	int used;
};

#define THREAD_SLOTS (2 * KVMRT_MAX_THREADS)
#define TIMER_SLOTS (2 * REPORT_MAX_TIMERS)

struct report {
	struct results t;
	const char *input;
	struct recording *rec;
	struct kvs s;
	struct timer_info *timers;
	struct thread_info *threads;
	__u32 ntimers, nthreads;
	struct timer_info **expiring; /* per CPU: the LAPIC timer expiring there */
	__u32 ncpus;
	__u32 *vms;	/* processes with a vCPU thread, sorted (pass 1) */
	__u32 nvms;
	__u64 first_ts, last_ts, nevents;
	__u64 timers_unnamed;	/* expiries whose vCPU the recording does not say */
	int err;
};

static struct thread_info *thread_of(struct report *r, __u32 tid, int add)
{
	__u32 i = (tid * 2654435761u) & (THREAD_SLOTS - 1);

	while (r->threads[i].used && r->threads[i].tid != tid)
		i = (i + 1) & (THREAD_SLOTS - 1);
	if (r->threads[i].used)
		return &r->threads[i];
	if (!add || r->nthreads >= KVMRT_MAX_THREADS)
		return NULL;
	r->nthreads++;
	r->threads[i] = (struct thread_info){ .tid = tid, .vcpu = -1, .lvtt = -1, .used = 1 };
	return &r->threads[i];
}

static struct timer_info *timer_of(struct report *r, __u64 hrtimer, int add)
{
	__u32 i = (__u32)((hrtimer >> 4) * 2654435761u) & (TIMER_SLOTS - 1);

	while (r->timers[i].used && r->timers[i].hrtimer != hrtimer)
		i = (i + 1) & (TIMER_SLOTS - 1);
	if (r->timers[i].used)
		return &r->timers[i];
	if (!add || r->ntimers >= REPORT_MAX_TIMERS)
		return NULL;
	r->ntimers++;
	r->timers[i] = (struct timer_info){ .hrtimer = hrtimer, .vector = -1, .used = 1 };
	return &r->timers[i];
}

/* The timer expiring in this CPU's hard interrupt, if any. */
static struct timer_info **expiring(struct report *r, __u32 cpu)
{
	static struct timer_info *none;

	if (cpu >= r->ncpus) {
		struct timer_info **p;
		__u32 n = cpu + 1;

		if (cpu >= KVS_MAX_CPUS)
			return &none;
		p = realloc(r->expiring, n * sizeof(*p));
		if (!p)
			return &none;
		memset(p + r->ncpus, 0, (n - r->ncpus) * sizeof(*p));
		r->expiring = p;
		r->ncpus = n;
	}
	none = NULL;
	return &r->expiring[cpu];
}

static void learn_timer_thread(struct report *r, struct timer_info *tm, __u32 tid)
{
	struct thread_info *th;

	if (tm->tid || !tid)
		return;
	tm->tid = tid;
	th = thread_of(r, tid, 1);
	if (th)
		th->timer = tm;
}

/* Pass 1: one event. */
static void learn(struct report *r, const struct rec_event *e)
{
	struct thread_info *th;
	struct timer_info *tm, **x;

	switch (e->kind) {
	case P_KVM_EOI: /* apicid is apic->vcpu->vcpu_id */
	case P_KVM_EXIT:
	case P_KVM_ENTRY:
		th = thread_of(r, e->pid, 1);
		if (th)
			th->vcpu = (__s32)e->a[0];
		break;
	case P_KVM_VCPU_WAKEUP:
	case P_KVM_INJ_VIRQ:
		thread_of(r, e->pid, 1); /* only vCPU threads emit these */
		break;
	case RK_HRTIMER_START:
		/* armed by its vCPU thread (start_sw_timer, migration), or
		 * re-armed in the hard interrupt (periodic): only the first
		 * says whose it is */
		if (e->a[1] && !e->hardirq && e->pid) {
			tm = timer_of(r, (__u64)e->a[0], 1);
			if (tm)
				learn_timer_thread(r, tm, e->pid);
		}
		break;
	case P_HRTIMER_EXPIRE_ENTRY:
		x = expiring(r, e->cpu);
		*x = e->a[1] ? timer_of(r, (__u64)e->a[0], 1) : NULL;
		if (*x)
			(*x)->expect = 1;
		break;
	case RK_HRTIMER_EXPIRE_EXIT:
		*expiring(r, e->cpu) = NULL;
		break;
	case P_SCHED_WAKING:
		/* apic_timer_fn -> kvm_vcpu_kick wakes its halted vCPU thread */
		x = expiring(r, e->cpu);
		if (*x && e->hardirq)
			learn_timer_thread(r, *x, (__u32)e->a[0]);
		*x = NULL;
		break;
	case P_KVM_APIC_ACCEPT_IRQ:
		/* the first injection in the thread after an expiry is the
		 * timer's (kvm_inject_apic_timer_irqs -> kvm_apic_local_deliver) */
		th = thread_of(r, e->pid, 0);
		tm = th ? th->timer : NULL;
		if (tm && tm->expect) {
			tm->expect = 0;
			if (tm->vector < 0) {
				tm->vector = (__s32)(e->a[2] & 0xff);
				tm->vcpu = (__u32)e->a[0];
			}
		}
		break;
	}
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* After pass 1: the processes that hold a VM. */
static int find_vms(struct report *r)
{
	__u32 i, n = 0;

	r->vms = calloc(r->nthreads + 1, sizeof(*r->vms));
	if (!r->vms)
		return -ENOMEM;
	for (i = 0; i < THREAD_SLOTS; i++) {
		__s64 tgid;

		if (!r->threads[i].used)
			continue;
		tgid = rec_tgid(r->rec, r->threads[i].tid);
		if (tgid > 0)
			r->vms[n++] = (__u32)tgid;
	}
	qsort(r->vms, n, sizeof(*r->vms), cmp_u32);
	for (i = 0; i < n; i++)
		if (!r->nvms || r->vms[r->nvms - 1] != r->vms[i])
			r->vms[r->nvms++] = r->vms[i];
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
	__u32 i, n = rec_task_slots(r->rec);

	for (i = 0; i < n; i++) {
		__u32 pid, owner, vcpu;
		__s64 tgid;
		const char *comm = rec_task_at(r->rec, i, &pid, &tgid);

		if (!comm || !comm[0])
			continue;
		if (tgid == vm && vmreg_parse_vcpu_comm(comm, &vcpu))
			kvs__add_thread(&r->s, pid, vm, vcpu);
		if ((sscanf(comm, "kvm-pit/%u", &owner) == 1 || sscanf(comm, "vhost-%u", &owner) == 1) &&
		    owner == vm)
			kvs__add_injector(&r->s, pid, vm);
	}
}

static void on_record(void *ctx, const void *rec, size_t len)
{
	struct report *r = ctx;
	const struct kvmrt_ctl_rec *c = rec;

	if (c->type == REC_VM)
		register_vm(r, c->tgid);
	else if (c->type == REC_OUTLIER && len >= sizeof(struct kvmrt_outlier))
		results__outlier(&r->t, rec);
}

/* An expiring LAPIC timer, as the BPF program reads it from its kvm_lapic. */
static void lapic_timer(struct report *r, const struct rec_event *e)
{
	struct timer_info *tm = e->a[1] ? timer_of(r, (__u64)e->a[0], 0) : NULL;
	struct thread_info *th;
	__s64 tgid, lvtt;
	__u32 vcpu;

	if (!e->a[1])
		return; /* another hrtimer: the program leaves at once */
	th = tm && tm->tid ? thread_of(r, tm->tid, 0) : NULL;
	tgid = tm && tm->tid ? rec_tgid(r->rec, tm->tid) : -1;
	lvtt = th && th->lvtt >= 0 ? th->lvtt : tm ? tm->vector : -1;
	if (!th || tgid <= 0 || lvtt < 0) {
		r->timers_unnamed++;
		return;
	}
	vcpu = th->vcpu >= 0 ? (__u32)th->vcpu : tm->vcpu;
	on_lapic_timer(&r->s, (__u32)tgid, tm->tid, vcpu, (__u32)lvtt);
}

/* Pass 2: one event to its handler. */
static void handle(struct report *r, const struct rec_event *e)
{
	struct kvs *s = &r->s;
	__u32 tgid = e->tgid >= 0 ? (__u32)e->tgid : e->pid; /* a kernel thread's is its pid */
	int kthread = e->pid == 0 || !is_vm(r, tgid);

	if (kvs__event(s, e->ts, e->cpu, tgid, e->pid, kthread))
		return;
	switch (e->kind) {
	case P_KVM_SET_IRQ:
		on_kvm_set_irq(s, (int)e->a[1]);
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
		on_kvm_pic_set_irq(s, (__u8)e->a[0], (__u8)e->a[1],
				   e->a[2] ? (__u8)(1 << (e->a[1] & 7)) : 0, (int)e->a[3]);
		break;
	case P_KVM_APIC_ACCEPT_IRQ:
		on_kvm_apic_accept_irq(s, (__u32)e->a[0], (__u32)e->a[1], (__u32)e->a[2]);
		break;
	case P_HRTIMER_EXPIRE_ENTRY:
		lapic_timer(r, e);
		break;
	case P_SCHED_WAKING:
		on_sched_waking(s, (__u32)e->a[0]);
		break;
	case P_SCHED_SWITCH:
		s->prev_runnable = (int)e->a[1];
		memcpy(s->prev_comm, e->tcomm, KVMRT_COMM_LEN);
		on_sched_switch(s, (__u32)e->a[0], (__u32)e->a[2]);
		break;
	case P_KVM_VCPU_WAKEUP:
		on_kvm_vcpu_wakeup(s, (__u64)e->a[0]);
		break;
	case P_KVM_INJ_VIRQ:
		on_kvm_inj_virq(s, (__u32)e->a[0]);
		break;
	case P_KVM_ENTRY:
		s->vcpu_id = (__u32)e->a[0];
		on_kvm_entry(s);
		break;
	case P_KVM_EXIT:
		s->vcpu_id = (__u32)e->a[0];
		s->exit_reason = (__u32)e->a[2];
		on_kvm_exit(s, (__u32)e->a[1]);
		break;
	case P_KVM_EOI:
		s->vcpu_id = (__u32)e->a[0];
		on_kvm_eoi(s, (int)e->a[1]);
		break;
	case P_KVM_ACK_IRQ:
		on_kvm_ack_irq(s, (__u32)e->a[0], (__u32)e->a[1]);
		break;
	case P_KVM_PIO:
		s->pio_value = (__u8)e->a[2];
		on_kvm_pio(s, (__u32)e->a[0], (__u32)e->a[1]);
		break;
	case RK_KVM_APIC:
		/* the LVT timer's vector and mask, as the register page holds them */
		if (e->a[0] && e->a[1] == 0x320) {
			struct thread_info *th = thread_of(r, e->pid, 0);

			if (th)
				th->lvtt = e->a[2] & 0xffffffff;
		}
		break;
	}
}

/* What the latency model cannot do without. A trace.dat says which events
 * were enabled (their formats); text only shows those that fired, and on
 * some hosts the end of interrupt never does (APICv, AVIC: virtual EOI)
 * nor the LAPIC timer's hrtimer (VMX's preemption timer): those two are
 * asked of a trace.dat only. */
static const struct {
	int kinds[2];
	const char *what;
	int dat_only;
} needed[] = {
	{ { P_KVM_APIC_ACCEPT_IRQ, P_KVM_PIC_SET_IRQ }, "kvm:kvm_apic_accept_irq", 0 },
	{ { P_SCHED_SWITCH, -1 }, "sched:sched_switch", 0 },
	{ { P_SCHED_WAKING, -1 }, "sched:sched_waking", 0 },
	{ { P_KVM_EOI, P_KVM_ACK_IRQ }, "kvm:kvm_eoi", 1 },
	{ { P_HRTIMER_EXPIRE_ENTRY, -1 }, "timer:hrtimer_expire_entry", 1 },
};

static int check_recording(struct report *r)
{
	int dat = !strcmp(recording__format(r->rec), "trace.dat");
	char missing[256] = "";
	unsigned int i;

	for (i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		if ((needed[i].dat_only && !dat) || recording__has(r->rec, needed[i].kinds[0]) ||
		    (needed[i].kinds[1] >= 0 && recording__has(r->rec, needed[i].kinds[1])))
			continue;
		snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s",
			 missing[0] ? ", " : "", needed[i].what);
	}
	if (missing[0]) {
		pr_err("%s: the recording lacks events: %s (record as the README says)", r->input,
		       missing);
		return -1;
	}
	if (!recording__has_tgids(r->rec)) {
		pr_err("%s: the recording has no tgids (record with options/record-tgid and, for "
		       "trace.dat, the README's kvmrt-tgids lines)",
		       r->input);
		return -1;
	}
	return 0;
}

static int read_pass(struct report *r, int pass)
{
	struct rec_event e;
	char err[256];
	int ret;

	if (pass == 2 && recording__rewind(r->rec, err, sizeof(err))) {
		pr_err("%s: %s", r->input, err);
		return -1;
	}
	while ((ret = recording__next(r->rec, &e, err, sizeof(err))) > 0) {
		if (pass == 1) {
			if (!r->nevents++)
				r->first_ts = e.ts;
			r->last_ts = e.ts;
			learn(r, &e);
		} else {
			handle(r, &e);
		}
	}
	if (ret < 0) {
		pr_err("%s: %s", r->input, err);
		return -1;
	}
	return 0;
}

static const char *vm_name(void *ctx, __u32 pid)
{
	struct report *r = ctx;
	const char *comm = rec_comm(r->rec, pid);
	static char buf[32];

	if (comm)
		return comm;
	snprintf(buf, sizeof(buf), "pid-%u", pid);
	return buf;
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
		v->c = st->c;
		v->tid = st->tid;
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
	memcpy(snap->hits, r->s.hits, sizeof(snap->hits));
	snap->lost = r->s.lost;
	snapshot__sort(snap);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: kvmrt report -i FILE [OPTIONS]\n"
		   "kvmrt trace's analysis from a recording: a trace-cmd trace.dat or tracefs\n"
		   "text (the trace file, with options/record-tgid). README: how to record.\n\n"
		   "  -i, --input FILE       the recording\n" RESULTS_USAGE
		   "      --help             this help\n");
}

static int parse_args(struct report *r, int argc, char **argv)
{
	enum { OPT_HELP = RESULTS_OPT_LAST + 1 };
	static const struct option longopts[] = {
		{ "input", required_argument, NULL, 'i' },
		RESULTS_LONGOPTS,
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	results_opts_init(&r->t.o);
	optind = 1;
	while ((c = getopt_long(argc, argv, "i:" RESULTS_SHORTOPTS, longopts, NULL)) != -1) {
		int ropt = results_option(&r->t.o, c, optarg);

		if (ropt < 0)
			return 2;
		if (ropt)
			continue;
		switch (c) {
		case 'i':
			r->input = optarg;
			break;
		case OPT_HELP:
			usage(stdout);
			return -1;
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
	return 0;
}

static void report_free(struct report *r)
{
	recording__close(r->rec);
	kvs__free(&r->s);
	results__free(&r->t);
	free(r->timers);
	free(r->threads);
	free(r->expiring);
	free(r->vms);
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
	r.timers = calloc(TIMER_SLOTS, sizeof(*r.timers));
	r.threads = calloc(THREAD_SLOTS, sizeof(*r.threads));
	if (!r.timers || !r.threads || results__init(&r.t, "kvmrt report") ||
	    kvs__init(&r.s, r.t.o.threshold_ns, on_record, &r)) {
		pr_err("out of memory");
		report_free(&r);
		return 1;
	}
	r.t.vm_name = vm_name;
	r.t.name_ctx = &r;
	/* pass 1 reads it all: a bad file fails here, before any output */
	if (read_pass(&r, 1) || check_recording(&r) || find_vms(&r) || read_pass(&r, 2)) {
		report_free(&r);
		return 1;
	}
	for (i = 0; i < P_NR; i++) {
		r.t.attached[i] = recording__has(r.rec, i);
		r.t.prog_mode[i] = r.t.attached[i] ? "recorded" : "off";
	}
	if (!r.t.o.quiet) {
		double secs = (mono_ns() - t0) / 1e9;

		fprintf(stderr, "kvmrt: %s: %llu records read twice in %.2f s (%.0f/s), %llu kvmrt reads\n",
			recording__format(r.rec), (unsigned long long)r.rec->records / 2, secs,
			secs > 0 ? r.rec->records / secs : 0.0, (unsigned long long)r.nevents);
	}
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
