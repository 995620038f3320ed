// SPDX-License-Identifier: GPL-2.0
/*
 * Guest interrupt latency, measured on tracepoints only.
 *
 * inject (kvm_apic_accept_irq, kvm_pic_set_irq, LAPIC hrtimer expiry)
 *   -> wake (sched_waking) -> run (sched_switch) -> deliver (kvm_inj_virq)
 *   -> end of interrupt (kvm_eoi, kvm_ack_irq for the PIC)
 *
 * The state machine is include/episode.h; this file only finds which vCPU
 * an event belongs to, reads scalars out of kernel structs, and aggregates
 * into per-CPU histograms. Slow episodes go to the ring buffer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "episode.h"
#include "kvmrt.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u64 targ_threshold_ns = 0;   /* 0: no outlier records */
const volatile __u64 targ_apic_timer_fn = 0;  /* &apic_timer_fn, from kallsyms */
const volatile __u32 targ_lvtt_offset = 0x320; /* APIC_LVTT in the register page */
const volatile __u16 targ_hint_port = 0;       /* kvmrt control: guest busy/idle hints */
const volatile __u8 targ_control = 0;          /* kvmrt control co-schedules: send its records */
/* Set by the agent once every program is attached and the maps hold the
 * VMs and vCPU threads it found: an interrupt injected before that is not
 * counted, so none is seen in part (say its injection without its source). */
volatile __u32 armed = 0;

#define APIC_DM_MASK 0x700
#define APIC_DM_FIXED 0x000
#define APIC_DM_LOWEST 0x100
#define APIC_LVT_MASKED (1 << 16)
#define TASK_RUNNING 0
#define PF_KTHREAD 0x00200000
#define SRC_FRESH_NS 200000ULL /* a source event this recent names the injection */
#define UNBOUND_FRESH_NS 1000000ULL

/* Per vCPU: pending episodes, counters and histograms, in one value so
 * that an event costs one lookup. Histograms are only written from the
 * vCPU thread's own context (its EOI, its switch-in, its exits), which the
 * scheduler serializes: plain adds, no cross-CPU contention, and memory
 * that does not grow with the host's CPU count. Counters that injecting
 * threads touch use atomics. Allocated on first use. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, KVMRT_MAX_VCPUS);
	__type(key, struct kvmrt_vcpu_key);
	__type(value, struct kvmrt_vcpu_state);
} vcpus SEC(".maps");

/* vCPU thread -> vCPU; from /proc (agent) and from events (here). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KVMRT_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct kvmrt_thread);
} threads SEC(".maps");

/* Processes known to hold a VM. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u32);
} vms SEC(".maps");

/* vCPUs kvmrt control co-schedules (RT_VCPU_*): their injections, ends,
 * hints and sleeps go to it through the ring buffer; ctl_urgent says which
 * wake it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct kvmrt_vcpu_key);
	__type(value, __u32);
} rt_vcpus SEC(".maps");

/* Threads outside the VMM that inject for it (kvm-pit/PID, vhost-PID). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u32);
} injectors SEC(".maps");

/* Exits per reason, written by the vCPU thread only (as histograms). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, KVMRT_MAX_EXIT_KEYS);
	__type(key, struct kvmrt_exit_key);
	__type(value, struct kvmrt_exit_val);
} exits SEC(".maps");

/* How often each tracepoint fired: tells which endpoints are observable. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, P_NR);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

struct kvmrt_cpu_run {
	__u32 pid;
	__u32 pad;
	__u64 start;
	__u64 end;
	char comm[KVMRT_COMM_LEN];
};

/* Per-CPU scratch: what the current context just did. */
struct kvmrt_cpu_ctx {
	/* last kvm_set_irq / kvm_msi_set_irq / ... in this context */
	__u64 src_t;
	__u32 src_pid;
	__u32 src;
	__u32 src_level;
	__u32 eoi_tid;	/* the last known vCPU thread to EOI on this CPU */
	/* an injection whose VM was unknown, bound at the next vCPU wakeup */
	__u64 unb_t;
	__u32 unb_vcpu;
	__u32 unb_vector;
	__u32 unb_source;
	__u32 unb_valid;
	/* who ran on this CPU, for blame */
	__u64 last_switch;
	__u32 head;
	__u32 pad1;
	struct kvmrt_cpu_run ring[KVMRT_CPU_RING];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kvmrt_cpu_ctx);
} cpu_ctxs SEC(".maps");

static struct kvmrt_vcpu_state zero_vcpu;

static __always_inline void hit(__u32 prog)
{
	__u64 *c = bpf_map_lookup_elem(&hits, &prog);

	if (c)
		(*c)++;
}

