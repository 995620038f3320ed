// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "escape.h"
#include "names.h"
#include "recording.h"

static const char *const extra_kinds[RK_NR - P_NR] = {
	[RK_HRTIMER_START - P_NR] = "hrtimer_start",
	[RK_KVM_APIC - P_NR] = "kvm_apic",
	[RK_IRQ_ENTRY - P_NR] = "irq_handler_entry",
	[RK_IRQ_EXIT - P_NR] = "irq_handler_exit",
	[RK_SOFTIRQ_ENTRY - P_NR] = "softirq_entry",
	[RK_SOFTIRQ_EXIT - P_NR] = "softirq_exit",
	[RK_NMI - P_NR] = "nmi_handler",
	[RK_VECTOR_ENTRY - P_NR] = "local_timer_entry",
	[RK_VECTOR_EXIT - P_NR] = "local_timer_exit",
	[RK_USERSPACE_EXIT - P_NR] = "kvm_userspace_exit",
	[RK_MMIO - P_NR] = "kvm_mmio",
};

#define NVECTORS KVMRT_NVECTORS /* tracepoints.h: KVMRT_VECTORS */

int rec_vector_kind(const char *name, char *label)
{
	size_t i, n;

	for (i = 0; i < NVECTORS; i++) {
		n = strlen(vector_name(i));
		if (strncmp(name, vector_name(i), n))
			continue;
		if (strcmp(name + n, "_entry") && strcmp(name + n, "_exit"))
			continue;
		snprintf(label, REC_NAME_LEN, "%s", vector_name(i));
		return name[n + 1] == 'e' && name[n + 2] == 'n' ? RK_VECTOR_ENTRY : RK_VECTOR_EXIT;
	}
	return RK_NONE;
}

const char *rec_vector_event(int i)
{
	static char buf[2 * NVECTORS][40];

	if (i < 0 || (size_t)i >= 2 * NVECTORS)
		return NULL;
	snprintf(buf[i], sizeof(buf[i]), "%s%s", vector_name(i / 2), i % 2 ? "_exit" : "_entry");
	return buf[i];
}

const char *rec_kind_name(int kind)
{
	if (kind >= 0 && kind < P_NR)
		return prog_tp_name(kind);
	if (kind >= P_NR && kind < RK_NR)
		return extra_kinds[kind - P_NR];
	return "?";
}

const char *rec_kind_label(int kind)
{
	return kind == RK_VECTOR_ENTRY ? "irq_vectors_entry" :
	       kind == RK_VECTOR_EXIT	? "irq_vectors_exit" :
					  rec_kind_name(kind);
}

int rec_kind_of(const char *name)
{
	char label[REC_NAME_LEN];
	int k;

	for (k = 0; k < RK_NR; k++)
		if (k != RK_VECTOR_ENTRY && k != RK_VECTOR_EXIT && !strcmp(name, rec_kind_name(k)))
			return k;
	return rec_vector_kind(name, label);
}

/* kvm_exit's reason as a recording prints it (the text between "reason "
 * and " rip"): a name (the kernel's __print_symbolic over VMX_EXIT_REASONS
 * or SVM_EXIT_REASONS; 2.6's lower-case VMX names; libtraceevent's kvm
 * plugin's, as trace-cmd report and perf script print them), a VMX name
 * followed by its flags ("INVALID_STATE FAILED_VMENTRY", 5.8 on), 0x... for
 * a code without a name (the kernel), "UNKNOWN (n)" (the plugin).
 * *isa_seen: the ISA the recording showed by a name of one ISA only; it
 * decides the names of both (2.6's "cpuid" is VMX's and SVM's). */
int rec_exit_reason(const char *text, __u32 *isa_seen, __u32 *isa, __u32 *reason)
{
	char first[64];
	__u32 code;
	char *end;
	int n;

	n = exit_reason_by_name(text, *isa_seen, isa, reason);
	if (!n && sscanf(text, "%63s", first) == 1 && strcmp(first, text))
		n = exit_reason_by_name(first, *isa_seen, isa, reason); /* flags after it */
	if (n == 1)
		*isa_seen = *isa;
	if (n)
		return 1;
	if (sscanf(text, "UNKNOWN (%u)", &code) == 1) {
		*isa = *isa_seen;
		*reason = code;
		return 1;
	}
	/* a code without a name, maybe with flags after it ("0x4a FAILED_VMENTRY") */
	if (sscanf(text, "%63s", first) != 1)
		return 0;
	code = (__u32)strtoul(first, &end, 0);
	if (end == first || *end)
		return 0;
	*isa = *isa_seen;
	*reason = code;
	return 1;
}

