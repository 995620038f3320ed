/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What each event says of who runs on its CPU, into the interference
 * timeline (interference.h): the one path for `kvmrt report -a` (a
 * recording's events) and `kvmrt trace -a` (the BPF programs' REC_IF
 * records, turned into the same events). Also where each stage of an
 * outlier passed: the CPU of its wakeup and of its switch-in.
 */
#ifndef KVMRT_IF_FEED_H
#define KVMRT_IF_FEED_H

#include <linux/types.h>
#include "interference.h"
#include "recording.h"
#include "store.h"

/* A task's comm where an event does not carry it (NULL: unknown). */
typedef const char *(*if_comm_fn)(void *ctx, __u32 pid);

struct if_feed {
	struct if_timeline tl;
	if_comm_fn comm_of;
	void *ctx;
	struct kvs_table threads; /* tid -> its last wakeup, switch-in, exit to the VMM */
};

int if_feed__init(struct if_feed *f, if_comm_fn comm_of, void *ctx);
void if_feed__free(struct if_feed *f);
/* A vCPU thread: its wakeups, switch-ins and exits are followed. */
int if_feed__track(struct if_feed *f, __u32 tid);
/* One event, before the handlers run it (an outlier that ends at it is
 * explained up to it). 0, or -ENOMEM. */
int if_feed__event(struct if_feed *f, const struct rec_event *e);
/* A -a record as a recording's event (what the kernel's tracepoint says). */
void if_feed__from_rec(const struct kvmrt_if_rec *r, struct rec_event *e);
/* One -a record: a CPU watched from now (what was known of it is old), a
 * vCPU thread woken (where, when), else its event. 0, or -ENOMEM. */
int if_feed__record(struct if_feed *f, const struct kvmrt_if_rec *r);
/* Its tables (threads and names seen, which a long run with VMs coming
 * and going only adds to) half full: time to start afresh. */
int if_feed__crowded(const struct if_feed *f);
/* The CPU each stage of o passed on (episode.h's stages): its wakeup's
 * and its switch-in's, where the feed saw them; else the end's. */
void if_feed__stage_cpus(const struct if_feed *f, const struct kvmrt_outlier *o, __u32 cpu[]);

#endif
