/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Text kvmrt did not write (process and thread names, lines of a file,
 * command-line values) made safe to print in a terminal, JSON or a
 * Prometheus label: valid UTF-8 that is not a control character is kept,
 * every other byte becomes \xNN and a backslash \\.
 */
#ifndef KVMRT_ESCAPE_H
#define KVMRT_ESCAPE_H

#include <stddef.h>

/* s (n bytes, or up to its NUL when n is (size_t)-1) into out (outlen >
 * 0), cut at a character boundary when it does not fit; returns out. */
char *esc(char *out, size_t outlen, const char *s, size_t n);
/* esc() of a NUL-terminated s into one of a few per-thread buffers (each
 * up to 256 bytes of output), for error messages. */
const char *esc_str(const char *s);
/* The same of n bytes. */
const char *esc_str_n(const char *s, size_t n);

#endif
