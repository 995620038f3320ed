// SPDX-License-Identifier: GPL-2.0
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "endpoints.h"
#include "episode.h"
#include "latency.h"
#include "analysis.h"
#include "metrics.h"
#include "names.h"
#include "procfs.h"

const __u64 metrics_bounds_ns[METRICS_NBOUNDS] = {
	1000,	  1500,	    2000,     3000,	5000,	  7000,	    10000,    15000,
	20000,	  30000,    50000,    70000,	100000,	  150000,   200000,   300000,
	500000,	  700000,   1000000,  1500000,	2000000,  3000000,  5000000,  7000000,
	10000000, 15000000, 20000000, 30000000, 50000000, 70000000, 100000000,
};

void metrics_escape(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '"')
			fputs("\\\"", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
}

__u64 metrics_cumulative(const struct kvmrt_hist *h, __u64 bound_ns)
{
	__u64 n = 0;
	unsigned int i;

	for (i = 0; i < HIST_NBUCKETS && hist_bucket_hi(i) - 1 <= bound_ns; i++)
		n += h->b[i];
	return n;
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void vm_labels(FILE *f, const char *vm, __u32 vcpu)
{
	fputs("vm=\"", f);
	metrics_escape(f, vm);
	fprintf(f, "\",vcpu=\"%u\"", vcpu);
}

/* Series are keyed by (vm name, vcpu): two live VMs of one name merge. */
struct series {
	const char *vm;
	__u32 vcpu;
	struct kvmrt_hist h[M_NR];
	struct kvmrt_counters c;
	__u64 max_last;
	__u64 boosted; /* 0 or 1 */
	__u64 exits[2][128];	/* VMX, SVM basic reasons below 128 */
	__u64 exits_other;
	__u64 interference_ns[IF_KIND_NR]; /* -a */
};

static int cmp_series(const void *a, const void *b)
{
	const struct series *x = a, *y = b;
	int c = strcmp(x->vm, y->vm);

	return c ? c : (x->vcpu < y->vcpu ? -1 : x->vcpu > y->vcpu);
}

static struct series *collect(const struct metrics_ctx *m, int *n)
{
	const struct snapshot *s = m->s;
	struct series *out;
	int i, j, k, total = 0;

	for (i = 0; i < s->nvms; i++)
		total += s->vms[i].nvcpus;
	out = calloc(total ? total : 1, sizeof(*out));
	*n = 0;
	if (!out)
		return NULL;
	for (i = 0; i < s->nvms; i++) {
		const struct vm_stats *vm = &s->vms[i];

		for (j = 0; j < vm->nvcpus; j++) {
			const struct vcpu_stats *v = &vm->vcpus[j];
			struct series *se = NULL;
			int q;

			for (q = 0; q < *n; q++)
				if (!strcmp(out[q].vm, vm->name) && out[q].vcpu == v->vcpu)
					se = &out[q];
			if (!se) {
				se = &out[(*n)++];
				se->vm = vm->name;
				se->vcpu = v->vcpu;
			}
			for (k = 0; k < M_NR; k++)
				hist_merge(&se->h[k], &v->h[k]);
			if (m->boosts && !se->boosted)
				se->boosted = boost_state_boosted(
					boost_state_read(m->boosts, vm->pid, v->tid));
			for (k = 0; k < SRC_NR; k++)
				se->c.injected[k] += v->c.injected[k];
			se->c.coalesced += v->c.coalesced;
			se->c.completed += v->c.completed;
			for (k = 0; k < END_NR; k++)
				se->c.ends[k] += v->c.ends[k];
			se->c.posted_in_guest += v->c.posted_in_guest;
			se->c.halted_ns += v->c.halted_ns;
			for (k = 0; k < v->nexits; k++) {
				const struct exit_stat *e = &v->exits[k];

				/* a label per reason below 128 (bounded), the rest "other" */
				if ((e->isa == ISA_VMX || e->isa == ISA_SVM) && e->reason < 128)
					se->exits[e->isa - 1][e->reason] += e->count;
				else
					se->exits_other += e->count;
			}
			if (m->analysis) {
				const struct analysis_vcpu *av =
					analysis__vcpu(m->analysis, vm->pid, v->vcpu);

				for (k = 0; av && k < IF_KIND_NR; k++)
					se->interference_ns[k] += av->ns[k];
			}
			if (m->last) {
				struct vm_stats *lv = snapshot__vm((struct snapshot *)m->last, vm->pid);
				struct vcpu_stats *lc = lv ? snapshot__vcpu(lv, v->vcpu) : NULL;

				if (lc && lc->h[M_RESPONSE].count && lc->h[M_RESPONSE].max > se->max_last)
					se->max_last = lc->h[M_RESPONSE].max;
			}
		}
	}
	qsort(out, *n, sizeof(*out), cmp_series);
	return out;
}

static void histogram(FILE *f, const char *name, const char *help, const struct series *se, int n,
		      int metric)
{
	int i, b;

	head(f, name, "histogram", help);
	for (i = 0; i < n; i++) {
		const struct kvmrt_hist *h = &se[i].h[metric];

		for (b = 0; b < METRICS_NBOUNDS; b++) {
			fprintf(f, "%s_bucket{", name);
			vm_labels(f, se[i].vm, se[i].vcpu);
			fprintf(f, ",le=\"%g\"} %llu\n", metrics_bounds_ns[b] / 1e9,
				(unsigned long long)metrics_cumulative(h, metrics_bounds_ns[b]));
		}
		fprintf(f, "%s_bucket{", name);
		vm_labels(f, se[i].vm, se[i].vcpu);
		fprintf(f, ",le=\"+Inf\"} %llu\n", (unsigned long long)h->count);
		fprintf(f, "%s_sum{", name);
		vm_labels(f, se[i].vm, se[i].vcpu);
		fprintf(f, "} %.9f\n", h->sum / 1e9);
		fprintf(f, "%s_count{", name);
		vm_labels(f, se[i].vm, se[i].vcpu);
		fprintf(f, "} %llu\n", (unsigned long long)h->count);
	}
}

/* Per VM name (two live VMs of one name share series, as elsewhere): APICv
 * inhibited for any of them (which 0), and the inhibit changes seen (1).
 * Only VMs with a change: on hosts without APICv the kernel reports none. */
static void apicv_family(FILE *f, const struct snapshot *s, int which)
{
	int i, j, any = 0;

	for (i = 0; i < s->nvms; i++) {
		const struct vm_stats *vm = &s->vms[i];
		__u64 inhibited = 0, changes = 0;

		for (j = 0; j < i && strcmp(s->vms[j].name, vm->name); j++)
			;
		if (j < i)
			continue; /* its name was done */
		for (j = i; j < s->nvms; j++)
			if (!strcmp(s->vms[j].name, vm->name)) {
				inhibited |= s->vms[j].apicv.inhibits;
				changes += s->vms[j].apicv.changes;
			}
		if (!changes)
			continue;
		if (!any++ && which == 0)
			head(f, "kvmrt_vm_apicv_inhibited", "gauge",
			     "Whether APICv/AVIC is inhibited for the VM (1): its interrupts are then "
			     "injected, and their EOIs seen, as without it (kvm_apicv_inhibit_changed).");
		else if (any == 1)
			head(f, "kvmrt_vm_apicv_inhibit_changes_total", "counter",
			     "APICv/AVIC inhibit reasons set or cleared for the VM.");
		fputs(which == 0 ? "kvmrt_vm_apicv_inhibited{vm=\"" :
				   "kvmrt_vm_apicv_inhibit_changes_total{vm=\"", f);
		metrics_escape(f, vm->name);
		fprintf(f, "\"} %llu\n",
			(unsigned long long)(which == 0 ? inhibited != 0 : changes));
	}
}

/* A family of one value per vCPU: the __u64 at off in its series, a count
 * or (ns) nanoseconds, exported in seconds. */
static void scalar_family(FILE *f, const char *name, const char *type, const char *help,
			  const struct series *se, int n, size_t off, int ns)
{
	int i;

	head(f, name, type, help);
	for (i = 0; i < n; i++) {
		__u64 v = *(const __u64 *)((const char *)&se[i] + off);

		fprintf(f, "%s{", name);
		vm_labels(f, se[i].vm, se[i].vcpu);
		if (ns)
			fprintf(f, "} %.9f\n", v / 1e9);
		else
			fprintf(f, "} %llu\n", (unsigned long long)v);
	}
}

/* Latency: the histograms, and the last interval's slowest response. */
static void latency_families(FILE *f, const struct series *se, int n)
{
	histogram(f, "kvmrt_irq_response_seconds",
		  "Guest interrupt response latency: injection to end of interrupt.", se, n,
		  M_RESPONSE);
	histogram(f, "kvmrt_irq_delivery_seconds",
		  "Guest interrupt delivery latency: injection to injected into the guest "
		  "(VMX/SVM hosts only; see kvmrt_endpoint_observable).",
		  se, n, M_DELIVERY);
	histogram(f, "kvmrt_vcpu_wait_seconds",
		  "Host scheduling delay of vCPU threads: runnable to running.", se, n,
		  M_VCPU_WAIT);
	histogram(f, "kvmrt_exit_handling_seconds",
		  "Time from a VM exit to the next VM entry (VMX/SVM hosts only).", se, n, M_EXIT);
	histogram(f, "kvmrt_lapic_timer_late_seconds",
		  "LAPIC timer interrupts that reached the guest after its deadline, by how much "
		  "(kvm_wait_lapic_expire; VMX/SVM hosts with lapic_timer_advance only).",
		  se, n, M_TIMER_LATE);
	histogram(f, "kvmrt_lapic_timer_early_seconds",
		  "LAPIC timer interrupts that were due before the guest's deadline, by how much: "
		  "KVM busy-waits that long, up to timer_advance_ns (kvm_wait_lapic_expire).",
		  se, n, M_TIMER_EARLY);

	scalar_family(f, "kvmrt_irq_response_max_seconds", "gauge",
		      "Slowest interrupt response in the agent's last collection interval.", se, n,
		      offsetof(struct series, max_last), 1);
}

/* A family of one value per vCPU and label: counts[k] (a __u64 array at
 * off in its series, nk long) with label="name(k)", or (ns) nanoseconds
 * exported in seconds. */
static void labelled_family(FILE *f, const char *name, const char *help, const struct series *se,
			    int n, size_t off, int nk, const char *label, const char *(*name_of)(int),
			    int ns)
{
	int i, k;

	head(f, name, "counter", help);
	for (i = 0; i < n; i++)
		for (k = 0; k < nk; k++) {
			const __u64 *counts = (const __u64 *)((const char *)&se[i] + off);

			fprintf(f, "%s{", name);
			vm_labels(f, se[i].vm, se[i].vcpu);
			if (ns)
				fprintf(f, ",%s=\"%s\"} %.9f\n", label, name_of(k), counts[k] / 1e9);
			else
				fprintf(f, ",%s=\"%s\"} %llu\n", label, name_of(k),
					(unsigned long long)counts[k]);
		}
}

/* Per vCPU: its boost, its interrupts by source and end, halts, exits. */
static void vcpu_families(FILE *f, const struct series *se, int n)
{
	int i, k, isa;
	char buf[32];

	scalar_family(f, "kvmrt_vcpu_boosted", "gauge",
		      "Whether kvmrt control has the vCPU thread boosted to SCHED_FIFO now.", se, n,
		      offsetof(struct series, boosted), 0);
	labelled_family(f, "kvmrt_irq_injections_total",
			"Interrupts injected into the vCPU, by source.", se, n,
			offsetof(struct series, c.injected), SRC_NR, "source", source_name, 0);
	scalar_family(f, "kvmrt_irq_coalesced_total", "counter",
		      "Injections of a vector that was still pending: merged into one interrupt.", se,
		      n, offsetof(struct series, c.coalesced), 0);
	labelled_family(f, "kvmrt_irq_ends_total",
			"Interrupts ended, by what ended them first: eoi, pv_eoi (the guest's PV EOI, "
			"seen at its next exit), idle (its HLT exit after delivery), hint, stale (none).",
			se, n, offsetof(struct series, c.ends), END_NR, "end", end_name, 0);
	scalar_family(f, "kvmrt_irq_posted_in_guest_total", "counter",
		      "Posted interrupts (APICv, AVIC) the vCPU took while in the guest: delivered, "
		      "no time seen.",
		      se, n, offsetof(struct series, c.posted_in_guest), 0);
	scalar_family(f, "kvmrt_vcpu_halted_seconds_total", "counter", "Time the vCPU spent halted.",
		      se, n, offsetof(struct series, c.halted_ns), 1);
	head(f, "kvmrt_vm_exits_total", "counter", "VM exits by reason (VMX/SVM hosts only).");
	for (i = 0; i < n; i++) {
		for (isa = 0; isa < 2; isa++)
			for (k = 0; k < 128; k++) {
				if (!se[i].exits[isa][k])
					continue;
				fputs("kvmrt_vm_exits_total{", f);
				vm_labels(f, se[i].vm, se[i].vcpu);
				fprintf(f, ",reason=\"%s\"} %llu\n",
					exit_reason_label(isa + 1, k, buf, sizeof(buf)),
					(unsigned long long)se[i].exits[isa][k]);
			}
		/* always present, so every vCPU has the series even before (or,
		 * on hosts without kvm_exit, without) any exit */
		fputs("kvmrt_vm_exits_total{", f);
		vm_labels(f, se[i].vm, se[i].vcpu);
		fprintf(f, ",reason=\"other\"} %llu\n", (unsigned long long)se[i].exits_other);
	}
}

/* The host and the agent: endpoints, losses, programs, APICv, versions. */
static void host_families(FILE *f, const struct metrics_ctx *m)
{
	int i, k;

	head(f, "kvmrt_endpoint_observable", "gauge",
	     "Whether this host lets kvmrt observe an episode endpoint (1) or not (0).");
	for (i = 0; i < ENDPOINT_NR; i++)
		fprintf(f, "kvmrt_endpoint_observable{endpoint=\"%s\"} %d\n", endpoint_name(i),
			endpoint_observable(i, m->l->attached, m->s->hits));
	head(f, "kvmrt_events_lost_total", "counter",
	     "Outlier records the ring buffer could not take.");
	fprintf(f, "kvmrt_events_lost_total %llu\n", (unsigned long long)m->s->lost);
	head(f, "kvmrt_bpf_program_attached", "gauge",
	     "Whether the BPF program on this tracepoint is attached.");
	for (k = 0; k < P_NR; k++)
		fprintf(f, "kvmrt_bpf_program_attached{program=\"%s\"} %d\n", prog_tp_name(k),
			m->l->attached[k]);
	head(f, "kvmrt_bpf_runs_total", "counter",
	     "Runs of each BPF program (kernel BPF stats, counted while the agent runs).");
	for (k = 0; k < P_NR; k++)
		fprintf(f, "kvmrt_bpf_runs_total{program=\"%s\"} %llu\n", prog_tp_name(k),
			(unsigned long long)m->s->bpf_runs[k]);
	head(f, "kvmrt_bpf_run_seconds_total", "counter",
	     "Time spent in each BPF program (kernel BPF stats).");
	for (k = 0; k < P_NR; k++)
		fprintf(f, "kvmrt_bpf_run_seconds_total{program=\"%s\"} %.9f\n", prog_tp_name(k),
			m->s->bpf_run_ns[k] / 1e9);
	apicv_family(f, m->s, 0);
	apicv_family(f, m->s, 1);
	if (m->host) {
		head(f, "kvmrt_host_info", "gauge",
		     "Interrupt virtualization on this host (on, off, absent); always 1.");
		fprintf(f, "kvmrt_host_info{apicv=\"%s\",avic=\"%s\"} 1\n",
			host_info_state(m->host->apicv), host_info_state(m->host->avic));
	}
	head(f, "kvmrt_build_info", "gauge", "kvmrt's version; always 1.");
	fprintf(f, "kvmrt_build_info{version=\"%s\"} 1\n", m->version);
}

static const char *kind_label(int k)
{
	return if_kind_name((__u32)k);
}

void metrics_render(FILE *f, const struct metrics_ctx *m)
{
	struct series *se;
	int n;

	se = collect(m, &n);
	if (!se)
		return;
	latency_families(f, se, n);
	vcpu_families(f, se, n);
	if (m->analysis)
		labelled_family(f, "kvmrt_interference_seconds_total",
				"With -a: the stages of the vCPU's slowest 1% of interrupts (so far), by "
				"what held its CPU meanwhile, net: thread, idle, vcpu (the guest, or KVM "
				"for it), exit, vmm, halt_poll, softirq, irq, irq_vector, nmi, unknown.",
				se, n, offsetof(struct series, interference_ns), IF_KIND_NR, "kind",
				kind_label, 1);
	free(se);
	host_families(f, m);
}
