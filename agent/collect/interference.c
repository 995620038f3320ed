// SPDX-License-Identifier: GPL-2.0
/*
 * Who held each CPU (interference.h). Per CPU a stack of the contexts
 * that run over the task (softirq, hard irq), a ring of segments cut
 * wherever the innermost changes, and a ring of intervals known only
 * after the fact (an NMI's handler, a halt poll) laid over them when an
 * interval is explained.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "interference.h"

#define IF_DEPTH 8	   /* nested softirq / irq / vector contexts kept */
#define IF_RETRO_RING 4096 /* NMIs and halt polls kept per CPU */
#define IF_MAX_LABELS (1u << 16)
#define IF_MAX_THREADS (1u << 16)
#define IF_MAX_PARTS 64	   /* distinct labels in one explained interval */

struct if_seg {
	__u64 start;
	__u32 label;	/* the innermost context's */
	__u32 task;	/* the task's own label (IF_THREAD or IF_IDLE) */
	__u32 pid;	/* the task's */
	__u32 pad;
};

struct if_retro {
	__u64 start, end;
	__u32 label;
	__u32 pid;	/* halt poll: its thread; NMI: 0, over anything */
};

struct if_cpu {
	__u32 pid;		/* the current task, once a switch said */
	int known;
	__u32 epoch;		/* resets so far (if_timeline__reset) */
	__u64 reset_ts;		/* the last one's time: the task a first event names
				 * ran since then (-a: every switch after it is sent) */
	__u32 task_label;
	__u32 stack[IF_DEPTH];	/* label indexes of softirq/irq/vector contexts */
	int depth;		/* may exceed IF_DEPTH: only the first are kept */
	__u64 nsegs;		/* ever cut; ring[nsegs % IF_RING] is the next */
	struct if_seg ring[IF_RING];
	__u64 nretro;
	struct if_retro retro[IF_RETRO_RING];
};

/* Per vCPU thread: inside an exit, and out to the VMM within it; the CPU
 * and its epoch when the exit was seen (a reset of that CPU since makes
 * it stale: its entry may have gone unsent). */
struct if_thread {
	__u32 in_exit;
	__u32 exit_label;
	__u32 vmm_label;	/* 0: not out to the VMM */
	__u32 exit_cpu;
	__u32 exit_epoch;
};

static const char *const kind_names[IF_KIND_NR] = {
	[IF_UNKNOWN] = "unknown",   [IF_IDLE] = "idle",	    [IF_THREAD] = "thread",
	[IF_VCPU] = "vcpu",	    [IF_EXIT] = "exit",	    [IF_VMM] = "vmm",
	[IF_HALT_POLL] = "halt_poll", [IF_SOFTIRQ] = "softirq", [IF_IRQ] = "irq",
	[IF_VECTOR] = "irq_vector", [IF_NMI] = "nmi",
};

const char *if_kind_name(__u32 kind)
{
	return kind < IF_KIND_NR ? kind_names[kind] : "?";
}

int if_timeline__init(struct if_timeline *tl)
{
	memset(tl, 0, sizeof(*tl));
	if (kvs_table__init(&tl->labels, sizeof(struct if_label), sizeof(__u32), IF_MAX_LABELS) ||
	    kvs_table__init(&tl->threads, sizeof(__u32), sizeof(struct if_thread), IF_MAX_THREADS) ||
	    !(tl->label = calloc(IF_MAX_LABELS, sizeof(*tl->label)))) {
		if_timeline__free(tl);
		return -ENOMEM;
	}
	tl->nlabels = 1; /* index 0: unknown */
	snprintf(tl->label[0].name, IF_NAME_LEN, "other");
	return 0;
}

void if_timeline__free(struct if_timeline *tl)
{
	__u32 i;

	for (i = 0; i < tl->ncpus; i++)
		free(tl->cpus[i]);
	free(tl->cpus);
	free(tl->label);
	kvs_table__free(&tl->labels);
	kvs_table__free(&tl->threads);
	memset(tl, 0, sizeof(*tl));
}

