// SPDX-License-Identifier: GPL-2.0
/* Command-line conventions every subcommand shares. */
#include <unistd.h>
#include "commands.h"
#include "log.h"

int cli_no_extra_args(const char *cmd, int argc, char **argv)
{
	if (optind < argc) {
		pr_err("%s: unexpected argument '%s'", cmd, argv[optind]);
		return 2;
	}
	return 0;
}
