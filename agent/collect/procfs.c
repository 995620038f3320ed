// SPDX-License-Identifier: GPL-2.0
/* The /proc text parsers: every read of a stat or status file goes here. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "procfs.h"
#include "readfile.h"

int procfs_read(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = 0;
	return (int)n;
}

int proc_stat_fields(const char *buf, long long *f, int n)
{
	const char *p = strrchr(buf, ')');
	char *end;
	int i;

	/* "PID (COMM) S " and then numbers, one space apart */
	if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
		return -EINVAL;
	f[3] = 0;
	p += 3;
	for (i = 4; i <= n; i++) {
		if (*p != ' ' || (p[1] != '-' && !isdigit((unsigned char)p[1])))
			return -EINVAL;
		/* signal masks exceed LLONG_MAX: read unsigned, keep the bits */
		errno = 0;
		f[i] = (long long)strtoull(p + 1, &end, 10);
		if (errno || end == p + 1)
			return -EINVAL;
		p = end;
	}
	return 0;
}

int proc_status_tgid(const char *buf, __u32 *tgid)
{
	const char *t = strstr(buf, "\nTgid:");
	unsigned long v;
	char *end;

	if (!t)
		return -EINVAL;
	t += 6;
	while (*t == ' ' || *t == '\t')
		t++;
	if (!isdigit((unsigned char)*t))
		return -EINVAL;
	errno = 0;
	v = strtoul(t, &end, 10);
	if (errno || v > 0xffffffffUL || (*end && *end != '\n'))
		return -EINVAL;
	*tgid = (__u32)v;
	return 0;
}

int task_sched_read(const char *proc, __u32 pid, __u32 tid, struct task_sched *ts)
{
	char path[128], buf[1024], *p;
	long long f[42];

	snprintf(path, sizeof(path), "%s/%u/task/%u/stat", proc, pid, tid);
	if (procfs_read(path, buf, sizeof(buf)) < 0)
		return -errno;
	p = strrchr(buf, ')');
	if (!p || !p[1] || !p[2] || proc_stat_fields(buf, f, 41))
		return -EINVAL;
	ts->state = p[2]; /* field 3 */
	ts->nice = (int)f[19];
	ts->cpu = (int)f[39];
	ts->rt_priority = (int)f[40];
	ts->policy = (int)f[41];
	return 0;
}

int proc_ipi_counts(const char *text, const __u8 *cpus, int ncpus, struct ipi_counts *c)
{
	const char *line = text;
	int rows = 0;

	memset(c, 0, sizeof(*c));
	while (line && *line) {
		const char *p = line, *nl = strchr(line, '\n');
		__u64 *dst;
		int cpu;

		while (*p == ' ')
			p++;
		dst = !strncmp(p, "IWI:", 4) ? &c->iwi : !strncmp(p, "RES:", 4) ? &c->res :
		      !strncmp(p, "CAL:", 4) ? &c->cal : NULL;
		if (dst) {
			rows++;
			/* a count per CPU column, then the row's description */
			for (p += 4, cpu = 0; nl ? p < nl : *p; cpu++) {
				char *end;
				unsigned long long n;

				while (*p == ' ')
					p++;
				if (*p < '0' || *p > '9')
					break;
				n = strtoull(p, &end, 10);
				if (!cpus || (cpu < ncpus && cpus[cpu]))
					*dst += n;
				p = end;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return rows ? 0 : -EINVAL;
}

int ipi_counts_read(struct ipi_counts *c, const __u8 *cpus, int ncpus)
{
	size_t len;
	char *text = read_whole("/proc/interrupts", 1 << 22, &len);
	int err;

	memset(c, 0, sizeof(*c));
	if (!text)
		return -errno;
	err = proc_ipi_counts(text, cpus, ncpus, c);
	free(text);
	return err;
}
