// SPDX-License-Identifier: GPL-2.0
/*
 * A minimal VMM for the tests, standing in for the non-QEMU VMMs
 * (Firecracker, Cloud Hypervisor, an integrator's own): one vCPU running
 * our firmware image, in a thread named like Firecracker's ("fc_vcpu 0")
 * or any other name, or in the main thread, next to two idle helper
 * threads. The tests check that kvmrt finds the vCPU thread without
 * QEMU's "CPU n/KVM" names and touches no other thread.
 *
 * Like QEMU with -bios, it answers the firmware's config port with
 * zeros, so the firmware runs its built-in defaults (rtguest-lapic.bin:
 * a 1 kHz x2APIC timer tick, halting in between). --busy configures it
 * to spin instead of halting.
 *
 * --comm sets the main thread's name (the process's comm); --name is not
 * read by it, only by whoever reads its command line (kvmrt names a VM by
 * -name/--name, as QEMU's): with these the tests give it hostile names.
 *
 * usage: vmm [--vcpu-name NAME] [--comm NAME] [--name NAME] [--main] [-d SEC] [--busy] FIRMWARE
 * On start it prints "vmm: pid P vcpu-tid T", at the end "vmm: acked N" (the
 * interrupts its firmware handled, by its out to GUEST_PORT_ACK after each
 * EOI), and nothing else unless it fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "guest_abi.h"

#define GUEST_MEM	(1 << 20)
#define FW_GPA		0xf0000
#define FW_SIZE		0x10000

static int vcpu_fd;
static struct kvm_run *run;
static volatile sig_atomic_t stop;
static const char *vcpu_name = "fc_vcpu 0";
static int busy;
static int cfg_next;
static unsigned long long acked; /* interrupts the firmware handled */

static void die(const char *what)
{
	fprintf(stderr, "vmm: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* SIGUSR1 (thread mode) or SIGALRM (--main): leave KVM_RUN, or don't enter it */
static void on_signal(int sig)
{
	stop = 1;
	run->immediate_exit = 1;
}

static void load_firmware(void *mem, const char *path)
{
	ssize_t n, len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die(path);
	while ((n = read(fd, mem + FW_GPA + len, FW_SIZE - len)) > 0)
		len += n;
	if (n < 0)
		die(path);
	if (len != FW_SIZE || read(fd, &n, 1) != 0) {
		fprintf(stderr, "vmm: %s: not a 64 KiB image\n", path);
		exit(1);
	}
	close(fd);
}

static void vm_create(const char *firmware)
{
	struct kvm_userspace_memory_region mr = { 0 };
	struct kvm_cpuid2 *cpuid;
	struct kvm_sregs sregs;
	struct kvm_regs regs = { 0 };
	int kvm, vm, run_size, n = 64;
	void *mem;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("/dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0)
		die("KVM_CREATE_IRQCHIP");

	mem = mmap(NULL, GUEST_MEM, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	load_firmware(mem, firmware);
	mr.memory_size = GUEST_MEM;
	mr.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &mr) < 0)
		die("KVM_SET_USER_MEMORY_REGION");

	vcpu_fd = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu_fd < 0)
		die("KVM_CREATE_VCPU");
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < 0)
		die("KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");

	for (;;) {
		cpuid = calloc(1, sizeof(*cpuid) + n * sizeof(cpuid->entries[0]));
		if (!cpuid)
			die("calloc");
		cpuid->nent = n;
		if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) == 0)
			break;
		if (errno != E2BIG)
			die("KVM_GET_SUPPORTED_CPUID");
		free(cpuid);
		n *= 2;
	}
	if (ioctl(vcpu_fd, KVM_SET_CPUID2, cpuid) < 0)
		die("KVM_SET_CPUID2");
	free(cpuid);

	/* real mode, at the reset vector F000:FFF0 */
	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		die("KVM_GET_SREGS");
	sregs.cs.selector = 0xf000;
	sregs.cs.base = 0xf0000;
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		die("KVM_SET_SREGS");
	regs.rip = 0xfff0;
	regs.rflags = 2;
	if (ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS");
}

