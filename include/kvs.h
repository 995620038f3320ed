/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The storage and event context include/handlers.h runs over: the one
 * contract its two implementations keep, checked by the compiler on both
 * sides. bpf/kvmrt.bpf.c implements it over the BPF maps, CO-RE reads and
 * the ring buffer (static inline: every call is inlined into its program);
 * agent/collect/store.c over hash tables fed from a recording (kvmrt
 * report) or from the unit tests' event sequences. Each includer defines
 * struct kvs, the current event's context, its own way.
 */
#ifndef KVMRT_KVS_H
#define KVMRT_KVS_H

#include "kvmrt.h"

#ifdef __bpf__
#define KVS_API static __always_inline
#else
#define KVS_API
#endif

struct kvs;
struct kvmrt_vcpu_state;

/* The current event */
KVS_API __u64 kvs_now(struct kvs *s);		 /* its time, CLOCK_MONOTONIC ns */
KVS_API __u64 kvs_tick(struct kvs *s);		 /* its scheduler tick (jiffies): no clock read */
KVS_API __u64 kvs_current(struct kvs *s);	 /* tgid << 32 | tid of the current task */
KVS_API int kvs_current_kthread(struct kvs *s);	 /* the current task is a kernel thread */
/* the VM a kernel thread's name says it injects for ("kvm-pit/PID",
 * "vhost-PID": vmreg.c names them so too), 0 none */
KVS_API __u32 kvs_comm_owner(struct kvs *s);
KVS_API __u32 kvs_cpu_id(struct kvs *s);	 /* the CPU it runs on */
KVS_API int kvs_prev_runnable(struct kvs *s);	 /* sched_switch: prev stays runnable */
KVS_API void kvs_prev_comm(struct kvs *s, char *comm); /* sched_switch: prev's comm */
KVS_API __u8 kvs_pio_value(struct kvs *s);	 /* kvm_pio: the first byte written */
/* kvm_entry, kvm_exit, kvm_eoi: the vcpu_id of their kvm_vcpu (kvm_lapic's),
 * read when needed */
KVS_API __u32 kvs_vcpu_id(struct kvs *s);
KVS_API __u32 kvs_exit_reason(struct kvs *s);	 /* kvm_exit: basic reason (VMX) or code (SVM) */
KVS_API __u32 kvs_tsc_khz(struct kvs *s);	 /* kvm_entry: the guest's TSC rate, 0 unknown */

/* Storage: NULL when absent or full, as a BPF map lookup is */
KVS_API struct kvmrt_cpu_ctx *kvs_this_cpu(struct kvs *s);
KVS_API struct kvmrt_thread *kvs_thread(struct kvs *s, __u32 tid);
KVS_API void kvs_thread_set(struct kvs *s, __u32 tid, const struct kvmrt_thread *t);
KVS_API struct kvmrt_vcpu_state *kvs_vcpu(struct kvs *s, const struct kvmrt_vcpu_key *vk,
					  int create);
KVS_API int kvs_vm_known(struct kvs *s, __u32 tgid);
KVS_API int kvs_vm_add(struct kvs *s, __u32 tgid); /* 0: added now */
KVS_API __u32 *kvs_injector(struct kvs *s, __u32 tid);
KVS_API __u32 *kvs_rt_vcpu(struct kvs *s, const struct kvmrt_vcpu_key *vk);
KVS_API struct kvmrt_exit_val *kvs_exit(struct kvs *s, const struct kvmrt_exit_key *k); /* created on first use */
KVS_API struct kvmrt_apicv *kvs_apicv(struct kvs *s, __u32 tgid); /* created on first use */
KVS_API void kvs_hit(struct kvs *s, __u32 prog);
KVS_API void kvs_lost(struct kvs *s);
KVS_API void *kvs_reserve(struct kvs *s, __u32 size);
KVS_API void kvs_submit(struct kvs *s, void *rec, enum kvs_wake wake);
/* -a: count a vCPU in flight on cpu (delta +1) or no longer (-1) */
KVS_API void kvs_watch(struct kvs *s, __u32 cpu, int delta);

/* Configuration, as the BPF programs' rodata */
KVS_API __u64 kvs_threshold(struct kvs *s);
KVS_API int kvs_control(struct kvs *s);
KVS_API int kvs_armed(struct kvs *s);
KVS_API __u16 kvs_hint_port(struct kvs *s);
KVS_API int kvs_analyze(struct kvs *s); /* -a: watch the CPUs of interrupts in flight */

#endif
