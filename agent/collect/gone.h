/* SPDX-License-Identifier: GPL-2.0 */
/* VMs that went, for kvmrt export's grace period: noted when a snapshot
 * first shows a VM not alive, struck off when it is alive again (a new VM
 * that got the same pid), due for forgetting once the grace has passed. */
#ifndef KVMRT_GONE_H
#define KVMRT_GONE_H

#include <linux/types.h>
#include "collector.h"

struct gone {
	__u32 pid;
	__u64 since_ns;
};

struct gone_list {
	struct gone *v;
	int n;
};

/* What snapshot s says of each VM at now. */
void gone_note(struct gone_list *g, const struct snapshot *s, __u64 now);
/* A pid whose grace has passed, taken off the list; 0 when none is due. */
__u32 gone_due(struct gone_list *g, __u64 now, __u64 grace_ns);
void gone_free(struct gone_list *g);

#endif
