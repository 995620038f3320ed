// SPDX-License-Identifier: GPL-2.0
/* A CPU hog with a recognizable name, for blame tests and the demo. */
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 10;
	time_t end = time(NULL) + (time_t)(secs + 0.999);
	volatile unsigned long x = 0;

	prctl(PR_SET_NAME, "kvmrt-hog");
	while (time(NULL) < end)
		for (int i = 0; i < 1000000; i++)
			x += i;
	return 0;
}
