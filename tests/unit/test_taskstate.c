// SPDX-License-Identifier: GPL-2.0
/* Thread identity: the hot path's pidfd check and the /proc start time;
 * the state file's reader against files it did not write; escaping. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <poll.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>
#include "claim.h"
#include "escape.h"
#include "taskstate.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t worker_tid;

static void *worker(void *arg)
{
	(void)arg;
	worker_tid = gettid();
	pthread_mutex_lock(&lock); /* held by the test until it lets us exit */
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void pidfd_sees_the_thread_exit(void **state)
{
	struct task_saved t, plain;
	pthread_t th;

	(void)state;
	pthread_mutex_lock(&lock);
	assert_int_equal(pthread_create(&th, NULL, worker, NULL), 0);
	while (!__atomic_load_n(&worker_tid, __ATOMIC_SEQ_CST))
		usleep(1000);
	assert_int_equal(task_save(&t, (__u32)getpid(), (__u32)worker_tid), 0);
	assert_int_equal(t.pidfd, -1); /* saving opens nothing */
	plain = t;
	task_pin(&t);
	assert_true(t.pidfd >= 0); /* Linux 6.9+ */
	assert_true(task_same(&t));
	assert_true(task_same(&plain));

	pthread_mutex_unlock(&lock);
	pthread_join(th, NULL);
	/* pthread_join returns when the kernel clears the tid, early in the
	 * thread's exit; the pidfd turns readable at its end (until then the
	 * tid cannot be reused either). Wait for that, within a second. */
	{
		struct pollfd p = { .fd = t.pidfd, .events = POLLIN };

		assert_int_equal(poll(&p, 1, 1000), 1);
	}
	/* gone: both ways say so (a reuse of the tid would not fool the pidfd);
	 * /proc drops the thread when it is reaped, just after */
	assert_false(task_same(&t));
	for (int i = 0; i < 1000 && task_same(&plain); i++)
		usleep(1000);
	assert_false(task_same(&plain));
	task_unpin(&t);
	assert_int_equal(t.pidfd, -1);
}

static void pin_refuses_another_thread(void **state)
{
	struct task_saved t;

	(void)state;
	assert_int_equal(task_save(&t, (__u32)getpid(), (__u32)gettid()), 0);
	t.start += 1; /* as if the tid now belonged to a younger thread */
	task_pin(&t);
	assert_int_equal(t.pidfd, -1);
	assert_false(task_same(&t));
}

static int parse(const char *text, size_t len, struct state_file *s, char *why)
{
	memset(s, 0, sizeof(*s));
	return state_parse(s, text, len, why, 256);
}

static void state_file_lines(void **state)
{
	static const char good[] = STATE_HEADER ": restore with 'kvmrt control --restore'\n"
				   "task 10 11 4242 0 0 0 -5\n"
				   "\n# a comment\n"
				   "cpusets2 /sys/fs/cgroup 1\n"
				   "cpuset 10 11 4242 / 0-1\n"
				   "irq 24 0,1\n";
	static const char binary[] = "\x7f" "ELF\x1b[2J\xff\n";
	static const char bad_mid[] = STATE_HEADER "\ntask 10 11 4242 0 0 0 0\ntask 1 2 3\n";
	static const char traversal[] = STATE_HEADER "\ncpusets /sys/fs/cgroup/../../etc\n";
	static const char dots[] = STATE_HEADER "\ncpuset 1 2 3 /machine-qemu\\x2da..b.scope 0\n";
	static const char signed_tid[] = STATE_HEADER "\ntask 10 -11 4242 0 0 0 0\n";
	static const char trailing[] = STATE_HEADER "\ntask 10 11 4242 0 0 0 0 junk\n";
	struct state_file s;
	char why[256];

	assert_int_equal(parse(good, sizeof(good) - 1, &s, why), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.tasks[0].tid, 11);
	assert_int_equal(s.tasks[0].nice, -5);
	assert_true(s.groups && s.v2 && s.v2_enabled);
	assert_int_equal(s.nmoved, 1);
	assert_int_equal(s.nirqs, 1);
	assert_string_equal(s.irqs[0].cpus, "0,1");
	state_free(&s);

	/* not ours: said once, escaped, nothing kept */
	assert_int_equal(parse(binary, sizeof(binary) - 1, &s, why), -EINVAL);
	assert_string_equal(why, "not a kvmrt control state file (line 1: expected '" STATE_HEADER
				 "...', got '\\x7fELF\\x1b[2J\\xff')");
	assert_int_equal(parse("", 0, &s, why), -EINVAL);
	/* one bad line refuses the whole file: nothing restored in part */
	assert_int_equal(parse(bad_mid, sizeof(bad_mid) - 1, &s, why), -EINVAL);
	assert_int_equal(s.n, 0);
	assert_null(s.tasks);
	assert_string_equal(why, "line 3: expected 'task PID TID START POLICY FLAGS PRIO NICE', "
				 "got 'task 1 2 3'");
	assert_int_equal(parse(traversal, sizeof(traversal) - 1, &s, why), -EINVAL);
	assert_int_equal(parse(signed_tid, sizeof(signed_tid) - 1, &s, why), -EINVAL);
	/* two dots in a name are not a ".." part */
	assert_int_equal(parse(dots, sizeof(dots) - 1, &s, why), 0);
	assert_string_equal(s.moved[0].path, "/machine-qemu\\x2da..b.scope");
	state_free(&s);
	assert_int_equal(parse(trailing, sizeof(trailing) - 1, &s, why), -EINVAL);
	/* a NUL inside a line */
	assert_int_equal(parse(STATE_HEADER "\nta\0sk\n", sizeof(STATE_HEADER) + 7, &s, why),
			 -EINVAL);
}

