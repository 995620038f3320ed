// SPDX-License-Identifier: GPL-2.0
/* The real-time vCPUs kvmrt control manages: found from --rt, saved to
 * the state file, checked before each change, boosted and demoted (and the
 * BPF side told which). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sched.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "escape.h"
#include "kvmrt.skel.h"
#include "log.h"
#include "names.h"
#include "controller.h"

/* The real-time VM an --rt argument names (by pid or name), or NULL. */
static struct vm_entry *rt_vm(struct vmreg *reg, const char *arg, int quiet, int *err)
{
	char *end;
	unsigned long pid = strtoul(arg, &end, 10);
	struct vm_entry *e = NULL;
	int j;

	*err = 0;
	for (j = 0; j < reg->n; j++) {
		struct vm_entry *x = reg->vms[j];

		if (!x->alive)
			continue;
		if ((!*end && x->pid == pid) || !strcmp(x->name, arg)) {
			if (e) {
				if (!quiet)
					pr_err("--rt %s: more than one VM matches (pids %u, %u)",
					       esc_str(arg), e->pid, x->pid);
				*err = -EINVAL;
				return NULL;
			}
			e = x;
		}
	}
	if (!e) {
		if (!quiet)
			pr_err("--rt %s: no such VM", esc_str(arg));
		*err = -ENOENT;
	}
	return e;
}

/* Does every real-time VM have a thread for each of its vCPUs? */
int control__all_threads_known(struct control *ctl, struct vmreg *reg)
{
	int i, err;

	for (i = 0; i < ctl->o.nrt; i++) {
		struct vm_entry *e = rt_vm(reg, ctl->o.rt[i], 1, &err);

		if (e && e->nvcpus < e->nvcpu_fds)
			return 0;
	}
	return 1;
}

/* Find the real-time VMs (by name or pid) and their vCPU threads. */
int control__resolve(struct control *ctl, struct vmreg *reg)
{
	int i, k, err;

	for (i = 0; i < ctl->o.nrt; i++) {
		struct vm_entry *e = rt_vm(reg, ctl->o.rt[i], 0, &err);

		if (!e)
			return err;
		if (!e->nvcpus) {
			pr_err("--rt %s: no vCPU thread found (%d vCPU descriptor%s; none named like "
			       "a vCPU, in ioctl(KVM_RUN), or seen in KVM's events)",
			       esc_str(ctl->o.rt[i]), e->nvcpu_fds, e->nvcpu_fds == 1 ? "" : "s");
			return -ENOENT;
		}
		if (e->nvcpus < e->nvcpu_fds)
			pr_warn("--rt %s: %d of %d vCPUs have a thread found; the others are not "
				"managed", esc_str(ctl->o.rt[i]), e->nvcpus, e->nvcpu_fds);
		for (k = 0; k < e->nvcpus; k++) {
			struct rt_vcpu *v = realloc(ctl->v, (ctl->nv + 1) * sizeof(*v));

			if (!v)
				return -ENOMEM;
			ctl->v = v;
			v = &ctl->v[ctl->nv];
			memset(v, 0, sizeof(*v));
			v->claim.fd = -1;
			snprintf(v->vm, sizeof(v->vm), "%s", e->name);
			v->vcpu = e->vcpus[k].id;
			v->how = e->vcpus[k].how;
			err = task_save(&v->saved, e->pid, e->vcpus[k].tid);
			if (err) {
				pr_err("--rt %s: read vCPU %u thread %u: %s", esc_str(ctl->o.rt[i]), v->vcpu,
				       e->vcpus[k].tid, strerror(-err));
				return err;
			}
			task_pin(&v->saved);
			if (v->saved.policy == SCHED_FIFO || v->saved.policy == SCHED_RR ||
			    v->saved.policy == SCHED_DEADLINE) {
				char who[PATH_MAX + 128];

				/* another controller's boost: say whose */
				if (claim__held(CLAIM_DIR, &v->saved, who, sizeof(who)))
					pr_err(CLAIM_REFUSED, v->vm, v->vcpu, v->saved.tid, who);
				else
					pr_err("--rt %s: vCPU %u thread %u already runs %s: not taking it over",
					       esc_str(ctl->o.rt[i]), v->vcpu, v->saved.tid,
					       sched_policy_name(v->saved.policy));
				task_unpin(&v->saved);
				return -EBUSY;
			}
			ctl->nv++;
		}
	}
	return 0;
}

int control__save_state(struct control *ctl)
{
	int i, err;

	ctl->st.n = 0;
	free(ctl->st.tasks);
	ctl->st.tasks = calloc(ctl->nv ? ctl->nv : 1, sizeof(*ctl->st.tasks));
	if (!ctl->st.tasks)
		return -ENOMEM;
	for (i = 0; i < ctl->nv; i++)
		if (!ctl->v[i].foreign)
			ctl->st.tasks[ctl->st.n++] = ctl->v[i].saved;
	err = state_write(&ctl->st);
	if (err)
		pr_err("write state file %s: %s", esc_str(ctl->st.path), strerror(-err));
	return err;
}

