// SPDX-License-Identifier: GPL-2.0
/* The VM registry against QEMU's command lines and a fake /proc tree. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "filter.h"
#include "procfs.h"
#include "vmreg.h"

static int name_of(const char *args[], int n, char *out, size_t len)
{
	char buf[512];
	size_t off = 0;
	int i;

	for (i = 0; i < n; i++) {
		size_t l = strlen(args[i]) + 1;

		memcpy(buf + off, args[i], l);
		off += l;
	}
	return vmreg_parse_name(buf, off, out, len);
}

static void qemu_names(void **state)
{
	const char *a[] = { "qemu-system-x86_64", "-accel", "kvm", "-name",
			    "guest=rt0,debug-threads=on", "-m", "64" };
	const char *b[] = { "qemu-kvm", "-name", "plain" };
	const char *c[] = { "qemu-kvm", "-name", "web,process=qemu:web" };
	const char *d[] = { "kvmrt-guest", "--name", "probe" };
	const char *e[] = { "qemu-kvm", "-m", "64" };
	const char *f[] = { "qemu-kvm", "-name" };
	char out[64];

	assert_true(name_of(a, 7, out, sizeof(out)));
	assert_string_equal(out, "rt0");
	assert_true(name_of(b, 3, out, sizeof(out)));
	assert_string_equal(out, "plain");
	assert_true(name_of(c, 3, out, sizeof(out)));
	assert_string_equal(out, "web");
	assert_true(name_of(d, 3, out, sizeof(out)));
	assert_string_equal(out, "probe");
	assert_false(name_of(e, 3, out, sizeof(out)));
	assert_false(name_of(f, 2, out, sizeof(out)));
}

static void vcpu_thread_names(void **state)
{
	__u32 v;

	assert_true(vmreg_parse_vcpu_comm("CPU 0/KVM", &v));
	assert_int_equal(v, 0);
	assert_true(vmreg_parse_vcpu_comm("CPU 17/KVM", &v));
	assert_int_equal(v, 17);
	assert_false(vmreg_parse_vcpu_comm("CPU 1/TCG", &v));
	assert_false(vmreg_parse_vcpu_comm("qemu-system-x86", &v));
	assert_false(vmreg_parse_vcpu_comm("CPU x/KVM", &v));
	/* Firecracker, Cloud Hypervisor, crosvm, kvmtool */
	assert_true(vmreg_parse_vcpu_comm("fc_vcpu 3", &v));
	assert_int_equal(v, 3);
	assert_true(vmreg_parse_vcpu_comm("vcpu12", &v));
	assert_int_equal(v, 12);
	assert_true(vmreg_parse_vcpu_comm("crosvm_vcpu0", &v));
	assert_int_equal(v, 0);
	assert_true(vmreg_parse_vcpu_comm("kvm-vcpu-7", &v));
	assert_int_equal(v, 7);
	/* not vCPU names: a sign, a space, a tail, nothing after the prefix */
	assert_false(vmreg_parse_vcpu_comm("vcpu-1", &v));
	assert_false(vmreg_parse_vcpu_comm("vcpu 1", &v));
	assert_false(vmreg_parse_vcpu_comm("fc_vcpu 1x", &v));
	assert_false(vmreg_parse_vcpu_comm("fc_vcpu ", &v));
	assert_false(vmreg_parse_vcpu_comm("fc_api", &v));
	assert_false(vmreg_parse_vcpu_comm("vcpu99999999999", &v));
}

static void kvm_run_lines(void **state)
{
	__u32 v;
	int fd;

	assert_true(vmreg_parse_kvm_run("16 0x5 0xae80 0x0 0x0 0x0 0x0 0x7f3ab30bbdb0 0x7f3ab32bdd6b\n",
					&fd));
	assert_int_equal(fd, 5);
	assert_false(vmreg_parse_kvm_run("running\n", &fd));
	assert_false(vmreg_parse_kvm_run("-1 0x7ffc 0x7f3a\n", &fd));
	/* ioctl, but not KVM_RUN (KVM_GET_REGS), and another syscall */
	assert_false(vmreg_parse_kvm_run("16 0x5 0x8090ae81 0x0 0x0 0x0 0x0 0x1 0x2\n", &fd));
	assert_false(vmreg_parse_kvm_run("230 0x1 0x1 0x7ffc7285e3e0 0x0 0x0 0x0 0x1 0x2\n", &fd));
	assert_true(vmreg_parse_vcpu_fd("anon_inode:kvm-vcpu:0", &v));
	assert_int_equal(v, 0);
	assert_true(vmreg_parse_vcpu_fd("anon_inode:kvm-vcpu:31", &v));
	assert_int_equal(v, 31);
	assert_false(vmreg_parse_vcpu_fd("anon_inode:kvm-vm", &v));
	assert_false(vmreg_parse_vcpu_fd("anon_inode:kvm-vcpu-stats:0", &v));
	assert_false(vmreg_parse_vcpu_fd("anon_inode:kvm-vcpu:", &v));
}

