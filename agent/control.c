// SPDX-License-Identifier: GPL-2.0
/*
 * kvmrt control: prioritization and co-scheduling of real-time vCPUs,
 * driven by the measurements.
 *
 *   --prio N     SCHED_FIFO N (reset-on-fork) for the real-time vCPU
 *                threads, for as long as control runs;
 *   --cosched    their background policy until their guest has work: the
 *                BPF side reports each injection for them at once, the
 *                controller boosts the thread to SCHED_FIFO, and demotes it
 *                once every interrupt ended (or the guest said idle) and a
 *                grace period passed, never longer than the cap at once.
 *
 * Safety: every thread's state is saved to the state file before it is
 * changed; a guardian process restores from that file if control dies
 * without doing so itself; `--restore` does the same for a service
 * manager's stop hook. Threads are identified by tid and start time before
 * every change; a change made by someone else is reported and that thread
 * left alone; RT throttling must be on.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "escape.h"
#include "clock.h"
#include "collector.h"
#include "commands.h"
#include "cosched.h"
#include "cpuload.h"
#include "episode.h"
#include "kvmrt.skel.h"
#include "latency.h"
#include "log.h"
#include "taskstate.h"
#include "shield.h"
#include "httpd.h"
#include "metrics.h"

#define CTL_DEFAULT_STATE CONTROL_STATE_DEFAULT
#define CTL_MAX_RT 16
#define CTL_DEFAULT_PRIO 50

/* Where a reaction's time goes: the controller's wake-up (the record's
 * notification, its scheduling), its reading up to the boost, and the
 * sched_setattr itself. */
enum { R_TOTAL, R_WAKE, R_READ, R_SET, R_NR };
static const char *const reaction_part[R_NR] = { "total", "wake-up", "reading", "setattr" };

struct rt_vcpu {
	char vm[VMREG_NAME_LEN];
	__u32 vcpu;
	int how;	/* how its thread was found (enum vcpu_how) */
	struct task_saved saved;
	__u64 last_t; /* time of its last control record */
	struct cosched cs;
	struct cosched_cfg cfg;	 /* its own: --slo adapts it */
	struct cosched_adapt ad;
	struct kvmrt_hist *prev; /* response and thread-wait histograms at the last adaptation */
	struct cpuload load;	 /* its CPUs' use at the last adaptation */
	__u64 capped_seen;	 /* cs.capped at the last adaptation */
	/* since the last adaptation, for --slo: boosts for work after a
	 * demotion, and those that came within twice the grace of it */
	__u64 t_demoted;
	__u64 iv_boosts, iv_caught, iv_work_boosts;
	__u64 halted_seen, t_adapt; /* halted time and time at the last one */
	int boosted;
	int foreign; /* someone else changed it: hands off */
};

struct control {
	const char *rt[CTL_MAX_RT];
	int nrt;
	int prio;
	int cosched;
	int static_prio;
	__u64 slo_ns;
	const char *shield_arg;
	cpu_set_t shield;
	struct cosched_cfg cfg;
	unsigned int hint_port;
	int dry_run;
	int log;	/* -l: a line per change */
	int restore;
	double duration_s;
	const char *state_path;

	struct loader l;
	struct collector c;
	int loaded;	/* l and c are up */
	struct state_file st;
	struct rt_vcpu *v;
	int nv;
	struct kvmrt_hist *reaction; /* [R_NR]: injection -> boost applied, and its parts */
	__u64 t_woke;	/* when the controller last woke to read records */
	int poll;	/* --poll: spin on the ring while a managed vCPU is demoted */
	int guardian_fd;
	const char *listen;
	const char *web_config;
	struct httpd http;
	int serving;
	int shielded;
	__u64 shield_hold_until; /* --slo: a shield that did no good waits till then */
	__u64 shield_hold_s;
	__u64 throttle_gap_ns; /* RT throttling's off time per period */
	__u64 t_start;
};

static volatile sig_atomic_t exiting;

static void on_sig(int sig)
{
	exiting = 1;
}

static const char *policy_str(__u32 p)
{
	static const char *const n[] = { "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH",
					 "?",		"SCHED_IDLE", "SCHED_DEADLINE" };

	return p < 7 ? n[p] : "?";
}

