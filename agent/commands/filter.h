/* SPDX-License-Identifier: GPL-2.0 */
/* Which VMs and vCPUs a front end shows: -p PID[,PID], -g NAME, --vcpu N
 * mean the same in every command. */
#ifndef KVMRT_FILTER_H
#define KVMRT_FILTER_H

#include "options.h"

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
/* The options every front end shares: -p, -g and --vcpu (OPT_VCPU,
 * options.h). 1 if opt was one of them and is valid, 0 if it is not one
 * of them, -EINVAL (message printed) if its value is bad. */
#define FILTER_LONGOPTS                                                                            \
	{ "pid", required_argument, NULL, 'p' }, { "guest", required_argument, NULL, 'g' },       \
		{ "vcpu", required_argument, NULL, OPT_VCPU }
int filter_option(struct vm_filter *f, int opt, const char *arg);
int filter_vm(const struct vm_filter *f, __u32 pid, const char *name);
int filter_vcpu(const struct vm_filter *f, __u32 vcpu);
/* Both, for the collector (collector__keep): f is a struct vm_filter. */
int filter_keep(void *f, __u32 pid, const char *name, __u32 vcpu);

#endif
