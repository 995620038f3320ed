/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VM registry: which processes hold a KVM VM (an anon_inode:kvm-vm
 * descriptor), their names (QEMU's -name, "guest=" form included, else the
 * process name), their vCPU threads, and the kernel threads that inject for
 * them (kvm-pit/PID, vhost-PID). A vCPU thread is found by its name where
 * the VMM names it (QEMU, Firecracker, Cloud Hypervisor, crosvm, kvmtool),
 * for any VMM by the ioctl(KVM_RUN) it blocks in on an
 * anon_inode:kvm-vcpu:N descriptor, and from the BPF side's events. What it
 * finds goes into the BPF maps; VMs may come and go during a run.
 */
#ifndef KVMRT_VMREG_H
#define KVMRT_VMREG_H

#include <stddef.h>
#include <linux/types.h>

#define VMREG_NAME_LEN 256 /* escaped (escape.h) */
#define VMREG_MAX_VCPUS 256

/* How a vCPU thread was found (what control's plan says). */
enum vcpu_how {
	VCPU_BY_NAME = 1,  /* its thread name: "CPU 0/KVM", "fc_vcpu 0", ... */
	VCPU_BY_KVM_RUN,   /* blocked in ioctl(KVM_RUN) on anon_inode:kvm-vcpu:N */
	VCPU_BY_EVENTS,    /* the BPF side saw it run that vCPU (a kvm_vcpu's thread) */
};

struct vm_vcpu {
	__u32 id;
	__u32 tid;
	int how; /* enum vcpu_how */
};

struct vm_entry {
	__u32 pid;
	unsigned long long start; /* start time: pid plus this names a process */
	char name[VMREG_NAME_LEN];
	int alive;
	int nvcpu_fds; /* its anon_inode:kvm-vcpu:N descriptors: the vCPUs it has */
	int nvcpus;    /* those whose thread is known */
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
/* Parse a vCPU thread name: QEMU's "CPU n/KVM", Firecracker's "fc_vcpu n",
 * Cloud Hypervisor's "vcpun", crosvm's "crosvm_vcpun", kvmtool's
 * "kvm-vcpu-n"; 1 if it is one. */
int vmreg_parse_vcpu_comm(const char *comm, __u32 *vcpu);
/* A kernel thread that injects for a VM ("kvm-pit/PID", "vhost-PID"):
 * 1 and the VM's pid. */
int vmreg_parse_injector_comm(const char *comm, __u32 *owner);
/* A /proc/PID/task/TID/syscall line: 1 and the descriptor if the thread is
 * in ioctl(fd, KVM_RUN). */
int vmreg_parse_kvm_run(const char *line, int *fd);
/* A descriptor's link: 1 and the vCPU id for "anon_inode:kvm-vcpu:N". */
int vmreg_parse_vcpu_fd(const char *link, __u32 *vcpu);
const char *vmreg_how_str(int how);
int vmreg__scan(struct vmreg *r);
struct vm_entry *vmreg__find(struct vmreg *r, __u32 pid);
/* A VM learned from events: looked up in /proc now. */
struct vm_entry *vmreg__get(struct vmreg *r, __u32 pid);
/* The BPF side saw a new VM: read its name and threads now, while it
 * lives (a VM of a second would be gone by the next scan). Ignored unless
 * the process holds a VM or is already gone. */
void vmreg__seen(struct vmreg *r, __u32 pid);
void vmreg__remove(struct vmreg *r, __u32 pid);
void vmreg__free(struct vmreg *r);

#endif
