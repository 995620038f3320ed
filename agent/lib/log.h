/* SPDX-License-Identifier: GPL-2.0 */
/* Leveled messages to stderr; arguments are not evaluated when the level
 * is off. Errors are one line: what failed and why. */
#ifndef KVMRT_LOG_H
#define KVMRT_LOG_H

#include <stdio.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };
extern int log_level;
extern const char *log_prefix; /* "kvmrt", or the program's name */

#define log_at(lvl, fmt, ...)                                                                      \
	do {                                                                                       \
		if (log_level >= (lvl))                                                            \
			fprintf(stderr, "%s: " fmt "\n", log_prefix, ##__VA_ARGS__);                  \
	} while (0)
#define pr_err(fmt, ...) log_at(LOG_ERROR, fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...) log_at(LOG_WARN, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) log_at(LOG_INFO, fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) log_at(LOG_DEBUG, fmt, ##__VA_ARGS__)

#endif
