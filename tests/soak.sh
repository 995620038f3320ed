#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The soak (make soak; not in make test): SOAK_MIN minutes (default 30) of
#  - one exporter, scraped every second by a real Prometheus (every 5 s on
#    the nested host) and by 50 concurrent clients (tests/e2e/scrapers.py);
#  - kvmrt control --slo on one VM (soak-rt: busy-idle, hinting), started
#    without -d: it must end by itself when its VM does;
#  - VMs started and stopped all the while, two at a time, a few seconds
#    each: kvmrt-guest and the tests' own VMM (tests/e2e/vmm.c), plain and
#    hostile names (a newline, invalid UTF-8, a comm like a stat line's end).
# At the end:
#  - every interrupt of every VM counted exactly: what Prometheus stored of
#    the exporter's series against each guest's own count;
#  - no client's scrape and no Prometheus scrape failed;
#  - the exporter's RSS flat after the first minutes (the curve printed),
#    its descriptors as before the VMs, its BPF maps empty after the grace;
#  - every thread's policy, affinity and cpuset as before.
# Needs root and KVM: without /dev/kvm here it runs on the nested host
# (tests/nested/run.sh), where everything is much slower; the checks are
# counts and equalities, so they hold there too.
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
SOAK_MIN=${SOAK_MIN:-30}
# VMs start and stop all along: on the nested host, the single-threaded
# TCG (tests/nested/run.sh says why). There the emulated CPU at times runs
# a guest's handler for an interrupt KVM never injected (docs/testing.md):
# a guest may count one more than KVM delivered.
export NESTED_TCG=single
nested_unless_kvm tests/soak.sh $((SOAK_MIN * 60 + 2400)) SOAK_MIN="$SOAK_MIN"
whole_suite_needs_kvm
. tests/e2e/control_lib.sh
export PYTHONPATH=$PWD/tests/e2e
CHECK="/usr/bin/python3 tests/e2e/soak_check.py"
PORT=19987
PROM_PORT=19091
GRACE=${SOAK_GRACE:-15} # longer: every VM's series still in the last page
SOAK_S=$((SOAK_MIN * 60))

# 1. the exporter
first_map=$(next_bpf_map_id)
"$KVMRT" export --listen "127.0.0.1:$PORT" -i 1 --grace $GRACE 2>"$TMP/export.err" &
XP=$!
BG_PIDS+=("$XP")
for _ in $(seq 600); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/metrics" && break; sleep 0.1; done
# its descriptors at rest: before any client (and at the end, after all)
sleep 2
fds_before=$(ls /proc/$XP/fd | wc -l)
ls -l /proc/$XP/fd | awk '{print $NF}' | sort >"$TMP/fds.before"

# 2. its scrapers: Prometheus (keeping only the families the counts need:
#    it still scrapes whole pages) and 50 clients
# every second; on the nested host every 5 s: there every instruction is
# emulated, by one host thread for both CPUs, and the soak keeps both busy,
# so an answer can take seconds (measured with two threads: 0.3 s median,
# 1.5 s at most), and Prometheus allows no timeout longer than the interval
SCRAPE=1s
[ -n "${NESTED_OUT:-}" ] && SCRAPE=5s
cat >"$TMP/prometheus.yml" <<EOF
global:
  scrape_interval: $SCRAPE
  scrape_timeout: $SCRAPE
scrape_configs:
  - job_name: kvmrt
    static_configs:
      - targets: ["127.0.0.1:$PORT"]
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: kvmrt_irq_(injections|coalesced|ends)_total|kvmrt_build_info
        action: keep
EOF
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
	--web.listen-address="127.0.0.1:$PROM_PORT" >"$TMP/prom.log" 2>&1 &
PROM=$!
BG_PIDS+=("$PROM")
for _ in $(seq 600); do curl -sf -o /dev/null "http://127.0.0.1:$PROM_PORT/-/ready" && break; sleep 0.1; done
/usr/bin/python3 tests/e2e/scrapers.py 50 127.0.0.1 $PORT >"$TMP/scrapers.out" 2>&1 &
SCRAPERS=$!
BG_PIDS+=("$SCRAPERS")

