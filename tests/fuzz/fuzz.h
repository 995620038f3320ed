/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the fuzz targets share (libFuzzer, built under ASan and UBSan by
 * `make fuzz`): the input as a NUL-terminated string or as a file, stderr
 * silenced (the one-line errors are still formatted, so escaping is
 * fuzzed), and a check that text meant for a terminal, JSON or a label is.
 */
#ifndef KVMRT_FUZZ_H
#define KVMRT_FUZZ_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "escape.h"

/* kvmrt's errors go to /dev/null: formatted (and so fuzzed), not shown.
 * Only the stdio stream: libFuzzer and the sanitizers keep descriptor 2. */
static inline void fuzz_quiet(void)
{
	static FILE *null;

	if (!null && (null = fopen("/dev/null", "w")))
		stderr = null;
}

/* data as a C string (NUL at size; inner NULs end it early) */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = 0;
	return s;
}

/* data written to a per-process file under dir (made once); its path */
static inline const char *fuzz_file(const char *dir, const char *name, const void *data, size_t size)
{
	static char path[256];
	FILE *f;

	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f))
		abort();
	return path;
}

/* A per-process directory on tmpfs for fuzz_file. */
static inline const char *fuzz_dir(const char *what)
{
	static char dir[128];

	if (!dir[0])
		snprintf(dir, sizeof(dir), "/dev/shm/kvmrt-fuzz-%s-%d", what, (int)getpid());
	return dir;
}

/* Text kvmrt prints: no control byte, valid UTF-8 (escape.h's promise). */
static inline void fuzz_assert_printable(const char *s)
{
	char back[2048];
	size_t n = strlen(s), slashes = 0, i;

	if (n > 512)
		abort();
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			abort();
		slashes += s[i] == '\\';
	}
	/* escaping it again only doubles its backslashes: it held nothing
	 * else to escape (no invalid UTF-8, no C1 control) */
	if (strlen(esc(back, sizeof(back), s, n)) != n + slashes)
		abort();
}

#endif
