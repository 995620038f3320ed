/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An episode's endpoints, and whether kvmrt can observe each one here: the
 * one definition that trace, report, top and export print. An endpoint is
 * observable when one of its tracepoints is attached (live) or recorded
 * (report) and, for those that fire only on some hosts (VMX/SVM), when one
 * of them fired.
 */
#ifndef KVMRT_ENDPOINTS_H
#define KVMRT_ENDPOINTS_H

#include <linux/types.h>
#include "kvmrt.h"

enum endpoint {
	ENDPOINT_INJECT,
	ENDPOINT_WAKE,
	ENDPOINT_RUN,
	ENDPOINT_DELIVER,
	ENDPOINT_EOI,
	ENDPOINT_EXITS,
	ENDPOINT_TIMER_LATENESS,
	ENDPOINT_NR,
};

/* "inject", "wake", ...: output and metric labels; keep them stable. */
const char *endpoint_name(int e);
/* attached: per tracepoint (enum kvmrt_prog), attached or recorded;
 * hits: per tracepoint, times it fired. */
int endpoint_observable(int e, const int attached[P_NR], const __u64 hits[P_NR]);

#endif
