// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE /* vasprintf */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "kvmrt.skel.h"
#include "loader.h"
#include "log.h"
#include "names.h"

static struct bpf_program *prog_of(struct kvmrt_bpf *s, int p, int raw)
{
#define PAIR(id, sys, name)                                                                        \
	case P_##id:                                                                               \
		return raw ? s->progs.name##_raw : s->progs.name##_btf;
	switch (p) {
		KVMRT_TRACEPOINTS(PAIR)
	}
#undef PAIR
	return NULL;
}

static struct bpf_program *aprog_of(struct kvmrt_bpf *s, int a, int raw)
{
#define PAIR(id, sys, name)                                                                        \
	case A_##id:                                                                               \
		return raw ? s->progs.name##_raw : s->progs.name##_btf;
	switch (a) {
		KVMRT_ANALYSIS_TRACEPOINTS(PAIR)
	}
#undef PAIR
	return NULL;
}

/* libbpf's messages: kept (last lines) so a failed load can show them,
 * printed as they come only with -v. */
#define LOGBUF_LINES 64
static char logbuf[LOGBUF_LINES][256];
static int loglines;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *msg = NULL, *line, *save = NULL;

	if (level == LIBBPF_DEBUG && log_level < LOG_DEBUG)
		return 0;
	/* one message may be a whole verifier log, its reason at the end:
	 * kept line by line, each line whole (cut only past 255 bytes) */
	if (vasprintf(&msg, fmt, ap) < 0)
		return 0;
	if (log_level >= LOG_INFO)
		fputs(msg, stderr);
	for (line = strtok_r(msg, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		snprintf(logbuf[loglines++ % LOGBUF_LINES], sizeof(logbuf[0]), "%s\n", line);
	free(msg);
	return 0;
}

static void dump_log_tail(void)
{
	int i, start = loglines > LOGBUF_LINES ? loglines - LOGBUF_LINES : 0;

	if (log_level >= LOG_INFO)
		return; /* already printed */
	for (i = start; i < loglines; i++)
		if (i < start + 10 || i >= loglines - 20)
			fputs(logbuf[i % LOGBUF_LINES], stderr);
}

/* Where is apic_timer_fn? The LAPIC timer's hrtimer callback, to tell its
 * expiries from all other hrtimers'. 0 if kallsyms hides it. */
static __u64 kallsyms_addr(const char *sym)
{
	char line[512], name[256], type;
	unsigned long long addr;
	FILE *f = fopen("/proc/kallsyms", "r");
	__u64 found = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3)
			continue;
		if (!strcmp(name, sym)) {
			found = addr;
			break;
		}
	}
	fclose(f);
	return found;
}

/* BTF of vmlinux and, where KVM is a module, of kvm. */
struct btfs {
	struct btf *vmlinux;
	struct btf *kvm;
};

static int btf_has(const struct btfs *b, const char *name, int kind)
{
	if (b->vmlinux && btf__find_by_name_kind(b->vmlinux, name, kind) > 0)
		return 1;
	if (b->kvm && btf__find_by_name_kind(b->kvm, name, kind) > 0)
		return 1;
	return 0;
}

static int tp_has_btf(const struct btfs *b, const char *tp)
{
	char name[128];

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	return btf_has(b, name, BTF_KIND_TYPEDEF);
}

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

/* A pidfd for any thread (PIDFD_THREAD, Linux 6.9)? Without it the agent
 * cannot tag vCPU threads that are not their process's leader. */
