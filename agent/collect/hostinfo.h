/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the host's KVM lets kvmrt see: interrupt virtualization (APICv on
 * VMX, AVIC on SVM) hides deliveries and EOIs (docs/latency-model.md).
 * Read once, at start, from the vendor modules' parameters.
 */
#ifndef KVMRT_HOSTINFO_H
#define KVMRT_HOSTINFO_H

#include <stddef.h>
#include <linux/types.h>

/* -1: no such module (not this vendor, or an emulating KVM), 0 off, 1 on */
struct host_info {
	int apicv;	/* /sys/module/kvm_intel/parameters/enable_apicv */
	int avic;	/* /sys/module/kvm_amd/parameters/avic */
};

/* sysfs: "/sys", or a test's tree. */
void host_info_read(struct host_info *h, const char *sysfs);
/* "on", "off" or "absent" */
const char *host_info_state(int v);
/* One phrase for the observable line: "APICv on", "AVIC off", or
 * "no kvm_intel or kvm_amd (emulated)". */
const char *host_info_summary(const struct host_info *h);

/* The reasons set in a VM's APICv inhibit mask (kvm_apicv_inhibit_changed),
 * as "PIT_REINJ|IRQWIN": their names from the running kernel's BTF (enum
 * kvm_apicv_inhibit: the bits moved between kernel versions), else the
 * mask in hex. btf_dir: "/sys/kernel/btf", or a test's. */
const char *apicv_inhibit_names(__u64 inhibits, const char *btf_dir, char *buf, size_t len);

#endif
