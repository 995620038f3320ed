// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "clock.h"
#include "collector.h"
#include "latency.h"
#include "episode.h"
#include "kvmrt.skel.h"
#include "log.h"

#define WATCH_BYTES (KVMRT_MAX_CPUS * sizeof(__u64)) /* a whole number of pages */

static int deliver(struct collector *c, void *data, size_t len)
{
	const struct kvmrt_outlier *r = data;

	if (len >= sizeof(struct kvmrt_ctl_rec) && r->type == REC_VM) {
		/* read /proc after the poll, not in the middle of the records
		 * (kvmrt control acts on the ones that follow) */
		if (c->nseen == c->seen_cap) {
			__u32 *seen = realloc(c->seen, (c->seen_cap * 2 + 16) * sizeof(*seen));

			if (!seen) {
				/* unknown to BPF again: its next event tells anew */
				bpf_map_delete_elem(bpf_map__fd(c->l->skel->maps.vms), &r->tgid);
				return 0;
			}
			c->seen = seen;
			c->seen_cap = c->seen_cap * 2 + 16;
		}
		c->seen[c->nseen++] = r->tgid;
		return 0;
	}
	if (len >= sizeof(struct kvmrt_ctl_rec) && r->type >= REC_CTL_INJECT &&
	    r->type <= REC_CTL_POSTED) {
		if (c->on_ctl)
			c->on_ctl(c, data, c->ctx);
		return 0;
	}
	if (len >= sizeof(struct kvmrt_if_rec) && r->type == REC_IF) {
		if (c->on_if)
			c->on_if(c, data, c->ctx);
		return 0;
	}
	if (len < sizeof(*r) || r->type != REC_OUTLIER)
		return 0;
	/* a VM seen first through its outliers still gets its name */
	vmreg__get(&c->reg, r->tgid);
	if (c->on_outlier)
		c->on_outlier(c, r, c->ctx);
	return 0;
}

/* How long a poll may go on delivering past its timeout. libbpf consumes
 * for as long as records keep coming: a flood faster than this reader (an
 * emulated CPU, -a on a busy host) would hold one poll, and a -d deadline,
 * for ever. */
#define POLL_BUDGET_NS 200000000ULL
#define POLL_BUDGET_SPENT (-ETIME)

static int on_record(void *ctx, void *data, size_t len)
{
	struct collector *c = ctx;

	deliver(c, data, len);
	if (c->poll_until && !(++c->nrecords & 63) && mono_ns() >= c->poll_until)
		return POLL_BUDGET_SPENT; /* libbpf stops here, this one consumed */
	return 0;
}

int collector__init(struct collector *c, struct loader *l, outlier_fn fn, void *ctx)
{
	struct kvmrt_bpf *s = l->skel;
	int err;

	memset(c, 0, sizeof(*c));
	c->l = l;
	c->on_outlier = fn;
	c->ctx = ctx;
	c->ncpus = libbpf_num_possible_cpus();
	if (c->ncpus <= 0)
		return c->ncpus ? c->ncpus : -EINVAL;
	/* room for a vCPU state, or one per-CPU value of the small maps */
	c->pcpu_buf = calloc(1, sizeof(struct kvmrt_vcpu_state) + c->ncpus * 8);
	if (!c->pcpu_buf)
		return -ENOMEM;
	vmreg__init(&c->reg, bpf_map__fd(s->maps.threads), bpf_map__fd(s->maps.vms),
		    bpf_map__fd(s->maps.injectors));
	/* -a's watch counts, shared with the BPF side (collector__forget) */
	c->watch = mmap(NULL, WATCH_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED,
			bpf_map__fd(s->maps.watch), 0);
	if (c->watch == MAP_FAILED)
		c->watch = NULL;
	c->rb = ring_buffer__new(bpf_map__fd(s->maps.events), on_record, c, NULL);
	if (!c->rb) {
		err = -errno;
		pr_err("create ring buffer reader: %s", strerror(-err));
		return err;
	}
	err = collector__refresh(c);
	/* count from here: all attached, the VMs and threads known */
	s->bss->armed = 1;
	return err;
}

void collector__on_ctl(struct collector *c, ctl_fn fn)
{
	c->on_ctl = fn;
}

void collector__on_if(struct collector *c, if_fn fn)
{
	c->on_if = fn;
}

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* Linux 6.9: a pidfd for any thread */
#endif

