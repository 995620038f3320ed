// SPDX-License-Identifier: GPL-2.0
/* -a live: see analysis.h. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "analysis.h"
#include "episode.h"
#include "latency.h"
#include "procfs.h"
#include "results.h"

int analysis__init(struct analysis *an, __u64 threshold_ns, analyzed_fn fn, void *ctx)
{
	memset(an, 0, sizeof(*an));
	an->threshold_ns = threshold_ns;
	an->fn = fn;
	an->ctx = ctx;
	if (if_feed__init(&an->feed, NULL, NULL))
		return -ENOMEM;
	if (causes__init(&an->recent, 1) || causes__init(&an->all, 1)) {
		analysis__free(an);
		return -ENOMEM;
	}
	return 0;
}

void analysis__free(struct analysis *an)
{
	if_feed__free(&an->feed);
	free(an->v);
	an->v = NULL;
	an->nv = an->capv = 0;
	causes__free(&an->recent);
	causes__free(&an->all);
}

void analysis__loader_opts(const struct analysis *an, struct loader_opts *lo)
{
	lo->analyze = 1;
	lo->threshold_ns = an->threshold_ns ? an->threshold_ns : 1;
}

const struct analysis_vcpu *analysis__vcpu(const struct analysis *an, __u32 tgid, __u32 vcpu)
{
	int i;

	for (i = 0; i < an->nv; i++)
		if (an->v[i].vk.tgid == tgid && an->v[i].vk.vcpu == vcpu)
			return &an->v[i];
	return NULL;
}

static struct analysis_vcpu *vcpu_of(struct analysis *an, __u32 tgid, __u32 vcpu)
{
	struct analysis_vcpu *v = (struct analysis_vcpu *)analysis__vcpu(an, tgid, vcpu);

	if (v)
		return v;
	if (an->nv == an->capv) {
		int cap = an->capv ? 2 * an->capv : 16;

		if (cap > KVMRT_MAX_VCPUS || !(v = realloc(an->v, (size_t)cap * sizeof(*v))))
			return NULL;
		an->v = v;
		an->capv = cap;
	}
	v = &an->v[an->nv++];
	memset(v, 0, sizeof(*v));
	v->vk.tgid = tgid;
	v->vk.vcpu = vcpu;
	return v;
}

void analysis__forget_vm(struct analysis *an, __u32 tgid)
{
	int i, k = 0;

	for (i = 0; i < an->nv; i++)
		if (an->v[i].vk.tgid != tgid)
			an->v[k++] = an->v[i];
	an->nv = k;
	causes__forget_vm(&an->recent, tgid);
	causes__forget_vm(&an->all, tgid);
}

/* A thread the records named by pid only (running when its CPU became
 * watched, no switch since): its comm from /proc, while it lives. Live
 * only, and only for an outlier's few parts. */
static void name_threads(struct outlier_causes *oc)
{
	char path[48];
	int s, i, n;

	for (s = 0; s < ST_NR; s++)
		for (i = 0; i < oc->n[s]; i++) {
			struct if_label *w = &oc->p[s][i].who;

			if (w->kind != IF_THREAD || w->name[0] || !w->id)
				continue;
			snprintf(path, sizeof(path), "/proc/%u/comm", w->id);
			n = procfs_read(path, w->name, IF_NAME_LEN);
			if (n > 0 && w->name[n - 1] == '\n')
				w->name[n - 1] = 0;
			else if (n < 0)
				w->name[0] = 0;
		}
}

/* Over -T; without it, in the slowest 1% of its vCPU's responses so far
 * (hist_slowest_from: as kvmrt report picks them over the whole recording) */
static int slow_enough(struct analysis *an, struct analysis_vcpu *v, const struct kvmrt_outlier *r)
{
	struct kvmrt_ep_done d = outlier_episode(r);
	__u64 resp = ep_response_ns(&d);

	if (an->threshold_ns)
		return resp >= an->threshold_ns;
	hist_record(&v->resp, resp);
	return resp >= hist_slowest_from(&v->resp, 0.01);
}

void analysis__on_outlier(struct collector *c, const struct kvmrt_outlier *r, void *ctx)
{
	struct analysis *an = ctx;
	struct analysis_vcpu *v = vcpu_of(an, r->tgid, r->vcpu);
	struct outlier_causes oc;
	int s, i;

	if (!an->feed.tl.label) /* out of memory at a restart */
		return;
	if_feed__track(&an->feed, r->tid); /* its next wakeups and switch-ins */
	if (!v || !slow_enough(an, v, r))
		return;
	causes__explain(&an->feed, r, &oc);
	name_threads(&oc);
	causes__add(&an->recent, -1, r, &oc);
	causes__add(&an->all, -1, r, &oc);
	for (s = 0; s < ST_NR; s++)
		for (i = 0; i < oc.n[s]; i++)
			if (oc.p[s][i].who.kind < IF_KIND_NR)
				v->ns[oc.p[s][i].who.kind] += oc.p[s][i].ns;
	if (an->fn)
		an->fn(an->ctx, r, &oc);
	/* a long run (export) sees threads come and go: past half its tables,
	 * the timeline starts afresh (what is in flight now loses its past) */
	if (if_feed__crowded(&an->feed)) {
		if_feed__free(&an->feed);
		if (if_feed__init(&an->feed, NULL, NULL))
			an->lost++;
		an->restarts++;
	}
}

void analysis__on_if(struct collector *c, const struct kvmrt_if_rec *r, void *ctx)
{
	struct analysis *an = ctx;

	if (!an->feed.tl.label) /* out of memory at a restart: tried again */
		if (if_feed__init(&an->feed, NULL, NULL)) {
			an->lost++;
			return;
		}

	if (if_feed__record(&an->feed, r))
		an->lost++;
}

void analysis__attach(struct analysis *an, struct collector *c)
{
	(void)an; /* the collector's ctx, as session_open gave it */
	collector__on_if(c, analysis__on_if);
}

const struct if_part *analysis__main(const struct analysis *an, __u32 tgid, __u32 vcpu, int all,
				     double *share)
{
	const struct tail *t = causes__tail(all ? &an->all : &an->recent, tgid, vcpu);
	const struct if_part *best = NULL;
	int i;

	if (!t || !t->ns)
		return NULL;
	for (i = 0; i < t->n; i++)
		if (!best || t->p[i].ns > best->ns)
			best = &t->p[i];
	*share = best ? (double)best->ns / (double)t->ns : 0;
	return best;
}

void analysis__forget(struct analysis *an, int all)
{
	struct causes *c = all ? &an->all : &an->recent;

	memset(c->tails, 0, (size_t)c->ntails * sizeof(*c->tails));
	c->ntails = 0;
}
