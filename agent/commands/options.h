/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The getopt values of every long option without a short letter, for all
 * commands, from this one list: no two can collide, whichever options a
 * command combines (the shared ones of filter.h, results.h and session.h
 * with its own). Short letters are the characters themselves, below 256.
 */
#ifndef KVMRT_OPTIONS_H
#define KVMRT_OPTIONS_H

enum kvmrt_opt {
	OPT_FIRST = 256,
	/* shared: filter.h, results.h, session.h */
	OPT_VCPU = OPT_FIRST,
	OPT_JSON,
	OPT_SLO,
	OPT_HELP,
	/* trace */
	OPT_BPF_STATS,
	/* report */
	OPT_TSC_KHZ,
	/* export (--grace, --web-config: control's too) */
	OPT_GRACE,
	OPT_WEB_CONFIG,
	OPT_NO_BPF_STATS,
	/* control (--slo: trace's and report's name, its own meaning) */
	OPT_RT,
	OPT_PRIO,
	OPT_COSCHED,
	OPT_CAP,
	OPT_HINT_PORT,
	OPT_DRY_RUN,
	OPT_RESTORE,
	OPT_STATE,
	OPT_SHIELD,
	OPT_LISTEN,
	OPT_POLL,
	OPT_LAST,
};

#endif
