// SPDX-License-Identifier: GPL-2.0
/* The contention signal of kvmrt control --slo: others' use of a thread's CPUs. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "cpuload.h"

static const char stat_text[] =
	"cpu  1000 10 500 9000 30 7 3 99 0 0\n"
	"cpu0 600 10 300 4000 20 5 2 50 0 0\n"
	"cpu1 400 0 200 5000 10 2 1 49 0 0\n"
	"intr 12345 0 1\n"
	"ctxt 999\n";

static __u64 busy_of(const char *cpus)
{
	cpu_set_t set;
	FILE *f = fmemopen((void *)stat_text, sizeof(stat_text) - 1, "r");
	__u64 ns = 0;
	const char *p;

	CPU_ZERO(&set);
	for (p = cpus; *p; p++)
		CPU_SET(*p - '0', &set);
	assert_non_null(f);
	if (cpuload_parse_stat(f, &set, 100, &ns))
		ns = ~0ULL;
	fclose(f);
	return ns;
}

/* user + nice + system + irq + softirq of the CPUs asked for; not idle,
 * iowait or steal, and not the all-CPUs line */
static void parse(void **state)
{
	(void)state;
	assert_int_equal(busy_of("0"), (600 + 10 + 300 + 5 + 2) * 10000000ULL);
	assert_int_equal(busy_of("1"), (400 + 200 + 2 + 1) * 10000000ULL);
	assert_int_equal(busy_of("01"), (917 + 603) * 10000000ULL);
	assert_int_equal(busy_of("5"), ~0ULL); /* no such CPU: an error */
}

static void others_share(void **state)
{
	struct cpuload a = { .busy_ns = 0, .thread_ns = 0, .t = 1000000000ULL, .ncpu = 1 };
	struct cpuload b = a;

	(void)state;
	b.t += 1000000000ULL;
	b.busy_ns = 1000000000ULL; /* the CPU was busy the whole second */
	b.thread_ns = 900000000ULL; /* 90% of it the thread itself */
	assert_int_equal(cpuload_others_pm(&a, &b), 100);
	b.thread_ns = 1000000000ULL; /* all of it: nobody else */
	assert_int_equal(cpuload_others_pm(&a, &b), 0);
	b.thread_ns = 1200000000ULL; /* tick-rounded busy below the thread's: 0 */
	assert_int_equal(cpuload_others_pm(&a, &b), 0);
	b.ncpu = 2; /* two CPUs, one busy with others */
	b.busy_ns = 2000000000ULL;
	b.thread_ns = 1000000000ULL;
	assert_int_equal(cpuload_others_pm(&a, &b), 500);
	b.t = a.t; /* no time passed: no figure */
	assert_int_equal(cpuload_others_pm(&a, &b), 0);
}

/* For real: half a second of spinning on one CPU is the thread's time,
 * not others' */
static void read_self(void **state)
{
	struct cpuload a, b;
	cpu_set_t one;
	struct timespec t0, t;
	__u64 own, others;

	(void)state;
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	assert_int_equal(cpuload_read(&a, gettid()), 0);
	assert_int_equal(a.ncpu, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do
		clock_gettime(CLOCK_MONOTONIC, &t);
	while ((t.tv_sec - t0.tv_sec) * 1000000000LL + t.tv_nsec - t0.tv_nsec < 500000000LL);
	assert_int_equal(cpuload_read(&b, gettid()), 0);
	own = (b.thread_ns - a.thread_ns) * 1000 / (b.t - a.t);
	others = cpuload_others_pm(&a, &b);
	/* whatever else the machine does: the CPU was busy all along (ours or
	 * theirs), and our time is not counted as theirs (ticks: 1%, slack) */
	assert_true(own > 0);
	assert_true(own + others >= 900);
	assert_true(own + others <= 1050);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse),
		cmocka_unit_test(others_share),
		cmocka_unit_test(read_self),
	};

	return cmocka_run_group_tests_name("cpuload", tests, NULL, NULL);
}
