// SPDX-License-Identifier: GPL-2.0
/*
 * kvmrt top: the live latency view. Every -d seconds it takes a snapshot
 * from the collector (the same one kvmrt trace reads) and shows, per vCPU,
 * what happened in the last interval or since start: interrupt rate,
 * response and delivery percentiles, host scheduling delay, exits, time
 * halted, and where and how the vCPU thread runs. Full screen (ncurses)
 * or, with -b, plain text frames for scripts and logs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <ncurses.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "escape.h"
#include "clock.h"
#include "collector.h"
#include "endpoints.h"
#include "commands.h"
#include "episode.h"
#include "filter.h"
#include "latency.h"
#include "log.h"
#include "names.h"
#include "session.h"
#include "analysis.h"
#include "boost_view.h"
#include "procfs.h"

struct row {
	char vm[VMREG_NAME_LEN];
	__u32 pid;
	__u32 vcpu;
	__u32 tid;
	struct task_sched ts;
	int have_ts;
	enum boost_state boost; /* boost_view.h */
	double irq_s;
	struct lat_summary resp;
	struct lat_summary deliv;
	struct lat_summary wait;
	double exits_s;
	const char *top_exit;
	char top_exit_buf[32];
	double halted_pct;
	int end_top;		/* how most episodes of the interval ended (-1: none) */
	double end_pct;		/* that kind's share */
	struct lat_summary tlate; /* LAPIC timer lateness (kvm_wait_lapic_expire) */
	char cause[40];		/* -a: its slow episodes' main cause, and its share */
};

/* Sortable columns: the key that selects one, and how rows compare. */
enum col { C_VM, C_VCPU, C_IRQ, C_P50, C_P99, C_MAX, C_DELIV, C_WAIT, C_EXITS, C_HALT, C_NCOLS };

static const struct column {
	char key;
	const char *name;
} columns[C_NCOLS] = {
	[C_VM] = { 'N', "VM" },	      [C_VCPU] = { 'V', "VCPU" },    [C_IRQ] = { 'I', "IRQ/s" },
	[C_P50] = { '5', "RESP50" },  [C_P99] = { '9', "RESP99" },   [C_MAX] = { 'M', "RESPMAX" },
	[C_DELIV] = { 'D', "DLV99" }, [C_WAIT] = { 'W', "WAIT99" },  [C_EXITS] = { 'E', "EXIT/s" },
	[C_HALT] = { 'H', "HALT%" },
};

struct top_opts {
	double delay_s;
	struct vm_filter filter;
	int batch;
	long iterations;
	int analyze;	/* -a: each vCPU's main cause (CAUSE) */
};

struct top {
	struct top_opts o;
	struct session ses;
	struct analysis an;
	struct snapshot first, prev, cur;
	int have_prev;
	int sort;
	int since_start;
	int paused;
	int help;
	char name_filter[64];
	struct row *rows;
	int nrows;
	double dt;
	struct rusage ru_prev;
	__u64 t_prev;
	double agent_cpu;
	__u64 lost;
	double irq_total;
};


static const char *policy_name(int p)
{
	switch (p & ~SCHED_RESET_ON_FORK) {
	case SCHED_OTHER:
		return "TS";
	case SCHED_FIFO:
		return "FF";
	case SCHED_RR:
		return "RR";
	case SCHED_BATCH:
		return "B";
	case SCHED_IDLE:
		return "IDL";
	case 6:
		return "DLN";
	}
	return "?";
}

static double row_key(const struct row *r, int col)
{
	switch (col) {
	case C_VCPU:
		return r->vcpu;
	case C_IRQ:
		return r->irq_s;
	case C_P50:
		return r->resp.p50_ns;
	case C_P99:
		return r->resp.p99_ns;
	case C_MAX:
		return r->resp.max_ns;
	case C_DELIV:
		return r->deliv.p99_ns;
	case C_WAIT:
		return r->wait.p99_ns;
	case C_EXITS:
		return r->exits_s;
	case C_HALT:
		return r->halted_pct;
	}
	return 0;
}

static int sort_col;

/* Rows stay grouped under their VM: VMs by name/pid, vCPUs by the key
 * (descending for figures, ascending for names and numbers). */
