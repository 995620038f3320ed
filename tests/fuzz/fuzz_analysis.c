// SPDX-License-Identifier: GPL-2.0
/* -a live (kvmrt trace, top, export): any sequence of the BPF side's
 * REC_IF records and outlier records, in or out of time order, with any
 * names, through agent/commands/analysis.c. Every analysed outlier's
 * parts add up to each of its stages, and every cause's text is
 * printable. */
#include "fuzz.h"
#include "analysis.h"
#include "episode.h"
#include "results.h"

static const uint8_t *in;
static size_t left;

static __u64 take(int bytes)
{
	__u64 v = 0;

	while (bytes-- > 0 && left) {
		v = v << 8 | *in++;
		left--;
	}
	return v;
}

static void check(void *ctx, const struct kvmrt_outlier *o, const struct outlier_causes *oc)
{
	struct kvmrt_ep_done d = outlier_episode(o);
	__u64 from[ST_NR], to[ST_NR];
	char text[64];
	int s, k;

	ep_stage_spans(&d, from, to);
	for (s = 0; s < ST_NR; s++) {
		__u64 sum = 0;

		for (k = 0; k < oc->n[s]; k++) {
			sum += oc->p[s][k].ns;
			if_label_text(&oc->p[s][k].who, text, sizeof(text));
			fuzz_assert_printable(esc_str(text));
		}
		if (to[s] > from[s] && (!oc->n[s] || sum != to[s] - from[s]))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const __u32 pids[] = { 0, 1, 100, 4242, 5000, 5001 };
	static struct analysis an; /* one for every input, as a long run's:
				    * its timeline starts afresh when crowded */
	static __u64 t = 1000000;

	fuzz_quiet();
	in = data;
	left = size;
	if (!an.feed.tl.label && analysis__init(&an, 0, check, NULL))
		abort();
	an.threshold_ns = take(1) & 1 ? 0 : 1000;
	while (left) {
		__u32 kind = (__u32)take(1);

		/* time mostly goes forward, sometimes back a little */
		t += take(1) * 1000;
		if (kind & 0x80)
			t -= t > 5000 ? 5000 : 0;
		if ((kind & 0x1f) > IFE_WATCH) { /* an outlier of vCPU 5001 */
			struct kvmrt_outlier o = { .type = REC_OUTLIER, .tgid = 5000, .tid = 5001,
						   .vcpu = 0, .cpu = (__u32)take(1) % 4 };
			__u64 span = take(1) * 1000;

			o.t_inject = t > span ? t - span : 0;
			o.t_wake = take(1) & 1 ? o.t_inject + span / 4 : 0;
			o.t_run = take(1) & 1 ? o.t_inject + span / 2 : 0;
			o.t_deliver = take(1) & 1 ? o.t_inject + span * 3 / 4 : 0;
			o.t_eoi = t;
			analysis__on_outlier(NULL, &o, &an);
		} else {
			struct kvmrt_if_rec r = { .type = REC_IF, .event = kind & 0x1f, .t = t };
			size_t n = (size_t)take(1) % sizeof(r.name);

			r.cpu = (__u32)take(1) % 5; /* one past the outliers' CPUs */
			r.pid = pids[take(1) % 6];
			r.a[0] = (__s64)(take(1) % 2 ? pids[take(1) % 6] : take(2));
			r.a[1] = (__s64)take(2);
			r.a[2] = (__s64)take(1);
			memcpy(r.name, in, n < left ? n : left); /* any bytes, unterminated */
			take((int)n);
			if (r.event == IFE_WATCH)
				r.pid = 0;
			analysis__on_if(NULL, &r, &an);
		}
	}
	return 0;
}