/* The index of a label, added on first use (0, "other", when full). */
static __u32 label_of(struct if_timeline *tl, __u32 kind, __u32 id, const char *name)
{
	struct if_label l;
	__u32 *idx;
	int added;

	memset(&l, 0, sizeof(l));
	l.kind = kind;
	l.id = id;
	/* a thread is its pid, whatever its comm */
	if (name && kind != IF_THREAD)
		snprintf(l.name, sizeof(l.name), "%s", name);
	if (tl->nlabels >= IF_MAX_LABELS || !(idx = kvs_table__add(&tl->labels, &l, &added)))
		return 0;
	if (added) {
		*idx = tl->nlabels++;
		tl->label[*idx] = l;
	}
	/* named by its latest comm: a shell's fork that execs a program was
	 * "bash" when first seen, and is that program once it runs */
	if (kind == IF_THREAD && name && name[0])
		snprintf(tl->label[*idx].name, IF_NAME_LEN, "%s", name);
	return *idx;
}

static struct if_cpu *cpu_of(struct if_timeline *tl, __u32 cpu)
{
	if (cpu >= KVS_MAX_CPUS)
		return NULL;
	if (cpu >= tl->ncpus) {
		__u32 n = cpu + 1;
		struct if_cpu **p = realloc(tl->cpus, n * sizeof(*p));

		if (!p)
			return NULL;
		memset(p + tl->ncpus, 0, (n - tl->ncpus) * sizeof(*p));
		tl->cpus = p;
		tl->ncpus = n;
	}
	if (!tl->cpus[cpu])
		tl->cpus[cpu] = calloc(1, sizeof(struct if_cpu));
	return tl->cpus[cpu];
}

/* Is a thread inside the exit it was seen in (not left unseen since)? */
static int in_exit(const struct if_timeline *tl, const struct if_thread *th)
{
	return th->in_exit && (th->exit_cpu >= tl->ncpus || !tl->cpus[th->exit_cpu] ||
			       tl->cpus[th->exit_cpu]->epoch == th->exit_epoch);
}

/* The label of what runs on c now: its innermost context's, else the
 * task's (a vCPU thread's exit, or the VMM it went out to, first). */
static __u32 top_label(struct if_timeline *tl, struct if_cpu *c)
{
	struct if_thread *th;

	if (c->depth > 0)
		return c->stack[(c->depth > IF_DEPTH ? IF_DEPTH : c->depth) - 1];
	if (c->known && c->pid && (th = kvs_table__get(&tl->threads, &c->pid)) && in_exit(tl, th))
		return th->vmm_label ? th->vmm_label : th->exit_label;
	return c->task_label;
}

/* Cut a segment at ts if what runs on c changed. Time never goes back on
 * a CPU: an event seen a little out of order (-a: a hard irq's record
 * taken inside another program on that CPU) counts from the last cut. */
static void cut(struct if_timeline *tl, struct if_cpu *c, __u64 ts)
{
	__u32 label = top_label(tl, c);
	struct if_seg *last = c->nsegs ? &c->ring[(c->nsegs - 1) % IF_RING] : NULL;

	if (last && ts < last->start)
		ts = last->start;
	if (last && last->label == label && last->pid == c->pid && last->task == c->task_label)
		return;
	c->ring[c->nsegs % IF_RING] = (struct if_seg){ .start = ts, .label = label,
						       .task = c->task_label, .pid = c->pid };
	c->nsegs++;
}

int if__switch(struct if_timeline *tl, __u64 ts, __u32 cpu, __u32 next_pid, const char *next_comm)
{
	struct if_cpu *c = cpu_of(tl, cpu);

	if (!c)
		return -ENOMEM;
	c->pid = next_pid;
	c->known = 1;
	/* no irq or softirq context spans a switch (but PREEMPT_RT's softirqs,
	 * whose rest then counts for the task): one whose exit was lost or
	 * malformed ends here, not later */
	c->depth = 0;
	c->task_label = next_pid ? label_of(tl, IF_THREAD, next_pid, next_comm)
				 : label_of(tl, IF_IDLE, 0, "idle");
	cut(tl, c, ts);
	return 0;
}

int if_timeline__seen(struct if_timeline *tl, __u64 ts, __u32 cpu, __u32 pid, const char *comm)
{
	struct if_cpu *c = cpu_of(tl, cpu);

	if (!c)
		return -ENOMEM;
	return c->known ? 0 : if__switch(tl, c->reset_ts && c->reset_ts < ts ? c->reset_ts : ts, cpu,
					 pid, comm);
}