static int cmp_rows(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	double kx, ky;
	int c = strcmp(x->vm, y->vm);

	if (c)
		return c;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (sort_col == C_VM || sort_col == C_VCPU)
		return x->vcpu < y->vcpu ? -1 : x->vcpu > y->vcpu;
	kx = row_key(x, sort_col);
	ky = row_key(y, sort_col);
	if (kx != ky)
		return kx > ky ? -1 : 1;
	return x->vcpu < y->vcpu ? -1 : x->vcpu > y->vcpu;
}

/* Order VMs by their best row under the sort key, then group. */
static void sort_rows(struct top *t)
{
	int i, j;

	sort_col = t->sort;
	qsort(t->rows, t->nrows, sizeof(*t->rows), cmp_rows);
	if (t->sort == C_VM || t->sort == C_VCPU)
		return;
	/* selection of whole VM groups by their first (best) row */
	for (i = 0; i < t->nrows;) {
		int best = i, end_best, end_i, n;
		struct row *tmp;

		for (j = i; j < t->nrows;) {
			int e = j;

			while (e < t->nrows && t->rows[e].pid == t->rows[j].pid)
				e++;
			if (row_key(&t->rows[j], t->sort) > row_key(&t->rows[best], t->sort))
				best = j;
			j = e;
		}
		end_i = i;
		while (end_i < t->nrows && t->rows[end_i].pid == t->rows[i].pid)
			end_i++;
		if (best == i) {
			i = end_i;
			continue;
		}
		end_best = best;
		while (end_best < t->nrows && t->rows[end_best].pid == t->rows[best].pid)
			end_best++;
		/* rotate the best group to position i */
		n = end_best - best;
		tmp = malloc(n * sizeof(*tmp));
		if (!tmp)
			return;
		memcpy(tmp, &t->rows[best], n * sizeof(*tmp));
		memmove(&t->rows[i + n], &t->rows[i], (best - i) * sizeof(*tmp));
		memcpy(&t->rows[i], tmp, n * sizeof(*tmp));
		free(tmp);
		i += n;
	}
}

/* The kind most episodes ended by (enum kvmrt_end), and its share. */
static void ends_of(const struct kvmrt_counters *c, int *top, double *pct)
{
	__u64 n = 0, best = 0;
	int k;

	*top = -1;
	for (k = 0; k < END_NR; k++) {
		n += c->ends[k];
		if (c->ends[k] > best) {
			best = c->ends[k];
			*top = k;
		}
	}
	*pct = n ? 100.0 * best / n : 0;
}

/* -a: the main cause of the vCPU's slow episodes (of the interval, or
 * since start), escaped: a thread's name is anyone's */
static void cause_of(struct top *t, struct row *r)
{
	const struct if_part *p;
	char what[64];
	double share;

	snprintf(r->cause, sizeof(r->cause), "-");
	if (!t->o.analyze || !(p = analysis__main(&t->an, r->pid, r->vcpu, t->since_start, &share)))
		return;
	if_label_text(&p->who, what, sizeof(what));
	snprintf(r->cause, sizeof(r->cause), "%.0f%% %s", share * 100, esc_str(what));
}

static void build_rows(struct top *t, struct snapshot *d, double dt)
{
	struct boost_view boosts;
	int i, j, k, n = 0;

	boost_view_read(&boosts);

	free(t->rows);
	t->rows = NULL;
	t->nrows = 0;
	t->irq_total = 0;
	for (i = 0; i < d->nvms; i++)
		n += d->vms[i].nvcpus;
	t->rows = calloc(n ? n : 1, sizeof(*t->rows));
	if (!t->rows)
		return;
	for (i = 0; i < d->nvms; i++) {
		struct vm_stats *vm = &d->vms[i];

		if (!vm->alive || !filter_vm(&t->o.filter, vm->pid, vm->name))
			continue;
		if (t->name_filter[0] && !strstr(vm->name, t->name_filter))
			continue;
		for (j = 0; j < vm->nvcpus; j++) {
			struct vcpu_stats *v = &vm->vcpus[j];
			struct row *r = &t->rows[t->nrows];
			__u64 nexits = 0, top = 0;

			if (!filter_vcpu(&t->o.filter, v->vcpu))
				continue;
			t->nrows++;
			snprintf(r->vm, sizeof(r->vm), "%s", vm->name);
			r->pid = vm->pid;
			r->vcpu = v->vcpu;
			r->tid = v->tid;
			r->have_ts = v->tid && !task_sched_read("/proc", vm->pid, v->tid, &r->ts);
			r->boost = boost_state_of(&boosts, v->tid, r->have_ts ? &r->ts : NULL);
			/* interrupts that ended: every one counted once, as in trace */
			r->irq_s = dt > 0 ? v->c.completed / dt : 0;
			t->irq_total += r->irq_s;
			lat_from_hist(&v->h[M_RESPONSE], &r->resp);
			lat_from_hist(&v->h[M_DELIVERY], &r->deliv);
			lat_from_hist(&v->h[M_VCPU_WAIT], &r->wait);
			r->top_exit = NULL;
			for (k = 0; k < v->nexits; k++) {
				nexits += v->exits[k].count;
				if (v->exits[k].count > top) {
					top = v->exits[k].count;
					r->top_exit = exit_reason_label(v->exits[k].isa,
									v->exits[k].reason,
									r->top_exit_buf,
									sizeof(r->top_exit_buf));
				}
			}
			r->exits_s = dt > 0 ? nexits / dt : 0;
			r->halted_pct = dt > 0 ? 100.0 * v->c.halted_ns / (dt * 1e9) : 0;
			if (r->halted_pct > 100)
				r->halted_pct = 100;
			ends_of(&v->c, &r->end_top, &r->end_pct);
			lat_from_hist(&v->h[M_TIMER_LATE], &r->tlate);
			cause_of(t, r);
		}
	}
	sort_rows(t);
	boost_view_free(&boosts);
}

