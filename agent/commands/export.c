// SPDX-License-Identifier: GPL-2.0
/*
 * kvmrt export: a Prometheus exporter. The main thread owns the collector:
 * every --interval it takes a snapshot, renders the exposition text and
 * publishes it (a pointer swap under a mutex). HTTP requests, served by
 * libmicrohttpd's own thread, copy the last published text and never touch
 * the collector, so a slow or hostile client cannot stall measurement.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "analysis.h"
#include "clock.h"
#include "collector.h"
#include "commands.h"
#include "filter.h"
#include "gone.h"
#include "log.h"
#include "metrics.h"
#include "httpd.h"
#include "session.h"

struct export_opts {
	const char *listen;
	double interval_s;
	double grace_s;
	struct vm_filter filter;
	const char *web_config;
	int bpf_stats;
	int analyze;	/* -a: kvmrt_interference_seconds_total */
};

struct exporter {
	struct export_opts o;
	struct host_info host;	/* read at start */
	struct session ses;
	struct httpd http;
	struct gone_list gone;
	struct analysis an;	/* -a */
};


/* Keep only VMs that pass the filter in the published series. */
static void filter_snapshot(struct snapshot *s, const struct vm_filter *f)
{
	int i, j, n = 0;

	for (i = 0; i < s->nvms; i++) {
		struct vm_stats *vm = &s->vms[i];
		int m = 0;

		if (!filter_vm(f, vm->pid, vm->name)) {
			for (j = 0; j < vm->nvcpus; j++)
				free(vm->vcpus[j].exits);
			free(vm->vcpus);
			continue;
		}
		for (j = 0; j < vm->nvcpus; j++) {
			if (filter_vcpu(f, vm->vcpus[j].vcpu))
				vm->vcpus[m++] = vm->vcpus[j];
			else
				free(vm->vcpus[j].exits);
		}
		vm->nvcpus = m;
		s->vms[n++] = *vm;
	}
	s->nvms = n;
}

/* VMs that are gone keep their series for the grace period, then are
 * forgotten (series disappear, map entries freed). */
static void expire_gone(struct exporter *e, const struct snapshot *s, __u64 now)
{
	__u32 pid;

	gone_note(&e->gone, s, now);
	while ((pid = gone_due(&e->gone, now, (__u64)(e->o.grace_s * 1e9)))) {
		pr_info("VM pid %u gone for %.0f s: forgetting it", pid, e->o.grace_s);
		if (e->o.analyze)
			analysis__forget_vm(&e->an, pid);
		collector__forget(&e->ses.c, pid);
	}
}

static int publish(struct exporter *e, struct snapshot *prev)
{
	struct snapshot s, last;
	struct metrics_ctx m;
	struct boost_view boosts;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	collector__refresh(&e->ses.c);
	collector__poll(&e->ses.c, 0);
	collector__snapshot(&e->ses.c, &s);
	expire_gone(e, &s, s.t_ns);
	snapshot__diff(prev, &s, &last);
	filter_snapshot(&s, &e->o.filter);
	f = open_memstream(&text, &len);
	if (!f) {
		snapshot__free(&s);
		snapshot__free(&last);
		return -errno;
	}
	m.l = &e->ses.l;
	m.s = &s;
	m.last = &last;
	m.version = KVMRT_VERSION;
	m.host = &e->host;
	m.analysis = e->o.analyze ? &e->an : NULL;
	boost_view_read(&boosts);
	m.boosts = &boosts;
	metrics_render(f, &m);
	boost_view_free(&boosts);
	fclose(f);
	httpd_publish(&e->http, text, len);
	snapshot__free(&last);
	snapshot__free(prev);
	*prev = s;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: kvmrt export [OPTIONS]\n"
		"Serve guest interrupt latency metrics to Prometheus.\n\n"
		"  -l, --listen ADDR:PORT  where to listen (default %s)\n"
		"  -i, --interval SEC      collect every SEC seconds (default 1)\n"
		"      --grace SEC         keep a gone VM's series this long (default 60)\n"
		"  -p, --pid PID[,PID]     only these VMM processes\n"
		"  -g, --guest NAME        only VMs with this name (shell glob allowed)\n"
		"      --vcpu N            only vCPU N\n"
		"      --web-config FILE   TLS and basic auth, as Prometheus exporters do\n"
		"      --no-bpf-stats      do not turn on kernel BPF run-time stats\n"
		"  -a, --analyze           kvmrt_interference_seconds_total: what held each\n"
		"                          vCPU's CPU in its slowest 1%% of interrupts, by kind\n"
		SESSION_USAGE,
		HTTPD_DEFAULT_LISTEN);
}

