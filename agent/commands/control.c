// SPDX-License-Identifier: GPL-2.0
/* kvmrt control, the command: its checks, the plan, the setup (BPF side,
 * state file, guardian, the controller's own placement), the run, the
 * summary and the one way back. The parts: agent/control/controller.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "clock.h"
#include "commands.h"
#include "escape.h"
#include "kvmrt.skel.h"
#include "latency.h"
#include "log.h"
#include "procfs.h"
#include "names.h"
#include "session.h"
#include "shield.h"
#include "control_cmd.h"
#include "httpd.h"
#include "restore.h"

/* --listen's server: one controller per process */
static struct httpd http;
static int serving;

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

static void print_plan(struct control *ctl)
{
	int i;

	printf("kvmrt control plan%s:\n", ctl->o.dry_run ? " (dry run: nothing is changed)" : "");
	for (i = 0; i < ctl->nv; i++) {
		struct rt_vcpu *v = &ctl->v[i];

		printf("  VM %s (pid %u) vCPU %u thread %u (found by %s%s): %s nice %d -> ", v->vm,
		       v->saved.pid, v->vcpu, v->saved.tid, vmreg_how_str(v->how),
		       v->saved.tid == v->saved.pid ? "; the VMM's main thread" : "",
		       sched_policy_name(v->saved.policy), v->saved.nice);
		if (ctl->o.cosched)
			printf("SCHED_FIFO %d while it has work (injection%s) or sleeps, back after "
			       "%.0f us, at most %.0f ms of running at once\n",
			       ctl->o.prio, ctl->o.hint_port ? " or busy hint" : "",
			       ctl->o.cfg.grace_ns / 1e3, ctl->o.cfg.cap_ns / 1e6);
		else if (ctl->o.static_prio)
			printf("SCHED_FIFO %d, reset-on-fork\n", ctl->o.prio);
		else
			printf("unchanged\n");
	}
	if (ctl->o.shield_arg) {
		char hk[256];
		struct cpuset_root r;
		cpu_set_t h;

		shield_housekeeping(&ctl->o.shield, &h);
		shield_format(&h, hk, sizeof(hk));
		if (shield_root(&r))
			r.v2 = 0;
		printf("  shield%s: cpuset kvmrt.rt on CPUs %s for these threads; every movable task "
		       "%s, and the IRQs, to CPUs %s%s\n",
		       ctl->o.slo_ns ? " (only if static priority does not hold the SLO)" : "",
		       ctl->o.shield_arg, r.v2 ? "(a cgroup v2 partition: the kernel moves them)" :
		       "of the root cpuset", hk, r.v2 ? "" : " (cpuset kvmrt.hk)");
	}
	if (ctl->o.slo_ns)
		printf("  --slo %.0f us: each second, per vCPU, from its p99: the grace (%.0f us to "
		       "%.0f ms), work boosts off while nothing contends for its CPUs, static "
		       "priority%s; each step that pays more kept only if it does good\n",
		       ctl->o.slo_ns / 1e3, ADAPT_GRACE_MIN_NS / 1e3, ADAPT_GRACE_MAX_NS / 1e6,
		       ctl->o.shield_arg ? ", then the shield" : "");
	if (ctl->o.poll)
		printf("  controller: spins on the ring buffer while a vCPU is demoted (--poll), "
		       "at its own policy; ");
	else
		printf("  controller: SCHED_FIFO %d; ", ctl->o.prio + 1);
	printf("state file %s; RT throttling stays on\n", esc_str(ctl->o.state_path));
}

static const char *const reaction_part[R_NR] = { "total", "wake-up", "reading", "setattr" };

/* The CPUs the managed vCPU threads may run on (cpus[i] 1). */
static void vcpu_cpus(struct control *ctl, __u8 cpus[CPU_SETSIZE])
{
	int i, c;

	memset(cpus, 0, CPU_SETSIZE);
	for (i = 0; i < ctl->nv; i++) {
		cpu_set_t one;

		if (sched_getaffinity((pid_t)ctl->v[i].saved.tid, sizeof(one), &one))
			continue;
		for (c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &one))
				cpus[c] = 1;
	}
}

