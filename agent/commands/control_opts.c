// SPDX-License-Identifier: GPL-2.0
/* kvmrt control's options: each one, then the combinations. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "escape.h"
#include "log.h"
#include "httpd.h"
#include "session.h"
#include "shield.h"
#include "control_cmd.h"

void control__usage(FILE *f)
{
	fprintf(f,
		"Usage: kvmrt control --rt VM [--rt VM...] (--prio N | --cosched) [OPTIONS]\n"
		"       kvmrt control --restore [--state FILE]\n"
		"Prioritize or co-schedule real-time vCPUs; everything changed is restored.\n\n"
		"      --rt VM            a real-time VM, by name or pid (repeatable)\n"
		"      --shield CPUS      the vCPU threads get these CPUs to themselves (cpuset);\n"
		"                         other tasks and IRQs move to the rest\n"
		"      --prio N           SCHED_FIFO priority, 1..98 (default %d); alone: static\n"
		"      --cosched          boost only while the guest has work (or sleeps: parked)\n"
		"      --slo USEC         adaptive: keep each vCPU's p99 response under USEC with\n"
		"                         as little boosting as it takes (implies --cosched): the\n"
		"                         grace, whether work boosts at all (not while nothing\n"
		"                         contends), static priority, then the shield\n"
		"      --grace USEC       stay boosted this long after the work ends (default 500)\n"
		"      --cap MSEC         never boost longer than this of running at once (default 100)\n"
		"      --hint-port PORT   guest writes here: 1 busy, 0 idle (e.g. 0x7c2)\n"
		"      --poll             spin on the ring buffer, on a housekeeping CPU, while a\n"
		"                         managed vCPU is demoted: no wake-up to wait for, at the\n"
		"                         cost of that CPU's time\n"
		"  -d, --duration SEC     stop after SEC seconds (default: until Ctrl-C)\n"
		"      --listen ADDR:PORT also serve kvmrt export's metrics and control's own\n"
		"      --web-config FILE  TLS and basic auth for --listen\n"
		"      --dry-run          print the plan, change nothing\n"
		"      --restore          restore what a dead controller left changed\n"
		"      --state FILE       state file (default %s)\n"
		"  -l, --log              a line per boost, park and demotion, with its cause\n"
		SESSION_USAGE,
		CTL_DEFAULT_PRIO, CONTROL_STATE_DEFAULT);
}

/* One option (a case each): 0, or 2 with the reason printed. */
static int one_option(struct control *ctl, int c, const char *arg, int *have_prio)
{
	double v;
	char *end;

	switch (c) {
	case OPT_RT:
		if (ctl->o.nrt == CTL_MAX_RT) {
			pr_err("at most %d --rt VMs", CTL_MAX_RT);
			return 2;
		}
		ctl->o.rt[ctl->o.nrt++] = arg;
		break;
	case OPT_PRIO:
		if (cli_number("priority", arg, 1, 98, &v))
			return 2;
		ctl->o.prio = (int)v;
		*have_prio = 1;
		break;
	case OPT_COSCHED:
		ctl->o.cosched = 1;
		break;
	case OPT_LISTEN: {
		struct sockaddr_storage ss;
		socklen_t sl;

		if (httpd_parse_listen(arg, &ss, &sl))
			return 2;
		ctl->o.listen = arg;
		break;
	}
	case OPT_WEB_CONFIG:
		ctl->o.web_config = arg;
		break;
	case OPT_SLO:
		if (cli_number("SLO", arg, 1, 1e7, &v))
			return 2;
		ctl->o.slo_ns = (__u64)(v * 1000);
		ctl->o.cosched = 1; /* adaptive co-scheduling */
		break;
	case OPT_SHIELD:
		if (shield_parse(arg, &ctl->o.shield))
			return 2;
		ctl->o.shield_arg = arg;
		break;
	case OPT_GRACE:
		if (cli_number("grace", arg, 0, 10000000, &v))
			return 2;
		ctl->o.cfg.grace_ns = (__u64)(v * 1000);
		break;
	case OPT_CAP:
		if (cli_number("cap", arg, 1, 10000, &v))
			return 2;
		ctl->o.cfg.cap_ns = (__u64)(v * 1000000);
		break;
	case OPT_HINT_PORT:
		errno = 0;
		ctl->o.hint_port = (unsigned int)strtoul(arg, &end, 0);
		if (errno || *end || end == arg || !ctl->o.hint_port ||
		    ctl->o.hint_port > 0xffff) {
			pr_err("invalid hint port '%s': expected 1..0xffff", esc_str(arg));
			return 2;
		}
		break;
	case 'd':
		if (cli_number("duration", arg, 0.001, 1e9, &ctl->o.duration_s))
			return 2;
		break;
	case OPT_DRY_RUN:
		ctl->o.dry_run = 1;
		break;
	case OPT_POLL:
		ctl->o.poll = 1;
		break;
	case OPT_RESTORE:
		ctl->o.restore = 1;
		break;
	case OPT_STATE:
		/* whole or not at all: the file, the guardian and the restore
		 * must all name the same one */
		if (!arg[0] || strlen(arg) + sizeof(".tmp") > sizeof(ctl->st.path)) {
			pr_err("control: --state: a path of 1 to %zu bytes (and '.tmp' beside it)",
			       sizeof(ctl->st.path) - sizeof(".tmp"));
			return 2;
		}
		ctl->o.state_path = arg;
		break;
	case 'l':
		ctl->o.log = 1;
		break;
	default:
		return 2; /* getopt said what was wrong, in one line */
	}
	return 0;
}

