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