static int rt_throttling_on(void)
{
	FILE *f = fopen("/proc/sys/kernel/sched_rt_runtime_us", "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v >= 0;
}

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
static int all_threads_known(struct control *ctl, struct vmreg *reg)
{
	int i, err;

	for (i = 0; i < ctl->nrt; i++) {
		struct vm_entry *e = rt_vm(reg, ctl->rt[i], 1, &err);

		if (e && e->nvcpus < e->nvcpu_fds)
			return 0;
	}
	return 1;
}

/* Find the real-time VMs (by name or pid) and their vCPU threads. */
static int resolve(struct control *ctl, struct vmreg *reg)
{
	int i, k, err;

	for (i = 0; i < ctl->nrt; i++) {
		struct vm_entry *e = rt_vm(reg, ctl->rt[i], 0, &err);

		if (!e)
			return err;
		if (!e->nvcpus) {
			pr_err("--rt %s: no vCPU thread found (%d vCPU descriptor%s; none named like "
			       "a vCPU, in ioctl(KVM_RUN), or seen in KVM's events)",
			       esc_str(ctl->rt[i]), e->nvcpu_fds, e->nvcpu_fds == 1 ? "" : "s");
			return -ENOENT;
		}
		if (e->nvcpus < e->nvcpu_fds)
			pr_warn("--rt %s: %d of %d vCPUs have a thread found; the others are not "
				"managed", esc_str(ctl->rt[i]), e->nvcpus, e->nvcpu_fds);
		for (k = 0; k < e->nvcpus; k++) {
			struct rt_vcpu *v = realloc(ctl->v, (ctl->nv + 1) * sizeof(*v));

			if (!v)
				return -ENOMEM;
			ctl->v = v;
			v = &ctl->v[ctl->nv];
			memset(v, 0, sizeof(*v));
			snprintf(v->vm, sizeof(v->vm), "%s", e->name);
			v->vcpu = e->vcpus[k].id;
			v->how = e->vcpus[k].how;
			err = task_save(&v->saved, e->pid, e->vcpus[k].tid);
			if (err) {
				pr_err("--rt %s: read vCPU %u thread %u: %s", esc_str(ctl->rt[i]), v->vcpu,
				       e->vcpus[k].tid, strerror(-err));
				return err;
			}
			task_pin(&v->saved);
			if (v->saved.policy == SCHED_FIFO || v->saved.policy == SCHED_RR ||
			    v->saved.policy == SCHED_DEADLINE) {
				pr_err("--rt %s: vCPU %u thread %u already runs %s: not taking it over",
				       esc_str(ctl->rt[i]), v->vcpu, v->saved.tid,
				       policy_str(v->saved.policy));
				task_unpin(&v->saved);
				return -EBUSY;
			}
			ctl->nv++;
		}
	}
	return 0;
}

static void print_plan(struct control *ctl)
{
	int i;

	printf("kvmrt control plan%s:\n", ctl->dry_run ? " (dry run: nothing is changed)" : "");
	for (i = 0; i < ctl->nv; i++) {
		struct rt_vcpu *v = &ctl->v[i];

		printf("  VM %s (pid %u) vCPU %u thread %u (found by %s%s): %s nice %d -> ", v->vm,
		       v->saved.pid, v->vcpu, v->saved.tid, vmreg_how_str(v->how),
		       v->saved.tid == v->saved.pid ? "; the VMM's main thread" : "",
		       policy_str(v->saved.policy), v->saved.nice);
		if (ctl->cosched)
			printf("SCHED_FIFO %d while it has work (injection%s) or sleeps, back after "
			       "%.0f us, at most %.0f ms of running at once\n",
			       ctl->prio, ctl->hint_port ? " or busy hint" : "",
			       ctl->cfg.grace_ns / 1e3, ctl->cfg.cap_ns / 1e6);
		else if (ctl->static_prio)
			printf("SCHED_FIFO %d, reset-on-fork\n", ctl->prio);
		else
			printf("unchanged\n");
	}
	if (ctl->shield_arg) {
		char hk[256];
		struct cpuset_root r;
		cpu_set_t h;
		long c, n = sysconf(_SC_NPROCESSORS_ONLN);

		CPU_ZERO(&h);
		for (c = 0; c < n; c++)
			if (!CPU_ISSET(c, &ctl->shield))
				CPU_SET(c, &h);
		shield_format(&h, hk, sizeof(hk));
		if (shield_root(&r))
			r.v2 = 0;
		printf("  shield%s: cpuset kvmrt.rt on CPUs %s for these threads; every movable task "
		       "%s, and the IRQs, to CPUs %s%s\n",
		       ctl->slo_ns ? " (only if static priority does not hold the SLO)" : "",
		       ctl->shield_arg, r.v2 ? "(a cgroup v2 partition: the kernel moves them)" :
		       "of the root cpuset", hk, r.v2 ? "" : " (cpuset kvmrt.hk)");
	}
	if (ctl->slo_ns)
		printf("  --slo %.0f us: each second, per vCPU, from its p99: the grace (%.0f us to "
		       "%.0f ms), work boosts off while nothing contends for its CPUs, static "
		       "priority%s; each step that pays more kept only if it does good\n",
		       ctl->slo_ns / 1e3, ADAPT_GRACE_MIN_NS / 1e3, ADAPT_GRACE_MAX_NS / 1e6,
		       ctl->shield_arg ? ", then the shield" : "");
	if (ctl->poll)
		printf("  controller: spins on the ring buffer while a vCPU is demoted (--poll), "
		       "at its own policy; ");
	else
		printf("  controller: SCHED_FIFO %d; ", ctl->prio + 1);
	printf("state file %s; RT throttling stays on\n", esc_str(ctl->state_path));
}

/* The guardian: a child that outlives a crashed or killed controller and
 * restores from the state file. It sees the controller go through EOF on
 * a pipe only the controller holds open. */
static int start_guardian(struct control *ctl)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		char c;
		struct stat sb;

		close(p[1]);
		signal(SIGINT, SIG_IGN); /* a terminal's Ctrl-C is for the controller */
		signal(SIGTERM, SIG_IGN);
		prctl(PR_SET_NAME, "kvmrt-guardian");
		while (read(p[0], &c, 1) > 0)
			;
		if (!stat(ctl->state_path, &sb)) {
			int failed = state_restore(ctl->state_path, 0);

			fprintf(stderr, "kvmrt-guardian: controller gone; %s\n",
				failed < 0 ? "nothing restored: the state file is unreadable" :
				failed	   ? "restored (with failures)" : "restored");
		}
		_exit(0);
	}
	close(p[0]);
	ctl->guardian_fd = p[1];
	return 0;
}

static int save_state(struct control *ctl)
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

/* Before touching a thread: still the same one, still as we left it? */
static int still_ours(struct rt_vcpu *v, int prio)
{
	if (v->foreign)
		return 0;
	if (!task_same(&v->saved)) {
		pr_warn("VM %s vCPU %u: thread %u is gone: no longer managed", v->vm, v->vcpu,
			v->saved.tid);
		v->foreign = 1;
		return 0;
	}
	if (v->boosted ? !task_policy_is(&v->saved, SCHED_FIFO, prio)
		       : !task_policy_is(&v->saved, v->saved.policy, v->saved.rt_priority)) {
		pr_warn("VM %s vCPU %u: thread %u's policy was changed by someone else: "
			"leaving it alone",
			v->vm, v->vcpu, v->saved.tid);
		v->foreign = 1;
		return 0;
	}
	return 1;
}

/* The hot path's check: policy as we left it (one syscall). The identity
 * (a pidfd on the thread, else tid and start time) is checked by
 * task_set_fifo/task_restore, right before the change, and the full
 * still_ours() runs every second. */
static int not_changed(struct rt_vcpu *v, int prio)
{
	if (v->foreign)
		return 0;
	if (v->boosted ? task_policy_is(&v->saved, SCHED_FIFO, prio)
		       : task_policy_is(&v->saved, v->saved.policy, v->saved.rt_priority))
		return 1;
	return still_ours(v, prio); /* gone or changed: say which */
}

/* Tell the BPF side whether the vCPU is at SCHED_FIFO: set after a boost
 * and before a demotion, so that it never believes one that is not. */
static void publish_boost(struct control *ctl, const struct rt_vcpu *v, int boosted)
{
	struct kvmrt_vcpu_key k = { .tgid = v->saved.pid, .vcpu = v->vcpu };
	__u32 val = (boosted ? RT_VCPU_BOOSTED : RT_VCPU_MANAGED) |
		    (v->cfg.work_off ? RT_VCPU_WORK_OFF : 0);

	if (!ctl->cosched)
		return; /* static priority: no BPF side to tell */
	bpf_map_update_elem(bpf_map__fd(ctl->l.skel->maps.rt_vcpus), &k, &val, BPF_EXIST);
}

static int boost(struct control *ctl, struct rt_vcpu *v)
{
	int err;

	if (!not_changed(v, ctl->prio))
		return -ESRCH;
	err = task_set_fifo(&v->saved, ctl->prio);
	if (err) {
		pr_err("boost thread %u: %s", v->saved.tid, strerror(-err));
		return err;
	}
	v->boosted = 1;
	publish_boost(ctl, v, 1);
	return 0;
}

