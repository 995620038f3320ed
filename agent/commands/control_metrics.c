// SPDX-License-Identifier: GPL-2.0
/* kvmrt control --listen: the exporter's metrics plus what control
 * decides, per managed vCPU. */
#define _GNU_SOURCE
#include <stdio.h>
#include "boost_view.h"
#include "clock.h"
#include "commands.h"
#include "latency.h"
#include "httpd.h"
#include "metrics.h"
#include "control_cmd.h"

/* --listen: the exporter's metrics plus what control decides. */
/* One value per managed vCPU and metric: the columns of this table. */
static const struct {
	const char *name, *type, *help;
} cols[] = {
	{ "kvmrt_control_boosts_total", "counter", "Times kvmrt control boosted the vCPU." },
	{ "kvmrt_control_capped_total", "counter", "Boosts ended by the cap." },
	{ "kvmrt_control_boosted_seconds_total", "counter",
	  "Time the vCPU spent boosted and running (parked asleep: not counted)." },
	{ "kvmrt_control_grace_seconds", "gauge", "Grace period after the work ends (--slo adapts it)." },
	{ "kvmrt_control_escalated", "gauge", "Whether --slo escalated the vCPU to static priority." },
	{ "kvmrt_control_parked_wakes_total", "counter",
	  "Interrupts that found the vCPU parked at SCHED_FIFO (no boost needed)." },
	{ "kvmrt_control_work_boosts", "gauge",
	  "Whether work (an injection, a busy hint) boosts the vCPU: --slo turns it "
	  "off while there is no contention." },
};

static double vcpu_value(const struct control *ctl, const struct rt_vcpu *v, int col)
{
	__u64 ns = v->cs.boosted_ns;

	switch (col) {
	case 0:
		return v->cs.boosts;
	case 1:
		return v->cs.capped;
	case 2:
		if (v->cs.state == CS_BOOSTED)
			ns += mono_ns() - v->cs.seg_start;
		else if (ctl->o.static_prio && v->boosted)
			ns = mono_ns() - ctl->t_start;
		return ns / 1e9;
	case 3:
		return v->cfg.grace_ns / 1e9;
	case 4:
		return adapt_static(&v->ad);
	case 5:
		return v->cs.parked_wakes;
	default:
		return !v->cfg.work_off;
	}
}

static void vcpu_metrics(FILE *f, const struct control *ctl)
{
	int k, i;

	for (k = 0; k < (int)(sizeof(cols) / sizeof(cols[0])); k++) {
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", cols[k].name, cols[k].help, cols[k].name,
			cols[k].type);
		for (i = 0; i < ctl->nv; i++) {
			fprintf(f, "%s{vm=\"", cols[k].name);
			metrics_escape(f, ctl->v[i].vm);
			fprintf(f, "\",vcpu=\"%u\"} %.9g\n", ctl->v[i].vcpu,
				vcpu_value(ctl, &ctl->v[i], k));
		}
	}
}

void control__publish_metrics(struct control *ctl, struct httpd *http)
{
	struct metrics_ctx m = { 0 };
	struct boost_view boosts;
	struct lat_summary rs;
	struct snapshot snap;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	collector__poll(ctl->c, 0);
	collector__snapshot(ctl->c, &snap);
	f = open_memstream(&text, &len);
	if (!f) {
		snapshot__free(&snap);
		return;
	}
	m.l = ctl->l;
	m.s = &snap;
	m.version = KVMRT_VERSION;
	boost_view_of(&boosts, &ctl->st);
	m.boosts = &boosts;
	metrics_render(f, &m);
	vcpu_metrics(f, ctl);
	lat_from_hist(&ctl->reaction[R_TOTAL], &rs);
	fprintf(f, "# HELP kvmrt_control_reaction_p99_seconds Injection to boost applied, p99 so far.\n"
		   "# TYPE kvmrt_control_reaction_p99_seconds gauge\n"
		   "kvmrt_control_reaction_p99_seconds %.9f\n", rs.p99_ns / 1e9);
	fclose(f);
	httpd_publish(http, text, len);
	snapshot__free(&snap);
}