static void put(const char *dir, const char *rel, const char *data, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite(data, 1, len, f);
	fclose(f);
}

static void mk(const char *dir, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

/* A thread: its comm, its stat with flags (field 9), its syscall line */
static void task(const char *root, const char *rel, const char *comm, unsigned int flags,
		 const char *syscall)
{
	char path[512], buf[512];
	int n;

	mk(root, rel);
	n = snprintf(buf, sizeof(buf), "%s\n", comm);
	snprintf(path, sizeof(path), "%s/comm", rel);
	put(root, path, buf, n);
	n = snprintf(buf, sizeof(buf), "1 (%s) S 1 1 1 0 -1 %u 0 0 0 0 0 0 0 0 20 0 1 0 4242\n",
		     comm, flags);
	snprintf(path, sizeof(path), "%s/stat", rel);
	put(root, path, buf, n);
	n = snprintf(buf, sizeof(buf), "%s\n", syscall);
	snprintf(path, sizeof(path), "%s/syscall", rel);
	put(root, path, buf, n);
}

static void fake_proc_scan(void **state)
{
	char tmpl[] = "/tmp/kvmrt-proc-XXXXXX", link[600];
	char *root = mkdtemp(tmpl);
	static const char cmd[] = "qemu\0-name\0guest=rt1,debug-threads=on\0";
	static const char stat[] = "100 (qemu) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 5 0 4242 0 0\n";
	struct vmreg r;
	struct vm_entry *e;
	int i;

	assert_non_null(root);
	/* pid 100: a VM with vCPU threads 101, 102; pid 200: not a VM */
	mk(root, "100");
	mk(root, "100/fd");
	mk(root, "100/task");
	mk(root, "100/task/100");
	mk(root, "100/task/101");
	mk(root, "100/task/102");
	put(root, "100/cmdline", cmd, sizeof(cmd) - 1);
	put(root, "100/comm", "qemu\n", 5);
	put(root, "100/stat", stat, sizeof(stat) - 1);
	put(root, "100/task/100/comm", "qemu\n", 5);
	put(root, "100/task/101/comm", "CPU 0/KVM\n", 10);
	put(root, "100/task/102/comm", "CPU 1/KVM\n", 10);
	snprintf(link, sizeof(link), "%s/100/fd/9", root);
	assert_int_equal(symlink("anon_inode:kvm-vm", link), 0);
	/* pid 300: a VMM that names nothing: its main thread runs vCPU 1
	 * (fd 6), thread 301 vCPU 0 (fd 5); 302 is KVM's user worker
	 * (PF_USER_WORKER) with the same syscall line; 303 idles in read() */
	mk(root, "300");
	mk(root, "300/fd");
	mk(root, "300/task");
	put(root, "300/cmdline", "myvmm\0", 6);
	put(root, "300/comm", "myvmm\n", 6);
	put(root, "300/stat", stat, sizeof(stat) - 1);
	snprintf(link, sizeof(link), "%s/300/fd/4", root);
	assert_int_equal(symlink("anon_inode:kvm-vm", link), 0);
	snprintf(link, sizeof(link), "%s/300/fd/5", root);
	assert_int_equal(symlink("anon_inode:kvm-vcpu:0", link), 0);
	snprintf(link, sizeof(link), "%s/300/fd/6", root);
	assert_int_equal(symlink("anon_inode:kvm-vcpu:1", link), 0);
	task(root, "300/task/300", "myvmm", 0x400000, "16 0x6 0xae80 0x0 0x0 0x0 0x0 0x1 0x2");
	task(root, "300/task/301", "worker (1)", 0x400040, "16 0x5 0xae80 0x0 0x0 0x0 0x0 0x1 0x2");
	task(root, "300/task/302", "kvm-nx-lpage-re", 0x404040,
	     "16 0x5 0xae80 0x0 0x0 0x0 0x0 0x1 0x2");
	task(root, "300/task/303", "io", 0x400040, "0 0x3 0x7ffc 0x10 0x0 0x0 0x0 0x1 0x2");
	mk(root, "200");
	mk(root, "200/fd");
	put(root, "200/comm", "bash\n", 5);
	snprintf(link, sizeof(link), "%s/200/fd/0", root);
	assert_int_equal(symlink("/dev/null", link), 0);

	vmreg__init(&r, -1, -1, -1);
	r.proc = root;
	assert_int_equal(vmreg__scan(&r), 0);
	assert_int_equal(r.n, 2);
	e = vmreg__find(&r, 300);
	assert_non_null(e);
	assert_int_equal(e->nvcpu_fds, 2);
	assert_int_equal(e->nvcpus, 2);
	for (i = 0; i < 2; i++) {
		assert_int_equal(e->vcpus[i].how, VCPU_BY_KVM_RUN);
		assert_int_equal(e->vcpus[i].tid, e->vcpus[i].id == 1 ? 300 : 301);
	}
	e = vmreg__find(&r, 100);
	assert_non_null(e);
	assert_string_equal(e->name, "rt1");
	assert_int_equal(e->start, 4242);
	assert_true(e->alive);
	assert_int_equal(e->nvcpus, 2);
	assert_int_equal(e->vcpus[0].how, VCPU_BY_NAME);
	assert_null(vmreg__find(&r, 200));

	/* exiting: its cmdline reads empty, its comm not; the name stays */
	put(root, "100/cmdline", "", 0);
	assert_int_equal(vmreg__scan(&r), 0);
	assert_string_equal(vmreg__find(&r, 100)->name, "rt1");

	/* the VM exits: kept for the report, no longer alive */
	snprintf(link, sizeof(link), "rm -rf %s/100", root);
	assert_int_equal(system(link), 0);
	assert_int_equal(vmreg__scan(&r), 0);
	assert_false(vmreg__find(&r, 100)->alive);
	vmreg__free(&r);
	snprintf(link, sizeof(link), "rm -rf %s", root);
	assert_int_equal(system(link), 0);
}

/* Names nobody should choose: a comm that looks like the end of a stat
 * comm, a newline, invalid UTF-8, 200 bytes. The VM is still found, its
 * vCPU thread too, and its name is kept escaped. */
static void hostile_names(void **state)
{
	char tmpl[] = "/tmp/kvmrt-proc-XXXXXX", link[600], cmd[400], want[400];
	char *root = mkdtemp(tmpl);
	static const char stat[] = "400 () R 1 1 () S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 2 0 777 0 0\n";
	struct vm_entry *e;
	struct vmreg r;
	size_t n = 0, i;

	assert_non_null(root);
	/* argv: "vmm --name <200 bytes: a newline, \xff, then 'x'>" */
	memcpy(cmd, "vmm\0--name\0", 11);
	n = 11;
	cmd[n++] = '\n';
	cmd[n++] = (char)0xff;
	for (i = 2; i < 200; i++)
		cmd[n++] = 'x';
	cmd[n++] = 0;
	mk(root, "400");
	mk(root, "400/fd");
	mk(root, "400/task");
	put(root, "400/cmdline", cmd, n);
	put(root, "400/comm", ") R 1 1 (\n", 10);
	put(root, "400/stat", stat, sizeof(stat) - 1);
	snprintf(link, sizeof(link), "%s/400/fd/3", root);
	assert_int_equal(symlink("anon_inode:kvm-vm", link), 0);
	snprintf(link, sizeof(link), "%s/400/fd/4", root);
	assert_int_equal(symlink("anon_inode:kvm-vcpu:0", link), 0);
	task(root, "400/task/401", ") R 1 1 (", 0x40, "16 0x4 0xae80 0x0 0x0 0x0 0x0 0x1 0x2");

	vmreg__init(&r, -1, -1, -1);
	r.proc = root;
	assert_int_equal(vmreg__scan(&r), 0);
	e = vmreg__find(&r, 400);
	assert_non_null(e);
	assert_int_equal(e->start, 777);
	assert_int_equal(e->nvcpus, 1);
	assert_int_equal(e->vcpus[0].tid, 401);
	assert_int_equal(e->vcpus[0].how, VCPU_BY_KVM_RUN);
	snprintf(want, sizeof(want), "\\x0a\\xff%.198s", cmd + 13);
	assert_string_equal(e->name, want);
	vmreg__free(&r);
	snprintf(link, sizeof(link), "rm -rf %s", root);
	assert_int_equal(system(link), 0);
}

static void stat_and_status(void **state)
{
	long long f[42];
	__u32 tgid;

	assert_int_equal(proc_stat_fields("5 (a) b) S 1 2 3 -4 18446744073709551614", f, 8), 0);
	assert_int_equal(f[4], 1);
	assert_int_equal(f[7], -4);
	assert_int_equal((unsigned long long)f[8], 18446744073709551614ULL); /* a signal mask */
	assert_int_equal(proc_stat_fields("5 (a) S 1 2", f, 8), -EINVAL); /* short */
	assert_int_equal(proc_stat_fields("5 (a) S 1 x 3", f, 6), -EINVAL);
	assert_int_equal(proc_stat_fields("5 (a S 1 2 3", f, 5), -EINVAL);
	assert_int_equal(proc_stat_fields("5 (a)S 1 2 3", f, 5), -EINVAL);
	assert_int_equal(proc_stat_fields("", f, 5), -EINVAL);
	assert_int_equal(proc_status_tgid("Name:\tx\nUmask:\t0022\nState:\tS\nTgid:\t42\nNgid:", &tgid), 0);
	assert_int_equal(tgid, 42);
	assert_int_equal(proc_status_tgid("Name:\tTgid: 7\n", &tgid), -EINVAL);
	assert_int_equal(proc_status_tgid("Name:\tx\nTgid:\t99999999999\n", &tgid), -EINVAL);
}

/* /proc/interrupts' IPI rows (a 4-CPU host, as 6.18 prints them), summed
 * over the CPUs asked; this host's own file reads too */
static void ipi_rows(void **state)
{
	const char *text =
		"            CPU0       CPU1       CPU2       CPU3       \n"
		"   0:         45          0          0          0   IO-APIC   2-edge      timer\n"
		" NMI:          1          2          3          4   Non-maskable interrupts\n"
		" RES:     404996     377343         10         20   Rescheduling interrupts\n"
		" CAL:    1246075    1058667          5          6   Function call interrupts\n"
		" IWI:       1020       1553          7          8   IRQ work interrupts\n";
	__u8 cpus[4] = { 0, 1, 0, 1 };
	struct ipi_counts c;

	assert_int_equal(proc_ipi_counts(text, cpus, 4, &c), 0);
	assert_int_equal(c.iwi, 1553 + 8);
	assert_int_equal(c.res, 377343 + 20);
	assert_int_equal(c.cal, 1058667 + 6);
	assert_int_equal(proc_ipi_counts(text, NULL, 0, &c), 0);
	assert_int_equal(c.iwi, 1020 + 1553 + 7 + 8);
	assert_int_equal(proc_ipi_counts("   0: 45 IO-APIC timer\n", NULL, 0, &c), -EINVAL);
	assert_int_equal(ipi_counts_read(&c, NULL, 0), 0);
	assert_true(c.res > 0); /* any running host reschedules */
}

static void filters(void **state)
{
	struct vm_filter f;

	filter_init(&f);
	assert_true(filter_vm(&f, 1, "x"));
	assert_int_equal(filter_parse_pids(&f, "10,20"), 0);
	assert_true(filter_vm(&f, 20, "x"));
	assert_false(filter_vm(&f, 30, "x"));
	assert_int_not_equal(filter_parse_pids(&f, "10,,20"), 0);
	assert_int_not_equal(filter_parse_pids(&f, "abc"), 0);
	assert_int_not_equal(filter_parse_pids(&f, "-5"), 0);
	filter_init(&f);
	f.guest = "rt*";
	assert_true(filter_vm(&f, 1, "rt0"));
	assert_false(filter_vm(&f, 1, "web"));
	assert_int_equal(filter_parse_vcpu(&f, "3"), 0);
	assert_true(filter_vcpu(&f, 3));
	assert_false(filter_vcpu(&f, 2));
	assert_int_not_equal(filter_parse_vcpu(&f, "x"), 0);
	assert_int_not_equal(filter_parse_vcpu(&f, "99999"), 0);
}

/* kernel threads that inject for a VM: the BPF side's rule (kvs_comm_owner) */
static void injector_names(void **state)
{
	__u32 o = 0;

	assert_true(vmreg_parse_injector_comm("kvm-pit/4242", &o));
	assert_int_equal(o, 4242);
	assert_true(vmreg_parse_injector_comm("vhost-1234567", &o));
	assert_int_equal(o, 1234567);
	assert_false(vmreg_parse_injector_comm("vhost-12x", &o));	 /* not digits to the end */
	assert_false(vmreg_parse_injector_comm("vhost-12 worker", &o));
	assert_false(vmreg_parse_injector_comm("kvm-pit/", &o));
	assert_false(vmreg_parse_injector_comm("vhost-123456789", &o)); /* more than 8 digits */
	assert_false(vmreg_parse_injector_comm("kvm-pit/-1", &o));
	assert_false(vmreg_parse_injector_comm("kvm-nx-lpage-re", &o));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(qemu_names),
		cmocka_unit_test(vcpu_thread_names),
		cmocka_unit_test(kvm_run_lines),
		cmocka_unit_test(injector_names),
		cmocka_unit_test(fake_proc_scan),
		cmocka_unit_test(hostile_names),
		cmocka_unit_test(stat_and_status),
		cmocka_unit_test(filters),
		cmocka_unit_test(ipi_rows),
	};

	return cmocka_run_group_tests_name("vmreg", tests, NULL, NULL);
}