static int demote(struct control *ctl, struct rt_vcpu *v)
{
	int err;

	if (!not_changed(v, ctl->prio))
		return -ESRCH;
	publish_boost(ctl, v, 0);
	err = task_restore(&v->saved);
	if (err) {
		pr_err("demote thread %u: %s", v->saved.tid, strerror(-err));
		return err;
	}
	v->boosted = 0;
	return 0;
}

static struct rt_vcpu *find_vcpu(struct control *ctl, __u32 tgid, __u32 vcpu)
{
	int i;

	for (i = 0; i < ctl->nv; i++)
		if (ctl->v[i].saved.pid == tgid && ctl->v[i].vcpu == vcpu)
			return &ctl->v[i];
	return NULL;
}

/* -l: one line per change, with its cause */
static void log_change(struct control *ctl, const struct rt_vcpu *v, enum cosched_action a,
		       const char *why, __u64 reaction_ns)
{
	if (!ctl->log)
		return;
	printf("%.6f VM %s vCPU %u: %s (%s", (mono_ns() - ctl->t_start) / 1e9, v->vm, v->vcpu,
	       a == CS_DEMOTE ? "demote" : v->cs.state == CS_PARKED ? "park at FIFO" : "boost", why);
	if (reaction_ns)
		printf(", %.1f us after the injection", reaction_ns / 1e3);
	printf(")\n");
	fflush(stdout);
}

static void act(struct control *ctl, struct rt_vcpu *v, enum cosched_action a, __u64 t_event,
		const char *why)
{
	__u64 dt = 0;

	if (a == CS_BOOST) {
		__u64 t0 = mono_ns(), t1, woke;

		if (boost(ctl, v))
			return;
		v->iv_work_boosts += t_event != 0;
		if (t_event && v->t_demoted && t_event > v->t_demoted) {
			/* demoted a grace after the work ended: twice the grace
			 * would have kept it boosted one grace longer */
			v->iv_boosts++;
			v->iv_caught += t_event - v->t_demoted <= v->cfg.grace_ns;
		}
		if (t_event) {
			t1 = mono_ns();
			/* awake already (polling, or reading older records): no wake-up */
			woke = ctl->t_woke > t_event ? ctl->t_woke : t_event;
			dt = t1 - t_event;
			hist_record(&ctl->reaction[R_TOTAL], dt);
			hist_record(&ctl->reaction[R_WAKE], woke - t_event);
			hist_record(&ctl->reaction[R_READ], t0 > woke ? t0 - woke : 0);
			hist_record(&ctl->reaction[R_SET], t1 - t0);
		}
	} else if (a == CS_DEMOTE) {
		if (demote(ctl, v))
			return;
		/* a grace's demotion (not the cap's) is what a longer grace moves */
		v->t_demoted = v->cs.state == CS_COOLDOWN ? 0 : mono_ns();
		if (v->cs.state == CS_COOLDOWN) {
			why = "the cap";
			pr_warn("VM %s vCPU %u: boosted for the cap (%.0f ms): demoted for %.0f ms",
				v->vm, v->vcpu, v->cfg.cap_ns / 1e6, v->cfg.cooldown_ns / 1e6);
		}
	} else {
		return;
	}
	log_change(ctl, v, a, why, dt);
}

static void on_ctl(struct collector *c, const struct kvmrt_ctl_rec *r, void *ctx)
{
	struct control *ctl = ctx;
	struct rt_vcpu *v = find_vcpu(ctl, r->tgid, r->vcpu);
	__u64 now = mono_ns();

	if (!v || v->foreign)
		return;
	/* the event's own time (some records are read late), kept monotonic
	 * per vCPU: records from two CPUs may come slightly out of order */
	if (r->t < now)
		now = r->t > v->last_t ? r->t : v->last_t;
	v->last_t = now;
	switch (r->type) {
	case REC_CTL_INJECT:
		act(ctl, v, cosched_inject(&v->cs, &v->cfg, now), r->t, "injection");
		break;
	case REC_CTL_EOI:
		if (r->value & CTL_EOI_HANDED)
			break; /* ended for us at its delivery (REC_CTL_POSTED) */
		act(ctl, v, cosched_eoi(&v->cs, &v->cfg, now), 0, "grace over after the EOI");
		break;
	case REC_CTL_POSTED:
		act(ctl, v, cosched_posted(&v->cs, &v->cfg, r->value, now), 0,
		    "grace over after a posted delivery");
		break;
	case REC_CTL_SLEEP:
		act(ctl, v, cosched_sleep(&v->cs, &v->cfg, r->value != 0, now), 0,
		    r->value ? "its thread sleeps" : "grace over after a wake-up");
		break;
	case REC_CTL_HINT:
		/* an escalated vCPU stays busy whatever its guest says */
		act(ctl, v, cosched_hint(&v->cs, &v->cfg, r->value != 0 || v->ad.escalated, now),
		    r->t, r->value ? "busy hint" : "idle hint");
		break;
	}
}

