// SPDX-License-Identifier: GPL-2.0
/*
 * agent/commands/analysis.c, the live -a of trace, top and export, driven
 * as the collector drives it: -a's records (kvmrt.h REC_IF) and outlier
 * records. Without -T, each vCPU's slowest 1% so far is analysed; the
 * causes add up by kind (export's kvmrt_interference_seconds_total, its
 * exposition checked) and give the main cause since the last look (top's
 * CAUSE); a VM gone is forgotten.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "analysis.h"
#include "loader.h"
#include "metrics.h"

#define US 1000ULL
#define VM 4000
#define VCPU_TID 4002
#define HOG 4242

static int analysed;

static void on_analysed(void *ctx, const struct kvmrt_outlier *o, const struct outlier_causes *oc)
{
	analysed++;
}

static void rec(struct analysis *an, __u64 t_us, __u32 cpu, __u32 pid, __u32 event, __s64 a0,
		const char *name)
{
	struct kvmrt_if_rec r = { .type = REC_IF, .event = event, .t = t_us * US, .cpu = cpu,
				  .pid = pid, .a = { a0 } };

	snprintf(r.name, sizeof(r.name), "%s", name);
	assert_int_equal(if_feed__record(&an->feed, &r), 0);
}

/* An episode of the vCPU from t0 (us) lasting resp_us, ending on CPU 1. */
static void episode(struct analysis *an, __u64 t0, __u64 resp_us)
{
	struct kvmrt_outlier o = { .type = REC_OUTLIER, .tgid = VM, .tid = VCPU_TID, .vcpu = 0,
				   .vector = 0x40, .cpu = 1, .t_inject = t0 * US,
				   .t_eoi = (t0 + resp_us) * US };

	analysis__on_outlier(NULL, &o, an);
}

static void slowest_and_kinds(void **state)
{
	struct analysis an;
	const struct analysis_vcpu *v;
	const struct if_part *p;
	double share;
	int i;

	assert_int_equal(analysis__init(&an, 0, on_analysed, NULL), 0);
	analysed = 0;
	/* CPU 1: the hog from 0, a NET_RX softirq 10-20 us in it */
	rec(&an, 0, 1, 1, IFE_SWITCH, HOG, "stress-ng");
	rec(&an, 10, 1, HOG, IFE_SOFTIRQ_ENTRY, 3, "");
	rec(&an, 20, 1, HOG, IFE_SOFTIRQ_EXIT, 3, "");
	episode(&an, 0, 100); /* the first: the slowest so far */
	assert_int_equal(analysed, 1);
	v = analysis__vcpu(&an, VM, 0);
	assert_non_null(v);
	assert_int_equal(v->ns[IF_SOFTIRQ], 10 * US);
	assert_int_equal(v->ns[IF_THREAD], 90 * US);
	p = analysis__main(&an, VM, 0, 0, &share);
	assert_non_null(p);
	assert_int_equal(p->who.kind, IF_THREAD);
	assert_int_equal((int)(share * 100 + 0.5), 90);

	/* 200 fast ones: within the p99 only while they are the slowest */
	for (i = 0; i < 200; i++)
		episode(&an, 1000 + i, 1);
	assert_true(analysed < 10);
	i = analysed;
	episode(&an, 2000, 100); /* as slow as the slowest: analysed */
	assert_int_equal(analysed, i + 1);
	episode(&an, 3000, 1);
	assert_int_equal(analysed, i + 1);

	/* top's interval: forgotten; since start: kept */
	analysis__forget(&an, 0);
	assert_null(analysis__main(&an, VM, 0, 0, &share));
	assert_non_null(analysis__main(&an, VM, 0, 1, &share));
	analysis__forget_vm(&an, VM);
	assert_null(analysis__vcpu(&an, VM, 0));
	assert_null(analysis__main(&an, VM, 0, 1, &share));
	analysis__free(&an);
}

/* export -a's family: seconds by kind, every kind, for each vCPU */
/* A vCPU's tail sums a thread by its pid under its latest comm: the hog
 * a shell forked was "bash" in the first outlier, "kvmrt-hog" after its
 * exec; one entry, not two. Other kinds stay apart by name. */
