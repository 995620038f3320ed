#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench: kvmrt's overhead, measured side by side in one run, printed
# as a markdown table. Not part of make test. Needs root and /dev/kvm.
#   1. BPF cost per event per program (kernel BPF stats, BPF_ENABLE_STATS),
#      next to empty programs on the same tracepoints: the floor any BPF
#      program pays on this host.
#   2. kvmrt-guest's maximum interrupt rate, tracing off vs on (alternating).
#   3. The agent's CPU use and memory at 10,000 interrupts/s.
#   4. kvmrt report: events per second read from a trace.dat, and its
#      memory, next to trace-cmd report reading the same file.
#   5. The host's context switches per second (stress-ng --switch, no VM):
#      nothing attached, the empty programs on kvmrt's tracepoints without
#      BPF stats (the floor any BPF program pays), kvmrt trace (and -T),
#      kvmrt export, and the bpftrace peer (bench/host.sh); alternating
#      rounds, each order in turn.
#   6. Scale: tests/e2e/scale.sh (32 VMs at once and 100 short-lived ones:
#      counts and leaks asserted there), with the exporter's CPU and RSS.
cd "$(dirname "$0")/.." || exit 1
B=build
T=$(mktemp -d /tmp/kvmrt-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-3}

wait_tracing() {
	local i
	for i in $(seq 100); do
		grep -q tracing "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# 1. BPF cost
"$B/kvmrt" trace -d $((SECS + 2)) --bpf-stats --json="$T/cost.json" 2>"$T/cost.err" &
tp=$!
"$B/bpf-null" $((SECS + 2)) >"$T/null.json" &
np=$!
wait_tracing "$T/cost.err"
"$B/kvmrt-guest" -r 0 -d "$SECS" -q
wait $tp $np

# 2. maximum interrupt rate, off and on, alternating
for r in $(seq "$ROUNDS"); do
	"$B/kvmrt-guest" -r 0 -d "$SECS" -q --json="$T/off$r.json"
	"$B/kvmrt" trace -q --json="$T/on$r.trace.json" 2>"$T/on$r.err" &
	tp=$!
	wait_tracing "$T/on$r.err"
	"$B/kvmrt-guest" -r 0 -d "$SECS" -q --json="$T/on$r.json"
	kill -INT $tp
	wait $tp
done

# 3. agent CPU and memory at 10,000 interrupts/s
"$B/kvmrt" trace -q -T 1000 --json="$T/cpu.json" 2>"$T/cpu.err" &
tp=$!
wait_tracing "$T/cpu.err"
cpu0=$(awk '{print $14 + $15}' /proc/$tp/stat)
t0=$(date +%s.%N)
"$B/kvmrt-guest" -r 10000 -d $((SECS * 3)) -q --json="$T/g10k.json"
cpu1=$(awk '{print $14 + $15}' /proc/$tp/stat)
t1=$(date +%s.%N)
rss=$(awk '/VmRSS/ {print $2}' /proc/$tp/status)
mapmem=$(bpftool map show 2>/dev/null | awk '/memlock/ {for (i = 1; i <= NF; i++) if ($i == "memlock") s += $(i + 1)} END {print s + 0}')
kill -INT $tp
wait $tp

# 4. kvmrt report reading recordings of kvmrt-guest at its maximum rate, a
#    short one and one ten times longer: its memory must not grow with them
tools/kvmrt-record -b 262144 -o "$T/small.dat" -- "$B/kvmrt-guest" -r 0 -d 0.6 -q 2>/dev/null
tools/kvmrt-record -b 262144 -o "$T/big.dat" -- "$B/kvmrt-guest" -r 0 -d 6 -q 2>/dev/null
# 5. the host's context switches with no VM: nothing, empty programs,
#    each long-running kvmrt command, and the bpftrace peer (bench/host.sh)
bash bench/host.sh >"$T/host.md" 2>"$T/host.err"

# 6. scale
bash tests/e2e/scale.sh >"$T/scale.out" 2>&1

python3 - "$T/small.dat" "$T/big.dat" >"$T/report.json" <<'PY'
import json, os, subprocess, sys, time
def anon_kb(pid):  # heap and stacks; mapped file pages are page cache
    try:
        with open(f"/proc/{pid}/status") as f:
            return max([int(l.split()[1]) for l in f if l.startswith("RssAnon:")] + [0])
    except OSError:
        return 0
def run(cmd):
    t = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while p.poll() is None:
        peak = max(peak, anon_kb(p.pid))
        time.sleep(0.005)
    return time.monotonic() - t, peak
out = {}
for name, path in (("small", sys.argv[1]), ("big", sys.argv[2])):
    secs, rss = run(["build/kvmrt", "report", "-i", path])
    err = subprocess.run(["build/kvmrt", "report", "-i", path], capture_output=True, text=True).stderr
    line = [l for l in err.splitlines() if "records read twice" in l][0]
    peer, _ = run(["trace-cmd", "report", "-i", path])
    out[name] = {"records": int(line.split(": ")[2].split()[0]), "secs": secs, "rss_kb": rss,
                 "peer_secs": peer, "bytes": os.path.getsize(path)}
print(json.dumps(out))
PY

python3 - "$T" "$ROUNDS" "$cpu0" "$cpu1" "$t0" "$t1" "$(getconf CLK_TCK)" "$rss" "$mapmem" <<'PY'
import json, statistics, sys
T, rounds = sys.argv[1], int(sys.argv[2])
cpu0, cpu1, t0, t1, hz = float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7])
rss_kb, mapmem = int(sys.argv[8]), int(sys.argv[9])
cost = json.load(open(f"{T}/cost.json"))["bpf_stats"]
null = json.load(open(f"{T}/null.json"))

