/* SPDX-License-Identifier: GPL-2.0 */
/* BPF-only helpers: the tp_btf/raw_tp twin pattern and CO-RE flavours. */
#ifndef KVMRT_BPF_H
#define KVMRT_BPF_H

/*
 * Every tracepoint handler is written once as handle_<tp>() and gets two
 * entry points: tp_btf (cheapest, needs BTF for the tracepoint) and raw_tp
 * (works everywhere tracepoints do). The loader keeps one of each pair.
 * Both read pointer arguments with BPF_CORE_READ, so one body serves both.
 */
#define KVMRT_TP(tp, args...)                                                                      \
	SEC("tp_btf/" #tp)                                                                         \
	int BPF_PROG(tp##_btf, args)

#define KVMRT_RAW(tp, args...)                                                                     \
	SEC("raw_tp/" #tp)                                                                         \
	int BPF_PROG(tp##_raw, args)

/* Local flavours of the vendor vCPU structs, which live in the kvm_intel /
 * kvm_amd module BTF (absent where KVM emulates: guarded by type_exists). */
union vmx_exit_reason___kvmrt {
	u32 full;
};

struct vcpu_vmx___kvmrt {
	struct kvm_vcpu vcpu;
	union vmx_exit_reason___kvmrt exit_reason;
} __attribute__((preserve_access_index));

struct vmcb_control_area___kvmrt {
	u32 exit_code; /* u64 in newer kernels: the low half is the reason */
} __attribute__((preserve_access_index));

struct vmcb___kvmrt {
	struct vmcb_control_area___kvmrt control;
} __attribute__((preserve_access_index));

struct vcpu_svm___kvmrt {
	struct kvm_vcpu vcpu;
	struct vmcb___kvmrt *vmcb;
} __attribute__((preserve_access_index));

/* task_struct::state became __state in 5.14. */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

#endif /* KVMRT_BPF_H */
