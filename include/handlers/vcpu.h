/* SPDX-License-Identifier: GPL-2.0 */
/* include/handlers.h, part: The vCPU and VM of an event: threads learned, VMs noted, histograms. */
#ifndef KVMRT_HANDLERS_VCPU_H
#define KVMRT_HANDLERS_VCPU_H

#define APIC_DM_MASK 0x700
#define APIC_DM_FIXED 0x000
#define APIC_DM_LOWEST 0x100
#define APIC_LVT_MASKED (1 << 16)
#define SRC_FRESH_NS 200000ULL /* report's first pass: a source event this recent names the injection */
#define UNBOUND_FRESH_NS 1000000ULL

static __always_inline void hist_add(struct kvmrt_vcpu_state *v, __u32 metric, __u64 val)
{
	if (metric < M_NR)
		hist_record(&v->h[metric], val);
}

/* -a: the CPU of a vCPU with an interrupt in flight is watched (what
 * runs there is sent, kvmrt.h REC_IF) from its injection to its last end.
 * An injection from another CPU only starts a watch (compare-and-swap on
 * a vCPU not watched); the vCPU's own context (its switch-in, delivery and
 * ends) moves or stops it. Each swap counts out the CPU it replaced and in
 * the one it put, so racing swaps leave the counts right. */
static __always_inline void watch_start(struct kvs *s, struct kvmrt_vcpu_state *v)
{
	__u64 cpu1 = v->cpu1;

	if (kvs_analyze(s) && cpu1 && !v->watch1 && !__sync_val_compare_and_swap(&v->watch1, 0, cpu1))
		kvs_watch(s, cpu1 - 1, 1);
}

static __always_inline void watch_sync(struct kvs *s, struct kvmrt_vcpu_state *v)
{
	__u64 want, old;

	if (!kvs_analyze(s))
		return;
	want = ep_in_flight(v, kvs_now(s)) ? v->cpu1 : 0;
	if (want == v->watch1)
		return;
	old = __sync_lock_test_and_set(&v->watch1, want);
	if (old == want)
		return;
	if (old)
		kvs_watch(s, old - 1, -1);
	if (want)
		kvs_watch(s, want - 1, 1);
}

/* A process seen running a vCPU for the first time: tell the agent at
 * once, so that it reads the VM's name while the process lives (a VM may
 * last less than the agent's scan interval). Only from a vCPU's own thread:
 * a user task that injects may be one a hard irq landed on. */
static __always_inline void note_vm(struct kvs *s, __u32 tgid)
{
	struct kvmrt_ctl_rec *r;

	if (kvs_vm_add(s, tgid))
		return; /* known already (or the map is full) */
	r = kvs_reserve(s, sizeof(*r));
	if (!r) {
		kvs_lost(s);
		return;
	}
	__builtin_memset(r, 0, sizeof(*r));
	r->type = REC_VM;
	r->tgid = tgid;
	kvs_submit(s, r, KVS_WAKE_NOW);
}

/* The VM the current context injects for: the VMM's own threads, or a
 * helper thread the agent told us about. 0 when unknown (kworker, a hard
 * irq on the idle task); a hard irq landing on some user task is taken for
 * that task's process, a known blind spot (VFIO without posting). */
static __always_inline __u32 vm_of_current(struct kvs *s, __u64 id)
{
	__u32 tid = (__u32)id, tgid = id >> 32, *alias;

	if (kvs_vm_known(s, tgid))
		return tgid;
	alias = kvs_injector(s, tid);
	if (alias)
		return *alias;
	/* A user thread that injects is a VMM thread (ioctl, irqfd write,
	 * vhost worker since 6.4) even before the agent has seen the VM;
	 * kernel threads (kworker, idle under a hard irq) are not, but for
	 * those whose name says whose they are (kvm-pit/PID, vhost-PID
	 * before 6.4) before the agent has named them injectors (a VM's
	 * first PIT ticks) */
	if (!kvs_current_kthread(s))
		return tgid;
	return kvs_comm_owner(s);
}

/* Record that thread tid of process tgid runs vCPU vcpu_id. */
static __always_inline struct kvmrt_vcpu_state *learn_thread(struct kvs *s, __u32 tgid, __u32 tid,
							     __u32 vcpu_id)
{
	struct kvmrt_thread ti = { .vk = { .tgid = tgid, .vcpu = vcpu_id } };
	struct kvmrt_thread *old = kvs_thread(s, tid);
	struct kvmrt_vcpu_state *v;

	if (old && old->ignored)
		return NULL; /* known, and filtered out (collector__keep) */
	if (!old || old->vk.tgid != tgid || old->vk.vcpu != vcpu_id)
		kvs_thread_set(s, tid, &ti);
	if (!kvs_vm_known(s, tgid))
		note_vm(s, tgid);
	v = kvs_vcpu(s, &ti.vk, 1);
	if (v && v->tid != tid)
		v->tid = tid;
	return v;
}

/* -a: an event in the vCPU's own context says where its thread runs (a
 * vCPU alone on its CPU may never be switched in while traced) */
static __always_inline struct kvmrt_vcpu_state *note_cpu(struct kvs *s, struct kvmrt_vcpu_state *v)
{
	if (v && kvs_analyze(s))
		v->cpu1 = kvs_cpu_id(s) + 1;
	return v;
}

/* The vCPU that the current thread runs, if it is a vCPU thread. */
static __always_inline struct kvmrt_vcpu_state *current_vcpu(struct kvs *s, struct kvmrt_vcpu_key *vk)
{
	struct kvmrt_thread *ti = kvs_thread(s, (__u32)kvs_current(s));

	if (!ti || ti->ignored)
		return NULL;
	*vk = ti->vk;
	return note_cpu(s, kvs_vcpu(s, vk, 1));
}

/* The vCPU of an event that carries a kvm_vcpu, learning the thread as we
 * go: its vcpu_id is only read for a thread not known yet. */
static __always_inline struct kvmrt_vcpu_state *vcpu_of_event(struct kvs *s, struct kvmrt_vcpu_key *vk)
{
	__u64 id = kvs_current(s);
	struct kvmrt_thread *ti = kvs_thread(s, (__u32)id);

	if (ti) {
		if (ti->ignored) /* filtered out: one lookup per exit */
			return NULL;
		*vk = ti->vk;
		return note_cpu(s, kvs_vcpu(s, vk, 1));
	}
	vk->tgid = id >> 32;
	vk->vcpu = kvs_vcpu_id(s);
	return note_cpu(s, learn_thread(s, vk->tgid, (__u32)id, vk->vcpu));
}

#endif