int if_timeline__reset(struct if_timeline *tl, __u64 ts, __u32 cpu)
{
	struct if_cpu *c = cpu_of(tl, cpu);

	if (!c)
		return -ENOMEM;
	c->known = 0;
	c->pid = 0;
	c->depth = 0;
	c->task_label = 0; /* "other", until an event names the task */
	c->epoch++;
	cut(tl, c, ts);
	c->reset_ts = ts;
	return 0;
}

static int push(struct if_timeline *tl, __u64 ts, __u32 cpu, __u32 label)
{
	struct if_cpu *c = cpu_of(tl, cpu);

	if (!c)
		return -ENOMEM;
	if (c->depth < IF_DEPTH)
		c->stack[c->depth] = label;
	c->depth++;
	cut(tl, c, ts);
	return 0;
}

/* Leave the innermost context of this kind, and any above it whose exit
 * was lost; an exit whose entry the recording does not hold (it began
 * before) changes nothing. Past IF_DEPTH, only the count goes down. */
static int pop(struct if_timeline *tl, __u64 ts, __u32 cpu, __u32 kind)
{
	struct if_cpu *c = cpu_of(tl, cpu);
	int i;

	if (!c)
		return -ENOMEM;
	if (c->depth > IF_DEPTH) {
		c->depth--;
		return 0;
	}
	for (i = c->depth - 1; i >= 0 && tl->label[c->stack[i]].kind != kind; i--)
		;
	if (i < 0)
		return 0;
	c->depth = i;
	cut(tl, c, ts);
	return 0;
}

int if__irq(struct if_timeline *tl, __u64 ts, __u32 cpu, int entry, __u32 irq, const char *name)
{
	return entry ? push(tl, ts, cpu, label_of(tl, IF_IRQ, irq, name)) : pop(tl, ts, cpu, IF_IRQ);
}

int if__vector(struct if_timeline *tl, __u64 ts, __u32 cpu, int entry, const char *name)
{
	return entry ? push(tl, ts, cpu, label_of(tl, IF_VECTOR, 0, name)) : pop(tl, ts, cpu, IF_VECTOR);
}

static const char *const softirq_names[] = { "HI",	"TIMER",   "NET_TX", "NET_RX",  "BLOCK",
					     "IRQ_POLL", "TASKLET", "SCHED",  "HRTIMER", "RCU" };

int if__softirq(struct if_timeline *tl, __u64 ts, __u32 cpu, int entry, __u32 vec)
{
	const char *name = vec < sizeof(softirq_names) / sizeof(softirq_names[0]) ? softirq_names[vec] : "?";

	return entry ? push(tl, ts, cpu, label_of(tl, IF_SOFTIRQ, vec, name)) : pop(tl, ts, cpu, IF_SOFTIRQ);
}

static int retro(struct if_timeline *tl, __u32 cpu, __u64 start, __u64 end, __u32 label, __u32 pid)
{
	struct if_cpu *c = cpu_of(tl, cpu);

	if (!c)
		return -ENOMEM;
	c->retro[c->nretro % IF_RETRO_RING] = (struct if_retro){ start, end, label, pid };
	c->nretro++;
	return 0;
}

int if__nmi(struct if_timeline *tl, __u64 ts, __u32 cpu, __u64 delta_ns, const char *handler)
{
	if (delta_ns > ts)
		delta_ns = ts;
	return retro(tl, cpu, ts - delta_ns, ts, label_of(tl, IF_NMI, 0, handler), 0);
}

int if__halt_poll(struct if_timeline *tl, __u64 ts, __u32 cpu, __u32 tid, __u64 ns)
{
	if (ns > ts)
		ns = ts;
	return retro(tl, cpu, ts - ns, ts, label_of(tl, IF_HALT_POLL, 0, "halt polling"), tid);
}

static struct if_thread *thread_of(struct if_timeline *tl, __u32 tid)
{
	return kvs_table__add(&tl->threads, &tid, NULL);
}

static void mark_exit(struct if_timeline *tl, struct if_thread *th, __u32 cpu)
{
	struct if_cpu *c = cpu < tl->ncpus ? tl->cpus[cpu] : NULL;

	th->exit_cpu = cpu;
	th->exit_epoch = c ? c->epoch : 0;
}

