// SPDX-License-Identifier: GPL-2.0
/* The guardian: a child that restores from the state file if the
 * controller dies without doing so itself. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "controller.h"
#include "restore.h"

/* The guardian: a child that outlives a crashed or killed controller and
 * restores from the state file. It sees the controller go through EOF on
 * a pipe only the controller holds open. */
int control__start_guardian(struct control *ctl)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		close(p[0]);
		close(p[1]);
		return err;
	}
	if (pid == 0) {
		char c;
		struct stat sb;

		close(p[1]);
		signal(SIGINT, SIG_IGN); /* a terminal's Ctrl-C is for the controller */
		signal(SIGTERM, SIG_IGN);
		prctl(PR_SET_NAME, "kvmrt-guardian");
		while (read(p[0], &c, 1) > 0)
			;
		if (!stat(ctl->o.state_path, &sb)) {
			int failed = control_restore(ctl->o.state_path, 0);

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

void control__stop_guardian(struct control *ctl)
{
	if (ctl->guardian_fd < 0)
		return;
	close(ctl->guardian_fd); /* its EOF: it restores what is left, if any */
	ctl->guardian_fd = -1;
	while (wait(NULL) > 0)
		;
}
