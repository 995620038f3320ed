// SPDX-License-Identifier: GPL-2.0
/*
 * The cgroup v2 half of --shield against a directory laid out like a
 * cgroup2 root. It checks what kvmrt writes, what it records first and
 * how it undoes it; what the kernel makes of a partition cannot be
 * checked here (this host's cpuset controller is held by cgroup v1).
 * The VM-not-in-root refusal is checked against the real v2 hierarchy
 * (as root; skipped otherwise).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "shield.h"
#include "taskstate.h"

static char root[64];

static void put(const char *dir, const char *file, const char *val)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(val, f);
	fclose(f);
}

static char *get(const char *dir, const char *file)
{
	static char buf[256];
	char path[256];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return buf;
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/kvmrt-cg2-XXXXXX");
	assert_non_null(mkdtemp(root));
	put(root, "cgroup.controllers", "cpuset cpu io memory pids\n");
	put(root, "cgroup.subtree_control", "memory pids\n");
	put(root, "cgroup.threads", "");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd);
}

static void me(struct task_saved *t)
{
	memset(t, 0, sizeof(*t));
	t->pidfd = -1;
	t->pid = (__u32)getpid();
	t->tid = (__u32)gettid();
	t->start = task_start_time(t->pid, t->tid);
}

static void v2_partition_recorded_then_undone(void **state)
{
	struct cpuset_root r = { .v2 = 1 };
	struct state_file st = { 0 }, back;
	struct task_saved t;
	cpu_set_t shield, before, after;
	char dir[128], *s;
	int i, last = (int)sysconf(_SC_NPROCESSORS_ONLN) - 1;

	(void)state;
	snprintf(r.path, sizeof(r.path), "%s", root);
	snprintf(st.path, sizeof(st.path), "%s/state", root);
	me(&t);
	CPU_ZERO(&shield);
	CPU_SET(last, &shield);
	assert_int_equal(sched_getaffinity(0, sizeof(before), &before), 0);

	assert_int_equal(shield_cpusets_apply(&st, &r, &shield, &t, 1, "0", NULL), 0);
	/* cpuset enabled for the root's children, one threaded partition */
	assert_string_equal(get(root, "cgroup.subtree_control"), "+cpuset");
	snprintf(dir, sizeof(dir), "%s/kvmrt.rt", root);
	assert_string_equal(get(dir, "cgroup.type"), "threaded");
	assert_int_equal(atoi(get(dir, "cpuset.cpus")), last);
	assert_string_equal(get(dir, "cpuset.cpus.partition"), "root");
	assert_int_equal((__u32)atoi(get(dir, "cgroup.threads")), t.tid);
	assert_null(get(root, "kvmrt.hk")); /* no v1-style housekeeping group */

	/* all of it is on disk for a restore after a crash */
	assert_int_equal(state_read(&back, st.path, NULL, 0), 0);
	assert_true(back.groups && back.v2 && back.v2_enabled);
	assert_string_equal(back.cpuset_root, root);
	assert_int_equal(back.moved[0].tid, t.tid);
	assert_int_equal(back.moved[0].start, t.start);
	assert_string_equal(back.moved[0].path, "/");
	/* and every other thread's affinity, recorded before the partition
	 * rewrote it: only put back, never moved */
	assert_true(back.nmoved > 1);
	for (i = 1; i < back.nmoved; i++) {
		assert_string_equal(back.moved[i].path, "-");
		assert_int_not_equal(back.moved[i].tid, t.tid);
	}

	/* cgroupfs drops a group's files with it; a plain directory does not */
	snprintf(dir, sizeof(dir), "rm -f %s/kvmrt.rt/*", root);
	assert_int_equal(system(dir), 0);
	assert_int_equal(shield_cpusets_restore(&back), 0);
	s = get(root, "cgroup.threads");
	assert_int_equal((__u32)atoi(s), t.tid); /* back in the root */
	assert_string_equal(get(root, "cgroup.subtree_control"), "-cpuset");
	snprintf(dir, sizeof(dir), "%s/kvmrt.rt", root);
	assert_int_equal(access(dir, F_OK), -1);
	assert_int_equal(sched_getaffinity(0, sizeof(after), &after), 0);
	assert_true(CPU_EQUAL(&before, &after));
	state_free(&back);
	state_free(&st);
}

