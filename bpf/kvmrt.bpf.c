// SPDX-License-Identifier: GPL-2.0
/*
 * Guest interrupt latency, measured on tracepoints only.
 *
 * inject (kvm_apic_accept_irq, kvm_pic_set_irq, LAPIC hrtimer expiry)
 *   -> wake (sched_waking) -> run (sched_switch) -> deliver (kvm_inj_virq)
 *   -> end of interrupt (kvm_eoi, kvm_ack_irq for the PIC)
 *
 * What each handler does is include/handlers.h, which kvmrt report runs
 * too; this file only reads scalars out of kernel structs (CO-RE) and
 * gives that logic its storage: maps, per-CPU scratch, the ring buffer.
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
const volatile __u32 targ_lvtt_offset = KVMRT_APIC_LVTT;
const volatile __u16 targ_hint_port = 0;       /* kvmrt control: guest busy/idle hints */
const volatile __u8 targ_control = 0;          /* kvmrt control co-schedules: send its records */
const volatile __u8 targ_analyze = 0;          /* -a: watch CPUs, send what runs there */
/* Set by the agent once every program is attached and the maps hold the
 * VMs and vCPU threads it found: an interrupt injected before that is not
 * counted, so none is seen in part (say its injection without its source). */
volatile __u32 armed = 0;

#define TASK_RUNNING 0
#define PF_KTHREAD 0x00200000

/* The event context include/kvs.h's functions below read. */
struct kvs {
	__u64 now;		/* read once, on first use */
	struct task_struct *prev; /* sched_switch */
	bool preempt;
	const void *pio_data;	/* kvm_pio */
	const void *pio_data_at; /* kvm_pio_btf: where the pointer is, read if needed */
	struct kvm_vcpu *vcpu;	/* kvm_entry, kvm_exit */
	struct kvm_lapic *apic;	/* kvm_eoi */
	__u32 isa;		/* kvm_exit */
};

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

/* vCPU threads, tagged in their task: the scheduler programs' first test,
 * which for every other task (no storage at all) is one pointer read, no
 * hash lookup, no clock. Tagged here when a thread shows in its own
 * context that it runs a vCPU, and by the agent through a pidfd for every
 * thread in `threads` (which stays the reference: the raw_tp flavour and
 * the kvm_* events use it). A tag dies with its task. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u32);
} vcpu_tasks SEC(".maps");

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

/* Per VM: its APICv inhibit reasons. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct kvmrt_apicv);
} apicv SEC(".maps");

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

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kvmrt_cpu_ctx);
} cpu_ctxs SEC(".maps");

/* -a: per CPU, the traced vCPUs with an interrupt in flight there (a
 * plain array: set from the injecting CPU, read on the CPU itself;
 * mmap-able: the agent takes a forgotten VM's count back atomically). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, KVMRT_MAX_CPUS);
	__type(key, __u32);
	__type(value, __u64);
} watch SEC(".maps");

static struct kvmrt_vcpu_state zero_vcpu;

#define KVS(name) struct kvs name = {}

static __always_inline __u64 kvs_now(struct kvs *s)
{
	if (!s->now)
		s->now = bpf_ktime_get_ns();
	return s->now;
}

/* The scheduler tick: what a source note needs, without a clock read. */
static __always_inline __u64 kvs_tick(struct kvs *s)
{
	return bpf_jiffies64();
}

static __always_inline __u64 kvs_current(struct kvs *s)
{
	return bpf_get_current_pid_tgid();
}

static __always_inline int kvs_current_kthread(struct kvs *s)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	return !!(BPF_CORE_READ(task, flags) & PF_KTHREAD);
}

