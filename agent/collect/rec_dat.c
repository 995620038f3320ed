// SPDX-License-Identifier: GPL-2.0
/*
 * trace-cmd data files (trace.dat), read with Debian's libtracecmd and
 * libtraceevent: records of all CPUs merged in time order, fields by the
 * formats the file carries. The file holds no tgids (trace-cmd 3.1 saves
 * comms only): the recording commands of docs/report.md write saved_tgids into
 * the trace as trace_marker lines "kvmrt-tgids: PID:TGID ...", read here.
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <trace-cmd.h>
#include <event-parse.h>
#include "escape.h"
#include "recording.h"
#include "store.h"

/* Exported by libtracecmd.so.1 but declared in its private header only:
 * the next record of any CPU, in time order (a pull, not a callback, so
 * that report reads one event at a time). */
struct tep_record *tracecmd_read_next_data(struct tracecmd_input *handle, int *rec_cpu);

#define TRACE_FLAG_HARDIRQ 0x08 /* common_flags (kernel/trace/trace.h) */
#define MAX_FIELDS 5

/* How to read one kind of event: its id, and its fields with where each
 * goes in struct rec_event. */
struct dat_kind {
	int id;
	struct tep_format_field *f[MAX_FIELDS];
	size_t off[MAX_FIELDS];
	struct tep_format_field *comm;
	struct tep_format_field *next_comm; /* sched_switch */
};

/* The x86 irq vectors' events: one format (x86_irq_vector), many ids. */
#define MAX_VECTOR_EVENTS 32

struct dat {
	char *path;
	struct tracecmd_input *h;
	struct tep_handle *tep;
	struct dat_kind k[RK_NR];
	int vec_id[MAX_VECTOR_EVENTS];
	int print_id;	/* ftrace:print, for the tgid lines */
	struct tep_format_field *print_buf;
	__u64 apic_timer_fn; /* its address, from the file's kallsyms */
	int apic_timer_known;
};

/* Each kind's fields (recording.h's struct rec_event) by their names in the
 * kernel's event formats, in the order of the event's struct; a name "a|b"
 * takes whichever the kernel has, "?a" is read where the kernel has it (0
 * where it has not). */
