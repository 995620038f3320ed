/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VM registry: which processes hold a KVM VM (an anon_inode:kvm-vm
 * descriptor), their names (QEMU's -name, "guest=" form included, else the
 * process name), their vCPU threads (QEMU names them "CPU n/KVM"), and the
 * kernel threads that inject for them (kvm-pit/PID, vhost-PID). What it
 * finds goes into the BPF maps; VMs may come and go during a run.
 */
#ifndef KVMRT_VMREG_H
#define KVMRT_VMREG_H

#include <stddef.h>
#include <linux/types.h>

#define VMREG_NAME_LEN 128
#define VMREG_MAX_VCPUS 256

struct vm_vcpu {
	__u32 id;
	__u32 tid;
};

struct vm_entry {
	__u32 pid;
	unsigned long long start; /* start time: pid plus this names a process */
	char name[VMREG_NAME_LEN];
	int alive;
	int nvcpus;
	struct vm_vcpu vcpus[VMREG_MAX_VCPUS];
};

struct vmreg {
	struct vm_entry **vms;
	int n;
	int threads_fd;   /* BPF maps to fill; -1 to skip */
	int vms_fd;
	int injectors_fd;
	const char *proc; /* "/proc", or a fake tree in tests */
};

void vmreg__init(struct vmreg *r, int threads_fd, int vms_fd, int injectors_fd);
/* Parse a NUL-separated command line for -name/--name; 1 if found. */
int vmreg_parse_name(const char *cmdline, size_t len, char *out, size_t outlen);
/* Parse "CPU n/KVM"; 1 if it is a vCPU thread name. */
int vmreg_parse_vcpu_comm(const char *comm, __u32 *vcpu);
int vmreg__scan(struct vmreg *r);
struct vm_entry *vmreg__find(struct vmreg *r, __u32 pid);
/* A VM learned from events: looked up in /proc now. */
struct vm_entry *vmreg__get(struct vmreg *r, __u32 pid);
void vmreg__remove(struct vmreg *r, __u32 pid);
void vmreg__free(struct vmreg *r);

/* Where and how a thread runs now: state (R, S, D...), last CPU, policy
 * (SCHED_*), RT priority and nice, from /proc/PID/task/TID/stat. 0 or
 * -errno. */
struct task_sched {
	char state;
	int cpu;
	int policy;
	int rt_priority;
	int nice;
};
int task_sched_read(const char *proc, __u32 pid, __u32 tid, struct task_sched *ts);

#endif