/* --listen: the exporter's metrics plus what control decides. */
static void publish(struct control *ctl)
{
	struct metrics_ctx m = { 0 };
	struct lat_summary rs;
	struct snapshot snap;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int i;

	if (!ctl->serving)
		return;
	collector__poll(&ctl->c, 0);
	collector__snapshot(&ctl->c, &snap);
	f = open_memstream(&text, &len);
	if (!f) {
		snapshot__free(&snap);
		return;
	}
	m.l = &ctl->l;
	m.s = &snap;
	m.version = KVMRT_VERSION;
	m.control = &ctl->st;
	metrics_render(f, &m);
	/* one value per managed vCPU and metric: columns of this table */
	{
		static const struct {
			const char *name, *type, *help;
		} cols[] = {
			{ "kvmrt_control_boosts_total", "counter", "Times kvmrt control boosted the vCPU." },
			{ "kvmrt_control_capped_total", "counter", "Boosts ended by the cap." },
			{ "kvmrt_control_boosted_seconds_total", "counter",
			  "Time the vCPU spent boosted and running (parked asleep: not counted)." },
			{ "kvmrt_control_grace_seconds", "gauge",
			  "Grace period after the work ends (--slo adapts it)." },
			{ "kvmrt_control_escalated", "gauge",
			  "Whether --slo escalated the vCPU to static priority." },
			{ "kvmrt_control_parked_wakes_total", "counter",
			  "Interrupts that found the vCPU parked at SCHED_FIFO (no boost needed)." },
			{ "kvmrt_control_work_boosts", "gauge",
			  "Whether work (an injection, a busy hint) boosts the vCPU: --slo turns it "
			  "off while there is no contention." },
		};
		int k;

		for (k = 0; k < (int)(sizeof(cols) / sizeof(cols[0])); k++) {
			fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", cols[k].name, cols[k].help,
				cols[k].name, cols[k].type);
			for (i = 0; i < ctl->nv; i++) {
				const struct rt_vcpu *v = &ctl->v[i];
				double val = 0;
				__u64 ns = v->cs.boosted_ns;

				switch (k) {
				case 0:
					val = v->cs.boosts;
					break;
				case 1:
					val = v->cs.capped;
					break;
				case 2:
					if (v->cs.state == CS_BOOSTED)
						ns += mono_ns() - v->cs.seg_start;
					else if (ctl->static_prio && v->boosted)
						ns = mono_ns() - ctl->t_start;
					val = ns / 1e9;
					break;
				case 3:
					val = v->cfg.grace_ns / 1e9;
					break;
				case 4:
					val = v->ad.escalated;
					break;
				case 5:
					val = v->cs.parked_wakes;
					break;
				case 6:
					val = !v->cfg.work_off;
					break;
				}
				fprintf(f, "%s{vm=\"", cols[k].name);
				metrics_escape(f, v->vm);
				fprintf(f, "\",vcpu=\"%u\"} %.9g\n", v->vcpu, val);
			}
		}
	}
	lat_from_hist(&ctl->reaction[R_TOTAL], &rs);
	fprintf(f, "# HELP kvmrt_control_reaction_p99_seconds Injection to boost applied, p99 so far.\n"
		   "# TYPE kvmrt_control_reaction_p99_seconds gauge\n"
		   "kvmrt_control_reaction_p99_seconds %.9f\n", rs.p99_ns / 1e9);
	fclose(f);
	httpd_publish(&ctl->http, text, len);
	snapshot__free(&snap);
}

/* Shield all the real-time vCPUs (at start, or as --slo's last resort). */
/* --slo: a shield that did no good goes; the state file forgets it. */
static void remove_shield(struct control *ctl)
{
	if (!ctl->st.groups && !ctl->st.nirqs)
		return;
	if (shield_restore(&ctl->st)) {
		/* the state file keeps it: the restore at exit tries again */
		pr_warn("control: undoing the shield: some of it could not be restored");
		return;
	}
	free(ctl->st.moved);
	free(ctl->st.irqs);
	ctl->st.moved = NULL;
	ctl->st.irqs = NULL;
	ctl->st.nmoved = 0;
	ctl->st.nirqs = 0;
	ctl->st.groups = 0;
	ctl->st.v2 = 0;
	ctl->st.v2_enabled = 0;
	ctl->st.cpuset_root[0] = 0;
	ctl->shielded = 0;
	save_state(ctl);
}

static int apply_shield(struct control *ctl)
{
	struct task_saved *rt = calloc(ctl->nv ? ctl->nv : 1, sizeof(*rt));
	int i, err;

	if (ctl->shielded)
		return 0;
	for (i = 0; rt && i < ctl->nv; i++)
		rt[i] = ctl->v[i].saved;
	err = rt ? shield_apply(&ctl->st, &ctl->shield, rt, ctl->nv) : -ENOMEM;
	free(rt);
	if (!err)
		ctl->shielded = 1;
	return err;
}

/* p99 of what a cumulative histogram gained since *prev; *prev := now */
/* The p99 of what a histogram took since the last call; with top, the
 * lower bound of its highest bucket (the interval's max, to a bucket). */
static __u64 interval_p99(const struct kvmrt_hist *now, struct kvmrt_hist *prev, __u64 *count,
			  __u64 *top)
{
	struct kvmrt_hist d;
	int b;

	hist_sub(&d, prev, now);
	*prev = *now;
	if (count)
		*count = d.count;
	if (top) {
		for (b = HIST_NBUCKETS - 1; b > 0 && !d.b[b]; b--)
			;
		*top = d.b[b] ? hist_bucket_lo(b) : 0;
	}
	return d.count ? hist_percentile(&d, 99) : 0;
}

/* How long RT throttling keeps SCHED_FIFO tasks off a CPU each period
 * (sched_rt_period_us - sched_rt_runtime_us): a boosted vCPU thread that
 * waited most of that for its CPU was throttled. */
static __u64 rt_throttle_gap_ns(void)
{
	long period = 1000000, runtime = 950000;
	FILE *f;

	f = fopen("/proc/sys/kernel/sched_rt_period_us", "r");
	if (f) {
		if (fscanf(f, "%ld", &period) != 1)
			period = 1000000;
		fclose(f);
	}
	f = fopen("/proc/sys/kernel/sched_rt_runtime_us", "r");
	if (f) {
		if (fscanf(f, "%ld", &runtime) != 1)
			runtime = 950000;
		fclose(f);
	}
	return period > runtime && runtime >= 0 ? (__u64)(period - runtime) * 1000 : 50000000ULL;
}