static __always_inline void count_lost(void)
{
	__u32 zero = 0;
	__u64 *l = bpf_map_lookup_elem(&lost, &zero);

	if (l)
		(*l)++;
}

static __always_inline struct kvmrt_cpu_ctx *this_cpu(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&cpu_ctxs, &zero);
}

static __always_inline void hist_add(struct kvmrt_vcpu_state *v, __u32 metric, __u64 val)
{
	if (metric < M_NR)
		hist_record(&v->h[metric], val);
}

static __always_inline struct kvmrt_vcpu_state *vcpu_of(const struct kvmrt_vcpu_key *vk, int create)
{
	struct kvmrt_vcpu_state *v = bpf_map_lookup_elem(&vcpus, vk);

	if (!v && create) {
		bpf_map_update_elem(&vcpus, vk, &zero_vcpu, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&vcpus, vk);
	}
	return v;
}

/* A process seen running a vCPU for the first time: tell the agent at
 * once, so that it reads the VM's name while the process lives (a VM may
 * last less than the agent's scan interval). Only from a vCPU's own thread:
 * a user task that injects may be one a hard irq landed on. */
static __always_inline void note_vm(__u32 tgid)
{
	struct kvmrt_ctl_rec *r;
	__u32 one = 1;

	if (bpf_map_update_elem(&vms, &tgid, &one, BPF_NOEXIST))
		return; /* known already (or the map is full) */
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_lost();
		return;
	}
	__builtin_memset(r, 0, sizeof(*r));
	r->type = REC_VM;
	r->tgid = tgid;
	bpf_ringbuf_submit(r, BPF_RB_FORCE_WAKEUP);
}

/* The VM the current context injects for: the VMM's own threads, or a
 * helper thread the agent told us about. 0 when unknown (kworker, a hard
 * irq on the idle task); a hard irq landing on some user task is taken for
 * that task's process, a known blind spot (VFIO without posting). */
static __always_inline __u32 vm_of_current(__u64 id)
{
	__u32 tid = (__u32)id, tgid = id >> 32, *alias;
	struct task_struct *task;

	if (bpf_map_lookup_elem(&vms, &tgid))
		return tgid;
	alias = bpf_map_lookup_elem(&injectors, &tid);
	if (alias)
		return *alias;
	/* A user thread that injects is a VMM thread (ioctl, irqfd write,
	 * vhost worker since 6.4) even before the agent has seen the VM;
	 * kernel threads (kworker, kvm-pit, idle under a hard irq) are not. */
	task = (struct task_struct *)bpf_get_current_task();
	if (!(BPF_CORE_READ(task, flags) & PF_KTHREAD))
		return tgid;
	return 0;
}

/* Record that thread tid of process tgid runs vCPU vcpu_id. */
static __always_inline struct kvmrt_vcpu_state *learn_thread(__u32 tgid, __u32 tid, __u32 vcpu_id)
{
	struct kvmrt_thread ti = { .vk = { .tgid = tgid, .vcpu = vcpu_id } };
	struct kvmrt_thread *old = bpf_map_lookup_elem(&threads, &tid);
	struct kvmrt_vcpu_state *v;

	if (!old || old->vk.tgid != tgid || old->vk.vcpu != vcpu_id)
		bpf_map_update_elem(&threads, &tid, &ti, BPF_ANY);
	if (!bpf_map_lookup_elem(&vms, &tgid))
		note_vm(tgid);
	v = vcpu_of(&ti.vk, 1);
	if (v && v->tid != tid)
		v->tid = tid;
	return v;
}

/* The vCPU that the current thread runs, if it is a vCPU thread. */
static __always_inline struct kvmrt_vcpu_state *current_vcpu(struct kvmrt_vcpu_key *vk, __u32 tid)
{
	struct kvmrt_thread *ti = bpf_map_lookup_elem(&threads, &tid);

	if (!ti)
		return NULL;
	*vk = ti->vk;
	return vcpu_of(vk, 1);
}

static __always_inline void note_source(__u32 src, __u32 level, __u64 now, __u32 tid)
{
	struct kvmrt_cpu_ctx *c = this_cpu();

	if (!c)
		return;
	c->src_t = now;
	c->src_pid = tid;
	c->src = src;
	c->src_level = level;
}

/* The source named by a kvm_*_set_irq just before, in this context. */
static __always_inline __u32 take_source(__u64 now, __u32 tid, __u32 *level)
{
	struct kvmrt_cpu_ctx *c = this_cpu();
	__u32 src;

	if (!c || !c->src_t || now - c->src_t > SRC_FRESH_NS || c->src_pid != tid)
		return SRC_OTHER;
	src = c->src;
	if (level)
		*level = c->src_level;
	return src;
}

