// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "kvmrt.h"
#include "log.h"
#include "vmreg.h"

void vmreg__init(struct vmreg *r, int threads_fd, int vms_fd, int injectors_fd)
{
	memset(r, 0, sizeof(*r));
	r->threads_fd = threads_fd;
	r->vms_fd = vms_fd;
	r->injectors_fd = injectors_fd;
	r->proc = "/proc";
}

static int read_file(const char *path, char *buf, size_t len)
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

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = 0;
}

int vmreg_parse_name(const char *cmdline, size_t len, char *out, size_t outlen)
{
	const char *p = cmdline, *end = cmdline + len, *val, *stop;
	size_t n;

	while (p < end) {
		size_t alen = strnlen(p, end - p);

		if ((!strcmp(p, "-name") || !strcmp(p, "--name")) && p + alen + 1 < end) {
			val = p + alen + 1;
			/* QEMU: -name [guest=]NAME[,debug-threads=on,...] */
			if (!strncmp(val, "guest=", 6))
				val += 6;
			stop = val;
			while (stop < end && *stop && *stop != ',')
				stop++;
			n = stop - val;
			if (n >= outlen)
				n = outlen - 1;
			memcpy(out, val, n);
			out[n] = 0;
			return n > 0;
		}
		p += alen + 1;
	}
	return 0;
}

int vmreg_parse_vcpu_comm(const char *comm, __u32 *vcpu)
{
	unsigned int v;
	char tail[8];

	if (sscanf(comm, "CPU %u/KV%1s", &v, tail) != 2 || strcmp(tail, "M"))
		return 0;
	*vcpu = v;
	return 1;
}

static unsigned long long start_time(const char *proc, __u32 pid)
{
	char path[64], buf[1024], *p;
	unsigned long long st = 0;
	int i;

	snprintf(path, sizeof(path), "%s/%u/stat", proc, pid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return 0;
	p = strrchr(buf, ')'); /* comm may hold spaces */
	if (!p)
		return 0;
	/* field 22 is starttime; after ')' comes field 3 */
	for (i = 3; i <= 22 && p; i++)
		p = strchr(p + 1, ' ');
	if (p)
		st = strtoull(p + 1, NULL, 10);
	return st;
}

static int holds_kvm_vm(const char *proc, __u32 pid)
{
	char path[300], link[600], target[64];
	struct dirent *d;
	DIR *dir;
	int found = 0;

	snprintf(path, sizeof(path), "%s/%u/fd", proc, pid);
	dir = opendir(path);
	if (!dir)
		return 0;
	while (!found && (d = readdir(dir))) {
		ssize_t n;

		if (d->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", path, d->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		found = !strcmp(target, "anon_inode:kvm-vm");
	}
	closedir(dir);
	return found;
}

struct vm_entry *vmreg__find(struct vmreg *r, __u32 pid)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (r->vms[i]->pid == pid)
			return r->vms[i];
	return NULL;
}

static struct vm_entry *add_vm(struct vmreg *r, __u32 pid)
{
	struct vm_entry **vms, *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	vms = realloc(r->vms, (r->n + 1) * sizeof(*vms));
	if (!vms) {
		free(e);
		return NULL;
	}
	r->vms = vms;
	r->vms[r->n++] = e;
	e->pid = pid;
	return e;
}

static void vm_set_vcpu(struct vmreg *r, struct vm_entry *e, __u32 id, __u32 tid)
{
	int i;

	for (i = 0; i < e->nvcpus; i++)
		if (e->vcpus[i].id == id)
			break;
	if (i == e->nvcpus) {
		if (e->nvcpus == VMREG_MAX_VCPUS)
			return;
		e->nvcpus++;
	}
	e->vcpus[i].id = id;
	e->vcpus[i].tid = tid;
	if (r->threads_fd >= 0 && tid) {
		struct kvmrt_thread ti = { .vk = { .tgid = e->pid, .vcpu = id } };

		bpf_map_update_elem(r->threads_fd, &tid, &ti, BPF_ANY);
	}
}

/* Refresh one VM: name, and vCPU threads by their names. */
static void refresh_vm(struct vmreg *r, struct vm_entry *e)
{
	char path[300], buf[4096];
	struct dirent *d;
	DIR *dir;
	int n;
	__u32 one = 1;

	snprintf(path, sizeof(path), "%s/%u/cmdline", r->proc, e->pid);
	n = read_file(path, buf, sizeof(buf));
	if (n <= 0 || !vmreg_parse_name(buf, n, e->name, sizeof(e->name))) {
		snprintf(path, sizeof(path), "%s/%u/comm", r->proc, e->pid);
		if (read_file(path, buf, sizeof(buf)) > 0) {
			chomp(buf);
			snprintf(e->name, sizeof(e->name), "%s", buf);
		} else if (!e->name[0]) {
			snprintf(e->name, sizeof(e->name), "pid-%u", e->pid);
		}
	}
	if (r->vms_fd >= 0)
		bpf_map_update_elem(r->vms_fd, &e->pid, &one, BPF_ANY);
	snprintf(path, sizeof(path), "%s/%u/task", r->proc, e->pid);
	dir = opendir(path);
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		char cpath[600];
		__u32 vcpu, tid;

		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		tid = (__u32)strtoul(d->d_name, NULL, 10);
		snprintf(cpath, sizeof(cpath), "%s/%s/comm", path, d->d_name);
		if (read_file(cpath, buf, sizeof(buf)) <= 0)
			continue;
		chomp(buf);
		if (vmreg_parse_vcpu_comm(buf, &vcpu))
			vm_set_vcpu(r, e, vcpu, tid);
	}
	closedir(dir);
}

