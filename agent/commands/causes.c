// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "causes.h"
#include "escape.h"
#include "names.h"
#include "results.h"

void causes__explain(const struct if_feed *f, const struct kvmrt_outlier *o, struct outlier_causes *oc)
{
	struct kvmrt_ep_done d = outlier_episode(o);
	__u64 from[ST_NR], to[ST_NR];
	int i;

	memset(oc, 0, sizeof(*oc));
	ep_stage_spans(&d, from, to);
	if_feed__stage_cpus(f, o, oc->cpu);
	for (i = 0; i < ST_NR; i++)
		if (to[i] > from[i])
			oc->n[i] = if__explain(&f->tl, oc->cpu[i], from[i], to[i], o->tid, oc->p[i],
					       CAUSE_PARTS);
}

int causes__init(struct causes *c, size_t max_outliers)
{
	memset(c, 0, sizeof(*c));
	c->per = calloc(max_outliers, sizeof(*c->per));
	c->tails = calloc(MAX_TAILS, sizeof(*c->tails));
	if (!c->per || !c->tails) {
		causes__free(c);
		return -ENOMEM;
	}
	return 0;
}

void causes__free(struct causes *c)
{
	free(c->per);
	free(c->tails);
	memset(c, 0, sizeof(*c));
}

/* A thread is its pid, whatever its comm then (interference.c, label_of) */
static int same(const struct if_label *a, const struct if_label *b)
{
	return a->kind == b->kind && a->id == b->id &&
	       (a->kind == IF_THREAD || !strcmp(a->name, b->name));
}

/* A vCPU's tail, started on first use (NULL when MAX_TAILS are). */
static struct tail *tail_of(struct causes *c, __u32 tgid, __u32 vcpu)
{
	struct tail *t = (struct tail *)causes__tail(c, tgid, vcpu);

	if (t)
		return t;
	if (c->ntails == MAX_TAILS)
		return NULL;
	c->tails[c->ntails].tgid = tgid;
	c->tails[c->ntails].vcpu = vcpu;
	return &c->tails[c->ntails++];
}

static void tail_add(struct tail *t, const struct if_part *p)
{
	int i;

	for (i = 0; i < t->n; i++)
		if (same(&t->p[i].who, &p->who))
			break;
	if (i == t->n) {
		if (t->n == TAIL_PARTS) { /* full: into "other" (the last, renamed, if none) */
			for (i = 0; i < t->n && t->p[i].who.kind != IF_UNKNOWN; i++)
				;
			if (i == t->n) {
				i = TAIL_PARTS - 1;
				memset(&t->p[i].who, 0, sizeof(t->p[i].who));
				snprintf(t->p[i].who.name, IF_NAME_LEN, "other");
			}
		} else {
			t->p[t->n].who = p->who;
			t->p[t->n++].ns = 0;
		}
	} else if (p->who.kind == IF_THREAD && p->who.name[0]) {
		memcpy(t->p[i].who.name, p->who.name, IF_NAME_LEN); /* its latest comm */
	}
	t->p[i].ns += p->ns;
}

void causes__add(struct causes *c, long i, const struct kvmrt_outlier *r,
		 const struct outlier_causes *oc)
{
	struct tail *t = tail_of(c, r->tgid, r->vcpu);
	int s, k;

	if (i >= 0)
		c->per[i] = *oc;
	if (!t)
		return;
	t->outliers++;
	for (s = 0; s < ST_NR; s++)
		for (k = 0; k < oc->n[s]; k++) {
			t->ns += oc->p[s][k].ns;
			tail_add(t, &oc->p[s][k]);
		}
}

const struct tail *causes__tail(const struct causes *c, __u32 tgid, __u32 vcpu)
{
	int i;

	for (i = 0; c->tails && i < c->ntails; i++)
		if (c->tails[i].tgid == tgid && c->tails[i].vcpu == vcpu)
			return &c->tails[i];
	return NULL;
}

