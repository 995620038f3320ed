// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "escape.h"
#include "log.h"
#include "outfile.h"

int output_check(const char *what, const char *path)
{
	/* created here (and so removed again), or there and writable; a FIFO
	 * with no reader yet is not waited for */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644), created = fd >= 0;

	if (fd < 0 && errno == EEXIST)
		fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno != ENXIO) {
		int err = -errno;

		pr_err("%s %s: %s", what, esc_str(path), strerror(-err));
		return err;
	}
	if (fd >= 0)
		close(fd);
	if (created)
		unlink(path); /* written at the end, by whoever opens it then */
	return 0;
}