# 3. the controlled VM, and its controller
$SNAP snapshot "$TMP/before.json"
guest soak-rt "$SOAK_S" -i busy --hint --json="$TMP/rt.json"
RT=$GPID
printf 'guest %s %s %s\n' "$RT" "$(printf soak-rt | od -An -tx1 | tr -d ' \n')" "$TMP/rt.json" >"$TMP/manifest"
start_control "$TMP/control.out" --rt soak-rt --slo 500 --state "$STATE"

# 4. the exporter's RSS and descriptors, every 10 s until the end
(t0=$(date +%s)
while kill -0 "$XP" 2>/dev/null && [ ! -e "$TMP/stop" ]; do
	t=$(($(date +%s) - t0))
	echo "$t $(awk '/^VmRSS/ {print $2}' /proc/$XP/status) $(ls /proc/$XP/fd | wc -l)"
	# progress, for whoever watches the log (the nested host's comes back
	# at the end only, but build/nested/out.*/log shows it as it goes)
	[ $((t % 300)) -lt 10 ] && echo "soak: ${t} s, $(cat "$TMP"/manifest.* 2>/dev/null | wc -l) VMs so far" >&2
	sleep 10
done >"$TMP/curve") &
SAMPLER=$!

# 5. the churn, while soak-rt runs: two lanes, a VM after another in each
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
lane() { # lane N: its VMs, in turn of kind, until soak-rt has ended; each
	# VM bounded (timeout: a VM stuck in KVM_RUN fails the soak, not hangs it)
	local k=0 name pid out rc
	while kill -0 "$RT" 2>/dev/null; do
		k=$((k + 1))
		case $((k % 4)) in
		0 | 1) # kvmrt-guest, a plain name or a hostile one
			name="soak-$1-$k"
			[ $((k % 4)) = 1 ] && name=$'soak\n\xff) "q\\ '"$1-$k"
			out="$TMP/g-$1-$k.json"
			timeout -k 5 120 "$GUEST" -m msi -r 200 -d $((2 + k % 3)) -q --name "$name" \
				--json="$out" 2>>"$TMP/churn.err" &
			pid=$!
			printf 'guest %s %s %s\n' "$pid" "$(hex "$name")" "$out" >>"$TMP/manifest.$1"
			;;
		2 | 3) # the tests' VMM: Firecracker's thread names, or hostile ones
			name="soak-vmm-$1-$k"
			out="$TMP/v-$1-$k.out"
			if [ $((k % 4)) = 2 ]; then
				timeout -k 5 120 "$B/tests/vmm" --name "$name" -d 3 "$B/rtguest-lapic.bin" \
					>"$out" 2>>"$TMP/churn.err" &
			else
				name=$'vmm\n\xff) x ('"$1-$k"
				timeout -k 5 120 "$B/tests/vmm" --comm ') R 1 1 (' --vcpu-name $'\n\xff) x (' \
					--name "$name" -d 3 "$B/rtguest-lapic.bin" >"$out" 2>>"$TMP/churn.err" &
			fi
			pid=$!
			printf 'vmm %s %s %s\n' "$pid" "$(hex "$name")" "$out" >>"$TMP/manifest.$1"
			;;
		esac
		wait "$pid"
		rc=$?
		[ $rc = 0 ] || echo "lane $1, VM $k: exit $rc (124, 137: not ended in 120 s)" >>"$TMP/churn.err"
	done
}
lane 1 &
L1=$!
lane 2 &
L2=$!
BG_PIDS+=("$L1" "$L2")

# 6. the end: soak-rt ends after SOAK_MIN minutes (bounded: 5 min more);
#    its controller by itself
for _ in $(seq $((SOAK_S + 300))); do kill -0 "$RT" 2>/dev/null || break; sleep 1; done
kill -0 "$RT" 2>/dev/null && { echo "soak: soak-rt still runs 5 min past its end: killed"; kill -9 "$RT"; }
wait "$RT"
for _ in $(seq 600); do kill -0 "$cp" 2>/dev/null || break; sleep 0.1; done
kill -0 "$cp" 2>/dev/null && { echo "(still running 60 s after its VM: killed)" >>"$TMP/control.out"; kill "$cp"; }
wait "$cp"
rc=$?
wait "$L1" "$L2"
echo "  control's summary:"
sed -n '/^kvmrt control: /,$p' "$TMP/control.out" | sed 's/^/  /'
grep -E 'escalat|shield|static' "$TMP/control.out" | head -5 | sed 's/^/  log: /'
check "control's summary: no count went backwards (none wrapped to 16 digits or more)" \
	bash -c "! grep -E '[0-9]{16,}' '$TMP/control.out'"
