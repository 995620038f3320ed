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
#include <bpf/bpf.h>
#include "clock.h"
#include "collector.h"
#include "commands.h"
#include "filter.h"
#include "log.h"
#include "metrics.h"
#include "webcfg.h"

#ifndef KVMRT_VERSION
#define KVMRT_VERSION "0.1"
#endif

/* Unallocated in Prometheus's default port allocation list as far as we
 * could check (the 9100-9999 exporter range is taken): see README. */
#define EXPORT_DEFAULT_LISTEN "127.0.0.1:9976"
#define EXPORT_MAX_CONNECTIONS 64
#define EXPORT_CONN_TIMEOUT_S 10
#define EXPORT_CONN_MEMORY (32 * 1024)

struct export_opts {
	const char *listen;
	double interval_s;
	double grace_s;
	struct vm_filter filter;
	const char *web_config;
	int bpf_stats;
};

struct published {
	pthread_mutex_t lock;
	char *text;
	size_t len;
	__u64 scrapes;
};

struct gone {
	__u32 pid;
	__u64 since_ns;
};

struct exporter {
	struct export_opts o;
	struct loader l;
	struct collector c;
	struct published pub;
	struct webcfg web;
	int have_web;
	struct gone *gone;
	int ngone;
};

static volatile sig_atomic_t exiting;

static void on_sig(int sig)
{
	exiting = 1;
}

static const char landing[] =
	"<html><head><title>kvmrt exporter</title></head><body>"
	"<h1>kvmrt exporter</h1><p>Guest interrupt latency on KVM, per VM and vCPU.</p>"
	"<p><a href=\"/metrics\">Metrics</a></p></body></html>\n";

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status, const char *type,
			     const void *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_len, void **req_cls)
{
	struct exporter *e = cls;
	static int first_call;
	enum MHD_Result ret;

	if (*req_cls != &first_call) {
		/* headers only so far: wait for the whole request */
		*req_cls = &first_call;
		return MHD_YES;
	}
	if (*upload_len)
		return MHD_NO; /* no request bodies here */
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "GET only\n", 9);
	if (e->have_web && e->web.nusers) {
		char *pass = NULL, *user = MHD_basic_auth_get_username_password(conn, &pass);
		int ok = webcfg_check(&e->web, user, pass);

		if (user)
			MHD_free(user);
		if (pass)
			MHD_free(pass);
		if (!ok) {
			struct MHD_Response *r = MHD_create_response_from_buffer(
				13, (void *)"Unauthorized\n", MHD_RESPMEM_PERSISTENT);

			ret = MHD_queue_basic_auth_fail_response(conn, "kvmrt", r);
			MHD_destroy_response(r);
			return ret;
		}
	}
	if (!strcmp(url, "/metrics")) {
		char *copy;
		size_t len;

		pthread_mutex_lock(&e->pub.lock);
		len = e->pub.len;
		copy = malloc(len ? len : 1);
		if (copy)
			memcpy(copy, e->pub.text, len);
		e->pub.scrapes++;
		pthread_mutex_unlock(&e->pub.lock);
		if (!copy)
			return MHD_NO;
		{
			struct MHD_Response *r =
				MHD_create_response_from_buffer(len, copy, MHD_RESPMEM_MUST_FREE);

			if (!r) {
				free(copy);
				return MHD_NO;
			}
			MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
						"text/plain; version=0.0.4; charset=utf-8");
			ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
			MHD_destroy_response(r);
			return ret;
		}
	}
	if (!strcmp(url, "/"))
		return reply(conn, MHD_HTTP_OK, "text/html; charset=utf-8", landing,
			     sizeof(landing) - 1);
	return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", "Not Found\n", 10);
}

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
	int i, j;

	for (i = 0; i < s->nvms; i++) {
		const struct vm_stats *vm = &s->vms[i];
		int known = -1;

		for (j = 0; j < e->ngone; j++)
			if (e->gone[j].pid == vm->pid)
				known = j;
		if (vm->alive || known >= 0)
			continue;
		{
			struct gone *g = realloc(e->gone, (e->ngone + 1) * sizeof(*g));

			if (!g)
				continue;
			e->gone = g;
			e->gone[e->ngone].pid = vm->pid;
			e->gone[e->ngone++].since_ns = now;
		}
	}
	for (j = 0; j < e->ngone;) {
		if (now - e->gone[j].since_ns >= (__u64)(e->o.grace_s * 1e9)) {
			pr_info("VM pid %u gone for %.0f s: forgetting it", e->gone[j].pid,
				e->o.grace_s);
			collector__forget(&e->c, e->gone[j].pid);
			e->gone[j] = e->gone[--e->ngone];
			continue;
		}
		j++;
	}
}