/* A pidfd for thread tid, or -1 (gone, or not a leader before 6.9) */
static int thread_pidfd(__u32 tid)
{
	int pfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);

	if (pfd < 0 && errno == EINVAL)
		pfd = (int)syscall(SYS_pidfd_open, tid, 0);
	return pfd;
}

/* Tag every thread in `threads` in its task (vcpu_tasks), through a pidfd:
 * the scheduler programs then pass it the first test. Threads the programs
 * learned in their own context are tagged already; those from /proc and
 * those learned from elsewhere (the LAPIC timer) are tagged here; those
 * the command filters out (ignored) are not. Before 6.9 only a
 * thread-group leader has a pidfd: the loader then leaves the scheduler
 * programs on the hash (loader.c). */
static void tag_vcpu_threads(struct collector *c)
{
	int fd = bpf_map__fd(c->l->skel->maps.threads);
	int tasks = bpf_map__fd(c->l->skel->maps.vcpu_tasks);
	__u32 tid, next, *prev = NULL, one = 1;
	struct kvmrt_thread ti;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		int pfd;

		tid = next;
		prev = &tid;
		if (c->keep && !bpf_map_lookup_elem(fd, &tid, &ti) && ti.ignored)
			continue;
		pfd = thread_pidfd(tid);
		if (pfd < 0)
			continue;
		bpf_map_update_elem(tasks, &pfd, &one, BPF_ANY);
		close(pfd);
	}
}

/* A vCPU the command does not show: its state and then its thread's entry
 * are marked ignored (the BPF side stops at the first it finds), and its
 * task untagged (the scheduler programs pass it by). One with an -a watch
 * (an interrupt in flight) is marked at a later pass, once its end gave
 * the watch back: the agent cannot take it back atomically. (One that
 * starts between the read and the write keeps its CPU watched for nothing:
 * the cost of -a there, not a wrong count.) */
void collector__ignore(struct collector *c, __u32 pid, __u32 vcpu, __u32 tid)
{
	int fd = bpf_map__fd(c->l->skel->maps.vcpus), tfd = bpf_map__fd(c->l->skel->maps.threads);
	struct kvmrt_vcpu_key k = { .tgid = pid, .vcpu = vcpu };
	struct kvmrt_thread ti = { .vk = k, .ignored = 1 }, old;
	struct kvmrt_vcpu_state *v = c->pcpu_buf;
	int pfd, have = !bpf_map_lookup_elem(fd, &k, v);

	if (have && v->watch1 && !v->ignored)
		return;
	if (!have || !v->ignored) {
		memset(v, 0, sizeof(*v));
		v->ignored = 1;
		if (bpf_map_update_elem(fd, &k, v, BPF_ANY))
			return; /* the map is full: it stays followed, shown or not */
		c->ignoring = 1;
	}
	if (!tid || (!bpf_map_lookup_elem(tfd, &tid, &old) && old.ignored))
		return;
	bpf_map_update_elem(tfd, &tid, &ti, BPF_ANY);
	pfd = thread_pidfd(tid);
	if (pfd >= 0) {
		bpf_map_delete_elem(bpf_map__fd(c->l->skel->maps.vcpu_tasks), &pfd);
		close(pfd);
	}
}

/* A vCPU the command shows that was ignored: a VM filtered out before
 * has given its pid to one that passes (export runs for months). Its
 * state starts afresh, its thread is followed again (and tagged by the
 * next pass). */
void collector__follow(struct collector *c, __u32 pid, __u32 vcpu, __u32 tid)
{
	int fd = bpf_map__fd(c->l->skel->maps.vcpus), tfd = bpf_map__fd(c->l->skel->maps.threads);
	struct kvmrt_vcpu_key k = { .tgid = pid, .vcpu = vcpu };
	struct kvmrt_thread ti = { .vk = k }, old;
	struct kvmrt_vcpu_state *v = c->pcpu_buf;

	if (!bpf_map_lookup_elem(fd, &k, v) && v->ignored)
		bpf_map_delete_elem(fd, &k);
	if (tid && !bpf_map_lookup_elem(tfd, &tid, &old) && old.ignored)
		bpf_map_update_elem(tfd, &tid, &ti, BPF_ANY);
}

