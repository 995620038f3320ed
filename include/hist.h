/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Log-linear latency buckets, shared by the BPF programs and the agent.
 *
 * Values below 16 ns get one bucket each; above, every power of two is cut
 * into HIST_SUB equal sub-buckets. A bucket is at most 1/16 of its lower
 * bound wide, so reporting its midpoint is within 1/32 (3.2%) of any value
 * in it: that is how percentiles stay within 5% of the exact ones, which
 * plain log2 buckets (up to 50% off) cannot do.
 */
#ifndef KVMRT_HIST_H
#define KVMRT_HIST_H

#define HIST_SUB_BITS 4
#define HIST_SUB (1 << HIST_SUB_BITS)
#define HIST_MAX_EXP 40 /* 2^40 ns is about 18 minutes: the last bucket */
#define HIST_NBUCKETS ((HIST_MAX_EXP - HIST_SUB_BITS + 2) * HIST_SUB)

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* Position of the highest set bit (v > 0), without a clz instruction,
 * which BPF does not have. */
static __always_inline unsigned int hist_msb(unsigned long long v)
{
	unsigned int r = 0;

	if (v >> 32) {
		v >>= 32;
		r += 32;
	}
	if (v >> 16) {
		v >>= 16;
		r += 16;
	}
	if (v >> 8) {
		v >>= 8;
		r += 8;
	}
	if (v >> 4) {
		v >>= 4;
		r += 4;
	}
	if (v >> 2) {
		v >>= 2;
		r += 2;
	}
	if (v >> 1)
		r += 1;
	return r;
}

static __always_inline unsigned int hist_bucket(unsigned long long v)
{
	unsigned int e;

	if (v < HIST_SUB)
		return (unsigned int)v;
	e = hist_msb(v);
	if (e > HIST_MAX_EXP)
		return HIST_NBUCKETS - 1;
	return (e - HIST_SUB_BITS + 1) * HIST_SUB +
	       (unsigned int)((v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

/* Smallest value that falls in bucket idx. */
static __always_inline unsigned long long hist_bucket_lo(unsigned int idx)
{
	unsigned int e, sub;

	if (idx < HIST_SUB)
		return idx;
	e = idx / HIST_SUB + HIST_SUB_BITS - 1;
	sub = idx % HIST_SUB;
	return (unsigned long long)(HIST_SUB + sub) << (e - HIST_SUB_BITS);
}

/* One past the largest value that falls in bucket idx. */
static __always_inline unsigned long long hist_bucket_hi(unsigned int idx)
{
	if (idx < HIST_SUB)
		return idx + 1;
	return hist_bucket_lo(idx) + (1ULL << (idx / HIST_SUB - 1));
}

#endif /* KVMRT_HIST_H */