/* Injections run in any thread: atomics. */
static __always_inline void count_inject(struct kvmrt_vcpu_state *v, __u32 source, int result)
{
	if (result == EP_MERGED)
		return; /* already counted when the hrtimer opened it */
	if (source >= SRC_NR)
		source = SRC_OTHER;
	__sync_fetch_and_add(&v->c.injected[source], 1);
	if (result == EP_COALESCED)
		__sync_fetch_and_add(&v->c.coalesced, 1);
	if (result == EP_EVICTED)
		__sync_fetch_and_add(&v->c.dropped, 1);
}

/* Tell kvmrt control about a real-time vCPU's work and sleep; wake it only
 * when it has something to do (ctl_urgent). */
static __always_inline void ctl_event(__u32 type, const struct kvmrt_vcpu_key *vk,
				      const struct kvmrt_vcpu_state *v, __u64 t, __u32 value)
{
	struct kvmrt_ctl_rec *r;
	__u32 *rt;
	int pending;

	/* a constant at load: no lookup on every event for trace/top/export */
	if (!targ_control)
		return;
	rt = bpf_map_lookup_elem(&rt_vcpus, vk);
	if (!rt)
		return;
	pending = type == REC_CTL_SLEEP && !value ? ep_any_pending(v) : 0;
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_lost();
		return;
	}
	r->type = type;
	r->tgid = vk->tgid;
	r->vcpu = vk->vcpu;
	r->tid = v->tid;
	r->t = t;
	r->value = value;
	r->pad = 0;
	bpf_ringbuf_submit(r, ctl_urgent(type, value, *rt, pending) ? BPF_RB_FORCE_WAKEUP :
								     BPF_RB_NO_WAKEUP);
}

static __always_inline void inject(__u32 tgid, __u32 vcpu_id, __u32 vector, __u32 source,
				   __u64 now, int from_timer)
{
	struct kvmrt_vcpu_key vk = { .tgid = tgid, .vcpu = vcpu_id };
	struct kvmrt_vcpu_state *v;
	int r;

	if (!armed)
		return;
	v = vcpu_of(&vk, 1);
	if (!v)
		return;
	r = ep_inject(v, vector, source, now, from_timer);
	count_inject(v, source, r);
	/* one record per episode: coalesced and merged ones end only once */
	if (r == EP_NEW || r == EP_EVICTED)
		ctl_event(REC_CTL_INJECT, &vk, v, now, vector);
}

/* Injection from a context that is not the VM's: keep it on this CPU until
 * this context wakes that vCPU's thread. */
static __always_inline void park_unbound(__u32 vcpu_id, __u32 vector, __u32 source, __u64 now)
{
	struct kvmrt_cpu_ctx *c = this_cpu();

	if (!c || !armed)
		return;
	c->unb_t = now;
	c->unb_vcpu = vcpu_id;
	c->unb_vector = vector;
	c->unb_source = source;
	c->unb_valid = 1;
}

/* ---- sources: name the injection that follows in the same context ---- */

static __always_inline int handle_kvm_set_irq(unsigned int gsi, int level)
{
	hit(P_KVM_SET_IRQ);
	/* generic GSI path: the PIC/IOAPIC events that follow refine it */
	note_source(SRC_IOAPIC, level, bpf_ktime_get_ns(), (__u32)bpf_get_current_pid_tgid());
	return 0;
}

KVMRT_TP(kvm_set_irq, unsigned int gsi, int level, int irq_source_id)
{
	return handle_kvm_set_irq(gsi, level);
}

KVMRT_RAW(kvm_set_irq, unsigned int gsi, int level, int irq_source_id)
{
	return handle_kvm_set_irq(gsi, level);
}

static __always_inline int handle_kvm_msi_set_irq(void)
{
	hit(P_KVM_MSI_SET_IRQ);
	note_source(SRC_MSI, 1, bpf_ktime_get_ns(), (__u32)bpf_get_current_pid_tgid());
	return 0;
}

KVMRT_TP(kvm_msi_set_irq, __u64 address, __u64 data)
{
	return handle_kvm_msi_set_irq();
}

KVMRT_RAW(kvm_msi_set_irq, __u64 address, __u64 data)
{
	return handle_kvm_msi_set_irq();
}

static __always_inline int handle_kvm_ioapic_set_irq(void)
{
	__u32 level = 1, tid = (__u32)bpf_get_current_pid_tgid();
	__u64 now = bpf_ktime_get_ns();

	hit(P_KVM_IOAPIC_SET_IRQ);
	take_source(now, tid, &level);
	note_source(SRC_IOAPIC, level, now, tid);
	return 0;
}

