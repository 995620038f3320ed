/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What kvmrt's commands share: the common flags (-v, --help), Ctrl-C and
 * SIGTERM ending a run, and the BPF side loaded and attached with the
 * collector over it (trace, top, export, control; report reads a
 * recording instead, and shares the flags).
 */
#ifndef KVMRT_SESSION_H
#define KVMRT_SESSION_H

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include "collector.h"
#include "loader.h"

/* Above every other option value: a command's own (from 256), the
 * filter's (0x1000) and results' (after it); session.c checks. */
#define SESSION_OPT_HELP 0x4000
#define SESSION_SHORTOPTS "v"
#define SESSION_LONGOPTS                                                                           \
	{ "verbose", no_argument, NULL, 'v' }, { "help", no_argument, NULL, SESSION_OPT_HELP }
#define SESSION_USAGE                                                                              \
	"  -v, --verbose          more messages (libbpf's too)\n"                                     \
	"      --help             this help\n"

/* After getopt returned c: 1 if it was -v (handled), -1 if --help (usage
 * printed to stdout: the command exits 0), 0 if it is not a common flag. */
int session_option(int c, void (*usage)(FILE *f));

/* Set by SIGINT and SIGTERM once session_catch_signals ran: the run ends. */
extern volatile sig_atomic_t session_stop;
void session_catch_signals(void);

struct session {
	struct loader l;
	struct collector c;
	int stats_fd; /* BPF run-time stats while open, or -1 */
};

/* Load and attach (lo), start the collector (fn: outlier records), and
 * with bpf_stats the kernel's BPF run-time stats. 0, or -1 with what
 * failed printed and nothing left open. */
int session_open(struct session *s, const struct loader_opts *lo, outlier_fn fn, void *ctx,
		 int bpf_stats);
void session_close(struct session *s);

#endif