/* Take a snapshot and compute the figures for the view. */
static void sample(struct top *t)
{
	struct snapshot d;
	struct rusage ru;
	__u64 now;
	double cpu;

	collector__refresh(&t->ses.c);
	collector__poll(&t->ses.c, 0);
	if (t->have_prev)
		snapshot__free(&t->prev);
	t->prev = t->cur;
	collector__snapshot(&t->ses.c, &t->cur);
	now = t->cur.t_ns;
	getrusage(RUSAGE_SELF, &ru);
	if (t->have_prev) {
		double wall = (now - t->t_prev) / 1e9;

		cpu = (ru.ru_utime.tv_sec - t->ru_prev.ru_utime.tv_sec) +
		      (ru.ru_utime.tv_usec - t->ru_prev.ru_utime.tv_usec) / 1e6 +
		      (ru.ru_stime.tv_sec - t->ru_prev.ru_stime.tv_sec) +
		      (ru.ru_stime.tv_usec - t->ru_prev.ru_stime.tv_usec) / 1e6;
		t->agent_cpu = wall > 0 ? 100 * cpu / wall : 0;
	}
	t->ru_prev = ru;
	t->t_prev = now;
	if (t->since_start || !t->have_prev) {
		snapshot__diff(&t->first, &t->cur, &d);
		t->dt = (t->cur.t_ns - t->first.t_ns) / 1e9;
	} else {
		snapshot__diff(&t->prev, &t->cur, &d);
		t->dt = (t->cur.t_ns - t->prev.t_ns) / 1e9;
	}
	t->lost = d.lost;
	build_rows(t, &d, t->dt);
	snapshot__free(&d);
	if (t->o.analyze)
		analysis__forget(&t->an, 0); /* the next interval's own */
	t->have_prev = 1;
}

static void fmt_us(char *buf, size_t len, __u64 ns, int observed)
{
	if (!observed)
		snprintf(buf, len, "-");
	else if (ns >= 10000000)
		snprintf(buf, len, "%.0fm", ns / 1e6);
	else
		snprintf(buf, len, "%.1f", ns / 1e3);
}

static int observable(struct top *t, int e)
{
	return endpoint_observable(e, t->ses.l.attached, t->cur.hits);
}

static void header_lines(struct top *t, char lines[4][256])
{
	int nvms = 0, i;
	__u32 last = 0;
	char ep[128] = "";

	for (i = 0; i < t->nrows; i++)
		if (!i || t->rows[i].pid != last) {
			nvms++;
			last = t->rows[i].pid;
		}
	for (i = 0; i < ENDPOINT_NR; i++)
		if (observable(t, i)) {
			strcat(ep, " ");
			strcat(ep, endpoint_name(i));
		}
	snprintf(lines[0], 256,
		 "kvmrt top - %s %.1fs%s | VMs %d vCPUs %d | irq/s %.0f | lost %llu | progs %d/%d | agent CPU %.1f%%",
		 t->since_start ? "since start" : "interval", t->dt, t->paused ? " [paused]" : "",
		 nvms, t->nrows, t->irq_total, (unsigned long long)t->lost, t->ses.l.nattached, P_NR + (t->o.analyze ? A_NR : 0),
		 t->agent_cpu);
	snprintf(lines[1], 256, "observable:%s | sort: %s%s%s", ep, columns[t->sort].name,
		 t->name_filter[0] ? " | filter: " : "", t->name_filter);
	snprintf(lines[2], 256,
		 "%-16s %7s %5s %7s %3s %-6s %5s %8s %8s %8s %8s %8s %8s %-18s %6s %-11s %8s%s",
		 "VM", "PID", "VCPU", "TID", "CPU", "POLICY", "BOOST", "IRQ/s", "RESP50", "RESP99",
		 "RESPMAX", "DLV99", "WAIT99", "EXIT/s TOP", "HALT%", "ENDED-BY", "TLATE99",
		 t->o.analyze ? " CAUSE" : "");
	lines[3][0] = 0;
}