/* A host with many CPUs: every other one of 1024 in a thread's affinity
 * and an IRQ's list (2,459 bytes each), written and read back whole. */
static void state_file_long_cpu_lists(void **state)
{
	char list[4096] = "", path[] = "/tmp/kvmrt-test-state.XXXXXX", why[256];
	struct state_file s = { 0 }, back;
	struct cpuset_saved m = { .pid = 10, .tid = 11, .start = 4242, .path = "/" };
	struct irq_saved q = { .irq = 24 };
	int i, fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	for (i = 0; i < 1024; i += 2)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%d", i ? "," : "", i);
	assert_true(strlen(list) > 2000);
	m.cpus = strdup(list);
	q.cpus = strdup(list);
	snprintf(s.path, sizeof(s.path), "%s", path);
	s.moved = &m;
	s.nmoved = 1;
	s.irqs = &q;
	s.nirqs = 1;
	s.groups = 1;
	snprintf(s.cpuset_root, sizeof(s.cpuset_root), "/sys/fs/cgroup/cpuset");
	assert_int_equal(state_write(&s), 0);
	assert_int_equal(state_read(&back, path, why, sizeof(why)), 0);
	assert_int_equal(back.nmoved, 1);
	assert_int_equal(back.nirqs, 1);
	assert_string_equal(back.moved[0].cpus, list);
	assert_string_equal(back.irqs[0].cpus, list);
	state_free(&back);
	free(m.cpus);
	free(q.cpus);
	unlink(path);
}

/* A state file whose path is longer than 255 bytes: written where the
 * guardian and the restore look for it (the whole path), never at a cut one. */
static void state_file_long_path(void **state)
{
	char dir[] = "/tmp/kvmrt-test-dir.XXXXXX", path[1024], why[256], sub[201];
	struct state_file s = { 0 }, back;
	struct task_saved t = { .pid = 10, .tid = 11, .start = 4242 };

	assert_non_null(mkdtemp(dir));
	memset(sub, 'd', 200);
	sub[200] = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%.150s.state", sub);
	assert_true(strlen(path) > 300);
	snprintf(s.path, sizeof(s.path), "%s", path);
	s.tasks = &t;
	s.n = 1;
	assert_int_equal(state_write(&s), 0);
	assert_int_equal(state_read(&back, path, why, sizeof(why)), 0);
	assert_int_equal(back.n, 1);
	assert_int_equal(back.tasks[0].tid, 11);
	state_free(&back);
	unlink(path);
	*strrchr(path, '/') = 0;
	rmdir(path);
	rmdir(dir);
}

static void escaping(void **state)
{
	char out[16];

	assert_string_equal(esc_str("vm-1 é ✓"), "vm-1 é ✓"); /* UTF-8 kept */
	assert_string_equal(esc_str("a\nb\\c\x1b"), "a\\x0ab\\\\c\\x1b");
	assert_string_equal(esc_str("\xff\xc3(\xc2\x85\xed\xa0\x80"), /* invalid, C1, surrogate */
			    "\\xff\\xc3(\\xc2\\x85\\xed\\xa0\\x80");
	/* cut at a character's boundary, never inside an escape */
	assert_string_equal(esc(out, sizeof(out), "abcdefghijklm\x01", (size_t)-1), "abcdefghijklm");
	assert_string_equal(esc(out, 6, "ab✓✓", (size_t)-1), "ab✓");
	/* bidi controls reorder what a terminal shows (a state file's "evil\u202e"
	 * would read backwards), line separators break lines: escaped, each
	 * byte; other format marks stay (U+200D joins emoji) */
	assert_string_equal(esc_str("a\u202ecba"), "a\\xe2\\x80\\xaecba");
	assert_string_equal(esc_str("\u200e\u200f\u061c\u2066\u2069\u202a\u2028\u2029"),
			    "\\xe2\\x80\\x8e\\xe2\\x80\\x8f\\xd8\\x9c\\xe2\\x81\\xa6"
			    "\\xe2\\x81\\xa9\\xe2\\x80\\xaa\\xe2\\x80\\xa8\\xe2\\x80\\xa9");
	assert_string_equal(esc_str("\u200d\u2030\u2065\u206a"), "\u200d\u2030\u2065\u206a");
}

