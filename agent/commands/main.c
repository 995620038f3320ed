// SPDX-License-Identifier: GPL-2.0
/* kvmrt: guest interrupt latency on KVM, measured with eBPF. */
#include <stdio.h>
#include <string.h>
#include "escape.h"
#include "commands.h"
#include "log.h"

static const struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} cmds[] = {
	{ "trace", cmd_trace, "trace interrupt latency, then report (text, JSON, SLO)" },
	{ "report", cmd_report, "the same analysis from a recording (trace.dat, tracefs, trace-cmd or perf text)" },
	{ "top", cmd_top, "live latency view per vCPU (full screen, or -b batch)" },
	{ "export", cmd_export, "Prometheus exporter (/metrics)" },
	{ "control", cmd_control, "prioritize / co-schedule real-time vCPUs (restores on exit)" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: kvmrt COMMAND [OPTIONS]   (kvmrt COMMAND --help for more)\n\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].help);
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("kvmrt %s\n", KVMRT_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	pr_err("unknown command '%s' (try kvmrt --help)", esc_str(argv[1]));
	return 2;
}