struct dat_field {
	int kind;
	const char *names;
	size_t off;
};
#define F(kind, member, names) { kind, names, offsetof(struct rec_event, member) }
static const struct dat_field dat_fields[] = {
	F(P_KVM_SET_IRQ, set_irq.gsi, "gsi"), F(P_KVM_SET_IRQ, set_irq.level, "level"),
	F(P_KVM_PIC_SET_IRQ, pic.chip, "chip"), F(P_KVM_PIC_SET_IRQ, pic.pin, "pin"),
	F(P_KVM_PIC_SET_IRQ, pic.masked, "imr"), F(P_KVM_PIC_SET_IRQ, pic.coalesced, "coalesced"),
	F(P_KVM_APIC_ACCEPT_IRQ, accept.apicid, "apicid"), F(P_KVM_APIC_ACCEPT_IRQ, accept.dm, "dm"),
	F(P_KVM_APIC_ACCEPT_IRQ, accept.vec, "vec"),
	F(P_HRTIMER_EXPIRE_ENTRY, hrtimer.hrtimer, "hrtimer"),
	F(P_HRTIMER_EXPIRE_ENTRY, hrtimer.is_apic_timer, "function"),
	F(RK_HRTIMER_START, hrtimer.hrtimer, "hrtimer"),
	F(RK_HRTIMER_START, hrtimer.is_apic_timer, "function"),
	F(P_HRTIMER_EXPIRE_EXIT, hrtimer.hrtimer, "hrtimer"),
	F(P_SCHED_WAKING, waking.pid, "pid"),
	F(P_SCHED_SWITCH, sw.prev_pid, "prev_pid"), F(P_SCHED_SWITCH, sw.prev_runnable, "prev_state"),
	F(P_SCHED_SWITCH, sw.next_pid, "next_pid"),
	F(P_KVM_VCPU_WAKEUP, wakeup.ns, "ns"), F(P_KVM_VCPU_WAKEUP, wakeup.waited, "waited"),
	F(P_KVM_INJ_VIRQ, inj.vector, "vector|irq"), F(P_KVM_INJ_VIRQ, inj.reinjected, "?reinjected"),
	F(P_KVM_ENTRY, entry.vcpu_id, "vcpu_id"),
	F(P_KVM_EXIT, exit.vcpu_id, "vcpu_id"), F(P_KVM_EXIT, exit.isa, "isa"),
	F(P_KVM_EXIT, exit.reason, "exit_reason"),
	F(P_KVM_EOI, eoi.apicid, "apicid"), F(P_KVM_EOI, eoi.vector, "vector"),
	F(P_KVM_ACK_IRQ, ack.irqchip, "irqchip"), F(P_KVM_ACK_IRQ, ack.pin, "pin"),
	F(P_KVM_PIO, pio.out, "rw"), F(P_KVM_PIO, pio.port, "port"), F(P_KVM_PIO, pio.val, "val"),
	F(RK_KVM_APIC, apic.write, "rw"), F(RK_KVM_APIC, apic.reg, "reg"), F(RK_KVM_APIC, apic.val, "val"),
	F(P_KVM_APICV_ACCEPT_IRQ, accept.apicid, "apicid"), F(P_KVM_APICV_ACCEPT_IRQ, accept.dm, "dm"),
	F(P_KVM_APICV_ACCEPT_IRQ, accept.vec, "vec"),
	F(P_KVM_PV_EOI, eoi.apicid, "apicid"), F(P_KVM_PV_EOI, eoi.vector, "vector"),
	F(P_KVM_WAIT_LAPIC_EXPIRE, lapic_expire.vcpu_id, "vcpu_id"),
	F(P_KVM_WAIT_LAPIC_EXPIRE, lapic_expire.delta, "delta"),
	F(P_KVM_APICV_INHIBIT_CHANGED, inhibit.reason, "reason"),
	F(P_KVM_APICV_INHIBIT_CHANGED, inhibit.set, "set"),
	F(P_KVM_APICV_INHIBIT_CHANGED, inhibit.inhibits, "inhibits"),
	F(RK_IRQ_ENTRY, irq.irq, "irq"), F(RK_IRQ_EXIT, irq.irq, "irq"),
	F(RK_SOFTIRQ_ENTRY, softirq.vec, "vec"), F(RK_SOFTIRQ_EXIT, softirq.vec, "vec"),
	F(RK_NMI, nmi.delta_ns, "delta_ns"), F(RK_NMI, nmi.handler, "handler"),
	F(RK_VECTOR_ENTRY, vector.vector, "vector"), F(RK_VECTOR_EXIT, vector.vector, "vector"),
	F(RK_USERSPACE_EXIT, uexit.reason, "reason"), F(RK_USERSPACE_EXIT, uexit.err, "errno"),
	F(RK_MMIO, mmio.type, "type"), F(RK_MMIO, mmio.gpa, "gpa"),
};
#undef F

static const char *const systems[] = { "kvm", "sched", "timer", "irq", "nmi", "irq_vectors" };

static struct tep_format_field *find_field(struct tep_event *ev, const char *names)
{
	char buf[64], *p, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", names);
	for (p = strtok_r(buf, "|", &save); p; p = strtok_r(NULL, "|", &save)) {
		struct tep_format_field *f = tep_find_field(ev, p);

		if (f)
			return f;
	}
	return NULL;
}

/* The fields of kind k that ev has, in dk->f and dk->off; -1 if one it
 * needs is missing. */
static int find_fields(struct dat_kind *dk, int k, struct tep_event *ev)
{
	unsigned int j;
	int i = 0;

	for (j = 0; j < sizeof(dat_fields) / sizeof(dat_fields[0]); j++) {
		const char *name = dat_fields[j].names;
		struct tep_format_field *f;

		if (dat_fields[j].kind != k)
			continue;
		f = find_field(ev, name + (name[0] == '?'));
		if (!f && name[0] != '?')
			return -1;
		if (!f || i == MAX_FIELDS)
			continue;
		dk->f[i] = f;
		dk->off[i++] = dat_fields[j].off;
	}
	return 0;
}

