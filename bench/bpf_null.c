// SPDX-License-Identifier: GPL-2.0
/* bpf-null SECONDS [--no-stats]: attach bench/null.bpf.c, print each
 * program's runs and run time (kernel BPF stats) as JSON after SECONDS.
 * --no-stats: without kernel BPF stats, which cost every run two clock
 * reads: the honest floor for a throughput comparison. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "null.skel.h"

int main(int argc, char **argv)
{
	struct null_bpf *s;
	struct bpf_program *p;
	int stats, first = 1;

	stats = argc > 2 && !strcmp(argv[2], "--no-stats") ? -1 :
		bpf_enable_stats(BPF_STATS_RUN_TIME);
	s = null_bpf__open_and_load();
	if (!s || null_bpf__attach(s)) {
		fprintf(stderr, "bpf-null: load/attach failed\n");
		return 1;
	}
	sleep(argc > 1 ? atoi(argv[1]) : 5);
	printf("{");
	bpf_object__for_each_program(p, s->obj) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);

		if (bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len))
			continue;
		printf("%s\"%s\":{\"runs\":%llu,\"run_ns\":%llu}", first ? "" : ",",
		       bpf_program__name(p) + 5, (unsigned long long)info.run_cnt,
		       (unsigned long long)info.run_time_ns);
		first = 0;
	}
	printf("}\n");
	null_bpf__destroy(s);
	if (stats >= 0)
		close(stats);
	return 0;
}
