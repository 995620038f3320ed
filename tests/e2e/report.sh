#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kvmrt report: recordings of real guests (made with tools/kvmrt-record,
# through tracefs) against a live kvmrt trace over the same time, the two
# recording formats against each other, hand-written VMX/SVM recordings
# against the figures the kernel's order implies, bad input, and the
# readers fuzzed under ASan. Needs root and /dev/kvm.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
CHECK="python3 tests/e2e/report_check.py"
RECORD=tools/kvmrt-record
ASAN_KVMRT=$B/asan/kvmrt

if [ "$(id -u)" != 0 ]; then
	echo "report: needs root"
	exit 1
fi

# record_start DAT TXT: record until record_stop (both formats at once), in
# the background, once it records
# (its command runs when the events are on: it says so by a file)
record_start() {
	local i
	rm -f "$TMP/stop" "$TMP/recording"
	"$RECORD" -o "$1" --text "$2" -- bash -c "touch '$TMP/recording'
		while [ ! -e '$TMP/stop' ]; do sleep 0.05; done" 2>"$1.err" &
	REC_PID=$!
	BG_PIDS+=("$REC_PID")
	for i in $(seq 600); do
		[ -e "$TMP/recording" ] && return 0
		sleep 0.1
	done
	echo "kvmrt-record did not start: $(cat "$1.err")" >&2
}
# vcpu_ran PID N: until a vCPU thread of PID (QEMU's "CPU n/KVM") has run
# N times (schedstat's timeslices: the timer guest wakes it each tick),
# however slowly the machine starts QEMU; 120 s at most
vcpu_ran() {
	local i t
	for i in $(seq 1200); do
		for t in /proc/"$1"/task/*; do
			grep -q '^CPU [0-9]*/KVM' "$t/comm" 2>/dev/null || continue
			[ "$(awk '{print $3}' "$t/schedstat" 2>/dev/null)" -ge "$2" ] 2>/dev/null && return 0
		done
		sleep 0.1
	done
	echo "QEMU's vCPU did not run $2 times in 120 s" >&2
	return 1
}
record_stop() {
	touch "$TMP/stop"
	wait "$REC_PID"
}

# what kvmrt-record changes and must put back, tracefs's mount included
# (a fresh host has none: what mounts it must unmount it)
TR=/sys/kernel/tracing
tracefs_state() {
	local t=$TR
	if ! mountpoint -q $t; then
		echo "tracefs not mounted at $t"
		return
	fi
	cat $t/trace_clock $t/options/record-tgid $t/options/irq-info $t/options/markers \
		$t/saved_cmdlines_size $t/tracing_on $t/per_cpu/cpu*/buffer_size_kb \
		$t/events/kvm/*/enable $t/events/sched/sched_switch/enable \
		$t/events/sched/sched_waking/enable $t/events/timer/*/enable
}
tracefs_state >"$TMP/tracefs.before"

