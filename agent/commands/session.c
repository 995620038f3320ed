// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "log.h"
#include "results.h"
#include "session.h"

_Static_assert(OPT_FIRST > 255, "a long option's value collides with a short option's letter");

volatile sig_atomic_t session_stop;

static void on_signal(int sig)
{
	session_stop = 1;
}

void session_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int session_option(int c, int taken, void (*usage)(FILE *f), int *ret)
{
	if (taken < 0) {
		*ret = taken == -EIO ? 1 : 2; /* the parser said what was wrong */
		return -1;
	}
	if (taken)
		return 1;
	if (c == 'v') {
		log_level = LOG_DEBUG;
		return 1;
	}
	if (c == 'h') {
		usage(stdout);
		*ret = -1;
		return -1;
	}
	return 0;
}

int session_open(struct session *s, const struct loader_opts *lo, outlier_fn fn, void *ctx,
		 int bpf_stats, const struct vm_filter *only)
{
	s->stats_fd = -1;
	if (bpf_stats) {
		s->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (s->stats_fd < 0)
			pr_warn("enable BPF run-time stats: %s", strerror(-s->stats_fd));
	}
	if (loader__open_load_attach(&s->l, lo))
		goto fail;
	if (collector__init(&s->c, &s->l, fn, ctx)) {
		loader__destroy(&s->l);
		goto fail;
	}
	if (only)
		collector__keep(&s->c, filter_keep, (void *)only);
	return 0;
fail:
	if (s->stats_fd >= 0)
		close(s->stats_fd);
	s->stats_fd = -1;
	return -1;
}

void session_close(struct session *s)
{
	collector__destroy(&s->c);
	loader__destroy(&s->l);
	if (s->stats_fd >= 0)
		close(s->stats_fd);
	s->stats_fd = -1;
}
