// SPDX-License-Identifier: GPL-2.0
/* Command-line conventions every subcommand shares. */
#include <errno.h>
#include <fcntl.h>
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
	if (errno || end == arg || *end || *out < lo || *out > hi) {
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
	int existed = !access(path, F_OK);
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0) {
		int err = -errno;

		pr_err("%s %s: %s", what, esc_str(path), strerror(-err));
		return err;
	}
	close(fd);
	if (!existed)
		unlink(path); /* written at the end, by whoever opens it then */
	return 0;
}
