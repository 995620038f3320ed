/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The collector: the one reader of the BPF maps and the ring buffer. It
 * turns the maps (each vCPU's state in a hash, the run and loss counters
 * per CPU) into snapshots, per VM and vCPU, that every front end reads; a
 * front end that wants an interval diffs two snapshots.
 */
#ifndef KVMRT_COLLECTOR_H
#define KVMRT_COLLECTOR_H

#include <linux/types.h>
#include "episode.h"
#include "kvmrt.h"
#include "loader.h"
#include "vmreg.h"

struct exit_stat {
	__u32 isa;
	__u32 reason;
	__u64 count;
	__u64 sum_ns;
};

/* What only a recording tells of a vCPU (kvmrt report): its cuts, and
 * what its events show that a live trace does not need to name. */
struct rec_findings {
	__u32 pending_at_end;	/* injected, not ended when the recording ends */
	__u32 nundelivered;	/* of those, not delivered either: */
	__u32 undelivered[EP_SLOTS]; /* their vectors */
	__u64 ends_unmatched;	/* kvm_eoi, kvm_ack_irq that found nothing pending
				 * (injected before the recording, or ended) */
	__u64 deliveries_unmatched; /* kvm_inj_virq (not re-injections), alike */
	__u32 reinj_vector;	/* the longest run of kvm_inj_virq [reinjected] */
	__u32 reinj_count;	/* of one vector, no end between: its length */
	__u64 reinj_span_ns;	/* from its first injection to its last */
};

struct vcpu_stats {
	__u32 vcpu;
	__u32 tid;
	struct kvmrt_hist h[M_NR];
	struct kvmrt_counters c;
	int nexits;
	struct exit_stat *exits;
	struct rec_findings rec; /* a recording's only */
};

struct vm_stats {
	__u32 pid;
	char name[VMREG_NAME_LEN];
	int alive;
	int nvcpus;
	struct vcpu_stats *vcpus;
	struct kvmrt_apicv apicv; /* inhibits now, changes: counted */
};

struct snapshot {
	__u64 t_ns;		/* CLOCK_MONOTONIC when taken */
	__u64 lost;		/* outlier records the ring buffer could not take */
	__u64 hits[P_NR];	/* times each tracepoint fired */
	__u64 bpf_runs[P_NR];	/* kernel BPF stats: only while enabled */
	__u64 bpf_run_ns[P_NR];
	__u64 bpf_missed[P_NR];	/* runs the kernel skipped: the program was
				 * already running on that CPU (recursion) */
	int nvms;
	struct vm_stats *vms;
};

struct collector;
typedef void (*outlier_fn)(struct collector *c, const struct kvmrt_outlier *r, void *ctx);
typedef void (*ctl_fn)(struct collector *c, const struct kvmrt_ctl_rec *r, void *ctx);
typedef void (*if_fn)(struct collector *c, const struct kvmrt_if_rec *r, void *ctx);
/* Does the command show this VM's vCPU (its -p, -g, --vcpu)? */
typedef int (*keep_fn)(void *ctx, __u32 pid, const char *name, __u32 vcpu);

struct collector {
	struct loader *l;
	struct vmreg reg;
	struct ring_buffer *rb;
	outlier_fn on_outlier;
	ctl_fn on_ctl;
	if_fn on_if;	/* -a's records, in order with the outliers they explain */
	void *ctx;
	keep_fn keep;	/* NULL: every VM is followed */
	void *keep_ctx;
	int ignoring;	/* some vCPU was marked ignored: the others are checked */
	int ncpus;
	/* new VMs the BPF side reported, read from /proc at the poll's end */
	__u32 *seen;
	int nseen, seen_cap;
	void *pcpu_buf;	/* room for a vCPU state, or a per-CPU counter's values */
	__u64 *watch;	/* the BPF watch map, mapped (-a), or NULL */
	__u64 poll_until; /* collector__poll delivers records until then; 0 none */
	__u64 nrecords;
};

int collector__init(struct collector *c, struct loader *l, outlier_fn fn, void *ctx);
/* kvmrt control's records go to fn (set after init). */
void collector__on_ctl(struct collector *c, ctl_fn fn);
void collector__on_if(struct collector *c, if_fn fn);
/* Follow only the vCPUs keep says the command shows: the others' state
 * is marked ignored (episode.h), and the programs leave them at their
 * first lookup, so that a VM filtered out costs its exits little. Every
 * VM the registry learns of later is asked too. */
void collector__keep(struct collector *c, keep_fn keep, void *ctx);
/* That one vCPU, and its thread tid (0: none known), now (collector__keep's
 * way); and back: followed again, from a fresh state. */
void collector__ignore(struct collector *c, __u32 pid, __u32 vcpu, __u32 tid);
void collector__follow(struct collector *c, __u32 pid, __u32 vcpu, __u32 tid);
/* Read the new VMs the records reported (collector__poll does; a reader
 * that consumes the ring itself calls this after). */
void collector__read_seen(struct collector *c);
/* Rescan /proc for VMs (they come and go). */
int collector__refresh(struct collector *c);
/* Deliver pending records (waits up to timeout_ms), then read the new VMs
 * they reported. */
int collector__poll(struct collector *c, int timeout_ms);
int collector__snapshot(struct collector *c, struct snapshot *s);
/* Drop everything kept about a VM that is gone: its BPF map entries and
 * its registry entry. */
void collector__forget(struct collector *c, __u32 pid);
/* One vCPU's histograms and counters now (h, c: the rest is not read),
 * for a reader that needs only a few: 0 or -errno (-ENOENT: none yet). */
int collector__vcpu(struct collector *c, __u32 tgid, __u32 vcpu, struct vcpu_stats *out);
/* Name of the VM with this pid, as the registry knows it. */
const char *collector__vm_name(struct collector *c, __u32 pid);
void collector__destroy(struct collector *c);

struct vm_stats *snapshot__vm(struct snapshot *s, __u32 pid);
/* The VM or vCPU, added (zeroed) if absent; NULL when out of memory. */
struct vm_stats *snapshot__add_vm(struct snapshot *s, __u32 pid);
struct vcpu_stats *snapshot__add_vcpu(struct vm_stats *vm, __u32 vcpu);
/* VMs by pid, vCPUs by number. */
void snapshot__sort(struct snapshot *s);
struct vcpu_stats *snapshot__vcpu(struct vm_stats *vm, __u32 vcpu);
/* d = b - a, per counter and bucket: the interval between two snapshots.
 * Maxima cannot be diffed: d takes b's. */
int snapshot__diff(const struct snapshot *a, const struct snapshot *b, struct snapshot *d);
void snapshot__free(struct snapshot *s);

#endif
