#!/bin/bash
# Many VMs at once, and many short ones: 32 VMs (200 interrupts/s each)
# plus a churn of 100 VMs of 0.5 s (10 at a time), under one kvmrt trace and
# one exporter. Counts and leaks only, no timings (those are bench's):
#  - every interrupt of every VM counted exactly, under the VM's own name,
#    in the trace and in the exporter's series;
#  - once they are gone and the grace has passed: no exporter series left,
#    no entry left in the exporter's BPF maps, and the exporter holds the
#    same number of descriptors as before the VMs came.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
whole_suite_needs_kvm
CHECK="python3 tests/e2e/e2e_check.py"
PORT=19981
GRACE=30 # the first short VMs must outlive the whole load, however slow

# maps created from here on are the exporter's (and the trace's, gone by then)
first_map=$(next_bpf_map_id)
"$KVMRT" export --listen 127.0.0.1:$PORT -i 1 --grace $GRACE 2>"$TMP/x.err" &
xp=$!
BG_PIDS+=("$xp")
for i in $(seq 50); do
	curl -sf http://127.0.0.1:$PORT/metrics >/dev/null && break
	sleep 0.1
done
sleep 1.5 # a collection with no VM: its descriptors as they stay
fds_before=$(for i in 1 2 3; do ls /proc/$xp/fd | wc -l; sleep 0.3; done | sort -n | head -1)

start_trace "$TMP/t.json" -g 'scale-*' || exit 1
cpu0=$(awk '{print $14 + $15}' /proc/$xp/stat)
t0=$(date +%s.%N)
gp=()
for k in $(seq 32); do
	"$GUEST" -m msi -r 200 -d 8 -q --name "scale-$k" --json="$TMP/g_$k.json" &
	gp+=($!)
done
cp=()
for k in $(seq 100); do
	"$GUEST" -m msi -r 200 -d 0.5 -q --name "scale-c$k" --json="$TMP/g_c$k.json" &
	cp+=($!)
	[ $((k % 10)) = 0 ] && { wait "${cp[@]}"; cp=(); }
done
wait "${gp[@]}"
cpu1=$(awk '{print $14 + $15}' /proc/$xp/stat)
t1=$(date +%s.%N)
rss=$(awk '/VmRSS/ {print $2}' /proc/$xp/status)
sleep 2 # an exporter collection after the last VM
curl -sf http://127.0.0.1:$PORT/metrics >"$TMP/during.metrics"
stop_trace
check "all 132 guests ran and wrote their own count" \
	test "$(ls "$TMP"/g_*.json 2>/dev/null | wc -l)" = 132
check "132 VMs (32 at once, 100 short-lived): every interrupt counted, every name kept" \
	$CHECK churn "$TMP/t.json" "$TMP/during.metrics" "$TMP"/g_*.json
# for bench/run.sh (not asserted: timings are bench's)
python3 -c 'import sys; c0, c1, t0, t1, hz, rss = map(float, sys.argv[1:])
print(f"scale: exporter {100 * (c1 - c0) / hz / (t1 - t0):.2f}% of one CPU over {t1 - t0:.1f} s, RSS {rss / 1024:.1f} MiB")' \
	"$cpu0" "$cpu1" "$t0" "$t1" "$(getconf CLK_TCK)" "$rss"

# gone: after the grace, nothing of them is left
sleep $((GRACE + 3))
curl -sf http://127.0.0.1:$PORT/metrics >"$TMP/after.metrics"
check "after the grace: no series of a gone VM (a scrape with series)" \
	bash -c 'grep -q "^kvmrt_build_info" "$1" && ! grep -m 3 "vm=\"scale-" "$1"' _ "$TMP/after.metrics"
for map in vcpus threads vms exits apicv; do
	n=$(bpf_map_entries $map "$first_map")
	check "after the grace: the exporter's $map map is empty (${n:-not found})" test "${n:-x}" = 0
done
fds_after=$(for i in 1 2 3; do ls /proc/$xp/fd | wc -l; sleep 0.3; done | sort -n | head -1)
check "the exporter holds as many descriptors as before ($fds_before -> $fds_after)" \
	test "$fds_before" = "$fds_after"
kill "$xp" 2>/dev/null
wait "$xp" 2>/dev/null
summary