/* --slo: once a second, each vCPU's p99 over the last second decides. */
static void adapt(struct control *ctl, __u64 now)
{
	int fd = bpf_map__fd(ctl->l.skel->maps.vcpus), i;
	struct kvmrt_vcpu_state *st = ctl->c.pcpu_buf; /* big enough: collector.c */

	for (i = 0; i < ctl->nv; i++) {
		struct rt_vcpu *v = &ctl->v[i];
		struct kvmrt_vcpu_key k = { .tgid = v->saved.pid, .vcpu = v->vcpu };
		__u64 old_grace = v->cfg.grace_ns, p99, wait_top;
		struct adapt_sample s;
		enum adapt_action a;

		if (v->foreign || bpf_map_lookup_elem(fd, &k, st))
			continue;
		s.p99_ns = p99 = interval_p99(&st->h[M_RESPONSE], &v->prev[0], &s.count, NULL);
		s.wait_p99_ns = interval_p99(&st->h[M_VCPU_WAIT], &v->prev[1], NULL, &wait_top);
		/* the cap fired, or a wait as long as RT throttling's (boosted:
		 * nothing else keeps a FIFO thread off its CPU that long) */
		s.harm = v->cs.capped != v->capped_seen ||
			 (v->boosted && wait_top >= ctl->throttle_gap_ns * 3 / 4);
		v->capped_seen = v->cs.capped;
		s.caught_pm = v->iv_boosts ? (__u32)(v->iv_caught * 1000 / v->iv_boosts) : 0;
		s.need_pm = s.count ? (__u32)(v->iv_work_boosts * 1000 / s.count) : 0;
		v->iv_boosts = v->iv_caught = v->iv_work_boosts = 0;
		s.busy_pm = 1000;
		if (v->t_adapt && now > v->t_adapt) {
			__u64 halted = st->c.halted_ns - v->halted_seen, span = now - v->t_adapt;

			s.busy_pm = halted >= span ? 0 : (__u32)(1000 - halted * 1000 / span);
		}
		v->halted_seen = st->c.halted_ns;
		v->t_adapt = now;
		{
			struct cpuload l;
			int ok = !cpuload_read(&l, (pid_t)v->saved.tid);

			s.others_pm = ok && v->load.t ? cpuload_others_pm(&v->load, &l) : 1000;
			v->load = ok ? l : (struct cpuload){ 0 };
		}
		/* the shield is the host's, not one vCPU's: one that did no
		 * good is held off for every vCPU */
		a = cosched_adapt(&v->ad, &v->cfg, &s, ctl->slo_ns,
				  ctl->shield_arg && !ctl->shielded && now >= ctl->shield_hold_until);
		switch (a) {
		case AD_GRACE_UP:
		case AD_GRACE_DOWN:
			fprintf(stderr,
				"kvmrt: adapt: VM %s vCPU %u: p99 %.1f us %s SLO %.1f us: grace %.0f -> %.0f us\n",
				v->vm, v->vcpu, p99 / 1e3, a == AD_GRACE_UP ? ">" : "well under",
				ctl->slo_ns / 1e3, old_grace / 1e3, v->cfg.grace_ns / 1e3);
			break;
		case AD_GRACE_BACK:
			fprintf(stderr,
				"kvmrt: adapt: VM %s vCPU %u: grace %.0f us did no good (p99 %.1f us, "
				"was %.1f us%s): back to %.0f us\n",
				v->vm, v->vcpu, old_grace / 1e3, v->ad.trial_worst / 1e3,
				v->ad.trial_base / 1e3, v->ad.trial_harm ? "; the cap or RT throttling fired" : "",
				v->cfg.grace_ns / 1e3);
			break;
		case AD_UNSHIELD:
			fprintf(stderr,
				"kvmrt: adapt: VM %s vCPU %u: the shield did no good (p99 %.1f us, was "
				"%.1f us%s): undone\n",
				v->vm, v->vcpu, v->ad.trial_worst / 1e3, v->ad.trial_base / 1e3,
				v->ad.trial_harm ? "; the cap or RT throttling fired" : "");
			remove_shield(ctl);
			/* one hold for the host's shield, doubling per failure */
			ctl->shield_hold_s = ctl->shield_hold_s ? ctl->shield_hold_s * 2 : ADAPT_HOLD;
			if (ctl->shield_hold_s > ADAPT_HOLD_MAX)
				ctl->shield_hold_s = ADAPT_HOLD_MAX;
			ctl->shield_hold_until = now + ctl->shield_hold_s * 1000000000ULL;
			break;
		case AD_ESCALATE:
			fprintf(stderr,
				"kvmrt: adapt: VM %s vCPU %u: p99 %.1f us > SLO %.1f us at the longest "
				"useful grace: static priority (the cap still applies)\n",
				v->vm, v->vcpu, p99 / 1e3, ctl->slo_ns / 1e3);
			act(ctl, v, cosched_hint(&v->cs, &v->cfg, 1, now), 0, "--slo: static priority");
			break;
		case AD_DEESCALATE:
			if (v->ad.hold[STEP_ESCALATE])
				fprintf(stderr,
					"kvmrt: adapt: VM %s vCPU %u: static priority did no good (p99 "
					"%.1f us, was %.1f us%s): back to co-scheduling\n",
					v->vm, v->vcpu, v->ad.trial_worst / 1e3, v->ad.trial_base / 1e3,
					v->ad.trial_harm ? "; the cap or RT throttling fired" : "");
			else
				fprintf(stderr,
					"kvmrt: adapt: VM %s vCPU %u: p99 %.1f us well under SLO: back "
					"to co-scheduling\n",
					v->vm, v->vcpu, p99 / 1e3);
			act(ctl, v, cosched_hint(&v->cs, &v->cfg, 0, now), 0, "--slo: back to co-scheduling");
			break;
		case AD_SHIELD:
			fprintf(stderr,
				"kvmrt: adapt: VM %s vCPU %u: p99 %.1f us > SLO %.1f us at static "
				"priority: shielding CPUs %s\n",
				v->vm, v->vcpu, p99 / 1e3, ctl->slo_ns / 1e3, ctl->shield_arg);
			if (apply_shield(ctl)) {
				/* shield_apply undid its part: nothing on trial */
				pr_warn("control: shield failed: not trying it again");
				v->ad.shielded = 0;
				v->ad.trial = 0;
				ctl->shield_hold_until = ~0ULL;
			}
			break;
		case AD_WORK_OFF:
		case AD_WORK_ON:
			fprintf(stderr,
				"kvmrt: adapt: VM %s vCPU %u: p99 %.1f us, thread wait p99 %.1f us "
				"(contention above %.1f us), others on its CPUs %.1f%% (above %.1f%%): "
				"work boosts %s\n",
				v->vm, v->vcpu, p99 / 1e3, s.wait_p99_ns / 1e3,
				ctl->slo_ns / ADAPT_CONTENTION_DIV / 1e3, s.others_pm / 10.0,
				ADAPT_OTHERS_PM / 10.0, a == AD_WORK_ON ? "on" : "off");
			publish_boost(ctl, v, v->boosted); /* which records wake us */
			break;
		case AD_NONE:
			break;
		}
	}
}

/* Could a managed vCPU need a boost (--poll spins only then)? */
static int any_demoted(const struct control *ctl)
{
	int i;

	for (i = 0; i < ctl->nv; i++)
		if (!ctl->v[i].boosted && !ctl->v[i].foreign)
			return 1;
	return 0;
}

