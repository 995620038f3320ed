/* SPDX-License-Identifier: GPL-2.0 */
/* A latency distribution summarized the one way every output shows it:
 * count, mean, p50, p90, p99, p99.9, max (JSON: the *_ns names). */
#ifndef KVMRT_LATENCY_H
#define KVMRT_LATENCY_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "kvmrt.h"
#include "json.h"

struct lat_summary {
	uint64_t count;
	uint64_t mean_ns;
	uint64_t p50_ns;
	uint64_t p90_ns;
	uint64_t p99_ns;
	uint64_t p999_ns;
	uint64_t max_ns;
};

/* Nearest-rank percentile (p in 0..100) from a histogram: the midpoint of
 * the bucket holding that rank, never above the recorded maximum. */
uint64_t hist_percentile(const struct kvmrt_hist *h, double p);
void hist_merge(struct kvmrt_hist *dst, const struct kvmrt_hist *src);
/* d = b - a, for two readings of one cumulative histogram (a first) */
void hist_sub(struct kvmrt_hist *d, const struct kvmrt_hist *a, const struct kvmrt_hist *b);
void lat_from_hist(const struct kvmrt_hist *h, struct lat_summary *s);
/* Where a histogram's slowest share (0.01: 1%) begins: the low end of the
 * lowest bucket whose count and the counts above it are at most
 * max(1, count * share), ties counted in (so the slowest bucket when it
 * alone holds more); 0 for an empty histogram. -a's "slowest 1%". */
uint64_t hist_slowest_from(const struct kvmrt_hist *h, double share);

/* Exact nearest-rank percentile of sorted samples. */
uint64_t exact_percentile(const uint64_t *sorted, size_t n, double p);
/* Sorts samples in place. */
void lat_from_samples(uint64_t *samples, size_t n, struct lat_summary *s);

void lat_json(struct json *j, const char *key, const struct lat_summary *s);
/* One text line: "count mean p50 p90 p99 p99.9 max" in microseconds. */
void lat_print(FILE *f, const char *label, const struct lat_summary *s);

#endif
