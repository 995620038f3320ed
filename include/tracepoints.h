/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tracepoints kvmrt attaches to: the one list. enum kvmrt_prog
 * (kvmrt.h), their names (names.c) and the loader's program pairs
 * (loader.c) are generated from it; each tracepoint's two entry points,
 * <name>_btf and <name>_raw, are written in bpf/kvmrt.bpf.c (the loader
 * does not compile if one is missing). The order is the index of the run
 * counters and of recordings' per-tracepoint tables: append only.
 * tools/kvmrt-record enables each (tests/report.sh checks it does).
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
	X(KVM_APICV_INHIBIT_CHANGED, kvm, kvm_apicv_inhibit_changed)

#endif
