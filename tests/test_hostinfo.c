// SPDX-License-Identifier: GPL-2.0
/* What the host's KVM lets kvmrt see, read from a sysfs-shaped tree:
 * kvm_intel's enable_apicv, kvm_amd's avic, neither (this host). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "hostinfo.h"

static void put(const char *root, const char *mod, const char *param, const char *val)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/module", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/module/%s", root, mod);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/module/%s/parameters", root, mod);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/module/%s/parameters/%s", root, mod, param);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(val, f);
	fclose(f);
}

static void vendors(void **state)
{
	char intel[] = "/tmp/kvmrt-hostinfo.XXXXXX", amd[] = "/tmp/kvmrt-hostinfo.XXXXXX";
	char none[] = "/tmp/kvmrt-hostinfo.XXXXXX", cmd[256];
	struct host_info h;

	assert_non_null(mkdtemp(intel));
	assert_non_null(mkdtemp(amd));
	assert_non_null(mkdtemp(none));
	put(intel, "kvm_intel", "enable_apicv", "Y\n");
	put(amd, "kvm_amd", "avic", "0\n");

	host_info_read(&h, intel);
	assert_int_equal(h.apicv, 1);
	assert_int_equal(h.avic, -1);
	assert_non_null(strstr(host_info_summary(&h), "APICv on"));
	host_info_read(&h, amd);
	assert_int_equal(h.apicv, -1);
	assert_int_equal(h.avic, 0);
	assert_string_equal(host_info_summary(&h), "AVIC off");
	assert_string_equal(host_info_state(h.avic), "off");
	host_info_read(&h, none);
	assert_int_equal(h.apicv, -1);
	assert_int_equal(h.avic, -1);
	assert_string_equal(host_info_state(h.apicv), "absent");
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s %s", intel, amd, none);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vendors),
	};

	return cmocka_run_group_tests_name("hostinfo", tests, NULL, NULL);
}