static void row_line(struct top *t, const struct row *r, char *buf, size_t len)
{
	char p50[16], p99[16], mx[16], dl[16], wt[16], pol[16], ex[32], end[24], tl[16];
	int deliv = observable(t, ENDPOINT_DELIVER), exits = observable(t, ENDPOINT_EXITS);

	fmt_us(p50, sizeof(p50), r->resp.p50_ns, r->resp.count > 0);
	fmt_us(p99, sizeof(p99), r->resp.p99_ns, r->resp.count > 0);
	fmt_us(mx, sizeof(mx), r->resp.max_ns, r->resp.count > 0);
	fmt_us(dl, sizeof(dl), r->deliv.p99_ns, deliv && r->deliv.count > 0);
	fmt_us(wt, sizeof(wt), r->wait.p99_ns, r->wait.count > 0);
	if (!r->have_ts)
		snprintf(pol, sizeof(pol), "-");
	else if ((r->ts.policy & ~SCHED_RESET_ON_FORK) == SCHED_FIFO ||
		 (r->ts.policy & ~SCHED_RESET_ON_FORK) == SCHED_RR)
		snprintf(pol, sizeof(pol), "%s/%d", policy_name(r->ts.policy), r->ts.rt_priority);
	else
		snprintf(pol, sizeof(pol), "%s/%d", policy_name(r->ts.policy), r->ts.nice);
	if (exits)
		snprintf(ex, sizeof(ex), "%.0f %.11s", r->exits_s, r->top_exit ? r->top_exit : "");
	else
		snprintf(ex, sizeof(ex), "-");
	if (r->end_top < 0)
		snprintf(end, sizeof(end), "-");
	else
		snprintf(end, sizeof(end), "%s %.0f%%", end_name(r->end_top), r->end_pct);
	fmt_us(tl, sizeof(tl), r->tlate.p99_ns, r->tlate.count > 0);
	snprintf(buf, len,
		 "%-16.16s %7u %5u %7u %3d %-6s %5s %8.0f %8s %8s %8s %8s %8s %-18s %6.1f %-11s %8s%s%s",
		 r->vm, r->pid, r->vcpu, r->tid, r->have_ts ? r->ts.cpu : -1, pol,
		 boost_state_name(r->boost),
		 r->irq_s,
		 p50, p99, mx, dl, wt, ex, r->halted_pct, end, tl, t->o.analyze ? " " : "",
		 t->o.analyze ? r->cause : "");
}

static void print_batch(struct top *t)
{
	char h[4][256], line[512];
	int i;

	header_lines(t, h);
	printf("%s\n%s\n\n%s\n", h[0], h[1], h[2]);
	for (i = 0; i < t->nrows; i++) {
		row_line(t, &t->rows[i], line, sizeof(line));
		printf("%s\n", line);
	}
	printf("\n");
	fflush(stdout);
}

static const char *const help_text[] = {
	"kvmrt top keys",
	"",
	"  q          quit",
	"  < >        sort by the previous / next column",
	"  N V I 5 9 M D W E H   sort by VM, vCPU, irq/s, response p50/p99/max,",
	"                        delivery p99, wait p99, exits/s, halted %",
	"  f          filter VMs by name (empty: no filter)",
	"  p          pause / resume",
	"  r          reset the since-start figures",
	"  i          interval / since-start figures",
	"  + -        refresh faster / slower",
	"  h          this help (any key returns)",
};