KVMRT_TP(kvm_ioapic_set_irq, __u64 e, int pin, bool coalesced)
{
	return handle_kvm_ioapic_set_irq();
}

KVMRT_RAW(kvm_ioapic_set_irq, __u64 e, int pin, bool coalesced)
{
	return handle_kvm_ioapic_set_irq();
}

static __always_inline int handle_kvm_apic_ipi(void)
{
	hit(P_KVM_APIC_IPI);
	note_source(SRC_IPI, 1, bpf_ktime_get_ns(), (__u32)bpf_get_current_pid_tgid());
	return 0;
}

KVMRT_TP(kvm_apic_ipi, __u32 icr_low, __u32 dest_id)
{
	return handle_kvm_apic_ipi();
}

KVMRT_RAW(kvm_apic_ipi, __u32 icr_low, __u32 dest_id)
{
	return handle_kvm_apic_ipi();
}

/* ---- injection ---- */

/* Legacy PIC: an episode starts on a rising edge the PIC does not mask or
 * coalesce. The PIC drives vCPU 0 (the BSP's LINT0). */
static __always_inline int handle_kvm_pic_set_irq(__u8 chip, __u8 pin, __u8 imr, bool coalesced)
{
	__u64 now = bpf_ktime_get_ns(), id = bpf_get_current_pid_tgid();
	__u32 level = 0, vm, vector;

	hit(P_KVM_PIC_SET_IRQ);
	take_source(now, (__u32)id, &level);
	if (!level || coalesced || (imr & (1 << (pin & 7))))
		return 0;
	vector = KVMRT_PIC_VECTOR_BASE + (chip & 1) * 8 + (pin & 7);
	vm = vm_of_current(id);
	if (vm)
		inject(vm, 0, vector, SRC_PIC, now, 0);
	else
		park_unbound(0, vector, SRC_PIC, now);
	return 0;
}

KVMRT_TP(kvm_pic_set_irq, __u8 chip, __u8 pin, __u8 elcr, __u8 imr, bool coalesced)
{
	return handle_kvm_pic_set_irq(chip, pin, imr, coalesced);
}

KVMRT_RAW(kvm_pic_set_irq, __u8 chip, __u8 pin, __u8 elcr, __u8 imr, bool coalesced)
{
	return handle_kvm_pic_set_irq(chip, pin, imr, coalesced);
}

static __always_inline int handle_kvm_apic_accept_irq(__u32 apicid, __u16 dm, __u8 vec)
{
	__u64 now, id;
	__u32 src, vm, tid;

	hit(P_KVM_APIC_ACCEPT_IRQ);
	/* NMI, SMI, INIT and SIPI have no end of interrupt to wait for */
	if ((dm & APIC_DM_MASK) != APIC_DM_FIXED && (dm & APIC_DM_MASK) != APIC_DM_LOWEST)
		return 0;
	now = bpf_ktime_get_ns();
	id = bpf_get_current_pid_tgid();
	tid = (__u32)id;
	src = take_source(now, tid, NULL);
	if (src == SRC_OTHER && bpf_map_lookup_elem(&threads, &tid))
		src = SRC_TIMER; /* a local LVT source fired in the vCPU thread */
	vm = vm_of_current(id);
	if (vm)
		inject(vm, apicid, vec, src, now, 0);
	else
		park_unbound(apicid, vec, src, now);
	return 0;
}

KVMRT_TP(kvm_apic_accept_irq, __u32 apicid, __u16 dm, __u16 tm, __u8 vec)
{
	return handle_kvm_apic_accept_irq(apicid, dm, vec);
}

KVMRT_RAW(kvm_apic_accept_irq, __u32 apicid, __u16 dm, __u16 tm, __u8 vec)
{
	return handle_kvm_apic_accept_irq(apicid, dm, vec);
}

/* The LAPIC timer is injected by the vCPU thread after it wakes; its
 * hrtimer expiry is when the interrupt really became due. */
static __always_inline int handle_hrtimer_expire_entry(struct hrtimer *timer, __u64 fn)
{
	struct kvm_lapic *apic;
	struct kvm_vcpu *vcpu;
	struct pid *pid;
	__u32 lvtt = 0, tgid, tid, vcpu_id;
	void *regs;
	__u64 now;

	if (fn != targ_apic_timer_fn)
		return 0;
	hit(P_HRTIMER_EXPIRE_ENTRY);
	now = bpf_ktime_get_ns();
	apic = (void *)timer - bpf_core_field_offset(struct kvm_lapic, lapic_timer) -
	       bpf_core_field_offset(struct kvm_timer, timer);
	vcpu = BPF_CORE_READ(apic, vcpu);
	regs = BPF_CORE_READ(apic, regs);
	if (!vcpu || !regs)
		return 0;
	bpf_probe_read_kernel(&lvtt, sizeof(lvtt), regs + (targ_lvtt_offset & 0xff0));
	if (lvtt & APIC_LVT_MASKED)
		return 0;
	vcpu_id = BPF_CORE_READ(vcpu, vcpu_id);
	tgid = BPF_CORE_READ(vcpu, kvm, userspace_pid);
	pid = BPF_CORE_READ(vcpu, pid);
	tid = pid ? BPF_CORE_READ(pid, numbers[0].nr) : 0;
	if (!tgid)
		return 0;
	if (tid)
		learn_thread(tgid, tid, vcpu_id);
	inject(tgid, vcpu_id, lvtt & 0xff, SRC_TIMER, now, 1);
	return 0;
}

