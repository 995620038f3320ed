/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One controller per vCPU thread, whatever state file each one keeps: a
 * lock file per thread (named by tid and start time, so a reused tid is
 * another thread), flock()ed for as long as its controller or that
 * controller's guardian lives. The kernel drops the lock when both are
 * gone, kill -9 included: nothing stale to clean up first.
 */
#ifndef KVMRT_CLAIM_H
#define KVMRT_CLAIM_H

#include <limits.h>
#include <stddef.h>
#include "taskstate.h"

#define CLAIM_DIR "/run/kvmrt/claims"
/* a run refused for another controller's VM: VM, vCPU, tid, its holder */
#define CLAIM_REFUSED "control: VM %s vCPU %u (thread %u) is managed by %s: refusing"

struct claim {
	int fd; /* -1: none held */
	char path[PATH_MAX];
};

/* Take the thread for this controller (its state file named in the lock
 * file). 0; -EBUSY if another live controller holds it, with who (pid and
 * state file, escaped) in who; or -errno. */
int claim__take(struct claim *c, const char *dir, const struct task_saved *t,
	       const char *state_path, char *who, size_t wholen);
/* Without taking it or creating anything (--dry-run): 1 if another live
 * controller holds the thread (who says which), else 0. */
int claim__held(const char *dir, const struct task_saved *t, char *who, size_t wholen);
/* Let it go (unlinked first: a newcomer locks a file still named). */
void claim__drop(struct claim *c);

#endif