/* No longer ours: and the state file forgets it (within the second: the
 * loops write it at their next check, not on this hot path), so that no
 * restore (ours at the end, the guardian's after a crash, --restore)
 * overwrites what someone else set. */
static void let_go(struct control *ctl, struct rt_vcpu *v)
{
	v->foreign = 1;
	ctl->state_dirty = 1; /* its claim goes once the state file forgot it */
}

void control__check_threads(struct control *ctl)
{
	int i;

	for (i = 0; i < ctl->nv; i++)
		control__still_ours(ctl, &ctl->v[i]);
	if (ctl->state_dirty && !control__save_state(ctl)) {
		ctl->state_dirty = 0;
		/* only now: a crash before this would have the guardian restore
		 * a thread another controller could already hold */
		for (i = 0; i < ctl->nv; i++)
			if (ctl->v[i].foreign)
				claim__drop(&ctl->v[i].claim);
	}
}

/* Nothing left to control: every thread it managed has exited. (A thread
 * someone else changed is still a VM that the shield may be keeping
 * apart: that alone does not end the run.) */
int control__all_gone(const struct control *ctl)
{
	int i;

	for (i = 0; i < ctl->nv; i++)
		if (!ctl->v[i].gone)
			return 0;
	return ctl->nv > 0;
}

/* Before touching a thread: still the same one, still as we left it? */
int control__still_ours(struct control *ctl, struct rt_vcpu *v)
{
	int prio = ctl->o.prio;

	if (v->foreign)
		return 0;
	if (!task_same(&v->saved)) {
		pr_warn("VM %s vCPU %u: thread %u is gone: no longer managed", v->vm, v->vcpu,
			v->saved.tid);
		v->gone = 1;
		let_go(ctl, v);
		return 0;
	}
	if (v->boosted ? !task_policy_is(&v->saved, SCHED_FIFO, prio)
		       : !task_policy_is(&v->saved, v->saved.policy, v->saved.rt_priority)) {
		pr_warn("VM %s vCPU %u: thread %u's policy was changed by someone else: "
			"leaving it alone",
			v->vm, v->vcpu, v->saved.tid);
		let_go(ctl, v);
		return 0;
	}
	return 1;
}

/* The hot path's check: policy as we left it (one syscall). The identity
 * (a pidfd on the thread, else tid and start time) is checked by
 * task_set_fifo/task_restore, right before the change, and the full
 * control__still_ours() runs every second. */
static int not_changed(struct control *ctl, struct rt_vcpu *v)
{
	if (v->foreign)
		return 0;
	if (v->boosted ? task_policy_is(&v->saved, SCHED_FIFO, ctl->o.prio)
		       : task_policy_is(&v->saved, v->saved.policy, v->saved.rt_priority))
		return 1;
	return control__still_ours(ctl, v); /* gone or changed: say which */
}

/* Tell the BPF side whether the vCPU is at SCHED_FIFO: set after a boost
 * and before a demotion, so that it never believes one that is not. */
void control__publish_boost(struct control *ctl, const struct rt_vcpu *v, int boosted)
{
	struct kvmrt_vcpu_key k = { .tgid = v->saved.pid, .vcpu = v->vcpu };
	__u32 val = (boosted ? RT_VCPU_BOOSTED : RT_VCPU_MANAGED) |
		    (v->cfg.work_off ? RT_VCPU_WORK_OFF : 0);

	if (!ctl->o.cosched)
		return; /* static priority: no BPF side to tell */
	bpf_map_update_elem(bpf_map__fd(ctl->l->skel->maps.rt_vcpus), &k, &val, BPF_EXIST);
}

int control__boost(struct control *ctl, struct rt_vcpu *v)
{
	int err;

	if (!not_changed(ctl, v))
		return -ESRCH;
	err = task_set_fifo(&v->saved, ctl->o.prio);
	if (err) {
		pr_err("boost thread %u: %s", v->saved.tid, strerror(-err));
		return err;
	}
	v->boosted = 1;
	control__publish_boost(ctl, v, 1);
	return 0;
}

int control__demote(struct control *ctl, struct rt_vcpu *v)
{
	int err;

	if (!not_changed(ctl, v))
		return -ESRCH;
	control__publish_boost(ctl, v, 0);
	err = task_restore(&v->saved);
	if (err) {
		pr_err("demote thread %u: %s", v->saved.tid, strerror(-err));
		return err;
	}
	v->boosted = 0;
	return 0;
}
