// SPDX-License-Identifier: GPL-2.0
/* Command-line values: numbers, PID lists, vCPUs, CPU lists (the shield's
 * and the kernel's), listen addresses. The first byte picks the parser. */
#define _GNU_SOURCE
#include <sched.h>
#include "commands.h"
#include "filter.h"
#include "fuzz.h"
#include "httpd.h"
#include "shield.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage ss;
	struct vm_filter f;
	socklen_t sl;
	cpu_set_t set;
	double d;
	char *s;

	if (!size)
		return 0;
	fuzz_quiet();
	s = fuzz_str(data + 1, size - 1);
	filter_init(&f);
	switch (data[0] % 6) {
	case 0:
		if (!cli_number("number", s, -1e9, 1e9, &d) && (d < -1e9 || d > 1e9))
			abort();
		break;
	case 1:
		if (!filter_parse_pids(&f, s) && (f.npids < 1 || f.npids > FILTER_MAX_PIDS))
			abort();
		break;
	case 2:
		if (!filter_parse_vcpu(&f, s) && (f.vcpu < 0 || f.vcpu > 4095))
			abort();
		break;
	case 3:
		if (!shield_parse(s, &set) && !CPU_COUNT(&set))
			abort();
		break;
	case 4:
		cpulist_parse(s, &set);
		break;
	case 5:
		if (!httpd_parse_listen(s, &ss, &sl) && sl > sizeof(ss))
			abort();
		break;
	}
	free(s);
	return 0;
}
