// SPDX-License-Identifier: GPL-2.0
/* kvmrt export's grace for VMs that went (agent/collect/gone.c): a VM not
 * alive is forgotten once the grace has passed, not before; a new VM that
 * got its pid within the grace is not forgotten with it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "gone.h"

#define S 1000000000ULL

static void snap(struct snapshot *s, struct vm_stats *vm, __u32 pid, int alive)
{
	memset(s, 0, sizeof(*s));
	memset(vm, 0, sizeof(*vm));
	vm->pid = pid;
	vm->alive = alive;
	s->vms = vm;
	s->nvms = 1;
}

static void forgotten_after_the_grace(void **state)
{
	struct gone_list g = { 0 };
	struct snapshot s;
	struct vm_stats vm;

	snap(&s, &vm, 42, 1);
	gone_note(&g, &s, 0);
	assert_int_equal(g.n, 0);
	snap(&s, &vm, 42, 0);
	gone_note(&g, &s, 10 * S); /* went: the grace runs from here */
	gone_note(&g, &s, 11 * S);
	assert_int_equal(gone_due(&g, 12 * S, 3 * S), 0);
	assert_int_equal(gone_due(&g, 13 * S, 3 * S), 42);
	assert_int_equal(g.n, 0);
	gone_free(&g);
}

static void pid_reused_within_the_grace(void **state)
{
	struct gone_list g = { 0 };
	struct snapshot s;
	struct vm_stats vm;

	snap(&s, &vm, 42, 0);
	gone_note(&g, &s, 10 * S);
	snap(&s, &vm, 42, 1); /* a new VM with the same pid */
	gone_note(&g, &s, 11 * S);
	assert_int_equal(gone_due(&g, 20 * S, 3 * S), 0); /* the new one stays */
	gone_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(forgotten_after_the_grace),
		cmocka_unit_test(pid_reused_within_the_grace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
