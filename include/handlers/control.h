/* SPDX-License-Identifier: GPL-2.0 */
/* include/handlers.h, part: Records for kvmrt control: a real-time vCPU's work and sleep. */
#ifndef KVMRT_HANDLERS_CONTROL_H
#define KVMRT_HANDLERS_CONTROL_H

/* Tell kvmrt control about a real-time vCPU's work and sleep; wake it only
 * when it has something to do (ctl_urgent). */
static __always_inline void ctl_event(struct kvs *s, __u32 type, const struct kvmrt_vcpu_key *vk,
				      const struct kvmrt_vcpu_state *v, __u64 t, __u32 value)
{
	struct kvmrt_ctl_rec *r;
	__u32 *rt;
	int pending;

	/* a constant at load: no lookup on every event for trace/top/export */
	if (!kvs_control(s))
		return;
	rt = kvs_rt_vcpu(s, vk);
	if (!rt)
		return;
	pending = type == REC_CTL_SLEEP && !value ? ep_any_pending(v) : 0;
	r = kvs_reserve(s, sizeof(*r));
	if (!r) {
		kvs_lost(s);
		return;
	}
	r->type = type;
	r->tgid = vk->tgid;
	r->vcpu = vk->vcpu;
	r->tid = v->tid;
	r->t = t;
	r->value = value;
	r->pad = 0;
	kvs_submit(s, r, ctl_urgent(type, value, *rt, pending) ? KVS_WAKE_NOW : KVS_WAKE_LATER);
}

#endif
