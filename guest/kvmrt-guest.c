// SPDX-License-Identifier: GPL-2.0
/*
 * kvmrt-guest: a tiny VMM on the KVM API and the ground truth for kvmrt.
 *
 * It runs guest/rtguest.S with the in-kernel irqchip, injects interrupts
 * the ways real VMMs do (KVM_SIGNAL_MSI, irqfd with MSI routing as vhost
 * and VFIO do, KVM_IRQ_LINE into the PIC) or lets the guest's LAPIC timer
 * tick, and times each interrupt itself on CLOCK_MONOTONIC: from just
 * before the injecting syscall to the guest's ack port write, which the
 * guest makes after its end of interrupt.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "guest_abi.h"
#include "escape.h"
#include "json.h"
#include "latency.h"
#include "log.h"
#include "outfile.h"

#define GUEST_MEM (1 << 20)
#define IMAGE_GPA 0xf0000
#define IRQFD_GSI 24

extern const unsigned char rtguest_image[];
extern const unsigned char rtguest_image_end[];

enum mode { MODE_MSI, MODE_IRQFD, MODE_PIC, MODE_TIMER };
static const char *const mode_names[] = { "msi", "irqfd", "pic", "timer" };

struct opts {
	enum mode mode;
	double rate_hz;	/* 0 with MSI/irqfd/PIC: as fast as the guest acks */
	uint64_t jitter_ns;
	uint64_t count;
	double duration_s;
	int busy;
	uint32_t work;
	const char *json;
	int want_json;
	const char *samples;
	const char *timeline;
	const char *name;
	int cpu;
	int injector_cpu;
	int quiet;
	int hint;
	double warmup_s; /* interrupts before this are counted, not timed */
	int until_usr2;	 /* --warmup-until-usr2: time only from the SIGUSR2 it is sent */
};

/* One injection on CLOCK_MONOTONIC, the clock BPF's ktime reads: kvmrt's
 * own timestamps for it must fall inside (tests/e2e/e2e_check.py). */
struct injection {
	uint64_t start;	/* before the injecting syscall */
	uint64_t done;	/* after it returned */
	uint64_t entry;	/* the guest's exit as its handler starts */
	uint64_t mark;	/* the guest's exit just before its EOI */
	uint64_t ack;	/* the guest's ack port exit, after its EOI */
};

struct vm {
	int kvm, vm, vcpu, efd;
	struct kvm_run *run;
	unsigned char *mem;
	struct opts o;
	pid_t vcpu_tid;
	uint32_t cfg_words[4];
	int cfg_next;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	int ready;
	int stop;
	int failed;
	int pending;	/* injected, not yet acked */
	uint64_t t_ready;
	uint64_t t_measure; /* samples from here on (after --warmup) */
	uint64_t t_inj;
	uint64_t injected, acked, overruns, spurious;
	double vcpu_cpu_s; /* CPU time the vCPU thread used */
	uint64_t *samples;
	size_t nsamples, cap;
	struct injection *tl;	/* --timeline: every injection, warmup included */
	size_t ntl, tl_cap;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "kvmrt-guest: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void add_sample(struct vm *v, uint64_t ns)
{
	if (v->nsamples == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 4096;
		uint64_t *s = realloc(v->samples, cap * sizeof(*s));

		if (!s)
			return;
		v->samples = s;
		v->cap = cap;
	}
	v->samples[v->nsamples++] = ns;
}

/* Called with v->lock held; the injector and the vCPU thread fill it in */
static struct injection *tl_add(struct vm *v)
{
	if (v->ntl == v->tl_cap) {
		size_t cap = v->tl_cap ? v->tl_cap * 2 : 4096;
		struct injection *n = realloc(v->tl, cap * sizeof(*n));

		if (!n)
			return NULL;
		v->tl = n;
		v->tl_cap = cap;
	}
	memset(&v->tl[v->ntl], 0, sizeof(v->tl[0]));
	return &v->tl[v->ntl++];
}

static void vm_create(struct vm *v)
{
	struct kvm_userspace_memory_region mr = { 0 };
	struct kvm_cpuid2 *cpuid;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	size_t image_len = rtguest_image_end - rtguest_image;
	int run_size, n = 128;

	v->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (v->kvm < 0)
		die("open /dev/kvm");
	v->vm = ioctl(v->kvm, KVM_CREATE_VM, 0);
	if (v->vm < 0)
		die("KVM_CREATE_VM");
	if (ioctl(v->vm, KVM_CREATE_IRQCHIP, 0) < 0)
		die("KVM_CREATE_IRQCHIP");
	v->mem = mmap(NULL, GUEST_MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (v->mem == MAP_FAILED)
		die("mmap guest memory");
	memcpy(v->mem + IMAGE_GPA, rtguest_image, image_len);
	mr.slot = 0;
	mr.guest_phys_addr = 0;
	mr.memory_size = GUEST_MEM;
	mr.userspace_addr = (uintptr_t)v->mem;
	if (ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &mr) < 0)
		die("KVM_SET_USER_MEMORY_REGION");

	v->vcpu = ioctl(v->vm, KVM_CREATE_VCPU, 0);
	if (v->vcpu < 0)
		die("KVM_CREATE_VCPU");
	run_size = ioctl(v->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < 0)
		die("KVM_GET_VCPU_MMAP_SIZE");
	v->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0);
	if (v->run == MAP_FAILED)
		die("mmap kvm_run");

