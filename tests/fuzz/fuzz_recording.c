// SPDX-License-Identifier: GPL-2.0
/* kvmrt report's readers: a recording (tracefs text or a trace-cmd data
 * file, told apart by content as report does) read to its end, rewound
 * and read again; what it says of threads must come out the same. */
#include "fuzz.h"
#include "recording.h"

#define MAX_EVENTS 100000

/* libtracecmd 3.1.6 (Debian 12): when a file's first headers cannot be
 * read, tracecmd_alloc_fd's error path frees the handle but not the tep it
 * had allocated for it: the library's leak, on malformed input, before any
 * handle reaches kvmrt (rec_dat.c closes every handle it gets, or keeps it
 * reachable). Found by this target at random, a run in a few. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:tracecmd_alloc_fd\n";
}

static long read_all(struct recording *r, char *err, size_t errlen)
{
	struct rec_event e;
	long n = 0;
	int rc;

	while (n < MAX_EVENTS && (rc = recording__next(r, &e, err, errlen)) == 1) {
		if (e.kind < 0 || e.kind >= RK_NR)
			abort();
		n++;
	}
	return rc < 0 ? -1 : n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(fuzz_dir("recording"), "rec", data, size);
	struct recording *r;
	char err[512];
	long a, b;

	fuzz_quiet();
	r = recording__open(path, err, sizeof(err));
	if (!r) {
		fuzz_assert_printable(err);
		return 0;
	}
	a = read_all(r, err, sizeof(err));
	if (a < 0)
		fuzz_assert_printable(err);
	if (!recording__rewind(r, err, sizeof(err))) {
		b = read_all(r, err, sizeof(err));
		if (a != b)
			abort(); /* the same file read twice */
	}
	recording__close(r);
	return 0;
}
