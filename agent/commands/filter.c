// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include "escape.h"
#include "filter.h"
#include "log.h"

void filter_init(struct vm_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->vcpu = -1;
}

static int parse_uint(const char *s, char **end, unsigned long max, unsigned long *out)
{
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, end, 10);
	if (errno || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int filter_parse_pids(struct vm_filter *f, const char *arg)
{
	const char *p = arg;
	char *end;
	unsigned long v;

	for (;;) {
		if (parse_uint(p, &end, 0x3fffffff, &v) || v == 0 || (*end && *end != ',')) {
			pr_err("invalid pid list '%s': expected PID[,PID...]", esc_str(arg));
			return -EINVAL;
		}
		if (f->npids == FILTER_MAX_PIDS) {
			pr_err("too many pids in '%s' (at most %d)", esc_str(arg), FILTER_MAX_PIDS);
			return -EINVAL;
		}
		f->pids[f->npids++] = (__u32)v;
		if (!*end)
			return 0;
		p = end + 1;
	}
}

int filter_parse_vcpu(struct vm_filter *f, const char *arg)
{
	char *end;
	unsigned long v;

	if (parse_uint(arg, &end, 4095, &v) || *end) {
		pr_err("invalid vCPU '%s': expected a number 0..4095", esc_str(arg));
		return -EINVAL;
	}
	f->vcpu = (int)v;
	return 0;
}

int filter_option(struct vm_filter *f, int opt, const char *arg)
{
	switch (opt) {
	case 'p':
		return filter_parse_pids(f, arg) ? -EINVAL : 1;
	case 'g':
		f->guest = arg;
		return 1;
	case OPT_VCPU:
		return filter_parse_vcpu(f, arg) ? -EINVAL : 1;
	}
	return 0;
}

int filter_vm(const struct vm_filter *f, __u32 pid, const char *name)
{
	int i, ok = !f->npids;

	for (i = 0; i < f->npids; i++)
		if (f->pids[i] == pid)
			ok = 1;
	if (ok && f->guest)
		ok = !strcmp(f->guest, name) || !fnmatch(f->guest, name, 0);
	return ok;
}

int filter_vcpu(const struct vm_filter *f, __u32 vcpu)
{
	return f->vcpu < 0 || (__u32)f->vcpu == vcpu;
}

int filter_keep(void *f, __u32 pid, const char *name, __u32 vcpu)
{
	return filter_vm(f, pid, name) && filter_vcpu(f, vcpu);
}