static int publish(struct exporter *e, struct snapshot *prev)
{
	struct snapshot s, last;
	struct metrics_ctx m;
	char *text = NULL, *old;
	size_t len = 0;
	FILE *f;

	collector__refresh(&e->c);
	collector__poll(&e->c, 0);
	collector__snapshot(&e->c, &s);
	expire_gone(e, &s, s.t_ns);
	snapshot__diff(prev, &s, &last);
	filter_snapshot(&s, &e->o.filter);
	f = open_memstream(&text, &len);
	if (!f) {
		snapshot__free(&s);
		snapshot__free(&last);
		return -errno;
	}
	m.l = &e->l;
	m.s = &s;
	m.last = &last;
	m.version = KVMRT_VERSION;
	metrics_render(f, &m);
	fclose(f);
	pthread_mutex_lock(&e->pub.lock);
	old = e->pub.text;
	e->pub.text = text;
	e->pub.len = len;
	pthread_mutex_unlock(&e->pub.lock);
	free(old);
	snapshot__free(&last);
	snapshot__free(prev);
	*prev = s;
	return 0;
}

static int parse_listen(const char *arg, struct sockaddr_storage *ss, socklen_t *sl)
{
	char host[256];
	const char *colon = strrchr(arg, ':');
	struct addrinfo hints = { 0 }, *res;
	char *end;
	long port;

	if (!colon || colon == arg || (size_t)(colon - arg) >= sizeof(host))
		goto bad;
	port = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port < 1 || port > 65535)
		goto bad;
	memcpy(host, arg, colon - arg);
	host[colon - arg] = 0;
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host) - 2);
		host[strlen(host) - 2] = 0;
	}
	hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res))
		goto bad;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sl = res->ai_addrlen;
	freeaddrinfo(res);
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((unsigned short)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((unsigned short)port);
	return 0;
bad:
	pr_err("invalid --listen '%s': expected ADDR:PORT (numeric address, [v6]:port)", arg);
	return -EINVAL;
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
		"  -v, --verbose           more messages\n"
		"      --help              this help\n",
		EXPORT_DEFAULT_LISTEN);
}

static int parse_args(struct export_opts *o, int argc, char **argv)
{
	enum { OPT_GRACE = 256, OPT_WEB, OPT_NOSTATS, OPT_HELP };
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "interval", required_argument, NULL, 'i' },
		{ "grace", required_argument, NULL, OPT_GRACE },
		FILTER_LONGOPTS,
		{ "web-config", required_argument, NULL, OPT_WEB },
		{ "no-bpf-stats", no_argument, NULL, OPT_NOSTATS },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	filter_init(&o->filter);
	o->listen = EXPORT_DEFAULT_LISTEN;
	o->interval_s = 1;
	o->grace_s = 60;
	o->bpf_stats = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "l:i:p:g:v", longopts, NULL)) != -1) {
		int fo = filter_option(&o->filter, c, optarg);

		if (fo < 0)
			return 2;
		if (fo)
			continue;
		switch (c) {
		case 'l':
			o->listen = optarg;
			break;
		case 'i':
		case OPT_GRACE: {
			double v;

			errno = 0;
			v = strtod(optarg, &end);
			if (errno || end == optarg || *end || v < (c == 'i' ? 0.1 : 0) || v > 86400) {
				pr_err("invalid %s '%s': expected seconds", c == 'i' ? "interval" : "grace",
				       optarg);
				return 2;
			}
			if (c == 'i')
				o->interval_s = v;
			else
				o->grace_s = v;
			break;
		}
		case OPT_WEB:
			o->web_config = optarg;
			break;
		case OPT_NOSTATS:
			o->bpf_stats = 0;
			break;
		case 'v':
			log_level = LOG_DEBUG;
			break;
		case OPT_HELP:
			usage(stdout);
			return -1;
		default:
			return 2; /* getopt said what was wrong, in one line */
		}
	}
	if (optind < argc) {
		pr_err("export: unexpected argument '%s'", argv[optind]);
		return 2;
	}
	return 0;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	if (log_level >= LOG_INFO)
		vfprintf(stderr, fmt, ap);
}