static void ignore_unkept(struct collector *c)
{
	int i, j;

	if (!c->keep)
		return;
	for (i = 0; i < c->reg.n; i++) {
		struct vm_entry *e = c->reg.vms[i];

		for (j = 0; j < e->nvcpus; j++) {
			struct vm_vcpu *x = &e->vcpus[j];

			if (!c->keep(c->keep_ctx, e->pid, e->name, x->id))
				collector__ignore(c, e->pid, x->id, x->tid);
			else if (c->ignoring)
				collector__follow(c, e->pid, x->id, x->tid);
		}
	}
}

void collector__keep(struct collector *c, keep_fn keep, void *ctx)
{
	c->keep = keep;
	c->keep_ctx = ctx;
	ignore_unkept(c);
}

int collector__refresh(struct collector *c)
{
	int err = vmreg__scan(&c->reg);

	if (err)
		pr_warn("scan /proc for VMs: %s", strerror(-err));
	tag_vcpu_threads(c);
	ignore_unkept(c);
	return err;
}

void collector__read_seen(struct collector *c)
{
	int i;

	for (i = 0; i < c->nseen; i++)
		vmreg__seen(&c->reg, c->seen[i]);
	if (c->nseen) {
		tag_vcpu_threads(c);
		ignore_unkept(c);
	}
	c->nseen = 0;
}

int collector__poll(struct collector *c, int timeout_ms)
{
	int n, more;

	c->poll_until = mono_ns() + (__u64)timeout_ms * 1000000ULL + POLL_BUDGET_NS;
	n = ring_buffer__poll(c->rb, timeout_ms);
	/* and what came without a wake-up (-a's records: a wake-up would be
	 * an interrupt on the very CPU they watch) */
	if (n >= 0 && (more = ring_buffer__consume(c->rb)) > 0)
		n += more;
	c->poll_until = 0; /* a reader consuming the ring itself has no budget */
	collector__read_seen(c);
	if (n == POLL_BUDGET_SPENT)
		return 1; /* records delivered; the rest at the next poll */
	return n == -EINTR ? 0 : n;
}

const char *collector__vm_name(struct collector *c, __u32 pid)
{
	struct vm_entry *e = vmreg__get(&c->reg, pid);

	return e ? e->name : "?";
}

struct vm_stats *snapshot__vm(struct snapshot *s, __u32 pid)
{
	int i;

	for (i = 0; i < s->nvms; i++)
		if (s->vms[i].pid == pid)
			return &s->vms[i];
	return NULL;
}

struct vcpu_stats *snapshot__vcpu(struct vm_stats *vm, __u32 vcpu)
{
	int i;

	for (i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i].vcpu == vcpu)
			return &vm->vcpus[i];
	return NULL;
}

struct vm_stats *snapshot__add_vm(struct snapshot *s, __u32 pid)
{
	struct vm_stats *vm = snapshot__vm(s, pid), *vms;

	if (vm)
		return vm;
	vms = realloc(s->vms, (s->nvms + 1) * sizeof(*vms));
	if (!vms)
		return NULL;
	s->vms = vms;
	vm = &s->vms[s->nvms++];
	memset(vm, 0, sizeof(*vm));
	vm->pid = pid;
	return vm;
}

struct vcpu_stats *snapshot__add_vcpu(struct vm_stats *vm, __u32 vcpu)
{
	struct vcpu_stats *v = snapshot__vcpu(vm, vcpu), *vs;

	if (v)
		return v;
	vs = realloc(vm->vcpus, (vm->nvcpus + 1) * sizeof(*vs));
	if (!vs)
		return NULL;
	vm->vcpus = vs;
	v = &vm->vcpus[vm->nvcpus++];
	memset(v, 0, sizeof(*v));
	v->vcpu = vcpu;
	return v;
}

/* Is this process a VM? Known to the registry, or seen as one by BPF
 * (a thread of it ran a vCPU). Injections from other processes are noise. */
static int is_vm(struct collector *c, __u32 pid)
{
	__u32 val;

	if (vmreg__find(&c->reg, pid))
		return 1;
	return bpf_map_lookup_elem(bpf_map__fd(c->l->skel->maps.vms), &pid, &val) == 0;
}

static struct vcpu_stats *stats_for(struct collector *c, struct snapshot *s,
				    const struct kvmrt_vcpu_key *vk)
{
	struct vm_stats *vm;

	if (!is_vm(c, vk->tgid))
		return NULL;
	vm = snapshot__add_vm(s, vk->tgid);
	return vm ? snapshot__add_vcpu(vm, vk->vcpu) : NULL;
}

