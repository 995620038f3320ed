/* SPDX-License-Identifier: GPL-2.0 */
/* The subcommands of kvmrt; each returns the process exit status
 * (0 ok, 1 error, 2 usage, 3 SLO violated). */
#ifndef KVMRT_COMMANDS_H
#define KVMRT_COMMANDS_H

#ifndef KVMRT_VERSION
#define KVMRT_VERSION "0.2"
#endif

/* An option's number within lo..hi, else a one-line error and -EINVAL. */
int cli_number(const char *what, const char *arg, double lo, double hi, double *out);
/* After getopt: anything left over is a usage error (one line). */
int cli_no_extra_args(const char *cmd, int argc, char **argv);

int cmd_trace(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_control(int argc, char **argv);

#endif
