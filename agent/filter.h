/* SPDX-License-Identifier: GPL-2.0 */
/* Which VMs and vCPUs a front end shows: -p PID[,PID], -g NAME, --vcpu N
 * mean the same in every command. */
#ifndef KVMRT_FILTER_H
#define KVMRT_FILTER_H

#include <linux/types.h>

#define FILTER_MAX_PIDS 64

struct vm_filter {
	__u32 pids[FILTER_MAX_PIDS];
	int npids;
	const char *guest; /* exact name or shell glob */
	int vcpu;	   /* -1: all */
};

void filter_init(struct vm_filter *f);
/* "123,456" -> pids; 0 or -EINVAL (message printed). */
int filter_parse_pids(struct vm_filter *f, const char *arg);
int filter_parse_vcpu(struct vm_filter *f, const char *arg);
int filter_vm(const struct vm_filter *f, __u32 pid, const char *name);
int filter_vcpu(const struct vm_filter *f, __u32 vcpu);

#endif
