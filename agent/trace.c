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
#include "filter.h"
#include "latency.h"
#include "log.h"
#include "results.h"
#include <bpf/bpf.h>

struct trace_opts {
	double duration_s;
	int bpf_stats;
};

static volatile sig_atomic_t exiting;

static void on_sig(int sig)
{
	exiting = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: kvmrt trace [OPTIONS]\n"
		   "Measure guest interrupt latency per VM and vCPU, then report.\n\n"
		   "  -d, --duration SEC     trace for SEC seconds (default: until Ctrl-C)\n" RESULTS_USAGE
		   "  -v, --verbose          libbpf and loader messages\n"
		   "      --bpf-stats        measure the BPF programs' own cost (JSON: bpf_stats)\n"
		   "      --help             this help\n");
}

static int parse_args(struct trace_opts *o, struct results_opts *ro, int argc, char **argv)
{
	enum { OPT_HELP = RESULTS_OPT_LAST + 1, OPT_BPF_STATS };
	static const struct option longopts[] = {
		{ "duration", required_argument, NULL, 'd' },
		RESULTS_LONGOPTS,
		{ "verbose", no_argument, NULL, 'v' },
		{ "bpf-stats", no_argument, NULL, OPT_BPF_STATS },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	results_opts_init(ro);
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:" RESULTS_SHORTOPTS "v", longopts, NULL)) != -1) {
		int ropt = results_option(ro, c, optarg);

		if (ropt < 0)
			return ropt == -EIO ? 1 : 2; /* an output it cannot write; a bad value */
		if (ropt)
			continue;
		switch (c) {
		case 'd':
			if (cli_number("duration (seconds)", optarg, 0.001, 1e9, &o->duration_s))
				return 2;
			break;
		case 'v':
			log_level = LOG_DEBUG;
			break;
		case OPT_BPF_STATS:
			o->bpf_stats = 1;
			break;
		case OPT_HELP:
			usage(stdout);
			return -1;
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
	results__outlier(ctx, r);
}

int cmd_trace(int argc, char **argv)
{
	struct loader_opts lo = { 0 };
	struct trace_opts o = { 0 };
	struct results t = { 0 };
	struct host_info host;
	struct loader l;
	struct collector c;
	struct snapshot s;
	struct sigaction sa;
	__u64 t_start, t_end = 0, next_scan;
	double secs;
	int err, i, ret, stats_fd = -1;

	err = parse_args(&o, &t.o, argc, argv);
	if (err)
		return err < 0 ? 0 : err;
	for (i = 0; i < t.o.filter.npids; i++) {
		if (kill((pid_t)t.o.filter.pids[i], 0) && errno == ESRCH) {
			pr_err("no process with pid %u", t.o.filter.pids[i]);
			return 1;
		}
	}
	if (results__init(&t, "kvmrt trace"))
		return 1;
	lo.threshold_ns = t.o.threshold_ns;
	if (loader__open_load_attach(&l, &lo)) {
		results__free(&t);
		return 1;
	}
	err = collector__init(&c, &l, on_outlier, &t);
	if (err) {
		loader__destroy(&l);
		results__free(&t);
		return 1;
	}
	t.vm_name = vm_name;
	t.name_ctx = &c;
	t.bpf_stats = o.bpf_stats;
	t.live = 1;
	host_info_read(&host, "/sys");
	t.host = &host;
	for (i = 0; i < P_NR; i++) {
		t.attached[i] = l.attached[i];
		t.prog_mode[i] = !l.attached[i]		    ? "off" :
				 l.flavour[i] == FLAVOUR_BTF ? "tp_btf" :
							       "raw_tp";
	}
	if (o.bpf_stats) {
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (stats_fd < 0)
			pr_warn("enable BPF run-time stats: %s", strerror(-stats_fd));
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	t_start = mono_ns();
	if (o.duration_s)
		t_end = t_start + (__u64)(o.duration_s * 1e9);
	next_scan = t_start + 1000000000ULL;
	if (!t.o.quiet)
		fprintf(stderr, "kvmrt: tracing %d programs%s\n", l.nattached,
			o.duration_s ? "" : "; Ctrl-C to end");
	while (!exiting) {
		__u64 now = mono_ns();
		int wait_ms = 100;

		if (t_end && now >= t_end)
			break;
		if (t_end && (t_end - now) / 1000000 < (__u64)wait_ms)
			wait_ms = (int)((t_end - now) / 1000000) + 1;
		collector__poll(&c, wait_ms);
		if (mono_ns() >= next_scan) {
			collector__refresh(&c);
			next_scan = mono_ns() + 1000000000ULL;
		}
	}
	collector__poll(&c, 0);
	secs = (mono_ns() - t_start) / 1e9;
	collector__snapshot(&c, &s);
	ret = results__print(&t, &s, secs);
	snapshot__free(&s);
	collector__destroy(&c);
	loader__destroy(&l);
	results__free(&t);
	if (stats_fd >= 0)
		close(stats_fd);
	return ret;
}