/* Fires for every hrtimer on the host: leave early and cheaply. */
KVMRT_TP(hrtimer_expire_entry, struct hrtimer *timer, ktime_t *now)
{
	return handle_hrtimer_expire_entry(timer, (__u64)timer->function);
}

KVMRT_RAW(hrtimer_expire_entry, struct hrtimer *timer, ktime_t *now)
{
	return handle_hrtimer_expire_entry(timer, (__u64)BPF_CORE_READ(timer, function));
}

/* ---- host scheduling ---- */

static __always_inline int handle_sched_waking(__u32 tid)
{
	struct kvmrt_thread *ti;
	struct kvmrt_vcpu_state *v;
	struct kvmrt_cpu_ctx *c;
	__u64 now;

	ti = bpf_map_lookup_elem(&threads, &tid);
	if (!ti)
		return 0;
	hit(P_SCHED_WAKING);
	now = bpf_ktime_get_ns();
	c = this_cpu();
	if (c && c->unb_valid) {
		c->unb_valid = 0;
		if (c->unb_vcpu == ti->vk.vcpu && now - c->unb_t < UNBOUND_FRESH_NS)
			inject(ti->vk.tgid, ti->vk.vcpu, c->unb_vector, c->unb_source, c->unb_t, 0);
	}
	v = vcpu_of(&ti->vk, 1);
	if (!v)
		return 0;
	if (v->tid != tid)
		v->tid = tid;
	ep_wake(v, now);
	return 0;
}

/* The hottest events (every wakeup and context switch on the host): the
 * tp_btf flavour reads the pid directly instead of through a helper. */
KVMRT_TP(sched_waking, struct task_struct *p)
{
	return handle_sched_waking(p->pid);
}

KVMRT_RAW(sched_waking, struct task_struct *p)
{
	return handle_sched_waking(BPF_CORE_READ(p, pid));
}

static __always_inline int task_runnable(struct task_struct *t, bool preempt)
{
	struct task_struct___pre514 *old = (void *)t;

	if (preempt)
		return 1;
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state) == TASK_RUNNING;
	return BPF_CORE_READ(old, state) == TASK_RUNNING;
}

/* Who held this CPU while the vCPU waited since t_from: up to three tasks,
 * by time, from this CPU's recent sched_switch records. */
static __always_inline void take_blame(struct kvmrt_cpu_ctx *c, struct kvmrt_vcpu_state *v, __u64 t_from,
				       __u32 self)
{
	int i, j;

	v->nblame = 0;
	for (i = 0; i < KVMRT_CPU_RING; i++) {
		struct kvmrt_cpu_run *r = &c->ring[i];
		__u64 from, ns;
		int slot = -1;

		if (!r->end || r->end <= t_from || r->pid == self)
			continue;
		from = r->start > t_from ? r->start : t_from;
		ns = r->end - from;
		for (j = 0; j < KVMRT_BLAME_SLOTS; j++) {
			if (j < v->nblame && v->blame[j].pid == r->pid) {
				slot = j;
				break;
			}
		}
		if (slot >= 0) {
			v->blame[slot & (KVMRT_BLAME_SLOTS - 1)].ns += ns;
			continue;
		}
		if (v->nblame < KVMRT_BLAME_SLOTS) {
			slot = v->nblame++;
		} else {
			/* replace the smallest if this one is bigger */
			slot = 0;
			for (j = 1; j < KVMRT_BLAME_SLOTS; j++)
				if (v->blame[j].ns < v->blame[slot].ns)
					slot = j;
			if (v->blame[slot].ns >= ns)
				continue;
		}
		if (slot < 0 || slot >= KVMRT_BLAME_SLOTS)
			continue;
		v->blame[slot].pid = r->pid;
		v->blame[slot].ns = ns;
		__builtin_memcpy(v->blame[slot].comm, r->comm, KVMRT_COMM_LEN);
	}
}