/* INs read zeros (no config: the firmware's defaults), OUTs are ignored */
static void handle_io(void)
{
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	uint32_t cfg[4] = {
		GUEST_CFG_MAGIC, GF_X2APIC | GF_TIMER | GF_BUSY, DEFAULT_TIMER_COUNT, 0
	};

	if (run->io.direction != KVM_EXIT_IO_IN) {
		if (run->io.port == GUEST_PORT_ACK)
			acked++; /* the firmware's handler is done (after its EOI) */
		return;
	}
	memset(data, 0, run->io.size * run->io.count);
	if (busy && run->io.port == GUEST_PORT_CFG && run->io.size == 4 && cfg_next < 4)
		memcpy(data, &cfg[cfg_next++], 4);
}

static void vcpu_loop(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	printf("vmm: pid %d vcpu-tid %d\n", getpid(), gettid());
	fflush(stdout);

	while (!stop) {
		if (ioctl(vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			die("KVM_RUN");
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			handle_io();
			break;
		case KVM_EXIT_INTR:
			break;
		default:
			fprintf(stderr, "vmm: unexpected exit reason %u\n",
				run->exit_reason);
			exit(1);
		}
	}
}

static void *vcpu_thread(void *arg)
{
	prctl(PR_SET_NAME, vcpu_name);
	vcpu_loop();
	return NULL;
}

/* an idle helper, like a VMM's API or event thread: waits for EOF */
static void *helper_thread(void *arg)
{
	char c;

	while (read((int)(intptr_t)arg, &c, 1) != 0)
		;
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: vmm [--vcpu-name NAME] [--comm NAME] [--name NAME] [--main] [-d SEC] "
			"[--busy] FIRMWARE\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vcpu-name", required_argument, NULL, 'n' },
		{ "main", no_argument, NULL, 'm' },
		{ "busy", no_argument, NULL, 'b' },
		{ "comm", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'N' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *helper_names[] = { "fc_api", "vmm_evt" };
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART */
	pthread_t helpers[2], vcpu;
	double secs = 10;
	int in_main = 0, pfd[2], c, i;
	sigset_t set;

	while ((c = getopt_long(argc, argv, "d:", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			vcpu_name = optarg;
			break;
		case 'm':
			in_main = 1;
			break;
		case 'b':
			busy = 1;
			break;
		case 'c':
			prctl(PR_SET_NAME, optarg);
			break;
		case 'N':
			break; /* for kvmrt to read from /proc/PID/cmdline */
		case 'd':
			secs = atof(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1 || secs <= 0)
		usage();

	vm_create(argv[optind]);

	/* only the thread running KVM_RUN takes the signals */
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	if (pipe2(pfd, O_CLOEXEC) < 0)
		die("pipe");
	for (i = 0; i < 2; i++) {
		errno = pthread_create(&helpers[i], NULL, helper_thread,
				       (void *)(intptr_t)pfd[0]);
		if (errno)
			die("pthread_create");
		pthread_setname_np(helpers[i], helper_names[i]);
	}

	if (in_main) {
		struct itimerval it = { 0 };

		it.it_value.tv_sec = (time_t)secs;
		it.it_value.tv_usec = (secs - (time_t)secs) * 1e6;
		if (setitimer(ITIMER_REAL, &it, NULL) < 0)
			die("setitimer");
		vcpu_loop();
	} else {
		struct timespec ts = {
			.tv_sec = (time_t)secs,
			.tv_nsec = (secs - (time_t)secs) * 1e9,
		};

		errno = pthread_create(&vcpu, NULL, vcpu_thread, NULL);
		if (errno)
			die("pthread_create");
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		/* immediate_exit makes this race-free: one kick is enough */
		pthread_kill(vcpu, SIGUSR1);
		pthread_join(vcpu, NULL);
	}

	close(pfd[1]);
	for (i = 0; i < 2; i++)
		pthread_join(helpers[i], NULL);
	printf("vmm: acked %llu\n", acked);
	return 0;
}
