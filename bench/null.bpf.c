// SPDX-License-Identifier: GPL-2.0
/* Empty programs on kvmrt's busiest tracepoints: the floor that any BPF
 * program pays on this host (dispatch plus the stats clock reads), which
 * the benchmark measures side by side with kvmrt's own programs. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/sched_switch")
int BPF_PROG(null_sched_switch)
{
	return 0;
}

SEC("tp_btf/sched_waking")
int BPF_PROG(null_sched_waking)
{
	return 0;
}

SEC("tp_btf/kvm_apic_accept_irq")
int BPF_PROG(null_kvm_apic_accept_irq)
{
	return 0;
}

SEC("tp_btf/kvm_eoi")
int BPF_PROG(null_kvm_eoi)
{
	return 0;
}

SEC("tp_btf/kvm_msi_set_irq")
int BPF_PROG(null_kvm_msi_set_irq)
{
	return 0;
}
