// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "store.h"
#include "vmreg.h"

int kvs_table__init(struct kvs_table *t, size_t key_size, size_t val_size, __u32 max)
{
	memset(t, 0, sizeof(*t));
	t->key_size = key_size;
	t->val_size = val_size;
	t->max = max;
	for (t->cap = 16; t->cap < 2 * max; t->cap *= 2)
		;
	t->keys = calloc(t->cap, key_size);
	t->vals = calloc(t->cap, sizeof(*t->vals));
	return t->keys && t->vals ? 0 : -ENOMEM;
}

void kvs_table__free(struct kvs_table *t)
{
	__u32 i;

	if (t->vals)
		for (i = 0; i < t->cap; i++)
			free(t->vals[i]);
	free(t->vals);
	free(t->keys);
	memset(t, 0, sizeof(*t));
}

/* FNV-1a over the key's bytes */
static __u32 key_hash(const void *key, size_t n)
{
	const unsigned char *p = key;
	__u32 h = 2166136261u;

	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/* The slot holding key, or the empty slot where it would go. */
static __u32 table_slot(const struct kvs_table *t, const void *key)
{
	__u32 i = key_hash(key, t->key_size) & (t->cap - 1);

	while (t->vals[i] && memcmp(t->keys + (size_t)i * t->key_size, key, t->key_size))
		i = (i + 1) & (t->cap - 1);
	return i;
}

void *kvs_table__get(const struct kvs_table *t, const void *key)
{
	return t->vals[table_slot(t, key)];
}

/* The value for key, created zeroed if absent and there is room. */
void *kvs_table__add(struct kvs_table *t, const void *key, int *added)
{
	__u32 i = table_slot(t, key);

	if (added)
		*added = 0;
	if (t->vals[i])
		return t->vals[i];
	if (t->n >= t->max)
		return NULL;
	t->vals[i] = calloc(1, t->val_size);
	if (!t->vals[i])
		return NULL;
	memcpy(t->keys + (size_t)i * t->key_size, key, t->key_size);
	t->n++;
	if (added)
		*added = 1;
	return t->vals[i];
}

void *kvs_table__at(const struct kvs_table *t, __u32 i, const void **key)
{
	if (i >= t->cap || !t->vals[i])
		return NULL;
	if (key)
		*key = t->keys + (size_t)i * t->key_size;
	return t->vals[i];
}

int kvs__init(struct kvs *s, __u64 threshold_ns, kvs_record_fn fn, void *ctx)
{
	memset(s, 0, sizeof(*s));
	s->threshold_ns = threshold_ns;
	s->armed = 1;
	s->on_record = fn;
	s->ctx = ctx;
	/* the capacities of the BPF maps (bpf/kvmrt.bpf.c) */
	if (kvs_table__init(&s->threads, sizeof(__u32), sizeof(struct kvmrt_thread), KVMRT_MAX_THREADS) ||
	    kvs_table__init(&s->vcpus, sizeof(struct kvmrt_vcpu_key), sizeof(struct kvmrt_vcpu_state),
		       KVMRT_MAX_VCPUS) ||
	    kvs_table__init(&s->vms, sizeof(__u32), sizeof(__u32), 1024) ||
	    kvs_table__init(&s->injectors, sizeof(__u32), sizeof(__u32), 1024) ||
	    kvs_table__init(&s->rt_vcpus, sizeof(struct kvmrt_vcpu_key), sizeof(__u32), 1024) ||
	    kvs_table__init(&s->exits, sizeof(struct kvmrt_exit_key), sizeof(struct kvmrt_exit_val),
		       KVMRT_MAX_EXIT_KEYS) ||
	    kvs_table__init(&s->apicv, sizeof(__u32), sizeof(struct kvmrt_apicv), 1024)) {
		kvs__free(s);
		return -ENOMEM;
	}
	return 0;
}

void kvs__free(struct kvs *s)
{
	kvs_table__free(&s->threads);
	kvs_table__free(&s->vcpus);
	kvs_table__free(&s->vms);
	kvs_table__free(&s->injectors);
	kvs_table__free(&s->rt_vcpus);
	kvs_table__free(&s->exits);
	kvs_table__free(&s->apicv);
	free(s->cpus);
	s->cpus = NULL;
	s->ncpus = 0;
}

int kvs__event(struct kvs *s, __u64 now, __u32 cpu, __u32 tgid, __u32 tid, int kthread)
{
	if (cpu >= s->ncpus) {
		struct kvmrt_cpu_ctx *c;
		__u32 n = cpu + 1;

		if (cpu >= KVS_MAX_CPUS)
			return -1;
		c = realloc(s->cpus, n * sizeof(*c));
		if (!c)
			return -1;
		memset(c + s->ncpus, 0, (n - s->ncpus) * sizeof(*c));
		s->cpus = c;
		s->ncpus = n;
	}
	s->now = now;
	s->cpu = cpu;
	s->current = (__u64)tgid << 32 | tid;
	s->kthread = kthread;
	s->comm = NULL;
	s->prev_runnable = 0;
	memset(s->prev_comm, 0, sizeof(s->prev_comm));
	s->pio_value = 0;
	s->vcpu_id = 0;
	s->exit_reason = 0;
	return 0;
}

int kvs__add_thread(struct kvs *s, __u32 tid, __u32 tgid, __u32 vcpu)
{
	struct kvmrt_thread t = { .vk = { .tgid = tgid, .vcpu = vcpu } };

	kvs_thread_set(s, tid, &t);
	return kvs_thread(s, tid) ? 0 : -ENOSPC;
}

int kvs__add_injector(struct kvs *s, __u32 tid, __u32 tgid)
{
	__u32 *v = kvs_table__add(&s->injectors, &tid, NULL);

	if (!v)
		return -ENOSPC;
	*v = tgid;
	return 0;
}

int kvs__add_vm(struct kvs *s, __u32 tgid)
{
	__u32 *v = kvs_table__add(&s->vms, &tgid, NULL);

	if (!v)
		return -ENOSPC;
	*v = 1;
	return 0;
}

__u64 kvs_now(struct kvs *s)
{
	return s->now;
}

__u64 kvs_tick(struct kvs *s)
{
	return s->now / KVS_TICK_NS;
}

__u64 kvs_current(struct kvs *s)
{
	return s->current;
}

int kvs_current_kthread(struct kvs *s)
{
	return s->kthread;
}

void kvs__event_comm(struct kvs *s, const char *comm)
{
	s->comm = comm;
}

__u32 kvs_comm_owner(struct kvs *s)
{
	__u32 owner;

	return s->comm && vmreg_parse_injector_comm(s->comm, &owner) ? owner : 0;
}

__u32 kvs_cpu_id(struct kvs *s)
{
	return s->cpu;
}

int kvs_prev_runnable(struct kvs *s)
{
	return s->prev_runnable;
}

void kvs_prev_comm(struct kvs *s, char *comm)
{
	memcpy(comm, s->prev_comm, KVMRT_COMM_LEN);
}

__u8 kvs_pio_value(struct kvs *s)
{
	return s->pio_value;
}

__u32 kvs_vcpu_id(struct kvs *s)
{
	return s->vcpu_id;
}

__u32 kvs_tsc_khz(struct kvs *s)
{
	return s->tsc_khz;
}

__u32 kvs_exit_reason(struct kvs *s)
{
	return s->exit_reason;
}

struct kvmrt_cpu_ctx *kvs_this_cpu(struct kvs *s)
{
	return s->cpu < s->ncpus ? &s->cpus[s->cpu] : NULL;
}

struct kvmrt_thread *kvs_thread(struct kvs *s, __u32 tid)
{
	return kvs_table__get(&s->threads, &tid);
}

void kvs_thread_set(struct kvs *s, __u32 tid, const struct kvmrt_thread *t)
{
	struct kvmrt_thread *v = kvs_table__add(&s->threads, &tid, NULL);

	if (v)
		*v = *t;
}

struct kvmrt_vcpu_state *kvs_vcpu(struct kvs *s, const struct kvmrt_vcpu_key *vk, int create)
{
	return create ? kvs_table__add(&s->vcpus, vk, NULL) : kvs_table__get(&s->vcpus, vk);
}

int kvs_vm_known(struct kvs *s, __u32 tgid)
{
	return kvs_table__get(&s->vms, &tgid) != NULL;
}

/* As bpf_map_update_elem(BPF_NOEXIST): 0 only when added now. */
int kvs_vm_add(struct kvs *s, __u32 tgid)
{
	int added;
	__u32 *v = kvs_table__add(&s->vms, &tgid, &added);

	if (!v)
		return -ENOSPC;
	*v = 1;
	return added ? 0 : -EEXIST;
}

__u32 *kvs_injector(struct kvs *s, __u32 tid)
{
	return kvs_table__get(&s->injectors, &tid);
}

__u32 *kvs_rt_vcpu(struct kvs *s, const struct kvmrt_vcpu_key *vk)
{
	return kvs_table__get(&s->rt_vcpus, vk);
}

struct kvmrt_apicv *kvs_apicv(struct kvs *s, __u32 tgid)
{
	return kvs_table__add(&s->apicv, &tgid, NULL);
}

struct kvmrt_exit_val *kvs_exit(struct kvs *s, const struct kvmrt_exit_key *k)
{
	return kvs_table__add(&s->exits, k, NULL);
}

void kvs_hit(struct kvs *s, __u32 prog)
{
	if (prog < P_NR)
		s->hits[prog]++;
}

void kvs_watch(struct kvs *s, __u32 cpu, int delta)
{
	if (cpu < KVS_WATCH_CPUS)
		s->watch[cpu] += delta;
}

int kvs_analyze(struct kvs *s)
{
	return s->analyze;
}

void kvs_lost(struct kvs *s)
{
	s->lost++;
}

/* One record at a time: the handlers submit each before reserving the
 * next, as they must with a BPF ring buffer. */
void *kvs_reserve(struct kvs *s, __u32 size)
{
	if (size > sizeof(s->rec) || s->rec_busy)
		return NULL;
	s->rec_busy = 1;
	return &s->rec;
}

void kvs_submit(struct kvs *s, void *rec, enum kvs_wake wake)
{
	const struct kvmrt_ctl_rec *r = rec;
	size_t len = r->type == REC_OUTLIER ? sizeof(struct kvmrt_outlier) : sizeof(struct kvmrt_ctl_rec);

	s->rec_busy = 0;
	if (s->on_record)
		s->on_record(s->ctx, rec, len);
}

__u64 kvs_threshold(struct kvs *s)
{
	return s->threshold_ns;
}

int kvs_control(struct kvs *s)
{
	return s->control;
}

int kvs_armed(struct kvs *s)
{
	return s->armed;
}

__u16 kvs_hint_port(struct kvs *s)
{
	return s->hint_port;
}
