// SPDX-License-Identifier: GPL-2.0
/* Bucketing: every value lands in a bucket that contains it, and reported
 * percentiles stay within 5% of the exact ones from the same samples. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>
#include "latency.h"

static uint64_t rng_state = 88172645463325252ULL;

static uint64_t xorshift(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static double uniform(void)
{
	return (xorshift() >> 11) * (1.0 / 9007199254740992.0);
}

static void bucket_contains_value(void **state)
{
	uint64_t v;
	int i;

	for (v = 0; v < 100000; v++) {
		unsigned int b = hist_bucket(v);

		assert_true(b < HIST_NBUCKETS);
		assert_true(hist_bucket_lo(b) <= v);
		assert_true(v < hist_bucket_hi(b));
	}
	for (i = 0; i < 200000; i++) {
		v = xorshift() >> (xorshift() % 40 + 24);
		unsigned int b = hist_bucket(v);

		assert_true(hist_bucket_lo(b) <= v && v < hist_bucket_hi(b));
	}
	/* consecutive buckets tile the line: no gaps, no overlaps */
	for (i = 0; i + 1 < HIST_NBUCKETS; i++)
		assert_int_equal(hist_bucket_hi(i), hist_bucket_lo(i + 1));
	/* and never wider than 1/16 of where they start */
	for (i = HIST_SUB; i < HIST_NBUCKETS; i++)
		assert_true((hist_bucket_hi(i) - hist_bucket_lo(i)) * 16 <= hist_bucket_lo(i));
	assert_int_equal(hist_bucket(~0ULL), HIST_NBUCKETS - 1);
}

static void check_distribution(uint64_t *s, size_t n, const char *what)
{
	static const double ps[] = { 1, 10, 50, 90, 99, 99.9, 100 };
	struct kvmrt_hist *h = calloc(1, sizeof(*h));
	size_t i;

	assert_non_null(h);
	for (i = 0; i < n; i++) {
		h->b[hist_bucket(s[i])]++;
		h->count++;
		h->sum += s[i];
		if (s[i] > h->max)
			h->max = s[i];
	}
	struct lat_summary exact;

	lat_from_samples(s, n, &exact); /* sorts */
	for (i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		double e = (double)exact_percentile(s, n, ps[i]);
		double got = (double)hist_percentile(h, ps[i]);

		if (fabs(got - e) > 0.05 * e + 0.5)
			fail_msg("%s: p%g exact %.0f histogram %.0f (%.2f%% off)", what, ps[i], e,
				 got, 100 * fabs(got - e) / e);
	}
	free(h);
}

static void percentiles_within_5_percent(void **state)
{
	size_t n = 100000, i;
	uint64_t *s = malloc(n * sizeof(*s));

	assert_non_null(s);
	/* log-normal around 30 us: a typical response */
	for (i = 0; i < n; i++) {
		double u1 = uniform() + 1e-12, u2 = uniform();
		double z = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);

		s[i] = (uint64_t)exp(log(30000) + 0.8 * z);
	}
	check_distribution(s, n, "lognormal");
	/* heavy tail: mostly 20 us, 1% at milliseconds */
	for (i = 0; i < n; i++)
		s[i] = (i % 100 == 0) ? 1000000 + xorshift() % 5000000 : 20000 + xorshift() % 3000;
	check_distribution(s, n, "bimodal");
	/* uniform over six decades */
	for (i = 0; i < n; i++)
		s[i] = (uint64_t)pow(10, 1 + 6 * uniform());
	check_distribution(s, n, "log-uniform");
	/* tiny values are exact */
	for (i = 0; i < n; i++)
		s[i] = xorshift() % 16;
	check_distribution(s, n, "small");
	free(s);
}

static void percentile_never_above_max(void **state)
{
	struct kvmrt_hist *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	h->b[hist_bucket(1000)] = 1;
	h->count = 1;
	h->sum = 1000;
	h->max = 1000;
	assert_true(hist_percentile(h, 99) <= 1000);
	assert_true(hist_percentile(h, 99) >= 950);
	free(h);
}

/* -a's slowest 1%: at most max(1, 1%) of the values from where it begins,
 * ties counted in; the slowest always in. */
static void slowest_share(void **state)
{
	struct kvmrt_hist h;
	__u64 from, n;
	int i, b;

	memset(&h, 0, sizeof(h));
	assert_int_equal(hist_slowest_from(&h, 0.01), 0);
	hist_record(&h, 5000);
	assert_int_equal(hist_slowest_from(&h, 0.01), hist_bucket_lo(hist_bucket(5000)));
	for (i = 0; i < 200; i++)
		hist_record(&h, 1000); /* ties: none of them is in */
	assert_int_equal(hist_slowest_from(&h, 0.01), hist_bucket_lo(hist_bucket(5000)));
	memset(&h, 0, sizeof(h));
	for (i = 0; i < 300; i++)
		hist_record(&h, 1000); /* all tied: the slowest bucket, all of it */
	assert_int_equal(hist_slowest_from(&h, 0.01), hist_bucket_lo(hist_bucket(1000)));
	memset(&h, 0, sizeof(h));
	for (i = 1; i <= 10000; i++)
		hist_record(&h, (__u64)i * 1000); /* 1 us .. 10 ms */
	from = hist_slowest_from(&h, 0.01);
	for (n = 0, b = 0; b < HIST_NBUCKETS; b++)
		if (hist_bucket_lo((unsigned int)b) >= from)
			n += h.b[b];
	assert_true(n <= 100);
	assert_true(n >= 30); /* the top bucket (1/16 of 2^23 ns wide here) holds 39 */
	assert_true(from <= 10000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bucket_contains_value),
		cmocka_unit_test(percentiles_within_5_percent),
		cmocka_unit_test(percentile_never_above_max),
		cmocka_unit_test(slowest_share),
	};

	return cmocka_run_group_tests_name("hist", tests, NULL, NULL);
}