if needs_kvm "1-2: recordings of kvmrt-guest and QEMU against live traces"; then
	# 1. kvmrt-guest, each way it injects, while a live trace and a recording
	#    run: the report counts what the trace counted, episode by episode.
	#    The guests start after both and end before: both see all of them.
	#    On CPU 0: this host's ftrace drops switches out of CPU 1's idle task
	#    (BPF sees them), which would take the queue stage from the report.
	record_start "$TMP/g.dat" "$TMP/g.txt"
	if start_trace "$TMP/live.json" -T 0.001; then
		pids=()
		for mode in timer msi pic; do
			"$GUEST" -m "$mode" -r 1000 -d 1.2 -C 0 -q &
			pids+=($!)
			wait $!
		done
		stop_trace
	fi
	record_stop
	"$KVMRT" report -i "$TMP/g.dat" -T 0.001 -q --json="$TMP/rep.json" 2>"$TMP/rep.err"
	check "trace.dat: read, exit 0" test $? = 0
	"$KVMRT" report -i "$TMP/g.txt" -T 0.001 -q --json="$TMP/rept.json" 2>"$TMP/rept.err"
	check "tracefs text: read, exit 0" test $? = 0
	check "kvmrt-guest: report counts = live counts (VM, vCPU, source)" \
		$CHECK counts "$TMP/live.json" "$TMP/rep.json" "${pids[@]}"
	check "kvmrt-guest: live episodes in the report, stages within 2 us (90%: this nested guest is preempted between ftrace's timestamp and the BPF clock read of one event)" \
		$CHECK episodes "$TMP/live.json" "$TMP/rep.json" 2000 0.9
	check "trace.dat and text: the same counts" \
		$CHECK counts "$TMP/rep.json" "$TMP/rept.json"
	check "trace.dat and text: every episode, stages within the text's 1 us" \
		$CHECK episodes "$TMP/rep.json" "$TMP/rept.json" 1000 1
	sed -E 's/^(.{16}-[0-9]+ +\([ 0-9-]+\) \[[0-9]+\]) [^ ]+ /\1 /' "$TMP/g.txt" >"$TMP/noirq.txt"
	"$KVMRT" report -i "$TMP/noirq.txt" -T 0.001 -q --json="$TMP/repn.json" 2>"$TMP/repn.err"
	check "text without the irq-info column: every episode the same" \
		$CHECK episodes "$TMP/rept.json" "$TMP/repn.json" 0 1
	# what most people record: kvm:* alone
	same_without_sched() { # FULL_JSON TXT OUT_JSON: counts and response as the full one's
		grep -v ': sched_' "$2" >"$2.kvm"
		"$KVMRT" report -i "$2.kvm" -T 0.001 -q --json="$3" 2>/dev/null &&
			$CHECK counts "$1" "$3" && python3 -c "
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
r = lambda d: sorted((vm['pid'], v['vcpu'], v['response']['count'], v['response']['max_ns'])
                     for vm in d['vms'] for v in vm['vcpus'])
assert r(a) == r(b), (r(a), r(b))
print('response counts and maxima equal')" "$1" "$3"
	}
	check "kvm:* alone: the whole recording's counts and response" \
		same_without_sched "$TMP/rept.json" "$TMP/g.txt" "$TMP/repk.json"
	check "text output: the same VMs and outliers as JSON" bash -c "
		\"$KVMRT\" report -i \"$TMP/g.dat\" -T 0.001 >\"$TMP/rep.txt\" 2>&1 &&
		grep -q '^kvmrt report: ' \"$TMP/rep.txt\" &&
		[ \$(grep -c '^outlier: ' \"$TMP/rep.txt\") = \$(python3 -c \"import json; print(json.load(open('$TMP/rep.json'))['outliers_total'])\") ]"

	# 2. Unmodified QEMU (LAPIC timer firmware), the same way
	record_start "$TMP/q.dat" "$TMP/q.txt"
	if start_trace "$TMP/qlive.json" -T 0.001; then
		taskset -c 0 qemu-system-x86_64 -accel kvm -name "guest=rep-qemu,debug-threads=on" \
			-bios "$B/rtguest-lapic.bin" -m 16 -display none -nodefaults -no-reboot \
			2>"$TMP/qemu.err" &
		qpid=$!
		BG_PIDS+=("$qpid")
		vcpu_ran "$qpid" 1000
		kill "$qpid"
		wait "$qpid" 2>/dev/null
		stop_trace
	fi
	record_stop
	"$KVMRT" report -i "$TMP/q.dat" -T 0.001 -q --json="$TMP/qrep.json" 2>"$TMP/qrep.err"
	check "QEMU: report counts = live counts" $CHECK counts "$TMP/qlive.json" "$TMP/qrep.json" "$qpid"
	check "QEMU: live episodes in the report, stages within 2 us (90%)" \
		$CHECK episodes "$TMP/qlive.json" "$TMP/qrep.json" 2000 0.9
	"$KVMRT" report -i "$TMP/q.txt" -T 0.001 -q --json="$TMP/qrept.json" 2>/dev/null
	check "QEMU, kvm:* alone: the whole recording's counts and response" \
		same_without_sched "$TMP/qrept.json" "$TMP/q.txt" "$TMP/qrepk.json"
else
	# what section 4 cuts into bad input: a hand-written recording (text)
	# and, without a guest to record, this host's scheduler (trace.dat)
	cp tests/recordings/vmx-msi.txt "$TMP/g.txt"
	"$RECORD" -o "$TMP/g.dat" -- sleep 0.3 2>"$TMP/g.dat.err"
	check "kvmrt-record of the scheduler alone: read, exit 0" \
		"$KVMRT" report -i "$TMP/g.dat" -q --json="$TMP/rep.json"
fi

# 3. Hand-written recordings of hosts this one is not (VMX, SVM), in the
#    kernel's order: the figures that order implies.
#    And each as people also record and paste it (tests/recordings/formats.py
#    renders it from each tool's and kernel's print formats): without the
#    tgid column (a VM inferred), without the irq-info flags, with kvm:*
#    events alone (no scheduler), as trace-cmd report (also -l) and perf
#    script (also pid/tid) print it, with libtraceevent's plugins'
#    payloads, with 3.10's and 2.6's payloads: the same figures, but for
#    what needs what is left out.
derive() { # derive KIND IN OUT
	case $1 in
	notgid) sed 's/ ([ 0-9-]*) \[/ [/' "$2" >"$3" ;;
	noirqinfo) sed -E 's/^(.{16}-[0-9]+ +\([ 0-9-]+\) \[[0-9]+\]) [^ ]+ /\1 /' "$2" >"$3" ;;
	kvm) sed 's/ ([ 0-9-]*) \[/ [/' "$2" | grep -v ': sched_' >"$3" ;;
	*) python3 tests/recordings/formats.py "$1" "$2" "$3" ;;
	esac
}
FORMS="notgid noirqinfo kvm trace-cmd latency perf perf-pidtid trace-cmd+plugin perf+plugin
	perf-pidtid+plugin tracefs+old latency+old"