/* Wait for records until the nearest grace/cap deadline, then tick. */
static void cosched_loop(struct control *ctl, __u64 t_end)
{
	int epfd = ring_buffer__epoll_fd(ctl->c.rb);
	__u64 next_check = mono_ns() + 1000000000ULL;

	while (!exiting) {
		__u64 now = mono_ns(), deadline = next_check;
		struct epoll_event ev;
		struct timespec ts;
		int i, demoted;

		if (t_end && now >= t_end)
			break;
		for (i = 0; i < ctl->nv; i++) {
			__u64 d = cosched_deadline(&ctl->v[i].cs, &ctl->v[i].cfg, now);

			if (d && d < deadline)
				deadline = d;
		}
		if (t_end && t_end < deadline)
			deadline = t_end;
		ts.tv_sec = deadline > now ? (deadline - now) / 1000000000ULL : 0;
		ts.tv_nsec = deadline > now ? (deadline - now) % 1000000000ULL : 0;
		if (ctl->poll && any_demoted(ctl)) {
			/* --poll: read the ring as records come, no wake-up */
			while (!exiting && mono_ns() < deadline) {
				ctl->t_woke = mono_ns();
				if (ring_buffer__consume(ctl->c.rb) > 0)
					break;
			}
		} else {
			/* consume on a timeout too: some records do not wake
			 * us (a vCPU going to sleep), and they must count
			 * before the tick */
			epoll_pwait2(epfd, &ev, 1, &ts, NULL);
			ctl->t_woke = mono_ns();
			ring_buffer__consume(ctl->c.rb);
		}
		now = mono_ns();
		demoted = 0;
		for (i = 0; i < ctl->nv; i++) {
			enum cosched_action a = cosched_tick(&ctl->v[i].cs, &ctl->v[i].cfg, now);

			ctl->v[i].last_t = now; /* records read later are not older */
			act(ctl, &ctl->v[i], a, 0,
			    a == CS_BOOST ? "cool-down over, work pending" : "grace over");
			demoted |= a == CS_DEMOTE;
		}
		/* work that came while the BPF side still saw it at FIFO did not
		 * wake us: read it now, or it waits for the next interrupt */
		if (demoted)
			ring_buffer__consume(ctl->c.rb);
		collector__read_seen(&ctl->c); /* new VMs' names, while they live */
		if (now >= next_check) {
			/* notice threads that vanished or were changed meanwhile */
			for (i = 0; i < ctl->nv; i++)
				still_ours(&ctl->v[i], ctl->prio);
			if (ctl->slo_ns)
				adapt(ctl, now);
			publish(ctl);
			next_check = now + 1000000000ULL;
		}
	}
}

static void static_loop(struct control *ctl, __u64 t_end)
{
	__u64 next_publish = 0;
	int i;

	while (!exiting && (!t_end || mono_ns() < t_end)) {
		struct timespec ts = { 0, 200000000 };

		nanosleep(&ts, NULL);
		for (i = 0; i < ctl->nv; i++)
			still_ours(&ctl->v[i], ctl->prio);
		if (mono_ns() >= next_publish) {
			publish(ctl);
			next_publish = mono_ns() + 1000000000ULL;
		}
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: kvmrt control --rt VM [--rt VM...] (--prio N | --cosched) [OPTIONS]\n"
		"       kvmrt control --restore [--state FILE]\n"
		"Prioritize or co-schedule real-time vCPUs; everything changed is restored.\n\n"
		"      --rt VM            a real-time VM, by name or pid (repeatable)\n"
		"      --shield CPUS      the vCPU threads get these CPUs to themselves (cpuset);\n"
		"                         other tasks and IRQs move to the rest\n"
		"      --prio N           SCHED_FIFO priority, 1..98 (default %d); alone: static\n"
		"      --cosched          boost only while the guest has work (or sleeps: parked)\n"
		"      --slo USEC         adaptive: keep each vCPU's p99 response under USEC with\n"
		"                         as little boosting as it takes (implies --cosched): the\n"
		"                         grace, whether work boosts at all (not while nothing\n"
		"                         contends), static priority, then the shield\n"
		"      --grace USEC       stay boosted this long after the work ends (default 500)\n"
		"      --cap MSEC         never boost longer than this of running at once (default 100)\n"
		"      --hint-port PORT   guest writes here: 1 busy, 0 idle (e.g. 0x7c2)\n"
		"      --poll             spin on the ring buffer, on a housekeeping CPU, while a\n"
		"                         managed vCPU is demoted: no wake-up to wait for, at the\n"
		"                         cost of that CPU's time\n"
		"  -d, --duration SEC     stop after SEC seconds (default: until Ctrl-C)\n"
		"      --listen ADDR:PORT also serve kvmrt export's metrics and control's own\n"
		"      --web-config FILE  TLS and basic auth for --listen\n"
		"      --dry-run          print the plan, change nothing\n"
		"      --restore          restore what a dead controller left changed\n"
		"      --state FILE       state file (default %s)\n"
		"  -l, --log              a line per boost, park and demotion, with its cause\n"
		"  -v, --verbose          more messages\n"
		"      --help             this help\n",
		CTL_DEFAULT_PRIO, CTL_DEFAULT_STATE);
}

static int parse_args(struct control *ctl, int argc, char **argv)
{
	enum { O_RT = 256, O_PRIO, O_COSCHED, O_GRACE, O_CAP, O_HINT, O_DRY, O_RESTORE, O_STATE,
	       O_SHIELD, O_SLO, O_LISTEN, O_WEB, O_POLL, O_HELP };
	static const struct option longopts[] = {
		{ "rt", required_argument, NULL, O_RT },
		{ "prio", required_argument, NULL, O_PRIO },
		{ "cosched", no_argument, NULL, O_COSCHED },
		{ "shield", required_argument, NULL, O_SHIELD },
		{ "slo", required_argument, NULL, O_SLO },
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "web-config", required_argument, NULL, O_WEB },
		{ "grace", required_argument, NULL, O_GRACE },
		{ "cap", required_argument, NULL, O_CAP },
		{ "hint-port", required_argument, NULL, O_HINT },
		{ "poll", no_argument, NULL, O_POLL },
		{ "duration", required_argument, NULL, 'd' },
		{ "dry-run", no_argument, NULL, O_DRY },
		{ "restore", no_argument, NULL, O_RESTORE },
		{ "state", required_argument, NULL, O_STATE },
		{ "log", no_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int c, have_prio = 0;
	double v;
	char *end;

	ctl->prio = CTL_DEFAULT_PRIO;
	ctl->cfg.grace_ns = 500000;
	ctl->cfg.cap_ns = 100000000;
	ctl->state_path = CTL_DEFAULT_STATE;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:lv", longopts, NULL)) != -1) {
		switch (c) {
		case O_RT:
			if (ctl->nrt == CTL_MAX_RT) {
				pr_err("at most %d --rt VMs", CTL_MAX_RT);
				return 2;
			}
			ctl->rt[ctl->nrt++] = optarg;
			break;
		case O_PRIO:
			if (cli_number("priority", optarg, 1, 98, &v))
				return 2;
			ctl->prio = (int)v;
			have_prio = 1;
			break;
		case O_COSCHED:
			ctl->cosched = 1;
			break;
		case O_LISTEN: {
			struct sockaddr_storage ss;
			socklen_t sl;

			if (httpd_parse_listen(optarg, &ss, &sl))
				return 2;
			ctl->listen = optarg;
			break;
		}
		case O_WEB:
			ctl->web_config = optarg;
			break;
		case O_SLO:
			if (cli_number("SLO", optarg, 1, 1e7, &v))
				return 2;
			ctl->slo_ns = (__u64)(v * 1000);
			ctl->cosched = 1; /* adaptive co-scheduling */
			break;
		case O_SHIELD:
			if (shield_parse(optarg, &ctl->shield))
				return 2;
			ctl->shield_arg = optarg;
			break;
		case O_GRACE:
			if (cli_number("grace", optarg, 0, 10000000, &v))
				return 2;
			ctl->cfg.grace_ns = (__u64)(v * 1000);
			break;
		case O_CAP:
			if (cli_number("cap", optarg, 1, 10000, &v))
				return 2;
			ctl->cfg.cap_ns = (__u64)(v * 1000000);
			break;
		case O_HINT:
			errno = 0;
			ctl->hint_port = (unsigned int)strtoul(optarg, &end, 0);
			if (errno || *end || end == optarg || !ctl->hint_port ||
			    ctl->hint_port > 0xffff) {
				pr_err("invalid hint port '%s': expected 1..0xffff", esc_str(optarg));
				return 2;
			}
			break;
		case 'd':
			if (cli_number("duration", optarg, 0.001, 1e9, &ctl->duration_s))
				return 2;
			break;
		case O_DRY:
			ctl->dry_run = 1;
			break;
		case O_POLL:
			ctl->poll = 1;
			break;
		case O_RESTORE:
			ctl->restore = 1;
			break;
		case O_STATE:
			ctl->state_path = optarg;
			break;
		case 'l':
			ctl->log = 1;
			break;
		case 'v':
			log_level = LOG_DEBUG;
			break;
		case O_HELP:
			usage(stdout);
			return -1;
		default:
			return 2; /* getopt said what was wrong, in one line */
		}
	}
	if (cli_no_extra_args("control", argc, argv))
		return 2;
	ctl->cfg.cooldown_ns = ctl->cfg.cap_ns;
	if (ctl->restore)
		return 0;
	if (!ctl->nrt) {
		pr_err("control: name the real-time VMs with --rt");
		return 2;
	}
	if (!have_prio && !ctl->cosched && !ctl->shield_arg) {
		pr_err("control: choose --shield CPUS, --prio N (static) and/or --cosched");
		return 2;
	}
	ctl->static_prio = have_prio && !ctl->cosched;
	if (ctl->hint_port && !ctl->cosched) {
		pr_err("control: --hint-port needs --cosched");
		return 2;
	}
	if (ctl->poll && !ctl->cosched) {
		pr_err("control: --poll needs --cosched");
		return 2;
	}
	return 0;
}

