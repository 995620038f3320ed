/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Prometheus text exposition of a snapshot: base units (seconds), _total
 * counters, histograms with le buckets from 1 us to 100 ms derived from
 * the in-kernel log-linear histograms, labels vm and vcpu plus small enums.
 */
#ifndef KVMRT_METRICS_H
#define KVMRT_METRICS_H

#include <stdio.h>
#include "collector.h"
#include "boost_view.h"
#include "hostinfo.h"

struct analysis;

/* Upper bounds (ns) of the exported buckets: 1, 1.5, 2, 3, 5, 7 per decade. */
#define METRICS_NBOUNDS 31
extern const __u64 metrics_bounds_ns[METRICS_NBOUNDS];

struct metrics_ctx {
	const struct loader *l;
	const struct snapshot *s;	/* since start: counters, histograms */
	const struct snapshot *last;	/* the last interval: gauges such as max */
	const char *version;
	const struct boost_view *boosts; /* the controllers' threads, or NULL */
	const struct host_info *host;	/* or NULL */
	const struct analysis *analysis; /* -a's, or NULL */
};

/* Write a label value escaped for the exposition format: backslash, quote
 * and newline. A VM's name is already printable UTF-8 (escape.h, where it
 * is read), so that is all a label needs. */
void metrics_escape(FILE *f, const char *s);
/* Count of values <= bound in a kvmrt histogram (whole buckets only). */
__u64 metrics_cumulative(const struct kvmrt_hist *h, __u64 bound_ns);
void metrics_render(FILE *f, const struct metrics_ctx *m);

#endif
