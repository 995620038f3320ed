// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include "hostinfo.h"

/* A module's Y/N (or 1/0) parameter: -1 when it cannot be read. */
static int read_flag(const char *sysfs, const char *rel)
{
	char path[256], buf[8] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", sysfs, rel);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	if (buf[0] == 'Y' || buf[0] == 'y' || buf[0] == '1')
		return 1;
	if (buf[0] == 'N' || buf[0] == 'n' || buf[0] == '0')
		return 0;
	return -1;
}

void host_info_read(struct host_info *h, const char *sysfs)
{
	h->apicv = read_flag(sysfs, "module/kvm_intel/parameters/enable_apicv");
	h->avic = read_flag(sysfs, "module/kvm_amd/parameters/avic");
}

const char *host_info_state(int v)
{
	return v > 0 ? "on" : v == 0 ? "off" : "absent";
}

const char *host_info_summary(const struct host_info *h)
{
	if (h->apicv >= 0)
		return h->apicv ? "APICv on (posted interrupts; edge EOIs end at idle or hints)" :
				  "APICv off";
	if (h->avic >= 0)
		return h->avic ? "AVIC on (posted interrupts; edge EOIs end at idle or hints)" :
				 "AVIC off";
	return "no kvm_intel or kvm_amd (emulated)";
}
