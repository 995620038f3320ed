#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A KVM host for a machine that has none (a VM whose hypervisor offers no
# nested virtualization): Debian 12's own kernel, from Debian's archive,
# booted by QEMU under TCG on an emulated CPU with AMD's SVM, so that
# kvm-amd loads and gives it a /dev/kvm. A real SVM host, only slow (every
# instruction emulated): kvm_exit and kvm_entry fire, KVM's own code runs,
# and 6.1's verifier judges the BPF object. This machine's root is its root
# (9p, read-only, under a tmpfs overlay), so the build, the tests and the
# Debian packages are the same files; what the command writes is lost,
# except in $NESTED_OUT (this machine's build/nested/out.*, while it runs).
#
#   tests/nested/run.sh [-t SECONDS] CMD...
#
# runs CMD as root in this folder there, prints its output, exits with its
# status (124: timed out, 125: the host did not come up, 126: it froze). What CMD puts in
# $NESTED_OUT/keep/ is copied to build/nested/keep/ (the last run's). Root.
# QEMU's multi-threaded TCG has been seen to freeze the host while VMs
# come and go: a vCPU thread spins for ever at one instruction of KVM's
# LAPIC code (__apic_accept_irq+0x72, a static key's jump that KVM patches
# when its count of software-disabled LAPICs goes between 0 and 1, that
# is, as VMs start), code one CPU modified while the other ran it. A soft
# lockup or an RCU stall of a minute panics the host, so the run ends at
# once with 126 and the stack in build/nested/console-froze.log, instead
# of waiting for its time limit. NESTED_TCG=single (one host thread for
# both CPUs) has not met it: for suites that churn VMs.
set -u
cd "$(dirname "$0")/../.." || exit 125
limit=1800
[ "${1:-}" = -t ] && { limit=${2:?-t SECONDS}; shift 2; }
[ $# -gt 0 ] || { echo "usage: tests/nested/run.sh [-t SECONDS] CMD..." >&2; exit 125; }

W=$PWD/build/nested
mkdir -p "$W"

# 1. Debian 12's kernel image package (btf_kernels.sh's download, shared)
. tests/debian12_kernel.sh
debian12_kernel build/btf-6.1 ||
	{ echo "nested: Debian 12's kernel package ${pkg:-(none in the archive)}: not downloaded" >&2; exit 125; }

# 2. Its initramfs: busybox, and the modules that a 9p root and KVM need,
# in the order they depend on each other (the package has no modules.dep)
MODS="drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_legacy_dev
drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci fs/netfs/netfs
fs/fscache/fscache net/9p/9pnet net/9p/9pnet_virtio fs/9p/9p fs/overlayfs/overlay
virt/lib/irqbypass arch/x86/kvm/kvm drivers/crypto/ccp/ccp arch/x86/kvm/kvm-amd"
if [ ! -s "$W/mods-$kver/order" ]; then
	rm -rf "$W/x" "$W/mods-$kver" && mkdir -p "$W/x" "$W/mods-$kver"
	dpkg-deb -x "$deb" "$W/x" || exit 125
	cp "$W/x/boot/vmlinuz-$kver" "$W/vmlinuz-$kver"
	for m in $MODS; do
		cp "$W/x/lib/modules/$kver/kernel/$m.ko" "$W/mods-$kver/" || exit 125
	done
	for m in $MODS; do echo "${m##*/}"; done >"$W/mods-$kver/order"
	rm -rf "$W/x"
fi
IR=$(mktemp -d "$W/ir.XXXXXX") || exit 125 # built each time (a second), one per run
OUT=$(mktemp -d "$W/out.XXXXXX") || exit 125 # what comes back; one per run
trap 'rm -rf "$IR" "$IR.gz" "$OUT"' EXIT
mkdir -p "$IR/bin" "$IR/lib"
cp -r "$W/mods-$kver" "$IR/lib/modules"
cp /bin/busybox "$IR/bin/" || { echo "nested: no /bin/busybox (busybox-static)" >&2; exit 125; }
install -m 755 tests/nested/init "$IR/init"
(cd "$IR" && find . | cpio -o -H newc 2>/dev/null | gzip) >"$IR.gz"
rm -rf "$IR"

# 3. The command, the folder it runs in, and where its output comes back
{
	printf 'cd %q || exit 125\nexport NESTED_OUT=/nested-out\n' "$PWD"
	printf '%q ' "$@"
	echo
} >"$OUT/cmd.sh"

# 4. Boot: 2 vCPUs on this machine's CPUs (multi-threaded TCG), 4 GiB
cmdline="console=ttyS0 quiet loglevel=5 panic=-1 softlockup_panic=1 watchdog_thresh=30"
cmdline+=" rcupdate.rcu_cpu_stall_timeout=60 sysctl.kernel.panic_on_rcu_stall=1"
timeout -k 10 "$limit" qemu-system-x86_64 -accel tcg,thread="${NESTED_TCG:-multi}" -smp 2 -cpu max \
	-m 4096 -nographic -no-reboot -kernel "$W/vmlinuz-$kver" -initrd "$IR.gz" -append "$cmdline" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs local,path="$OUT",mount_tag=out,security_model=none </dev/null >"$W/console.log" 2>&1
qrc=$?
# what the command left in $NESTED_OUT/keep (a recording, figures), kept
if [ -d "$OUT/keep" ]; then
	rm -rf "$W/keep" && cp -r "$OUT/keep" "$W/keep"
fi
cat "$OUT/log" 2>/dev/null
rc=$(cat "$OUT/rc" 2>/dev/null)
[ -n "$rc" ] && exit "$rc"
[ "$qrc" = 124 ] && { echo "nested: timed out after $limit s (build/nested/console.log)" >&2; exit 124; }
if grep -aqE "soft lockup|rcu_preempt (self-)?detected stall" "$W/console.log"; then
	cp "$W/console.log" "$W/console-froze.log" # a run once more writes console.log anew
	echo "nested: the emulated host froze: $(grep -a -oE -m1 'soft lockup.*|rcu_preempt (self-)?detected stall.*' \
		"$W/console.log")" \
		"(build/nested/console-froze.log)" >&2
	exit 126
fi
echo "nested: the host did not come up (build/nested/console.log):" >&2
grep -a "NESTED\|panic" "$W/console.log" | tail -5 >&2
exit 125