static void draw(struct top *t)
{
	char h[4][256], line[512];
	int i, y;

	erase();
	if (t->help) {
		for (i = 0; i < (int)(sizeof(help_text) / sizeof(help_text[0])); i++)
			mvaddnstr(i, 0, help_text[i], COLS);
		refresh();
		return;
	}
	header_lines(t, h);
	mvaddnstr(0, 0, h[0], COLS);
	mvaddnstr(1, 0, h[1], COLS);
	attron(A_REVERSE);
	mvaddnstr(3, 0, h[2], COLS);
	for (i = (int)strlen(h[2]); i < COLS; i++)
		addch(' ');
	attroff(A_REVERSE);
	for (i = 0, y = 4; i < t->nrows && y < LINES; i++, y++) {
		row_line(t, &t->rows[i], line, sizeof(line));
		mvaddnstr(y, 0, line, COLS);
	}
	if (!t->nrows)
		mvaddnstr(4, 0, "no VMs match", COLS);
	refresh();
}

/* Read a line at the bottom of the screen. */
static void prompt(const char *label, char *buf, size_t len)
{
	echo();
	curs_set(1);
	nodelay(stdscr, FALSE);
	move(2, 0);
	clrtoeol();
	addstr(label);
	getnstr(buf, (int)len - 1);
	noecho();
	curs_set(0);
}

/* Returns 1 to quit. */
static int handle_key(struct top *t, int ch)
{
	int i;

	if (t->help) {
		t->help = 0;
		return 0;
	}
	switch (ch) {
	case 'q':
		return 1;
	case '<':
		t->sort = (t->sort + C_NCOLS - 1) % C_NCOLS;
		break;
	case '>':
		t->sort = (t->sort + 1) % C_NCOLS;
		break;
	case 'f':
		prompt("filter VMs by name: ", t->name_filter, sizeof(t->name_filter));
		break;
	case 'p':
		t->paused = !t->paused;
		break;
	case 'r':
		snapshot__free(&t->first);
		collector__snapshot(&t->ses.c, &t->first);
		if (t->o.analyze)
			analysis__forget(&t->an, 1);
		break;
	case 'i':
		t->since_start = !t->since_start;
		break;
	case '+':
		t->o.delay_s = t->o.delay_s > 0.2 ? t->o.delay_s / 2 : 0.1;
		break;
	case '-':
		t->o.delay_s = t->o.delay_s < 60 ? t->o.delay_s * 2 : 60;
		break;
	case 'h':
	case '?':
		t->help = 1;
		break;
	case KEY_RESIZE:
		break;
	default:
		for (i = 0; i < C_NCOLS; i++)
			if (columns[i].key == ch)
				t->sort = i;
		break;
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: kvmrt top [OPTIONS]\n"
		"Live guest interrupt latency per vCPU.\n\n"
		"  -d, --delay SEC        refresh every SEC seconds (default 1)\n"
		"  -p, --pid PID[,PID]    only these VMM processes\n"
		"  -g, --guest NAME       only VMs with this name (shell glob allowed)\n"
		"      --vcpu N           only vCPU N\n"
		"  -b, --batch            plain text frames on stdout, no curses\n"
		"  -n, --iterations N     stop after N frames\n"
		"  -a, --analyze          CAUSE: the main cause of each vCPU's slowest 1%%\n"
		"                         (kvmrt trace -a's analysis)\n"
		"  -v, --verbose          libbpf and loader messages\n"
		"  -h, --help             this help (keys: press h in the view)\n");
}

static int parse_args(struct top_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "delay", required_argument, NULL, 'd' },
		FILTER_LONGOPTS,
		{ "batch", no_argument, NULL, 'b' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "analyze", no_argument, NULL, 'a' },
		SESSION_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c, ret;

	filter_init(&o->filter);
	o->delay_s = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:p:g:bn:a" SESSION_SHORTOPTS, longopts, NULL)) != -1) {
		int so = session_option(c, filter_option(&o->filter, c, optarg), usage, &ret);

		if (so < 0)
			return ret;
		if (so)
			continue;
		switch (c) {
		case 'd':
			if (cli_number("delay (seconds)", optarg, 0.1, 3600, &o->delay_s))
				return 2;
			break;
		case 'b':
			o->batch = 1;
			break;
		case 'a':
			o->analyze = 1;
			break;
		case 'n':
			errno = 0;
			o->iterations = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || o->iterations <= 0) {
				pr_err("invalid iterations '%s': expected a number > 0", esc_str(optarg));
				return 2;
			}
			break;
		default:
			return 2; /* getopt said what was wrong, in one line */
		}
	}
	if (cli_no_extra_args("top", argc, argv))
		return 2;
	return 0;
}

