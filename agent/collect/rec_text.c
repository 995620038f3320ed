// SPDX-License-Identifier: GPL-2.0
/*
 * Trace text, in each layout people record and paste (told from the first
 * line of events, which fixes it for the file):
 *
 *  - tracefs's trace file (kernel/trace/trace_output.c), with or without
 *    the tgid column (options/record-tgid) and the irq-info flags, and
 *    `trace-cmd report` (its "%16s-%-5d [%03d]", no tgid, the event name
 *    padded to 20 columns): comm-pid ending in column 16
 *      CPU 0/KVM-1234    (   1230) [001] d.h1.   812.123456: kvm_eoi: apicid 0 vector 34
 *             CPU 0/KVM-1234  [001]   812.123456: kvm_eoi:              apicid 0 vector 34
 *  - `trace-cmd report -l` ("%8.8s-%-5d %3d" and the latency flags):
 *      CPU 0/KV-1234    1d.h1   812.123456: kvm_eoi:              apicid 0 vector 34
 *  - `perf script` (builtin-script.c: "%16s %7d [%03d] %12s: %*s: ", or
 *    "%7d/%-7d" for pid/tid with -F comm,pid,tid,...; "%5d" before 6.5;
 *    the event as system:name, right-aligned):
 *           CPU 0/KVM   1234 [001]   812.123456:        kvm:kvm_eoi: apicid 0 vector 34
 *
 * then the event's TP_printk text (arch/x86/kvm/trace.h,
 * include/trace/events/), at whichever kernel recorded it, or what
 * libtraceevent's plugins print instead (kvm_exit, kvm_entry,
 * sched_switch: trace-cmd and perf load them). Lines are read one at a
 * time: memory does not grow with the file.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "recording.h"
#include "store.h"

#define LINE_MAX_LEN 4096

enum layout {
	LAYOUT_UNKNOWN,	/* no line of events read yet */
	LAYOUT_TRACEFS,	/* tracefs, trace-cmd report */
	LAYOUT_LATENCY,	/* trace-cmd report -l */
	LAYOUT_PERF,	/* perf script */
};

