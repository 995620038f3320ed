/* SPDX-License-Identifier: GPL-2.0 */
/* The kvmrt control command's own parts (control.c runs them). */
#ifndef KVMRT_CONTROL_CMD_H
#define KVMRT_CONTROL_CMD_H

#include <stdio.h>
#include "controller.h"

/* control_opts.c */
void control__usage(FILE *f);
/* 0 to run, -1 after --help, 2 on a usage error (said why). */
int control__parse_args(struct control *ctl, int argc, char **argv);

/* control_metrics.c: --listen's page, now (between the controller's seconds) */
struct httpd;
void control__publish_metrics(struct control *ctl, struct httpd *http);

#endif
