// SPDX-License-Identifier: GPL-2.0
/*
 * tracefs text, as /sys/kernel/tracing/trace prints it with
 * options/record-tgid on (kernel/trace/trace_output.c):
 *
 *   CPU 0/KVM-1234    (   1230) [001] d.h1.   812.123456: kvm_eoi: apicid 0 vector 34
 *
 * comm-pid, (tgid) or (-------), [cpu], the irq-info flags when that
 * option is on, seconds.microseconds (or nanoseconds), the event's name
 * and its TP_printk text (arch/x86/kvm/trace.h, include/trace/events/).
 * Lines are read one at a time: memory does not grow with the file.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "recording.h"
#include "store.h"

#define LINE_MAX_LEN 4096

struct text {
	FILE *f;
	char line[LINE_MAX_LEN];
	__u64 lineno;
};

static int fail(struct text *t, char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "line %llu: %s", (unsigned long long)t->lineno, why);
	return -1;
}

static const char *after(const char *s, const char *key)
{
	const char *p = strstr(s, key);

	return p ? p + strlen(key) : NULL;
}

/* After the last key in s (a comm before it may hold any text). */
static const char *after_last(const char *s, const char *key)
{
	const char *p, *last = NULL;

	for (p = strstr(s, key); p; p = strstr(p + 1, key))
		last = p;
	return last ? last + strlen(key) : NULL;
}

/* A number after key (base 0 when hex is 1 for "0x"; 10 otherwise). */
static int num_after(const char *s, const char *key, int base, __s64 *out)
{
	const char *p = after(s, key);
	char *end;

	if (!p)
		return -1;
	errno = 0;
	*out = base == 16 ? (__s64)strtoull(p, &end, 16) : strtoll(p, &end, base);
	if (end == p || errno)
		return -1;
	return 0;
}

/* A comm from a line: the bytes [p, end), at most KVMRT_COMM_LEN - 1. */
static void comm_span(const char *p, const char *end, char *comm)
{
	size_t n = end > p ? (size_t)(end - p) : 0;

	if (n >= KVMRT_COMM_LEN)
		n = KVMRT_COMM_LEN - 1;
	memset(comm, 0, KVMRT_COMM_LEN);
	memcpy(comm, p, n);
}

static const char *const deliver_modes[8] = { "Fixed", "LowPrio", "SMI", "Res3",
					      "NMI",   "INIT",    "SIPI", "ExtINT" };

/* The fields of one event's TP_printk text into e->a (recording.h): one
 * case per event, each next to the format it reads (long, but a format
 * that changes is one case to change). */