static void summary(struct control *ctl, double secs)
{
	struct lat_summary rs;
	int i;

	printf("kvmrt control: %.1f s\n", secs);
	for (i = 0; i < ctl->nv; i++) {
		struct rt_vcpu *v = &ctl->v[i];

		if (ctl->cosched)
			printf("  VM %s vCPU %u: %llu boosts, %llu capped, boosted %.1f%% of the time, "
			       "%llu sleeps parked, %llu interrupts found it parked, grace %.0f us%s%s%s\n",
			       v->vm, v->vcpu, (unsigned long long)v->cs.boosts,
			       (unsigned long long)v->cs.capped,
			       secs > 0 ? 100.0 * v->cs.boosted_ns / (secs * 1e9) : 0,
			       (unsigned long long)v->cs.parks, (unsigned long long)v->cs.parked_wakes,
			       v->cfg.grace_ns / 1e3, v->ad.escalated ? ", escalated" : "",
			       v->cfg.work_off ? ", work boosts off" : "",
			       v->foreign ? " (left alone: changed by someone else or gone)" : "");
		else
			printf("  VM %s vCPU %u: %s%s\n", v->vm, v->vcpu,
			       ctl->static_prio ? "SCHED_FIFO" : "shielded",
			       v->foreign ? " (left alone: changed by someone else or gone)" : "");
	}
	if (ctl->cosched) {
		int r;

		lat_from_hist(&ctl->reaction[R_TOTAL], &rs);
		printf("  reaction (injection -> boost applied): ");
		if (rs.count) {
			printf("%llu boosts, p50 %.1f us, p99 %.1f us, max %.1f us\n",
			       (unsigned long long)rs.count, rs.p50_ns / 1e3, rs.p99_ns / 1e3,
			       rs.max_ns / 1e3);
			printf("  reaction parts, p50 / p99 / max us:");
			for (r = R_WAKE; r < R_NR; r++) {
				lat_from_hist(&ctl->reaction[r], &rs);
				printf("%s %s %.1f / %.1f / %.1f", r == R_WAKE ? "" : ";",
				       reaction_part[r], rs.p50_ns / 1e3, rs.p99_ns / 1e3,
				       rs.max_ns / 1e3);
			}
			printf("\n");
		} else {
			printf("no boosts after injections (their vCPUs were parked, or had none)\n");
		}
	}
	{
		struct rusage ru;

		if (!getrusage(RUSAGE_SELF, &ru))
			printf("  controller CPU: %.2f%% of one CPU%s\n",
			       100.0 * (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
					(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6) / secs,
			       ctl->poll ? " (--poll)" : "");
	}
}

int cmd_control(int argc, char **argv)
{
	struct control ctl;
	struct vmreg reg;
	struct sigaction sa;
	struct loader_opts lo = { 0 };
	__u64 t_start, t_end = 0;
	int err, i, ret = 1;
	char dir[256], *slash;

	memset(&ctl, 0, sizeof(ctl));
	ctl.guardian_fd = -1;
	err = parse_args(&ctl, argc, argv);
	if (err)
		return err < 0 ? 0 : err;
	if (ctl.restore) {
		/* a file it cannot read whole is one line on stderr, nothing done */
		return state_restore(ctl.state_path, 1) ? 1 : 0;
	}
	if (!rt_throttling_on()) {
		pr_err("control: RT throttling is off (sched_rt_runtime_us = -1): refusing");
		return 1;
	}
	if (!access(ctl.state_path, F_OK)) {
		pr_err("control: %s exists: another controller runs, or run 'kvmrt control "
		       "--restore' first",
		       esc_str(ctl.state_path));
		return 1;
	}
	if (ctl.shield_arg && shield_check())
		return 1;
	vmreg__init(&reg, -1, -1, -1);
	vmreg__scan(&reg);
	if ((!ctl.dry_run && (ctl.cosched || ctl.listen)) || !all_threads_known(&ctl, &reg)) {
		/* the BPF side: for co-scheduling and metrics, and its events
		 * name vCPU threads that /proc did not */
		lo.hint_port = (__u16)ctl.hint_port;
		lo.control = ctl.cosched;
		if (loader__open_load_attach(&ctl.l, &lo))
			goto out;
		if (collector__init(&ctl.c, &ctl.l, NULL, &ctl)) {
			loader__destroy(&ctl.l);
			goto out;
		}
		ctl.loaded = 1;
		/* a vCPU thread in guest code reads "running", not KVM_RUN:
		 * give its events, or its next halt, up to 2 s */
		t_start = mono_ns();
		while (mono_ns() < t_start + 2000000000ULL && !all_threads_known(&ctl, &ctl.c.reg)) {
			collector__poll(&ctl.c, 100);
			collector__refresh(&ctl.c);
		}
	}
	err = resolve(&ctl, ctl.loaded ? &ctl.c.reg : &reg);
	if (ctl.loaded && (ctl.dry_run || (!ctl.cosched && !ctl.listen))) {
		collector__destroy(&ctl.c);
		loader__destroy(&ctl.l);
		ctl.loaded = 0;
	}
	if (err)
		goto out_bpf;
	print_plan(&ctl);
	if (ctl.dry_run) {
		ret = 0;
		goto out_bpf;
	}

	snprintf(dir, sizeof(dir), "%s", ctl.state_path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0700);
	}
	snprintf(ctl.st.path, sizeof(ctl.st.path), "%s", ctl.state_path);
	ctl.reaction = calloc(R_NR, sizeof(*ctl.reaction));
	if (!ctl.reaction)
		goto out_bpf;
	for (i = 0; i < ctl.nv; i++) {
		ctl.v[i].cfg = ctl.cfg;
		ctl.v[i].prev = calloc(2, sizeof(*ctl.v[i].prev));
		if (!ctl.v[i].prev)
			goto out_bpf;
	}
	if (ctl.loaded) {
		if (ctl.cosched)
			collector__on_ctl(&ctl.c, on_ctl);
		for (i = 0; ctl.cosched && i < ctl.nv; i++) {
			struct kvmrt_vcpu_key k = { .tgid = ctl.v[i].saved.pid,
						    .vcpu = ctl.v[i].vcpu };
			__u32 managed = RT_VCPU_MANAGED;

			bpf_map_update_elem(bpf_map__fd(ctl.l.skel->maps.rt_vcpus), &k, &managed,
					    BPF_ANY);
		}
	}
	if (ctl.listen) {
		if (httpd_start(&ctl.http, ctl.listen, ctl.web_config))
			goto out_bpf;
		ctl.serving = 1;
	}
	/* the state is on disk and the guardian watching before any change */
	if (save_state(&ctl) || start_guardian(&ctl))
		goto out_bpf;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	{
		/* the controller itself: above the vCPUs it boosts, and on a
		 * housekeeping CPU (one no real-time vCPU may run on) */
		struct sched_param sp = { .sched_priority = ctl.prio + 1 };
		cpu_set_t rtcpus, hk;
		long c, ncpu = sysconf(_SC_NPROCESSORS_ONLN);

		/* --poll spins: at FIFO it would starve its CPU */
		if (!ctl.poll && sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp))
			pr_warn("controller at SCHED_FIFO %d: %s", ctl.prio + 1, strerror(errno));
		CPU_ZERO(&rtcpus);
		if (ctl.shield_arg && !ctl.slo_ns) {
			rtcpus = ctl.shield;
		} else {
			/* with --slo the shield may never come: where they run now */
			for (i = 0; i < ctl.nv; i++) {
				cpu_set_t a;

				if (!sched_getaffinity(ctl.v[i].saved.tid, sizeof(a), &a))
					CPU_OR(&rtcpus, &rtcpus, &a);
			}
			if (ctl.shield_arg)
				CPU_OR(&rtcpus, &rtcpus, &ctl.shield);
		}
		CPU_ZERO(&hk);
		for (c = 0; c < ncpu; c++)
			if (!CPU_ISSET(c, &rtcpus))
				CPU_SET(c, &hk);
		if (CPU_COUNT(&hk) && sched_setaffinity(0, sizeof(hk), &hk))
			pr_warn("controller on housekeeping CPUs: %s", strerror(errno));
		if (ctl.poll && !CPU_COUNT(&hk)) {
			/* spinning where the boosted vCPUs run could stall demotions */
			pr_warn("control: --poll: no housekeeping CPU (the vCPUs may run on all): "
				"not polling");
			ctl.poll = 0;
			if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp))
				pr_warn("controller at SCHED_FIFO %d: %s", ctl.prio + 1,
					strerror(errno));
		}
	}
	/* with --slo the shield is the last resort, not the start */
	if (ctl.shield_arg && !ctl.slo_ns && apply_shield(&ctl)) {
		pr_err("control: shield failed: rolling back");
		goto restore;
	}
	if (ctl.static_prio) {
		for (i = 0; i < ctl.nv; i++) {
			if (boost(&ctl, &ctl.v[i])) {
				/* a failed step rolls back the ones before it */
				pr_err("control: rolling back");
				goto restore;
			}
		}
	}
	t_start = mono_ns();
	ctl.t_start = t_start;
	ctl.throttle_gap_ns = rt_throttle_gap_ns();
	if (ctl.duration_s)
		t_end = t_start + (__u64)(ctl.duration_s * 1e9);
	fprintf(stderr, "kvmrt: controlling %d vCPU thread%s (%s%s)\n", ctl.nv,
		ctl.nv == 1 ? "" : "s",
		ctl.cosched ? "co-scheduling" : ctl.static_prio ? "static priority" : "no priority",
		ctl.shield_arg ? ", shielded" : "");
	if (ctl.cosched)
		cosched_loop(&ctl, t_end);
	else
		static_loop(&ctl, t_end);
	for (i = 0; i < ctl.nv; i++)
		if (ctl.v[i].cs.state == CS_BOOSTED) /* still boosted at the end */
			ctl.v[i].cs.boosted_ns += mono_ns() - ctl.v[i].cs.seg_start;
	summary(&ctl, (mono_ns() - t_start) / 1e9);
	ret = 0;
restore:
	/* the one way back, the same the guardian and --restore take */
	save_state(&ctl);
	if (state_restore(ctl.state_path, 1))
		ret = 1;
out_bpf:
	if (ctl.serving)
		httpd_stop(&ctl.http);
	if (ctl.loaded) {
		collector__destroy(&ctl.c);
		loader__destroy(&ctl.l);
	}
out:
	if (ctl.guardian_fd >= 0) {
		close(ctl.guardian_fd);
		while (wait(NULL) > 0)
			;
	}
	for (i = 0; i < ctl.nv; i++) {
		free(ctl.v[i].prev);
		task_unpin(&ctl.v[i].saved);
	}
	free(ctl.st.tasks);
	free(ctl.st.moved);
	free(ctl.st.irqs);
	free(ctl.reaction);
	free(ctl.v);
	vmreg__free(&reg);
	return ret;
}