static __always_inline int handle_sched_switch(bool preempt, struct task_struct *prev,
					       __u32 prev_tid, __u32 next_tid)
{
	struct kvmrt_thread *pti, *nti;
	struct kvmrt_vcpu_state *v;
	struct kvmrt_cpu_ctx *c = NULL;
	__u64 now, wait, t_from;

	pti = bpf_map_lookup_elem(&threads, &prev_tid);
	nti = bpf_map_lookup_elem(&threads, &next_tid);
	if (!targ_threshold_ns && !pti && !nti)
		return 0; /* the common case: no vCPU thread involved */
	now = bpf_ktime_get_ns();
	if (targ_threshold_ns) {
		/* remember who ran here, for blame */
		c = this_cpu();
		if (!c)
			return 0;
		if (c->last_switch) {
			struct kvmrt_cpu_run *r = &c->ring[c->head & (KVMRT_CPU_RING - 1)];

			r->pid = prev_tid;
			r->start = c->last_switch;
			r->end = now;
			BPF_CORE_READ_STR_INTO(&r->comm, prev, comm);
			c->head++;
		}
		c->last_switch = now;
	}
	hit(P_SCHED_SWITCH);
	if (pti) {
		v = vcpu_of(&pti->vk, 1);
		if (v) {
			int runnable = task_runnable(prev, preempt);

			ep_switch_out(v, now, runnable);
			if (!runnable) {
				v->asleep = 1; /* kvmrt control parks it at FIFO */
				ctl_event(REC_CTL_SLEEP, &pti->vk, v, now, 1);
			}
		}
	}
	if (!nti)
		return 0;
	v = vcpu_of(&nti->vk, 1);
	if (!v)
		return 0;
	if (v->asleep) {
		v->asleep = 0;
		ctl_event(REC_CTL_SLEEP, &nti->vk, v, now, 0);
	}
	t_from = v->t_runnable;
	wait = ep_switch_in(v, now);
	if (t_from) {
		hist_add(v, M_VCPU_WAIT, wait);
		if (c && wait >= targ_threshold_ns / 4)
			take_blame(c, v, t_from, next_tid);
		else
			v->nblame = 0;
	}
	return 0;
}

KVMRT_TP(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return handle_sched_switch(preempt, prev, prev->pid, next->pid);
}

KVMRT_RAW(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return handle_sched_switch(preempt, prev, BPF_CORE_READ(prev, pid), BPF_CORE_READ(next, pid));
}

static __always_inline int handle_kvm_vcpu_wakeup(__u64 ns, bool waited)
{
	struct kvmrt_vcpu_state *v;
	struct kvmrt_vcpu_key vk;

	hit(P_KVM_VCPU_WAKEUP);
	v = current_vcpu(&vk, (__u32)bpf_get_current_pid_tgid());
	if (!v)
		return 0;
	v->c.wakeups++;
	v->c.halted_ns += ns;
	return 0;
}

KVMRT_TP(kvm_vcpu_wakeup, __u64 ns, bool waited, bool valid)
{
	return handle_kvm_vcpu_wakeup(ns, waited);
}

KVMRT_RAW(kvm_vcpu_wakeup, __u64 ns, bool waited, bool valid)
{
	return handle_kvm_vcpu_wakeup(ns, waited);
}

/* ---- delivery and exits (VMX/SVM only: not on this emulated host) ---- */

static __always_inline int handle_kvm_inj_virq(unsigned int vector)
{
	struct kvmrt_vcpu_key vk;
	struct kvmrt_vcpu_state *v;
	__u64 lat;

	hit(P_KVM_INJ_VIRQ);
	v = current_vcpu(&vk, (__u32)bpf_get_current_pid_tgid());
	if (!v)
		return 0;
	lat = ep_deliver(v, vector, bpf_ktime_get_ns());
	if (lat)
		hist_add(v, M_DELIVERY, lat);
	return 0;
}

KVMRT_TP(kvm_inj_virq, unsigned int vector, bool soft, bool reinjected)
{
	return handle_kvm_inj_virq(vector);
}

KVMRT_RAW(kvm_inj_virq, unsigned int vector, bool soft, bool reinjected)
{
	return handle_kvm_inj_virq(vector);
}

/* The vCPU behind a kvm_vcpu pointer, learning the thread as we go. */
static __always_inline struct kvmrt_vcpu_state *vcpu_from_ptr(struct kvm_vcpu *vcpu, struct kvmrt_vcpu_key *vk)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct kvmrt_thread *ti = bpf_map_lookup_elem(&threads, &tid);

	if (ti) {
		*vk = ti->vk;
		return vcpu_of(vk, 1);
	}
	vk->tgid = id >> 32;
	vk->vcpu = BPF_CORE_READ(vcpu, vcpu_id);
	return learn_thread(vk->tgid, tid, vk->vcpu);
}