/* This process's CPU time so far, user and system, in seconds. */
static double cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void summary(struct control *ctl, double secs)
{
	struct lat_summary rs;
	int i;

	printf("kvmrt control: %.1f s\n", secs);
	for (i = 0; i < ctl->nv; i++) {
		struct rt_vcpu *v = &ctl->v[i];

		if (ctl->o.cosched)
			printf("  VM %s vCPU %u: %llu boosts, %llu capped, boosted %.1f%% of the time, "
			       "%llu sleeps parked, %llu interrupts found it parked, grace %.0f us%s%s%s\n",
			       v->vm, v->vcpu, (unsigned long long)v->cs.boosts,
			       (unsigned long long)v->cs.capped,
			       secs > 0 ? 100.0 * v->cs.boosted_ns / (secs * 1e9) : 0,
			       (unsigned long long)v->cs.parks, (unsigned long long)v->cs.parked_wakes,
			       v->cfg.grace_ns / 1e3, adapt_static(&v->ad) ? ", escalated" : "",
			       v->cfg.work_off ? ", work boosts off" : "",
			       v->foreign ? " (left alone: changed by someone else or gone)" : "");
		else
			printf("  VM %s vCPU %u: %s%s\n", v->vm, v->vcpu,
			       ctl->o.static_prio ? "SCHED_FIFO" : "shielded",
			       v->foreign ? " (left alone: changed by someone else or gone)" : "");
	}
	if (ctl->o.cosched) {
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
	if (ctl->o.cosched) {
		struct ipi_counts now;
		__u64 wakes = ctl->wakes_record + ctl->wakes_timer;

		printf("  controller wake-ups: %llu by records, %llu by its timers: %.2f per interrupt "
		       "(%llu interrupts)\n",
		       (unsigned long long)ctl->wakes_record, (unsigned long long)ctl->wakes_timer,
		       ctl->injections ? (double)wakes / ctl->injections : 0.0,
		       (unsigned long long)ctl->injections);
		if (!ipi_counts_read(&now, ctl->ipi_cpus, CPU_SETSIZE))
			printf("  IPIs the vCPUs' CPUs took meanwhile (all causes): irq work %llu, "
			       "rescheduling %llu, function calls %llu\n",
			       (unsigned long long)(now.iwi - ctl->ipi_start.iwi),
			       (unsigned long long)(now.res - ctl->ipi_start.res),
			       (unsigned long long)(now.cal - ctl->ipi_start.cal));
	}
	/* what controlling costs, apart from what starting did (loading and
	 * verifying the BPF programs, finding the threads): the figure a
	 * user pays for as long as it runs */
	printf("  controller CPU: %.2f%% of one CPU while controlling%s (starting took %.2f s of CPU)\n",
	       secs > 0 ? 100.0 * (cpu_s() - ctl->cpu_start_s) / secs : 0,
	       ctl->o.poll ? " (--poll)" : "", ctl->cpu_start_s);
}

/* Refused before anything is loaded or changed. */
/* Is capability cap in this process's effective set? */
static int have_cap(int cap)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { 0 };

	if (syscall(SYS_capget, &h, d))
		return 0;
	return !!(d[cap / 32].effective & (1U << (cap % 32)));
}

/* Without CAP_SYS_NICE, RLIMIT_RTPRIO may still allow static priority on
 * the user's own threads (no shield: that moves others' tasks). */
static int rtprio_allowed(const struct control *ctl)
{
	struct rlimit rl;

	return ctl->o.static_prio && !ctl->o.cosched && !ctl->o.slo_ns && !ctl->o.shield_arg &&
	       !getrlimit(RLIMIT_RTPRIO, &rl) && rl.rlim_cur > (rlim_t)ctl->o.prio;
}

