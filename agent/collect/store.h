/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The storage include/handlers.h runs over in userspace: what the BPF maps,
 * per-CPU scratch and ring buffer are to the BPF programs, as hash tables of
 * the same capacities. kvmrt report feeds it the events of a recording; the
 * unit tests feed it event sequences written from the kernel's call order.
 * Set the current event with kvs__event(), then call its on_*() handler.
 */
#ifndef KVMRT_STORE_H
#define KVMRT_STORE_H

#include <stddef.h>
#include <linux/types.h>
#include "episode.h"

/* One table: fixed-size keys, values allocated on insert, never removed
 * (a recording is read once); full at max entries, as a BPF hash map. */
struct kvs_table {
	size_t key_size, val_size;
	__u32 max, n, cap; /* cap: a power of two, at least 2 * max */
	unsigned char *keys;
	void **vals;
};

/* Called for every record the handlers submit (outliers, control, VMs). */
typedef void (*kvs_record_fn)(void *ctx, const void *rec, size_t len);

#define KVS_WATCH_CPUS 256

struct kvs {
	/* the current event */
	__u64 now;
	__u64 current;	/* tgid << 32 | tid */
	int kthread;
	const char *comm; /* its task's name, NULL unknown (kvs__event_comm) */
	__u32 cpu;
	int prev_runnable;
	char prev_comm[KVMRT_COMM_LEN];
	__u8 pio_value;
	__u32 vcpu_id;		/* kvm_entry, kvm_exit, kvm_eoi */
	__u32 exit_reason;	/* kvm_exit */
	__u32 tsc_khz;		/* kvm_entry: the guest's TSC rate (kvmrt report: --tsc-khz) */
	/* configuration, as the BPF programs' rodata */
	__u64 threshold_ns;
	int control;
	int armed;
	__u16 hint_port;
	int analyze;	/* -a: keep the watch counts (the unit tests read them) */
	/* storage, as the maps */
	struct kvs_table threads, vcpus, vms, injectors, rt_vcpus, exits, apicv;
	struct kvmrt_cpu_ctx *cpus;
	__u32 ncpus;
	__u64 hits[P_NR];
	__s32 watch[KVS_WATCH_CPUS];	/* -a: vCPUs in flight per CPU */
	__u64 lost;
	kvs_record_fn on_record;
	void *ctx;
	union {
		struct kvmrt_outlier outlier;
		struct kvmrt_ctl_rec ctl;
	} rec;
	int rec_busy;
};

#define KVS_MAX_CPUS 8192

int kvs__init(struct kvs *s, __u64 threshold_ns, kvs_record_fn fn, void *ctx);
void kvs__free(struct kvs *s);
/* The event about to be handled: its time, CPU and current task. Returns
 * -1 for a CPU number beyond KVS_MAX_CPUS or out of memory. */
int kvs__event(struct kvs *s, __u64 now, __u32 cpu, __u32 tgid, __u32 tid, int kthread);
/* The current event's task name, where the recording has it. */
void kvs__event_comm(struct kvs *s, const char *comm);
/* Tell the handlers about threads and helpers, as the agent does through
 * the maps after reading /proc. */
int kvs__add_thread(struct kvs *s, __u32 tid, __u32 tgid, __u32 vcpu);
int kvs__add_injector(struct kvs *s, __u32 tid, __u32 tgid);
int kvs__add_vm(struct kvs *s, __u32 tgid);
int kvs_table__init(struct kvs_table *t, size_t key_size, size_t val_size, __u32 max);
void kvs_table__free(struct kvs_table *t);
void *kvs_table__get(const struct kvs_table *t, const void *key);
/* The value for key, created zeroed if absent and not full (*added says
 * which, if added is not NULL); NULL when full or out of memory. */
void *kvs_table__add(struct kvs_table *t, const void *key, int *added);
/* The i-th entry of a table (0 <= i < cap), or NULL for an empty slot. */
void *kvs_table__at(const struct kvs_table *t, __u32 i, const void **key);

/* include/kvs.h, which include/handlers.h calls, is implemented in store.c;
 * a recording's scheduler tick is its time in KVS_TICK_NS steps (HZ 250,
 * Debian's; RHEL's kernels tick every ms). */
#define KVS_TICK_NS 4000000ULL
#include "kvs.h"

#include "handlers.h"

#endif
