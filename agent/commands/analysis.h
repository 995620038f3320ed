/* SPDX-License-Identifier: GPL-2.0 */
/*
 * -a, live (kvmrt trace, top, export): -a's programs loaded, their records
 * laid into the timeline (agent/collect/if_feed.h), and each slow episode
 * (over -T, else its vCPU's slowest 1% so far) explained when it ends and
 * handed on with its causes; per vCPU, the time of those causes by kind
 * (export) and since the last look (top).
 */
#ifndef KVMRT_ANALYSIS_H
#define KVMRT_ANALYSIS_H

#include "causes.h"
#include "collector.h"
#include "if_feed.h"
#include "loader.h"
#include "store.h"

typedef void (*analyzed_fn)(void *ctx, const struct kvmrt_outlier *o, const struct outlier_causes *oc);

/* A vCPU's: its responses so far, and its slow episodes' causes, ns by
 * kind (enum if_kind) */
struct analysis_vcpu {
	struct kvmrt_vcpu_key vk;
	struct kvmrt_hist resp;
	__u64 ns[IF_KIND_NR];
};

struct analysis {
	struct if_feed feed;
	struct analysis_vcpu *v; /* the vCPUs of live VMs (analysis__forget_vm) */
	int nv, capv;
	struct causes recent, all; /* per vCPU, the causes since analysis__forget */
	__u64 threshold_ns;	 /* -T; 0: each vCPU's slowest 1% so far */
	__u64 lost;		 /* records the timeline had no memory for */
	__u64 restarts;		 /* times the timeline started afresh (if_feed__crowded) */
	analyzed_fn fn;		 /* each slow episode with its causes, or NULL */
	void *ctx;
};

int analysis__init(struct analysis *an, __u64 threshold_ns, analyzed_fn fn, void *ctx);
void analysis__free(struct analysis *an);
/* Set -a in the loader's options: its programs, and every episode sent
 * when there is no threshold (the agent picks the slowest). */
void analysis__loader_opts(const struct analysis *an, struct loader_opts *lo);
/* session_open's outlier callback (its ctx: the analysis); then
 * analysis__attach for the records. */
void analysis__on_outlier(struct collector *c, const struct kvmrt_outlier *r, void *ctx);
/* -a's records, the same way (analysis__attach sets it) */
void analysis__on_if(struct collector *c, const struct kvmrt_if_rec *r, void *ctx);
void analysis__attach(struct analysis *an, struct collector *c);
/* A vCPU's figures, NULL if none yet. */
const struct analysis_vcpu *analysis__vcpu(const struct analysis *an, __u32 tgid, __u32 vcpu);
/* A VM gone: its vCPUs forgotten (a long run sees VMs come and go). */
void analysis__forget_vm(struct analysis *an, __u32 tgid);
/* The biggest cause of a vCPU's slow episodes since the last forget of
 * recent ones (all: of all of them), its share of them in *share; NULL if
 * none. */
const struct if_part *analysis__main(const struct analysis *an, __u32 tgid, __u32 vcpu, int all,
				     double *share);
void analysis__forget(struct analysis *an, int all);

#endif