	/* KVM's own CPUID, which includes x2APIC (always emulated) */
	for (;;) {
		cpuid = calloc(1, sizeof(*cpuid) + n * sizeof(cpuid->entries[0]));
		if (!cpuid)
			die("calloc");
		cpuid->nent = n;
		if (ioctl(v->kvm, KVM_GET_SUPPORTED_CPUID, cpuid) == 0)
			break;
		if (errno != E2BIG)
			die("KVM_GET_SUPPORTED_CPUID");
		free(cpuid);
		n *= 2;
	}
	if (ioctl(v->vcpu, KVM_SET_CPUID2, cpuid) < 0)
		die("KVM_SET_CPUID2");
	free(cpuid);

	/* start in real mode at the image's reset vector, F000:FFF0 */
	if (ioctl(v->vcpu, KVM_GET_SREGS, &sregs) < 0)
		die("KVM_GET_SREGS");
	sregs.cs.selector = 0xf000;
	sregs.cs.base = 0xf0000;
	if (ioctl(v->vcpu, KVM_SET_SREGS, &sregs) < 0)
		die("KVM_SET_SREGS");
	memset(&regs, 0, sizeof(regs));
	regs.rip = 0xfff0;
	regs.rflags = 2;
	if (ioctl(v->vcpu, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS");
}

/* irqfd: an eventfd whose writes KVM turns into an MSI, as vhost/VFIO do */
static void irqfd_setup(struct vm *v)
{
	struct {
		struct kvm_irq_routing r;
		struct kvm_irq_routing_entry e[1];
	} rt;
	struct kvm_irqfd irqfd = { 0 };

	memset(&rt, 0, sizeof(rt));
	rt.r.nr = 1;
	rt.e[0].gsi = IRQFD_GSI;
	rt.e[0].type = KVM_IRQ_ROUTING_MSI;
	rt.e[0].u.msi.address_lo = 0xfee00000;
	rt.e[0].u.msi.data = GUEST_VEC_MSI;
	if (ioctl(v->vm, KVM_SET_GSI_ROUTING, &rt) < 0)
		die("KVM_SET_GSI_ROUTING");
	v->efd = eventfd(0, EFD_CLOEXEC);
	if (v->efd < 0)
		die("eventfd");
	irqfd.fd = v->efd;
	irqfd.gsi = IRQFD_GSI;
	if (ioctl(v->vm, KVM_IRQFD, &irqfd) < 0)
		die("KVM_IRQFD");
}

static void on_ack(struct vm *v, const unsigned char *data, unsigned int size)
{
	uint64_t t = now_ns();

	pthread_mutex_lock(&v->lock);
	if (v->o.mode == MODE_TIMER) {
		/* The guest read the timer's current count at handler entry:
		 * a periodic count runs down from period to 0 at 1 ns (KVM's
		 * APIC bus, divide by 1), so period - count is how long ago
		 * the tick was due, by KVM's clock, not kvmrt's. */
		uint64_t period = (uint64_t)(1e9 / v->o.rate_hz);
		uint32_t count = 0;

		if (size == 4)
			memcpy(&count, data, 4);
		v->injected++;
		v->acked++;
		if (t >= v->t_measure && count && count <= period)
			add_sample(v, period - count);
		if (v->o.count && v->acked >= v->o.count)
			v->stop = 1;
	} else if (v->pending) {
		v->pending = 0;
		v->acked++;
		if (v->ntl)
			v->tl[v->ntl - 1].ack = t;
		if (v->t_inj >= v->t_measure)
			add_sample(v, t - v->t_inj);
	} else {
		v->spurious++;
	}
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
}

static void on_io(struct vm *v)
{
	struct kvm_run *r = v->run;
	unsigned char *data = (unsigned char *)r + r->io.data_offset;

	switch (r->io.port) {
	case GUEST_PORT_CFG:
		if (r->io.direction == KVM_EXIT_IO_IN && r->io.size == 4) {
			uint32_t w = v->cfg_next < 4 ? v->cfg_words[v->cfg_next++] : 0;

			memcpy(data, &w, 4);
		}
		break;
	case GUEST_PORT_ACK:
		on_ack(v, data, r->io.size);
		break;
	case GUEST_PORT_MARK: {
		uint64_t t = now_ns();

		pthread_mutex_lock(&v->lock);
		if (v->ntl && v->pending && r->io.size == 1) {
			if (data[0])
				v->tl[v->ntl - 1].mark = t;
			else
				v->tl[v->ntl - 1].entry = t;
		}
		pthread_mutex_unlock(&v->lock);
		break;
	}
	case GUEST_PORT_READY:
		pthread_mutex_lock(&v->lock);
		v->ready = 1;
		v->t_ready = now_ns();
		if (v->o.until_usr2) { /* nothing timed until SIGUSR2, unless it came */
			uint64_t none = 0;

			__atomic_compare_exchange_n(&v->t_measure, &none, UINT64_MAX, 0,
						    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
		} else {
			v->t_measure = v->t_ready + (uint64_t)(v->o.warmup_s * 1e9);
		}
		pthread_cond_broadcast(&v->cond);
		pthread_mutex_unlock(&v->lock);
		break;
	default:
		break; /* PIC, PIT and the rest are in the kernel */
	}
}

static void on_signal(int sig)
{
	(void)sig;
}

/* --warmup-until-usr2: the measured window starts now (a study sends it
 * once its controller says it is controlling). */
static uint64_t *measure_from;

static void on_usr2(int sig)
{
	(void)sig;
	if (measure_from)
		__atomic_store_n(measure_from, now_ns(), __ATOMIC_RELAXED);
}

static void *vcpu_thread(void *arg)
{
	struct vm *v = arg;

	/* named like QEMU's vCPU threads, so tools find it the same way */
	prctl(PR_SET_NAME, "CPU 0/KVM");
	v->vcpu_tid = (pid_t)syscall(SYS_gettid);
	if (v->o.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(v->o.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0)
			fprintf(stderr, "kvmrt-guest: pin vCPU to CPU %d: %s\n", v->o.cpu,
				strerror(errno));
	}
	for (;;) {
		int stop;

		pthread_mutex_lock(&v->lock);
		stop = v->stop;
		pthread_mutex_unlock(&v->lock);
		if (stop)
			break;
		if (ioctl(v->vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fprintf(stderr, "kvmrt-guest: KVM_RUN: %s\n", strerror(errno));
			break;
		}
		switch (v->run->exit_reason) {
		case KVM_EXIT_IO:
			on_io(v);
			break;
		case KVM_EXIT_INTR:
			break;
		default:
			fprintf(stderr, "kvmrt-guest: unexpected exit %u at rip 0x%llx\n",
				v->run->exit_reason, 0ULL);
			pthread_mutex_lock(&v->lock);
			v->failed = 1;
			v->stop = 1;
			pthread_cond_broadcast(&v->cond);
			pthread_mutex_unlock(&v->lock);
			return NULL;
		}
	}
	pthread_mutex_lock(&v->lock);
	v->stop = 1;
	{
		struct timespec ts;

		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
		v->vcpu_cpu_s = ts.tv_sec + ts.tv_nsec / 1e9;
	}
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
	return NULL;
}

static void inject(struct vm *v)
{
	switch (v->o.mode) {
	case MODE_MSI: {
		struct kvm_msi msi = { .address_lo = 0xfee00000, .data = GUEST_VEC_MSI };

		if (ioctl(v->vm, KVM_SIGNAL_MSI, &msi) < 0)
			die("KVM_SIGNAL_MSI");
		break;
	}
	case MODE_IRQFD: {
		uint64_t one = 1;

		if (write(v->efd, &one, sizeof(one)) != sizeof(one))
			die("write irqfd");
		break;
	}
	case MODE_PIC: {
		struct kvm_irq_level l = { .irq = GUEST_PIC_IRQ, .level = 1 };

		/* an edge: raise, then lower */
		if (ioctl(v->vm, KVM_IRQ_LINE, &l) < 0)
			die("KVM_IRQ_LINE");
		l.level = 0;
		if (ioctl(v->vm, KVM_IRQ_LINE, &l) < 0)
			die("KVM_IRQ_LINE");
		break;
	}
	case MODE_TIMER:
		break;
	}
}

static void timespec_at(struct timespec *ts, uint64_t ns)
{
	ts->tv_sec = ns / 1000000000ULL;
	ts->tv_nsec = ns % 1000000000ULL;
}

/* Wait for the guest, while the deadline lasts; 0 when stopping. */
static int wait_acked(struct vm *v, uint64_t deadline)
{
	struct timespec ts;
	int ok;

	timespec_at(&ts, deadline);
	pthread_mutex_lock(&v->lock);
	while (v->pending && !v->stop) {
		/* the condvar runs on CLOCK_MONOTONIC: see main() */
		if (pthread_cond_timedwait(&v->cond, &v->lock, &ts) == ETIMEDOUT)
			break;
	}
	ok = !v->stop && !v->pending;
	pthread_mutex_unlock(&v->lock);
	return ok;
}

static void run_injector(struct vm *v, uint64_t t_end)
{
	uint64_t period = v->o.rate_hz > 0 ? (uint64_t)(1e9 / v->o.rate_hz) : 0;
	uint64_t next = now_ns(), i;
	unsigned int seed = (unsigned int)getpid();

	for (i = 0; !v->o.count || i < v->o.count; i++) {
		struct timespec ts;
		uint64_t t;

		if (period) {
			next += period;
			t = next;
			if (v->o.jitter_ns)
				t += (uint64_t)rand_r(&seed) % v->o.jitter_ns;
			if (t_end && t >= t_end)
				break;
			timespec_at(&ts, t);
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
				;
		}
		if (t_end && now_ns() >= t_end)
			break;
		/* never two in flight: each one must be counted on its own */
		pthread_mutex_lock(&v->lock);
		if (v->pending)
			v->overruns++;
		pthread_mutex_unlock(&v->lock);
		if (!wait_acked(v, now_ns() + 1000000000ULL))
			break;
		pthread_mutex_lock(&v->lock);
		v->pending = 1;
		v->injected++;
		v->t_inj = now_ns();
		if (v->o.timeline && tl_add(v))
			v->tl[v->ntl - 1].start = v->t_inj;
		pthread_mutex_unlock(&v->lock);
		inject(v);
		if (v->o.timeline) {
			uint64_t t = now_ns();

			pthread_mutex_lock(&v->lock);
			if (v->ntl)
				v->tl[v->ntl - 1].done = t;
			pthread_mutex_unlock(&v->lock);
		}
	}
	wait_acked(v, now_ns() + 1000000000ULL);
}

static void run_timer(struct vm *v, uint64_t t_end)
{
	struct timespec ts;

	timespec_at(&ts, t_end ? t_end : now_ns() + 3600ULL * 1000000000ULL);
	pthread_mutex_lock(&v->lock);
	while (!v->stop) {
		if (pthread_cond_timedwait(&v->cond, &v->lock, &ts) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&v->lock);
}

static FILE *open_out(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		fprintf(stderr, "kvmrt-guest: open %s: %s\n", path, strerror(errno));
	return f;
}

/* An output named on the command line can be written: checked before the
 * run, not at its end (nothing is left behind where there was nothing). */
static void report(struct vm *v, double secs)
{
	struct lat_summary s;
	struct json j;
	FILE *f = stdout, *sf;
	char name[256];
	size_t i;

	lat_from_samples(v->samples, v->nsamples, &s);
	if (v->o.samples && (sf = open_out(v->o.samples))) {
		for (i = 0; i < v->nsamples; i++)
			fprintf(sf, "%llu\n", (unsigned long long)v->samples[i]);
		fclose(sf);
	}
	if (v->o.timeline && (sf = open_out(v->o.timeline))) {
		for (i = 0; i < v->ntl; i++)
			fprintf(sf, "%llu %llu %llu %llu %llu\n", (unsigned long long)v->tl[i].start,
				(unsigned long long)v->tl[i].done, (unsigned long long)v->tl[i].entry,
				(unsigned long long)v->tl[i].mark, (unsigned long long)v->tl[i].ack);
		fclose(sf);
	}
	if (!v->o.quiet) {
		printf("kvmrt-guest: pid %d, mode %s, %.1f s: %llu injected, %llu acked, %llu overruns\n",
		       getpid(), mode_names[v->o.mode], secs, (unsigned long long)v->injected,
		       (unsigned long long)v->acked, (unsigned long long)v->overruns);
		printf("  %-10s %8s %9s %9s %9s %9s %9s %9s  (us)\n", "", "count", "mean", "p50",
		       "p90", "p99", "p99.9", "max");
		lat_print(stdout, "response", &s);
	}
	if (!v->o.want_json)
		return;
	if (v->o.json && strcmp(v->o.json, "-")) {
		f = open_out(v->o.json);
		if (!f)
			exit(1);
	}
	json_init(&j, f);
	json_obj_begin(&j, NULL);
	json_str(&j, "tool", "kvmrt-guest");
	json_u64(&j, "pid", getpid());
	/* as kvmrt names the VM (escape.h): valid UTF-8 whatever --name held */
	json_str(&j, "name", esc(name, sizeof(name), v->o.name ? v->o.name : "kvmrt-guest", (size_t)-1));
	json_u64(&j, "vcpu_tid", v->vcpu_tid);
	json_str(&j, "mode", mode_names[v->o.mode]);
	json_str(&j, "idle", v->o.busy ? "busy" : "hlt");
	json_f64(&j, "duration_s", secs);
	json_f64(&j, "rate_hz", v->o.rate_hz);
	json_f64(&j, "warmup_s", v->o.warmup_s);
	json_u64(&j, "injected", v->injected);
	json_u64(&j, "acked", v->acked);
	json_u64(&j, "overruns", v->overruns);
	json_u64(&j, "spurious", v->spurious);
	json_f64(&j, "vcpu_cpu_s", v->vcpu_cpu_s);
	lat_json(&j, "response", &s);
	json_obj_end(&j);
	json_end(&j);
	if (f != stdout)
		fclose(f);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: kvmrt-guest [OPTIONS]\n"
		"Run a tiny real-time guest and time its interrupts (CLOCK_MONOTONIC).\n\n"
		"  -m, --mode MODE      msi | irqfd | pic | timer (default msi)\n"
		"  -r, --rate HZ        interrupts per second (timer: tick rate; default 1000;\n"
		"                       0 with msi/irqfd/pic: as fast as the guest acks)\n"
		"  -P, --period USEC    the same as a period: -P 1000 is -r 1000\n"
		"  -j, --jitter USEC    random extra delay per interrupt, 0..USEC\n"
		"  -c, --count N        stop after N interrupts\n"
		"  -d, --duration SEC   stop after SEC seconds (default 5 unless -c)\n"
		"  -i, --idle hlt|busy  how the guest idles (busy: spin, like VxWorks)\n"
		"  -w, --work N         loop iterations of work per interrupt\n"
		"  -C, --cpu N          pin the vCPU thread to CPU N\n"
		"      --injector-cpu N pin the injecting thread (the \"device\") to CPU N\n"
		"      --warmup SEC     count but do not time the first SEC seconds\n"
		"                       (while a controller or tracer starts up)\n"
		"      --warmup-until-usr2  time only from the SIGUSR2 it is sent (a study\n"
		"                       sends it once its controller is up)\n"
		"  -n, --name NAME      VM name (as QEMU's -name)\n"
		"      --hint           write busy/idle to I/O port 0x7c2 around each handler\n"
		"                       (hints for kvmrt control --hint-port 0x7c2)\n"
		"      --json[=FILE]    print a JSON summary (kvmrt trace's latency shape)\n"
		"      --samples FILE   write every latency (ns), one per line\n"
		"      --timeline FILE  write every injection (not with timer): the injecting\n"
		"                       syscall's start and return, the guest's exits as its\n"
		"                       handler starts and just before its EOI, and its ack,\n"
		"                       in ns of CLOCK_MONOTONIC, one per line (the two extra\n"
		"                       exits make handlers slower)\n"
		"  -q, --quiet          no text summary\n"
		"  -h, --help           this help\n");
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-')
		return -1;
	*out = v;
	return 0;
}

static int parse_double(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno || end == s || *end || *out < 0)
		return -1;
	return 0;
}

static void bad(const char *opt, const char *val)
{
	fprintf(stderr, "kvmrt-guest: invalid %s: '%s'\n", opt, val);
	exit(2);
}

/* One option into o (a case each): exits 2 with the reason on a bad value. */
static void one_option(struct opts *o, int c, const char *arg)
{
	uint64_t u;

	switch (c) {
	case 'm':
		for (u = 0; u < 4; u++)
			if (!strcmp(arg, mode_names[u]))
				break;
		if (u == 4)
			bad("mode", arg);
		o->mode = (enum mode)u;
		break;
	case 'r':
		if (parse_double(arg, &o->rate_hz))
			bad("rate", arg);
		break;
	case 'P': {
		double us;

		if (parse_double(arg, &us) || us <= 0)
			bad("period", arg);
		o->rate_hz = 1e6 / us;
		break;
	}
	case 'j':
		if (parse_u64(arg, &u))
			bad("jitter", arg);
		o->jitter_ns = u * 1000;
		break;
	case 'c':
		if (parse_u64(arg, &o->count) || !o->count)
			bad("count", arg);
		break;
	case 'd':
		if (parse_double(arg, &o->duration_s) || o->duration_s <= 0)
			bad("duration", arg);
		break;
	case 'i':
		if (!strcmp(arg, "busy"))
			o->busy = 1;
		else if (strcmp(arg, "hlt"))
			bad("idle mode", arg);
		break;
	case 'w':
		if (parse_u64(arg, &u) || u > 100000000)
			bad("work", arg);
		o->work = (uint32_t)u;
		break;
	case 'C':
		if (parse_u64(arg, &u) || u >= CPU_SETSIZE)
			bad("cpu", arg);
		o->cpu = (int)u;
		break;
	case 'n':
		o->name = arg;
		break;
	case 'J':
		o->want_json = 1;
		o->json = arg;
		break;
	case 'S':
		o->samples = arg;
		break;
	case 'L':
		o->timeline = arg;
		break;
	case 'q':
		o->quiet = 1;
		break;
	case 'H':
		o->hint = 1;
		break;
	case 'W':
		if (parse_double(arg, &o->warmup_s))
			bad("warmup", arg);
		break;
	case 'U':
		o->until_usr2 = 1;
		break;
	case 'I':
		if (parse_u64(arg, &u) || u >= CPU_SETSIZE)
			bad("injector cpu", arg);
		o->injector_cpu = (int)u;
		break;
	}
}

/* 0 to run, -1 after --help, 2 on a usage error (said why). */
static int parse_args(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "rate", required_argument, NULL, 'r' },
		{ "period", required_argument, NULL, 'P' },
		{ "jitter", required_argument, NULL, 'j' },
		{ "count", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "idle", required_argument, NULL, 'i' },
		{ "work", required_argument, NULL, 'w' },
		{ "cpu", required_argument, NULL, 'C' },
		{ "name", required_argument, NULL, 'n' },
		{ "json", optional_argument, NULL, 'J' },
		{ "samples", required_argument, NULL, 'S' },
		{ "timeline", required_argument, NULL, 'L' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "hint", no_argument, NULL, 'H' },
		{ "injector-cpu", required_argument, NULL, 'I' },
		{ "warmup", required_argument, NULL, 'W' },
		{ "warmup-until-usr2", no_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->rate_hz = 1000;
	o->cpu = -1;
	o->injector_cpu = -1;
	while ((c = getopt_long(argc, argv, "m:r:P:j:c:d:i:w:C:n:qh", longopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return -1;
		}
		if (c == '?' || c == ':') {
			usage(stderr);
			return 2;
		}
		one_option(o, c, optarg);
	}
	if (optind < argc) {
		fprintf(stderr, "kvmrt-guest: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (o->mode == MODE_TIMER && (o->rate_hz <= 0 || o->rate_hz > 5000)) {
		/* KVM refuses periodic LAPIC timers below min_timer_period_us (200) */
		fprintf(stderr, "kvmrt-guest: timer rate must be 1..5000 Hz\n");
		return 2;
	}
	if (o->mode == MODE_TIMER && o->timeline) {
		fprintf(stderr, "kvmrt-guest: --timeline needs an injecting mode, not timer\n");
		return 2;
	}
	if (!o->count && !o->duration_s)
		o->duration_s = 5;
	if ((o->json && strcmp(o->json, "-") && output_check("--json", o->json)) ||
	    (o->samples && output_check("--samples", o->samples)) ||
	    (o->timeline && output_check("--timeline", o->timeline)))
		return 1;
	return 0;
}

/* The guest's configuration words (guest_abi.h), read by rtguest.S. */
static void configure(struct vm *v)
{
	v->cfg_words[0] = GUEST_CFG_MAGIC;
	v->cfg_words[1] = GF_X2APIC | (v->o.busy ? GF_BUSY : 0) | (v->o.hint ? GF_HINT : 0) |
			 (v->o.timeline ? GF_MARK : 0) |
			 (v->o.mode == MODE_TIMER ? GF_TIMER : 0) | (v->o.mode == MODE_PIC ? GF_PIC : 0);
	v->cfg_words[2] = v->o.mode == MODE_TIMER ? (uint32_t)(1e9 / v->o.rate_hz) : 0;
	v->cfg_words[3] = v->o.work;
}

int main(int argc, char **argv)
{
	struct vm v;
	pthread_condattr_t ca;
	pthread_t th;
	struct sigaction sa;
	uint64_t t_start, t_end = 0;
	double secs;
	int err;

	memset(&v, 0, sizeof(v));
	v.efd = -1;
	log_prefix = "kvmrt-guest";
	err = parse_args(&v.o, argc, argv);
	if (err)
		return err < 0 ? 0 : err;
	configure(&v);
	pthread_mutex_init(&v.lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&v.cond, &ca);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGUSR1, &sa, NULL);
	if (v.o.until_usr2) {
		measure_from = &v.t_measure;
		sa.sa_handler = on_usr2;
		sigaction(SIGUSR2, &sa, NULL);
	}

	vm_create(&v);
	if (v.o.mode == MODE_IRQFD)
		irqfd_setup(&v);
	if (pthread_create(&th, NULL, vcpu_thread, &v))
		die("pthread_create");
	/* after the vCPU thread exists, which must not inherit it */
	if (v.o.injector_cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(v.o.injector_cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0)
			die("pin the injector");
	}


	/* wait until the guest has set up its interrupt controllers */
	pthread_mutex_lock(&v.lock);
	while (!v.ready && !v.stop)
		pthread_cond_wait(&v.cond, &v.lock);
	pthread_mutex_unlock(&v.lock);
	t_start = now_ns();
	if (v.o.duration_s)
		t_end = t_start + (uint64_t)(v.o.duration_s * 1e9);
	if (v.o.mode == MODE_TIMER)
		run_timer(&v, t_end);
	else
		run_injector(&v, t_end);
	secs = (now_ns() - t_start) / 1e9;

	pthread_mutex_lock(&v.lock);
	v.stop = 1;
	pthread_mutex_unlock(&v.lock);
	/* kick the vCPU out of KVM_RUN until it notices */
	while (pthread_tryjoin_np(th, NULL) == EBUSY) {
		pthread_kill(th, SIGUSR1);
		usleep(1000);
	}
	if (v.failed) {
		fprintf(stderr, "kvmrt-guest: the guest failed\n");
		return 1;
	}
	report(&v, secs);
	return 0;
}