struct text {
	FILE *f;
	char line[LINE_MAX_LEN];
	__u64 lineno;
	enum layout layout;
	__u32 isa_seen;	/* kvm_exit's ISA, as its names showed (rec_exit_reason) */
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

/* The last occurrence of key in [s, end), or NULL. */
static const char *last_in(const char *s, const char *end, const char *key)
{
	const char *p, *last = NULL;
	size_t n = strlen(key);

	for (p = s; p + n <= end; p++)
		if (!memcmp(p, key, n))
			last = p;
	return last;
}

/* "comm:pid [prio]" in [s, end), as libtraceevent's sched_switch plugin
 * prints a task: the pid (the comm may hold ':' and " ["), its comm in
 * comm if not NULL; -1 if malformed. */
static __s64 plugin_task(const char *s, const char *end, char *comm)
{
	const char *lb = last_in(s, end, " ["), *colon;
	char *e;
	__s64 pid;

	if (!lb || !(colon = last_in(s, lb, ":")))
		return -1;
	pid = strtoll(colon + 1, &e, 10);
	if (e == colon + 1 || e != lb)
		return -1;
	if (comm)
		comm_span(s, colon, comm);
	return pid;
}

/* sched_switch as libtraceevent's plugin (plugin_sched_switch.c) prints it:
 * "prev:pid [prio] S ==> next:pid [prio]"; its state letters never say
 * preempted ("R+"): R is runnable, anything else is not. */
static int sched_switch_plugin(struct rec_event *e, const char *f)
{
	const char *arrow = after_last(f, " ==> "), *left_end, *st;

	if (!arrow)
		return -1;
	left_end = arrow - 5;
	st = last_in(f, left_end, " ");
	if (!st || (e->sw.prev_pid = plugin_task(f, st, e->tcomm)) < 0 ||
	    (e->sw.next_pid = plugin_task(arrow, arrow + strlen(arrow), e->name)) < 0)
		return -1;
	e->sw.prev_runnable = st[1] == 'R';
	return 0;
}

/* The fields of one event's TP_printk text into e's (recording.h): one
 * case per event, each next to the formats it reads, with the kernel
 * versions that print them (long, but a format that changes is one case
 * to change). */
static int parse_fields(struct text *t, struct rec_event *e, const char *f)
{
	char name[64];
	__s64 v;
	int i;

	switch (e->kind) {
	case P_KVM_SET_IRQ: /* "gsi %u level %d source %d" */
		return num_after(f, "gsi ", 10, &e->set_irq.gsi) || num_after(f, "level ", 10, &e->set_irq.level);
	case P_KVM_PIC_SET_IRQ: /* "chip %u pin %u (%s%s)%s": edge|level, |masked, (coalesced) */
		if (num_after(f, "chip ", 10, &e->pic.chip) || num_after(f, "pin ", 10, &e->pic.pin))
			return -1;
		e->pic.masked = strstr(f, "|masked") != NULL;
		e->pic.coalesced = strstr(f, "(coalesced)") != NULL;
		return 0;
	case P_KVM_APIC_ACCEPT_IRQ: /* "apicid %x vec %u (%s|%s)" */
	case P_KVM_APICV_ACCEPT_IRQ:
		if (num_after(f, "apicid ", 16, &e->accept.apicid) || num_after(f, "vec ", 10, &e->accept.vec) ||
		    sscanf(f, "%*[^(](%63[^|)]", name) != 1)
			return -1;
		for (i = 0; i < 8; i++)
			if (!strcmp(name, deliver_modes[i]))
				break;
		if (i == 8)
			return -1;
		e->accept.dm = i << 8;
		return 0;
	case P_HRTIMER_EXPIRE_ENTRY: /* "hrtimer=%p function=%ps now=%llu" */
	case RK_HRTIMER_START:	     /* "hrtimer=%p function=%ps expires=..." */
		if (num_after(f, "hrtimer=", 16, &e->hrtimer.hrtimer) ||
		    sscanf(after(f, "function=") ?: "", "%63s", name) != 1)
			return -1;
		e->hrtimer.is_apic_timer = !strcmp(name, "apic_timer_fn");
		return 0;
	case P_HRTIMER_EXPIRE_EXIT: /* "hrtimer=%p" */
		return num_after(f, "hrtimer=", 16, &e->hrtimer.hrtimer);
	case P_SCHED_WAKING: { /* "comm=%s pid=%d prio=%d target_cpu=%03d" */
		const char *pid = after_last(f, " pid=");

		if (!pid || strncmp(f, "comm=", 5))
			return -1;
		comm_span(f + 5, pid - 5, e->tcomm);
		return num_after(pid - 5, " pid=", 10, &e->waking.pid);
	}
	case P_SCHED_SWITCH: {
		/* "prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==>
		 *  next_comm=%s next_pid=%d next_prio=%d" (3.10 to now); R or
		 *  R+ (preempted) is runnable. Comms may hold anything: fields
		 *  are taken from the right of each side. Else the plugin's. */
		char prev[LINE_MAX_LEN];
		const char *arrow = after_last(f, " ==> next_comm="), *st, *pid;

		if (strncmp(f, "prev_comm=", 10))
			return sched_switch_plugin(e, f);
		if (!arrow || num_after(arrow, " next_pid=", 10, &e->sw.next_pid))
			return -1;
		snprintf(prev, sizeof(prev), "%.*s", (int)(arrow - f), f);
		st = after_last(prev, " prev_state=");
		pid = after_last(prev, " prev_pid=");
		if (!st || !pid || pid > st)
			return -1;
		comm_span(prev + 10, pid - 10, e->tcomm);
		comm_span(arrow, after_last(arrow, " next_pid=") - 10, e->name);
		e->sw.prev_pid = strtoll(pid, NULL, 10);
		e->sw.prev_runnable = st[0] == 'R';
		return 0;
	}
	case P_KVM_VCPU_WAKEUP: /* "%s time %lld ns, polling %s": wait|poll */
		if (num_after(f, "time ", 10, &e->wakeup.ns))
			return -1;
		e->wakeup.waited = !strncmp(f, "wait", 4);
		return 0;
	case P_KVM_INJ_VIRQ: /* "%s 0x%x%s": IRQ|Soft/INTn, " [reinjected]" (5.19 on);
			      * "irq %u" before */
		e->inj.reinjected = strstr(f, "[reinjected]") != NULL;
		if (!strncmp(f, "irq ", 4))
			return num_after(f, "irq ", 10, &e->inj.vector);
		return num_after(f, " 0x", 16, &e->inj.vector);
	case P_KVM_ENTRY: /* "vcpu %u" (to 5.9), "vcpu %u, rip 0x%lx..." (5.10 on);
			   * the plugin's " vcpu %u rip 0x%llx" */
		return num_after(f, "vcpu ", 10, &e->entry.vcpu_id);
	case P_KVM_EXIT: {
		/* "vcpu %u reason %s%s%s rip 0x%lx info1 0x%016llx ..." (5.10 on),
		 * "vcpu %u reason %s%s%s rip 0x%lx info %llx %llx" (5.4 to 5.9),
		 * "reason %s rip 0x%lx info %llx %llx" (2.6 to 5.3, and the kvm
		 * plugin's at every version): without a vcpu, the thread's */
		const char *rs = after(f, "reason "), *re;
		__u32 isa, reason;

		if (strncmp(f, "vcpu ", 5) || num_after(f, "vcpu ", 10, &e->exit.vcpu_id))
			e->exit.vcpu_id = -1;
		if (!rs)
			return -1;
		re = strstr(rs, " rip ") ?: rs + strlen(rs);
		if (re == rs || re - rs >= (long)sizeof(name))
			return -1;
		snprintf(name, sizeof(name), "%.*s", (int)(re - rs), rs);
		if (!rec_exit_reason(name, &t->isa_seen, &isa, &reason))
			return -1;
		e->exit.isa = isa;
		e->exit.reason = isa == ISA_VMX ? (reason & 0xffff) : reason;
		return 0;
	}
	case P_KVM_EOI: /* "apicid %x vector %d" */
	case P_KVM_PV_EOI:
		return num_after(f, "apicid ", 16, &e->eoi.apicid) || num_after(f, "vector ", 10, &e->eoi.vector);
	case P_KVM_APICV_INHIBIT_CHANGED: /* "%s reason=%u, inhibits=0x%lx ..." */
		e->inhibit.set = !strncmp(f, "set", 3);
		return num_after(f, "reason=", 10, &e->inhibit.reason) || num_after(f, "inhibits=0x", 16, &e->inhibit.inhibits);
	case P_KVM_WAIT_LAPIC_EXPIRE: /* "vcpu %u: delta %lld (%s)" */
		return num_after(f, "vcpu ", 10, &e->lapic_expire.vcpu_id) || num_after(f, "delta ", 10, &e->lapic_expire.delta);
	case P_KVM_ACK_IRQ: /* "irqchip %s pin %u": PIC master, PIC slave, IOAPIC */
		if (num_after(f, " pin ", 10, &e->ack.pin))
			return -1;
		e->ack.irqchip = strstr(f, "PIC master") ? 0 : strstr(f, "PIC slave") ? 1 : 2;
		return 0;
	case P_KVM_PIO: /* "pio_%s at 0x%x size %d count %d val 0x%x %s" */
		if (num_after(f, "at 0x", 16, &e->pio.port))
			return -1;
		e->pio.out = !strncmp(f, "pio_write", 9);
		if (num_after(f, "val 0x", 16, &v))
			v = 0;
		e->pio.val = v & 0xff;
		return 0;
	case RK_KVM_APIC: /* "apic_%s %s = 0x%llx": read|write, APIC_<REG> */
		if (sscanf(f, "apic_%*s %63s", name) != 1 || num_after(f, "= 0x", 16, &e->apic.val))
			return -1;
		e->apic.write = !strncmp(f, "apic_write", 10);
		e->apic.reg = !strcmp(name, "APIC_LVTT") ? KVMRT_APIC_LVTT : -1;
		return 0;
	/* include/trace/events/irq.h, the same from 3.10 (RHEL 7) to 6.17 */
	case RK_IRQ_ENTRY: /* "irq=%d name=%s" (a vendor's adds " handler=%pf") */
		if (num_after(f, "irq=", 10, &e->irq.irq))
			return -1;
		if (sscanf(after(f, "name=") ?: "", "%31s", e->name) != 1)
			snprintf(e->name, sizeof(e->name), "?");
		return 0;
	case RK_IRQ_EXIT: /* "irq=%d ret=%s" */
		return num_after(f, "irq=", 10, &e->irq.irq);
	case RK_SOFTIRQ_ENTRY: /* "vec=%u [action=%s]" */
	case RK_SOFTIRQ_EXIT:
		return num_after(f, "vec=", 10, &e->softirq.vec);
	case RK_NMI: { /* "%ps() delta_ns: %lld handled: %d" (nmi.h, 3.5 on) */
		const char *paren = strstr(f, "()");

		if (!paren || num_after(f, "delta_ns: ", 10, &e->nmi.delta_ns))
			return -1;
		snprintf(e->name, sizeof(e->name), "%.*s", (int)(paren - f), f);
		return 0;
	}
	case RK_VECTOR_ENTRY: /* "vector=%d" (irq_vectors.h, 3.10 on) */
	case RK_VECTOR_EXIT:
		return num_after(f, "vector=", 10, &e->vector.vector);
	case RK_USERSPACE_EXIT: /* "reason %s (%d)": KVM_EXIT_IO (2); "restart (4)" */
		if (num_after(f, "(", 10, &e->uexit.reason))
			return -1;
		if (!strstr(f, "KVM_EXIT_") && strncmp(f, "reason 0x", 9))
			e->uexit.reason = -1; /* restart or error: the errno */
		return 0;
	case RK_MMIO: /* "mmio %s len %u gpa 0x%llx val 0x%llx" (3.10 to 6.17) */
		if (num_after(f, "gpa 0x", 16, &e->mmio.gpa))
			return -1;
		e->mmio.type = !strncmp(f, "mmio write", 10) ? 2 : !strncmp(f, "mmio read", 9) ? 1 : 0;
		return 0;
	default:
		return 0; /* sources: the event itself is what counts */
	}
}

/* The irq-info or latency flags at p, e.g. "d.h1.": irqs-off,
 * need-resched, hardirq/softirq (h, or H for a hard irq inside a soft
 * one), ...; past them and the spaces after. */
static char *irq_flags(char *p, struct rec_event *e)
{
	char *q = p;

	while (*q && *q != ' ')
		q++;
	e->hardirq = q - p >= 3 && (p[2] == 'h' || p[2] == 'H');
	while (*q == ' ')
		q++;
	return q;
}

/* "[CPU]" at p into e->cpu; past it and the spaces after, or NULL. */
static char *cpu_column(struct text *t, char *p, struct rec_event *e, char *err, size_t errlen)
{
	unsigned long long cpu;
	char *end;

	if (*p != '[')
		return fail(t, err, errlen, "not a trace line: no [CPU] column"), NULL;
	cpu = strtoull(p + 1, &end, 10);
	if (end == p + 1 || *end != ']')
		return fail(t, err, errlen, "not a trace line: bad [CPU] column"), NULL;
	if (cpu >= KVS_MAX_CPUS)
		return fail(t, err, errlen, "CPU number out of range"), NULL;
	e->cpu = (__u32)cpu;
	for (p = end + 1; *p == ' '; p++)
		;
	return p;
}

/* tracefs and trace-cmd report: "comm-pid", "(tgid)" if recorded, "[CPU]",
 * the irq-info flags if recorded. "%16s-": a comm (at most 15 bytes)
 * right-aligned in 16 columns, so a '-' in column 16 and a space in
 * column 0. */
static char *cols_tracefs(struct text *t, struct rec_event *e, int *tgid_col, char *err,
			  size_t errlen)
{
	char *l = t->line, *p, *end;

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
	p = cpu_column(t, p, e, err, errlen);
	if (p && !isdigit((unsigned char)*p))
		p = irq_flags(p, e);
	return p;
}

/* trace-cmd report -l: "%8.8s-%-5d %3d" then the latency flags, joined
 * to the CPU ("  1d.h1"). */
static char *cols_latency(struct text *t, struct rec_event *e, char *err, size_t errlen)
{
	char *l = t->line, *p, *end;
	unsigned long long cpu;

	if (strlen(l) < 12 || l[8] != '-')
		return fail(t, err, errlen, "not a trace line: no comm-pid in columns 0-8"), NULL;
	for (p = l; *p == ' '; p++)
		;
	comm_span(p, l + 8, e->comm);
	e->pid = (__u32)strtoul(l + 9, &end, 10);
	if (end == l + 9)
		return fail(t, err, errlen, "not a trace line: bad pid"), NULL;
	for (p = end; *p == ' '; p++)
		;
	cpu = strtoull(p, &end, 10);
	if (end == p || cpu >= KVS_MAX_CPUS)
		return fail(t, err, errlen, "not a trace line: bad CPU column"), NULL;
	e->cpu = (__u32)cpu;
	return irq_flags(end, e);
}

/* perf script's " [CPU] " column followed by a timestamp: where it
 * starts, or NULL. A comm may hold " [": the first that is followed by
 * digits, "] ", spaces and "S.F:" is the column. */
static char *perf_cpu_column(char *l)
{
	char *p, *q;

	for (p = strstr(l, " ["); p; p = strstr(p + 1, " [")) {
		for (q = p + 2; isdigit((unsigned char)*q); q++)
			;
		if (q == p + 2 || q[0] != ']' || q[1] != ' ')
			continue;
		for (q += 2; *q == ' '; q++)
			;
		if (!isdigit((unsigned char)*q))
			continue;
		while (isdigit((unsigned char)*q))
			q++;
		if (*q == '.')
			return p;
	}
	return NULL;
}

/* perf script: "comm tid [CPU]" or "comm pid/tid [CPU]"; the comm is
 * everything before the last number (it may hold spaces). */
static char *cols_perf(struct text *t, struct rec_event *e, int *tgid_col, char *err,
		       size_t errlen)
{
	char *l = t->line, *col = perf_cpu_column(l), *last, *tok, *end, *p;

	if (!col)
		return fail(t, err, errlen, "not a trace line: no [CPU] column"), NULL;
	for (last = col; last > l && last[-1] == ' '; last--) /* "%-7d ": padded */
		;
	for (tok = last; tok > l && tok[-1] != ' '; tok--)
		;
	e->pid = (__u32)strtoul(tok, &end, 10);
	if (end == tok)
		return fail(t, err, errlen, "not a trace line: bad pid"), NULL;
	if (*end == '/') { /* pid/tid */
		e->tgid = e->pid;
		p = end + 1;
		e->pid = (__u32)strtoul(p, &end, 10);
		if (end == p)
			return fail(t, err, errlen, "not a trace line: bad tid"), NULL;
		*tgid_col = 1;
	}
	if (end != last)
		return fail(t, err, errlen, "not a trace line: bad pid"), NULL;
	for (p = l; *p == ' '; p++)
		;
	while (tok > p && tok[-1] == ' ')
		tok--;
	comm_span(p, tok, e->comm);
	return cpu_column(t, col + 1, e, err, errlen);
}

/* The file's layout, from its first line of events. */
static enum layout layout_of(char *l)
{
	if (strlen(l) >= 18 && l[0] == ' ' && l[16] == '-')
		return LAYOUT_TRACEFS;
	if (perf_cpu_column(l))
		return LAYOUT_PERF;
	if (strlen(l) >= 12 && l[8] == '-')
		return LAYOUT_LATENCY;
	return LAYOUT_UNKNOWN;
}

/* The columns before the timestamp, in the file's layout: where the
 * timestamp starts, or NULL with why in err. */
static char *task_columns(struct text *t, struct rec_event *e, int *tgid_col, char *err,
			  size_t errlen)
{
	e->tgid = -1;
	e->hardirq = -1; /* unknown without irq-info or latency flags */
	if (t->layout == LAYOUT_UNKNOWN)
		t->layout = layout_of(t->line);
	switch (t->layout) {
	case LAYOUT_TRACEFS:
		return cols_tracefs(t, e, tgid_col, err, errlen);
	case LAYOUT_LATENCY:
		return cols_latency(t, e, err, errlen);
	case LAYOUT_PERF:
		return cols_perf(t, e, tgid_col, err, errlen);
	default:
		return fail(t, err, errlen, "not a trace line: no comm-pid and CPU columns"), NULL;
	}
}

/* Lines of trace-cmd report that are not events: "cpus=N", "version = N",
 * "CPU N is empty", and the drop markers (events lost). */
static int header_line(struct recording *r, const char *l)
{
	unsigned long long cpu, lost;

	if (l[0] != 'c' && l[0] != 'v' && l[0] != 'C')
		return 0; /* most lines: no sscanf for them */
	if (!strncmp(l, "cpus=", 5) || !strncmp(l, "version", 7) ||
	    (sscanf(l, "CPU %llu is empt%c", &cpu, (char[1]){ 0 }) == 2))
		return 1;
	if (sscanf(l, "CPU:%llu [LOST %llu EVENTS]", &cpu, &lost) == 2 ||
	    sscanf(l, "CPU:%llu [%llu EVENTS DROPPED]", &cpu, &lost) == 2) {
		r->lost += lost; /* the ring buffer overwrote these */
		return 1;
	}
	if (sscanf(l, "CPU:%llu [EVENTS DROPPED", &cpu) == 1) {
		r->lost += 1; /* some, how many unsaid */
		return 1;
	}
	return 0;
}

/* One line into e: 1 an event kvmrt reads, 0 any other line, -1 bad. */
static int parse_line(struct recording *r, struct text *t, struct rec_event *e, char *err,
		      size_t errlen)
{
	char *l = t->line, *p, *end, *ev;
	unsigned long long secs, frac;
	int ndig, tgid_col = 0;
	size_t n;

	if (l[0] == '#' || l[0] == '\n' || !l[0] || header_line(r, l))
		return 0;
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
	if (p && p[1] && p[1] != ' ' && p[1] != '\n') { /* perf's system:name */
		ev = p + 1;
		p = strchr(ev, ':');
		if (!p)
			return 0; /* "a:b" and no more: no event of ours */
	}
	if (!p)
		return fail(t, err, errlen, "not a trace line: no event name");
	*p = 0;
	e->kind = rec_kind_of(ev);
	if (e->kind == RK_NONE)
		return 0;
	if (e->kind == RK_VECTOR_ENTRY || e->kind == RK_VECTOR_EXIT)
		rec_vector_kind(ev, e->name);
	p++;
	while (*p == ' ')
		p++;
	n = strlen(p);
	if (n && p[n - 1] == '\n')
		p[n - 1] = 0;
	if (tgid_col && e->tgid > 0) /* a column of dashes only says none */
		r->has_tgids = 1;
	if (parse_fields(t, e, p)) {
		char why[96];

		if (e->kind >= RK_IRQ_ENTRY)
			return 0; /* only the analysis reads it: skipped, not refused */
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
