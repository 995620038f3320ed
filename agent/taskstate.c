// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/sched.h>
#include <linux/sched/types.h>
#include "log.h"
#include "taskstate.h"

static int sched_setattr_(__u32 tid, struct sched_attr *a)
{
	return syscall(SYS_sched_setattr, tid, a, 0) ? -errno : 0;
}

static int sched_getattr_(__u32 tid, struct sched_attr *a)
{
	memset(a, 0, sizeof(*a));
	return syscall(SYS_sched_getattr, tid, a, sizeof(*a), 0) ? -errno : 0;
}

unsigned long long task_start_time(__u32 pid, __u32 tid)
{
	char path[96], buf[1024], *p;
	FILE *f;
	size_t n;
	int i;

	snprintf(path, sizeof(path), "/proc/%u/task/%u/stat", pid, tid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	for (i = 3; i <= 22 && p; i++)
		p = strchr(p + 1, ' ');
	return p ? strtoull(p + 1, NULL, 10) : 0;
}

int task_save(struct task_saved *t, __u32 pid, __u32 tid)
{
	struct sched_attr a;
	int err;

	memset(t, 0, sizeof(*t));
	t->pidfd = -1;
	t->pid = pid;
	t->tid = tid;
	t->start = task_start_time(pid, tid);
	if (!t->start)
		return -ESRCH;
	err = sched_getattr_(tid, &a);
	if (err)
		return err;
	t->policy = a.sched_policy;
	t->flags = a.sched_flags & SCHED_FLAG_RESET_ON_FORK;
	t->rt_priority = a.sched_priority;
	t->nice = a.sched_nice;
	return 0;
}

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

void task_pin(struct task_saved *t)
{
	int fd = (int)syscall(SYS_pidfd_open, t->tid, PIDFD_THREAD);

	/* opened on whatever has the tid now: keep it only if that is ours */
	if (fd >= 0 && task_start_time(t->pid, t->tid) != t->start) {
		close(fd);
		fd = -1;
	}
	t->pidfd = fd;
}

void task_unpin(struct task_saved *t)
{
	if (t->pidfd >= 0)
		close(t->pidfd);
	t->pidfd = -1;
}

int task_same(const struct task_saved *t)
{
	struct pollfd p = { .fd = t->pidfd, .events = POLLIN };

	if (t->pidfd >= 0)
		return poll(&p, 1, 0) == 0; /* readable once it exited */
	return t->start && task_start_time(t->pid, t->tid) == t->start;
}

int task_policy_is(const struct task_saved *t, __u32 policy, __u32 rt_priority)
{
	struct sched_attr a;

	if (sched_getattr_(t->tid, &a))
		return 0;
	return a.sched_policy == policy && a.sched_priority == rt_priority;
}

int task_set_fifo(const struct task_saved *t, __u32 prio)
{
	struct sched_attr a = {
		.size = sizeof(a),
		.sched_policy = SCHED_FIFO,
		.sched_flags = SCHED_FLAG_RESET_ON_FORK,
		.sched_priority = prio,
	};

	if (!task_same(t))
		return -ESRCH;
	return sched_setattr_(t->tid, &a);
}

int task_restore(const struct task_saved *t)
{
	struct sched_attr a = {
		.size = sizeof(a),
		.sched_policy = t->policy,
		.sched_flags = t->flags,
		.sched_priority = t->rt_priority,
		.sched_nice = t->nice,
	};

	if (!task_same(t))
		return -ESRCH;
	return sched_setattr_(t->tid, &a);
}

int state_write(const struct state_file *s)
{
	char tmp[300];
	FILE *f;
	int i, fd, err = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", s->path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "# kvmrt control state: restore with 'kvmrt control --restore'\n");
	for (i = 0; i < s->n; i++) {
		const struct task_saved *t = &s->tasks[i];

		fprintf(f, "task %u %u %llu %u %u %u %d\n", t->pid, t->tid, t->start, t->policy,
			t->flags, t->rt_priority, t->nice);
	}
	if (s->groups && s->v2)
		fprintf(f, "cpusets2 %s %d\n", s->cpuset_root, s->v2_enabled);
	else if (s->groups)
		fprintf(f, "cpusets %s\n", s->cpuset_root);
	for (i = 0; i < s->nmoved; i++)
		fprintf(f, "cpuset %u %u %llu %s %s\n", s->moved[i].pid, s->moved[i].tid,
			s->moved[i].start, s->moved[i].path, s->moved[i].cpus);
	for (i = 0; i < s->nirqs; i++)
		fprintf(f, "irq %d %s\n", s->irqs[i].irq, s->irqs[i].cpus);
	if (fflush(f))
		err = -errno;
	fd = fileno(f);
	if (!err && fsync(fd))
		err = -errno;
	fclose(f);
	if (!err && rename(tmp, s->path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int state_read(struct state_file *s, const char *path)
{
	char line[256];
	FILE *f;

	memset(s, 0, sizeof(*s));
	snprintf(s->path, sizeof(s->path), "%s", path);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		struct task_saved t = { .pidfd = -1 };
		struct task_saved *n;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (!strncmp(line, "cpusets2 ", 9)) {
			if (sscanf(line, "cpusets2 %127s %d", s->cpuset_root, &s->v2_enabled) == 2)
				s->groups = s->v2 = 1;
			continue;
		}
		if (!strncmp(line, "cpusets ", 8)) {
			if (sscanf(line, "cpusets %127s", s->cpuset_root) == 1)
				s->groups = 1;
			continue;
		}
		if (!strncmp(line, "cpuset ", 7)) {
			struct cpuset_saved c = { 0 }, *m;

			if (sscanf(line, "cpuset %u %u %llu %127s %63s", &c.pid, &c.tid, &c.start,
				   c.path, c.cpus) != 5)
				continue;
			m = realloc(s->moved, (s->nmoved + 1) * sizeof(*m));
			if (m) {
				s->moved = m;
				s->moved[s->nmoved++] = c;
			}
			continue;
		}
		if (!strncmp(line, "irq ", 4)) {
			struct irq_saved q = { 0 }, *m;

			if (sscanf(line, "irq %d %63s", &q.irq, q.cpus) != 2)
				continue;
			m = realloc(s->irqs, (s->nirqs + 1) * sizeof(*m));
			if (m) {
				s->irqs = m;
				s->irqs[s->nirqs++] = q;
			}
			continue;
		}
		if (sscanf(line, "task %u %u %llu %u %u %u %d", &t.pid, &t.tid, &t.start, &t.policy,
			   &t.flags, &t.rt_priority, &t.nice) != 7) {
			pr_warn("state file %s: ignoring bad line: %.60s", path, line);
			continue;
		}
		n = realloc(s->tasks, (s->n + 1) * sizeof(*n));
		if (!n)
			break;
		s->tasks = n;
		s->tasks[s->n++] = t;
	}
	fclose(f);
	return 0;
}

int state_restore(const char *path, int verbose)
{
	struct state_file s;
	int i, failed = 0, err;

	err = state_read(&s, path);
	if (err)
		return err == -ENOENT ? 0 : err;
	for (i = 0; i < s.n; i++) {
		const struct task_saved *t = &s.tasks[i];

		err = task_restore(t);
		if (err == -ESRCH) {
			if (verbose)
				pr_info("thread %u of %u is gone: nothing to restore", t->tid, t->pid);
			continue;
		}
		if (err) {
			pr_err("restore thread %u: %s", t->tid, strerror(-err));
			failed++;
		}
	}
	failed += shield_restore(&s);
	free(s.tasks);
	free(s.moved);
	free(s.irqs);
	if (!failed)
		unlink(path);
	return failed;
}

int state_manages(const struct state_file *s, __u32 tid)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (s->tasks[i].tid == tid)
			return 1;
	return 0;
}

int control_boosted(const struct state_file *s, __u32 pid, __u32 tid)
{
	struct task_saved now;

	return state_manages(s, tid) && !task_save(&now, pid, tid) && now.policy == SCHED_FIFO;
}

void state_free(struct state_file *s)
{
	free(s->tasks);
	free(s->moved);
	free(s->irqs);
	s->tasks = NULL;
	s->moved = NULL;
	s->irqs = NULL;
	s->n = s->nmoved = s->nirqs = 0;
}