same_in_every_form() { # TRACE FORMS...: each form's report has the trace's figures
	local f=$1 kind bad=""
	shift
	for kind in "$@"; do
		derive "$kind" "$f" "$TMP/tr-form.txt" &&
			# shellcheck disable=SC2046 # options the recording asks for, word-split
			"$KVMRT" report -i "$TMP/tr-form.txt" -T 0.001 -q --json="$TMP/tr-form.json" \
				$(sed -n 's/^# report-args //p' "$f") 2>"$TMP/tr-form.err" &&
			$CHECK expect "$f" "$TMP/tr-form.json" "$kind" >"$TMP/tr-form.out" 2>&1 ||
			bad="$bad $kind: $(cat "$TMP/tr-form.err" "$TMP/tr-form.out" 2>/dev/null | tail -1);"
	done
	[ -z "$bad" ] || { echo "$bad"; return 1; }
	echo "$# forms"
}
for f in tests/recordings/*.txt; do
	n=$(basename "$f" .txt)
	# shellcheck disable=SC2046 # options the recording asks for, word-split
	"$KVMRT" report -i "$f" -T 0.001 -q --json="$TMP/tr.json" \
		$(sed -n 's/^# report-args //p' "$f") 2>"$TMP/tr.err"
	check "$n: as the kernel's order implies" $CHECK expect "$f" "$TMP/tr.json"
	forms=$FORMS
	# 2.6 named a few VMX exits (the others print as numbers, of no ISA)
	grep -q 'kvm_exit: .*reason \(HLT\|MSR_WRITE\|EXTERNAL_INTERRUPT\|APIC_ACCESS\) ' "$f" &&
		forms="$forms tracefs+2.6 trace-cmd+2.6"
	# recorded without tgids: perf always has them (pid/tid), so its
	# pid/tid form would invent one process per thread
	grep -q ' ( *[0-9][0-9]*) \[' "$f" || forms=$(printf '%s\n' $forms | grep -v perf-pidtid)
	# shellcheck disable=SC2086 # the forms, word-split
	check "$n: the same figures in every form people record" same_in_every_form "$f" $forms
done

# 3b. The auto-analysis (-a). What it reads, recorded on this host for real
#     (kvmrt-record -a: hard irqs, softirqs from 5000 loopback UDP
#     datagrams, the tick and IPIs): kvmrt's trace.dat reader, its text
#     reader on tracefs' text and on trace-cmd report's, and trace-cmd
#     report itself (another reader) count the same events of each kind.
cat >"$TMP/udp.py" <<'PY'
import socket
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r.bind(("127.0.0.1", 0))
r.setblocking(False)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(5000):  # a count, not a time: each one raises NET_RX
    s.sendto(b"x" * 64, r.getsockname())
    try:
        while True:
            r.recv(100)
    except BlockingIOError:
        pass
PY
"$RECORD" -a -o "$TMP/a.dat" --text "$TMP/a.txt" -- python3 "$TMP/udp.py" 2>"$TMP/a.err"
trace-cmd report -i "$TMP/a.dat" >"$TMP/a-tc.txt" 2>/dev/null
same_events() { # the events_read of kvmrt report on each, and trace-cmd's counts
	local f
	for f in "$TMP/a.dat" "$TMP/a.txt" "$TMP/a-tc.txt"; do
		"$KVMRT" report -i "$f" -q --json="$f.json" 2>/dev/null || { echo "$f: not read"; return 1; }
	done
	python3 - "$TMP" <<'PY'
import collections, json, re, sys
t = sys.argv[1]
tc = collections.Counter()
for line in open(f"{t}/a-tc.txt"):
    m = re.search(r" ([a-z_]+): ", line)
    if not m:
        continue
    ev = m.group(1)
    if re.match(r"(local_timer|reschedule|call_function|call_function_single|irq_work|"
                r"x86_platform_ipi|error_apic|spurious_apic|thermal_apic|threshold_apic|"
                r"deferred_error_apic)_(entry|exit)$", ev):
        ev = "irq_vectors_" + ev.rsplit("_", 1)[1]
    tc[ev] += 1
reads = [json.load(open(f"{t}/{n}.json"))["events_read"] for n in ("a.dat", "a.txt", "a-tc.txt")]
kinds = ("irq_handler_entry", "irq_handler_exit", "softirq_entry", "softirq_exit",
         "irq_vectors_entry", "irq_vectors_exit", "sched_switch")
want = {k: tc[k] for k in kinds}
if want["softirq_entry"] < 1:  # 5000 datagrams sent: NET_RX ran at least once
    sys.exit(f"the recording holds no softirq: {want}")
for name, r in zip(("trace.dat", "tracefs text", "trace-cmd report text"), reads):
    got = {k: r.get(k, 0) for k in kinds}
    if got != want:
        sys.exit(f"{name}: {got}, trace-cmd: {want}")
print(want)
PY
}
check "kvmrt-record -a: irqs, softirqs, vectors read alike from trace.dat, tracefs and trace-cmd text" \
	same_events
check "kvmrt-record -a put tracefs back as it was" diff "$TMP/tracefs.before" <(tracefs_state)

#     The breakdown itself, from a hand-written VMX recording with every
#     kind of interference (tests/recordings/vmx-interference.txt): each
#     outlier's stages in parts that add up to them, exactly the parts its
#     events imply, in every form people record it but trace-cmd report -l
#     (it cuts comms to 8 characters: the injector's name is cut).
causes_in_every_form() {
	local f=tests/recordings/vmx-interference.txt kind bad=""
	for kind in tracefs trace-cmd perf perf-pidtid noirqinfo notgid tracefs+old trace-cmd+plugin \
		perf+plugin; do
		if [ $kind = tracefs ]; then cp $f "$TMP/c-form.txt"; else derive $kind $f "$TMP/c-form.txt"; fi
		"$KVMRT" report -i "$TMP/c-form.txt" -a -T 100 -q --json="$TMP/c-form.json" 2>/dev/null &&
			$CHECK causes $f "$TMP/c-form.json" >"$TMP/c-form.out" 2>&1 ||
			bad="$bad $kind: $(tail -1 "$TMP/c-form.out" 2>/dev/null);"
	done
	[ -z "$bad" ] || { echo "$bad"; return 1; }
}
check "report -a: threads, softirq (irq nested), tick, NMI, exits, the VMM; parts add up" \
	causes_in_every_form
check "report -a: text names the causes on the outlier's line and where the tail went" bash -c '
	out=$("$1" report -i tests/recordings/vmx-interference.txt -a -T 100 2>/dev/null)
	echo "$out" | grep -q "causes: wake qemu-system-x86\[1001\] 1.0; queue stress-ng\[4242\] 222.0, softirq NET_RX 60.0" &&
	echo "$out" | grep -q "where the tail went (1 outliers, 0.4 ms): 53% stress-ng\[4242\]" ||
		{ echo "$out" | head -3; exit 1; }' _ "$KVMRT"
check "-h is --help in every command, -H is --hist (exit 0, usage on stdout)" bash -c '
	for c in trace report top export control; do
		"$1" $c -h 2>/dev/null | grep -q "^Usage: kvmrt $c" || { echo "$c -h"; exit 1; }
	done
	"$1" report -i tests/recordings/vmx-msi.txt -H 2>/dev/null | grep -q "response (us)" &&
		"$1" report -i tests/recordings/vmx-msi.txt --hist 2>/dev/null | grep -q "response (us)" ||
		{ echo "report -H"; exit 1; }' _ "$KVMRT"
if ! kvm_here; then # make demo without /dev/kvm: the report of a bundled recording
	check "make demo without /dev/kvm: kvmrt report -a on a bundled VMX recording" bash -c \
		'out=$(bash guest/demo.sh 2>&1); grep -q "causes: wake" <<<"$out" &&
		grep -q "where the tail went" <<<"$out" && grep -q "response (us) : count" <<<"$out"'
fi
slowest_explained() { # without -T, -a explains each vCPU's slowest 1%
	local f
	for f in tests/recordings/*.txt; do
		"$KVMRT" report -i "$f" -a -q --json="$TMP/p99a.json" 2>/dev/null &&
			"$KVMRT" report -i "$f" -q --json="$TMP/p99.json" 2>/dev/null &&
			$CHECK p99 "$TMP/p99a.json" "$TMP/p99.json" >/dev/null ||
			{ echo "$f: $($CHECK p99 "$TMP/p99a.json" "$TMP/p99.json")"; return 1; }
	done
}
check "report -a without -T: each vCPU's slowest 1% explained, every other figure unchanged" \
	slowest_explained

# 4. Bad input: one line on stderr, exit 1 (2 for usage), no JSON written
head -c 4096 /dev/urandom >"$TMP/random.bin"
head -c $(($(stat -c %s "$TMP/g.dat") / 2)) "$TMP/g.dat" >"$TMP/half.dat"
grep -m 400 ': ' "$TMP/g.txt" >"$TMP/cut.txt"
cut_at=$(($(wc -l <"$TMP/cut.txt") + 1))
grep -m 1 'kvm_apic_accept_irq' "$TMP/g.txt" | sed 's/ vec .*/ ve/' >>"$TMP/cut.txt" # cut mid-field
grep -v 'sched_waking' "$TMP/g.txt" >"$TMP/nowaking.txt"
sed 's/ ([ 0-9-]*) \[/ [/' "$TMP/g.txt" >"$TMP/notgid.txt"
bad_input() {
	local want=$1 name=$2
	shift 2
	rm -f "$TMP/bad.json"
	check "$name: exit $want, one line, no JSON" bash -c '
		out=$("$@" 2>&1 >/dev/null); rc=$?
		[ $rc = '"$want"' ] && [ $(printf "%s\n" "$out" | wc -l) = 1 ] && [ ! -s "'"$TMP"'/bad.json" ] ||
			{ echo "rc $rc: $out"; exit 1; }; echo "$out"' _ "$@"
}
bad_input 1 "not a trace" "$KVMRT" report -i "$TMP/random.bin" --json="$TMP/bad.json"
bad_input 1 "a text file that is no trace" "$KVMRT" report -i /etc/passwd --json="$TMP/bad.json"
bad_input 1 "truncated trace.dat" "$KVMRT" report -i "$TMP/half.dat" --json="$TMP/bad.json"
bad_input 1 "text line cut mid-field" "$KVMRT" report -i "$TMP/cut.txt" --json="$TMP/bad.json"
check "the cut line is named" grep -q "line $cut_at: kvm_apic_accept_irq" <("$KVMRT" report -i "$TMP/cut.txt" 2>&1)
# what a recording lacks is said, not refused
check "without sched_waking: read, the wake not observable, said in one line" bash -c "
	'$KVMRT' report -i '$TMP/nowaking.txt' >'$TMP/nw.out' 2>'$TMP/nw.err' &&
	grep -q '^observable:.*; not observable in this recording:.* wake' '$TMP/nw.out' &&
	[ \$(grep -c 'lacks sched:sched_waking' '$TMP/nw.err') = 1 ] || { cat '$TMP/nw.err'; exit 1; }"
