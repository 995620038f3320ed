#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# End-to-end tests: real tracepoints, real KVM guests (kvmrt-guest and an
# unmodified QEMU), real CPU contention. Needs root and /dev/kvm.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
CHECK="python3 tests/e2e/e2e_check.py"

if [ "$(id -u)" != 0 ]; then
	echo "e2e: needs root"
	exit 1
fi
whole_suite_needs_kvm

# 1. Each injection mode: every interrupt counted exactly once, and the
#    response agrees with the guest's own clock. Where the guest injects,
#    every episode comes out (-T: 1 ns) and is checked against the guest's
#    timeline of the same interrupt, on the same clock.
for mode in msi irqfd pic timer; do
	args=(-m "$mode" -r 1000 -q --json="$TMP/g_$mode.json")
	targs=()
	tl=()
	if [ "$mode" = timer ]; then
		args+=(-d 1.5)
	else
		args+=(-c 1500 --timeline="$TMP/g_$mode.tl")
		targs+=(-T 0.001)
		tl=("$TMP/g_$mode.tl")
	fi
	start_trace "$TMP/t_$mode.json" "${targs[@]}" || { not_ok "trace start ($mode)"; continue; }
	"$GUEST" "${args[@]}"
	stop_trace
	check "$mode: counted once, agrees with the guest" \
		$CHECK guest "$TMP/t_$mode.json" "$TMP/g_$mode.json" "$mode" "${tl[@]}"
done
check "JSON report shape" $CHECK shape "$TMP/t_msi.json"

# 2. A guest that idles in a busy loop, the way VxWorks does
start_trace "$TMP/t_busy.json" -T 0.001 && {
	"$GUEST" -m msi -i busy -r 500 -c 500 -q --json="$TMP/g_busy.json" \
		--timeline="$TMP/g_busy.tl"
	stop_trace
	check "busy-idle guest: counted once, agrees with the guest" \
		$CHECK guest "$TMP/t_busy.json" "$TMP/g_busy.json" msi "$TMP/g_busy.tl"
}

# 3. Unmodified QEMU booting the guest firmware: found by its -name, and
#    the 1 kHz tick (PIT through the PIC, or the LAPIC timer) comes out right.
for fw in pit lapic; do
	qemu-system-x86_64 -accel kvm -name "guest=rt-$fw,debug-threads=on" \
		-bios "$B/rtguest-$fw.bin" -m 16 -display none -nodefaults -no-reboot \
		2>"$TMP/qemu-$fw.err" &
	qpid=$!
	BG_PIDS+=("$qpid")
	sleep 1
	"$KVMRT" trace -d 3 -q -g "rt-$fw" --json="$TMP/t_q$fw.json" 2>"$TMP/t_q$fw.err"
	kill "$qpid"
	wait "$qpid" 2>/dev/null
	src=$([ $fw = pit ] && echo pic || echo timer)
	check "QEMU ($fw firmware): found by -name, 1000 ticks/s" \
		$CHECK qemu "$TMP/t_q$fw.json" "$qpid" "rt-$fw" 1000 "$src"
done

# 3b. Short-lived VMs keep their names: 24 VMs of 2 s, 4 at a time, each
#     shorter than the exporter's interval. Every one is in the trace under
#     its own name with every interrupt counted, and in the exporter's
#     series under that name, none as pid-N.
"$KVMRT" export --listen 127.0.0.1:19979 -i 5 --grace 600 2>"$TMP/churn-export.err" &
xp=$!
BG_PIDS+=("$xp")
start_trace "$TMP/t_churn.json" -g 'churn-*' && {
	for k in $(seq 24); do
		"$GUEST" -m msi -r 200 -d 2 -q --name "churn-$k" --json="$TMP/g_churn_$k.json" &
		gp+=($!)
		[ $((k % 4)) = 0 ] && { wait "${gp[@]}"; gp=(); }
	done
	sleep 5.5 # one exporter interval after the last VM
	curl -s http://127.0.0.1:19979/metrics >"$TMP/churn.metrics"
	stop_trace
	check "24 short-lived VMs: each traced and exported under its name" \
		$CHECK churn "$TMP/t_churn.json" "$TMP/churn.metrics" "$TMP"/g_churn_*.json
}
kill "$xp" 2>/dev/null
wait "$xp" 2>/dev/null