static __always_inline __u32 kvs_comm_owner(struct kvs *s)
{
	char c[16];
	__u32 i, start, n = 0, digits = 0;

	if (bpf_get_current_comm(c, sizeof(c)))
		return 0;
	if (c[0] == 'k' && c[1] == 'v' && c[2] == 'm' && c[3] == '-' && c[4] == 'p' &&
	    c[5] == 'i' && c[6] == 't' && c[7] == '/')
		start = 8;
	else if (c[0] == 'v' && c[1] == 'h' && c[2] == 'o' && c[3] == 's' && c[4] == 't' &&
		 c[5] == '-')
		start = 6;
	else
		return 0;
	/* the digits to the name's end; unrolled (6.1's verifier) */
#pragma unroll
	for (i = 0; i < 8; i++) {
		char ch = c[(start + i) & 15];

		if (ch < '0' || ch > '9')
			break;
		n = n * 10 + (__u32)(ch - '0');
		digits++;
	}
	if (!digits || (start + digits < 16 && c[(start + digits) & 15]))
		return 0; /* not digits to the end: some other thread's name */
	return n;
}

static __always_inline __u32 kvs_cpu_id(struct kvs *s)
{
	return bpf_get_smp_processor_id();
}

static __always_inline int kvs_prev_runnable(struct kvs *s)
{
	struct task_struct *prev = s->prev; /* a local: CO-RE relocates kernel types only */
	struct task_struct___pre514 *old = (void *)prev;

	if (s->preempt)
		return 1;
	/* task_struct::state became __state in 5.14 */
	if (bpf_core_field_exists(prev->__state))
		return BPF_CORE_READ(prev, __state) == TASK_RUNNING;
	return BPF_CORE_READ(old, state) == TASK_RUNNING;
}

static __always_inline void kvs_prev_comm(struct kvs *s, char *comm)
{
	struct task_struct *prev = s->prev;

	bpf_probe_read_kernel_str(comm, KVMRT_COMM_LEN, __builtin_preserve_access_index(&prev->comm));
}

static __always_inline __u8 kvs_pio_value(struct kvs *s)
{
	const void *data = s->pio_data;
	__u8 val = 0;

	if (!data && s->pio_data_at) /* only for the hint port: see kvm_pio_btf */
		bpf_probe_read_kernel(&data, sizeof(data), s->pio_data_at);
	bpf_probe_read_kernel(&val, 1, data);
	return val;
}

/* The basic exit reason: in the vendor's vCPU struct, which lives in the
 * kvm_intel / kvm_amd module BTF (absent on an emulating host). */
static __always_inline __u32 exit_reason_of(struct kvm_vcpu *vcpu, __u32 isa)
{
	__u32 reason = 0;

	if (isa == ISA_VMX && bpf_core_type_exists(struct vcpu_vmx___kvmrt)) {
		struct vcpu_vmx___kvmrt *vmx =
			(void *)vcpu - bpf_core_field_offset(struct vcpu_vmx___kvmrt, vcpu);

		reason = BPF_CORE_READ(vmx, exit_reason.full) & 0xffff;
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

static __always_inline __u32 kvs_exit_reason(struct kvs *s)
{
	return exit_reason_of(s->vcpu, s->isa);
}

static __always_inline __u32 kvs_vcpu_id(struct kvs *s)
{
	struct kvm_lapic *apic = s->apic; /* locals: CO-RE relocates kernel types only */
	struct kvm_vcpu *vcpu = s->vcpu;

	return apic ? BPF_CORE_READ(apic, vcpu, vcpu_id) : BPF_CORE_READ(vcpu, vcpu_id);
}

static __always_inline struct kvmrt_apicv *kvs_apicv(struct kvs *s, __u32 tgid)
{
	struct kvmrt_apicv *a = bpf_map_lookup_elem(&apicv, &tgid), zero = {};

	if (a)
		return a;
	bpf_map_update_elem(&apicv, &tgid, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&apicv, &tgid);
}

static __always_inline __u32 kvs_tsc_khz(struct kvs *s)
{
	struct kvm_vcpu *vcpu = s->vcpu;

	return vcpu ? BPF_CORE_READ(vcpu, arch.virtual_tsc_khz) : 0;
}

static __always_inline struct kvmrt_cpu_ctx *kvs_this_cpu(struct kvs *s)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&cpu_ctxs, &zero);
}

static __always_inline struct kvmrt_thread *kvs_thread(struct kvs *s, __u32 tid)
{
	return bpf_map_lookup_elem(&threads, &tid);
}