/* One controller per vCPU thread: a second is refused, naming the first,
 * while the first or its guardian lives (kill -9 of the controller leaves
 * the guardian holding it), and takes it once both are gone. */
static void claim_one_controller_per_thread(void **state)
{
	char dir[] = "/tmp/kvmrt-claim.XXXXXX", claims[64], who[512], want[128], buf[256];
	struct task_saved t = { .pid = getpid(), .tid = gettid() };
	struct claim mine = { .fd = -1 }, again = { .fd = -1 };
	int ready[2], hold[2], fd;
	pid_t ctl, guardian;
	ssize_t n;

	(void)state;
	t.start = task_start_time(t.pid, t.tid);
	assert_true(t.start > 0);
	assert_non_null(mkdtemp(dir));
	snprintf(claims, sizeof(claims), "%s/run/claims", dir); /* parent made too */
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);	/* the guardian comes back to us */
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(hold), 0);
	ctl = fork();
	assert_true(ctl >= 0);
	if (!ctl) { /* the first controller: claims, forks its guardian, waits */
		struct claim c;

		close(ready[0]);
		close(hold[1]);
		if (claim__take(&c, claims, &t, "/run/kvmrt/first.state", who, sizeof(who)))
			_exit(1);
		if (!fork()) {
			char ch;

			while (read(hold[0], &ch, 1) > 0) /* the guardian: until told */
				;
			_exit(0);
		}
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	assert_int_equal(read(ready[0], buf, 1), 1);

	assert_int_equal(claim__take(&mine, claims, &t, "/run/kvmrt/second.state", who, sizeof(who)),
			 -EBUSY);
	snprintf(want, sizeof(want), "kvmrt control pid %d, state file /run/kvmrt/first.state", ctl);
	assert_string_equal(who, want);
	/* --dry-run's look, which takes nothing */
	who[0] = 0;
	assert_int_equal(claim__held(claims, &t, who, sizeof(who)), 1);
	assert_string_equal(who, want);
	assert_int_equal(mine.fd, -1);

	kill(ctl, SIGKILL);
	assert_int_equal(waitpid(ctl, NULL, 0), ctl);
	assert_int_equal(claim__take(&mine, claims, &t, "/run/kvmrt/second.state", who, sizeof(who)),
			 -EBUSY);
	snprintf(want, sizeof(want),
		 "kvmrt control pid %d (gone: its guardian restores), state file /run/kvmrt/first.state",
		 ctl);
	assert_string_equal(who, want);

	close(hold[1]); /* the guardian is done */
	guardian = wait(NULL);
	assert_true(guardian > 0);
	assert_int_equal(claim__take(&mine, claims, &t, "/run/kvmrt/second.state", who, sizeof(who)),
			 0);
	fd = open(mine.path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	snprintf(want, sizeof(want), "controller %d\nstate /run/kvmrt/second.state\n", getpid());
	assert_string_equal(buf, want);
	/* a lock is per open file: this process's second try is refused too,
	 * said as what it likely is (--rt NAME and --rt PID of one VM) */
	assert_int_equal(claim__take(&again, claims, &t, "/x", who, sizeof(who)), -EBUSY);
	assert_string_equal(who, "this controller already (the VM given twice?)");
	/* a reused tid is another thread: its own claim */
	t.start++;
	assert_int_equal(claim__take(&again, claims, &t, "/x", who, sizeof(who)), 0);
	claim__drop(&again);
	t.start--;

	claim__drop(&mine);
	assert_int_equal(access(mine.path, F_OK), -1);
	assert_int_equal(claim__held(claims, &t, who, sizeof(who)), 0);
	assert_int_equal(claim__take(&mine, claims, &t, "/x", who, sizeof(who)), 0);
	claim__drop(&mine);
	close(ready[0]);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	rmdir(claims);
	snprintf(claims, sizeof(claims), "%s/run", dir);
	rmdir(claims);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pidfd_sees_the_thread_exit),
		cmocka_unit_test(pin_refuses_another_thread),
		cmocka_unit_test(state_file_lines),
		cmocka_unit_test(state_file_long_cpu_lists),
		cmocka_unit_test(state_file_long_path),
		cmocka_unit_test(escaping),
		cmocka_unit_test(claim_one_controller_per_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