static __always_inline __u32 exit_reason_of(struct kvm_vcpu *vcpu, __u32 isa)
{
	__u32 reason = 0;

	if (isa == ISA_VMX && bpf_core_type_exists(struct vcpu_vmx___kvmrt)) {
		struct vcpu_vmx___kvmrt *vmx =
			(void *)vcpu - bpf_core_field_offset(struct vcpu_vmx___kvmrt, vcpu);

		reason = BPF_CORE_READ(vmx, exit_reason.full) & 0xffff; /* basic reason */
	} else if (isa == ISA_SVM && bpf_core_type_exists(struct vcpu_svm___kvmrt)) {
		struct vcpu_svm___kvmrt *svm =
			(void *)vcpu - bpf_core_field_offset(struct vcpu_svm___kvmrt, vcpu);
		struct vmcb___kvmrt *vmcb = BPF_CORE_READ(svm, vmcb);

		if (vmcb)
			bpf_probe_read_kernel(&reason, sizeof(reason),
					      __builtin_preserve_access_index(&vmcb->control.exit_code));
	}
	return reason;
}

static __always_inline int handle_kvm_exit(struct kvm_vcpu *vcpu, __u32 isa)
{
	struct kvmrt_vcpu_state *v;
	struct kvmrt_vcpu_key vk;

	hit(P_KVM_EXIT);
	v = vcpu_from_ptr(vcpu, &vk);
	if (!v)
		return 0;
	v->t_exit = bpf_ktime_get_ns();
	v->exit_isa = isa;
	v->exit_reason = exit_reason_of(vcpu, isa);
	return 0;
}

KVMRT_TP(kvm_exit, struct kvm_vcpu *vcpu, __u32 isa)
{
	return handle_kvm_exit(vcpu, isa);
}

KVMRT_RAW(kvm_exit, struct kvm_vcpu *vcpu, __u32 isa)
{
	return handle_kvm_exit(vcpu, isa);
}

static __always_inline int handle_kvm_entry(struct kvm_vcpu *vcpu)
{
	struct kvmrt_exit_key ek = {};
	struct kvmrt_exit_val *ev, zero = {};
	struct kvmrt_vcpu_state *v;
	struct kvmrt_vcpu_key vk;
	__u64 now, dt;

	hit(P_KVM_ENTRY);
	v = vcpu_from_ptr(vcpu, &vk);
	if (!v || !v->t_exit)
		return 0;
	now = bpf_ktime_get_ns();
	dt = now - v->t_exit;
	v->t_exit = 0;
	ek.vk = vk;
	ek.isa = v->exit_isa;
	ek.reason = v->exit_reason;
	ev = bpf_map_lookup_elem(&exits, &ek);
	if (!ev) {
		bpf_map_update_elem(&exits, &ek, &zero, BPF_NOEXIST);
		ev = bpf_map_lookup_elem(&exits, &ek);
		if (!ev)
			return 0;
	}
	ev->count++;
	ev->sum_ns += dt;
	hist_add(v, M_EXIT, dt);
	return 0;
}

KVMRT_TP(kvm_entry, struct kvm_vcpu *vcpu)
{
	return handle_kvm_entry(vcpu);
}

KVMRT_RAW(kvm_entry, struct kvm_vcpu *vcpu)
{
	return handle_kvm_entry(vcpu);
}

/* ---- end of interrupt ---- */

static __always_inline void emit_outlier(const struct kvmrt_vcpu_key *vk, struct kvmrt_vcpu_state *v,
					 const struct kvmrt_ep_done *d)
{
	struct kvmrt_outlier *r;
	__u32 i;

	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_lost();
		return;
	}
	r->type = REC_OUTLIER;
	r->tgid = vk->tgid;
	r->tid = v->tid;
	r->vcpu = vk->vcpu;
	r->vector = d->vector;
	r->source = d->source;
	r->t_inject = d->t_inject;
	r->t_wake = d->t_wake;
	r->t_run = d->t_run;
	r->t_deliver = d->t_deliver;
	r->t_eoi = d->t_eoi;
	r->cpu = bpf_get_smp_processor_id();
	/* blame is only meaningful if this episode waited for the CPU */
	r->nblame = (d->t_wake || d->t_run) ? v->nblame : 0;
	for (i = 0; i < KVMRT_BLAME_SLOTS; i++)
		r->blame[i] = v->blame[i];
	bpf_ringbuf_submit(r, 0);
}