/* Histograms, counters and thread ids: all in the vCPU state map. */
static void read_vcpus(struct collector *c, struct snapshot *s)
{
	int fd = bpf_map__fd(c->l->skel->maps.vcpus);
	struct kvmrt_vcpu_key k, next, *prev = NULL;
	struct kvmrt_vcpu_state *st = c->pcpu_buf;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct vcpu_stats *v;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, st))
			continue;
		if (st->ignored) { /* not shown; its VM is, to be forgotten once gone */
			snapshot__add_vm(s, k.tgid);
			continue;
		}
		v = stats_for(c, s, &k);
		if (!v)
			continue;
		memcpy(v->h, st->h, sizeof(v->h));
		v->c = st->c;
		if (st->tid)
			v->tid = st->tid;
	}
}

int collector__vcpu(struct collector *c, __u32 tgid, __u32 vcpu, struct vcpu_stats *out)
{
	struct kvmrt_vcpu_key k = { .tgid = tgid, .vcpu = vcpu };
	struct kvmrt_vcpu_state *st = c->pcpu_buf;

	if (bpf_map_lookup_elem(bpf_map__fd(c->l->skel->maps.vcpus), &k, st))
		return -errno;
	if (st->ignored)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->vcpu = vcpu;
	out->tid = st->tid;
	memcpy(out->h, st->h, sizeof(out->h));
	out->c = st->c;
	return 0;
}

static void read_exits(struct collector *c, struct snapshot *s)
{
	int fd = bpf_map__fd(c->l->skel->maps.exits);
	struct kvmrt_exit_key k, next, *prev = NULL;
	struct kvmrt_exit_val x;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct vcpu_stats *v;
		struct exit_stat *e;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &x))
			continue;
		v = stats_for(c, s, &k.vk);
		if (!v)
			continue;
		e = realloc(v->exits, (v->nexits + 1) * sizeof(*e));
		if (!e)
			continue;
		v->exits = e;
		e = &v->exits[v->nexits++];
		memset(e, 0, sizeof(*e));
		e->isa = k.isa;
		e->reason = k.reason;
		e->count = x.count;
		e->sum_ns = x.sum_ns;
	}
}

/* APICv inhibit reasons per VM. */
static void read_apicv(struct collector *c, struct snapshot *s)
{
	int fd = bpf_map__fd(c->l->skel->maps.apicv);
	__u32 k, next, *prev = NULL;
	struct kvmrt_apicv a;
	struct vm_stats *vm;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &a) || !is_vm(c, k))
			continue;
		vm = snapshot__add_vm(s, k);
		if (vm)
			vm->apicv = a;
	}
}

/* vCPUs the registry knows that have had no events yet. */
static void read_registry(struct collector *c, struct snapshot *s)
{
	int i, j;

	for (i = 0; i < c->reg.n; i++) {
		struct vm_entry *e = c->reg.vms[i];
		struct vm_stats *vm;

		if (!e->alive && !snapshot__vm(s, e->pid))
			continue;
		vm = snapshot__add_vm(s, e->pid);
		if (!vm)
			continue;
		for (j = 0; j < e->nvcpus; j++) {
			struct vcpu_stats *v = snapshot__add_vcpu(vm, e->vcpus[j].id);

			if (v && !v->tid)
				v->tid = e->vcpus[j].tid;
		}
	}
}

