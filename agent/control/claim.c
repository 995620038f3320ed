// SPDX-License-Identifier: GPL-2.0
/* A lock file per managed vCPU thread: see claim.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "claim.h"
#include "escape.h"

/* dir and its parent (/run/kvmrt may not exist yet on a fresh boot) */
static int make_dir(const char *dir)
{
	char parent[PATH_MAX], *slash;

	if (!mkdir(dir, 0700) || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -errno;
	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return -ENOENT;
	*slash = 0;
	if (mkdir(parent, 0700) && errno != EEXIST)
		return -errno;
	return mkdir(dir, 0700) && errno != EEXIST ? -errno : 0;
}

/* Who holds the lock, from what it wrote in the file. */
static void holder(int fd, char *who, size_t wholen)
{
	char buf[PATH_MAX + 64], *state;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	int pid = 0;

	buf[n > 0 ? n : 0] = 0;
	state = strstr(buf, "\nstate ");
	if (sscanf(buf, "controller %d", &pid) != 1 || pid <= 0 || !state) {
		snprintf(who, wholen, "another kvmrt control (starting)");
		return;
	}
	state += 7;
	state[strcspn(state, "\n")] = 0;
	if (pid == getpid()) { /* --rt NAME and --rt PID of one VM */
		snprintf(who, wholen, "this controller already (the VM given twice?)");
		return;
	}
	snprintf(who, wholen, "kvmrt control pid %d%s, state file %s", pid,
		 kill(pid, 0) && errno == ESRCH ? " (gone: its guardian restores)" : "",
		 esc_str(state));
}

/* The lock, waiting out a brief holder (claim__held's look, a --dry-run's,
 * holds it shared for a moment): 0, or -1 with errno. */
static int lock_briefly(int fd)
{
	const struct timespec ms5 = { 0, 5000000 };
	int i;

	for (i = 0; i < 20; i++) {
		if (!flock(fd, LOCK_EX | LOCK_NB))
			return 0;
		if (errno != EWOULDBLOCK)
			return -1;
		nanosleep(&ms5, NULL);
	}
	return -1;
}

int claim__take(struct claim *c, const char *dir, const struct task_saved *t,
	       const char *state_path, char *who, size_t wholen)
{
	struct stat held, named;
	int fd, err;

	c->fd = -1;
	err = make_dir(dir);
	if (err)
		return err;
	if ((size_t)snprintf(c->path, sizeof(c->path), "%s/%u-%llu", dir, t->tid, t->start) >=
	    sizeof(c->path))
		return -ENAMETOOLONG;
	for (;;) {
		fd = open(c->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return -errno;
		if (lock_briefly(fd)) {
			err = errno == EWOULDBLOCK ? -EBUSY : -errno;
			/* a file its holder unlinked as it let go: a new one */
			if (err == -EBUSY && !fstat(fd, &held) && !held.st_nlink) {
				close(fd);
				continue;
			}
			if (err == -EBUSY)
				holder(fd, who, wholen);
			close(fd);
			return err;
		}
		/* still the file named so: its last holder may have unlinked
		 * it between our open and our lock */
		if (!fstat(fd, &held) && !stat(c->path, &named) && held.st_ino == named.st_ino &&
		    held.st_dev == named.st_dev)
			break;
		close(fd);
	}
	if (ftruncate(fd, 0) || dprintf(fd, "controller %d\nstate %s\n", getpid(), state_path) < 0) {
		err = -errno;
		unlink(c->path);
		close(fd);
		return err;
	}
	c->fd = fd;
	return 0;
}

int claim__held(const char *dir, const struct task_saved *t, char *who, size_t wholen)
{
	char path[PATH_MAX];
	int fd, held;

	snprintf(path, sizeof(path), "%s/%u-%llu", dir, t->tid, t->start);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	held = flock(fd, LOCK_SH | LOCK_NB) && errno == EWOULDBLOCK;
	if (held)
		holder(fd, who, wholen);
	close(fd); /* a shared lock taken, if any, goes with it */
	return held;
}

void claim__drop(struct claim *c)
{
	if (c->fd < 0)
		return;
	unlink(c->path);
	close(c->fd);
	c->fd = -1;
}
