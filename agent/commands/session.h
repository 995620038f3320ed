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
#include "filter.h"
#include "loader.h"
#include "options.h"

/* -v and -h: every command's, as every command's --help is -h. */
#define SESSION_SHORTOPTS "vh"
#define SESSION_LONGOPTS                                                                           \
	{ "verbose", no_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' }
#define SESSION_USAGE                                                                              \
	"  -v, --verbose          more messages (libbpf's too)\n"                                     \
	"  -h, --help             this help\n"

/* The shared part of every command's option loop, after getopt returned
 * c and the command's shared parser (filter_option or results_option;
 * none: 0) said taken: 1 taken, 0 not, < 0 a bad value (-EIO: an output it
 * cannot write). Handles -v and --help. Returns 1 if c is done (next
 * option), 0 if it is the command's own, -1 if parse_args returns *ret:
 * -1 after --help (exit 0), 1 for an unwritable output, 2 for a bad value. */
int session_option(int c, int taken, void (*usage)(FILE *f), int *ret);

/* Set by SIGINT and SIGTERM once session_catch_signals ran: the run ends. */
extern volatile sig_atomic_t session_stop;
void session_catch_signals(void);

struct session {
	struct loader l;
	struct collector c;
	int stats_fd; /* BPF run-time stats while open, or -1 */
};

/* Load and attach (lo), start the collector (fn: outlier records), and
 * with bpf_stats the kernel's BPF run-time stats. only: the VMs and vCPUs
 * the command shows (-p, -g, --vcpu), the only ones the programs follow;
 * NULL: all. 0, or -1 with what failed printed and nothing left open. */
int session_open(struct session *s, const struct loader_opts *lo, outlier_fn fn, void *ctx,
		 int bpf_stats, const struct vm_filter *only);
void session_close(struct session *s);

#endif