/* The current thread runs a vCPU: tag its task (a lookup when it has been
 * already, which is nearly always), the scheduler programs' filter. Done
 * when a thread is learned in its own context, not on every event. */
static __always_inline void kvs_tag_current(struct kvs *s)
{
	bpf_task_storage_get(&vcpu_tasks, bpf_get_current_task_btf(), 0,
			     BPF_LOCAL_STORAGE_GET_F_CREATE);
}

static __always_inline void kvs_thread_set(struct kvs *s, __u32 tid, const struct kvmrt_thread *t)
{
	bpf_map_update_elem(&threads, &tid, t, BPF_ANY);
	if (tid == (__u32)bpf_get_current_pid_tgid())
		kvs_tag_current(s);
}

static __always_inline int is_vcpu_task(struct task_struct *t)
{
	return bpf_task_storage_get(&vcpu_tasks, t, 0, 0) != 0;
}

static __always_inline struct kvmrt_vcpu_state *kvs_vcpu(struct kvs *s, const struct kvmrt_vcpu_key *vk,
							 int create)
{
	struct kvmrt_vcpu_state *v = bpf_map_lookup_elem(&vcpus, vk);

	if (!v && create) {
		bpf_map_update_elem(&vcpus, vk, &zero_vcpu, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&vcpus, vk);
	}
	/* a vCPU the agent filtered out (-p, -g, --vcpu): every handler
	 * stops here, as at a full map, before its clock read */
	return v && !v->ignored ? v : NULL;
}

static __always_inline int kvs_vm_known(struct kvs *s, __u32 tgid)
{
	return bpf_map_lookup_elem(&vms, &tgid) != NULL;
}

static __always_inline int kvs_vm_add(struct kvs *s, __u32 tgid)
{
	__u32 one = 1;

	return bpf_map_update_elem(&vms, &tgid, &one, BPF_NOEXIST);
}

static __always_inline __u32 *kvs_injector(struct kvs *s, __u32 tid)
{
	return bpf_map_lookup_elem(&injectors, &tid);
}

static __always_inline __u32 *kvs_rt_vcpu(struct kvs *s, const struct kvmrt_vcpu_key *vk)
{
	return bpf_map_lookup_elem(&rt_vcpus, vk);
}

static __always_inline struct kvmrt_exit_val *kvs_exit(struct kvs *s, const struct kvmrt_exit_key *k)
{
	struct kvmrt_exit_val *ev = bpf_map_lookup_elem(&exits, k), zero = {};

	if (!ev) {
		bpf_map_update_elem(&exits, k, &zero, BPF_NOEXIST);
		ev = bpf_map_lookup_elem(&exits, k);
	}
	return ev;
}

static __always_inline void kvs_hit(struct kvs *s, __u32 prog)
{
	__u64 *c = bpf_map_lookup_elem(&hits, &prog);

	if (c)
		(*c)++;
}

static __always_inline void kvs_lost(struct kvs *s)
{
	__u32 zero = 0;
	__u64 *l = bpf_map_lookup_elem(&lost, &zero);

	if (l)
		(*l)++;
}

static __always_inline void *kvs_reserve(struct kvs *s, __u32 size)
{
	return bpf_ringbuf_reserve(&events, size, 0);
}

static __always_inline void kvs_submit(struct kvs *s, void *rec, enum kvs_wake wake)
{
	bpf_ringbuf_submit(rec, wake == KVS_WAKE_NOW	 ? BPF_RB_FORCE_WAKEUP :
				wake == KVS_WAKE_LATER ? BPF_RB_NO_WAKEUP :
							 0);
}

static __always_inline __u64 kvs_threshold(struct kvs *s)
{
	return targ_threshold_ns;
}

static __always_inline int kvs_control(struct kvs *s)
{
	return targ_control;
}

static __always_inline int kvs_armed(struct kvs *s)
{
	return armed;
}

static __always_inline __u16 kvs_hint_port(struct kvs *s)
{
	return targ_hint_port;
}

static __always_inline int kvs_analyze(struct kvs *s)
{
	return targ_analyze;
}

