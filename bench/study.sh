#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make study: the originating study's experiment, on this host. A
# real-time guest (kvmrt-guest, RATE MSIs/s, pinned to the last CPU) next
# to a load on the same CPU (its interrupt source, the VMM's injecting
# thread, on CPU 0 like a device would be), under each host policy, with the guest idling
# by hlt and by a busy loop (as VxWorks does). Prints a markdown table and
# writes gnuplot PNGs to build/study/. Not part of make test.
#   loads:    none; cpu (stress-ng, for SPEC2000); disk (fio, for bonnie)
#   policies: default, default-aa (default again: the A/A noise floor),
#             shield, prio, shield+prio, cosched, cosched-poll (--poll: the
#             controller spins instead of waking), adaptive (--slo)
# Each cell runs REPEATS times (default 5), the policies interleaved and
# their order rotated each round, so that drift hits every policy alike;
# bench/study_report.py prints medians with their spread, the A/A floor,
# and judges every target on medians. QUICK=1: CPU load only, 3 rounds,
# default, default-aa, prio, cosched and adaptive. REPEATS=1: one run each.
cd "$(dirname "$0")/.." || exit 1
B=build
OUT=$B/study
DUR=${DUR:-6}
REPEATS=${REPEATS:-5}
LOADS="none cpu disk"
POLICIES="default default-aa shield prio shield+prio cosched cosched-poll adaptive"
if [ "${QUICK:-0}" = 1 ]; then
	REPEATS=${QUICK_REPEATS:-3}
	LOADS="cpu"
	POLICIES="default default-aa prio cosched adaptive"
fi
RATE=${RATE:-250} # sparse real-time work, as the study's RTOS had
SLO_US=${SLO_US:-200}
CPU=$(($(nproc) - 1))
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/*.txt "$OUT"/*.samples
trap 'pkill -f "stress-ng --cpu" ; pkill -x fio; kill $(jobs -p) 2>/dev/null' EXIT

# The guest hints busy/idle (the study's RTOS did) in every cell: the same
# guest under each policy (a hint is an I/O exit, whoever listens); only the
# co-scheduling policies listen to it.
ctl_hint() { case $1 in cosched | cosched-poll | adaptive) echo "--hint-port 0x7c2" ;; esac; }

# start_load LOAD TAG: the load on the vCPU's CPU, for DUR seconds
start_load() {
	case $1 in
	cpu) stress-ng --cpu 2 --taskset "$CPU" -t "$DUR" --metrics-brief >"$OUT/$2.load.txt" 2>&1 & ;;
	disk) taskset -c "$CPU" fio --name=load --filename="$OUT/fio.dat" --size=64M --rw=randrw \
		--bs=4k --direct=1 --time_based --runtime="$DUR" --output-format=json \
		>"$OUT/$2.load.txt" 2>/dev/null & ;;
	none) : ;;
	esac
	LOAD_PID=$!
}

policy_args() {
	case $1 in
	default | default-aa) ;;
	shield) echo "--shield $CPU" ;;
	prio) echo "--prio 50" ;;
	shield+prio) echo "--shield $CPU --prio 50" ;;
	cosched) echo "--cosched" ;;
	cosched-poll) echo "--cosched --poll" ;;
	adaptive) echo "--slo $SLO_US" ;;
	esac
}

# the loads' throughput alone, no real-time guest
for load in $LOADS; do
	[ $load != none ] && { start_load $load "base-$load"; wait; }
done
read -ra pols <<<"$POLICIES"
for rep in $(seq "$REPEATS"); do
for load in $LOADS; do
	for idle in hlt busy; do
		for i in "${!pols[@]}"; do
			pol=${pols[$(((i + rep) % ${#pols[@]}))]} # each first in turn
			tag="$load-$idle-$pol-r$rep"
			echo "study: $tag" >&2
			start_load $load "$tag"
			# shellcheck disable=SC2046
			# the guest times nothing until told (SIGUSR2): at 1.5 s with no
			# controller, else once its controller says it is controlling,
			# however long that takes (said per cell, in $tag.up)
			"$B/kvmrt-guest" -m msi -r "$RATE" -d $((DUR - 1)) -C "$CPU" --injector-cpu 0 -i "$idle" -q --hint \
				--warmup-until-usr2 \
				--name study-rt --json="$OUT/$tag.json" --samples="$OUT/$tag.samples" &
			gp=$!
			sleep 0.4
			args=$(policy_args $pol)
			if [ -n "$args" ]; then
				t0=$(date +%s.%N)
				# shellcheck disable=SC2086
				"$B/kvmrt" control --rt study-rt $args $(ctl_hint $pol) -d $((DUR - 1)) \
					--state "$OUT/control.state" >"$OUT/$tag.ctl.txt" 2>&1 &
				cp=$!
				for _ in $(seq 200); do
					grep -q "kvmrt: controlling" "$OUT/$tag.ctl.txt" 2>/dev/null && break
					kill -0 $cp 2>/dev/null || break # it failed: its output says why
					sleep 0.05
				done
				python3 -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.2f}')" "$t0" \
					>"$OUT/$tag.up"
				echo "study: $tag: controller up after $(cat "$OUT/$tag.up") s" >&2
			else
				sleep 1.1
			fi
			kill -USR2 $gp
			wait
		done
	done
done
done
rm -f "$OUT/fio.dat"

RATE=$RATE python3 bench/study_report.py "$OUT"