# 4. Two CPU hogs on the vCPU's CPU: slow episodes name the hog.
hogs 1
start_trace "$TMP/t_hog.json" -T 300 && {
	"$GUEST" -m msi -r 1000 -d 4 -C 1 -q --json="$TMP/g_hog.json"
	stop_trace
	check "CPU hog: outliers blame kvmrt-hog" \
		$CHECK blame "$TMP/t_hog.json" "$(guest_pid "$TMP/g_hog.json")" kvmrt-hog
}
#    -a: the same hogs are the tail's first cause, as threads, and every
#    outlier's causes add up to its stages
start_trace "$TMP/t_hoga.json" -T 300 -a && {
	"$GUEST" -m msi -r 1000 -d 4 -C 1 -q --json="$TMP/g_hoga.json"
	stop_trace
	check "-a, CPU hogs: the tail's first cause is kvmrt-hog, parts add up" \
		$CHECK analysis "$TMP/t_hoga.json" "$(guest_pid "$TMP/g_hoga.json")" thread kvmrt-hog first
}
kill "$h1" "$h2" 2>/dev/null
wait "$h1" "$h2" 2>/dev/null

# 4b. -a against what the test makes itself: a loopback UDP flood pinned to
#     the vCPU's CPU (its NET_RX softirq runs there, in the sender) shows as
#     softirq NET_RX; the guest's port exit at each handler's start
#     (--timeline's marks, port 0x7c4) as an exit to the VMM with its port.
#     Both without -T: each vCPU's slowest 1%.
taskset -c 1 python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + 8
while time.time() < end:
    s.sendto(b'x' * 1400, ('127.0.0.1', 9))" &
fl=$!
BG_PIDS+=("$fl")
start_trace "$TMP/t_net.json" -a && {
	"$GUEST" -m msi -r 1000 -d 4 -C 1 -q --json="$TMP/g_net.json"
	stop_trace
	check "-a, loopback flood on the vCPU's CPU: softirq NET_RX among the causes" \
		$CHECK analysis "$TMP/t_net.json" "$(guest_pid "$TMP/g_net.json")" softirq "softirq NET_RX"
}
kill "$fl" 2>/dev/null
wait "$fl" 2>/dev/null
start_trace "$TMP/t_vmm.json" -a -T 0.001 && {
	"$GUEST" -m msi -r 500 -c 500 -q --json="$TMP/g_vmm.json" --timeline="$TMP/g_vmm.tl"
	stop_trace
	# the time out in the VMM ends at the next kvm_entry. Where KVM
	# emulates guest code (kvm-pvm) it never fires: live -a then named no
	# exit to the VMM, though kvm_userspace_exit and kvm_pio fire and a
	# recording's report -a of the same guest names some (vmm io 0x7c1):
	# not understood yet, so not asserted there
	if python3 -c 'import json, sys; sys.exit(not json.load(open(sys.argv[1]))["events"].get("kvm_entry"))' \
		"$TMP/t_vmm.json"; then
		check "-a: the guest's mark exit shows as an exit to the VMM, io 0x7c4" \
			$CHECK analysis "$TMP/t_vmm.json" "$(guest_pid "$TMP/g_vmm.json")" vmm "vmm io 0x7c4"
	else
		SKIPPED=$((SKIPPED + 1))
		echo "skip - -a: an exit to the VMM: kvm_entry never fired on this host (its KVM emulates guest code); live -a names no exit to the VMM here (not understood yet)"
	fi
}