static int cmp_vm(const void *a, const void *b)
{
	const struct vm_stats *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int cmp_vcpu(const void *a, const void *b)
{
	const struct vcpu_stats *x = a, *y = b;

	return x->vcpu < y->vcpu ? -1 : x->vcpu > y->vcpu;
}

int collector__snapshot(struct collector *c, struct snapshot *s)
{
	int fd, i, cpu;
	__u32 p, zero = 0;

	memset(s, 0, sizeof(*s));
	s->t_ns = mono_ns();
	read_vcpus(c, s);
	read_exits(c, s);
	read_apicv(c, s);
	read_registry(c, s);

	fd = bpf_map__fd(c->l->skel->maps.hits);
	for (p = 0; p < P_NR; p++) {
		if (bpf_map_lookup_elem(fd, &p, c->pcpu_buf))
			continue;
		for (cpu = 0; cpu < c->ncpus; cpu++)
			s->hits[p] += ((__u64 *)c->pcpu_buf)[cpu];
	}
	for (p = 0; p < P_NR; p++) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int pfd = loader__prog_fd(c->l, p);

		memset(&info, 0, sizeof(info));
		if (pfd < 0 || bpf_obj_get_info_by_fd(pfd, &info, &len))
			continue;
		s->bpf_runs[p] = info.run_cnt;
		s->bpf_run_ns[p] = info.run_time_ns;
		s->bpf_missed[p] = info.recursion_misses;
	}
	fd = bpf_map__fd(c->l->skel->maps.lost);
	if (!bpf_map_lookup_elem(fd, &zero, c->pcpu_buf))
		for (cpu = 0; cpu < c->ncpus; cpu++)
			s->lost += ((__u64 *)c->pcpu_buf)[cpu];

	for (i = 0; i < s->nvms; i++) {
		struct vm_entry *e = vmreg__get(&c->reg, s->vms[i].pid);

		if (e) {
			snprintf(s->vms[i].name, sizeof(s->vms[i].name), "%s", e->name);
			s->vms[i].alive = e->alive;
		}
	}
	snapshot__sort(s);
	return 0;
}

void snapshot__sort(struct snapshot *s)
{
	int i;

	/* (qsort may not take NULL, even for none: a VM with no vCPU seen) */
	for (i = 0; i < s->nvms; i++)
		if (s->vms[i].nvcpus)
			qsort(s->vms[i].vcpus, s->vms[i].nvcpus, sizeof(struct vcpu_stats), cmp_vcpu);
	if (s->nvms)
		qsort(s->vms, s->nvms, sizeof(struct vm_stats), cmp_vm);
}

int snapshot__diff(const struct snapshot *a, const struct snapshot *b, struct snapshot *d)
{
	int i, j, m, p;

	memset(d, 0, sizeof(*d));
	d->t_ns = b->t_ns;
	d->lost = b->lost - a->lost;
	for (p = 0; p < P_NR; p++) {
		d->hits[p] = b->hits[p] - a->hits[p];
		d->bpf_runs[p] = b->bpf_runs[p] - a->bpf_runs[p];
		d->bpf_run_ns[p] = b->bpf_run_ns[p] - a->bpf_run_ns[p];
		d->bpf_missed[p] = b->bpf_missed[p] - a->bpf_missed[p];
	}
	d->vms = calloc(b->nvms ? b->nvms : 1, sizeof(*d->vms));
	if (!d->vms)
		return -ENOMEM;
	d->nvms = b->nvms; /* zeroed: each VM whole, or empty, for snapshot__free */
	for (i = 0; i < b->nvms; i++) {
		const struct vm_stats *bv = &b->vms[i];
		struct vm_stats *av = snapshot__vm((struct snapshot *)a, bv->pid), *dv = &d->vms[i];

		*dv = *bv;
		dv->apicv.changes = bv->apicv.changes - (av ? av->apicv.changes : 0);
		/* counts only once what they count is there: a failure below
		 * leaves d whole for snapshot__free */
		dv->nvcpus = 0;
		dv->vcpus = calloc(bv->nvcpus ? bv->nvcpus : 1, sizeof(*dv->vcpus));
		if (!dv->vcpus)
			goto nomem;
		dv->nvcpus = bv->nvcpus;
		for (j = 0; j < bv->nvcpus; j++) {
			const struct vcpu_stats *bc = &bv->vcpus[j];
			struct vcpu_stats *ac = av ? snapshot__vcpu(av, bc->vcpu) : NULL;
			struct vcpu_stats *dc = &dv->vcpus[j];
			static const struct vcpu_stats empty;

			if (!ac)
				ac = (struct vcpu_stats *)&empty;
			dc->vcpu = bc->vcpu;
			dc->tid = bc->tid;
			for (m = 0; m < M_NR; m++)
				hist_sub(&dc->h[m], &ac->h[m], &bc->h[m]);
			for (p = 0; p < SRC_NR; p++)
				dc->c.injected[p] = bc->c.injected[p] - ac->c.injected[p];
			dc->c.coalesced = bc->c.coalesced - ac->c.coalesced;
			dc->c.completed = bc->c.completed - ac->c.completed;
			dc->c.dropped = bc->c.dropped - ac->c.dropped;
			for (p = 0; p < END_NR; p++)
				dc->c.ends[p] = bc->c.ends[p] - ac->c.ends[p];
			dc->c.posted_in_guest = bc->c.posted_in_guest - ac->c.posted_in_guest;
			dc->c.wakeups = bc->c.wakeups - ac->c.wakeups;
			dc->c.halted_ns = bc->c.halted_ns - ac->c.halted_ns;
			/* exits: interval counts per reason */
			dc->exits = calloc(bc->nexits ? bc->nexits : 1, sizeof(*dc->exits));
			if (!dc->exits)
				goto nomem;
			dc->nexits = bc->nexits;
			for (p = 0; p < bc->nexits; p++) {
				const struct exit_stat *be = &bc->exits[p];
				__u64 ac_cnt = 0, ac_sum = 0;
				int q;

				for (q = 0; q < ac->nexits; q++)
					if (ac->exits[q].isa == be->isa && ac->exits[q].reason == be->reason) {
						ac_cnt = ac->exits[q].count;
						ac_sum = ac->exits[q].sum_ns;
					}
				dc->exits[p] = *be;
				dc->exits[p].count = be->count - ac_cnt;
				dc->exits[p].sum_ns = be->sum_ns - ac_sum;
			}
		}
	}
	return 0;
nomem:
	snapshot__free(d); /* an empty snapshot: its users show nothing */
	return -ENOMEM;
}

