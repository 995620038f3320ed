/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Whether a vCPU thread is boosted now, as top and export show it: the one
 * definition. A thread is managed when a controller's state file lists it
 * (every kvmrt control running, CONTROL_STATE_GLOB), and boosted when it is
 * managed and at SCHED_FIFO now; boosted and asleep is "park" (its guest
 * halted). Read from the outside: kvmrt control's own bookkeeping is what
 * it did, this is what the kernel says.
 */
#ifndef KVMRT_BOOST_VIEW_H
#define KVMRT_BOOST_VIEW_H

#include <linux/types.h>
#include "taskstate.h"
#include "procfs.h"

enum boost_state { BOOST_UNMANAGED, BOOST_NO, BOOST_YES, BOOST_PARK };

struct boost_view {
	const struct state_file *managed;
	struct state_file all; /* boost_view_read's */
};

/* Every controller's state file, quietly (none is an empty view). */
void boost_view_read(struct boost_view *v);
/* One controller's own state (kvmrt control --listen). */
void boost_view_of(struct boost_view *v, const struct state_file *st);
void boost_view_free(struct boost_view *v);
/* ts: the thread's /proc stat now (task_sched_read), NULL if unknown. */
enum boost_state boost_state_of(const struct boost_view *v, __u32 tid, const struct task_sched *ts);
/* The same, reading the thread's /proc stat only if it is managed (most
 * vCPUs are not: the exporter asks for every one, each publish). */
enum boost_state boost_state_read(const struct boost_view *v, __u32 pid, __u32 tid);
/* "-" (not managed), "no", "yes", "park": top's BOOST column. */
const char *boost_state_name(enum boost_state b);
static inline int boost_state_boosted(enum boost_state b)
{
	return b == BOOST_YES || b == BOOST_PARK;
}

#endif