# (one VM in the bundled recording; the live one holds three guests)
check "without tgids: read, the VMs inferred, said in one line" bash -c "
	'$KVMRT' report -i '$TMP/notgid.txt' >/dev/null 2>'$TMP/nt.err' &&
	[ \$(grep -c 'has no tgids' '$TMP/nt.err') = 1 ] || { cat '$TMP/nt.err'; exit 1; }"
if needs_kvm "a guest in a trace.dat without tgids"; then
	# a trace.dat recorded without kvmrt-record's tgid lines: what trace-cmd
	# alone saves (tracefs put back as it was, unmounted if it was)
	mounted_here=0
	mountpoint -q $TR || { mount -t tracefs nodev $TR && mounted_here=1; }
	old_tgid=$(cat $TR/options/record-tgid)
	echo 0 >$TR/options/record-tgid
	echo > $TR/trace
	NT_EVENTS="kvm/kvm_apic_accept_irq kvm/kvm_inj_virq kvm/kvm_eoi sched/sched_switch
		sched/sched_waking timer/hrtimer_expire_entry"
	for e in $NT_EVENTS; do echo 1 >$TR/events/$e/enable; done
	"$GUEST" -m timer -r 1000 -c 300 -q --json="$TMP/ntg.json"
	for e in $NT_EVENTS; do echo 0 >$TR/events/$e/enable; done
	trace-cmd extract -o "$TMP/notgid.dat" >/dev/null 2>&1
	echo "$old_tgid" >$TR/options/record-tgid
	echo > $TR/trace
	[ $mounted_here = 0 ] || umount $TR
	"$KVMRT" report -i "$TMP/notgid.dat" -T 0.001 -q --json="$TMP/notgid.json" 2>"$TMP/notgid.err"
	check "trace.dat without tgids (trace-cmd alone): read, one VM inferred" \
		bash -c "grep -q 'one VM inferred' $TMP/notgid.err || { cat $TMP/notgid.err; exit 1; }"
	# each tick the guest acked ended one episode; on a host that shows
	# delivery (VMX, SVM) one accepted while the last is in service is a
	# second episode, not a coalesced one, so the two counts are equal
	check "  ... one VM, every tick the guest acked completed once" python3 -c "
