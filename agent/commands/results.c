// SPDX-License-Identifier: GPL-2.0
/*
 * What kvmrt trace and kvmrt report print at the end of a run: per VM and
 * vCPU counts, latency summaries, stages, histograms, outliers with blame,
 * one JSON document, and the SLO verdict in the exit status.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "episode.h"
#include "json.h"
#include "latency.h"
#include "log.h"
#include "names.h"
#include "outfile.h"
#include "recording.h"
#include "commands.h"
#include "endpoints.h"
#include "escape.h"
#include "results.h"

struct kvmrt_ep_done outlier_episode(const struct kvmrt_outlier *r)
{
	struct kvmrt_ep_done d = {
		.t_inject = r->t_inject,
		.t_wake = r->t_wake,
		.t_run = r->t_run,
		.t_deliver = r->t_deliver,
		.t_eoi = r->t_eoi,
	};

	return d;
}

/* The name of a task that held the vCPU's CPU: any task's, so escaped. */
static const char *blame_comm(const struct kvmrt_outlier *r, int i)
{
	return esc_str_n(r->blame[i].comm, strnlen(r->blame[i].comm, KVMRT_COMM_LEN));
}

static void print_outlier(struct results *t, const struct kvmrt_outlier *r,
			  const struct outlier_causes *oc)
{
	__s64 st[ST_NR];
	__u32 i;
	struct kvmrt_ep_done d = outlier_episode(r);
	int first = 1;

	ep_stages(&d, st);
	printf("outlier: vm %s (pid %u) vcpu %u tid %u vector 0x%x %s: response %.1f us = ",
	       t->vm_name(t->name_ctx, r->tgid), r->tgid, r->vcpu, r->tid, r->vector,
	       source_name(r->source), ep_response_ns(&d) / 1e3);
	for (i = 0; i < ST_NR; i++) {
		if (st[i] < 0)
			continue;
		printf("%s%s %.1f", first ? "" : " + ", stage_name(i), st[i] / 1e3);
		first = 0;
	}
	if (r->nblame) {
		printf("; cpu held by:");
		for (i = 0; i < r->nblame && i < KVMRT_BLAME_SLOTS; i++)
			printf("%s %s[%u] %.1f us", i ? "," : "", blame_comm(r, i), r->blame[i].pid,
			       r->blame[i].ns / 1e3);
	}
	if (oc)
		causes_print(oc);
	printf("\n");
	fflush(stdout);
}

void results__outlier(struct results *t, const struct kvmrt_outlier *r,
		      const struct outlier_causes *oc)
{
	const char *name = t->vm_name(t->name_ctx, r->tgid);

	if (!filter_vm(&t->o.filter, r->tgid, name) || !filter_vcpu(&t->o.filter, r->vcpu))
		return;
	t->outliers_total++;
	if (oc && t->analyzed) /* every one in its vCPU's tail, the first kept */
		causes__add(&t->causes, t->noutliers < MAX_OUTLIERS ? (long)t->noutliers : -1, r, oc);
	if (t->noutliers < MAX_OUTLIERS)
		t->outliers[t->noutliers++] = *r;
	if (!t->o.quiet && !t->o.json)
		print_outlier(t, r, t->analyzed ? oc : NULL);
}

static int observable(const struct results *t, const struct snapshot *s, int e)
{
	return endpoint_observable(e, t->attached, s->hits);
}

static __u64 injected_total(const struct kvmrt_counters *c)
{
	__u64 n = 0;
	int i;

	for (i = 0; i < SRC_NR; i++)
		n += c->injected[i];
	return n;
}

/* Episodes without an end: evicted for want of a slot, or stale. */
static __u64 unfinished(const struct kvmrt_counters *c)
{
	return c->dropped + c->ends[END_STALE];
}

static __u64 exits_total(const struct vcpu_stats *v)
{
	__u64 n = 0;
	int i;

	for (i = 0; i < v->nexits; i++)
		n += v->exits[i].count;
	return n;
}

static const char *exit_name(const struct exit_stat *e, char *buf, size_t len)
{
	return exit_reason_label(e->isa, e->reason, buf, len);
}

