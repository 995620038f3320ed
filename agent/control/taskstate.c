// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/sched.h>
#include <linux/sched/types.h>
#include "escape.h"
#include "log.h"
#include "readfile.h"
#include "taskstate.h"
#include "procfs.h"

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
	char path[96], buf[1024];
	long long f[23];
	FILE *f_;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%u/task/%u/stat", pid, tid);
	f_ = fopen(path, "r");
	if (!f_)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f_);
	fclose(f_);
	buf[n] = 0;
	return proc_stat_fields(buf, f, 22) ? 0 : (unsigned long long)f[22];
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
	char tmp[sizeof(s->path) + 8]; /* the path whole, and ".tmp" */
	FILE *f;
	int i, fd, err = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", s->path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, STATE_HEADER ": restore with 'kvmrt control --restore'\n");
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

/* A path with a ".." part (not a name that holds two dots, as systemd's
 * machine-qemu\x2da..b.scope may). */
static int dotdot(const char *path)
{
	const char *p = path;

	while ((p = strstr(p, ".."))) {
		if ((p == path || p[-1] == '/') && (!p[2] || p[2] == '/'))
			return 1;
		p += 2;
	}
	return 0;
}

/* One line of a state file into s; 0, or -EINVAL with what was expected
 * in *want. The whole line must be read: "%n" after the last field. */
static int parse_line(struct state_file *s, const char *line, const char **want)
{
	int n = -1;

	if (!strncmp(line, "task ", 5)) {
		struct task_saved t = { .pidfd = -1 }, *m;
		const char *minus = strchr(line, '-');

		*want = "task PID TID START POLICY FLAGS PRIO NICE";
		/* %u takes "-1" and "+5": a sign only on the nice, the last */
		if ((minus && minus < strrchr(line, ' ')) || strchr(line, '+') ||
		    sscanf(line, "task %u %u %llu %u %u %u %d%n", &t.pid, &t.tid, &t.start, &t.policy,
			   &t.flags, &t.rt_priority, &t.nice, &n) != 7 || line[n] || !t.pid ||
		    !t.tid || t.policy > 7 || t.rt_priority > 99 || t.nice < -20 || t.nice > 19)
			return -EINVAL;
		m = realloc(s->tasks, (s->n + 1) * sizeof(*m));
		if (!m)
			return -ENOMEM;
		s->tasks = m;
		s->tasks[s->n++] = t;
	} else if (!strncmp(line, "cpusets2 ", 9)) {
		*want = "cpusets2 /ROOT 0|1";
		if (sscanf(line, "cpusets2 %127s %d%n", s->cpuset_root, &s->v2_enabled, &n) != 2 ||
		    line[n] || s->cpuset_root[0] != '/' || dotdot(s->cpuset_root))
			return -EINVAL;
		s->groups = s->v2 = 1;
	} else if (!strncmp(line, "cpusets ", 8)) {
		*want = "cpusets /ROOT";
		if (sscanf(line, "cpusets %127s%n", s->cpuset_root, &n) != 1 || line[n] ||
		    s->cpuset_root[0] != '/' || dotdot(s->cpuset_root))
			return -EINVAL;
		s->groups = 1;
	} else if (!strncmp(line, "cpuset ", 7)) {
		struct cpuset_saved c = { 0 }, *m;

		*want = "cpuset PID TID START PATH CPUS";
		if (sscanf(line, "cpuset %u %u %llu %127s %ms%n", &c.pid, &c.tid, &c.start,
			   c.path, &c.cpus, &n) != 5 || line[n] || dotdot(c.path)) {
			free(c.cpus);
			return -EINVAL;
		}
		m = realloc(s->moved, (s->nmoved + 1) * sizeof(*m));
		if (!m) {
			free(c.cpus);
			return -ENOMEM;
		}
		s->moved = m;
		s->moved[s->nmoved++] = c;
	} else if (!strncmp(line, "irq ", 4)) {
		struct irq_saved q = { 0 }, *m;

		*want = "irq IRQ CPUS";
		/* a CPU list is checked where it is used (cpulist_parse): one
		 * that kvmrt cut when saving it must not refuse the rest */
		if (sscanf(line, "irq %d %ms%n", &q.irq, &q.cpus, &n) != 2 || line[n] || q.irq < 0) {
			free(q.cpus);
			return -EINVAL;
		}
		m = realloc(s->irqs, (s->nirqs + 1) * sizeof(*m));
		if (!m) {
			free(q.cpus);
			return -ENOMEM;
		}
		s->irqs = m;
		s->irqs[s->nirqs++] = q;
	} else {
		*want = "task, cpusets, cpusets2, cpuset or irq";
		return -EINVAL;
	}
	return 0;
}