static struct rec_task *task_of(struct recording *r, __u32 pid, int add)
{
	int added;
	struct rec_task *t = add ? kvs_table__add(&r->tasks, &pid, &added) :
				   kvs_table__get(&r->tasks, &pid);

	if (t && add && added)
		t->tgid = -1;
	return t;
}

__s64 rec_tgid(struct recording *r, __u32 pid)
{
	struct rec_task *t = task_of(r, pid, 0);

	return pid == 0 ? 0 : t ? t->tgid : -1; /* the idle task's is 0 */
}

const char *rec_comm(struct recording *r, __u32 pid)
{
	struct rec_task *t = task_of(r, pid, 0);

	return t && t->comm[0] ? t->comm : NULL;
}

void rec_tgid_set(struct recording *r, __u32 pid, __u32 tgid)
{
	struct rec_task *t = task_of(r, pid, 1);

	if (t)
		t->tgid = tgid;
}

static void task_comm(struct recording *r, __u32 pid, const char *comm)
{
	struct rec_task *t;

	if (!comm[0] || !strcmp(comm, "<...>")) /* "<...>": a comm no longer saved */
		return;
	t = task_of(r, pid, 1);
	if (t)
		memcpy(t->comm, comm, KVMRT_COMM_LEN);
}

const char *rec_task_at(struct recording *r, __u32 i, __u32 *pid, __s64 *tgid)
{
	const void *key;
	struct rec_task *t = kvs_table__at(&r->tasks, i, &key);

	if (!t)
		return NULL;
	*pid = *(const __u32 *)key;
	*tgid = t->tgid;
	return t->comm;
}

static const char dat_magic[] = { 0x17, 0x08, 0x44, 't', 'r', 'a', 'c', 'i', 'n', 'g' };

struct recording *recording__open(const char *path, char *err, size_t errlen)
{
	struct recording *r;
	struct stat st;
	char head[sizeof(dat_magic)];
	size_t n;
	FILE *f;
	int ret;

	f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "open %s: %s", esc_str(path), strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		fclose(f);
		snprintf(err, errlen, "%s: not a regular file (a recording is read twice)", esc_str(path));
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r || kvs_table__init(&r->tasks, sizeof(__u32), sizeof(struct rec_task), REC_MAX_TASKS)) {
		if (r)
			kvs_table__free(&r->tasks);
		free(r);
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	n = fread(head, 1, sizeof(head), f);
	if (n == sizeof(head) && !memcmp(head, dat_magic, sizeof(head))) {
		fclose(f);
		ret = rec_dat_open(r, path, err, errlen);
	} else {
		rewind(f);
		ret = rec_text_open(r, f, err, errlen); /* owns f from here */
	}
	if (ret) {
		kvs_table__free(&r->tasks);
		free(r);
		return NULL;
	}
	return r;
}

int recording__next(struct recording *r, struct rec_event *e, char *err, size_t errlen)
{
	int ret = r->ops->next(r, e, err, errlen);

	if (ret <= 0)
		return ret;
	if (e->ts < r->last_ts) {
		snprintf(err, errlen, "timestamps go backwards at %llu ns: not one trace in time order",
			 (unsigned long long)e->ts);
		return -1;
	}
	r->last_ts = e->ts;
	if (e->kind >= 0 && e->kind < RK_NR) {
		r->has[e->kind] = 1;
		r->seen[e->kind]++;
	}
	/* what the event says of its threads */
	if (e->tgid >= 0 && e->pid)
		rec_tgid_set(r, e->pid, (__u32)e->tgid);
	else if (e->tgid < 0)
		e->tgid = rec_tgid(r, e->pid);
	task_comm(r, e->pid, e->comm);
	if (e->kind == P_SCHED_WAKING)
		task_comm(r, (__u32)e->waking.pid, e->tcomm);
	else if (e->kind == P_SCHED_SWITCH)
		task_comm(r, (__u32)e->sw.prev_pid, e->tcomm);
	return 1;
}

int recording__rewind(struct recording *r, char *err, size_t errlen)
{
	r->last_ts = 0;
	r->lost = 0;
	memset(r->seen, 0, sizeof(r->seen));
	return r->ops->rewind(r, err, errlen);
}

int recording__has(struct recording *r, int kind)
{
	return kind >= 0 && kind < RK_NR && r->has[kind];
}

int recording__has_tgids(struct recording *r)
{
	return r->has_tgids;
}

const char *recording__format(struct recording *r)
{
	return r->format;
}

void recording__close(struct recording *r)
{
	if (!r)
		return;
	r->ops->close(r);
	kvs_table__free(&r->tasks);
	free(r);
}
