// SPDX-License-Identifier: GPL-2.0
/* The one way back from kvmrt control: the controller at its end, the
 * guardian, and --restore all take it. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "escape.h"
#include "log.h"
#include "restore.h"
#include "shield.h"

int control_restore(const char *path, int verbose)
{
	struct state_file s;
	int i, failed = 0, err;
	char why[256];

	err = state_read(&s, path, why, sizeof(why));
	if (err == -ENOENT)
		return 0;
	if (err) {
		/* nothing restored from a file we cannot read whole */
		pr_err("state file %s: %s", esc_str(path), why);
		return err;
	}
	for (i = 0; i < s.n; i++) {
		const struct task_saved *t = &s.tasks[i];

		err = task_restore(t);
		if (err == -ESRCH) {
			if (verbose)
				pr_info("thread %u of %u is gone: nothing to restore", t->tid, t->pid);
			continue;
		}
		if (err) {
			pr_err("restore thread %u: %s", t->tid, strerror(-err));
			failed++;
		}
	}
	failed += shield_restore(&s);
	state_free(&s);
	if (!failed)
		unlink(path);
	return failed;
}