static void sleep_until(__u64 t)
{
	__u64 now = mono_ns();

	if (t > now) {
		struct timespec ts = { (t - now) / 1000000000ULL, (t - now) % 1000000000ULL };

		nanosleep(&ts, NULL);
	}
}

/* Until t: with -a, reading the ring meanwhile (its records come without
 * a wake-up, and would fill it in a frame's time) */
static void wait_until(struct top *t, __u64 until)
{
	__u64 now;

	if (!t->o.analyze) {
		sleep_until(until);
		return;
	}
	while (!session_stop && (now = mono_ns()) < until) {
		__u64 ms = (until - now) / 1000000 + 1;

		collector__poll(&t->ses.c, ms < KVMRT_ANALYZE_POLL_MS ? (int)ms : KVMRT_ANALYZE_POLL_MS);
	}
}

static int run_batch(struct top *t)
{
	__u64 next = mono_ns();
	long n = 0;

	while (!session_stop && (!t->o.iterations || n < t->o.iterations)) {
		next += (__u64)(t->o.delay_s * 1e9);
		wait_until(t, next);
		if (session_stop)
			break;
		sample(t);
		print_batch(t);
		n++;
	}
	return 0;
}

static int run_curses(struct top *t)
{
	__u64 next = mono_ns() + (__u64)(t->o.delay_s * 1e9);
	long n = 0;

	if (!initscr()) {
		pr_err("cannot initialize the terminal (TERM=%s)", getenv("TERM") ?: "");
		return 1;
	}
	cbreak();
	noecho();
	curs_set(0);
	keypad(stdscr, TRUE);
	sample(t);
	draw(t);
	while (!session_stop) {
		__u64 now = mono_ns();
		int ch, wait_ms = now < next ? (int)((next - now) / 1000000) : 0;

		if (t->o.analyze) { /* the ring read at least this often */
			collector__poll(&t->ses.c, 0);
			if (wait_ms > KVMRT_ANALYZE_POLL_MS)
				wait_ms = KVMRT_ANALYZE_POLL_MS;
		}
		timeout(wait_ms > 0 ? wait_ms : 1);
		ch = getch();
		if (ch != ERR) {
			if (handle_key(t, ch))
				break;
			if (!t->paused && ch == 'r')
				sample(t);
			draw(t);
			continue;
		}
		if (mono_ns() < next)
			continue;
		next += (__u64)(t->o.delay_s * 1e9);
		if (next < mono_ns())
			next = mono_ns() + (__u64)(t->o.delay_s * 1e9);
		if (t->paused) {
			/* the view stands still, the records do not wait: a new
			 * VM's (its name read while it lives) would be lost */
			collector__refresh(&t->ses.c);
			collector__poll(&t->ses.c, 0);
			continue;
		}
		sample(t);
		draw(t);
		if (t->o.iterations && ++n >= t->o.iterations)
			break;
	}
	endwin();
	return 0;
}

int cmd_top(int argc, char **argv)
{
	struct loader_opts lo = { 0 };
	struct top t;
	int err;

	memset(&t, 0, sizeof(t));
	err = parse_args(&t.o, argc, argv);
	if (err)
		return err < 0 ? 0 : err;
	t.sort = C_VM;
	if (t.o.analyze) {
		if (analysis__init(&t.an, 0, NULL, NULL)) {
			pr_err("out of memory");
			return 1;
		}
		analysis__loader_opts(&t.an, &lo);
	}
	if (session_open(&t.ses, &lo, t.o.analyze ? analysis__on_outlier : NULL,
			 t.o.analyze ? &t.an : NULL, 0, &t.o.filter)) {
		analysis__free(&t.an);
		return 1;
	}
	if (t.o.analyze)
		analysis__attach(&t.an, &t.ses.c);
	session_catch_signals();
	collector__snapshot(&t.ses.c, &t.first);
	collector__snapshot(&t.ses.c, &t.cur);
	t.t_prev = t.cur.t_ns;
	getrusage(RUSAGE_SELF, &t.ru_prev);
	t.have_prev = 1;
	err = t.o.batch ? run_batch(&t) : run_curses(&t);
	snapshot__free(&t.first);
	snapshot__free(&t.cur);
	snapshot__free(&t.prev);
	free(t.rows);
	session_close(&t.ses);
	analysis__free(&t.an);
	return err;
}
