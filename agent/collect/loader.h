/* SPDX-License-Identifier: GPL-2.0 */
/* Opens, loads and attaches the BPF programs: per tracepoint the tp_btf
 * flavour where BTF describes it, else the raw_tp twin, else nothing (the
 * report then says which endpoints it could not observe). */
#ifndef KVMRT_LOADER_H
#define KVMRT_LOADER_H

#include <linux/types.h>
#include "kvmrt.h"

struct kvmrt_bpf;
struct bpf_link;

enum prog_flavour { FLAVOUR_NONE, FLAVOUR_BTF, FLAVOUR_RAW };

/* The ring buffer's size with -a (1 MB without), and how often the agent
 * reads it then at least: its records come without a wake-up. */
#define KVMRT_ANALYZE_RING (8 << 20)
#define KVMRT_ANALYZE_POLL_MS 50

struct loader_opts {
	__u64 threshold_ns;	/* outlier records above this; 0: none */
	int force_raw;		/* raw_tp everywhere (tests drive them with test_run) */
	int no_attach;		/* load only */
	__u16 hint_port;	/* guest hint I/O port for kvmrt control; 0: none */
	int control;		/* kvmrt control co-schedules: send its records */
	int analyze;		/* -a: the analysis programs, and the CPUs watched */
};

struct loader {
	struct kvmrt_bpf *skel;
	struct bpf_link *links[P_NR];
	enum prog_flavour flavour[P_NR];
	int attached[P_NR];
	int nattached;
	/* -a's (KVMRT_ANALYSIS_TRACEPOINTS): none without it */
	struct bpf_link *alinks[A_NR];
	enum prog_flavour aflavour[A_NR];
	int aattached[A_NR];
};

int loader__open_load_attach(struct loader *l, const struct loader_opts *o);
/* The fd of program p in its chosen flavour, -1 if none. */
int loader__prog_fd(const struct loader *l, int p);
/* The same for -a's program a (enum kvmrt_aprog). */
int loader__aprog_fd(const struct loader *l, int a);
void loader__destroy(struct loader *l);

#endif
