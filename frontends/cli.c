// SPDX-License-Identifier: GPL-2.0
/* Command-line conventions every subcommand shares. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "commands.h"
#include "escape.h"
#include "log.h"

int cli_number(const char *what, const char *arg, double lo, double hi, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(*out) || *out < lo || *out > hi) {
		pr_err("invalid %s '%s': expected %g..%g", what, esc_str(arg), lo, hi);
		return -EINVAL;
	}
	return 0;
}

int cli_no_extra_args(const char *cmd, int argc, char **argv)
{
	if (optind < argc) {
		pr_err("%s: unexpected argument '%s'", cmd, esc_str(argv[optind]));
		return 2;
	}
	return 0;
}

int cli_output_check(const char *what, const char *path)
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
