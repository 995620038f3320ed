#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kvmrt on the kernel Debian 12 runs (6.1), for real, on an SVM host:
# tests/nested/run.sh boots Debian's own kernel under QEMU on an emulated
# AMD CPU, where kvm-amd gives a /dev/kvm. There 6.1's verifier judges the
# BPF object (every program, both flavours, every option: the BPF tests)
# and KVM's own SVM code fires the tracepoints this host's KVM may never
# fire (kvm_exit, kvm_entry): a kvmrt-guest traced live, every interrupt
# counted once against the guest's own count and timeline, its exits by
# their SVM names, and -a's exit to the VMM at the guest's port. Root.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
CHECK="python3 tests/e2e/e2e_check.py"

if [ -z "${NESTED_OUT:-}" ]; then # here: boot the nested host, run this there (about 2 minutes)
	on_nested_host tests/bpf/debian12.sh 600
	exit
fi

# there
check "on $(uname -r), its KVM $(tr -d '\n' </sys/module/kvm_amd/parameters/nested 2>/dev/null |
	sed 's/^1$/(SVM, nested on)/; s/^0$/(SVM)/'): /dev/kvm" test -c /dev/kvm
check "the BPF tests: every program loads in both flavours with every option, the kernel's orders pass" \
	build/tests/test_bpf

# a guest on SVM, traced live: every episode out (-T 1 ns), against the
# guest's own timeline of the same interrupts
if start_trace "$TMP/t.json" -T 0.001; then
	"$GUEST" -m msi -r 500 -c 1000 -q --json="$TMP/g.json" --timeline="$TMP/g.tl"
	stop_trace
	check "SVM, live: every interrupt counted once, agrees with the guest" \
		$CHECK guest "$TMP/t.json" "$TMP/g.json" msi "$TMP/g.tl"
	check "SVM, live: kvm_exit and kvm_entry fire, exits by their SVM names (hlt, io, msr)" \
		python3 - "$TMP/t.json" "$(guest_pid "$TMP/g.json")" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
assert t["events"]["kvm_exit"] > 0 and t["events"]["kvm_entry"] > 0, t["events"]
vm = [m for m in t["vms"] if m["pid"] == int(sys.argv[2])][0]
reasons = {r["reason"]: r["code"] for v in vm["vcpus"] for r in v["exits"]["reasons"]}
# arch/x86/include/uapi/asm/svm.h: SVM_EXIT_HLT 0x078, _IOIO 0x07b, _MSR 0x07c
assert {"hlt": 0x78, "io": 0x7b, "msr": 0x7c}.items() <= reasons.items(), reasons
print(", ".join("%s 0x%x" % kv for kv in sorted(reasons.items())))
PY
else
	not_ok "kvmrt trace started"
fi
if start_trace "$TMP/ta.json" -a -T 0.001; then
	"$GUEST" -m msi -r 500 -c 500 -q --json="$TMP/ga.json" --timeline="$TMP/ga.tl"
	stop_trace
	check "SVM, live -a: the guest's mark exit shows as an exit to the VMM, io 0x7c4" \
		$CHECK analysis "$TMP/ta.json" "$(guest_pid "$TMP/ga.json")" vmm "vmm io 0x7c4"
else
	not_ok "kvmrt trace -a started"
fi
summary