static int parse_fields(struct rec_event *e, const char *f)
{
	char name[64];
	__s64 v;
	int i;

	switch (e->kind) {
	case P_KVM_SET_IRQ: /* "gsi %u level %d source %d" */
		return num_after(f, "gsi ", 10, &e->a[0]) || num_after(f, "level ", 10, &e->a[1]);
	case P_KVM_PIC_SET_IRQ: /* "chip %u pin %u (%s%s)%s": edge|level, |masked, (coalesced) */
		if (num_after(f, "chip ", 10, &e->a[0]) || num_after(f, "pin ", 10, &e->a[1]))
			return -1;
		e->a[2] = strstr(f, "|masked") != NULL;
		e->a[3] = strstr(f, "(coalesced)") != NULL;
		return 0;
	case P_KVM_APIC_ACCEPT_IRQ: /* "apicid %x vec %u (%s|%s)" */
	case P_KVM_APICV_ACCEPT_IRQ:
		if (num_after(f, "apicid ", 16, &e->a[0]) || num_after(f, "vec ", 10, &e->a[2]) ||
		    sscanf(f, "%*[^(](%63[^|)]", name) != 1)
			return -1;
		for (i = 0; i < 8; i++)
			if (!strcmp(name, deliver_modes[i]))
				break;
		if (i == 8)
			return -1;
		e->a[1] = i << 8;
		return 0;
	case P_HRTIMER_EXPIRE_ENTRY: /* "hrtimer=%p function=%ps now=%llu" */
	case RK_HRTIMER_START:	     /* "hrtimer=%p function=%ps expires=..." */
		if (num_after(f, "hrtimer=", 16, &e->a[0]) ||
		    sscanf(after(f, "function=") ?: "", "%63s", name) != 1)
			return -1;
		e->a[1] = !strcmp(name, "apic_timer_fn");
		return 0;
	case RK_HRTIMER_EXPIRE_EXIT: /* "hrtimer=%p" */
		return num_after(f, "hrtimer=", 16, &e->a[0]);
	case P_SCHED_WAKING: { /* "comm=%s pid=%d prio=%d target_cpu=%03d" */
		const char *pid = after_last(f, " pid=");

		if (!pid || strncmp(f, "comm=", 5))
			return -1;
		comm_span(f + 5, pid - 5, e->tcomm);
		return num_after(pid - 5, " pid=", 10, &e->a[0]);
	}
	case P_SCHED_SWITCH: {
		/* "prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==>
		 *  next_comm=%s next_pid=%d next_prio=%d"; R or R+ (preempted)
		 *  is runnable. Comms may hold anything: fields are taken from
		 *  the right of each side. */
		char prev[LINE_MAX_LEN];
		const char *arrow = after_last(f, " ==> next_comm="), *st, *pid;

		if (!arrow || strncmp(f, "prev_comm=", 10) || num_after(arrow, " next_pid=", 10, &e->a[2]))
			return -1;
		snprintf(prev, sizeof(prev), "%.*s", (int)(arrow - f), f);
		st = after_last(prev, " prev_state=");
		pid = after_last(prev, " prev_pid=");
		if (!st || !pid || pid > st)
			return -1;
		comm_span(prev + 10, pid - 10, e->tcomm);
		e->a[0] = strtoll(pid, NULL, 10);
		e->a[1] = st[0] == 'R';
		return 0;
	}
	case P_KVM_VCPU_WAKEUP: /* "%s time %lld ns, polling %s": wait|poll */
		if (num_after(f, "time ", 10, &e->a[0]))
			return -1;
		e->a[1] = !strncmp(f, "wait", 4);
		return 0;
	case P_KVM_INJ_VIRQ: /* "%s 0x%x%s": IRQ|Soft/INTn; before 5.19 "irq %u" */
		if (!strncmp(f, "irq ", 4))
			return num_after(f, "irq ", 10, &e->a[0]);
		return num_after(f, " 0x", 16, &e->a[0]);
	case P_KVM_ENTRY: /* "vcpu %u, rip 0x%lx ..." */
		return num_after(f, "vcpu ", 10, &e->a[0]);
	case P_KVM_EXIT: { /* "vcpu %u reason %s%s%s rip 0x%lx ..."; no vcpu before 5.11 */
		__u32 isa, reason;

		if (num_after(f, "vcpu ", 10, &e->a[0]))
			e->a[0] = -1; /* before 5.11: the thread's vCPU, if known */
		if (sscanf(after(f, "reason ") ?: "", "%63s", name) != 1 ||
		    !rec_exit_reason(name, &isa, &reason))
			return -1;
		e->a[1] = isa;
		e->a[2] = isa == ISA_VMX ? (reason & 0xffff) : reason;
		return 0;
	}
	case P_KVM_EOI: /* "apicid %x vector %d" */
	case P_KVM_PV_EOI:
		return num_after(f, "apicid ", 16, &e->a[0]) || num_after(f, "vector ", 10, &e->a[1]);
	case P_KVM_APICV_INHIBIT_CHANGED: /* "%s reason=%u, inhibits=0x%lx ..." */
		e->a[1] = !strncmp(f, "set", 3);
		return num_after(f, "reason=", 10, &e->a[0]) || num_after(f, "inhibits=0x", 16, &e->a[2]);
	case P_KVM_WAIT_LAPIC_EXPIRE: /* "vcpu %u: delta %lld (%s)" */
		return num_after(f, "vcpu ", 10, &e->a[0]) || num_after(f, "delta ", 10, &e->a[1]);
	case P_KVM_ACK_IRQ: /* "irqchip %s pin %u": PIC master, PIC slave, IOAPIC */
		if (num_after(f, " pin ", 10, &e->a[1]))
			return -1;
		e->a[0] = strstr(f, "PIC master") ? 0 : strstr(f, "PIC slave") ? 1 : 2;
		return 0;
	case P_KVM_PIO: /* "pio_%s at 0x%x size %d count %d val 0x%x %s" */
		if (num_after(f, "at 0x", 16, &e->a[1]))
			return -1;
		e->a[0] = !strncmp(f, "pio_write", 9);
		if (num_after(f, "val 0x", 16, &v))
			v = 0;
		e->a[2] = v & 0xff;
		return 0;
	case RK_KVM_APIC: /* "apic_%s %s = 0x%llx": read|write, APIC_<REG> */
		if (sscanf(f, "apic_%*s %63s", name) != 1 || num_after(f, "= 0x", 16, &e->a[2]))
			return -1;
		e->a[0] = !strncmp(f, "apic_write", 10);
		e->a[1] = !strcmp(name, "APIC_LVTT") ? 0x320 : -1;
		return 0;
	default:
		return 0; /* sources: the event itself is what counts */
	}
}