static int cmp_exit_desc(const void *a, const void *b)
{
	const struct exit_stat *x = a, *y = b;

	return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

/* Response histogram, one row per power of two, like cyclictest -h. */
static void print_hist(const struct kvmrt_hist *h)
{
	__u64 rows[HIST_MAX_EXP + 2] = { 0 }, maxrow = 0;
	int i, first = -1, last = -1;

	for (i = 0; i < HIST_NBUCKETS; i++) {
		int r;

		if (!h->b[i])
			continue;
		r = (int)hist_msb(hist_bucket_lo(i) ? hist_bucket_lo(i) : 1);
		rows[r] += h->b[i];
	}
	for (i = 0; i <= HIST_MAX_EXP; i++) {
		if (!rows[i])
			continue;
		if (first < 0)
			first = i;
		last = i;
		if (rows[i] > maxrow)
			maxrow = rows[i];
	}
	if (first < 0)
		return;
	printf("    %21s : %-10s %s\n", "response (us)", "count", "distribution");
	for (i = first; i <= last; i++) {
		int stars = maxrow ? (int)(rows[i] * 40 / maxrow) : 0;

		printf("    %10.1f -> %-8.1f : %-10llu |%-40.*s|\n", (1ULL << i) / 1e3,
		       (2ULL << i) / 1e3, (unsigned long long)rows[i], stars,
		       "****************************************");
	}
}

/* A VM's APICv inhibit reasons: by name from this kernel's BTF when live;
 * a recording may come from a kernel that numbers them otherwise. */
static const char *inhibit_text(const struct results *t, __u64 mask, char *buf, size_t len)
{
	if (t->live)
		return apicv_inhibit_names(mask, "/sys/kernel/btf", buf, len);
	snprintf(buf, len, "0x%llx", (unsigned long long)mask);
	return buf;
}

/* The text header: the run, what is observable, the host. */
static void text_header(struct results *t, struct snapshot *s, double secs)
{
	unsigned int e;

	printf("\n%s: %.1f s, %llu outliers over threshold, %llu events lost\n", t->what, secs,
	       (unsigned long long)t->outliers_total, (unsigned long long)s->lost);
	printf("observable:");
	for (e = 0; e < ENDPOINT_NR; e++)
		if (observable(t, s, e))
			printf(" %s", endpoint_name(e));
	printf("; not observable %s:", t->live ? "on this host" : "in this recording");
	for (e = 0; e < ENDPOINT_NR; e++)
		if (!observable(t, s, e))
			printf(" %s", endpoint_name(e));
	if (t->host)
		printf("; %s", host_info_summary(t->host));
	printf("\n");
}

/* A vCPU's line of counts: injected by source, completed, how they ended. */
static void text_counts(const struct vcpu_stats *v)
{
	int k, e;

	printf(" vCPU %u (tid %u): %llu injected (", v->vcpu, v->tid,
	       (unsigned long long)injected_total(&v->c));
	for (k = 0, e = 0; k < SRC_NR; k++)
		if (v->c.injected[k])
			printf("%s%s %llu", e++ ? ", " : "", source_name(k),
			       (unsigned long long)v->c.injected[k]);
	printf("), %llu completed, %llu coalesced, %llu unfinished",
	       (unsigned long long)v->c.completed, (unsigned long long)v->c.coalesced,
	       (unsigned long long)unfinished(&v->c));
	if (v->c.posted_in_guest)
		printf(", %llu posted in the guest", (unsigned long long)v->c.posted_in_guest);
	/* how they ended: the first the host saw of each */
	for (k = 0, e = 0; k < END_NR; k++)
		if (v->c.ends[k])
			printf("%s%s %llu", e++ ? ", " : "; ended by ", end_name(k),
			       (unsigned long long)v->c.ends[k]);
	printf("\n");
}

/* A recording's vCPU: its cuts (an excerpt starts and ends mid-episode),
 * and what its events name (re-injection, interrupts never delivered). */
static void text_recording(const struct vcpu_stats *v)
{
	const struct rec_findings *f = &v->rec;
	__u32 i;

	if (f->pending_at_end || f->ends_unmatched || f->deliveries_unmatched) {
		printf("  recording: %u pending at its end", f->pending_at_end);
		for (i = 0; i < f->nundelivered; i++)
			printf("%s0x%x", i ? " " : " (never delivered: ", f->undelivered[i]);
		printf("%s; %llu ends and %llu deliveries found nothing pending (injected "
		       "before the recording, or ended already)\n",
		       f->nundelivered ? ")" : "", (unsigned long long)f->ends_unmatched,
		       (unsigned long long)f->deliveries_unmatched);
	}
	if (f->reinj_count)
		printf("  re-injected: vector 0x%x %u times over %.1f us before it ended "
		       "(injected again before its end: an exit during each delivery)\n",
		       f->reinj_vector, f->reinj_count, f->reinj_span_ns / 1e3);
}

/* A vCPU's latency table: delivery, response, its stages, the scheduler's
 * wait, the LAPIC timer against its deadline, exits. */
static void text_latencies(struct results *t, struct vcpu_stats *v)
{
	struct lat_summary ls;
	__u64 nx = exits_total(v);
	int k;

	printf("  %-11s %8s %9s %9s %9s %9s %9s %9s  (us)\n", "", "count", "mean", "p50", "p90",
	       "p99", "p99.9", "max");
	lat_from_hist(&v->h[M_DELIVERY], &ls);
	lat_print(stdout, "delivery", &ls);
	lat_from_hist(&v->h[M_RESPONSE], &ls);
	lat_print(stdout, "response", &ls);
	for (k = 0; k < ST_NR; k++) {
		char label[32];

		lat_from_hist(&v->h[M_ST_WAKE + k], &ls);
		if (!ls.count)
			continue;
		snprintf(label, sizeof(label), " %s", stage_name(k));
		lat_print(stdout, label, &ls);
	}
	lat_from_hist(&v->h[M_VCPU_WAIT], &ls);
	lat_print(stdout, "sched wait", &ls);
	/* against the guest's deadline (kvm_wait_lapic_expire) */
	lat_from_hist(&v->h[M_TIMER_LATE], &ls);
	if (ls.count || v->h[M_TIMER_EARLY].count)
		lat_print(stdout, "timer late", &ls);
	lat_from_hist(&v->h[M_TIMER_EARLY], &ls);
	if (ls.count || v->h[M_TIMER_LATE].count)
		lat_print(stdout, "timer early", &ls);
	if (nx) {
		char buf[32];

		qsort(v->exits, v->nexits, sizeof(*v->exits), cmp_exit_desc);
		lat_from_hist(&v->h[M_EXIT], &ls);
		lat_print(stdout, "exit", &ls);
		printf("  exits %llu:", (unsigned long long)nx);
		for (k = 0; k < v->nexits && k < 5; k++)
			printf(" %s %.0f%%", exit_name(&v->exits[k], buf, sizeof(buf)),
			       100.0 * v->exits[k].count / nx);
		printf("\n");
	}
	if (t->o.hist)
		print_hist(&v->h[M_RESPONSE]);
}

static void print_text(struct results *t, struct snapshot *s, double secs)
{
	int i, j, shown = 0;

	text_header(t, s, secs);
	for (i = 0; i < s->nvms; i++) {
		struct vm_stats *vm = &s->vms[i];

		if (!filter_vm(&t->o.filter, vm->pid, vm->name))
			continue;
		printf("\nVM %s (pid %u)%s", vm->name, vm->pid, vm->alive ? "" : " [exited]");
		if (vm->apicv.changes || vm->apicv.inhibits) {
			char why[256];

			/* inhibited: injections and EOIs as without APICv/AVIC */
			printf("; APICv/AVIC %s%s, %llu inhibit changes",
			       vm->apicv.inhibits ? "inhibited: " : "not inhibited",
			       vm->apicv.inhibits ? inhibit_text(t, vm->apicv.inhibits, why,
								  sizeof(why)) : "",
			       (unsigned long long)vm->apicv.changes);
		}
		printf("\n");
		for (j = 0; j < vm->nvcpus; j++) {
			if (!filter_vcpu(&t->o.filter, vm->vcpus[j].vcpu))
				continue;
			shown++;
			text_counts(&vm->vcpus[j]);
			if (!t->live)
				text_recording(&vm->vcpus[j]);
			text_latencies(t, &vm->vcpus[j]);
			if (t->analyzed)
				tail_print(causes__tail(&t->causes, vm->pid, vm->vcpus[j].vcpu));
		}
	}
	if (!shown)
		printf("\nno interrupts to a matching VM were seen\n");
}

static void json_outlier(struct json *j, const struct kvmrt_outlier *r,
			 const struct outlier_causes *oc)
{
	struct kvmrt_ep_done d = outlier_episode(r);
	__s64 st[ST_NR];
	__u32 i;

	ep_stages(&d, st);
	json_obj_begin(j, NULL);
	json_u64(j, "t_inject_ns", r->t_inject);
	json_u64(j, "response_ns", ep_response_ns(&d));
	json_u64(j, "vector", r->vector);
	json_str(j, "source", source_name(r->source));
	json_u64(j, "cpu", r->cpu);
	json_str(j, "end", end_name(r->end));
	json_obj_begin(j, "stages");
	for (i = 0; i < ST_NR; i++)
		if (st[i] >= 0)
			json_u64(j, stage_name(i), (__u64)st[i]);
	json_obj_end(j);
	json_arr_begin(j, "blame");
	for (i = 0; i < r->nblame && i < KVMRT_BLAME_SLOTS; i++) {
		json_obj_begin(j, NULL);
		json_str(j, "comm", blame_comm(r, i));
		json_u64(j, "pid", r->blame[i].pid);
		json_u64(j, "ns", r->blame[i].ns);
		json_obj_end(j);
	}
	json_arr_end(j);
	if (oc)
		causes_json(j, oc);
	json_obj_end(j);
}

static void json_vcpu(struct json *j, struct results *t, __u32 pid,
		      struct vcpu_stats *v)
{
	struct lat_summary ls;
	size_t n;
	int k;

	json_obj_begin(j, NULL);
	json_u64(j, "vcpu", v->vcpu);
	json_u64(j, "tid", v->tid);
	lat_from_hist(&v->h[M_DELIVERY], &ls);
	lat_json(j, "delivery", &ls);
	lat_from_hist(&v->h[M_RESPONSE], &ls);
	lat_json(j, "response", &ls);
	json_obj_begin(j, "stages");
	for (k = 0; k < ST_NR; k++) {
		lat_from_hist(&v->h[M_ST_WAKE + k], &ls);
		lat_json(j, stage_name(k), &ls);
	}
	json_obj_end(j);
	lat_from_hist(&v->h[M_VCPU_WAIT], &ls);
	lat_json(j, "sched_wait", &ls);
	json_obj_begin(j, "lapic_timer"); /* against the guest's deadline */
	lat_from_hist(&v->h[M_TIMER_LATE], &ls);
	lat_json(j, "late", &ls);
	lat_from_hist(&v->h[M_TIMER_EARLY], &ls);
	lat_json(j, "early", &ls);
	json_obj_end(j);
	json_obj_begin(j, "injections");
	for (k = 0; k < SRC_NR; k++)
		json_u64(j, source_name(k), v->c.injected[k]);
	json_u64(j, "total", injected_total(&v->c));
	json_u64(j, "completed", v->c.completed);
	json_u64(j, "coalesced", v->c.coalesced);
	json_u64(j, "unfinished", unfinished(&v->c));
	json_u64(j, "posted_in_guest", v->c.posted_in_guest);
	json_obj_end(j);
	json_obj_begin(j, "ends");
	for (k = 0; k < END_NR; k++)
		json_u64(j, end_name(k), v->c.ends[k]);
	json_obj_end(j);
	if (!t->live) { /* a recording's cuts and findings (text_recording) */
		json_obj_begin(j, "recording");
		json_u64(j, "pending_at_end", v->rec.pending_at_end);
		json_arr_begin(j, "never_delivered_vectors");
		for (k = 0; k < (int)v->rec.nundelivered; k++)
			json_u64(j, NULL, v->rec.undelivered[k]);
		json_arr_end(j);
		json_u64(j, "ends_unmatched", v->rec.ends_unmatched);
		json_u64(j, "deliveries_unmatched", v->rec.deliveries_unmatched);
		json_obj_begin(j, "reinjected");
		json_u64(j, "vector", v->rec.reinj_vector);
		json_u64(j, "count", v->rec.reinj_count);
		json_u64(j, "span_ns", v->rec.reinj_span_ns);
		json_obj_end(j);
		json_obj_end(j);
	}
	json_u64(j, "halted_ns", v->c.halted_ns);
	json_obj_begin(j, "exits");
	json_u64(j, "count", exits_total(v));
	lat_from_hist(&v->h[M_EXIT], &ls);
	lat_json(j, "handling", &ls);
	json_arr_begin(j, "reasons");
	if (v->nexits)
		qsort(v->exits, v->nexits, sizeof(*v->exits), cmp_exit_desc);
	for (k = 0; k < v->nexits; k++) {
		char buf[32];

		json_obj_begin(j, NULL);
		json_str(j, "reason", exit_name(&v->exits[k], buf, sizeof(buf)));
		json_u64(j, "code", v->exits[k].reason);
		json_u64(j, "count", v->exits[k].count);
		json_u64(j, "mean_ns", v->exits[k].count ? v->exits[k].sum_ns / v->exits[k].count : 0);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
	json_arr_begin(j, "outliers");
	for (n = 0; n < t->noutliers; n++)
		if (t->outliers[n].tgid == pid && t->outliers[n].vcpu == v->vcpu)
			json_outlier(j, &t->outliers[n], t->analyzed ? &t->causes.per[n] : NULL);
	json_arr_end(j);
	if (t->analyzed)
		tail_json(j, causes__tail(&t->causes, pid, v->vcpu));
	json_obj_end(j);
}

/* The programs: how each was attached, its events, and its own cost. */
static void json_programs(struct json *j, struct results *t, struct snapshot *s)
{
	int k;

	json_obj_begin(j, "programs");
	for (k = 0; k < P_NR; k++)
		json_str(j, prog_tp_name(k), t->prog_mode[k] ? t->prog_mode[k] : "off");
	for (k = 0; k < A_NR && t->analyzed && t->live; k++) /* -a's, where the kernel has them */
		if (t->aprog_mode[k])
			json_str(j, aprog_tp_name(k), t->aprog_mode[k]);
	json_obj_end(j);
	json_obj_begin(j, "events");
	for (k = 0; k < P_NR; k++)
		json_u64(j, prog_tp_name(k), s->hits[k]);
	json_obj_end(j);
	if (t->live) {
		/* events the kernel did not hand to a program already running
		 * on that CPU (a hard irq inside a softirq's run of it) */
		json_obj_begin(j, "events_missed");
		for (k = 0; k < P_NR; k++)
			json_u64(j, prog_tp_name(k), s->bpf_missed[k]);
		json_obj_end(j);
	}
	if (t->bpf_stats) {
		/* kernel BPF stats: runs and run time of each program */
		json_obj_begin(j, "bpf_stats");
		for (k = 0; k < P_NR; k++) {
			if (!t->attached[k])
				continue;
			json_obj_begin(j, prog_tp_name(k));
			json_u64(j, "runs", s->bpf_runs[k]);
			json_u64(j, "run_ns", s->bpf_run_ns[k]);
			json_obj_end(j);
		}
		json_obj_end(j);
	}
}

static void json_vm(struct json *j, struct results *t, struct vm_stats *vm)
{
	int k;

	json_obj_begin(j, NULL);
	json_u64(j, "pid", vm->pid);
	json_str(j, "name", vm->name);
	json_bool(j, "alive", vm->alive);
	if (vm->apicv.changes || vm->apicv.inhibits) {
		char why[256];

		json_obj_begin(j, "apicv");
		json_u64(j, "inhibits_mask", vm->apicv.inhibits);
		json_str(j, "inhibits", vm->apicv.inhibits ?
			 inhibit_text(t, vm->apicv.inhibits, why, sizeof(why)) : "");
		json_u64(j, "changes", vm->apicv.changes);
		json_obj_end(j);
	}
	json_arr_begin(j, "vcpus");
	for (k = 0; k < vm->nvcpus; k++)
		if (filter_vcpu(&t->o.filter, vm->vcpus[k].vcpu))
			json_vcpu(j, t, vm->pid, &vm->vcpus[k]);
	json_arr_end(j);
	json_obj_end(j);
}

static int print_json(struct results *t, struct snapshot *s, double secs, int slo_violated)
{
	struct json j;
	FILE *f = stdout;
	unsigned int e;
	int i;

	if (t->o.json_path && strcmp(t->o.json_path, "-")) {
		f = fopen(t->o.json_path, "w");
		if (!f) {
			pr_err("open %s: %s", esc_str(t->o.json_path), strerror(errno));
			return -errno;
		}
	}
	json_init(&j, f);
	json_obj_begin(&j, NULL);
	json_f64(&j, "duration_s", secs);
	json_u64(&j, "lost_events", s->lost);
	json_u64(&j, "outliers_total", t->outliers_total);
	if (t->events_read) /* injections a recording without tgids ties to no VM */
		json_u64(&j, "ambiguous_injections", t->ambiguous_injections);
	if (t->events_read) { /* what the recording held, by kind */
		json_obj_begin(&j, "events_read");
		for (i = 0; i < RK_NR; i++)
			if (t->events_read[i])
				json_u64(&j, rec_kind_label(i), t->events_read[i]);
		json_obj_end(&j);
	}
	json_u64(&j, "threshold_ns", t->o.threshold_ns);
	json_arr_begin(&j, "endpoints");
	for (e = 0; e < ENDPOINT_NR; e++)
		if (observable(t, s, e))
			json_str(&j, NULL, endpoint_name(e));
	json_arr_end(&j);
	if (t->host) {
		json_obj_begin(&j, "host");
		json_str(&j, "apicv", host_info_state(t->host->apicv));
		json_str(&j, "avic", host_info_state(t->host->avic));
		json_obj_end(&j);
	}
	json_programs(&j, t, s);
	if (t->o.slo_ns) {
		json_obj_begin(&j, "slo");
		json_u64(&j, "p99_response_ns", t->o.slo_ns);
		json_bool(&j, "violated", slo_violated);
		json_obj_end(&j);
	}
	json_arr_begin(&j, "vms");
	for (i = 0; i < s->nvms; i++)
		if (filter_vm(&t->o.filter, s->vms[i].pid, s->vms[i].name))
			json_vm(&j, t, &s->vms[i]);
	json_arr_end(&j);
	json_obj_end(&j);
	json_end(&j);
	if (f != stdout)
		fclose(f);
	return 0;
}

/* The SLO holds when every matching vCPU's p99 response is within it. */
static int slo_check(struct results *t, struct snapshot *s, int print)
{
	__u64 worst = 0;
	const char *worst_vm = NULL;
	__u32 worst_vcpu = 0;
	int i, j;

	for (i = 0; i < s->nvms; i++) {
		struct vm_stats *vm = &s->vms[i];

		if (!filter_vm(&t->o.filter, vm->pid, vm->name))
			continue;
		for (j = 0; j < vm->nvcpus; j++) {
			struct vcpu_stats *v = &vm->vcpus[j];
			__u64 p99;

			if (!filter_vcpu(&t->o.filter, v->vcpu) || !v->h[M_RESPONSE].count)
				continue;
			p99 = hist_percentile(&v->h[M_RESPONSE], 99);
			if (!worst_vm || p99 > worst) {
				worst = p99;
				worst_vm = vm->name;
				worst_vcpu = v->vcpu;
			}
		}
	}
	if (print) {
		if (worst_vm)
			printf("\nSLO p99 response <= %.1f us: %s (worst p99 %.1f us: %s vCPU %u)\n",
			       t->o.slo_ns / 1e3, worst > t->o.slo_ns ? "VIOLATED" : "met",
			       worst / 1e3, worst_vm, worst_vcpu);
		else
			printf("\nSLO p99 response <= %.1f us: no interrupts seen\n",
			       t->o.slo_ns / 1e3);
	}
	return worst > t->o.slo_ns;
}


void results_opts_init(struct results_opts *o)
{
	memset(o, 0, sizeof(*o));
	filter_init(&o->filter);
}

static int parse_usec(const char *opt, const char *arg, __u64 *ns)
{
	double v;

	if (cli_number(opt, arg, 0.001, 1e9, &v))
		return -EINVAL;
	*ns = (__u64)(v * 1000);
	return 0;
}

int results_option(struct results_opts *o, int opt, const char *arg)
{
	int fo = filter_option(&o->filter, opt, arg);

	if (fo)
		return fo;
	switch (opt) {
	case 'T':
		return parse_usec("threshold (us)", arg, &o->threshold_ns) ?: 1;
	case 'a':
		o->analyze = 1;
		return 1;
	case 'H':
		o->hist = 1;
		return 1;
	case OPT_JSON:
		o->json = 1;
		o->json_path = arg;
		if (arg && strcmp(arg, "-") && output_check("--json", arg))
			return -EIO;
		return 1;
	case OPT_SLO:
		return parse_usec("SLO (us)", arg, &o->slo_ns) ?: 1;
	case 'q':
		o->quiet = 1;
		return 1;
	}
	return 0;
}

int results__init(struct results *t, const char *what, int analyzed)
{
	t->what = what;
	t->analyzed = analyzed;
	t->outliers = calloc(MAX_OUTLIERS, sizeof(*t->outliers));
	if (!t->outliers || (analyzed && causes__init(&t->causes, MAX_OUTLIERS))) {
		pr_err("out of memory");
		return -ENOMEM;
	}
	return 0;
}

int results__print(struct results *t, struct snapshot *s, double secs)
{
	int violated = 0;

	if (t->o.slo_ns)
		violated = slo_check(t, s, 0);
	if (t->o.json) {
		if (print_json(t, s, secs, violated))
			return 1;
	} else {
		print_text(t, s, secs);
		if (t->o.slo_ns)
			slo_check(t, s, 1);
	}
	return violated ? 3 : 0;
}

void results__free(struct results *t)
{
	causes__free(&t->causes);
	free(t->outliers);
	t->outliers = NULL;
}