static void tail_thread_by_pid(void **state)
{
	struct kvmrt_outlier r = { .tgid = VM, .vcpu = 0 };
	struct outlier_causes oc;
	const struct tail *t;
	struct causes c;
	int n;

	assert_int_equal(causes__init(&c, 0), 0);
	memset(&oc, 0, sizeof(oc));
	oc.n[ST_QUEUE] = 2;
	oc.p[ST_QUEUE][0] = (struct if_part){ .who = { .kind = IF_THREAD, .id = HOG, .name = "bash" }, .ns = 100 };
	oc.p[ST_QUEUE][1] = (struct if_part){ .who = { .kind = IF_SOFTIRQ, .id = 3, .name = "NET_RX" }, .ns = 5 };
	causes__add(&c, -1, &r, &oc);
	strcpy(oc.p[ST_QUEUE][0].who.name, "kvmrt-hog");
	strcpy(oc.p[ST_QUEUE][1].who.name, "TIMER");
	oc.p[ST_QUEUE][1].who.id = 1;
	causes__add(&c, -1, &r, &oc);
	t = causes__tail(&c, VM, 0);
	assert_non_null(t);
	assert_int_equal(t->n, 3);
	for (n = 0; n < t->n && t->p[n].who.kind != IF_THREAD; n++)
		;
	assert_true(n < t->n);
	assert_string_equal(t->p[n].who.name, "kvmrt-hog");
	assert_int_equal(t->p[n].ns, 200);
	causes__free(&c);
}

static void exposition(void **state)
{
	struct analysis an;
	struct loader l;
	struct vcpu_stats vc;
	struct vm_stats vm;
	struct snapshot s;
	struct metrics_ctx m;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	memset(&l, 0, sizeof(l));
	memset(&vc, 0, sizeof(vc));
	memset(&vm, 0, sizeof(vm));
	memset(&s, 0, sizeof(s));
	memset(&m, 0, sizeof(m));
	assert_int_equal(analysis__init(&an, 50 * US, NULL, NULL), 0);
	rec(&an, 0, 1, 1, IFE_SWITCH, HOG, "stress-ng");
	rec(&an, 10, 1, HOG, IFE_SOFTIRQ_ENTRY, 3, "");
	rec(&an, 35, 1, HOG, IFE_SOFTIRQ_EXIT, 3, "");
	episode(&an, 0, 100);
	episode(&an, 200, 10); /* under -T: not counted */
	vm.pid = VM;
	snprintf(vm.name, sizeof(vm.name), "rt-vm");
	vm.nvcpus = 1;
	vm.vcpus = &vc;
	s.nvms = 1;
	s.vms = &vm;
	m.l = &l;
	m.s = &s;
	m.version = "test";
	m.analysis = &an;
	f = open_memstream(&text, &len);
	assert_non_null(f);
	metrics_render(f, &m);
	fclose(f);
	assert_non_null(strstr(text, "# TYPE kvmrt_interference_seconds_total counter\n"));
	assert_non_null(strstr(text, "kvmrt_interference_seconds_total{vm=\"rt-vm\",vcpu=\"0\","
				     "kind=\"softirq\"} 0.000025000\n"));
	assert_non_null(strstr(text, "kvmrt_interference_seconds_total{vm=\"rt-vm\",vcpu=\"0\","
				     "kind=\"thread\"} 0.000075000\n"));
	assert_non_null(strstr(text, "kvmrt_interference_seconds_total{vm=\"rt-vm\",vcpu=\"0\","
				     "kind=\"nmi\"} 0.000000000\n"));
	free(text);

	/* without -a: no such family */
	m.analysis = NULL;
	text = NULL;
	f = open_memstream(&text, &len);
	metrics_render(f, &m);
	fclose(f);
	assert_null(strstr(text, "kvmrt_interference"));
	free(text);
	analysis__free(&an);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tail_thread_by_pid),
		cmocka_unit_test(slowest_and_kinds),
		cmocka_unit_test(exposition),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