static void v2_cpuset_already_enabled_is_left_on(void **state)
{
	struct cpuset_root r = { .v2 = 1 };
	struct state_file st = { 0 };
	struct task_saved t;
	cpu_set_t shield;
	char cmd[160];

	(void)state;
	put(root, "cgroup.subtree_control", "cpuset memory\n");
	snprintf(r.path, sizeof(r.path), "%s", root);
	snprintf(st.path, sizeof(st.path), "%s/state", root);
	me(&t);
	CPU_ZERO(&shield);
	CPU_SET(0, &shield);
	assert_int_equal(shield_cpusets_apply(&st, &r, &shield, &t, 1, "1", NULL), 0);
	assert_false(st.v2_enabled);
	assert_string_equal(get(root, "cgroup.subtree_control"), "cpuset memory\n");
	snprintf(cmd, sizeof(cmd), "rm -f %s/kvmrt.rt/*", root);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(shield_cpusets_restore(&st), 0);
	assert_string_equal(get(root, "cgroup.subtree_control"), "cpuset memory\n");
	state_free(&st);
}

/* A signal while the shield is applied: it stops before the next step,
 * with what it was about to change in the state file, and that is undone
 * from there (the e2e test, faults.sh, stops one midway for real). */
static void v2_stopped_midway_recorded_then_undone(void **state)
{
	struct cpuset_root r = { .v2 = 1 };
	struct state_file st = { 0 }, back;
	struct task_saved t;
	volatile sig_atomic_t stop = 1;
	cpu_set_t shield;
	char dir[128];

	(void)state;
	snprintf(r.path, sizeof(r.path), "%s", root);
	snprintf(st.path, sizeof(st.path), "%s/state", root);
	me(&t);
	CPU_ZERO(&shield);
	CPU_SET(0, &shield);
	assert_int_equal(shield_cpusets_apply(&st, &r, &shield, &t, 1, "1", &stop), -EINTR);
	snprintf(dir, sizeof(dir), "%s/kvmrt.rt", root);
	assert_int_equal(access(dir, F_OK), -1); /* no partition made ... */
	assert_string_equal(get(root, "cgroup.threads"), ""); /* ... no thread moved */
	/* ... but what it was about to change is on disk */
	assert_int_equal(state_read(&back, st.path, NULL, 0), 0);
	assert_true(back.groups && back.v2);
	assert_int_equal(back.moved[0].tid, t.tid);
	assert_int_equal(shield_cpusets_restore(&back), 0);
	assert_string_equal(get(root, "cgroup.subtree_control"), "memory pids\n"); /* untouched */
	state_free(&back);
	state_free(&st);
}

/* A VM in a child cgroup of the real v2 hierarchy is refused up front. */
static void v2_vm_outside_root_refused(void **state)
{
	const char *uni = "/sys/fs/cgroup/unified", *fallback = "/sys/fs/cgroup";
	struct cpuset_root r = { .v2 = 1 };
	struct state_file st = { 0 };
	struct task_saved t = { .pidfd = -1 };
	char grp[128], val[16], ours[128];
	cpu_set_t shield;
	pid_t child;
	int status;

	(void)state;
	if (access("/sys/fs/cgroup/unified/cgroup.procs", F_OK))
		uni = fallback;
	snprintf(grp, sizeof(grp), "%s/kvmrt-test.%d", uni, getpid());
	if (mkdir(grp, 0755)) {
		skip();
		return;
	}
	child = fork();
	if (!child) {
		pause();
		_exit(0);
	}
	snprintf(val, sizeof(val), "%d", child);
	put(grp, "cgroup.procs", val);
	snprintf(r.path, sizeof(r.path), "%s", root);
	snprintf(st.path, sizeof(st.path), "%s/state", root);
	t.pid = t.tid = (__u32)child;
	t.start = task_start_time(t.pid, t.tid);
	CPU_ZERO(&shield);
	CPU_SET(0, &shield);
	assert_int_equal(shield_cpusets_apply(&st, &r, &shield, &t, 1, "1", NULL), -EOPNOTSUPP);
	/* nothing was recorded or made */
	assert_int_equal(access(st.path, F_OK), -1);
	snprintf(ours, sizeof(ours), "%s/kvmrt.rt", root);
	assert_int_equal(access(ours, F_OK), -1);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	assert_int_equal(rmdir(grp), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(v2_partition_recorded_then_undone, setup, teardown),
		cmocka_unit_test_setup_teardown(v2_cpuset_already_enabled_is_left_on, setup, teardown),
		cmocka_unit_test_setup_teardown(v2_vm_outside_root_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(v2_stopped_midway_recorded_then_undone, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
