// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>
#include <bpf/btf.h>
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

/* enum kvm_apicv_inhibit, in vmlinux (KVM built in) or in kvm's split BTF */
static const struct btf_type *inhibit_enum(const char *btf_dir, struct btf **base, struct btf **kvm)
{
	char path[256];
	int id;

	snprintf(path, sizeof(path), "%s/vmlinux", btf_dir);
	*base = btf__parse_raw(path);
	if (!*base)
		return NULL;
	id = btf__find_by_name_kind(*base, "kvm_apicv_inhibit", BTF_KIND_ENUM);
	if (id > 0)
		return btf__type_by_id(*base, id);
	snprintf(path, sizeof(path), "%s/kvm", btf_dir);
	*kvm = btf__parse_raw_split(path, *base);
	if (!*kvm)
		return NULL;
	id = btf__find_by_name_kind(*kvm, "kvm_apicv_inhibit", BTF_KIND_ENUM);
	return id > 0 ? btf__type_by_id(*kvm, id) : NULL;
}

/* Bit -> name, read once per BTF directory. */
static char inhibit_name[64][48];
static char inhibit_dir[256];

static void load_inhibit_names(const char *btf_dir)
{
	static const char prefix[] = "APICV_INHIBIT_REASON_";
	struct btf *base = NULL, *kvm = NULL;
	const struct btf_type *t;
	int i;

	if (!strcmp(inhibit_dir, btf_dir))
		return;
	snprintf(inhibit_dir, sizeof(inhibit_dir), "%s", btf_dir);
	memset(inhibit_name, 0, sizeof(inhibit_name));
	t = inhibit_enum(btf_dir, &base, &kvm);
	for (i = 0; t && i < btf_vlen(t); i++) {
		const struct btf_enum *e = btf_enum(t) + i;
		const char *name = btf__name_by_offset(kvm ? kvm : base, e->name_off);

		if (e->val < 0 || e->val >= 64 || !name)
			continue;
		if (!strncmp(name, prefix, sizeof(prefix) - 1))
			name += sizeof(prefix) - 1;
		snprintf(inhibit_name[e->val], sizeof(inhibit_name[0]), "%s", name);
	}
	btf__free(kvm);
	btf__free(base);
}

const char *apicv_inhibit_names(__u64 inhibits, const char *btf_dir, char *buf, size_t len)
{
	__u64 named = 0;
	size_t n = 0;
	int i;

	load_inhibit_names(btf_dir);
	buf[0] = 0;
	for (i = 0; i < 64; i++) {
		if (!(inhibits & (1ULL << i)) || !inhibit_name[i][0])
			continue;
		n += snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "|" : "", inhibit_name[i]);
		named |= 1ULL << i;
	}
	if (inhibits & ~named) /* bits this kernel has no name for */
		snprintf(buf + n, n < len ? len - n : 0, "%s0x%llx", n ? "|" : "",
			 (unsigned long long)(inhibits & ~named));
	return buf;
}
