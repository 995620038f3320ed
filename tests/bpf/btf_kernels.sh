#!/bin/bash
# kvmrt's BPF object against the BTF of a kernel users run: Debian 12's own
# 6.1, where KVM is a module (vmlinux BTF from the image, split BTF of kvm.ko,
# kvm-intel.ko, kvm-amd.ko). A tracepoint argument or a struct field that
# moved or went is a failing test here, reported per program:
#  - prototypes: every KVMRT_TP in bpf/kvmrt.bpf.c against the kernel's
#    btf_trace_<tracepoint> (tests/bpf/btfcheck.c);
#  - CO-RE: every relocation of build/kvmrt.bpf.o resolved by libbpf against
#    that BTF (bpftool gen min_core_btf, offline: no kernel involved).
# The package (about 70 MB) is downloaded once into build/btf-6.1.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh

OBJ=build/kvmrt.bpf.o
W=build/btf-6.1
mkdir -p "$W"

# Relocations that are meant not to resolve on 6.1, each with its guard:
#  task_struct___pre514.state: kernels before 5.14 (bpf_core_field_exists)
ALLOWED='task_struct___pre514\.state'

# 1. The newest 6.1 image in the archive (the number moves with updates)
. tests/debian12_kernel.sh
debian12_kernel "$W"
check "Debian 12's kernel image package found in the archive ($pkg)" test -n "$pkg"
check "downloaded $(basename "${deb:-none}")" test -s "${deb:-/nonexistent}"

# 2. The image and the three KVM modules (plain .ko in Debian 12)
mods="kvm.ko kvm-intel.ko kvm-amd.ko"
if [ ! -s "$W/vmlinux" ]; then
	rm -rf "$W/x" && mkdir -p "$W/x"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$W/x" ./boot/vmlinuz-"$kver" \
		$(for m in $mods; do echo ./lib/modules/"$kver"/kernel/arch/x86/kvm/"$m"; done)
	for m in $mods; do cp "$W/x/lib/modules/$kver/kernel/arch/x86/kvm/$m" "$W/"; done
	python3 tests/bpf/btf_vmlinux.py "$W/x/boot/vmlinuz-$kver" "$W/vmlinux.tmp" &&
		mv "$W/vmlinux.tmp" "$W/vmlinux"
	rm -rf "$W/x"
fi
check "vmlinux of $kver extracted from its bzImage" test -s "$W/vmlinux"

# 3. Prototypes: "tracepoint|type|type..." for each KVMRT_TP
python3 - bpf/kvmrt.bpf.c >"$TMP/protos" <<'EOF'
import re, sys
src = open(sys.argv[1]).read()
for m in re.finditer(r"^KVMRT_TP\(([^)]*)\)", src, re.M | re.S):
    parts = [p.strip() for p in m.group(1).replace("\n", " ").split(",")]
    # "struct kvm_vcpu *vcpu" -> "struct kvm_vcpu *"; "__u32 isa" -> "__u32"
    types = [re.sub(r"\s*\b\w+$", "", p).strip() for p in parts[1:]]
    print("|".join([parts[0]] + types))
EOF
check "the programs' tracepoints read from bpf/kvmrt.bpf.c ($(wc -l <"$TMP/protos"))" \
	test "$(wc -l <"$TMP/protos")" -ge 19
check "$kver: every tracepoint prototype as the programs read it" \
	build/tests/btfcheck "$W/vmlinux" "$W/merged.btf" "$W/kvm.ko" "$W/kvm-intel.ko" \
	"$W/kvm-amd.ko" <"$TMP/protos"
check "a moved argument is caught: kvm_exit read as a kvm_lapic" bash -c '
	echo "kvm_exit|struct kvm_lapic *|__u32" | build/tests/btfcheck "$@" >"'"$TMP"'/neg" && exit 1
	grep "argument 0 (struct kvm_lapic \*): points to kvm_vcpu" "'"$TMP"'/neg"' _ \
	"$W/vmlinux" "$TMP/neg.btf" "$W/kvm.ko"

# 4. CO-RE: libbpf's own resolution, per program (section)
bpftool -d gen min_core_btf "$W/merged.btf" "$TMP/min.btf" "$OBJ" 2>"$TMP/core.log" >/dev/null
cat >"$TMP/core.py" <<'EOF'
import re, sys
log, allowed = sys.argv[1], re.compile(sys.argv[2])
spec, total, bad, guarded, per = {}, 0, [], 0, {}
for line in open(log, errors="replace"):
    m = re.search(r"prog '([^']+)': relo #(\d+): (<[a-z_]+> \[\d+\] .*)$", line)
    if m:
        spec[(m[1], m[2])] = m[3]
        per[m[1]] = per.get(m[1], 0) + 1
        total += 1
        continue
    m = re.search(r"prog '([^']+)': relo #(\d+): no matching targets found", line)
    if m:
        s = spec.get((m[1], m[2]), "?")
        if allowed.search(s):
            guarded += 1
        else:
            bad.append(f"{m[1]}: {s}")
    if re.search(r"ambiguity|failed to relocate|candidate search failed", line):
        bad.append(line.strip())
if not total:
    sys.exit("no CO-RE relocations in the log: bpftool did not process the object")
for b in bad:
    print("UNRESOLVED", b)
print(f"{total} relocations in {len(per)} programs, {guarded} guarded, {len(bad)} unresolved")
sys.exit(1 if bad else 0)
EOF
check "$kver: every CO-RE relocation resolves (or is guarded)" \
	python3 "$TMP/core.py" "$TMP/core.log" "$ALLOWED"
check "an unguarded miss is caught: the guarded ones, not allowed, fail" \
	bash -c '! python3 "$1" "$2" "^$" >"$3" && grep "UNRESOLVED tp_btf/sched_switch: .*___pre514" "$3"' _ \
	"$TMP/core.py" "$TMP/core.log" "$TMP/core.neg"

summary