static void find_kinds(struct recording *r, struct dat *d)
{
	struct tep_event *ev;
	unsigned int s;
	int k, i;

	for (k = 0; k < RK_NR; k++) {
		d->k[k].id = -1;
		for (s = 0, ev = NULL; s < sizeof(systems) / sizeof(systems[0]) && !ev; s++)
			ev = tep_find_event_by_name(d->tep, systems[s], rec_kind_name(k));
		if (!ev)
			continue;
		if (find_fields(&d->k[k], k, ev) < 0)
			continue; /* a format without a field we need: as if absent */
		d->k[k].comm = tep_find_field(ev, k == P_SCHED_SWITCH ? "prev_comm" : "comm");
		d->k[k].next_comm = k == P_SCHED_SWITCH ? tep_find_field(ev, "next_comm") : NULL;
		d->k[k].id = ev->id;
		r->has[k] = 1; /* enabled while recording, whether or not it fired */
	}
	for (i = 0; i < MAX_VECTOR_EVENTS; i++) {
		const char *name = rec_vector_event(i);

		int vk = i % 2 ? RK_VECTOR_EXIT : RK_VECTOR_ENTRY;

		ev = name ? tep_find_event_by_name(d->tep, "irq_vectors", name) : NULL;
		d->vec_id[i] = ev ? ev->id : -1;
		if (ev) /* every vector's the same format: the fields of any */
			r->has[vk] = 1;
		if (ev && d->k[vk].id < 0 && !find_fields(&d->k[vk], vk, ev))
			d->k[vk].id = ev->id;
	}
	ev = tep_find_event_by_name(d->tep, "ftrace", "print");
	d->print_id = ev ? ev->id : -1;
	d->print_buf = ev ? tep_find_field(ev, "buf") : NULL;
}

static int dat_load_quiet(struct recording *r, struct dat *d, char *err, size_t errlen);

static int dat_load(struct recording *r, struct dat *d, char *err, size_t errlen)
{
	int out = dup(STDOUT_FILENO), null = open("/dev/null", O_WRONLY), ret;

	/* errors are ours to say, in one line: the libraries' logs off, and
	 * stdout away while opening (3.1.6 prints "File possibly truncated"
	 * there, whatever the log level) */
	tracecmd_set_loglevel(TEP_LOG_NONE);
	tep_set_loglevel(TEP_LOG_NONE);
	fflush(stdout);
	if (out >= 0 && null >= 0)
		dup2(null, STDOUT_FILENO);
	ret = dat_load_quiet(r, d, err, errlen);
	fflush(stdout);
	if (out >= 0 && null >= 0)
		dup2(out, STDOUT_FILENO);
	if (out >= 0)
		close(out);
	if (null >= 0)
		close(null);
	return ret;
}

/* libtracecmd 3.1.6 crashes in tracecmd_close after a failed init_data:
 * such a handle is kept, reachable (not a leak to LeakSanitizer), until
 * the process exits */
static void abandon(struct tracecmd_input *h)
{
	static struct tracecmd_input **kept;
	static size_t n;
	struct tracecmd_input **k = realloc(kept, (n + 1) * sizeof(*k));

	if (k) {
		kept = k;
		kept[n++] = h;
	}
}

static int dat_load_quiet(struct recording *r, struct dat *d, char *err, size_t errlen)
{
	d->h = tracecmd_open_head(d->path, TRACECMD_FL_LOAD_NO_PLUGINS);
	if (!d->h) {
		snprintf(err, errlen, "%s: not a trace-cmd data file, or its headers are cut short",
			 esc_str(d->path));
		return -1;
	}
	if (tracecmd_init_data(d->h) < 0) {
		abandon(d->h);
		d->h = NULL;
		snprintf(err, errlen, "%s: trace data truncated or corrupt", esc_str(d->path));
		return -1;
	}
	d->tep = tracecmd_get_tep(d->h);
	find_kinds(r, d);
	return 0;
}

/* A field's bytes lie inside the record (formats come from the file). */
static int field_in(const struct tep_format_field *f, const struct tep_record *rec)
{
	return f->offset >= 0 && f->size > 0 && (long long)f->offset + f->size <= rec->size;
}

/* "kvmrt-tgids: PID:TGID PID:TGID ..." */
static void read_tgids(struct recording *r, struct dat *d, struct tep_record *rec)
{
	char buf[2048], *p, *end;
	int len;

	if (!d->print_buf || d->print_buf->offset < 0 || d->print_buf->offset >= rec->size)
		return;
	len = rec->size - d->print_buf->offset;
	if (len > (int)sizeof(buf) - 1)
		len = sizeof(buf) - 1;
	memcpy(buf, (const char *)rec->data + d->print_buf->offset, len);
	buf[len] = 0;
	if (strncmp(buf, "kvmrt-tgids:", 12))
		return;
	r->has_tgids = 1;
	for (p = buf + 12; *p;) {
		unsigned long pid = strtoul(p, &end, 10), tgid;

		if (end == p || *end != ':')
			break;
		tgid = strtoul(end + 1, &p, 10);
		rec_tgid_set(r, (__u32)pid, (__u32)tgid);
	}
}

