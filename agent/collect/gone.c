// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include "gone.h"

static int find(const struct gone_list *g, __u32 pid)
{
	int i;

	for (i = 0; i < g->n; i++)
		if (g->v[i].pid == pid)
			return i;
	return -1;
}

void gone_note(struct gone_list *g, const struct snapshot *s, __u64 now)
{
	int i, k;

	for (i = 0; i < s->nvms; i++) {
		const struct vm_stats *vm = &s->vms[i];
		struct gone *p;

		k = find(g, vm->pid);
		if (vm->alive) {
			if (k >= 0) /* its pid is a VM's again: not the one that went */
				g->v[k] = g->v[--g->n];
			continue;
		}
		if (k >= 0)
			continue; /* noted already: its grace runs from then */
		p = realloc(g->v, (g->n + 1) * sizeof(*p));
		if (!p)
			continue; /* noted at a later snapshot */
		g->v = p;
		g->v[g->n].pid = vm->pid;
		g->v[g->n++].since_ns = now;
	}
}

__u32 gone_due(struct gone_list *g, __u64 now, __u64 grace_ns)
{
	int i;

	for (i = 0; i < g->n; i++) {
		if (now - g->v[i].since_ns >= grace_ns) {
			__u32 pid = g->v[i].pid;

			g->v[i] = g->v[--g->n];
			return pid;
		}
	}
	return 0;
}

void gone_free(struct gone_list *g)
{
	free(g->v);
	g->v = NULL;
	g->n = 0;
}
