// SPDX-License-Identifier: GPL-2.0
/* The /proc readers, fed what another user's process can make them read:
 * its names (comm, argv), and the kernel's text around them. The first
 * byte picks a parser; the last mode builds a fake /proc with one VM from
 * the input's NUL-separated parts and scans it the way kvmrt does. */
#include "fuzz.h"
#include "procfs.h"
#include "vmreg.h"

/* Parts of the input, NUL-separated; a missing one is empty. */
static const char *part(const uint8_t *data, size_t size, int i, size_t *len)
{
	const char *p = (const char *)data, *end = p + size, *nul;

	while (p <= end) {
		nul = memchr(p, 0, end - p);
		if (!i--) {
			*len = (nul ? nul : end) - p;
			return p;
		}
		if (!nul)
			break;
		p = nul + 1;
	}
	*len = 0;
	return "";
}

static void put(const char *root, const char *rel, const char *data, size_t len)
{
	char dir[512];

	snprintf(dir, sizeof(dir), "%s/%s", root, rel);
	*strrchr(dir, '/') = 0;
	fuzz_file(dir, strrchr(rel, '/') + 1, data, len);
}

/* pid 500 holds a VM (fd 3) and vCPU 0 (fd 4); thread 501 runs it. The
 * parts: cmdline, comm, stat, status, thread comm, thread stat, thread
 * syscall, the target of fd 4. */
static void scan(const uint8_t *data, size_t size)
{
	const char *root = fuzz_dir("proc");
	char path[512], target[256];
	static const char *const files[] = { "500/cmdline", "500/comm", "500/stat",
					     "500/status", "500/task/501/comm",
					     "500/task/501/stat", "500/task/501/syscall" };
	struct vmreg r;
	size_t len;
	unsigned int i;
	int j;

	mkdir(root, 0700);
	snprintf(path, sizeof(path), "%s/500", root);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/500/task", root);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/500/task/501", root);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/500/fd", root);
	mkdir(path, 0700);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const char *p = part(data, size, i, &len);

		put(root, files[i], p, len);
	}
	snprintf(path, sizeof(path), "%s/500/fd/3", root);
	unlink(path);
	if (symlink("anon_inode:kvm-vm", path))
		abort();
	{
		const char *p = part(data, size, i, &len);

		snprintf(target, sizeof(target), "%.*s", (int)len, p);
	}
	snprintf(path, sizeof(path), "%s/500/fd/4", root);
	unlink(path);
	if (target[0] && symlink(target, path))
		abort();
	vmreg__init(&r, -1, -1, -1);
	r.proc = root;
	vmreg__scan(&r);
	for (j = 0; j < r.n; j++) {
		fuzz_assert_printable(r.vms[j]->name);
		if (r.vms[j]->nvcpus > 1)
			abort(); /* one thread, one vCPU descriptor */
	}
	vmreg__free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[VMREG_NAME_LEN], *s;
	long long f[42];
	__u32 u;
	int fd;

	if (!size)
		return 0;
	fuzz_quiet();
	s = fuzz_str(data + 1, size - 1);
	switch (data[0] % 8) {
	case 0:
		proc_stat_fields(s, f, 41);
		break;
	case 1:
		proc_status_tgid(s, &u);
		break;
	case 2:
		if (vmreg_parse_name(s, size - 1, name, sizeof(name)) && strlen(name) >= sizeof(name))
			abort();
		break;
	case 3:
		vmreg_parse_vcpu_comm(s, &u);
		break;
	case 4:
		if (vmreg_parse_kvm_run(s, &fd) && fd < 0)
			abort();
		break;
	case 5:
		vmreg_parse_vcpu_fd(s, &u);
		break;
	case 6:
		vmreg_parse_injector_comm(s, &u);
		break;
	case 7:
		scan(data + 1, size - 1);
		break;
	}
	free(s);
	return 0;
}