static int parse_args(struct export_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "interval", required_argument, NULL, 'i' },
		{ "grace", required_argument, NULL, OPT_GRACE },
		FILTER_LONGOPTS,
		{ "web-config", required_argument, NULL, OPT_WEB_CONFIG },
		{ "no-bpf-stats", no_argument, NULL, OPT_NO_BPF_STATS },
		{ "analyze", no_argument, NULL, 'a' },
		SESSION_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	int c, ret;

	filter_init(&o->filter);
	o->listen = HTTPD_DEFAULT_LISTEN;
	o->interval_s = 1;
	o->grace_s = 60;
	o->bpf_stats = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "l:i:p:g:a" SESSION_SHORTOPTS, longopts, NULL)) != -1) {
		int so = session_option(c, filter_option(&o->filter, c, optarg), usage, &ret);

		if (so < 0)
			return ret;
		if (so)
			continue;
		switch (c) {
		case 'l':
			o->listen = optarg;
			break;
		case 'i':
			if (cli_number("interval (seconds)", optarg, 0.1, 86400, &o->interval_s))
				return 2;
			break;
		case OPT_GRACE:
			if (cli_number("grace (seconds)", optarg, 0, 86400, &o->grace_s))
				return 2;
			break;
		case OPT_WEB_CONFIG:
			o->web_config = optarg;
			break;
		case OPT_NO_BPF_STATS:
			o->bpf_stats = 0;
			break;
		case 'a':
			o->analyze = 1;
			break;
		default:
			return 2; /* getopt said what was wrong, in one line */
		}
	}
	if (cli_no_extra_args("export", argc, argv))
		return 2;
	return 0;
}

int cmd_export(int argc, char **argv)
{
	struct loader_opts lo = { 0 };
	struct sockaddr_storage ss;
	struct exporter e;
	struct snapshot prev;
	socklen_t sl;
	int err, ret = 1;
	__u64 next;

	memset(&e, 0, sizeof(e));
	memset(&prev, 0, sizeof(prev));
	err = parse_args(&e.o, argc, argv);
	if (err)
		return err < 0 ? 0 : err;
	if (httpd_parse_listen(e.o.listen, &ss, &sl))
		return 2;
	if (e.o.analyze) {
		if (analysis__init(&e.an, 0, NULL, NULL)) {
			pr_err("out of memory");
			goto out;
		}
		analysis__loader_opts(&e.an, &lo);
	}
	if (session_open(&e.ses, &lo, e.o.analyze ? analysis__on_outlier : NULL,
			 e.o.analyze ? &e.an : NULL, e.o.bpf_stats, &e.o.filter))
		goto out;
	if (e.o.analyze)
		analysis__attach(&e.an, &e.ses.c);
	host_info_read(&e.host, "/sys");
	if (httpd_start(&e.http, e.o.listen, e.o.web_config))
		goto out_session;
	collector__snapshot(&e.ses.c, &prev);
	publish(&e, &prev);
	session_catch_signals();
	fprintf(stderr, "kvmrt: exporting on %s%s (%d programs attached)\n", e.o.listen,
		e.http.have_web && e.http.web.cert_pem ? " with TLS" : "", e.ses.l.nattached);

	next = mono_ns();
	while (!session_stop) {
		__u64 now = mono_ns();

		next += (__u64)(e.o.interval_s * 1e9);
		if (next <= now)
			next = now;
		/* records all along the interval: a new VM's name is read
		 * when it appears, not at the next publish */
		while (!session_stop && (now = mono_ns()) < next) {
			__u64 ms = (next - now) / 1000000 + 1;

			/* -a's records come without a wake-up: read at least this often */
			if (e.o.analyze && ms > KVMRT_ANALYZE_POLL_MS)
				ms = KVMRT_ANALYZE_POLL_MS;
			collector__poll(&e.ses.c, (int)ms);
		}
		if (session_stop)
			break;
		publish(&e, &prev);
	}
	ret = 0;
	if (e.o.analyze && (e.an.lost || e.an.restarts))
		pr_warn("-a: %llu records left out of the timeline (no memory), it started afresh %llu times",
			(unsigned long long)e.an.lost, (unsigned long long)e.an.restarts);
	httpd_stop(&e.http);
out_session:
	snapshot__free(&prev);
	session_close(&e.ses);
out:
	gone_free(&e.gone);
	analysis__free(&e.an);
	return ret;
}