void causes__forget_vm(struct causes *c, __u32 tgid)
{
	int i, k = 0;

	for (i = 0; i < c->ntails; i++)
		if (c->tails[i].tgid != tgid)
			c->tails[k++] = c->tails[i];
	c->ntails = k;
}

/* A cause's text, escaped: thread and handler names are anyone's. */
static const char *who_text(const struct if_label *l, char *buf, size_t len)
{
	char raw[64];

	if_label_text(l, raw, sizeof(raw));
	snprintf(buf, len, "%s", esc_str(raw));
	return buf;
}

void causes_print(const struct outlier_causes *oc)
{
	char buf[128];
	int s, k, first = 1;

	for (s = 0; s < ST_NR; s++) {
		if (!oc->n[s])
			continue;
		printf("%s%s", first ? "; causes: " : "; ", stage_name(s));
		first = 0;
		for (k = 0; k < oc->n[s]; k++)
			printf("%s %s %.1f", k ? "," : "", who_text(&oc->p[s][k].who, buf, sizeof(buf)),
			       oc->p[s][k].ns / 1e3);
	}
}

static void part_json(struct json *j, const struct if_part *p, __u64 total)
{
	char buf[64];

	json_obj_begin(j, NULL);
	json_str(j, "kind", if_kind_name(p->who.kind));
	if_label_text(&p->who, buf, sizeof(buf));
	json_str(j, "what", buf);
	if (p->who.kind == IF_THREAD || p->who.kind == IF_IRQ || p->who.kind == IF_SOFTIRQ ||
	    p->who.kind == IF_EXIT)
		json_u64(j, p->who.kind == IF_THREAD ? "pid" : p->who.kind == IF_EXIT ? "code" :
			 p->who.kind == IF_IRQ ? "irq" : "vec", p->who.id);
	json_u64(j, "ns", p->ns);
	if (total)
		json_f64(j, "share", (double)p->ns / (double)total);
	json_obj_end(j);
}

void causes_json(struct json *j, const struct outlier_causes *oc)
{
	int s, k;

	json_obj_begin(j, "causes");
	for (s = 0; s < ST_NR; s++) {
		if (!oc->n[s])
			continue;
		json_obj_begin(j, stage_name(s));
		json_u64(j, "cpu", oc->cpu[s]);
		json_arr_begin(j, "parts");
		for (k = 0; k < oc->n[s]; k++)
			part_json(j, &oc->p[s][k], 0);
		json_arr_end(j);
		json_obj_end(j);
	}
	json_obj_end(j);
}

static int cmp_part_desc(const void *a, const void *b)
{
	const struct if_part *x = a, *y = b;

	return x->ns < y->ns ? 1 : x->ns > y->ns ? -1 : 0;
}

void tail_print(const struct tail *t)
{
	struct if_part p[TAIL_PARTS];
	char buf[128];
	int k;

	if (!t || !t->outliers || !t->ns)
		return;
	memcpy(p, t->p, sizeof(p));
	qsort(p, (size_t)t->n, sizeof(p[0]), cmp_part_desc);
	printf("  where the tail went (%u outliers, %.1f ms):", t->outliers, t->ns / 1e6);
	for (k = 0; k < t->n && k < 5; k++)
		printf("%s %.0f%% %s", k ? ";" : "", 100.0 * p[k].ns / t->ns,
		       who_text(&p[k].who, buf, sizeof(buf)));
	printf("\n");
}

void tail_json(struct json *j, const struct tail *t)
{
	struct if_part p[TAIL_PARTS];
	int k;

	if (!t)
		return;
	memcpy(p, t->p, sizeof(p));
	qsort(p, (size_t)t->n, sizeof(p[0]), cmp_part_desc);
	json_obj_begin(j, "tail");
	json_u64(j, "outliers", t->outliers);
	json_u64(j, "ns", t->ns);
	json_arr_begin(j, "causes");
	for (k = 0; k < t->n; k++)
		part_json(j, &p[k], t->ns);
	json_arr_end(j);
	json_obj_end(j);
}
