// SPDX-License-Identifier: GPL-2.0
#include <sched.h>
#include <string.h>
#include <linux/sched.h>
#include "boost_view.h"

void boost_view_read(struct boost_view *v)
{
	if (state_read_all(&v->all))
		memset(&v->all, 0, sizeof(v->all));
	v->managed = &v->all;
}

void boost_view_of(struct boost_view *v, const struct state_file *st)
{
	memset(&v->all, 0, sizeof(v->all));
	v->managed = st;
}

void boost_view_free(struct boost_view *v)
{
	state_free(&v->all);
}

enum boost_state boost_state_of(const struct boost_view *v, __u32 tid, const struct task_sched *ts)
{
	if (!tid || !state_manages(v->managed, tid))
		return BOOST_UNMANAGED;
	if (!ts || (ts->policy & ~SCHED_RESET_ON_FORK) != SCHED_FIFO)
		return BOOST_NO;
	return ts->state == 'S' ? BOOST_PARK : BOOST_YES;
}

enum boost_state boost_state_read(const struct boost_view *v, __u32 pid, __u32 tid)
{
	struct task_sched ts;

	if (!tid || !state_manages(v->managed, tid))
		return BOOST_UNMANAGED;
	return boost_state_of(v, tid, task_sched_read("/proc", pid, tid, &ts) ? NULL : &ts);
}

const char *boost_state_name(enum boost_state b)
{
	static const char *const names[] = {
		[BOOST_UNMANAGED] = "-", [BOOST_NO] = "no", [BOOST_YES] = "yes", [BOOST_PARK] = "park"
	};

	return b <= BOOST_PARK ? names[b] : "?";
}