int cmd_export(int argc, char **argv)
{
	struct loader_opts lo = { 0 };
	struct sockaddr_storage ss;
	struct MHD_Daemon *d = NULL;
	struct exporter e;
	struct snapshot prev;
	struct sigaction sa;
	unsigned int flags;
	socklen_t sl;
	int err, stats_fd = -1, ret = 1;
	__u64 next;

	memset(&e, 0, sizeof(e));
	memset(&prev, 0, sizeof(prev));
	err = parse_args(&e.o, argc, argv);
	if (err)
		return err < 0 ? 0 : err;
	if (parse_listen(e.o.listen, &ss, &sl))
		return 2;
	if (e.o.web_config) {
		if (webcfg_load(&e.web, e.o.web_config))
			return 1;
		e.have_web = 1;
	}
	pthread_mutex_init(&e.pub.lock, NULL);
	if (e.o.bpf_stats) {
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (stats_fd < 0)
			pr_warn("enable BPF run-time stats: %s", strerror(-stats_fd));
	}
	if (loader__open_load_attach(&e.l, &lo))
		goto out;
	if (collector__init(&e.c, &e.l, NULL, NULL)) {
		loader__destroy(&e.l);
		goto out;
	}
	collector__snapshot(&e.c, &prev);
	publish(&e, &prev);

	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (e.have_web && e.web.cert_pem)
		flags |= MHD_USE_TLS;
	d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, &e, MHD_OPTION_SOCK_ADDR, &ss,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)EXPORT_MAX_CONNECTIONS,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)EXPORT_CONN_TIMEOUT_S,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)EXPORT_CONN_MEMORY,
			     MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
			     MHD_OPTION_HTTPS_MEM_CERT, e.web.cert_pem, MHD_OPTION_HTTPS_MEM_KEY,
			     e.web.key_pem, MHD_OPTION_END);
	if (!d) {
		pr_err("listen on %s: %s", e.o.listen, strerror(errno ? errno : EADDRINUSE));
		goto out_collector;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fprintf(stderr, "kvmrt: exporting on %s%s (%d programs attached)\n", e.o.listen,
		e.have_web && e.web.cert_pem ? " with TLS" : "", e.l.nattached);

	next = mono_ns();
	while (!exiting) {
		__u64 now = mono_ns();

		next += (__u64)(e.o.interval_s * 1e9);
		if (next > now) {
			/* deliver outlier records (none: no threshold) while waiting */
			collector__poll(&e.c, (int)((next - now) / 1000000));
			if (exiting)
				break;
			now = mono_ns();
			if (now < next) {
				struct timespec ts = { 0, (long)(next - now) };

				if (ts.tv_nsec >= 1000000000L) {
					ts.tv_sec = ts.tv_nsec / 1000000000L;
					ts.tv_nsec %= 1000000000L;
				}
				nanosleep(&ts, NULL);
			}
		} else {
			next = now;
		}
		publish(&e, &prev);
	}
	ret = 0;
	MHD_stop_daemon(d);
out_collector:
	snapshot__free(&prev);
	collector__destroy(&e.c);
	loader__destroy(&e.l);
out:
	free(e.pub.text);
	free(e.gone);
	webcfg_free(&e.web);
	if (stats_fd >= 0)
		close(stats_fd);
	return ret;
}