struct vm_entry *vmreg__get(struct vmreg *r, __u32 pid)
{
	struct vm_entry *e = vmreg__find(r, pid);

	if (e)
		return e;
	e = add_vm(r, pid);
	if (!e)
		return NULL;
	e->start = start_time(r->proc, pid);
	e->alive = e->start != 0;
	refresh_vm(r, e);
	return e;
}

/* Kernel threads that inject for a VM: "kvm-pit/PID", "vhost-PID". */
static void note_injector(struct vmreg *r, __u32 tid, const char *comm)
{
	unsigned int owner;

	if (r->injectors_fd < 0)
		return;
	if (sscanf(comm, "kvm-pit/%u", &owner) == 1 || sscanf(comm, "vhost-%u", &owner) == 1)
		bpf_map_update_elem(r->injectors_fd, &tid, &owner, BPF_ANY);
}

int vmreg__scan(struct vmreg *r)
{
	struct dirent *d;
	DIR *dir = opendir(r->proc);
	char path[64], comm[64];
	int i;

	if (!dir)
		return -errno;
	for (i = 0; i < r->n; i++)
		r->vms[i]->alive = 0;
	while ((d = readdir(dir))) {
		struct vm_entry *e;
		__u32 pid;

		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		pid = (__u32)strtoul(d->d_name, NULL, 10);
		snprintf(path, sizeof(path), "%s/%u/comm", r->proc, pid);
		if (read_file(path, comm, sizeof(comm)) > 0) {
			chomp(comm);
			note_injector(r, pid, comm);
		}
		if (!holds_kvm_vm(r->proc, pid))
			continue;
		e = vmreg__find(r, pid);
		if (e && e->start != start_time(r->proc, pid)) {
			/* pid reused by a new VM: start over */
			e->nvcpus = 0;
			e->name[0] = 0;
		}
		if (!e)
			e = add_vm(r, pid);
		if (!e)
			continue;
		e->start = start_time(r->proc, pid);
		e->alive = 1;
		refresh_vm(r, e);
	}
	closedir(dir);
	return 0;
}

void vmreg__remove(struct vmreg *r, __u32 pid)
{
	int i;

	for (i = 0; i < r->n; i++) {
		if (r->vms[i]->pid != pid)
			continue;
		free(r->vms[i]);
		r->vms[i] = r->vms[--r->n];
		return;
	}
}

void vmreg__free(struct vmreg *r)
{
	int i;

	for (i = 0; i < r->n; i++)
		free(r->vms[i]);
	free(r->vms);
	r->vms = NULL;
	r->n = 0;
}

int task_sched_read(const char *proc, __u32 pid, __u32 tid, struct task_sched *ts)
{
	char path[128], buf[1024], *p;
	long f[48] = { 0 };
	int i;

	snprintf(path, sizeof(path), "%s/%u/task/%u/stat", proc, pid, tid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return -errno;
	p = strrchr(buf, ')');
	if (!p || !p[1] || !p[2])
		return -EINVAL;
	ts->state = p[2]; /* field 3 */
	/* fields 3.. follow the comm; we want 19 (nice), 39, 40, 41 */
	for (i = 3; i <= 41 && p; i++) {
		p = strchr(p + 1, ' ');
		if (p)
			f[i] = strtol(p + 1, NULL, 10);
	}
	ts->nice = (int)f[19];
	ts->cpu = (int)f[39];
	ts->rt_priority = (int)f[40];
	ts->policy = (int)f[41];
	return 0;
}