static __always_inline void end_episode(struct kvmrt_vcpu_key *vk, struct kvmrt_vcpu_state *v, __u32 vector)
{
	struct kvmrt_ep_done d = {};
	__s64 st[ST_NR];
	__u64 resp;
	int i, slot;

	slot = ep_find(v, vector);
	if (slot < 0)
		return; /* nothing pending for it: no clock read */
	if (!ep_end_slot(v, slot, bpf_ktime_get_ns(), &d))
		return;
	resp = d.t_eoi - d.t_inject;
	hist_add(v, M_RESPONSE, resp);
	ep_stages(&d, st);
	for (i = 0; i < ST_NR; i++)
		if (st[i] >= 0)
			hist_add(v, M_ST_WAKE + i, st[i]);
	v->c.completed++;
	ctl_event(REC_CTL_EOI, vk, v, d.t_eoi, d.vector);
	if (targ_threshold_ns && resp >= targ_threshold_ns)
		emit_outlier(vk, v, &d);
}

static __always_inline int handle_kvm_eoi(struct kvm_lapic *apic, int vector)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct kvmrt_cpu_ctx *c = NULL;
	struct kvmrt_vcpu_state *v;
	struct kvmrt_vcpu_key vk;

	hit(P_KVM_EOI);
	/* -1: the ISR was empty, nothing ends (not to be taken for vector
	 * 0xff). On hosts whose KVM ends an interrupt when it delivers it
	 * (this emulating one), every guest EOI is one of these, and the PIC's
	 * deliveries too: still worth learning the thread from, once. */
	if (vector < 0) {
		c = this_cpu();
		if (c && c->eoi_tid == (__u32)id)
			return 0;
	}
	v = current_vcpu(&vk, (__u32)id);
	if (!v) {
		/* a thread we do not know yet: learn it from the LAPIC's vCPU */
		vk.tgid = id >> 32;
		vk.vcpu = BPF_CORE_READ(apic, vcpu, vcpu_id);
		v = learn_thread(vk.tgid, (__u32)id, vk.vcpu);
	}
	if (!v)
		return 0;
	if (vector < 0) {
		if (c)
			c->eoi_tid = (__u32)id;
		return 0;
	}
	end_episode(&vk, v, vector & 0xff);
	return 0;
}

KVMRT_TP(kvm_eoi, struct kvm_lapic *apic, int vector)
{
	return handle_kvm_eoi(apic, vector);
}

KVMRT_RAW(kvm_eoi, struct kvm_lapic *apic, int vector)
{
	return handle_kvm_eoi(apic, vector);
}

/* kvm_notify_acked_irq: for the PIC, the guest's EOI command (or the ack
 * itself in auto-EOI mode). irqchip 0/1 = master/slave PIC, 2 = IOAPIC,
 * whose interrupts end at kvm_eoi already. */
static __always_inline int handle_kvm_ack_irq(unsigned int irqchip, unsigned int pin)
{
	struct kvmrt_vcpu_state *v;
	struct kvmrt_vcpu_key vk;

	hit(P_KVM_ACK_IRQ);
	if (irqchip > 1)
		return 0;
	v = current_vcpu(&vk, (__u32)bpf_get_current_pid_tgid());
	if (!v)
		return 0;
	end_episode(&vk, v, KVMRT_PIC_VECTOR_BASE + (irqchip & 1) * 8 + (pin & 7));
	return 0;
}

KVMRT_TP(kvm_ack_irq, unsigned int irqchip, unsigned int pin)
{
	return handle_kvm_ack_irq(irqchip, pin);
}

KVMRT_RAW(kvm_ack_irq, unsigned int irqchip, unsigned int pin)
{
	return handle_kvm_ack_irq(irqchip, pin);
}

/* kvm_pio: only the guest hint port of kvmrt control matters here. */
static __always_inline int handle_kvm_pio(unsigned int rw, unsigned int port, const void *data)
{
	struct kvmrt_vcpu_key vk;
	struct kvmrt_vcpu_state *v;
	__u8 val = 0;

	if (port != targ_hint_port || !rw) /* rw: 1 for out */
		return 0;
	hit(P_KVM_PIO);
	v = current_vcpu(&vk, (__u32)bpf_get_current_pid_tgid());
	if (!v)
		return 0;
	bpf_probe_read_kernel(&val, 1, data);
	ctl_event(REC_CTL_HINT, &vk, v, bpf_ktime_get_ns(), val);
	return 0;
}

KVMRT_TP(kvm_pio, unsigned int rw, unsigned int port, unsigned int size, unsigned int count,
	 const void *data)
{
	return handle_kvm_pio(rw, port, data);
}

KVMRT_RAW(kvm_pio, unsigned int rw, unsigned int port, unsigned int size, unsigned int count,
	  const void *data)
{
	return handle_kvm_pio(rw, port, data);
}
