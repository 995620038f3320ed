/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What stood in a slow interrupt's way (`kvmrt report -a`): each outlier's
 * stages broken into who held the vCPU's CPU meanwhile, net
 * (agent/collect/interference.h), and, per vCPU, where the tail went: the
 * share of each cause over all its outliers. Printed with the outliers
 * and the vCPU (text and JSON).
 */
#ifndef KVMRT_CAUSES_H
#define KVMRT_CAUSES_H

#include <linux/types.h>
#include "episode.h"
#include "if_feed.h"
#include "interference.h"
#include "json.h"
#include "kvmrt.h"

#define CAUSE_PARTS 5	/* per stage, the rest as "other" */
#define TAIL_PARTS 32	/* per vCPU */
#define MAX_TAILS 1024

struct outlier_causes {
	int n[ST_NR];
	__u32 cpu[ST_NR];
	struct if_part p[ST_NR][CAUSE_PARTS];
};

/* A vCPU's outliers, their causes summed. */
struct tail {
	__u32 tgid, vcpu;
	__u32 outliers;
	__u64 ns;	/* their stages' time */
	int n;
	struct if_part p[TAIL_PARTS];
};

struct causes {
	struct outlier_causes *per;	/* parallel to the kept outliers */
	struct tail *tails;
	int ntails;
};

/* An outlier's stages, each on the CPU where it passed, broken into who
 * held that CPU meanwhile (the feed's timeline). */
void causes__explain(const struct if_feed *f, const struct kvmrt_outlier *o, struct outlier_causes *oc);

int causes__init(struct causes *c, size_t max_outliers);
void causes__free(struct causes *c);
/* Add an outlier's causes to its vCPU's tail (every one, kept or not),
 * and keep them as the i-th kept outlier's (i < the max given to init),
 * or not (i = -1). */
void causes__add(struct causes *c, long i, const struct kvmrt_outlier *r,
		 const struct outlier_causes *oc);
const struct tail *causes__tail(const struct causes *c, __u32 tgid, __u32 vcpu);
/* A VM gone: its vCPUs' tails dropped. */
void causes__forget_vm(struct causes *c, __u32 tgid);

/* "; causes: queue stress-ng[4242] 790.1, softirq NET_RX 12.0; handle ..." */
void causes_print(const struct outlier_causes *oc);
void causes_json(struct json *j, const struct outlier_causes *oc);
/* "  where the tail went (12 outliers, 9.8 ms): 84% stress-ng[4242]; ..." */
void tail_print(const struct tail *t);
void tail_json(struct json *j, const struct tail *t);

#endif
