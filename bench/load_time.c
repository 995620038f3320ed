// SPDX-License-Identifier: GPL-2.0
/* What it costs to load kvmrt's BPF programs, as each command does, with
 * and without kvmrt control's hint port (which turns on kvm_pio's program):
 * runs alternated, the median of each, the difference, and what the
 * verifier did per program (instructions processed). Root.
 *
 *   load-time [RUNS]       (default 7)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "clock.h"
#include "loader.h"
#include "log.h"
#include "names.h"

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/* One load (no attach): its wall time in ns, 0 on failure; the verifier's
 * instructions processed per program into insns[] when not NULL. */
static __u64 load_once(__u16 hint_port, __u32 *insns)
{
	struct loader_opts o = { .no_attach = 1, .hint_port = hint_port, .control = 1 };
	struct loader l;
	__u64 t0 = mono_ns(), dt;
	int p;

	if (loader__open_load_attach(&l, &o))
		return 0;
	dt = mono_ns() - t0;
	for (p = 0; insns && p < P_NR; p++) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = loader__prog_fd(&l, p);

		memset(&info, 0, sizeof(info));
		insns[p] = 0;
		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
			insns[p] = info.verified_insns;
	}
	loader__destroy(&l);
	return dt;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 7, i, p;
	__u64 *with = calloc(runs, sizeof(*with)), *without = calloc(runs, sizeof(*without));
	__u32 insns[P_NR], insns0[P_NR];

	if (!with || !without || runs < 1)
		return 2;
	log_level = LOG_ERROR;
	log_prefix = "load-time";
	for (i = 0; i < runs; i++) { /* alternated: drift hits both alike */
		without[i] = load_once(0, i ? NULL : insns0);
		with[i] = load_once(0x7c2, i ? NULL : insns);
		if (!with[i] || !without[i]) {
			fprintf(stderr, "load-time: the BPF programs did not load\n");
			return 1;
		}
	}
	qsort(with, runs, sizeof(*with), cmp_u64);
	qsort(without, runs, sizeof(*without), cmp_u64);
	printf("load (open, verify, no attach), median of %d alternated runs:\n", runs);
	printf("  without --hint-port  %7.1f ms (min %.1f, max %.1f)\n", without[runs / 2] / 1e6,
	       without[0] / 1e6, without[runs - 1] / 1e6);
	printf("  with --hint-port     %7.1f ms (min %.1f, max %.1f)\n", with[runs / 2] / 1e6,
	       with[0] / 1e6, with[runs - 1] / 1e6);
	printf("  the hint port adds   %7.1f ms (target: at most 200)\n",
	       ((double)with[runs / 2] - (double)without[runs / 2]) / 1e6);
	printf("instructions the verifier processed, per program loaded:\n");
	for (p = 0; p < P_NR; p++)
		if (insns[p] || insns0[p])
			printf("  %-28s %8u%s\n", prog_tp_name(p), insns[p],
			       insns0[p] ? "" : "  (only with --hint-port)");
	return 0;
}
