// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/kvm.h>
#include <bpf/bpf.h>
#include "escape.h"
#include "kvmrt.h"
#include "log.h"
#include "procfs.h"
#include "vmreg.h"

void vmreg__init(struct vmreg *r, int threads_fd, int vms_fd, int injectors_fd)
{
	memset(r, 0, sizeof(*r));
	r->threads_fd = threads_fd;
	r->vms_fd = vms_fd;
	r->injectors_fd = injectors_fd;
	r->proc = "/proc";
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

/* s is PREFIX, a decimal number, SUFFIX, and nothing else. */
static int name_num(const char *s, const char *prefix, const char *suffix, __u32 *v)
{
	size_t pl = strlen(prefix);
	unsigned long n;
	char *end;

	if (strncmp(s, prefix, pl) || !isdigit((unsigned char)s[pl]))
		return 0;
	errno = 0;
	n = strtoul(s + pl, &end, 10);
	if (errno || n > 0xffffffffUL || strcmp(end, suffix))
		return 0;
	*v = (__u32)n;
	return 1;
}

int vmreg_parse_vcpu_comm(const char *comm, __u32 *vcpu)
{
	/* QEMU, Firecracker, Cloud Hypervisor, crosvm, kvmtool */
	static const char *const names[][2] = { { "CPU ", "/KVM" }, { "fc_vcpu ", "" },
						{ "vcpu", "" }, { "crosvm_vcpu", "" },
						{ "kvm-vcpu-", "" } };
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (name_num(comm, names[i][0], names[i][1], vcpu))
			return 1;
	return 0;
}

int vmreg_parse_kvm_run(const char *line, int *fd)
{
	unsigned long nr, a0, a1;
	int end = -1;

	/* "NR ARG0 ARG1 ..." in decimal then hex; "running" or "-1 ..." otherwise */
	if (sscanf(line, "%lu 0x%lx 0x%lx%n", &nr, &a0, &a1, &end) != 3 || end < 0)
		return 0;
	if (nr != SYS_ioctl || a1 != KVM_RUN || a0 > 0x7fffffff)
		return 0;
	*fd = (int)a0;
	return 1;
}

int vmreg_parse_vcpu_fd(const char *link, __u32 *vcpu)
{
	return name_num(link, "anon_inode:kvm-vcpu:", "", vcpu);
}

const char *vmreg_how_str(int how)
{
	switch (how) {
	case VCPU_BY_NAME:
		return "its thread name";
	case VCPU_BY_KVM_RUN:
		return "its ioctl(KVM_RUN) on anon_inode:kvm-vcpu";
	case VCPU_BY_EVENTS:
		return "KVM's events";
	}
	return "?";
}

static unsigned long long start_time(const char *proc, __u32 pid)
{
	char path[64], buf[1024];
	long long f[23];

	snprintf(path, sizeof(path), "%s/%u/stat", proc, pid);
	if (procfs_read(path, buf, sizeof(buf)) < 0 || proc_stat_fields(buf, f, 22))
		return 0;
	return (unsigned long long)f[22];
}

/* Each descriptor of a process with what it points to, until fn returns
 * non-zero (which this returns; 0 when none did or /proc said nothing). */
static int for_each_fd(const char *proc, __u32 pid,
		       int (*fn)(unsigned long fd, const char *target, void *ctx), void *ctx)
{
	char path[300], link[600], target[64];
	struct dirent *d;
	DIR *dir;
	int ret = 0;

	snprintf(path, sizeof(path), "%s/%u/fd", proc, pid);
	dir = opendir(path);
	if (!dir)
		return 0;
	while (!ret && (d = readdir(dir))) {
		ssize_t n;

		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		snprintf(link, sizeof(link), "%s/%s", path, d->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		ret = fn(strtoul(d->d_name, NULL, 10), target, ctx);
	}
	closedir(dir);
	return ret;
}

static int is_kvm_vm(unsigned long fd, const char *target, void *ctx)
{
	return !strcmp(target, "anon_inode:kvm-vm");
}

static int holds_kvm_vm(const char *proc, __u32 pid)
{
	return for_each_fd(proc, pid, is_kvm_vm, NULL);
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

static void vm_set_vcpu(struct vmreg *r, struct vm_entry *e, __u32 id, __u32 tid, int how)
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
	e->vcpus[i].how = how;
	if (r->threads_fd >= 0 && tid && how != VCPU_BY_EVENTS) {
		struct kvmrt_thread ti = { .vk = { .tgid = e->pid, .vcpu = id } }, old;

		/* as it is already, it stays (ignored: collector__keep's) */
		if (bpf_map_lookup_elem(r->threads_fd, &tid, &old) || old.vk.tgid != e->pid ||
		    old.vk.vcpu != id)
			bpf_map_update_elem(r->threads_fd, &tid, &ti, BPF_ANY);
	}
}

static struct vm_vcpu *vm_vcpu_of_tid(struct vm_entry *e, __u32 tid)
{
	int i;

	for (i = 0; i < e->nvcpus; i++)
		if (e->vcpus[i].tid == tid)
			return &e->vcpus[i];
	return NULL;
}

/* The VM's vCPU descriptors: fd number -> vCPU id in fds[] (-1: none),
 * and how many distinct vCPUs (a VMM may hold one twice). */
struct vcpu_fds {
	int *fds;
	int nfds;
	int n;
	unsigned long long seen[VMREG_MAX_VCPUS / 64];
};

static int note_vcpu_fd(unsigned long fd, const char *target, void *ctx)
{
	struct vcpu_fds *v = ctx;
	__u32 id;

	if (!vmreg_parse_vcpu_fd(target, &id))
		return 0;
	if (id < VMREG_MAX_VCPUS && !(v->seen[id / 64] & (1ULL << (id % 64)))) {
		v->seen[id / 64] |= 1ULL << (id % 64);
		v->n++;
	}
	if (fd < (unsigned long)v->nfds)
		v->fds[fd] = (int)id;
	else
		pr_debug("vCPU %u on fd %lu, beyond the %d looked at", id, fd, v->nfds);
	return 0;
}

static int vcpu_fds(struct vmreg *r, struct vm_entry *e, int *fds, int nfds)
{
	struct vcpu_fds v = { .fds = fds, .nfds = nfds };
	int i;

	for (i = 0; i < nfds; i++)
		fds[i] = -1;
	for_each_fd(r->proc, e->pid, note_vcpu_fd, &v);
	return v.n;
}

#define PF_IO_WORKER 0x00000010
#define PF_KTHREAD 0x00200000
#define PF_USER_WORKER 0x00004000

/* A thread of the VMM blocked in ioctl(KVM_RUN) on a vCPU descriptor runs
 * that vCPU. KVM's own workers in the process (kvm-nx-lpage-recovery, a
 * user worker forked from a vCPU's KVM_RUN) show the same syscall line:
 * their flags tell them apart. A thread running just now reads "running":
 * the next scan, or its events, find it. */
static int kvm_run_vcpu(struct vmreg *r, const char *task_dir, const int *fds, int nfds,
			__u32 *vcpu)
{
	char path[700], buf[1024];
	long long f[10];
	int fd;

	snprintf(path, sizeof(path), "%s/stat", task_dir);
	if (procfs_read(path, buf, sizeof(buf)) <= 0 || proc_stat_fields(buf, f, 9) ||
	    (f[9] & (PF_KTHREAD | PF_USER_WORKER | PF_IO_WORKER)))
		return 0;
	snprintf(path, sizeof(path), "%s/syscall", task_dir);
	if (procfs_read(path, buf, sizeof(buf)) <= 0 || !vmreg_parse_kvm_run(buf, &fd))
		return 0;
	if (fd < 0 || fd >= nfds || fds[fd] < 0)
		return 0;
	*vcpu = (__u32)fds[fd];
	return 1;
}

#define VMREG_MAX_FD 1024 /* vCPU descriptors are looked for below this */

/* Refresh one VM: name, and its vCPU threads. */
static void refresh_vm(struct vmreg *r, struct vm_entry *e)
{
	char path[300], buf[4096], raw[VMREG_NAME_LEN];
	struct dirent *d;
	DIR *dir;
	int n, *fds;
	__u32 one = 1;

	/* a name once known stays: an exiting process's cmdline reads empty;
	 * it is kept escaped (escape.h), the one form every front end prints */
	snprintf(path, sizeof(path), "%s/%u/cmdline", r->proc, e->pid);
	n = procfs_read(path, buf, sizeof(buf));
	if (n > 0 && vmreg_parse_name(buf, n, raw, sizeof(raw)))
		esc(e->name, sizeof(e->name), raw, (size_t)-1);
	if (!e->name[0]) {
		snprintf(path, sizeof(path), "%s/%u/comm", r->proc, e->pid);
		if (procfs_read(path, buf, sizeof(buf)) > 0) {
			chomp(buf);
			esc(e->name, sizeof(e->name), buf, (size_t)-1);
		} else {
			snprintf(e->name, sizeof(e->name), "pid-%u", e->pid);
		}
	}
	if (r->vms_fd >= 0)
		bpf_map_update_elem(r->vms_fd, &e->pid, &one, BPF_ANY);
	fds = malloc(VMREG_MAX_FD * sizeof(*fds));
	if (!fds)
		return;
	e->nvcpu_fds = vcpu_fds(r, e, fds, VMREG_MAX_FD);
	snprintf(path, sizeof(path), "%s/%u/task", r->proc, e->pid);
	dir = opendir(path);
	if (!dir) {
		free(fds);
		return;
	}
	while ((d = readdir(dir))) {
		char tdir[600], cpath[700];
		struct vm_vcpu *known;
		__u32 vcpu, tid;

		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		tid = (__u32)strtoul(d->d_name, NULL, 10);
		snprintf(tdir, sizeof(tdir), "%s/%s", path, d->d_name);
		snprintf(cpath, sizeof(cpath), "%s/comm", tdir);
		if (procfs_read(cpath, buf, sizeof(buf)) <= 0)
			continue;
		chomp(buf);
		known = vm_vcpu_of_tid(e, tid);
		if (vmreg_parse_vcpu_comm(buf, &vcpu))
			vm_set_vcpu(r, e, vcpu, tid, VCPU_BY_NAME);
		else if ((!known || known->how == VCPU_BY_EVENTS) && e->nvcpu_fds &&
			 kvm_run_vcpu(r, tdir, fds, VMREG_MAX_FD, &vcpu))
			vm_set_vcpu(r, e, vcpu, tid, VCPU_BY_KVM_RUN);
	}
	closedir(dir);
	free(fds);
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

/* The BPF side's rule (kvs_comm_owner in kvmrt.bpf.c), that live and
 * recorded traces name the same threads: the prefix, then 1 to 8 digits
 * to the name's end ("vhost-12-worker" is not vhost-12's). */
int vmreg_parse_injector_comm(const char *comm, __u32 *owner)
{
	const char *p;
	__u32 n = 0;
	int digits = 0;

	if (!strncmp(comm, "kvm-pit/", 8))
		p = comm + 8;
	else if (!strncmp(comm, "vhost-", 6))
		p = comm + 6;
	else
		return 0;
	for (; *p >= '0' && *p <= '9' && digits < 8; p++, digits++)
		n = n * 10 + (__u32)(*p - '0');
	if (!digits || *p)
		return 0;
	*owner = n;
	return 1;
}

/* Kernel threads that inject for a VM: "kvm-pit/PID", "vhost-PID". */
static void note_injector(struct vmreg *r, __u32 tid, const char *comm)
{
	unsigned int owner;

	if (r->injectors_fd < 0)
		return;
	if (vmreg_parse_injector_comm(comm, &owner))
		bpf_map_update_elem(r->injectors_fd, &tid, &owner, BPF_ANY);
}

/* vCPU threads the BPF side learned from KVM's events (a kvm_vcpu's own
 * thread), for the vCPUs the scan did not find a thread for. */
static void learn_from_events(struct vmreg *r)
{
	__u32 tid, next, *prev = NULL;
	struct kvmrt_thread ti;

	if (r->threads_fd < 0)
		return;
	while (bpf_map_get_next_key(r->threads_fd, prev, &next) == 0) {
		struct vm_entry *e;
		int i;

		tid = next;
		prev = &tid;
		if (bpf_map_lookup_elem(r->threads_fd, &tid, &ti))
			continue;
		e = vmreg__find(r, ti.vk.tgid);
		if (!e || !e->alive || vm_vcpu_of_tid(e, tid))
			continue;
		for (i = 0; i < e->nvcpus; i++)
			if (e->vcpus[i].id == ti.vk.vcpu)
				break;
		if (i == e->nvcpus)
			vm_set_vcpu(r, e, ti.vk.vcpu, tid, VCPU_BY_EVENTS);
	}
}

/* Is pid a process (not another thread's id: KVM names a VM by the
 * thread that created it)? 1 yes, 0 no, -1 gone. */
static int is_process(const char *proc, __u32 pid)
{
	char path[64], buf[1024];
	__u32 tgid;

	snprintf(path, sizeof(path), "%s/%u/status", proc, pid);
	if (procfs_read(path, buf, sizeof(buf)) <= 0)
		return -1;
	return !proc_status_tgid(buf, &tgid) && tgid == pid;
}

void vmreg__seen(struct vmreg *r, __u32 pid)
{
	int proc;

	if (vmreg__find(r, pid))
		return;
	/* one already gone is kept under what can be read */
	proc = is_process(r->proc, pid);
	if (!proc || (proc > 0 && !holds_kvm_vm(r->proc, pid)))
		return;
	vmreg__get(r, pid);
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
		unsigned long long st;
		struct vm_entry *e;
		__u32 pid;

		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		pid = (__u32)strtoul(d->d_name, NULL, 10);
		snprintf(path, sizeof(path), "%s/%u/comm", r->proc, pid);
		if (procfs_read(path, comm, sizeof(comm)) > 0) {
			chomp(comm);
			note_injector(r, pid, comm);
		}
		if (!holds_kvm_vm(r->proc, pid))
			continue;
		e = vmreg__find(r, pid);
		st = start_time(r->proc, pid);
		if (!st)
			continue; /* gone since: keep what we know */
		if (e && e->start != st) {
			/* pid reused by a new VM: start over */
			e->nvcpus = 0;
			e->name[0] = 0;
		}
		if (!e)
			e = add_vm(r, pid);
		if (!e)
			continue;
		e->start = st;
		e->alive = 1;
		refresh_vm(r, e);
	}
	closedir(dir);
	learn_from_events(r);
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

