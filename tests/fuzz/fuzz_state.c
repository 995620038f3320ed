// SPDX-License-Identifier: GPL-2.0
/* kvmrt control's state file, as --restore reads it after a crash. */
#include "fuzz.h"
#include "taskstate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state_file s;
	char why[256];
	int err;

	memset(&s, 0, sizeof(s));
	err = state_parse(&s, (const char *)data, size, why, sizeof(why));
	if (err) {
		/* refused whole, and said in one printable line */
		if (s.n || s.nmoved || s.nirqs || s.tasks || s.moved || s.irqs)
			abort();
		fuzz_assert_printable(why);
	} else if (s.groups && s.cpuset_root[0] != '/') {
		abort();
	}
	state_free(&s);
	return 0;
}