import json
d, g = json.load(open('$TMP/notgid.json')), json.load(open('$TMP/ntg.json'))
assert len(d['vms']) == 1, d['vms']
v = d['vms'][0]['vcpus'][0]
inj = v['injections']
assert inj['total'] - inj['completed'] - inj['coalesced'] - inj['unfinished'] in (0, 1, 2), inj
if v['delivery']['count']:
    assert inj['completed'] == g['acked'], (inj, g['acked'])
print(inj['completed'], 'completed,', g['acked'], 'acked;', inj)"
fi
bad_input 1 "no such file" "$KVMRT" report -i "$TMP/nope.dat" --json="$TMP/bad.json"
bad_input 2 "no -i" "$KVMRT" report --json="$TMP/bad.json"
bad_input 2 "bad threshold" "$KVMRT" report -i "$TMP/g.dat" -T abc --json="$TMP/bad.json"
# the one list of tracepoints: kvmrt-record enables each of them
TPS=$(sed -n 's/^\tX([A-Z_]*, \([a-z]*\), \([a-z_]*\)).*/\1\/\2/p' include/tracepoints.h)
check "kvmrt-record enables each of include/tracepoints.h's $(echo $TPS | wc -w) tracepoints" \
	bash -c "[ -n '$TPS' ] && for t in $(echo $TPS); do grep -qw \"\$t\" '$RECORD' || { echo \"not enabled: \$t\"; exit 1; }; done"

