/* SPDX-License-Identifier: GPL-2.0 */
/* A small file read whole (a config, a state file). */
#ifndef KVMRT_READFILE_H
#define KVMRT_READFILE_H

#include <stddef.h>

/* The file's bytes, NUL-terminated (inner NULs kept; *len, when not NULL,
 * says how many), to free(); NULL with errno set (ENOENT..., EFBIG past
 * max bytes, ENOMEM, EIO). */
char *read_whole(const char *path, size_t max, size_t *len);

#endif