check "control --slo (no -d): ran the whole soak, ended by itself when its VM did, exit 0" bash -c \
	"test $rc = 0 && grep -q 'every vCPU thread it managed is gone: stopping' '$TMP/control.out' ||
	{ tail -5 '$TMP/control.out'; exit 1; }"
$SNAP snapshot "$TMP/after.json"
check "every thread's policy, affinity and cpuset as before" $SNAP compare "$TMP/before.json" "$TMP/after.json"
check "every VM of the churn ran without an error" bash -c "test ! -s '$TMP/churn.err' || { head -5 '$TMP/churn.err'; exit 1; }"
cat "$TMP"/manifest.* >>"$TMP/manifest"
nvm=$(wc -l <"$TMP/manifest")
check "VMs started and stopped over the run: $nvm" test "$nvm" -gt $((SOAK_MIN * 5))

# the VMs' last series: collected (-i 1) and scraped (1 s) before the grace
sleep 8 # within the grace (15 s)
check "every interrupt of every VM counted exactly (Prometheus against each guest)" \
	$CHECK counts "127.0.0.1:$PROM_PORT" "$TMP/manifest"
if [ -n "${SOAK_GRACE:-}" ]; then
	curl -sf "http://127.0.0.1:$PORT/metrics" >"$TMP/last.metrics"
	check "every interrupt of every VM counted exactly (the exporter's last page against each guest)" \
		$CHECK counts "$TMP/last.metrics" "$TMP/manifest"
fi
promq() { # promq QUERY: its one value
	curl -sf "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1" |
		python3 -c 'import json, sys; r = json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")'
}
check "Prometheus scraped the exporter every $SCRAPE, every time (up never 0; its scrapes took $(promq 'quantile_over_time(0.5, scrape_duration_seconds[3h])') s median, $(promq 'max_over_time(scrape_duration_seconds[3h])') s max)" \
	test "$(promq 'min_over_time(up[3h])')" = 1
kill "$SCRAPERS"
wait "$SCRAPERS"
rc=$?
check "50 clients scraping every second: no scrape failed ($(cat "$TMP/scrapers.out"))" test $rc = 0
kill "$PROM" # its connection closed before the descriptors are counted
wait "$PROM"

# 7. after the grace: nothing of them left
sleep $((GRACE + 3 - 8))
touch "$TMP/stop"
wait "$SAMPLER"
curl -sf "http://127.0.0.1:$PORT/metrics" >"$TMP/after.metrics"
check "after the grace: no series of a gone VM" bash -c \
	'grep -q "^kvmrt_build_info" "$1" && ! grep -m 3 "vm=\"\(soak\|vmm\)" "$1"' _ "$TMP/after.metrics"
for map in vcpus threads vms exits apicv; do
	n=$(bpf_map_entries $map "$first_map")
	check "after the grace: the exporter's $map map is empty (${n:-not found})" test "${n:-x}" = 0
done
fds_after=$(ls /proc/$XP/fd | wc -l)
ls -l /proc/$XP/fd | awk '{print $NF}' | sort >"$TMP/fds.after"
check "the exporter holds as many descriptors as before the VMs ($fds_before -> $fds_after)" \
	bash -c "test $fds_before = $fds_after || diff '$TMP/fds.before' '$TMP/fds.after'"
$CHECK curve "$TMP/curve" >"$TMP/curve.txt" 2>&1
rc=$?
sed 's/^/  /' "$TMP/curve.txt"
check "the exporter's RSS is flat after the first minutes ($(tail -1 "$TMP/curve.txt"))" test $rc = 0
kill "$XP"
wait "$XP"
check "the exporter ends well (exit 0)" test $? = 0
summary