static int is_apic_timer(struct dat *d, __u64 fn)
{
	const char *name;

	if (d->apic_timer_known)
		return fn == d->apic_timer_fn;
	name = tep_find_function(d->tep, fn);
	if (name && !strcmp(name, "apic_timer_fn")) {
		d->apic_timer_fn = fn;
		d->apic_timer_known = 1;
		return 1;
	}
	return 0;
}

/* The next record kvmrt reads, its fields taken by name from the event's
 * format (libtraceevent); one loop over the records it skips. */
static int dat_next(struct recording *r, struct rec_event *e, char *err, size_t errlen)
{
	struct dat *d = r->priv;
	struct tep_record *rec;
	int cpu, k, i, type;

	for (;;) {
		rec = tracecmd_read_next_data(d->h, &cpu);
		if (!rec)
			return 0;
		r->records++;
		if (rec->missed_events > 0) /* the ring buffer overwrote these */
			r->lost += rec->missed_events;
		if (cpu < 0 || cpu >= KVS_MAX_CPUS) {
			tracecmd_free_record(rec);
			snprintf(err, errlen, "%s: a record of CPU %d", esc_str(d->path), cpu);
			return -1;
		}
		type = tep_data_type(d->tep, rec);
		if (type == d->print_id && type >= 0) {
			read_tgids(r, d, rec);
			tracecmd_free_record(rec);
			continue;
		}
		for (k = 0; k < RK_NR; k++)
			if (d->k[k].id == type && type >= 0)
				break;
		for (i = 0; k == RK_NR && i < MAX_VECTOR_EVENTS && type >= 0; i++)
			if (d->vec_id[i] == type)
				k = i % 2 ? RK_VECTOR_EXIT : RK_VECTOR_ENTRY;
		if (k == RK_NR) {
			tracecmd_free_record(rec);
			continue;
		}
		memset(e, 0, sizeof(*e));
		e->kind = k;
		if (k == RK_VECTOR_ENTRY || k == RK_VECTOR_EXIT) {
			struct tep_event *vev = tep_find_event(d->tep, type);

			if (vev)
				rec_vector_kind(vev->name, e->name);
		}
		e->ts = rec->ts;
		e->cpu = (__u32)cpu;
		e->pid = (__u32)tep_data_pid(d->tep, rec);
		e->tgid = rec_tgid(r, e->pid);
		e->hardirq = !!(tep_data_flags(d->tep, rec) & TRACE_FLAG_HARDIRQ);
		for (i = 0; i < MAX_FIELDS && d->k[k].f[i]; i++) {
			unsigned long long v;
			struct tep_format_field *f = d->k[k].f[i];

			if (!field_in(f, rec) || tep_read_number_field(f, rec->data, &v)) {
				tracecmd_free_record(rec);
				snprintf(err, errlen, "%s: a %s record cut short", esc_str(d->path),
					 rec_kind_name(k));
				return -1;
			}
			/* sign-extend signed fields (kvm_eoi's vector -1) */
			if ((f->flags & TEP_FIELD_IS_SIGNED) && f->size < 8 &&
			    (v >> (f->size * 8 - 1) & 1))
				v |= ~0ULL << (f->size * 8);
			*(__s64 *)((char *)e + d->k[k].off[i]) = (__s64)v;
		}
		/* the woken or switched-out task's comm, and the current one's
		 * from the file's saved comms */
		if (d->k[k].comm && field_in(d->k[k].comm, rec))
			memcpy(e->tcomm, (const char *)rec->data + d->k[k].comm->offset,
			       d->k[k].comm->size < KVMRT_COMM_LEN ? d->k[k].comm->size :
								      KVMRT_COMM_LEN - 1);
		if (d->k[k].next_comm && field_in(d->k[k].next_comm, rec))
			memcpy(e->name, (const char *)rec->data + d->k[k].next_comm->offset,
			       d->k[k].next_comm->size < KVMRT_COMM_LEN ? d->k[k].next_comm->size :
									  KVMRT_COMM_LEN - 1);
		snprintf(e->comm, sizeof(e->comm), "%s", tep_data_comm_from_pid(d->tep, (int)e->pid));
		if (k == RK_IRQ_ENTRY) { /* its name, a dynamic string */
			struct tep_event *iev = tep_find_event(d->tep, type);
			int len = 0;
			const char *nm = iev ? tep_get_field_raw(NULL, iev, "name", rec, &len, 0) : NULL;
			const char *data = rec->data;

			/* where the record says: inside it, or no name (untrusted) */
			if (!nm || len <= 0 || nm < data || nm + len > data + rec->size)
				nm = "?", len = 1;
			snprintf(e->name, sizeof(e->name), "%.*s", len, nm);
		}
		tracecmd_free_record(rec);
		/* the same normal form as the text reader's (recording.h) */
		switch (k) {
		case P_KVM_PIC_SET_IRQ:
			e->pic.masked = (e->pic.masked >> (e->pic.pin & 7)) & 1; /* imr -> masked */
			break;
		case P_HRTIMER_EXPIRE_ENTRY:
		case RK_HRTIMER_START:
			e->hrtimer.is_apic_timer = is_apic_timer(d, (__u64)e->hrtimer.is_apic_timer);
			break;
		case P_SCHED_SWITCH:
			/* R is 0, R+ (preempted) TASK_REPORT_MAX, 0x100 */
			e->sw.prev_runnable = (e->sw.prev_runnable & 0xff) == 0;
			break;
		case P_KVM_EXIT:
			if (e->exit.isa == ISA_VMX)
				e->exit.reason &= 0xffff;
			break;
		case P_KVM_PIO:
			e->pio.val &= 0xff;
			break;
		case RK_NMI:
			snprintf(e->name, sizeof(e->name), "%s",
				 tep_find_function(d->tep, (__u64)e->nmi.handler) ?: "?");
			break;
		case RK_USERSPACE_EXIT:
			if (e->uexit.err < 0)
				e->uexit.reason = -1; /* restart or error */
			break;
		}
		return 1;
	}
}

