// SPDX-License-Identifier: GPL-2.0
/* Command-line conventions every subcommand shares. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include "commands.h"
#include "log.h"

int cli_number(const char *what, const char *arg, double lo, double hi, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(arg, &end);
	if (errno || end == arg || *end || *out < lo || *out > hi) {
		pr_err("invalid %s '%s': expected %g..%g", what, arg, lo, hi);
		return -EINVAL;
	}
	return 0;
}

int cli_no_extra_args(const char *cmd, int argc, char **argv)
{
	if (optind < argc) {
		pr_err("%s: unexpected argument '%s'", cmd, argv[optind]);
		return 2;
	}
	return 0;
}