static int thread_pidfds(void)
{
	int fd = (int)syscall(SYS_pidfd_open, getpid(), PIDFD_THREAD);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/* The skeleton's lifecycle in order (BTF, open, rodata, a flavour per
 * tracepoint, load, attach, arm), each fallback where it applies: one
 * function, read top to bottom. */
int loader__open_load_attach(struct loader *l, const struct loader_opts *o)
{
	struct btfs b = { 0 };
	int p, err, have_kvm;
	__u64 timer_fn;

	memset(l, 0, sizeof(*l));
	libbpf_set_print(libbpf_print);

	b.vmlinux = btf__load_vmlinux_btf();
	if (!b.vmlinux)
		pr_warn("no kernel BTF (/sys/kernel/btf/vmlinux): using raw tracepoints");
	else
		b.kvm = btf__load_module_btf("kvm", b.vmlinux); /* NULL when built in */
	have_kvm = btf_has(&b, "kvm_lapic", BTF_KIND_STRUCT);
	if (!have_kvm)
		pr_warn("no KVM types in kernel BTF (is the kvm module loaded?): KVM events off");

	l->skel = kvmrt_bpf__open();
	if (!l->skel) {
		err = -errno;
		pr_err("open BPF object: %s", strerror(-err));
		goto out;
	}
	timer_fn = kallsyms_addr("apic_timer_fn");
	l->skel->rodata->targ_threshold_ns = o->threshold_ns;
	l->skel->rodata->targ_apic_timer_fn = have_kvm ? timer_fn : 0;
	l->skel->rodata->targ_hint_port = o->hint_port;
	l->skel->rodata->targ_control = o->control ? 1 : 0;
	l->skel->rodata->targ_analyze = o->analyze ? 1 : 0;
	/* -a: every episode and what runs on watched CPUs come through it */
	if (o->analyze)
		bpf_map__set_max_entries(l->skel->maps.events, KVMRT_ANALYZE_RING);

	for (p = 0; p < P_NR; p++) {
		const char *tp = prog_tp_name(p);
		int timer = p == P_HRTIMER_EXPIRE_ENTRY || p == P_HRTIMER_EXPIRE_EXIT;
		int is_kvm = !strncmp(tp, "kvm_", 4) || timer;
		/* the tp_btf scheduler programs filter on tags the agent gives
		 * vCPU threads through pidfds of threads (collector.c) */
		int sched = p == P_SCHED_SWITCH || p == P_SCHED_WAKING;

		if (is_kvm && !have_kvm)
			l->flavour[p] = FLAVOUR_NONE;
		else if (timer && !timer_fn)
			l->flavour[p] = FLAVOUR_NONE; /* nothing to match expiries against */
		else if (p == P_KVM_PIO && !o->hint_port && !o->analyze)
			l->flavour[p] = FLAVOUR_NONE; /* only control's hints and -a need it */
		else if (!o->force_raw && b.vmlinux && tp_has_btf(&b, tp) &&
			 (!sched || thread_pidfds()))
			l->flavour[p] = FLAVOUR_BTF;
		else
			l->flavour[p] = FLAVOUR_RAW;
		bpf_program__set_autoload(prog_of(l->skel, p, 0), l->flavour[p] == FLAVOUR_BTF);
		bpf_program__set_autoload(prog_of(l->skel, p, 1), l->flavour[p] == FLAVOUR_RAW);
	}

	for (p = 0; p < A_NR; p++) {
		const char *tp = aprog_tp_name(p);

		/* with kernel BTF, a tracepoint it does not name is not there
		 * (a vector its config leaves out): skipped, not a failure */
		if (!o->analyze || (!strncmp(tp, "kvm_", 4) && !have_kvm))
			l->aflavour[p] = FLAVOUR_NONE;
		else if (b.vmlinux && !tp_has_btf(&b, tp))
			l->aflavour[p] = FLAVOUR_NONE;
		else if (!o->force_raw && b.vmlinux)
			l->aflavour[p] = FLAVOUR_BTF;
		else
			l->aflavour[p] = FLAVOUR_RAW;
		bpf_program__set_autoload(aprog_of(l->skel, p, 0), l->aflavour[p] == FLAVOUR_BTF);
		bpf_program__set_autoload(aprog_of(l->skel, p, 1), l->aflavour[p] == FLAVOUR_RAW);
	}

	err = kvmrt_bpf__load(l->skel);
	if (err) {
		pr_err("load BPF programs: %s", strerror(-err));
		dump_log_tail();
		goto out;
	}
	if (o->no_attach)
		goto out;
	for (p = 0; p < P_NR; p++) {
		struct bpf_program *prog;

		if (l->flavour[p] == FLAVOUR_NONE)
			continue;
		prog = prog_of(l->skel, p, l->flavour[p] == FLAVOUR_RAW);
		l->links[p] = bpf_program__attach(prog);
		if (!l->links[p]) {
			/* a missing tracepoint degrades the report, it is not fatal */
			pr_warn("attach %s: %s", bpf_program__name(prog), strerror(errno));
			l->links[p] = NULL;
			continue;
		}
		l->attached[p] = 1;
		l->nattached++;
		pr_debug("attached %s", bpf_program__name(prog));
	}
	for (p = 0; p < A_NR; p++) {
		struct bpf_program *prog;

		if (l->aflavour[p] == FLAVOUR_NONE)
			continue;
		prog = aprog_of(l->skel, p, l->aflavour[p] == FLAVOUR_RAW);
		l->alinks[p] = bpf_program__attach(prog);
		if (!l->alinks[p]) { /* a raw_tp on a kernel without the event */
			pr_debug("attach %s: %s", bpf_program__name(prog), strerror(errno));
			continue;
		}
		l->aattached[p] = 1;
		l->nattached++;
	}
	err = 0;
out:
	btf__free(b.kvm);
	btf__free(b.vmlinux);
	if (err)
		loader__destroy(l);
	return err;
}

int loader__prog_fd(const struct loader *l, int p)
{
	if (!l->skel || p < 0 || p >= P_NR || l->flavour[p] == FLAVOUR_NONE)
		return -1;
	return bpf_program__fd(prog_of(l->skel, p, l->flavour[p] == FLAVOUR_RAW));
}

int loader__aprog_fd(const struct loader *l, int a)
{
	if (!l->skel || a < 0 || a >= A_NR || l->aflavour[a] == FLAVOUR_NONE)
		return -1;
	return bpf_program__fd(aprog_of(l->skel, a, l->aflavour[a] == FLAVOUR_RAW));
}

void loader__destroy(struct loader *l)
{
	int p;

	for (p = 0; p < A_NR; p++) {
		bpf_link__destroy(l->alinks[p]);
		l->alinks[p] = NULL;
	}
	for (p = 0; p < P_NR; p++) {
		bpf_link__destroy(l->links[p]);
		l->links[p] = NULL;
	}
	kvmrt_bpf__destroy(l->skel);
	l->skel = NULL;
}