static __always_inline void kvs_watch(struct kvs *s, __u32 cpu, int delta)
{
	__u64 *w = bpf_map_lookup_elem(&watch, &cpu);
	struct kvmrt_if_rec *r;

	if (!w || __sync_fetch_and_add(w, (__s64)delta) || delta < 0)
		return;
	/* watched from now: what the agent knew of that CPU is old (nothing
	 * was sent while it was not watched) */
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		kvs_lost(s);
		return;
	}
	__builtin_memset(r, 0, sizeof(*r));
	r->type = REC_IF;
	r->event = IFE_WATCH;
	r->t = kvs_now(s);
	r->cpu = cpu;
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
}

/* -a: a record of what runs on this CPU, if a vCPU is in flight here
 * (else NULL: nearly always, for one array lookup). Sent without a
 * wake-up (that would interrupt this very CPU): the agent reads the ring
 * often enough with -a, whatever woke it. */
static __always_inline struct kvmrt_if_rec *if_reserve(struct kvs *s, __u32 event, int always)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct kvmrt_if_rec *r;
	__u64 *w;

	if (!targ_analyze)
		return NULL;
	w = bpf_map_lookup_elem(&watch, &cpu);
	if (!always && (!w || !*w))
		return NULL;
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		kvs_lost(s);
		return NULL;
	}
	r->type = REC_IF;
	r->event = event;
	r->t = kvs_now(s); /* the handlers' time for the same event: equal */
	r->cpu = cpu;
	r->pid = (__u32)bpf_get_current_pid_tgid();
	r->a[0] = r->a[1] = r->a[2] = 0;
	r->name[0] = 0;
	return r;
}

static __always_inline void if_send(struct kvmrt_if_rec *r, __s64 a0, __s64 a1, __s64 a2)
{
	r->a[0] = a0;
	r->a[1] = a1;
	r->a[2] = a2;
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
}

/* s: the event's context, or NULL where no handler runs (its own) */
static __always_inline void if_event(struct kvs *s, __u32 event, __s64 a0, __s64 a1, __s64 a2)
{
	struct kvs own = {};
	struct kvmrt_if_rec *r = if_reserve(s ? s : &own, event, 0);

	if (r)
		if_send(r, a0, a1, a2);
}

#include "handlers.h"

/* ---- entry points: read the scalars, hand them to handlers.h ---- */

KVMRT_TP(kvm_set_irq, unsigned int gsi, int level, int irq_source_id)
{
	KVS(s);

	on_kvm_set_irq(&s, level);
	return 0;
}

KVMRT_RAW(kvm_set_irq, unsigned int gsi, int level, int irq_source_id)
{
	KVS(s);

	on_kvm_set_irq(&s, level);
	return 0;
}

KVMRT_TP(kvm_msi_set_irq, __u64 address, __u64 data)
{
	KVS(s);

	on_kvm_msi_set_irq(&s);
	return 0;
}

KVMRT_RAW(kvm_msi_set_irq, __u64 address, __u64 data)
{
	KVS(s);

	on_kvm_msi_set_irq(&s);
	return 0;
}

KVMRT_TP(kvm_ioapic_set_irq, __u64 e, int pin, bool coalesced)
{
	KVS(s);

	on_kvm_ioapic_set_irq(&s);
	return 0;
}

KVMRT_RAW(kvm_ioapic_set_irq, __u64 e, int pin, bool coalesced)
{
	KVS(s);

	on_kvm_ioapic_set_irq(&s);
	return 0;
}

KVMRT_TP(kvm_apic_ipi, __u32 icr_low, __u32 dest_id)
{
	KVS(s);

	on_kvm_apic_ipi(&s);
	return 0;
}

KVMRT_RAW(kvm_apic_ipi, __u32 icr_low, __u32 dest_id)
{
	KVS(s);

	on_kvm_apic_ipi(&s);
	return 0;
}

KVMRT_TP(kvm_pic_set_irq, __u8 chip, __u8 pin, __u8 elcr, __u8 imr, bool coalesced)
{
	KVS(s);

	on_kvm_pic_set_irq(&s, chip, pin, imr, coalesced);
	return 0;
}