# 5. SLO verdict in the exit status (the guest runs until the three traces
#    are done, however long they take to load)
"$GUEST" -m msi -r 1000 -d 3600 -q &
gpid=$!
BG_PIDS+=("$gpid")
sleep 0.5
"$KVMRT" trace -d 1 -q -p "$gpid" --slo 1 >/dev/null 2>&1
rc1=$?
"$KVMRT" trace -d 1 -q -p "$gpid" --slo 1000000 >/dev/null 2>&1
rc2=$?
# the shared flags next to the filter's: --vcpu 0 and -v trace as asked
"$KVMRT" trace -d 1 -q -v -p "$gpid" --vcpu 0 --json="$TMP/vcpu0.json" 2>/dev/null
rc3=$?
kill "$gpid" # TERM: a background job ignores SIGINT
wait "$gpid"
check "--slo: 3 when violated, 0 when met" test "$rc1-$rc2" = "3-0"
check "--vcpu 0 -v: exit 0, the guest's vCPU 0 alone, its interrupts counted" python3 -c "
import json, sys
d = json.load(open('$TMP/vcpu0.json'))
v = [c for m in d['vms'] for c in m['vcpus']]
sys.exit($rc3 != 0 or len(d['vms']) != 1 or [c['vcpu'] for c in v] != [0] or
         v[0]['injections']['total'] == 0)"

# 5b. A VM the command filters out (-g) runs beside two it shows: the
#     programs leave its vCPUs at their first lookup (marked ignored in the
#     trace's vcpus map, nothing counted in them; on a VMX or SVM host its
#     exits stop being counted while a shown VM's go on), and a VM shown is
#     counted exactly as without the other. The filtered VM and the shown
#     one whose exits are compared run until the maps are read.
first_map=$(next_bpf_map_id)
"$GUEST" -m msi -r 1000 -d 3600 -q --name filtered-out &
opid=$!
"$GUEST" -m msi -r 1000 -d 3600 -q --name shown-bg &
bpid=$!
BG_PIDS+=("$opid" "$bpid")
map_id() { # the trace's map named $1
	bpftool -j map show | python3 -c 'import json, sys
print(max(m["id"] for m in json.load(sys.stdin) if m.get("name") == sys.argv[2] and m["id"] >= int(sys.argv[1])))' "$first_map" "$1"
}
start_trace "$TMP/t_only.json" -g 'shown-*' && {
	"$GUEST" -m msi -r 1000 -c 1500 -q --name shown-only --json="$TMP/g_only.json"
	bpftool -j map dump id "$(map_id vcpus)" >"$TMP/vcpus_only.json"
	bpftool -j map dump id "$(map_id exits)" >"$TMP/exits_1.json"
	sleep 0.5
	bpftool -j map dump id "$(map_id exits)" >"$TMP/exits_2.json"
	stop_trace
	check "-g: a VM shown counted once, agrees with the guest" \
		$CHECK guest "$TMP/t_only.json" "$TMP/g_only.json" msi
	check "-g: the VM filtered out is left by the programs (ignored, nothing counted)" \
		$CHECK filtered "$TMP/vcpus_only.json" "$bpid" "$opid" "$TMP/exits_1.json" "$TMP/exits_2.json"
	check "-g: the JSON holds the VMs shown alone" python3 -c "
import json, sys
sys.exit(sorted(m['name'] for m in json.load(open('$TMP/t_only.json'))['vms']) != ['shown-bg', 'shown-only'])"
}
kill "$opid" "$bpid"
wait "$opid" "$bpid" 2>/dev/null

# 6. Bad input: one line on stderr, usage errors exit 2, others 1
check "bad duration" bad 2 "$KVMRT" trace -d abc
check "bad pid list" bad 2 "$KVMRT" trace -p 12,x
check "no such pid" bad 1 "$KVMRT" trace -p 999999 -d 1
check "bad vcpu" bad 2 "$KVMRT" trace --vcpu -1
check "bad threshold" bad 2 "$KVMRT" trace -T 0
check "unknown command" bad 2 "$KVMRT" frobnicate
for c in trace report top export control; do
	check "kvmrt $c --help: exit 0, its usage on stdout, nothing on stderr" bash -c \
		"out=\$('$KVMRT' $c --help 2>'$TMP/help.err') && grep -q '^Usage: kvmrt $c' <<<\"\$out\" && [ ! -s '$TMP/help.err' ]"
done
check "kvmrt-guest --help: exit 0, its usage" bash -c "set -o pipefail; '$GUEST' --help | grep -q Usage"
check "guest: bad mode" bad 2 "$GUEST" -m bogus
check "guest: bad timer rate" bad 2 "$GUEST" -m timer -r 100000

summary