int state_parse(struct state_file *s, const char *buf, size_t len, char *why, size_t whylen)
{
	const char *p = buf, *end = buf + len, *want;
	char *line = NULL, shown[100];
	int lineno = 0, err = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		size_t n = (nl ? nl : end) - p;

		lineno++;
		free(line); /* a line as long as it is: CPU lists have no bound */
		line = malloc(n + 1);
		if (!line) {
			err = -ENOMEM;
		} else if (memchr(p, 0, n)) {
			want = "a line of text";
			err = -EINVAL;
		} else {
			memcpy(line, p, n);
			line[n] = 0;
			if (lineno == 1) {
				want = STATE_HEADER "...";
				err = strncmp(line, STATE_HEADER, strlen(STATE_HEADER)) ? -EINVAL : 0;
			} else if (line[0] && line[0] != '#') {
				err = parse_line(s, line, &want);
			}
		}
		if (err) {
			esc(shown, sizeof(shown), p, n < 60 ? n : 60);
			if (err == -ENOMEM)
				snprintf(why, whylen, "out of memory");
			else if (lineno == 1)
				snprintf(why, whylen, "not a kvmrt control state file (line 1: expected '%s', got '%s')",
					 want, shown);
			else
				snprintf(why, whylen, "line %d: expected '%s', got '%s'", lineno, want, shown);
			free(line);
			state_free(s);
			return err;
		}
		p += n + 1;
	}
	free(line);
	if (!lineno) {
		snprintf(why, whylen, "not a kvmrt control state file (it is empty)");
		return -EINVAL;
	}
	return 0;
}

#define STATE_MAX (8 << 20)

int state_read(struct state_file *s, const char *path, char *why, size_t whylen)
{
	char *buf, dummy[8];
	size_t n;
	int err;

	memset(s, 0, sizeof(*s));
	snprintf(s->path, sizeof(s->path), "%s", path);
	if (!why) {
		why = dummy;
		whylen = sizeof(dummy);
	}
	/* a state file is small: a line per thread, cpuset and IRQ */
	buf = read_whole(path, STATE_MAX, &n);
	if (!buf) {
		err = -errno;
		snprintf(why, whylen, "%s", strerror(-err));
		return err;
	}
	err = state_parse(s, buf, n, why, whylen);
	free(buf);
	return err;
}

int state_read_all(struct state_file *s)
{
	struct state_file one;
	glob_t g;
	size_t i;

	memset(s, 0, sizeof(*s));
	if (glob(CONTROL_STATE_GLOB, GLOB_BRACE, NULL, &g))
		return -ENOENT;
	for (i = 0; i < g.gl_pathc; i++) {
		struct task_saved *t;

		/* one being written or not ours is skipped, not fatal here */
		if (state_read(&one, g.gl_pathv[i], NULL, 0))
			continue;
		t = one.n ? realloc(s->tasks, (s->n + one.n) * sizeof(*t)) : s->tasks;
		if (t) {
			memcpy(t + s->n, one.tasks, one.n * sizeof(*t));
			s->tasks = t;
			s->n += one.n;
		}
		state_free(&one);
	}
	globfree(&g);
	return 0;
}

int state_manages(const struct state_file *s, __u32 tid)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (s->tasks[i].tid == tid)
			return 1;
	return 0;
}

void state_forget_shield(struct state_file *s)
{
	int i;

	for (i = 0; i < s->nmoved; i++)
		free(s->moved[i].cpus);
	for (i = 0; i < s->nirqs; i++)
		free(s->irqs[i].cpus);
	free(s->moved);
	free(s->irqs);
	s->moved = NULL;
	s->irqs = NULL;
	s->nmoved = s->nirqs = 0;
	s->groups = s->v2 = s->v2_enabled = 0;
	s->cpuset_root[0] = 0;
}

void state_free(struct state_file *s)
{
	state_forget_shield(s);
	free(s->tasks);
	s->tasks = NULL;
	s->n = 0;
}