/* A vCPU thread's own state changed: cut its CPU's timeline, where it is
 * the task (the events come from that thread). */
static int thread_changed(struct if_timeline *tl, __u64 ts, __u32 cpu)
{
	struct if_cpu *c = cpu_of(tl, cpu);

	if (!c)
		return -ENOMEM;
	cut(tl, c, ts);
	return 0;
}

int if__vm_exit(struct if_timeline *tl, __u64 ts, __u32 cpu, __u32 tid, __u32 reason,
		const char *name)
{
	struct if_thread *th = thread_of(tl, tid);

	if (!th)
		return -ENOMEM;
	th->in_exit = 1;
	th->exit_label = label_of(tl, IF_EXIT, reason, name);
	th->vmm_label = 0;
	mark_exit(tl, th, cpu);
	return thread_changed(tl, ts, cpu);
}

int if__vm_entry(struct if_timeline *tl, __u64 ts, __u32 cpu, __u32 tid)
{
	struct if_thread *th = kvs_table__get(&tl->threads, &tid);

	if (!th || !th->in_exit)
		return 0;
	th->in_exit = 0;
	th->vmm_label = 0;
	return thread_changed(tl, ts, cpu);
}

int if__to_vmm(struct if_timeline *tl, __u64 ts, __u32 cpu, __u32 tid, const char *what)
{
	struct if_thread *th = thread_of(tl, tid);

	if (!th)
		return -ENOMEM;
	if (!in_exit(tl, th)) { /* a kernel without kvm_exit events: from here */
		th->in_exit = 1;
		th->exit_label = 0;
		mark_exit(tl, th, cpu);
	}
	th->vmm_label = label_of(tl, IF_VMM, 0, what);
	return thread_changed(tl, ts, cpu);
}

int if__from_vmm(struct if_timeline *tl, __u64 ts, __u32 cpu, __u32 tid)
{
	struct if_thread *th = kvs_table__get(&tl->threads, &tid);

	if (!th || !th->vmm_label)
		return 0;
	th->vmm_label = 0;
	if (!th->exit_label) /* no kvm_exit opened it: it ends here */
		th->in_exit = 0;
	return thread_changed(tl, ts, cpu);
}

/* ---- explaining an interval ---- */

struct acc {
	__u32 label[IF_MAX_PARTS];
	__u64 ns[IF_MAX_PARTS];
	int n;
};

static void add(struct acc *a, __u32 label, __u64 ns)
{
	int i;

	if (!ns)
		return;
	for (i = 0; i < a->n; i++)
		if (a->label[i] == label)
			break;
	if (i == a->n) {
		if (a->n == IF_MAX_PARTS)
			i = 0; /* label 0 is "other": always first (explain adds it first) */
		else
			a->label[a->n++] = label;
	}
	a->ns[i] += ns;
}

/* The label a segment counts under when vcpu_tid is analysed: its exits,
 * VMM and polling are its own; another thread's are that thread's. */
static __u32 seg_label(const struct if_timeline *tl, const struct if_seg *g, __u32 vcpu_tid,
		       __u32 vcpu_label)
{
	__u32 k = tl->label[g->label].kind;

	if ((k == IF_EXIT || k == IF_VMM) && g->pid != vcpu_tid)
		return g->task;
	if (k == IF_THREAD && g->pid == vcpu_tid)
		return vcpu_label;
	return g->label;
}

static __u64 overlap(__u64 a0, __u64 a1, __u64 b0, __u64 b1)
{
	__u64 lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;

	return hi > lo ? hi - lo : 0;
}

/* One piece [s, e) of a segment: its time, less what the NMIs and (for
 * the analysed thread running its own code) the halt polls inside it took. */
