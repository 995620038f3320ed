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
#include "log.h"
#include "shield.h"

#define V1_ROOT "/sys/fs/cgroup/cpuset"
#define GROUP_RT "kvmrt.rt"
#define GROUP_HK "kvmrt.hk"

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

/* A CPU list as the kernel writes it, without policy checks. */
static int parse_list(const char *list, cpu_set_t *set)
{
	const char *p = list;
	char *end;
	long a, b;

	CPU_ZERO(set);
	while (*p) {
		a = b = strtol(p, &end, 10);
		if (end == p)
			return -EINVAL;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
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
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int a, b, c;
	char *end;

	CPU_ZERO(set);
	for (;;) {
		if (!isdigit((unsigned char)*p))
			goto bad;
		a = b = (int)strtol(p, &end, 10);
		if (*end == '-') {
			if (!isdigit((unsigned char)end[1]))
				goto bad;
			b = (int)strtol(end + 1, &end, 10);
		}
		if (b < a || b >= ncpu) {
			pr_err("invalid CPU list '%s': CPUs are 0-%ld here", list, ncpu - 1);
			return -EINVAL;
		}
		for (c = a; c <= b; c++) {
			if (CPU_ISSET(c, set)) {
				pr_err("invalid CPU list '%s': CPU %d given twice", list, c);
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
		pr_err("invalid shield '%s': no CPU left for housekeeping", list);
		return -EINVAL;
	}
	return 0;
bad:
	pr_err("invalid CPU list '%s': expected e.g. 1 or 2-3,6", list);
	return -EINVAL;
}

int shield_root(char *root, size_t len)
{
	struct stat sb;
	char path[256];

	snprintf(path, sizeof(path), "%s/cpuset.cpus", V1_ROOT);
	if (!stat(path, &sb)) {
		snprintf(root, len, "%s", V1_ROOT);
		return 0;
	}
	pr_err("--shield: no cgroup v1 cpuset at %s (cgroup v2 partitions: not supported yet)",
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

static int move_task(const char *root, const char *group, __u32 tid)
{
	char path[400], val[16];

	snprintf(path, sizeof(path), "%s%s%s/tasks", root, group[0] == '/' ? "" : "/", group);
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
	shield_format(&set, m->cpus, sizeof(m->cpus));
	st->nmoved++;
	return 0;
}

static int make_group(const char *root, const char *name, const char *cpus)
{
	char path[256], mems[64];
	int err;

	snprintf(path, sizeof(path), "%s/%s", root, name);
	if (mkdir(path, 0755))
		return -errno;
	snprintf(path, sizeof(path), "%s/cpuset.mems", root);
	err = read_str(path, mems, sizeof(mems));
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/%s/cpuset.mems", root, name);
	err = write_str(path, mems);
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/%s/cpuset.cpus", root, name);
	return write_str(path, cpus);
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
	char root[128], path[300];
	int err = shield_root(root, sizeof(root));

	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/%s", root, GROUP_RT);
	if (!access(path, F_OK)) {
		pr_err("--shield: %s exists: another shield is in place", path);
		return -EEXIST;
	}
	return 0;
}

int shield_apply(struct state_file *st, const cpu_set_t *cpus, const struct task_saved *rt, int n)
{
	char root[128], shield[256], hk[256], cur[128], path[300];
	cpu_set_t hkset;
	struct dirent *d, *t;
	DIR *proc, *tasks;
	int i, err, moved = 0;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	err = shield_check();
	if (!err)
		err = shield_root(root, sizeof(root));
	if (err)
		return err;
	CPU_ZERO(&hkset);
	for (i = 0; i < ncpu; i++)
		if (!CPU_ISSET(i, cpus))
			CPU_SET(i, &hkset);
	shield_format(cpus, shield, sizeof(shield));
	shield_format(&hkset, hk, sizeof(hk));

	/* 1. the two cpusets, recorded before they exist */
	snprintf(st->cpuset_root, sizeof(st->cpuset_root), "%s", root);
	st->groups = 1;
	err = state_write(st);
	if (err)
		return err;
	err = make_group(root, GROUP_HK, hk);
	if (!err)
		err = make_group(root, GROUP_RT, shield);
	if (err) {
		pr_err("--shield: create cpusets under %s: %s", root, strerror(-err));
		return err;
	}

	/* 2. the real-time vCPU threads onto the shield */
	for (i = 0; i < n; i++) {
		if (task_cpuset(rt[i].pid, rt[i].tid, cur, sizeof(cur)) ||
		    record_move(st, rt[i].pid, rt[i].tid, cur) || state_write(st)) {
			pr_err("--shield: record thread %u", rt[i].tid);
			return -EIO;
		}
		err = move_task(root, GROUP_RT, rt[i].tid);
		if (err) {
			pr_err("--shield: move vCPU thread %u: %s", rt[i].tid, strerror(-err));
			return err;
		}
	}

	/* 3. every other movable thread of the root cpuset to housekeeping;
	 *    record the batch first, then move it */
	proc = opendir("/proc");
	if (!proc)
		return -errno;
	while ((d = readdir(proc))) {
		__u32 pid;

		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		pid = (__u32)strtoul(d->d_name, NULL, 10);
		snprintf(path, sizeof(path), "/proc/%u/task", pid);
		tasks = opendir(path);
		if (!tasks)
			continue;
		while ((t = readdir(tasks))) {
			__u32 tid;

			if (!isdigit((unsigned char)t->d_name[0]))
				continue;
			tid = (__u32)strtoul(t->d_name, NULL, 10);
			if (is_rt(rt, n, tid) || task_cpuset(pid, tid, cur, sizeof(cur)) ||
			    strcmp(cur, "/"))
				continue; /* ours, gone, or in someone else's cpuset */
			if (record_move(st, pid, tid, "/"))
				continue;
		}
		closedir(tasks);
	}
	closedir(proc);
	err = state_write(st);
	if (err)
		return err;
	for (i = 0; i < st->nmoved; i++) {
		if (is_rt(rt, n, st->moved[i].tid))
			continue;
		/* kernel threads bound to a CPU refuse (EINVAL): they stay */
		if (!move_task(root, GROUP_HK, st->moved[i].tid))
			moved++;
	}

	/* 4. IRQs: those that may run on the shield go to housekeeping */
	proc = opendir("/proc/irq");
	if (proc) {
		while ((d = readdir(proc))) {
			struct irq_saved q;
			struct irq_saved *m;

			if (!isdigit((unsigned char)d->d_name[0]))
				continue;
			q.irq = atoi(d->d_name);
			snprintf(path, sizeof(path), "/proc/irq/%d/smp_affinity_list", q.irq);
			if (read_str(path, q.cpus, sizeof(q.cpus)))
				continue;
			m = realloc(st->irqs, (st->nirqs + 1) * sizeof(*m));
			if (!m)
				break;
			st->irqs = m;
			st->irqs[st->nirqs++] = q;
		}
		closedir(proc);
	}
	err = state_write(st);
	if (err)
		return err;
	for (i = 0; i < st->nirqs; i++) {
		snprintf(path, sizeof(path), "/proc/irq/%d/smp_affinity_list", st->irqs[i].irq);
		write_str(path, hk); /* some IRQs cannot move (EIO): they stay */
	}
	pr_info("shield: CPUs %s for %d vCPU threads, %d threads and the IRQs on %s", shield, n,
		moved, hk);
	return 0;
}

int shield_restore(const struct state_file *st)
{
	char path[300], line[32];
	int i, failed = 0, err;
	FILE *f;

	for (i = 0; i < st->nmoved; i++) {
		const struct cpuset_saved *m = &st->moved[i];

		if (!st->groups || task_start_time(m->pid, m->tid) != m->start)
			continue; /* gone, or the tid is someone else's now */
		err = move_task(st->cpuset_root, m->path, m->tid);
		if (err && err != -ESRCH && err != -EINVAL) {
			pr_err("restore cpuset of thread %u: %s", m->tid, strerror(-err));
			failed++;
		}
		/* the move reset its affinity to the cpuset's CPUs: put it back */
		if (!err) {
			cpu_set_t set;

			if (!parse_list(m->cpus, &set) && sched_setaffinity(m->tid, sizeof(set), &set) &&
			    errno != ESRCH && errno != EINVAL) {
				pr_err("restore affinity of thread %u: %s", m->tid, strerror(errno));
				failed++;
			}
		}
	}
	if (st->groups) {
		const char *groups[] = { GROUP_RT, GROUP_HK };

		for (i = 0; i < 2; i++) {
			/* threads born inside ours go back to the root */
			snprintf(path, sizeof(path), "%s/%s/tasks", st->cpuset_root, groups[i]);
			f = fopen(path, "r");
			if (f) {
				while (fgets(line, sizeof(line), f))
					move_task(st->cpuset_root, "/", (__u32)atoi(line));
				fclose(f);
			}
			snprintf(path, sizeof(path), "%s/%s", st->cpuset_root, groups[i]);
			if (rmdir(path) && errno != ENOENT) {
				pr_err("remove cpuset %s: %s", path, strerror(errno));
				failed++;
			}
		}
	}
	for (i = 0; i < st->nirqs; i++) {
		snprintf(path, sizeof(path), "/proc/irq/%d/smp_affinity_list", st->irqs[i].irq);
		write_str(path, st->irqs[i].cpus);
	}
	return failed;
}