KVMRT_RAW(kvm_pic_set_irq, __u8 chip, __u8 pin, __u8 elcr, __u8 imr, bool coalesced)
{
	KVS(s);

	on_kvm_pic_set_irq(&s, chip, pin, imr, coalesced);
	return 0;
}

KVMRT_TP(kvm_apic_accept_irq, __u32 apicid, __u16 dm, __u16 tm, __u8 vec)
{
	KVS(s);

	on_kvm_apic_accept_irq(&s, apicid, dm, vec);
	return 0;
}

KVMRT_RAW(kvm_apic_accept_irq, __u32 apicid, __u16 dm, __u16 tm, __u8 vec)
{
	KVS(s);

	on_kvm_apic_accept_irq(&s, apicid, dm, vec);
	return 0;
}

/* An expiring LAPIC timer: its vCPU, process, thread and LVT register,
 * read through the kvm_lapic that embeds the hrtimer. */
static __always_inline int handle_hrtimer_expire_entry(struct hrtimer *timer, __u64 fn)
{
	struct kvm_lapic *apic;
	struct kvm_vcpu *vcpu;
	struct pid *pid;
	__u32 lvtt = 0, tid;
	void *regs;
	KVS(s);

	if (fn != targ_apic_timer_fn)
		return 0;
	kvs_now(&s); /* when it expired: before the reads below */
	apic = (void *)timer - bpf_core_field_offset(struct kvm_lapic, lapic_timer) -
	       bpf_core_field_offset(struct kvm_timer, timer);
	vcpu = BPF_CORE_READ(apic, vcpu);
	regs = BPF_CORE_READ(apic, regs);
	if (!vcpu || !regs) {
		kvs_hit(&s, P_HRTIMER_EXPIRE_ENTRY);
		return 0;
	}
	bpf_probe_read_kernel(&lvtt, sizeof(lvtt), regs + (targ_lvtt_offset & 0xff0));
	pid = BPF_CORE_READ(vcpu, pid);
	tid = pid ? BPF_CORE_READ(pid, numbers[0].nr) : 0;
	on_lapic_timer(&s, BPF_CORE_READ(vcpu, kvm, userspace_pid), tid, BPF_CORE_READ(vcpu, vcpu_id),
		       lvtt);
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

/* Fires for every hrtimer too: the LAPIC timers' end their expiry's hard
 * irq for the accept that follows (on_lapic_timer_done) */
KVMRT_TP(hrtimer_expire_exit, struct hrtimer *timer)
{
	KVS(s);

	if ((__u64)timer->function == targ_apic_timer_fn)
		on_lapic_timer_done(&s);
	return 0;
}

KVMRT_RAW(hrtimer_expire_exit, struct hrtimer *timer)
{
	KVS(s);

	if ((__u64)BPF_CORE_READ(timer, function) == targ_apic_timer_fn)
		on_lapic_timer_done(&s);
	return 0;
}

/* -a: a vCPU thread woken, from whatever CPU: where it waits is told by
 * its switch-in; when, by this */
static __always_inline void if_waking(struct kvs *s, __u32 tid)
{
	struct kvmrt_if_rec *r = if_reserve(s, IFE_WAKING, 1);

	if (r)
		if_send(r, tid, 0, 0);
}

/* -a: who runs next on a watched CPU */
static __always_inline void if_switch(struct kvs *s, struct task_struct *next)
{
	struct kvmrt_if_rec *r = if_reserve(s, IFE_SWITCH, 0);

	if (!r)
		return;
	bpf_probe_read_kernel_str(r->name, sizeof(r->name), __builtin_preserve_access_index(&next->comm));
	if_send(r, BPF_CORE_READ(next, pid), 0, 0);
}

/* The hottest events (every wakeup and context switch on the host): the
 * tp_btf flavour reads the pid directly instead of through a helper. */
KVMRT_TP(sched_waking, struct task_struct *p)
{
	KVS(s);

	if (!is_vcpu_task(p))
		return 0; /* nearly every wakeup on the host */
	on_sched_waking(&s, p->pid);
	if_waking(&s, p->pid);
	return 0;
}

KVMRT_RAW(sched_waking, struct task_struct *p)
{
	__u32 pid = BPF_CORE_READ(p, pid);
	struct kvmrt_thread *ti;
	KVS(s);

	on_sched_waking(&s, pid);
	if (targ_analyze && (ti = bpf_map_lookup_elem(&threads, &pid)) && !ti->ignored)
		if_waking(&s, pid);
	return 0;
}

KVMRT_TP(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct kvs s = { .prev = prev, .preempt = preempt };

	/* outliers (-T) need every switch, for blame; else only a vCPU's */
	if (!targ_threshold_ns && !is_vcpu_task(prev) && !is_vcpu_task(next))
		return 0;
	on_sched_switch(&s, prev->pid, next->pid);
	if_switch(&s, next); /* after: a vCPU's switch-in may watch this CPU now */
	return 0;
}

KVMRT_RAW(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct kvs s = { .prev = prev, .preempt = preempt };

	on_sched_switch(&s, BPF_CORE_READ(prev, pid), BPF_CORE_READ(next, pid));
	if_switch(&s, next);
	return 0;
}

KVMRT_TP(kvm_vcpu_wakeup, __u64 ns, bool waited, bool valid)
{
	KVS(s);

	on_kvm_vcpu_wakeup(&s, ns);
	if (!waited)
		if_event(&s, IFE_HALT_POLL, ns, 0, 0);
	return 0;
}

KVMRT_RAW(kvm_vcpu_wakeup, __u64 ns, bool waited, bool valid)
{
	KVS(s);

	on_kvm_vcpu_wakeup(&s, ns);
	if (!waited)
		if_event(&s, IFE_HALT_POLL, ns, 0, 0);
	return 0;
}

KVMRT_TP(kvm_inj_virq, unsigned int vector, bool soft, bool reinjected)
{
	KVS(s);

	on_kvm_inj_virq(&s, vector);
	return 0;
}

KVMRT_RAW(kvm_inj_virq, unsigned int vector, bool soft, bool reinjected)
{
	KVS(s);

	on_kvm_inj_virq(&s, vector);
	return 0;
}

/* -a: a vCPU's exits and entries on a watched CPU (the reason read again:
 * the exit handler reads it only for the vCPUs it traces) */
static __always_inline void if_vm_exit(struct kvs *s, struct kvm_vcpu *vcpu, __u32 isa)
{
	struct kvmrt_if_rec *r = if_reserve(s, IFE_VM_EXIT, 0);

	if (r)
		if_send(r, BPF_CORE_READ(vcpu, vcpu_id), isa, exit_reason_of(vcpu, isa));
}

static __always_inline void if_vm_entry(struct kvs *s, struct kvm_vcpu *vcpu)
{
	struct kvmrt_if_rec *r = if_reserve(s, IFE_VM_ENTRY, 0);

	if (r)
		if_send(r, BPF_CORE_READ(vcpu, vcpu_id), 0, 0);
}

KVMRT_TP(kvm_exit, struct kvm_vcpu *vcpu, __u32 isa)
{
	struct kvs s = { .vcpu = vcpu, .isa = isa };

	on_kvm_exit(&s, isa);
	if_vm_exit(&s, vcpu, isa);
	return 0;
}

KVMRT_RAW(kvm_exit, struct kvm_vcpu *vcpu, __u32 isa)
{
	struct kvs s = { .vcpu = vcpu, .isa = isa };

	on_kvm_exit(&s, isa);
	if_vm_exit(&s, vcpu, isa);
	return 0;
}

KVMRT_TP(kvm_entry, struct kvm_vcpu *vcpu)
{
	struct kvs s = { .vcpu = vcpu };

	on_kvm_entry(&s);
	if_vm_entry(&s, vcpu);
	return 0;
}

KVMRT_RAW(kvm_entry, struct kvm_vcpu *vcpu)
{
	struct kvs s = { .vcpu = vcpu };

	on_kvm_entry(&s);
	if_vm_entry(&s, vcpu);
	return 0;
}

KVMRT_TP(kvm_eoi, struct kvm_lapic *apic, int vector)
{
	struct kvs s = { .apic = apic };

	on_kvm_eoi(&s, vector);
	return 0;
}

KVMRT_RAW(kvm_eoi, struct kvm_lapic *apic, int vector)
{
	struct kvs s = { .apic = apic };

	on_kvm_eoi(&s, vector);
	return 0;
}

KVMRT_TP(kvm_ack_irq, unsigned int irqchip, unsigned int pin)
{
	KVS(s);

	on_kvm_ack_irq(&s, irqchip, pin);
	return 0;
}

KVMRT_RAW(kvm_ack_irq, unsigned int irqchip, unsigned int pin)
{
	KVS(s);

	on_kvm_ack_irq(&s, irqchip, pin);
	return 0;
}

/* The arguments by hand: 6.1's verifier (Debian 12's kernel) refuses a
 * tp_btf program that reads a void * argument ("arg4 type UNKNOWN is not a
 * struct"), so data is read from the context by a probe, and only where
 * it is used (the hint port's value), not on every port I/O. */
SEC("tp_btf/kvm_pio")
int kvm_pio_btf(unsigned long long *ctx)
{
	unsigned int rw = (unsigned int)ctx[0], port = (unsigned int)ctx[1];
	struct kvs s = { .pio_data_at = &ctx[4] };

	on_kvm_pio(&s, rw, port);
	if_event(&s, IFE_PIO, rw, port, 0);
	return 0;
}

KVMRT_RAW(kvm_pio, unsigned int rw, unsigned int port, unsigned int size, unsigned int count,
	  const void *data)
{
	struct kvs s = { .pio_data = data };

	on_kvm_pio(&s, rw, port);
	if_event(&s, IFE_PIO, rw, port, 0);
	return 0;
}

KVMRT_TP(kvm_apicv_accept_irq, __u32 apicid, __u16 dm, __u16 tm, __u8 vec)
{
	KVS(s);

	on_kvm_apicv_accept_irq(&s, apicid, vec);
	return 0;
}

KVMRT_RAW(kvm_apicv_accept_irq, __u32 apicid, __u16 dm, __u16 tm, __u8 vec)
{
	KVS(s);

	on_kvm_apicv_accept_irq(&s, apicid, vec);
	return 0;
}

KVMRT_TP(kvm_pv_eoi, struct kvm_lapic *apic, int vector)
{
	struct kvs s = { .apic = apic };

	on_kvm_pv_eoi(&s, vector);
	return 0;
}

KVMRT_RAW(kvm_pv_eoi, struct kvm_lapic *apic, int vector)
{
	struct kvs s = { .apic = apic };

	on_kvm_pv_eoi(&s, vector);
	return 0;
}

KVMRT_TP(kvm_wait_lapic_expire, unsigned int vcpu_id, __s64 delta)
{
	KVS(s);

	on_kvm_wait_lapic_expire(&s, vcpu_id, delta);
	return 0;
}

KVMRT_RAW(kvm_wait_lapic_expire, unsigned int vcpu_id, __s64 delta)
{
	KVS(s);

	on_kvm_wait_lapic_expire(&s, vcpu_id, delta);
	return 0;
}

KVMRT_TP(kvm_apicv_inhibit_changed, int reason, bool set, unsigned long inhibits)
{
	KVS(s);

	on_kvm_apicv_inhibit_changed(&s, inhibits);
	return 0;
}

KVMRT_RAW(kvm_apicv_inhibit_changed, int reason, bool set, unsigned long inhibits)
{
	KVS(s);

	on_kvm_apicv_inhibit_changed(&s, inhibits);
	return 0;
}

/* ---- -a: the auto-analysis's programs (KVMRT_ANALYSIS_TRACEPOINTS):
 * loaded only with -a, each a record on a watched CPU, nothing else ---- */

static __always_inline void if_irq(int irq, struct irqaction *action, int entry)
{
	KVS(s);
	struct kvmrt_if_rec *r = if_reserve(&s, entry ? IFE_IRQ_ENTRY : IFE_IRQ_EXIT, 0);

	if (!r)
		return;
	if (entry)
		bpf_probe_read_kernel_str(r->name, sizeof(r->name), BPF_CORE_READ(action, name));
	if_send(r, irq, 0, 0);
}

KVMRT_TP(irq_handler_entry, int irq, struct irqaction *action)
{
	if_irq(irq, action, 1);
	return 0;
}

KVMRT_RAW(irq_handler_entry, int irq, struct irqaction *action)
{
	if_irq(irq, action, 1);
	return 0;
}

KVMRT_TP(irq_handler_exit, int irq, struct irqaction *action, int ret)
{
	if_irq(irq, action, 0);
	return 0;
}

KVMRT_RAW(irq_handler_exit, int irq, struct irqaction *action, int ret)
{
	if_irq(irq, action, 0);
	return 0;
}

KVMRT_TP(softirq_entry, unsigned int vec_nr)
{
	if_event(NULL, IFE_SOFTIRQ_ENTRY, vec_nr, 0, 0);
	return 0;
}

KVMRT_RAW(softirq_entry, unsigned int vec_nr)
{
	if_event(NULL, IFE_SOFTIRQ_ENTRY, vec_nr, 0, 0);
	return 0;
}

KVMRT_TP(softirq_exit, unsigned int vec_nr)
{
	if_event(NULL, IFE_SOFTIRQ_EXIT, vec_nr, 0, 0);
	return 0;
}

KVMRT_RAW(softirq_exit, unsigned int vec_nr)
{
	if_event(NULL, IFE_SOFTIRQ_EXIT, vec_nr, 0, 0);
	return 0;
}

/* after the handler ran delta_ns: the agent names it from kallsyms */
KVMRT_TP(nmi_handler, void *handler, __s64 delta_ns, int handled)
{
	if_event(NULL, IFE_NMI, delta_ns, (__s64)handler, 0);
	return 0;
}

KVMRT_RAW(nmi_handler, void *handler, __s64 delta_ns, int handled)
{
	if_event(NULL, IFE_NMI, delta_ns, (__s64)handler, 0);
	return 0;
}

KVMRT_TP(kvm_userspace_exit, __u32 reason, int errno)
{
	if_event(NULL, IFE_TO_VMM, errno < 0 ? -1 : (__s64)reason, 0, 0);
	return 0;
}

KVMRT_RAW(kvm_userspace_exit, __u32 reason, int errno)
{
	if_event(NULL, IFE_TO_VMM, errno < 0 ? -1 : (__s64)reason, 0, 0);
	return 0;
}

KVMRT_TP(kvm_mmio, int type, int len, __u64 gpa, void *val)
{
	if_event(NULL, IFE_MMIO, type, gpa, 0);
	return 0;
}

KVMRT_RAW(kvm_mmio, int type, int len, __u64 gpa, void *val)
{
	if_event(NULL, IFE_MMIO, type, gpa, 0);
	return 0;
}

/* the x86 vectors, each an index in KVMRT_VECTORS (a counter in the list) */
#define VEC_INDEX(v, X) VEC_##v,
enum { KVMRT_VECTORS(VEC_INDEX, _) };
#define VEC_PROGS(v, X)                                                                            \
	KVMRT_TP(v##_entry, int vector)                                                            \
	{                                                                                          \
		if_event(NULL, IFE_VECTOR_ENTRY, VEC_##v, 0, 0);                                         \
		return 0;                                                                          \
	}                                                                                          \
	KVMRT_RAW(v##_entry, int vector)                                                           \
	{                                                                                          \
		if_event(NULL, IFE_VECTOR_ENTRY, VEC_##v, 0, 0);                                         \
		return 0;                                                                          \
	}                                                                                          \
	KVMRT_TP(v##_exit, int vector)                                                             \
	{                                                                                          \
		if_event(NULL, IFE_VECTOR_EXIT, VEC_##v, 0, 0);                                          \
		return 0;                                                                          \
	}                                                                                          \
	KVMRT_RAW(v##_exit, int vector)                                                            \
	{                                                                                          \
		if_event(NULL, IFE_VECTOR_EXIT, VEC_##v, 0, 0);                                          \
		return 0;                                                                          \
	}
KVMRT_VECTORS(VEC_PROGS, _)
