#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make demo: a 10 s kvmrt trace over kvmrt-guest; from 4 s to 8 s two CPU
# hogs share the vCPU's CPU, so the report has slow episodes to explain,
# each broken into its causes (-a)
cd "$(dirname "$0")/.." || exit 1
B=build
if [ "$(id -u)" != 0 ]; then
	echo "demo: needs root" >&2
	exit 1
fi
if [ ! -c /dev/kvm ]; then
	# no guest can run here: show what kvmrt makes of a recording instead
	echo "demo: no /dev/kvm on this host: no guest to trace live. kvmrt report -a on a" >&2
	echo "demo: recording of a VMX host instead (tests/recordings/vmx-interference.txt):" >&2
	exec "$B/kvmrt" report -i tests/recordings/vmx-interference.txt -a -H
fi
cpu=$(($(nproc) - 1))
"$B/kvmrt-guest" -m msi -r 1000 -d 11 -C "$cpu" --name demo-rt --json=/tmp/kvmrt-demo-guest.json -q &
guest=$!
sleep 0.3
(
	sleep 4
	echo "demo: starting two CPU hogs on CPU $cpu for 4 s" >&2
	taskset -c "$cpu" "$B/tests/hog" 4 &
	taskset -c "$cpu" "$B/tests/hog" 4 &
	wait
) &
hogs=$!
"$B/kvmrt" trace -d 10 -p "$guest" -T 1000 -a -H # -a: what held the CPU in each
rc=$?
wait "$hogs" "$guest"
python3 - <<'PY'
import json
g = json.load(open("/tmp/kvmrt-demo-guest.json"))
r = g["response"]
print(f"\nthe guest's own clock: {g['acked']} interrupts, p50 {r['p50_ns']/1e3:.1f} us, "
      f"p99 {r['p99_ns']/1e3:.1f} us, max {r['max_ns']/1e3:.1f} us "
      "(includes its ack's exit to userspace)")
PY
exit $rc
