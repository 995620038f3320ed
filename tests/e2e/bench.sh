#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The bench's own reporting, on results the test writes itself (no guest,
# no timing): bench/study_report.py takes the median of each cell's runs
# with their spread, prints the A/A floor, judges every target of the study
# on medians (met and NOT met each made to happen here), and says "not
# measured" for the cells a run did not have.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
S=$TMP/study
mkdir -p "$S"

# cells: name p99s (us, one per run) host-throughput (bogo-ops over 10 s)
# [controller CPU %]; the base CPU load did 1000 ops in 10 s
python3 - "$S" <<'PY'
import json, sys
out = sys.argv[1]
open(f"{out}/base-cpu.load.txt", "w").write("stress-ng: metrc: [1] cpu 1000 10.00\n")
def cell(load, idle, pol, p99s, ops, ctl_cpu=None, up=None):
    for i, p99 in enumerate(p99s, 1):
        tag = f"{load}-{idle}-{pol}-r{i}"
        json.dump({"response": {"p50_ns": 1000, "p99_ns": p99 * 1000, "p999_ns": p99 * 1000,
                                "max_ns": p99 * 2000, "mean_ns": 2000},
                   "acked": 1000, "duration_s": 5}, open(f"{out}/{tag}.json", "w"))
        open(f"{out}/{tag}.load.txt", "w").write(f"stress-ng: metrc: [1] cpu {ops} 10.00\n")
        if ctl_cpu is not None:
            open(f"{out}/{tag}.ctl.txt", "w").write(
                "kvmrt: controlling 1 vCPU thread (co-scheduling)\n"
                "kvmrt control: 5.0 s\n  reaction (injection -> boost applied): 900 boosts, "
                "p50 10.0 us, p99 40.0 us, max 90.0 us\n"
                f"  controller wake-ups: 900 by records, 100 by its timers: 1.00 per interrupt (1000 interrupts)\n"
                "  IPIs the vCPUs' CPUs took meanwhile (all causes): irq work 500, rescheduling 300, function calls 200\n"
                f"  controller CPU: {ctl_cpu:.2f}% of one CPU while controlling (starting took 0.30 s of CPU)\n")
            open(f"{out}/{tag}.up", "w").write(f"{up}\n")
# busy-idle guest under CPU load: cosched's median 500 us (one outlier run
# of 9000 does not move it) vs prio 450 (1.11x: met), host 950 vs 1000
cell("cpu", "busy", "default", [8000, 9000, 7000], 1000)
cell("cpu", "busy", "default-aa", [8500, 7500, 9500], 1000)
cell("cpu", "busy", "prio", [450, 440, 460], 200, 0.5, 0.4)
cell("cpu", "busy", "cosched", [500, 9000, 480], 950, 0.8, 0.5)
cell("cpu", "busy", "adaptive", [520, 510, 530], 945, 1.0, 0.6)
# hlt guest: cosched 60 vs prio 45 (1.33x: NOT met)
cell("cpu", "hlt", "default", [3000, 3100, 2900], 900)
cell("cpu", "hlt", "prio", [45, 46, 44], 880, 0.3, 0.4)
cell("cpu", "hlt", "cosched", [60, 61, 59], 890, 3.5, 0.5)
cell("cpu", "hlt", "adaptive", [90, 95, 85], 880, 1.0, 0.6)
# left out: a run that measured nothing, one whose controller never came up
json.dump({"response": {"p50_ns": 0, "p99_ns": 0, "p999_ns": 0, "max_ns": 0, "mean_ns": 0},
           "acked": 0, "duration_s": 5}, open(f"{out}/cpu-hlt-prio-r4.json", "w"))
json.dump({"response": {"p50_ns": 1, "p99_ns": 9000000, "p999_ns": 1, "max_ns": 1, "mean_ns": 1},
           "acked": 1000, "duration_s": 5}, open(f"{out}/cpu-hlt-cosched-r4.json", "w"))
open(f"{out}/cpu-hlt-cosched-r4.ctl.txt", "w").write("control: load BPF programs: Invalid argument\n")
PY
RATE=250 python3 bench/study_report.py "$S" --no-plot >"$TMP/report.md" 2>"$TMP/report.err"
check "study report: runs" test $? = 0
row() { grep -F "| $1 |" "$TMP/report.md" | head -1; }
check "a cell's median and spread: cosched busy p99 500 (480-9000), 3 runs" \
	bash -c "grep -qF '| cpu | busy | cosched | 3 | 500 (480-9000) |' '$TMP/report.md'"
check "controller wake-ups and the vCPU's CPUs' IPIs per interrupt, per cell" \
	bash -c "grep -F '| cpu | busy | cosched | 3 |' '$TMP/report.md' | grep -qF '| 1.00 | 1.00 |'"
check "A/A: default against default, 1.06x, and the floor" bash -c \
	"grep -qF '| cpu | busy | 8000 (7000-9000) | 8500 (7500-9500) | 1.06 x |' '$TMP/report.md' &&
	 grep -q 'noise floor (A/A): medians of one policy differed up to 1.06x' '$TMP/report.md'"
check "busy-idle, CPU load: cosched 1.11x prio's, under 1 ms, host 95%: met" bash -c \
	"grep -F 'cpu load, busy-idle guest' '$TMP/report.md' | grep -q '500 us = 1.11x prio.s 450; host 95% | met'"
check "busy-idle, disk load: not measured" bash -c \
	"grep -F 'disk load, busy-idle guest' '$TMP/report.md' | grep -q 'not measured | - |'"
check "hlt, CPU load: cosched 1.33x prio's: NOT met" bash -c \
	"grep -F 'cpu load, hlt guest' '$TMP/report.md' | grep -q '1.33x | NOT met'"
check "--slo: NOT met in cpu/hlt (adaptive 90 over 1.1x cosched's 60), met in cpu/busy" bash -c \
	"grep -F -- '--slo, every cell' '$TMP/report.md' | grep -q 'NOT in cpu/hlt (1.50x, -1 points) | NOT met'"
check "controller CPU while controlling: the worst cosched cell 3.50%: NOT met" bash -c \
	"grep -F 'controller CPU while controlling' '$TMP/report.md' | grep -q 'worst cell 3.50% | NOT met'"
check "runs that measured nothing or had no controller: left out, said" bash -c \
	"grep -q 'left out (2 runs): cpu-hlt-cosched-r4 (its controller never controlled); cpu-hlt-prio-r4 (no interrupt measured)' '$TMP/report.md' &&
	 grep -qF '| cpu | hlt | cosched | 3 | 60 (59-61) |' '$TMP/report.md'"
check "how long controllers took to be up, said" bash -c \
	"grep -q 'up after 0.40-0.60 s' '$TMP/report.md'"
check "an empty directory: one line, exit 1" bad 1 python3 bench/study_report.py "$TMP"
summary