/* The options together: what each mode needs, and what goes with what. */
static int check_combination(struct control *ctl, int have_prio)
{
	ctl->o.cfg.cooldown_ns = ctl->o.cfg.cap_ns;
	if (ctl->o.restore)
		return 0;
	if (!ctl->o.nrt) {
		pr_err("control: name the real-time VMs with --rt");
		return 2;
	}
	if (!have_prio && !ctl->o.cosched && !ctl->o.shield_arg) {
		pr_err("control: choose --shield CPUS, --prio N (static) and/or --cosched");
		return 2;
	}
	ctl->o.static_prio = have_prio && !ctl->o.cosched;
	if (ctl->o.hint_port && !ctl->o.cosched) {
		pr_err("control: --hint-port needs --cosched");
		return 2;
	}
	if (ctl->o.poll && !ctl->o.cosched) {
		pr_err("control: --poll needs --cosched");
		return 2;
	}
	return 0;
}

int control__parse_args(struct control *ctl, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rt", required_argument, NULL, OPT_RT },
		{ "prio", required_argument, NULL, OPT_PRIO },
		{ "cosched", no_argument, NULL, OPT_COSCHED },
		{ "shield", required_argument, NULL, OPT_SHIELD },
		{ "slo", required_argument, NULL, OPT_SLO },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "web-config", required_argument, NULL, OPT_WEB_CONFIG },
		{ "grace", required_argument, NULL, OPT_GRACE },
		{ "cap", required_argument, NULL, OPT_CAP },
		{ "hint-port", required_argument, NULL, OPT_HINT_PORT },
		{ "poll", no_argument, NULL, OPT_POLL },
		{ "duration", required_argument, NULL, 'd' },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "restore", no_argument, NULL, OPT_RESTORE },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "log", no_argument, NULL, 'l' },
		SESSION_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	int c, so, ret, have_prio = 0;

	ctl->o.prio = CTL_DEFAULT_PRIO;
	ctl->o.cfg.grace_ns = 500000;
	ctl->o.cfg.cap_ns = 100000000;
	ctl->o.state_path = CONTROL_STATE_DEFAULT;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:l" SESSION_SHORTOPTS, longopts, NULL)) != -1) {
		so = session_option(c, 0, control__usage, &ret);
		if (so < 0)
			return ret;
		if (!so && one_option(ctl, c, optarg, &have_prio))
			return 2;
	}
	if (cli_no_extra_args("control", argc, argv))
		return 2;
	return check_combination(ctl, have_prio);
}
