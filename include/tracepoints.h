/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tracepoints kvmrt attaches to: the one list. enum kvmrt_prog
 * (kvmrt.h), their names (names.c) and the loader's program pairs
 * (loader.c) are generated from it; each tracepoint's two entry points,
 * <name>_btf and <name>_raw, are written in bpf/kvmrt.bpf.c (the loader
 * does not compile if one is missing). The order is the index of the run
 * counters and of recordings' per-tracepoint tables: append only.
 * tools/kvmrt-record enables each (tests/e2e/report.sh checks it does).
 *   X(enum suffix, system, tracepoint name)
 */
#ifndef KVMRT_TRACEPOINTS_H
#define KVMRT_TRACEPOINTS_H

#define KVMRT_TRACEPOINTS(X)                                                                       \
	X(KVM_SET_IRQ, kvm, kvm_set_irq)                                                           \
	X(KVM_MSI_SET_IRQ, kvm, kvm_msi_set_irq)                                                   \
	X(KVM_IOAPIC_SET_IRQ, kvm, kvm_ioapic_set_irq)                                             \
	X(KVM_PIC_SET_IRQ, kvm, kvm_pic_set_irq)                                                   \
	X(KVM_APIC_IPI, kvm, kvm_apic_ipi)                                                         \
	X(KVM_APIC_ACCEPT_IRQ, kvm, kvm_apic_accept_irq)                                           \
	X(HRTIMER_EXPIRE_ENTRY, timer, hrtimer_expire_entry)                                       \
	X(SCHED_WAKING, sched, sched_waking)                                                       \
	X(SCHED_SWITCH, sched, sched_switch)                                                       \
	X(KVM_VCPU_WAKEUP, kvm, kvm_vcpu_wakeup)                                                   \
	X(KVM_INJ_VIRQ, kvm, kvm_inj_virq)                                                         \
	X(KVM_ENTRY, kvm, kvm_entry)                                                               \
	X(KVM_EXIT, kvm, kvm_exit)                                                                 \
	X(KVM_EOI, kvm, kvm_eoi)                                                                   \
	X(KVM_ACK_IRQ, kvm, kvm_ack_irq)                                                           \
	X(KVM_PIO, kvm, kvm_pio)                                                                   \
	X(KVM_APICV_ACCEPT_IRQ, kvm, kvm_apicv_accept_irq)                                         \
	X(KVM_PV_EOI, kvm, kvm_pv_eoi)                                                             \
	X(KVM_WAIT_LAPIC_EXPIRE, kvm, kvm_wait_lapic_expire)                                       \
	X(KVM_APICV_INHIBIT_CHANGED, kvm, kvm_apicv_inhibit_changed)                               \
	X(HRTIMER_EXPIRE_EXIT, timer, hrtimer_expire_exit)

/*
 * The auto-analysis's (kvmrt trace -a): who else ran on a CPU where a
 * traced vCPU has an interrupt in flight. Loaded and attached only with
 * -a, each acting only on such a CPU (the watch map). enum kvmrt_aprog
 * (kvmrt.h) and names.c come from this list; bpf/kvmrt.bpf.c writes the
 * pairs, the x86 vectors' from KVMRT_VECTORS. Where the kernel lacks one
 * (a vector its config leaves out), it is skipped.
 *   X(enum suffix, system, tracepoint name)
 */
#define KVMRT_ANALYSIS_TRACEPOINTS(X)                                                              \
	X(IRQ_HANDLER_ENTRY, irq, irq_handler_entry)                                               \
	X(IRQ_HANDLER_EXIT, irq, irq_handler_exit)                                                 \
	X(SOFTIRQ_ENTRY, irq, softirq_entry)                                                       \
	X(SOFTIRQ_EXIT, irq, softirq_exit)                                                         \
	X(NMI_HANDLER, nmi, nmi_handler)                                                           \
	X(KVM_USERSPACE_EXIT, kvm, kvm_userspace_exit)                                             \
	X(KVM_MMIO, kvm, kvm_mmio)                                                                 \
	KVMRT_VECTORS(KVMRT_VECTOR_TPS, X)

/* arch/x86/include/asm/trace/irq_vectors.h: the x86 vectors that bypass
 * irq_handler_*, each with _entry and _exit printing "vector=%d", from
 * 3.10 (RHEL 7) on (threshold_apic, deferred_error_apic: with the MCE
 * config only). Their order is their index in the records (IFE_VECTOR_*).
 *   V(name, X) */
#define KVMRT_VECTORS(V, X)                                                                        \
	V(local_timer, X)                                                                          \
	V(reschedule, X)                                                                           \
	V(call_function, X)                                                                        \
	V(call_function_single, X)                                                                 \
	V(irq_work, X)                                                                             \
	V(x86_platform_ipi, X)                                                                     \
	V(error_apic, X)                                                                           \
	V(spurious_apic, X)                                                                        \
	V(thermal_apic, X)                                                                         \
	V(threshold_apic, X)                                                                       \
	V(deferred_error_apic, X)
#define KVMRT_VECTOR_TPS(v, X) X(VEC_##v##_entry, irq_vectors, v##_entry) X(VEC_##v##_exit, irq_vectors, v##_exit)

#endif