# 5. The readers under ASan and UBSan: truncations, flipped bytes and cut
#    lines of both formats; any exit but 0 or 1, or a sanitizer report, fails.
#    (Damaged event formats crash Debian's libtraceevent in tep_parse_event:
#    kvmrt reads a trace.dat in a child first, and refuses it if that dies.)
if kvm_here; then
	"$RECORD" -o "$TMP/small.dat" --text "$TMP/small.txt" -- "$GUEST" -m timer -r 1000 -d 0.2 -q 2>/dev/null
else # the recordings above
	cp "$TMP/g.dat" "$TMP/small.dat"
	cp "$TMP/g.txt" "$TMP/small.txt"
fi
check "fuzzed readers (ASan, UBSan): no crash, exit 0 or 1" \
	python3 tests/fuzz/fuzz_report.py "$ASAN_KVMRT" "$TMP/small.dat" "$TMP/small.txt" 30 200 "$TMP/fuzz"
# the auto-analysis under ASan and UBSan: the hand-written recordings, and
# the real one of irqs, softirqs and vectors (3b), each fuzzed too
asan_analysis() {
	local f out
	# leaks of the libraries' own (libtraceevent keeps a few bytes of the
	# formats it parses) are theirs, not kvmrt's
	printf 'leak:libtraceevent.so\nleak:libtracecmd.so\n' >"$TMP/lsan.supp"
	for f in tests/recordings/*.txt "$TMP/a.txt" "$TMP/a.dat"; do
		out=$(ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions="$TMP/lsan.supp" \
			UBSAN_OPTIONS=halt_on_error=1 \
			"$ASAN_KVMRT" report -i "$f" -a -T 1 -q --json=/dev/null 2>&1) ||
			{ echo "$f: $out" | tail -3; return 1; }
	done
}
check "report -a under ASan, UBSan: every recording, no error" asan_analysis
check "fuzzed readers with -a (ASan, UBSan): no crash, exit 0 or 1" \
	python3 tests/fuzz/fuzz_report.py "$ASAN_KVMRT" "$TMP/small.dat" \
	tests/recordings/vmx-interference.txt 10 150 "$TMP/fuzz-a" -a

tracefs_state >"$TMP/tracefs.after"
check "kvmrt-record put tracefs back as it was" diff "$TMP/tracefs.before" "$TMP/tracefs.after"

summary
