// SPDX-License-Identifier: GPL-2.0
/*
 * Another kernel's BTF against what kvmrt's BPF programs expect of it.
 *
 *   btfcheck VMLINUX OUT.btf MODULE.ko... < PROTOTYPES
 *
 * 1. One standalone BTF: vmlinux plus the modules' split BTF (each split
 *    against vmlinux alone, so every module's IDs start where vmlinux's
 *    end: the second and later are renumbered as they are appended). It is
 *    written to OUT.btf for `bpftool gen min_core_btf`, which checks the
 *    CO-RE relocations against it (libbpf reads one file, no modules, when
 *    given a BTF path).
 * 2. Each line of PROTOTYPES is "tracepoint|type|type|..." (the KVMRT_TP
 *    declarations of bpf/kvmrt.bpf.c): the kernel's btf_trace_<tracepoint>
 *    must exist and give each argument the program reads the same shape:
 *    a pointer to the same struct (or type name), or an integer of the
 *    same size. One line per tracepoint; exit 1 if any differs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>

static __u32 renumber(__u32 id, __u32 base_n, __u32 shift)
{
	return id < base_n ? id : id + shift;
}

/* Point a type appended from a module at the types' new IDs. */
static void renumber_type(struct btf_type *t, __u32 base_n, __u32 shift)
{
	int i, n = btf_vlen(t);

	switch (btf_kind(t)) {
	case BTF_KIND_PTR:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_FUNC:
	case BTF_KIND_VAR:
	case BTF_KIND_DECL_TAG:
	case BTF_KIND_TYPE_TAG:
		t->type = renumber(t->type, base_n, shift);
		break;
	case BTF_KIND_ARRAY:
		btf_array(t)->type = renumber(btf_array(t)->type, base_n, shift);
		btf_array(t)->index_type = renumber(btf_array(t)->index_type, base_n, shift);
		break;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		for (i = 0; i < n; i++)
			btf_members(t)[i].type = renumber(btf_members(t)[i].type, base_n, shift);
		break;
	case BTF_KIND_FUNC_PROTO:
		t->type = renumber(t->type, base_n, shift);
		for (i = 0; i < n; i++)
			btf_params(t)[i].type = renumber(btf_params(t)[i].type, base_n, shift);
		break;
	case BTF_KIND_DATASEC:
		for (i = 0; i < n; i++)
			btf_var_secinfos(t)[i].type = renumber(btf_var_secinfos(t)[i].type, base_n, shift);
		break;
	default: /* INT, FLOAT, ENUM, ENUM64, FWD: no type IDs */
		break;
	}
}

static struct btf *merge(const char *vmlinux, char **mods, int nmods)
{
	struct btf *base = btf__parse(vmlinux, NULL), *out;
	__u32 base_n, id;
	int m;

	if (!base) {
		fprintf(stderr, "btfcheck: %s: no BTF (%s)\n", vmlinux, strerror(errno));
		return NULL;
	}
	base_n = btf__type_cnt(base);
	out = btf__new_empty();
	if (!out || btf__add_btf(out, base) < 0) {
		fprintf(stderr, "btfcheck: cannot copy %s's BTF\n", vmlinux);
		return NULL;
	}
	for (m = 0; m < nmods; m++) {
		struct btf *mod = btf__parse_split(mods[m], base);
		__u32 shift = btf__type_cnt(out) - base_n;

		if (!mod) {
			fprintf(stderr, "btfcheck: %s: no split BTF on %s (%s)\n", mods[m], vmlinux,
				strerror(errno));
			return NULL;
		}
		for (id = base_n; id < btf__type_cnt(mod); id++) {
			int nid = btf__add_type(out, mod, btf__type_by_id(mod, id));

			if (nid < 0) {
				fprintf(stderr, "btfcheck: %s: type %u not copied\n", mods[m], id);
				return NULL;
			}
			renumber_type((struct btf_type *)btf__type_by_id(out, nid), base_n, shift);
		}
		printf("%s: %u types\n", mods[m], btf__type_cnt(mod) - base_n);
		btf__free(mod);
	}
	btf__free(base);
	return out;
}

/* Skip modifiers; with names, also typedefs (collecting their names). */
static const struct btf_type *strip(const struct btf *b, __u32 id, char *names, size_t len)
{
	const struct btf_type *t = btf__type_by_id(b, id);

	while (t && (btf_is_mod(t) || btf_is_typedef(t))) {
		if (btf_is_typedef(t) && names && strlen(names) + 64 < len) {
			strcat(names, " ");
			strcat(names, btf__name_by_offset(b, t->name_off));
		}
		t = btf__type_by_id(b, t->type);
	}
	return t;
}

