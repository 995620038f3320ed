/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The end of a kvmrt trace or kvmrt report run: the options both take for
 * what they print, the outliers seen, and the printing (text or JSON) with
 * the SLO verdict as exit status.
 */
#ifndef KVMRT_RESULTS_H
#define KVMRT_RESULTS_H

#include <stddef.h>
#include <linux/types.h>
#include "causes.h"
#include "collector.h"
#include "filter.h"
#include "hostinfo.h"
#include "kvmrt.h"

#define MAX_OUTLIERS 10000

struct results_opts {
	struct vm_filter filter;
	__u64 threshold_ns;
	int hist;
	int json;
	const char *json_path;
	__u64 slo_ns;
	int quiet;
	int analyze;	/* -a */
};

struct results {
	struct results_opts o;
	const char *what;		/* "kvmrt trace", "kvmrt report" */
	int attached[P_NR];		/* the tracepoint was traced */
	const char *prog_mode[P_NR];	/* how, for JSON "programs": NULL is "off" */
	const char *aprog_mode[A_NR];	/* -a's, live: NULL is not there */
	int bpf_stats;			/* JSON bpf_stats from the snapshot */
	int live;			/* BPF programs ran: JSON events_missed */
	const struct host_info *host;	/* this host's; NULL for a recording */
	const char *(*vm_name)(void *ctx, __u32 pid);
	void *name_ctx;
	struct kvmrt_outlier *outliers;
	size_t noutliers;
	__u64 outliers_total;
	struct causes causes;		/* -a: what stood in each one's way */
	const __u64 *events_read;	/* a recording's events per kind (RK_NR), or NULL */
	__u64 ambiguous_injections;	/* a recording's, tied to no VM (report.c) */
	int analyzed;
};

/* The options trace and report share: -p, -g, --vcpu, -T, -a, -H, --json,
 * --slo, -q. results_option: 1 if opt was one of them and is valid, 0 if
 * not one of them, -EINVAL (one line printed) if its value is bad, -EIO if
 * it names a JSON file that cannot be written. */
#define RESULTS_SHORTOPTS "p:g:T:aHq"
#define RESULTS_LONGOPTS                                                                           \
	FILTER_LONGOPTS, { "threshold", required_argument, NULL, 'T' },                            \
		{ "analyze", no_argument, NULL, 'a' },                                             \
		{ "hist", no_argument, NULL, 'H' },                                                \
		{ "json", optional_argument, NULL, OPT_JSON },                             \
		{ "slo", required_argument, NULL, OPT_SLO },                               \
		{ "quiet", no_argument, NULL, 'q' }
#define RESULTS_USAGE                                                                              \
	"  -p, --pid PID[,PID]    only these VMM processes\n"                                      \
	"  -g, --guest NAME       only VMs with this name (shell glob allowed)\n"                  \
	"      --vcpu N           only vCPU N\n"                                                   \
	"  -T, --threshold USEC   print each episode slower than USEC, with its stages\n"          \
	"                         and who held the vCPU's CPU meanwhile\n"                         \
	"  -a, --analyze          each outlier's stages (-T's, else each vCPU's slowest\n"         \
	"                         1%%) broken into who held the CPU (threads, irqs,\n"             \
	"                         softirqs, NMIs, VM exits, the VMM, halt polling),\n"            \
	"                         and per vCPU where the tail went\n"                              \
	"  -H, --hist             response histogram per vCPU\n"                                  \
	"      --json[=FILE]      one JSON document at the end (default: stdout)\n"                \
	"      --slo USEC         exit status 3 if a vCPU's p99 response exceeds USEC\n"           \
	"  -q, --quiet            no outlier lines as they come\n"
void results_opts_init(struct results_opts *o);
int results_option(struct results_opts *o, int opt, const char *arg);

/* An outlier's episode, for episode.h's figures (response, stages). */
struct kvmrt_ep_done outlier_episode(const struct kvmrt_outlier *r);
/* analyzed: outliers come with their causes (-a) */
int results__init(struct results *t, const char *what, int analyzed);
/* An outlier record: kept (up to MAX_OUTLIERS) and printed as it comes
 * unless quiet or JSON, when its VM and vCPU match the filter; oc its
 * causes, NULL without -a. */
void results__outlier(struct results *t, const struct kvmrt_outlier *r,
		      const struct outlier_causes *oc);
/* Print the run (secs long) from its final snapshot; the exit status:
 * 0, 1 (JSON could not be written) or 3 (SLO violated). */
int results__print(struct results *t, struct snapshot *s, double secs);
void results__free(struct results *t);

#endif
