// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "escape.h"
#include "log.h"
#include "readfile.h"
#include "shield.h"

#define V1_ROOT "/sys/fs/cgroup/cpuset"
#define GROUP_RT "kvmrt.rt"
#define GROUP_HK "kvmrt.hk"
/* a state entry of a thread not moved: only its affinity is put back */
#define AFFINITY_ONLY "-"

/* Has a signal asked us to stop? Looked at between steps of applying. */
static int stopped(const volatile sig_atomic_t *stop)
{
	return stop && *stop;
}

static int write_str(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	int err = 0;

	if (!f)
		return -errno;
	if (fputs(val, f) < 0)
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

static int read_str(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = 0;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

/* A whole CPU list file (an IRQ's smp_affinity_list: as long as the host
 * has CPUs), its trailing newline dropped; heap, or NULL. */
static char *read_cpulist(const char *path)
{
	size_t n;
	char *buf = read_whole(path, 1 << 20, &n);

	while (buf && n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return buf;
}

/* A cpu_set_t's list, on the heap (CPU_SETSIZE CPUs fit SHIELD_LIST_MAX). */
static char *cpulist_dup(const cpu_set_t *set)
{
	char buf[SHIELD_LIST_MAX];

	shield_format(set, buf, sizeof(buf));
	return strdup(buf);
}

void shield_format(const cpu_set_t *set, char *buf, size_t len)
{
	int c, start = -1;
	size_t off = 0;

	buf[0] = 0;
	for (c = 0; c <= CPU_SETSIZE; c++) {
		int in = c < CPU_SETSIZE && CPU_ISSET(c, set);

		if (in && start < 0)
			start = c;
		if (!in && start >= 0) {
			off += snprintf(buf + off, off < len ? len - off : 0, "%s%d", off ? "," : "",
					start);
			if (c - 1 > start)
				off += snprintf(buf + off, off < len ? len - off : 0, "-%d", c - 1);
			start = -1;
		}
	}
}

int cpulist_parse(const char *list, cpu_set_t *set)
{
	const char *p = list;
	char *end;
	long a, b;

	CPU_ZERO(set);
	while (*p) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		a = b = strtol(p, &end, 10);
		if (*end == '-') {
			if (!isdigit((unsigned char)end[1]))
				return -EINVAL;
			b = strtol(end + 1, &end, 10);
		}
		for (; a <= b && a < CPU_SETSIZE; a++)
			CPU_SET(a, set);
		p = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return -EINVAL;
	}
	return 0;
}

int shield_parse(const char *list, cpu_set_t *set)
{
	const char *p = list;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN), a, b, c;
	char *end;

	CPU_ZERO(set);
	for (;;) {
		if (!isdigit((unsigned char)*p))
			goto bad;
		/* digits only, so no sign; a number past LONG_MAX reads as
		 * LONG_MAX, which the range check refuses */
		a = b = strtol(p, &end, 10);
		if (*end == '-') {
			if (!isdigit((unsigned char)end[1]))
				goto bad;
			b = strtol(end + 1, &end, 10);
		}
		if (b < a || b >= ncpu || b >= CPU_SETSIZE) {
			pr_err("invalid CPU list '%s': CPUs are 0-%ld here", esc_str(list), ncpu - 1);
			return -EINVAL;
		}
		for (c = a; c <= b; c++) {
			if (CPU_ISSET(c, set)) {
				pr_err("invalid CPU list '%s': CPU %ld given twice", esc_str(list), c);
				return -EINVAL;
			}
			CPU_SET(c, set);
		}
		if (!*end)
			break;
		if (*end != ',')
			goto bad;
		p = end + 1;
	}
	if (CPU_COUNT(set) >= ncpu) {
		pr_err("invalid shield '%s': no CPU left for housekeeping", esc_str(list));
		return -EINVAL;
	}
	return 0;
bad:
	pr_err("invalid CPU list '%s': expected e.g. 1 or 2-3,6", esc_str(list));
	return -EINVAL;
}

/* The first cgroup2 mount whose root offers the cpuset controller. */
static int find_v2(char *root, size_t len)
{
	char dev[64], dir[256], type[32], path[300], ctrl[256], *w;
	int found = 0;
	FILE *m = fopen("/proc/self/mounts", "r");

	if (!m)
		return 0;
	while (!found && fscanf(m, "%63s %255s %31s %*[^\n]", dev, dir, type) == 3) {
		if (strcmp(type, "cgroup2"))
			continue;
		snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
		if (read_str(path, ctrl, sizeof(ctrl)))
			continue;
		for (w = strtok(ctrl, " "); w; w = strtok(NULL, " "))
			if (!strcmp(w, "cpuset"))
				found = 1;
		if (found)
			snprintf(root, len, "%.127s", dir);
	}
	fclose(m);
	return found;
}

int shield_root(struct cpuset_root *r)
{
	struct stat sb;
	char path[256];

	snprintf(path, sizeof(path), "%s/cpuset.cpus", V1_ROOT);
	r->v2 = 0;
	if (!stat(path, &sb)) {
		snprintf(r->path, sizeof(r->path), "%s", V1_ROOT);
		return 0;
	}
	if (find_v2(r->path, sizeof(r->path))) {
		r->v2 = 1;
		return 0;
	}
	pr_err("--shield: no cpusets: neither a cgroup v1 cpuset mount at %s nor a cgroup2 "
	       "mount offering the cpuset controller",
	       V1_ROOT);
	return -ENOTSUP;
}

/* The cpuset a thread is in, relative to the root ("/" for the root). */
static int task_cpuset(__u32 pid, __u32 tid, char *buf, size_t len)
{
	char path[96];

	snprintf(path, sizeof(path), "/proc/%u/task/%u/cpuset", pid, tid);
	return read_str(path, buf, len);
}

/* v1 moves a thread through "tasks"; v2 moves one thread (not its whole
 * process) through "cgroup.threads", within one threaded domain. */
static int move_task(const char *root, int v2, const char *group, __u32 tid)
{
	char path[400], val[16];

	snprintf(path, sizeof(path), "%s%s%s/%s", root, group[0] == '/' ? "" : "/", group,
		 v2 ? "cgroup.threads" : "tasks");
	snprintf(val, sizeof(val), "%u", tid);
	return write_str(path, val);
}

static int record_move(struct state_file *st, __u32 pid, __u32 tid, const char *from)
{
	cpu_set_t set;
	struct cpuset_saved *m = realloc(st->moved, (st->nmoved + 1) * sizeof(*m));

	if (!m)
		return -ENOMEM;
	st->moved = m;
	m = &st->moved[st->nmoved];
	m->pid = pid;
	m->tid = tid;
	m->start = task_start_time(pid, tid);
	snprintf(m->path, sizeof(m->path), "%s", from);
	if (!m->start || sched_getaffinity(tid, sizeof(set), &set))
		return -ESRCH;
	m->cpus = cpulist_dup(&set);
	if (!m->cpus)
		return -ENOMEM;
	st->nmoved++;
	return 0;
}

static int write_at(const char *root, const char *name, const char *file, const char *val)
{
	char path[400];

	snprintf(path, sizeof(path), "%s/%s/%s", root, name, file);
	return write_str(path, val);
}

static int make_group_v1(const char *root, const char *name, const char *cpus)
{
	char path[256], mems[64];
	int err;

	snprintf(path, sizeof(path), "%s/%s", root, name);
	if (mkdir(path, 0755))
		return -errno;
	snprintf(path, sizeof(path), "%s/cpuset.mems", root);
	err = read_str(path, mems, sizeof(mems));
	if (!err)
		err = write_at(root, name, "cpuset.mems", mems);
	return err ? err : write_at(root, name, "cpuset.cpus", cpus);
}

static int is_rt(const struct task_saved *rt, int n, __u32 tid)
{
	int i;

	for (i = 0; i < n; i++)
		if (rt[i].tid == tid)
			return 1;
	return 0;
}

int shield_check(void)
{
	struct cpuset_root r;
	char path[300];
	int err = shield_root(&r);

	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/%s", r.path, GROUP_RT);
	if (!access(path, F_OK)) {
		pr_err("--shield: %s exists: another shield is in place", path);
		return -EEXIST;
	}
	return 0;
}

/* Every other thread, recorded: v1, those in the root cpuset (from "/",
 * to be moved); v2, all of them (AFFINITY_ONLY: not moved, their
 * affinity put back). */
static void record_others(struct state_file *st, const struct task_saved *rt, int n,
			  const char *only_in, const char *path)
{
	char dir[64], cur[128];
	struct dirent *d, *t;
	DIR *proc, *tasks;

	proc = opendir("/proc");
	if (!proc)
		return;
	while ((d = readdir(proc))) {
		__u32 pid;

		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		pid = (__u32)strtoul(d->d_name, NULL, 10);
		snprintf(dir, sizeof(dir), "/proc/%u/task", pid);
		tasks = opendir(dir);
		if (!tasks)
			continue;
		while ((t = readdir(tasks))) {
			__u32 tid;

			if (!isdigit((unsigned char)t->d_name[0]))
				continue;
			tid = (__u32)strtoul(t->d_name, NULL, 10);
			if (is_rt(rt, n, tid))
				continue; /* ours */
			if (only_in && (task_cpuset(pid, tid, cur, sizeof(cur)) || strcmp(cur, only_in)))
				continue; /* gone, or in someone else's cpuset */
			record_move(st, pid, tid, path);
		}
		closedir(tasks);
	}
	closedir(proc);
}

/* v1: every other movable thread of the root cpuset goes to housekeeping
 * (the batch recorded first, then moved). */
static int v1_move_others(struct state_file *st, const char *root, const struct task_saved *rt,
			  int n, int *moved, const volatile sig_atomic_t *stop)
{
	int i, err;

	record_others(st, rt, n, "/", "/");
	err = state_write(st);
	if (err)
		return err;
	for (i = 0; i < st->nmoved; i++) {
		if (stopped(stop))
			return -EINTR;
		if (is_rt(rt, n, st->moved[i].tid))
			continue;
		/* kernel threads bound to a CPU refuse (EINVAL): they stay */
		if (!move_task(root, 0, GROUP_HK, st->moved[i].tid))
			(*moved)++;
	}
	return 0;
}

/* v2: one threaded child of the root, a partition root on the shield. A
 * partition takes its CPUs away from every other cgroup, so the kernel
 * moves everything else (kernel threads that allow it too) and gives the
 * CPUs back when it goes. Threads move singly only inside one threaded
 * domain: the VM's process must be in the root cgroup. */
static int v2_check_vm(const char *root, const struct task_saved *rt, int n)
{
	char path[64], line[300];
	int i, ok;
	FILE *f;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/proc/%u/cgroup", rt[i].pid);
		f = fopen(path, "r");
		if (!f)
			return -ESRCH;
		ok = 0;
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = 0;
			if (!strncmp(line, "0::", 3)) {
				ok = !strcmp(line + 3, "/");
				break;
			}
		}
		fclose(f);
		if (!ok) {
			pr_err("--shield: VM process %u is in cgroup %s, not the root of %s: cgroup v2 "
			       "moves single threads only within the root's threaded domain",
			       rt[i].pid, strncmp(line, "0::", 3) ? "?" : line + 3, root);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

static int v2_make_partition(struct state_file *st, const char *root, const char *cpus)
{
	char path[300], ctrl[256], part[128], *w;
	int err, have = 0;

	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", root);
	if (read_str(path, ctrl, sizeof(ctrl)))
		return -EIO;
	for (w = strtok(ctrl, " "); w; w = strtok(NULL, " "))
		have |= !strcmp(w, "cpuset");
	if (!have) {
		st->v2_enabled = 1; /* recorded before it happens */
		err = state_write(st);
		if (!err)
			err = write_str(path, "+cpuset");
		if (err)
			return err;
	}
	snprintf(path, sizeof(path), "%s/%s", root, GROUP_RT);
	if (mkdir(path, 0755))
		return -errno;
	err = write_at(root, GROUP_RT, "cgroup.type", "threaded");
	if (!err)
		err = write_at(root, GROUP_RT, "cpuset.cpus", cpus);
	if (!err)
		err = write_at(root, GROUP_RT, "cpuset.cpus.partition", "root");
	if (err)
		return err;
	/* an invalid partition is accepted, and says why when read back */
	snprintf(path, sizeof(path), "%s/%s/cpuset.cpus.partition", root, GROUP_RT);
	if (read_str(path, part, sizeof(part)) || strcmp(part, "root")) {
		pr_err("--shield: partition %s/%s: %s", root, GROUP_RT, part);
		return -EINVAL;
	}
	return 0;
}

int shield_cpusets_apply(struct state_file *st, const struct cpuset_root *r, const cpu_set_t *cpus,
			 const struct task_saved *rt, int n, const char *hk,
			 const volatile sig_atomic_t *stop)
{
	char shield[256], cur[128];
	int i, err, moved = 0;

	if (r->v2) {
		err = v2_check_vm(r->path, rt, n);
		if (err)
			return err;
	}
	shield_format(cpus, shield, sizeof(shield));

	/* 1. the vCPU threads' cpusets and affinities, and on v2 every other
	 * thread's affinity (a partition rewrites them all, and not every
	 * kernel puts them back); then our cpusets, recorded before they
	 * exist */
	for (i = 0; i < n; i++) {
		if (task_cpuset(rt[i].pid, rt[i].tid, cur, sizeof(cur)) ||
		    record_move(st, rt[i].pid, rt[i].tid, cur)) {
			pr_err("--shield: record thread %u", rt[i].tid);
			return -EIO;
		}
	}
	if (r->v2)
		record_others(st, rt, n, NULL, AFFINITY_ONLY);
	snprintf(st->cpuset_root, sizeof(st->cpuset_root), "%s", r->path);
	st->groups = 1;
	st->v2 = r->v2;
	err = state_write(st);
	if (err)
		return err;
	if (stopped(stop))
		return -EINTR;
	if (r->v2) {
		err = v2_make_partition(st, r->path, shield);
	} else {
		err = make_group_v1(r->path, GROUP_HK, hk);
		if (!err)
			err = make_group_v1(r->path, GROUP_RT, shield);
	}
	if (err) {
		if (err != -EINVAL)
			pr_err("--shield: create cpusets under %s: %s", r->path, strerror(-err));
		return err;
	}

	/* 2. the real-time vCPU threads onto the shield */
	for (i = 0; i < n; i++) {
		if (stopped(stop))
			return -EINTR;
		err = move_task(r->path, r->v2, GROUP_RT, rt[i].tid);
		if (err) {
			pr_err("--shield: move vCPU thread %u: %s", rt[i].tid, strerror(-err));
			return err;
		}
	}

	/* 3. everything else off the shield (v2: the partition did it) */
	if (!r->v2) {
		err = v1_move_others(st, r->path, rt, n, &moved, stop);
		if (err)
			return err;
	}
	pr_info("shield: CPUs %s (cgroup %s) for %d vCPU threads; %s on %s", shield,
		r->v2 ? "v2 partition" : "v1 cpuset", n,
		r->v2 ? "the partition moved every other task" : "other threads moved", hk);
	if (moved)
		pr_info("shield: %d threads moved to %s", moved, GROUP_HK);
	return 0;
}

/* 4. IRQs: those that may run on the shield go to housekeeping. */
static int irqs_apply(struct state_file *st, const char *hk, const volatile sig_atomic_t *stop)
{
	char path[300];
	struct dirent *d;
	DIR *dir = opendir("/proc/irq");
	int i, err;

	if (dir) {
		while ((d = readdir(dir))) {
			struct irq_saved q;
			struct irq_saved *m;

			if (!isdigit((unsigned char)d->d_name[0]))
				continue;
			q.irq = atoi(d->d_name);
			snprintf(path, sizeof(path), "/proc/irq/%d/smp_affinity_list", q.irq);
			q.cpus = read_cpulist(path);
			if (!q.cpus)
				continue;
			m = realloc(st->irqs, (st->nirqs + 1) * sizeof(*m));
			if (!m) {
				free(q.cpus);
				break;
			}
			st->irqs = m;
			st->irqs[st->nirqs++] = q;
		}
		closedir(dir);
	}
	err = state_write(st);
	if (err)
		return err;
	for (i = 0; i < st->nirqs; i++) {
		if (stopped(stop))
			return -EINTR;
		snprintf(path, sizeof(path), "/proc/irq/%d/smp_affinity_list", st->irqs[i].irq);
		write_str(path, hk); /* some IRQs cannot move (EIO): they stay */
	}
	return 0;
}

void shield_housekeeping(const cpu_set_t *rt, cpu_set_t *hk)
{
	long c, n = sysconf(_SC_NPROCESSORS_ONLN);

	CPU_ZERO(hk);
	for (c = 0; c < n && c < CPU_SETSIZE; c++)
		if (!CPU_ISSET(c, rt))
			CPU_SET(c, hk);
}

int shield_apply(struct state_file *st, const cpu_set_t *cpus, const struct task_saved *rt, int n,
		 const volatile sig_atomic_t *stop)
{
	struct cpuset_root r;
	char hk[256];
	cpu_set_t hkset;
	int err;

	err = shield_check();
	if (!err)
		err = shield_root(&r);
	if (err)
		return err;
	shield_housekeeping(cpus, &hkset);
	shield_format(&hkset, hk, sizeof(hk));
	err = shield_cpusets_apply(st, &r, cpus, rt, n, hk, stop);
	return err ? err : irqs_apply(st, hk, stop);
}

/* v2: until the root's effective CPUs hold the gone partition's again
 * (bounded: someone else's partition may keep some). */
static void wait_cpus_back(const char *root, const char *cpus)
{
	cpu_set_t want, have, both;
	char path[300], *eff;
	int i;

	if (cpulist_parse(cpus, &want))
		return;
	snprintf(path, sizeof(path), "%s/cpuset.cpus.effective", root);
	for (i = 0; i < 1000; i++) { /* 10 s */
		eff = read_cpulist(path);
		if (!eff)
			return; /* no such file: nothing to wait for */
		if (!cpulist_parse(eff, &have)) {
			CPU_AND(&both, &want, &have);
			if (CPU_EQUAL(&both, &want)) {
				free(eff);
				return;
			}
		}
		free(eff);
		usleep(10000);
	}
	pr_warn("restore: %s's CPUs %s not back after 10 s", root, cpus);
}

int shield_cpusets_restore(const struct state_file *st)
{
	const char *groups[] = { GROUP_RT, GROUP_HK };
	char path[300], line[32], *part = NULL;
	int i, failed = 0, err;
	FILE *f;

	if (!st->groups)
		return 0;
	for (i = 0; i < st->nmoved; i++) {
		const struct cpuset_saved *m = &st->moved[i];

		if (!strcmp(m->path, AFFINITY_ONLY) || task_start_time(m->pid, m->tid) != m->start)
			continue; /* not moved; gone, or the tid is someone else's now */
		err = move_task(st->cpuset_root, st->v2, m->path, m->tid);
		if (err && err != -ESRCH && err != -EINVAL) {
			pr_err("restore cpuset of thread %u: %s", m->tid, strerror(-err));
			failed++;
		}
	}
	if (st->v2) { /* the CPUs the partition will give back to the root */
		snprintf(path, sizeof(path), "%s/%s/cpuset.cpus.effective", st->cpuset_root, GROUP_RT);
		part = read_cpulist(path);
	}
	for (i = 0; i < (st->v2 ? 1 : 2); i++) {
		/* threads born inside ours go back to the root */
		snprintf(path, sizeof(path), "%s/%s/%s", st->cpuset_root, groups[i],
			 st->v2 ? "cgroup.threads" : "tasks");
		f = fopen(path, "r");
		if (f) {
			while (fgets(line, sizeof(line), f))
				move_task(st->cpuset_root, st->v2, "/", (__u32)atoi(line));
			fclose(f);
		}
		snprintf(path, sizeof(path), "%s/%s", st->cpuset_root, groups[i]);
		if (rmdir(path) && errno != ENOENT) {
			pr_err("remove cpuset %s: %s", path, strerror(errno));
			failed++;
		}
	}
	if (st->v2_enabled) {
		snprintf(path, sizeof(path), "%s/cgroup.subtree_control", st->cpuset_root);
		err = write_str(path, "-cpuset");
		if (err) {
			pr_err("disable cpuset in %s: %s", path, strerror(-err));
			failed++;
		}
	}
	/* each move reset the thread's affinity to the cpuset's CPUs, and so
	 * does v2's partition as it goes: after rmdir, the kernel gives its
	 * CPUs back to the root's tasks later (the cgroup's offline work) */
	if (part)
		wait_cpus_back(st->cpuset_root, part);
	free(part);
	/* last, each thread's own affinity back, after moving it once more:
	 * the move waits for any update of the cpusets still running */
	for (i = 0; i < st->nmoved; i++) {
		const struct cpuset_saved *m = &st->moved[i];
		cpu_set_t set;

		if (task_start_time(m->pid, m->tid) != m->start || cpulist_parse(m->cpus, &set))
			continue;
		if (strcmp(m->path, AFFINITY_ONLY))
			move_task(st->cpuset_root, st->v2, m->path, m->tid);
		if (sched_setaffinity(m->tid, sizeof(set), &set) && errno != ESRCH && errno != EINVAL) {
			pr_err("restore affinity of thread %u: %s", m->tid, strerror(errno));
			failed++;
		}
	}
	return failed;
}

int shield_restore(const struct state_file *st)
{
	char path[300];
	int i, failed = shield_cpusets_restore(st);

	for (i = 0; i < st->nirqs; i++) {
		snprintf(path, sizeof(path), "/proc/irq/%d/smp_affinity_list", st->irqs[i].irq);
		write_str(path, st->irqs[i].cpus);
	}
	return failed;
}