static int int_size(const char *ty)
{
	static const struct { const char *name; int size; } ints[] = {
		{ "bool", 1 }, { "__u8", 1 }, { "__u16", 2 }, { "__u32", 4 }, { "__s32", 4 },
		{ "int", 4 }, { "unsigned int", 4 }, { "__u64", 8 }, { "__s64", 8 },
		{ "unsigned long", 8 }, { "long", 8 },
	};
	size_t i;

	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		if (!strcmp(ty, ints[i].name))
			return ints[i].size;
	return -1;
}

/* Does the kernel's parameter type kid have the shape our "ty" expects? */
static int same_shape(const struct btf *b, __u32 kid, const char *ty, char *why, size_t len)
{
	char tbuf[128], names[512] = "";
	const struct btf_type *t = strip(b, kid, NULL, 0);
	char *star = strchr(ty, '*');

	if (!t) {
		snprintf(why, len, "no type");
		return 0;
	}
	if (star) {
		const char *want = ty, *p;

		if (!btf_is_ptr(t)) {
			snprintf(why, len, "not a pointer");
			return 0;
		}
		if (!strncmp(want, "const ", 6))
			want += 6;
		if (!strncmp(want, "struct ", 7))
			want += 7;
		snprintf(tbuf, sizeof(tbuf), "%.*s", (int)(strchr(want, '*') - want), want);
		while (strlen(tbuf) && tbuf[strlen(tbuf) - 1] == ' ')
			tbuf[strlen(tbuf) - 1] = 0;
		t = strip(b, t->type, names, sizeof(names));
		/* type 0 is void */
		p = t && btf_kind(t) != BTF_KIND_UNKN ? btf__name_by_offset(b, t->name_off) : "void";
		if (!strcmp(p, tbuf) || strstr(names, tbuf))
			return 1;
		snprintf(why, len, "points to %s%s, not %s", p, names, tbuf);
		return 0;
	}
	if (!btf_is_int(t) && !btf_is_enum(t)) {
		snprintf(why, len, "not an integer");
		return 0;
	}
	if ((int)t->size != int_size(ty)) {
		snprintf(why, len, "%u bytes, not %d", t->size, int_size(ty));
		return 0;
	}
	return 1;
}

/* "name|type|type...": 1 if the kernel's prototype fits. */
static int check_proto(const struct btf *b, char *line)
{
	char *name = strtok(line, "|\n"), *ty, tname[160], why[256];
	const struct btf_type *t;
	const struct btf_param *p;
	int id, i = 0, n;

	if (!name)
		return 1;
	snprintf(tname, sizeof(tname), "btf_trace_%s", name);
	id = btf__find_by_name_kind(b, tname, BTF_KIND_TYPEDEF);
	if (id < 0) {
		printf("tracepoint %s: MISSING (no %s)\n", name, tname);
		return 0;
	}
	t = strip(b, id, NULL, 0); /* pointer to the proto */
	t = t && btf_is_ptr(t) ? strip(b, t->type, NULL, 0) : NULL;
	if (!t || !btf_is_func_proto(t)) {
		printf("tracepoint %s: %s is not a function pointer\n", name, tname);
		return 0;
	}
	p = btf_params(t) + 1; /* the first is the probe's void *data */
	n = btf_vlen(t) - 1;
	while ((ty = strtok(NULL, "|\n"))) {
		if (i >= n) {
			printf("tracepoint %s: argument %d (%s) missing: the kernel gives %d\n", name,
			       i, ty, n);
			return 0;
		}
		if (!same_shape(b, p[i].type, ty, why, sizeof(why))) {
			printf("tracepoint %s: argument %d (%s): %s\n", name, i, ty, why);
			return 0;
		}
		i++;
	}
	printf("tracepoint %s: ok (%d of %d arguments read)\n", name, i, n);
	return 1;
}

int main(int argc, char **argv)
{
	const void *raw;
	struct btf *b;
	char line[1024];
	__u32 size;
	int bad = 0;
	FILE *f;

	if (argc < 3) {
		fprintf(stderr, "usage: btfcheck VMLINUX OUT.btf MODULE.ko... < PROTOTYPES\n");
		return 2;
	}
	b = merge(argv[1], argv + 3, argc - 3);
	if (!b)
		return 1;
	raw = btf__raw_data(b, &size);
	f = fopen(argv[2], "w");
	if (!raw || !f || fwrite(raw, 1, size, f) != size || fclose(f)) {
		fprintf(stderr, "btfcheck: cannot write %s\n", argv[2]);
		return 1;
	}
	printf("%s: %u types\n", argv[2], btf__type_cnt(b));
	while (fgets(line, sizeof(line), stdin))
		bad += !check_proto(b, line);
	btf__free(b);
	return bad ? 1 : 0;
}