static int preflight(struct control *ctl)
{
	/* without it no boost, no priority, no affinity of another's thread:
	 * refused here, before any change or file, not found out per boost */
	if (!ctl->o.dry_run && !have_cap(CAP_SYS_NICE) && !rtprio_allowed(ctl)) {
		pr_err("control: needs CAP_SYS_NICE (to set vCPU threads' scheduling): refusing");
		return -EPERM;
	}
	if (!rt_throttling_on()) {
		pr_err("control: RT throttling is off (sched_rt_runtime_us = -1): refusing");
		return -EPERM;
	}
	if (!access(ctl->o.state_path, F_OK)) {
		pr_err("control: %s exists: another controller runs, or run 'kvmrt control "
		       "--restore' first",
		       esc_str(ctl->o.state_path));
		return -EEXIST;
	}
	if (ctl->o.shield_arg && shield_check())
		return -ENOTSUP;
	return 0;
}

/* Find the vCPU threads, with the BPF side if co-scheduling or metrics
 * need it, or if /proc alone does not name every vCPU thread (its events
 * do); the BPF side stays up only if it is needed. */
static int find_vcpus(struct control *ctl, struct session *ses, struct vmreg *reg)
{
	struct loader_opts lo = { 0 };
	int need_bpf = !ctl->o.dry_run && (ctl->o.cosched || ctl->o.listen), err;
	__u64 t0;

	vmreg__init(reg, -1, -1, -1);
	err = vmreg__scan(reg);
	if (err) { /* no /proc to read: no VM could be found, say why */
		pr_err("control: read the VMs from /proc: %s", strerror(-err));
		return err;
	}
	if (need_bpf || !control__all_threads_known(ctl, reg)) {
		lo.hint_port = (__u16)ctl->o.hint_port;
		lo.control = ctl->o.cosched;
		if (session_open(ses, &lo, NULL, ctl, 0, NULL))
			return -EIO;
		ctl->loaded = 1;
		/* a vCPU thread in guest code reads "running", not KVM_RUN:
		 * give its events, or its next halt, up to 2 s */
		t0 = mono_ns();
		while (mono_ns() < t0 + 2000000000ULL &&
		       !control__all_threads_known(ctl, &ses->c.reg)) {
			collector__poll(&ses->c, 100);
			collector__refresh(&ses->c);
		}
	}
	err = control__resolve(ctl, ctl->loaded ? &ses->c.reg : reg);
	if (ctl->loaded && !need_bpf) {
		session_close(ses);
		ctl->loaded = 0;
	}
	return err;
}

/* Each vCPU thread ours alone, whatever state file another controller
 * keeps: two would fight over its policy, and which one restored what
 * would depend on timing. */
