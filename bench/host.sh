#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bench/host.sh: what kvmrt costs the host's own work, with no guest: the
# context switches per second of stress-ng --switch 2 (the scheduler's
# tracepoints fire on every one) with nothing attached, with empty programs
# on kvmrt's tracepoints (the floor any BPF tool pays), with each kvmrt
# command that runs for long (trace; trace -T, which records every switch
# for blame; export, as a fleet runs it, with and without its kernel BPF
# stats; trace -a, with the auto-analysis's irq, softirq, NMI and vector
# programs), and with the peer a user would otherwise run: bpftrace with a
# kvm_exit count by reason and a run-queue latency histogram. The same
# for the rate of timer interrupts a task is sent (stress-ng --timer: the
# hrtimer, local_timer vector and softirq programs fire on each). Rounds
# alternate the order; medians, and each one's ratio to nothing attached.
# Needs root; no /dev/kvm (part of make bench, which needs it for the rest).
#   ROUNDS=5 SECS=3 bash bench/host.sh
set -u
cd "$(dirname "$0")/.." || exit 1
B=build
T=$(mktemp -d /tmp/kvmrt-host.XXXXXX)
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-3}
PORT=19975
TRACEFS=/sys/kernel/tracing
mounted=0
cleanup() {
	[ $mounted = 0 ] || umount $TRACEFS
	rm -rf "$T"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] || { echo "host.sh: needs root" >&2; exit 1; }
make -s all "$B/bpf-null" >/dev/null || exit 1
MODES="off floor trace trace-T trace-a export export-nostats"
if command -v bpftrace >/dev/null; then
	MODES="$MODES bpftrace"
	# bpftrace finds tracepoints through tracefs: mounted for it, unmounted after
	if [ ! -e $TRACEFS/events ]; then
		mount -t tracefs nodev $TRACEFS && mounted=1
	fi
else
	echo "host.sh: no bpftrace (apt-get install bpftrace): its row is left out" >&2
fi

until_in() { # until_in FILE TEXT: wait (10 s at most) for TEXT in FILE
	local i
	for i in $(seq 100); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "host.sh: no '$2' in $1" >&2
	return 1
}
switches() { # switches OUT: stress-ng's context switches per second into OUT
	stress-ng --switch 2 -t "$SECS" --metrics-brief --yaml "$1" >/dev/null 2>&1
}
timers() { # timers OUT: timer interrupts a task was sent per second, into OUT
	stress-ng --timer 1 --timer-freq 200000 -t "$SECS" --metrics-brief --yaml "$1" >/dev/null 2>&1
}
one() { # one MODE ROUND
	local out="$T/sw-$1-$2.yaml" p
	case $1 in
	off) switches "$out"; timers "$T/tm-$1-$2.yaml"; return ;;
	floor)
		"$B/bpf-null" $((SECS + 30)) --no-stats >/dev/null &
		p=$!
		sleep 1 ;;
	trace | trace-T | trace-a)
		"$B/kvmrt" trace $([ "$1" = trace-T ] && echo -T 100) $([ "$1" = trace-a ] && echo -a) \
			>/dev/null 2>"$T/err" &
		p=$!
		until_in "$T/err" tracing ;;
	export | export-nostats)
		"$B/kvmrt" export -l 127.0.0.1:$PORT $([ "$1" = export-nostats ] && echo --no-bpf-stats) \
			>/dev/null 2>"$T/err" &
		p=$!
		for _ in $(seq 100); do
			curl -sf -o /dev/null http://127.0.0.1:$PORT/metrics && break
			sleep 0.1
		done ;;
	bpftrace)
		bpftrace -e 'tracepoint:kvm:kvm_exit { @exits[args->exit_reason] = count(); }
			tracepoint:sched:sched_wakeup { @q[args->pid] = nsecs; }
			tracepoint:sched:sched_switch /@q[args->next_pid]/ {
				@runq_us = hist((nsecs - @q[args->next_pid]) / 1000);
				delete(@q[args->next_pid]); }' >"$T/err" 2>&1 &
		p=$!
		until_in "$T/err" Attaching ;;
	esac
	switches "$out"
	timers "$T/tm-$1-$2.yaml"
	kill -INT "$p" 2>/dev/null
	wait "$p" 2>/dev/null
}
read -ra modes <<<"$MODES"
for r in $(seq "$ROUNDS"); do
	for i in "${!modes[@]}"; do # each mode first in turn
		one "${modes[$(((i + r) % ${#modes[@]}))]}" "$r"
	done
done

python3 - "$T" "$ROUNDS" "$MODES" <<'PY'
import statistics, sys
T, rounds, modes = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
names = {"off": "nothing attached", "floor": "empty programs on kvmrt's tracepoints",
         "trace": "kvmrt trace", "trace-T": "kvmrt trace -T 100 (every switch, for blame)",
         "trace-a": "kvmrt trace -a (auto-analysis: every switch, irq, softirq, NMI, vector)",
         "export": "kvmrt export (kernel BPF stats on, its default)",
         "export-nostats": "kvmrt export --no-bpf-stats",
         "bpftrace": "bpftrace: kvm_exit by reason + run-queue latency histogram"}
def rate(mode, r, what="sw"):
    try:
        for line in open(f"{T}/{what}-{mode}-{r}.yaml"):
            if "bogo-ops-per-second-real-time:" in line:
                return float(line.split(":")[1])
    except OSError:
        pass
    return None
def table(title, unit, what, target):
    """One table: each mode's median of what, and its ratios to nothing
    attached and to the empty programs (target: the least kvmrt's may be)"""
    runs = {m: [x for x in (rate(m, r, what) for r in range(1, rounds + 1)) if x] for m in modes}
    if not runs["off"] or not runs["floor"]:
        return
    off, floor = statistics.median(runs["off"]), statistics.median(runs["floor"])
    print(f"\n## {title}, median of {rounds} rounds\n")
    print(f"| attached | {unit} | of nothing attached | of the empty programs |")
    print("|---|---:|---:|---:|")
    for m in modes:
        if not runs[m]:
            print(f"| {names[m]} | (no run) | | |")
            continue
        med = statistics.median(runs[m])
        mark = "" if not target or m in ("off", "floor", "bpftrace") else \
            f" (target >= {target}: {'met' if med / off >= target else 'NOT met'})"
        print(f"| {names[m]} | {med:.0f} | {med / off:.3f}{mark} | {med / floor:.3f} |")
table("host context switches per second (stress-ng --switch 2, no VM)", "switches/s", "sw", 0.97)
table("timer interrupts a task is sent per second (stress-ng --timer 1 --timer-freq 200000)",
      "timers/s", "tm", None)
print("\n(the floor moves by several percent between runs on a shared host: compare rows"
      " of one run, and kvmrt with the empty programs)")
PY