print("## BPF cost per event (kernel BPF stats, one run)\n")
print("| program | events | mean ns/event | empty program on the same tracepoint, ns |")
print("|---|---:|---:|---:|")
runs = ns = 0
for prog, v in sorted(cost.items(), key=lambda kv: -kv[1]["runs"]):
    if not v["runs"]:
        continue
    runs += v["runs"]
    ns += v["run_ns"]
    n = null.get(prog)
    floor = f"{n['run_ns'] / n['runs']:.0f}" if n and n["runs"] else "-"
    print(f"| {prog} | {v['runs']} | {v['run_ns'] / v['runs']:.0f} | {floor} |")
nr = sum(v["runs"] for v in null.values())
floor = sum(v["run_ns"] for v in null.values()) / nr if nr else 0
mean = ns / runs if runs else 0
print(f"| **all** | {runs} | **{mean:.0f}** | {floor:.0f} |")
print(f"\nmean over all events: {mean:.0f} ns; net of the empty-program floor: "
      f"{mean - floor:.0f} ns (target: mean <= 100 ns: {'met' if mean <= 100 else 'NOT met'})\n")

def rate(path):
    g = json.load(open(path))
    return g["acked"] / g["duration_s"]
off = [rate(f"{T}/off{r}.json") for r in range(1, rounds + 1)]
on = [rate(f"{T}/on{r}.json") for r in range(1, rounds + 1)]
print("## kvmrt-guest maximum interrupt rate\n")
print("| round | tracing off (irq/s) | tracing on (irq/s) |")
print("|---|---:|---:|")
for i in range(rounds):
    print(f"| {i + 1} | {off[i]:.0f} | {on[i]:.0f} |")
ratio = statistics.median(on) / statistics.median(off)
print(f"\nmedian with tracing / without: **{100 * ratio:.1f}%** "
      f"(target >= 97%: {'met' if ratio >= 0.97 else 'NOT met'})\n")

g = json.load(open(f"{T}/g10k.json"))
cpu = (cpu1 - cpu0) / hz / (t1 - t0)
print("## agent at 10,000 interrupts/s\n")
print("| interrupts/s delivered | agent CPU (% of one CPU) | agent RSS (MiB) | BPF maps (MiB) |")
print("|---:|---:|---:|---:|")
print(f"| {g['acked'] / g['duration_s']:.0f} | **{100 * cpu:.2f}%** | {rss_kb / 1024:.1f} | "
      f"{mapmem / 1048576:.1f} |")
print(f"\n(target: agent <= 1% of one CPU: {'met' if cpu <= 0.01 else 'NOT met'})")

r = json.load(open(f"{T}/report.json"))
print("\n## kvmrt report reading a trace.dat (uncompressed, as kvmrt-record writes it)\n")
print("| recording | MB | records | kvmrt report (two passes) s | records/s | peak anonymous RSS (MiB) | trace-cmd report s | kvmrt / trace-cmd time |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for name in ("small", "big"):
    x = r[name]
    print(f"| {name} | {x['bytes'] / 1e6:.1f} | {x['records']} | {x['secs']:.2f} | **{2 * x['records'] / x['secs']:.0f}** | "
          f"{x['rss_kb'] / 1024:.1f} | {x['peer_secs']:.2f} | {x['secs'] / x['peer_secs']:.2f} |")
print(f"\nmemory, big / small recording: {r['big']['rss_kb'] / r['small']['rss_kb']:.2f}x for "
      f"{r['big']['records'] / r['small']['records']:.1f}x the records")
print("\n(target: >= 1,000,000 records/s; each pass reads every record)")

print()
print(open(f"{T}/host.md").read().rstrip())

print("\n## scale: 32 VMs at 200 irq/s and 100 short-lived ones (tests/e2e/scale.sh)\n")
for line in open(f"{T}/scale.out"):
    if line.startswith(("ok ", "FAIL", "scale:")):
        print("- " + line.strip())
PY

# load time: every command's start; what kvmrt control's --hint-port adds
echo
echo "## load time (build/load-time: alternated loads, with and without --hint-port)"
echo
"$B/load-time" 7 | sed 's/^/    /'

# every program's cost per event, fired here or not (BPF_PROG_TEST_RUN)
echo
"$B/prog-cost" 20000 5