static int claim_vcpus(struct control *ctl)
{
	char who[PATH_MAX + 128];
	int i, err;

	for (i = 0; i < ctl->nv; i++) {
		struct rt_vcpu *v = &ctl->v[i];

		err = claim__take(&v->claim, CLAIM_DIR, &v->saved, ctl->o.state_path, who, sizeof(who));
		if (err == -EBUSY) {
			pr_err(CLAIM_REFUSED, v->vm, v->vcpu, v->saved.tid, who);
			return err;
		}
		if (err) {
			pr_err("control: claim VM %s vCPU %u in %s: %s", v->vm, v->vcpu,
			       CLAIM_DIR, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* --dry-run: a plan for a VM another controller manages would be refused */
static void say_claimed(struct control *ctl)
{
	char who[PATH_MAX + 128];
	int i;

	for (i = 0; i < ctl->nv; i++)
		if (claim__held(CLAIM_DIR, &ctl->v[i].saved, who, sizeof(who)))
			pr_warn("control: VM %s vCPU %u (thread %u) is managed by %s: a run would be refused",
				ctl->v[i].vm, ctl->v[i].vcpu, ctl->v[i].saved.tid, who);
}

/* Everything a change needs, before the first: per-vCPU bookkeeping, the
 * BPF side told which vCPUs to report, --listen, the state file on disk
 * and the guardian watching. */
static int prepare(struct control *ctl)
{
	char dir[PATH_MAX], *slash;
	int i;

	snprintf(dir, sizeof(dir), "%s", ctl->o.state_path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0700);
	}
	snprintf(ctl->st.path, sizeof(ctl->st.path), "%s", ctl->o.state_path);
	ctl->reaction = calloc(R_NR, sizeof(*ctl->reaction));
	if (!ctl->reaction)
		return -ENOMEM;
	for (i = 0; i < ctl->nv; i++) {
		ctl->v[i].cfg = ctl->o.cfg;
		ctl->v[i].prev = calloc(2, sizeof(*ctl->v[i].prev));
		if (!ctl->v[i].prev)
			return -ENOMEM;
	}
	if (ctl->loaded && ctl->o.cosched) {
		collector__on_ctl(ctl->c, control__on_ctl);
		for (i = 0; i < ctl->nv; i++) {
			struct kvmrt_vcpu_key k = { .tgid = ctl->v[i].saved.pid,
						    .vcpu = ctl->v[i].vcpu };
			__u32 managed = RT_VCPU_MANAGED;

			bpf_map_update_elem(bpf_map__fd(ctl->l->skel->maps.rt_vcpus), &k, &managed,
					    BPF_ANY);
		}
	}
	if (control__save_state(ctl))
		return -EIO;
	/* the guardian before --listen's server: a fork of a process with
	 * threads, or with the listening socket, is what it must not be */
	if (control__start_guardian(ctl))
		return -EIO;
	if (ctl->o.listen) {
		if (httpd_start(&http, ctl->o.listen, ctl->o.web_config)) {
			unlink(ctl->st.path); /* nothing changed yet: nothing to restore */
			return -EIO;
		}
		serving = 1;
	}
	return 0;
}

/* The controller itself: above the vCPUs it boosts, and on a housekeeping
 * CPU (one no real-time vCPU may run on). */
static void place_controller(struct control *ctl)
{
	struct sched_param sp = { .sched_priority = ctl->o.prio + 1 };
	cpu_set_t rtcpus, hk;
	int i;

	/* --poll spins: at FIFO it would starve its CPU */
	if (!ctl->o.poll && sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp))
		pr_warn("controller at SCHED_FIFO %d: %s", ctl->o.prio + 1, strerror(errno));
	CPU_ZERO(&rtcpus);
	if (ctl->o.shield_arg && !ctl->o.slo_ns) {
		rtcpus = ctl->o.shield;
	} else {
		/* with --slo the shield may never come: where they run now */
		for (i = 0; i < ctl->nv; i++) {
			cpu_set_t a;

			if (!sched_getaffinity(ctl->v[i].saved.tid, sizeof(a), &a))
				CPU_OR(&rtcpus, &rtcpus, &a);
		}
		if (ctl->o.shield_arg)
			CPU_OR(&rtcpus, &rtcpus, &ctl->o.shield);
	}
	shield_housekeeping(&rtcpus, &hk);
	if (CPU_COUNT(&hk) && sched_setaffinity(0, sizeof(hk), &hk))
		pr_warn("controller on housekeeping CPUs: %s", strerror(errno));
	if (ctl->o.poll && !CPU_COUNT(&hk)) {
		/* spinning where the boosted vCPUs run could stall demotions */
		pr_warn("control: --poll: no housekeeping CPU (the vCPUs may run on all): "
			"not polling");
		ctl->o.poll = 0;
		if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp))
			pr_warn("controller at SCHED_FIFO %d: %s", ctl->o.prio + 1, strerror(errno));
	}
}

/* The changes made at the start: the shield (without --slo, for which it
 * is the last resort), static priority. A failed step: -1, and the caller
 * rolls back the ones before it. */
/* The changes made at start. 0: done; -EINTR: a signal came meanwhile
 * (what was done is in the state file, the caller restores it); else a
 * failure, said. */
static int apply_start(struct control *ctl)
{
	int i, err;

	if (ctl->o.shield_arg && !ctl->o.slo_ns) {
		err = control__apply_shield(ctl);
		if (err && err != -EINTR)
			pr_err("control: shield failed: rolling back");
		if (err)
			return err;
	}
	for (i = 0; ctl->o.static_prio && i < ctl->nv; i++) {
		if (*ctl->stop)
			return -EINTR;
		if (control__boost(ctl, &ctl->v[i])) {
			pr_err("control: rolling back");
			return -1;
		}
	}
	return 0;
}