/* The columns before the timestamp: "comm-pid", "(tgid)" if recorded,
 * "[CPU]", the irq-info flags if recorded. The kernel prints "%16s-%-7d":
 * a comm (at most 15 bytes) right-aligned in 16 columns, so a '-' in
 * column 16 and a space in column 0. Where the timestamp starts, or NULL
 * with why in err. */
static char *task_columns(struct text *t, struct rec_event *e, int *tgid_col, char *err,
			  size_t errlen)
{
	char *l = t->line, *p, *end;
	unsigned long long cpu;

	if (strlen(l) < 18 || l[0] != ' ' || l[16] != '-')
		return fail(t, err, errlen, "not a trace line: no comm-pid in columns 0-16"), NULL;
	for (p = l; *p == ' '; p++)
		;
	comm_span(p, l + 16, e->comm);
	p = l + 17;
	e->pid = (__u32)strtoul(p, &end, 10);
	if (end == p)
		return fail(t, err, errlen, "not a trace line: bad pid"), NULL;
	for (p = end; *p == ' '; p++)
		;
	e->tgid = -1;
	if (*p == '(') { /* "(tgid)" or "(-------)", options/record-tgid */
		for (p++; *p == ' '; p++)
			;
		if (*p != '-')
			e->tgid = strtoll(p, NULL, 10);
		p = strchr(p, ')');
		if (!p)
			return fail(t, err, errlen, "not a trace line: unbalanced tgid column"), NULL;
		*tgid_col = 1;
		for (p++; *p == ' '; p++)
			;
	}
	if (*p != '[')
		return fail(t, err, errlen, "not a trace line: no [CPU] column"), NULL;
	cpu = strtoull(p + 1, &end, 10);
	if (end == p + 1 || *end != ']')
		return fail(t, err, errlen, "not a trace line: bad [CPU] column"), NULL;
	if (cpu >= KVS_MAX_CPUS)
		return fail(t, err, errlen, "CPU number out of range"), NULL;
	e->cpu = (__u32)cpu;
	e->hardirq = -1; /* unknown without the irq-info column */
	for (p = end + 1; *p == ' '; p++)
		;
	if (!isdigit((unsigned char)*p)) {
		/* irq-info flags, e.g. "d.h1.": irqs-off, need-resched,
		 * hardirq/softirq (h, or H for hardirq inside softirq), ... */
		char *q = p;

		while (*q && *q != ' ')
			q++;
		e->hardirq = q - p >= 3 && (p[2] == 'h' || p[2] == 'H');
		p = q;
		while (*p == ' ')
			p++;
	}
	return p;
}