void snapshot__free(struct snapshot *s)
{
	int i, j;

	for (i = 0; i < s->nvms; i++) {
		for (j = 0; j < s->vms[i].nvcpus; j++)
			free(s->vms[i].vcpus[j].exits);
		free(s->vms[i].vcpus);
	}
	free(s->vms);
	memset(s, 0, sizeof(*s));
}

/* Delete the keys of map fd whose leading __u32 (the tgid) is pid. */
static void delete_keys(int fd, size_t key_size, __u32 pid)
{
	char k[64], next[64];
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(k, next, key_size);
		if (*(__u32 *)k == pid) {
			bpf_map_delete_elem(fd, k);
			prev = NULL; /* deleting breaks the walk: start over */
			continue;
		}
		prev = k;
	}
}

/* -a: a forgotten VM's vCPUs still watching a CPU (an interrupt in flight
 * when it ended) give their count back, atomically against the BPF side's */
static void unwatch_vm(struct collector *c, __u32 pid)
{
	int fd = bpf_map__fd(c->l->skel->maps.vcpus);
	struct kvmrt_vcpu_key k, *prev = NULL;
	struct kvmrt_vcpu_state *v = c->pcpu_buf;

	if (!c->watch)
		return;
	while (bpf_map_get_next_key(fd, prev, &k) == 0) {
		prev = &k;
		if (k.tgid != pid || bpf_map_lookup_elem(fd, &k, v))
			continue;
		if (v->watch1 && v->watch1 <= KVMRT_MAX_CPUS)
			__atomic_fetch_sub(&c->watch[v->watch1 - 1], 1, __ATOMIC_RELAXED);
	}
}

void collector__forget(struct collector *c, __u32 pid)
{
	struct kvmrt_bpf *s = c->l->skel;
	int fd = bpf_map__fd(s->maps.threads);
	__u32 tid, next, *prev = NULL;
	struct kvmrt_thread ti;

	unwatch_vm(c, pid);
	delete_keys(bpf_map__fd(s->maps.vcpus), sizeof(struct kvmrt_vcpu_key), pid);
	delete_keys(bpf_map__fd(s->maps.exits), sizeof(struct kvmrt_exit_key), pid);
	bpf_map_delete_elem(bpf_map__fd(s->maps.apicv), &pid);
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		tid = next;
		if (!bpf_map_lookup_elem(fd, &tid, &ti) && ti.vk.tgid == pid) {
			bpf_map_delete_elem(fd, &tid);
			prev = NULL;
			continue;
		}
		prev = &tid;
	}
	bpf_map_delete_elem(bpf_map__fd(s->maps.vms), &pid);
	vmreg__remove(&c->reg, pid);
}

void collector__destroy(struct collector *c)
{
	if (c->watch)
		munmap(c->watch, WATCH_BYTES);
	c->watch = NULL;
	ring_buffer__free(c->rb);
	c->rb = NULL;
	vmreg__free(&c->reg);
	free(c->seen);
	c->seen = NULL;
	free(c->pcpu_buf);
	c->pcpu_buf = NULL;
}