/* Until -d ends or a signal; then the summary. */
static void run(struct control *ctl)
{
	__u64 t_end = 0;
	int i;

	ctl->t_start = mono_ns();
	ctl->cpu_start_s = cpu_s();
	if (ctl->o.cosched) {
		vcpu_cpus(ctl, ctl->ipi_cpus);
		ipi_counts_read(&ctl->ipi_start, ctl->ipi_cpus, CPU_SETSIZE);
	}
	ctl->throttle_gap_ns = control__rt_throttle_gap_ns();
	if (ctl->o.duration_s)
		t_end = ctl->t_start + (__u64)(ctl->o.duration_s * 1e9);
	fprintf(stderr, "kvmrt: controlling %d vCPU thread%s (%s%s)\n", ctl->nv,
		ctl->nv == 1 ? "" : "s",
		ctl->o.cosched ? "co-scheduling" : ctl->o.static_prio ? "static priority" : "no priority",
		ctl->o.shield_arg ? ", shielded" : "");
	/* a second at a time; --listen's page after each */
	while (control__run_second(ctl, t_end))
		if (serving)
			control__publish_metrics(ctl, &http);
	for (i = 0; i < ctl->nv; i++)
		if (ctl->v[i].cs.state == CS_BOOSTED) /* still boosted at the end */
			ctl->v[i].cs.boosted_ns += mono_ns() - ctl->v[i].cs.seg_start;
	summary(ctl, (mono_ns() - ctl->t_start) / 1e9);
}

static void control_free(struct control *ctl)
{
	int i;

	for (i = 0; i < ctl->nv; i++) {
		free(ctl->v[i].prev);
		task_unpin(&ctl->v[i].saved);
		claim__drop(&ctl->v[i].claim); /* after the guardian: it held them too */
	}
	state_free(&ctl->st);
	free(ctl->reaction);
	free(ctl->v);
}

int cmd_control(int argc, char **argv)
{
	struct control ctl;
	struct session ses;
	struct vmreg reg;
	int err, ret = 1;

	memset(&ctl, 0, sizeof(ctl));
	ctl.guardian_fd = -1;
	ctl.stop = &session_stop;
	err = control__parse_args(&ctl, argc, argv);
	if (err)
		return err < 0 ? 0 : err;
	if (ctl.o.restore) {
		/* a file it cannot read whole is one line on stderr, nothing done */
		return control_restore(ctl.o.state_path, 1) ? 1 : 0;
	}
	if (preflight(&ctl))
		return 1;
	err = find_vcpus(&ctl, &ses, &reg);
	/* where the controller's parts find the BPF side */
	ctl.l = &ses.l;
	ctl.c = &ses.c;
	if (err || (!ctl.o.dry_run && claim_vcpus(&ctl)))
		goto out;
	if (ctl.o.dry_run)
		say_claimed(&ctl);
	print_plan(&ctl);
	if (ctl.o.dry_run) {
		ret = 0;
		goto out;
	}
	if (prepare(&ctl))
		goto out;
	session_catch_signals();
	place_controller(&ctl);
	err = apply_start(&ctl);
	if (!err) {
		run(&ctl);
		ret = 0;
	} else if (err == -EINTR) { /* asked to stop: the same way back, not a failure */
		fprintf(stderr, "kvmrt: control: stopped by a signal while applying: restoring\n");
		ret = 0;
	}
	/* the one way back, the same the guardian and --restore take */
	control__save_state(&ctl);
	if (control_restore(ctl.o.state_path, 1))
		ret = 1;
out:
	if (serving)
		httpd_stop(&http);
	if (ctl.loaded)
		session_close(&ses);
	control__stop_guardian(&ctl);
	control_free(&ctl);
	vmreg__free(&reg);
	return ret;
}
