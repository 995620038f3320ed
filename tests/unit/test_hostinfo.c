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
#include <bpf/btf.h>
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

/* APICv inhibit reasons named from a kernel's BTF: a vmlinux with KVM
 * built in, and one where enum kvm_apicv_inhibit is in kvm's split BTF (a
 * module), each numbering them its own way; bits without a name in hex. */
static void write_btf(const struct btf *b, const char *path)
{
	__u32 size;
	const void *raw = btf__raw_data(b, &size);
	FILE *f = fopen(path, "w");

	assert_non_null(raw);
	assert_non_null(f);
	assert_int_equal(fwrite(raw, 1, size, f), size);
	fclose(f);
}

static void inhibit_names(void **state)
{
	char dir[] = "/tmp/kvmrt-btf.XXXXXX", dir2[] = "/tmp/kvmrt-btf.XXXXXX";
	char path[256], buf[128], cmd[128];
	struct btf *b = btf__new_empty(), *base, *kvm;
	int e;

	assert_non_null(mkdtemp(dir));
	assert_non_null(mkdtemp(dir2));
	/* built in: the enum in vmlinux */
	assert_true(btf__add_int(b, "int", 4, BTF_INT_SIGNED) > 0);
	e = btf__add_enum(b, "kvm_apicv_inhibit", 4);
	assert_true(e > 0);
	assert_int_equal(btf__add_enum_value(b, "APICV_INHIBIT_REASON_DISABLED", 0), 0);
	assert_int_equal(btf__add_enum_value(b, "APICV_INHIBIT_REASON_PIT_REINJ", 9), 0);
	snprintf(path, sizeof(path), "%s/vmlinux", dir);
	write_btf(b, path);
	assert_string_equal(apicv_inhibit_names(0x200, dir, buf, sizeof(buf)), "PIT_REINJ");
	assert_string_equal(apicv_inhibit_names(0x201 | (1ULL << 40), dir, buf, sizeof(buf)),
			    "DISABLED|PIT_REINJ|0x10000000000");
	/* a module: vmlinux without it, kvm's split BTF with another numbering */
	base = btf__new_empty();
	assert_true(btf__add_int(base, "int", 4, BTF_INT_SIGNED) > 0);
	snprintf(path, sizeof(path), "%s/vmlinux", dir2);
	write_btf(base, path);
	kvm = btf__new_empty_split(base);
	assert_true(btf__add_enum(kvm, "kvm_apicv_inhibit", 4) > 0);
	assert_int_equal(btf__add_enum_value(kvm, "APICV_INHIBIT_REASON_PIT_REINJ", 8), 0);
	snprintf(path, sizeof(path), "%s/kvm", dir2);
	write_btf(kvm, path);
	assert_string_equal(apicv_inhibit_names(0x100, dir2, buf, sizeof(buf)), "PIT_REINJ");
	assert_string_equal(apicv_inhibit_names(0x200, dir2, buf, sizeof(buf)), "0x200");
	btf__free(kvm);
	btf__free(base);
	btf__free(b);
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", dir, dir2);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vendors),
		cmocka_unit_test(inhibit_names),
	};

	return cmocka_run_group_tests_name("hostinfo", tests, NULL, NULL);
}
