// SPDX-License-Identifier: GPL-2.0
/*
 * kvmrt trace: one-shot tracing of guest interrupt latency. Runs for -d
 * seconds or until Ctrl-C, prints outliers as they happen (-T), and at the
 * end a report per VM and vCPU (text, or one JSON document), with an SLO
 * verdict in the exit status (--slo).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"
#include "collector.h"
#include "commands.h"
#include "episode.h"
#include "analysis.h"
#include "filter.h"
#include "latency.h"
#include "log.h"
#include "results.h"
#include "session.h"

struct trace_opts {
	double duration_s;
	int bpf_stats;
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: kvmrt trace [OPTIONS]\n"
		   "Measure guest interrupt latency per VM and vCPU, then report.\n\n"
		   "  -d, --duration SEC     trace for SEC seconds (default: until Ctrl-C)\n" RESULTS_USAGE
		   "      --bpf-stats        measure the BPF programs' own cost (JSON: bpf_stats)\n"
		   SESSION_USAGE);
}

static int parse_args(struct trace_opts *o, struct results_opts *ro, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "duration", required_argument, NULL, 'd' },
		RESULTS_LONGOPTS,
		{ "bpf-stats", no_argument, NULL, OPT_BPF_STATS },
		SESSION_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	int c, ret;

	results_opts_init(ro);
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:" RESULTS_SHORTOPTS SESSION_SHORTOPTS, longopts, NULL)) != -1) {
		int so = session_option(c, results_option(ro, c, optarg), usage, &ret);

		if (so < 0)
			return ret;
		if (so)
			continue;
		switch (c) {
		case 'd':
			if (cli_number("duration (seconds)", optarg, 0.001, 1e9, &o->duration_s))
				return 2;
			break;
		case OPT_BPF_STATS:
			o->bpf_stats = 1;
			break;
		default:
			return 2; /* getopt said what was wrong, in one line */
		}
	}
	if (cli_no_extra_args("trace", argc, argv))
		return 2;
	return 0;
}

static const char *vm_name(void *ctx, __u32 pid)
{
	return collector__vm_name(ctx, pid);
}

static void on_outlier(struct collector *c, const struct kvmrt_outlier *r, void *ctx)
{
	results__outlier(ctx, r, NULL);
}

/* -a: each slow episode with what stood in its way */
static void on_analyzed(void *ctx, const struct kvmrt_outlier *r, const struct outlier_causes *oc)
{
	results__outlier(ctx, r, oc);
}

/* Until -d ends or a signal: outliers as they come, new VMs each second. */
/* 0, or -1 when the ring buffer could not be read (said why) */
static int trace_loop(struct collector *c, __u64 t_end, int analyze)
{
	__u64 next_scan = mono_ns() + 1000000000ULL;
	int err = 0;

	while (!session_stop) {
		__u64 now = mono_ns();
		/* -a's records come without a wake-up: read at least this often */
		int wait_ms = analyze ? KVMRT_ANALYZE_POLL_MS : 100, n;

		if (t_end && now >= t_end)
			break;
		if (t_end && (t_end - now) / 1000000 < (__u64)wait_ms)
			wait_ms = (int)((t_end - now) / 1000000) + 1;
		n = collector__poll(c, wait_ms);
		if (n < 0) { /* not EINTR: the ring buffer failed */
			pr_err("trace: reading the ring buffer: %s", strerror(-n));
			err = -1;
			break;
		}
		if (mono_ns() >= next_scan) {
			collector__refresh(c);
			next_scan = mono_ns() + 1000000000ULL;
		}
	}
	collector__poll(c, 0);
	return err;
}

int cmd_trace(int argc, char **argv)
{
	struct loader_opts lo = { 0 };
	struct trace_opts o = { 0 };
	struct results t = { 0 };
	struct analysis an;
	struct host_info host;
	struct session ses;
	struct snapshot s;
	__u64 t_start;
	double secs;
	int err, i, ret, failed;

	err = parse_args(&o, &t.o, argc, argv);
	if (err)
		return err < 0 ? 0 : err;
	for (i = 0; i < t.o.filter.npids; i++) {
		if (kill((pid_t)t.o.filter.pids[i], 0) && errno == ESRCH) {
			pr_err("no process with pid %u", t.o.filter.pids[i]);
			return 1;
		}
	}
	if (results__init(&t, "kvmrt trace", t.o.analyze))
		return 1;
	lo.threshold_ns = t.o.threshold_ns;
	memset(&an, 0, sizeof(an));
	if (t.o.analyze) {
		if (analysis__init(&an, t.o.threshold_ns, on_analyzed, &t)) {
			pr_err("out of memory");
			results__free(&t);
			return 1;
		}
		analysis__loader_opts(&an, &lo);
	}
	if (session_open(&ses, &lo, t.o.analyze ? analysis__on_outlier : on_outlier,
			 t.o.analyze ? (void *)&an : &t, o.bpf_stats, &t.o.filter)) {
		analysis__free(&an);
		results__free(&t);
		return 1;
	}
	if (t.o.analyze)
		analysis__attach(&an, &ses.c);
	t.vm_name = vm_name;
	t.name_ctx = &ses.c;
	t.bpf_stats = o.bpf_stats;
	t.live = 1;
	host_info_read(&host, "/sys");
	t.host = &host;
	for (i = 0; i < P_NR; i++) {
		t.attached[i] = ses.l.attached[i];
		t.prog_mode[i] = !ses.l.attached[i]		? "off" :
				 ses.l.flavour[i] == FLAVOUR_BTF ? "tp_btf" :
								   "raw_tp";
	}
	for (i = 0; i < A_NR; i++)
		if (ses.l.aattached[i])
			t.aprog_mode[i] = ses.l.aflavour[i] == FLAVOUR_BTF ? "tp_btf" : "raw_tp";
	session_catch_signals();
	t_start = mono_ns();
	if (!t.o.quiet)
		fprintf(stderr, "kvmrt: tracing %d programs%s\n", ses.l.nattached,
			o.duration_s ? "" : "; Ctrl-C to end");
	failed = trace_loop(&ses.c, o.duration_s ? t_start + (__u64)(o.duration_s * 1e9) : 0,
			    t.o.analyze);
	secs = (mono_ns() - t_start) / 1e9;
	collector__snapshot(&ses.c, &s);
	ret = results__print(&t, &s, secs); /* what was read until then */
	if (failed && ret == 0)
		ret = 1;
	if (an.lost)
		pr_warn("-a: %llu records left out of the timeline: out of memory",
			(unsigned long long)an.lost);
	snapshot__free(&s);
	session_close(&ses);
	analysis__free(&an);
	results__free(&t);
	return ret;
}