/* One line into e: 1 an event kvmrt reads, 0 any other line, -1 bad. */
static int parse_line(struct recording *r, struct text *t, struct rec_event *e, char *err,
		      size_t errlen)
{
	char *l = t->line, *p, *end, *ev;
	unsigned long long secs, frac, cpu, lost;
	int ndig, tgid_col = 0;
	size_t n;

	if (l[0] == '#' || l[0] == '\n' || !l[0])
		return 0;
	if (sscanf(l, "CPU:%llu [LOST %llu EVENTS]", &cpu, &lost) == 2) {
		r->lost += lost; /* the ring buffer overwrote these */
		return 0;
	}
	memset(e, 0, sizeof(*e));
	p = task_columns(t, e, &tgid_col, err, errlen);
	if (!p)
		return -1;
	secs = strtoull(p, &end, 10);
	if (end == p || *end != '.')
		return fail(t, err, errlen, "not a trace line: no timestamp");
	p = end + 1;
	frac = strtoull(p, &end, 10);
	ndig = (int)(end - p);
	if (ndig < 1 || ndig > 9 || *end != ':' || secs > 18000000000ULL)
		return fail(t, err, errlen, "not a trace line: bad timestamp");
	while (ndig++ < 9)
		frac *= 10;
	e->ts = secs * 1000000000ULL + frac;
	ev = end + 1;
	while (*ev == ' ')
		ev++;
	p = strchr(ev, ':');
	if (!p)
		return fail(t, err, errlen, "not a trace line: no event name");
	*p = 0;
	e->kind = rec_kind_of(ev);
	if (e->kind == RK_NONE)
		return 0;
	p++;
	while (*p == ' ')
		p++;
	n = strlen(p);
	if (n && p[n - 1] == '\n')
		p[n - 1] = 0;
	if (tgid_col)
		r->has_tgids = 1;
	if (parse_fields(e, p)) {
		char why[96];

		snprintf(why, sizeof(why), "%s: fields cut short or malformed", ev);
		return fail(t, err, errlen, why);
	}
	return 1;
}

static int text_next(struct recording *r, struct rec_event *e, char *err, size_t errlen)
{
	struct text *t = r->priv;
	int ret;

	for (;;) {
		if (!fgets(t->line, sizeof(t->line), t->f))
			return ferror(t->f) ? (snprintf(err, errlen, "read: %s", strerror(errno)), -1) : 0;
		t->lineno++;
		r->records++;
		if (!strchr(t->line, '\n') && !feof(t->f))
			return fail(t, err, errlen, "line too long");
		ret = parse_line(r, t, e, err, errlen);
		if (ret < 0)
			return -1;
		if (ret == 0)
			continue;
		return 1;
	}
}

static int text_rewind(struct recording *r, char *err, size_t errlen)
{
	struct text *t = r->priv;

	if (fseek(t->f, 0, SEEK_SET)) {
		snprintf(err, errlen, "rewind: %s", strerror(errno));
		return -1;
	}
	t->lineno = 0;
	return 0;
}

static void text_close(struct recording *r)
{
	struct text *t = r->priv;

	fclose(t->f);
	free(t);
}

static const struct rec_ops text_ops = {
	.next = text_next,
	.rewind = text_rewind,
	.close = text_close,
};

int rec_text_open(struct recording *r, FILE *f, char *err, size_t errlen)
{
	struct text *t = calloc(1, sizeof(*t));

	if (!t) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	t->f = f;
	r->ops = &text_ops;
	r->format = "tracefs text";
	r->priv = t;
	return 0;
}