static void add_piece(const struct if_timeline *tl, const struct if_cpu *c, struct acc *a, __u64 s,
		      __u64 e, __u32 label, const struct if_seg *g, __u32 vcpu_tid)
{
	__u64 left = e - s, n0 = c->nretro > IF_RETRO_RING ? c->nretro - IF_RETRO_RING : 0, i;
	__u32 k = tl->label[label].kind;

	for (i = c->nretro; i-- > n0;) {
		const struct if_retro *r = &c->retro[i % IF_RETRO_RING];
		__u64 o;

		if (r->end <= s)
			break; /* kept in the order they ended: all older ones too */
		/* a halt poll: the analysed thread's own, in the HLT exit it
		 * polls in (or after its entry where kvm_exit never fires) */
		if (r->pid && !(r->pid == g->pid && r->pid == vcpu_tid && (k == IF_VCPU || k == IF_EXIT)))
			continue;
		o = overlap(s, e, r->start, r->end);
		if (o > left)
			o = left;
		add(a, r->label, o);
		left -= o;
	}
	add(a, label, left);
}

int if__explain(const struct if_timeline *tl, __u32 cpu, __u64 from, __u64 to, __u32 vcpu_tid,
		struct if_part *parts, int max)
{
	const struct if_cpu *c = cpu < tl->ncpus ? tl->cpus[cpu] : NULL;
	struct if_timeline *w = (struct if_timeline *)tl; /* labels are added, nothing else */
	__u32 vcpu_label = label_of(w, IF_VCPU, vcpu_tid, "vcpu");
	struct acc a = { .n = 1 }; /* [0]: other / unknown */
	__u64 i, n0, end = to, other = 0;
	int n, j, k, fit, reached = 0;

	if (to <= from || max < 1)
		return 0;
	if (c && c->nsegs) {
		n0 = c->nsegs > IF_RING ? c->nsegs - IF_RING : 0;
		/* newest first, down to the segment holding from */
		for (i = c->nsegs; i-- > n0;) {
			const struct if_seg *g = &c->ring[i % IF_RING];
			__u64 s = g->start > from ? g->start : from;

			if (g->start < end && s < end)
				add_piece(tl, c, &a, s, end, seg_label(tl, g, vcpu_tid, vcpu_label), g,
					  vcpu_tid);
			if (g->start < end)
				end = g->start;
			if (g->start <= from) {
				reached = 1;
				break;
			}
		}
		if (!reached && end > from)
			add(&a, 0, end - from); /* before the ring's oldest */
	} else {
		add(&a, 0, to - from);
	}
	/* biggest first; what does not fit in max parts goes into "other" */
	for (j = 1; j < a.n; j++)
		for (k = j; k > 0 && a.ns[k] > a.ns[k - 1]; k--) {
			__u64 tn = a.ns[k];
			__u32 tlb = a.label[k];

			a.ns[k] = a.ns[k - 1];
			a.label[k] = a.label[k - 1];
			a.ns[k - 1] = tn;
			a.label[k - 1] = tlb;
		}
	for (j = 0, k = 0; j < a.n; j++) {
		if (!a.label[j])
			other = a.ns[j];
		else if (a.ns[j])
			k++;
	}
	fit = k + (other > 0) <= max;
	n = 0;
	for (j = 0; j < a.n; j++) {
		if (!a.label[j] || !a.ns[j])
			continue;
		if (fit || n < max - 1) {
			parts[n].who = tl->label[a.label[j]];
			parts[n++].ns = a.ns[j];
		} else {
			other += a.ns[j];
		}
	}
	if (other) {
		parts[n].who = tl->label[0];
		parts[n++].ns = other;
	}
	return n;
}

void if_label_text(const struct if_label *l, char *buf, size_t len)
{
	switch (l->kind) {
	case IF_THREAD:
		snprintf(buf, len, "%s[%u]", l->name, l->id);
		break;
	case IF_SOFTIRQ:
		snprintf(buf, len, "softirq %s", l->name);
		break;
	case IF_IRQ:
		snprintf(buf, len, "irq %u %s", l->id, l->name);
		break;
	case IF_VECTOR:
		snprintf(buf, len, "irq %s", l->name);
		break;
	case IF_NMI:
		snprintf(buf, len, "nmi %s", l->name);
		break;
	case IF_EXIT:
		snprintf(buf, len, "exit %s", l->name[0] ? l->name : "?");
		break;
	case IF_VMM:
		snprintf(buf, len, "vmm %s", l->name);
		break;
	case IF_VCPU:
		snprintf(buf, len, "vcpu itself");
		break;
	default:
		snprintf(buf, len, "%s", l->name[0] ? l->name : if_kind_name(l->kind));
	}
}
