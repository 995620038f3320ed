// SPDX-License-Identifier: GPL-2.0
/* Thread identity: the hot path's pidfd check and the /proc start time. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <cmocka.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pidfd_sees_the_thread_exit),
		cmocka_unit_test(pin_refuses_another_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