static void dat_close(struct recording *r)
{
	struct dat *d = r->priv;

	if (d->h)
		tracecmd_close(d->h);
	free(d->path);
	free(d);
}

static int dat_rewind(struct recording *r, char *err, size_t errlen)
{
	struct dat *d = r->priv;

	if (d->h)
		tracecmd_close(d->h);
	d->h = NULL;
	d->apic_timer_known = 0;
	return dat_load(r, d, err, errlen);
}

static const struct rec_ops dat_ops = {
	.next = dat_next,
	.rewind = dat_rewind,
	.close = dat_close,
};

/* libtraceevent 1.7 and libtracecmd 3.1 crash on some damaged files (a
 * NULL dereference in tep_parse_event on a corrupt event format, found by
 * tests/fuzz/fuzz_report.py): read the file once in a child first, so that such
 * a file is an error, not a crash. */
static int dat_probe(const char *path, char *err, size_t errlen)
{
	int status, cpu, null;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return 0; /* cannot probe: read it anyway */
	if (pid == 0) {
		struct tracecmd_input *h;
		struct tep_record *rec;

		null = open("/dev/null", O_WRONLY);
		if (null >= 0) {
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		tracecmd_set_loglevel(TEP_LOG_NONE);
		tep_set_loglevel(TEP_LOG_NONE);
		h = tracecmd_open_head(path, TRACECMD_FL_LOAD_NO_PLUGINS);
		if (!h || tracecmd_init_data(h) < 0)
			_exit(1);
		while ((rec = tracecmd_read_next_data(h, &cpu))) {
			tep_data_type(tracecmd_get_tep(h), rec);
			tracecmd_free_record(rec);
		}
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) <= 1)
		return 0; /* read, or refused: the real read says why */
	snprintf(err, errlen, "%s: corrupt: the trace-cmd libraries crash reading it", esc_str(path));
	return -1;
}

int rec_dat_open(struct recording *r, const char *path, char *err, size_t errlen)
{
	struct dat *d = calloc(1, sizeof(*d));

	if (!d || !(d->path = strdup(path))) {
		free(d);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r->ops = &dat_ops;
	r->format = "trace.dat";
	r->priv = d;
	if (dat_probe(path, err, errlen) || dat_load(r, d, err, errlen)) {
		free(d->path);
		free(d);
		return -1;
	}
	return 0;
}
