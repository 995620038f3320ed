// SPDX-License-Identifier: GPL-2.0
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "latency.h"

static uint64_t rank_of(uint64_t n, double p)
{
	uint64_t r = (uint64_t)ceil(p / 100.0 * (double)n);

	return r < 1 ? 1 : (r > n ? n : r);
}

uint64_t hist_percentile(const struct kvmrt_hist *h, double p)
{
	uint64_t rank, cum = 0, lo, hi, mid;
	unsigned int i;

	if (!h->count)
		return 0;
	rank = rank_of(h->count, p);
	for (i = 0; i < HIST_NBUCKETS; i++) {
		cum += h->b[i];
		if (cum >= rank)
			break;
	}
	if (i == HIST_NBUCKETS)
		return h->max;
	lo = hist_bucket_lo(i);
	hi = hist_bucket_hi(i);
	mid = lo + (hi - 1 - lo) / 2;
	if (h->max && mid > h->max)
		mid = h->max;
	return mid;
}

void hist_merge(struct kvmrt_hist *dst, const struct kvmrt_hist *src)
{
	unsigned int i;

	dst->count += src->count;
	dst->sum += src->sum;
	if (src->max > dst->max)
		dst->max = src->max;
	for (i = 0; i < HIST_NBUCKETS; i++)
		dst->b[i] += src->b[i];
}

void hist_sub(struct kvmrt_hist *d, const struct kvmrt_hist *a, const struct kvmrt_hist *b)
{
	int i, top = -1;

	d->count = b->count - a->count;
	d->sum = b->sum - a->sum;
	for (i = 0; i < HIST_NBUCKETS; i++) {
		d->b[i] = b->b[i] - a->b[i];
		if (d->b[i])
			top = i;
	}
	/* the interval's maximum: exact if the all-time maximum fell in it,
	 * else the top of its highest bucket (at most 1/16 above) */
	d->max = 0;
	if (top >= 0) {
		d->max = hist_bucket_hi(top) - 1;
		if (b->max < d->max || hist_bucket(b->max) == (unsigned int)top)
			d->max = b->max;
	}
}

uint64_t hist_slowest_from(const struct kvmrt_hist *h, double share)
{
	double limit = h->count * share;
	__u64 above = 0;
	int b, top = -1;

	if (limit < 1)
		limit = 1;
	for (b = HIST_NBUCKETS - 1; b >= 0; b--) {
		if (!h->b[b])
			continue;
		if (top >= 0 && above + h->b[b] > limit)
			break;
		above += h->b[b];
		top = b;
	}
	return top >= 0 ? hist_bucket_lo((unsigned int)top) : 0;
}

void lat_from_hist(const struct kvmrt_hist *h, struct lat_summary *s)
{
	memset(s, 0, sizeof(*s));
	s->count = h->count;
	if (!h->count)
		return;
	s->mean_ns = h->sum / h->count;
	s->p50_ns = hist_percentile(h, 50);
	s->p90_ns = hist_percentile(h, 90);
	s->p99_ns = hist_percentile(h, 99);
	s->p999_ns = hist_percentile(h, 99.9);
	s->max_ns = h->max;
}

uint64_t exact_percentile(const uint64_t *sorted, size_t n, double p)
{
	if (!n)
		return 0;
	return sorted[rank_of(n, p) - 1];
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void lat_from_samples(uint64_t *samples, size_t n, struct lat_summary *s)
{
	long double sum = 0;
	size_t i;

	memset(s, 0, sizeof(*s));
	s->count = n;
	if (!n)
		return;
	qsort(samples, n, sizeof(*samples), cmp_u64);
	for (i = 0; i < n; i++)
		sum += samples[i];
	s->mean_ns = (uint64_t)(sum / n);
	s->p50_ns = exact_percentile(samples, n, 50);
	s->p90_ns = exact_percentile(samples, n, 90);
	s->p99_ns = exact_percentile(samples, n, 99);
	s->p999_ns = exact_percentile(samples, n, 99.9);
	s->max_ns = samples[n - 1];
}

void lat_json(struct json *j, const char *key, const struct lat_summary *s)
{
	json_obj_begin(j, key);
	json_u64(j, "count", s->count);
	json_u64(j, "mean_ns", s->mean_ns);
	json_u64(j, "p50_ns", s->p50_ns);
	json_u64(j, "p90_ns", s->p90_ns);
	json_u64(j, "p99_ns", s->p99_ns);
	json_u64(j, "p999_ns", s->p999_ns);
	json_u64(j, "max_ns", s->max_ns);
	json_obj_end(j);
}

void lat_print(FILE *f, const char *label, const struct lat_summary *s)
{
	if (!s->count) {
		fprintf(f, "  %-11s %8s  (not observed)\n", label, "0");
		return;
	}
	fprintf(f, "  %-11s %8llu %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f\n", label,
		(unsigned long long)s->count, s->mean_ns / 1e3, s->p50_ns / 1e3, s->p90_ns / 1e3,
		s->p99_ns / 1e3, s->p999_ns / 1e3, s->max_ns / 1e3);
}
