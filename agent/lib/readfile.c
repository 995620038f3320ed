// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "readfile.h"

char *read_whole(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "r");
	size_t n = 0, cap = 0, k;
	char *buf = NULL, *b;
	int err = 0;

	if (!f)
		return NULL;
	do {
		if (n + 1 >= cap) {
			if (cap > max) {
				err = EFBIG;
				break;
			}
			cap = cap ? cap * 2 : 4096;
			b = realloc(buf, cap);
			if (!b) {
				err = ENOMEM;
				break;
			}
			buf = b;
		}
		k = fread(buf + n, 1, cap - n - 1, f);
		n += k;
	} while (k);
	if (!err && ferror(f))
		err = EIO;
	if (!err && n > max)
		err = EFBIG;
	fclose(f);
	if (err) {
		free(buf);
		errno = err;
		return NULL;
	}
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}
