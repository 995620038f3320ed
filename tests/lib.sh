# SPDX-License-Identifier: GPL-2.0
# Helpers for the end-to-end tests: run kvmrt and kvmrt-guest for real,
# count passes and failures, print "N passed, N failed" at the end.

B=${B:-build}
KVMRT=$B/kvmrt
GUEST=$B/kvmrt-guest
TMP=$(mktemp -d /tmp/kvmrt-e2e.XXXXXX)
PASSED=0
FAILED=0
SKIPPED=0
BG_PIDS=()

cleanup() {
	local p
	for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	sleep 0.3
	for p in "${BG_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

ok() { PASSED=$((PASSED + 1)); echo "ok   - $*"; }
not_ok() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }

# check NAME CMD...: one test, passing when CMD succeeds; its output is shown on failure
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$name${out:+: $out}"
	else
		not_ok "$name: $out"
	fi
}

# start_trace JSON ARGS...: kvmrt trace in the background, once it is attached
start_trace() {
	local json=$1 i
	shift
	"$KVMRT" trace "$@" --json="$json" >"$json.out" 2>"$json.err" &
	TRACE_PID=$!
	BG_PIDS+=("$TRACE_PID")
	for i in $(seq 600); do # loading takes long where the CPU is emulated
		grep -q "tracing" "$json.err" 2>/dev/null && return 0
		kill -0 "$TRACE_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "kvmrt trace did not start:" >&2
	cat "$json.err" >&2
	return 1
}

# hogs CPU: two CPU hogs pinned to CPU, their pids in h1 and h2; they run
# until killed (however slow the machine, they outlast what they load)
hogs() {
	"$B/tests/hog" 3600 &
	h1=$!
	"$B/tests/hog" 3600 &
	h2=$!
	BG_PIDS+=("$h1" "$h2")
	taskset -pc "$1" "$h1" >/dev/null
	taskset -pc "$1" "$h2" >/dev/null
}
# guest_pid JSON: the pid in kvmrt-guest's --json
guest_pid() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['pid'])" "$1"; }
# stop_trace: end it like Ctrl-C does, and wait for its report
stop_trace() {
	kill -INT "$TRACE_PID" 2>/dev/null
	wait "$TRACE_PID"
	TRACE_RC=$?
}

# bad RC CMD...: CMD fails with exit status RC and one line on stderr
bad() {
	local want=$1 out rc
	shift
	out=$("$@" 2>&1 >/dev/null)
	rc=$?
	[ "$rc" = "$want" ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && [ -n "$out" ] ||
		{ echo "rc $rc, stderr: $out"; return 1; }
}
summary() {
	echo "$(basename "$0" .sh): $PASSED passed, $FAILED failed, $SKIPPED skipped"
	[ "$FAILED" -eq 0 ]
}

# Real guests need KVM. A host without /dev/kvm (a container, a VM whose
# hypervisor offers no nested virtualization) cannot run one: the parts of
# a suite that run guests are skipped there, each said with the reason and
# counted in the summary. KVMRT_NEED_KVM=1 (a host that has KVM) makes its
# absence a failure instead.
kvm_here() { [ -c /dev/kvm ] && [ -w /dev/kvm ]; }
kvm_why() {
	local why
	why=$(dmesg 2>/dev/null | grep -m 1 -o 'kvm[-_a-z]*: .*not binding.*')
	echo "no /dev/kvm on this host${why:+ ($why)}"
}
# needs_kvm WHAT: true with KVM; without, WHAT (a part of the suite) is
# skipped (false), or fails under KVMRT_NEED_KVM=1
needs_kvm() {
	kvm_here && return 0
	if [ "${KVMRT_NEED_KVM:-0}" = 1 ]; then
		not_ok "$1: $(kvm_why), and KVMRT_NEED_KVM=1"
	else
		SKIPPED=$((SKIPPED + 1))
		echo "skip - $1: $(kvm_why)"
	fi
	return 1
}
# whole_suite_needs_kvm: the suite runs guests throughout
whole_suite_needs_kvm() {
	needs_kvm "every check of $(basename "$0" .sh) (it runs KVM guests)" && return 0
	summary
	exit
}

# on_nested_host SUITE SECONDS [VAR=VALUE...]: run SUITE (with VARs set) on the nested host (Debian 12's
# kernel under QEMU on an emulated AMD CPU, where kvm-amd gives a /dev/kvm:
# tests/nested/run.sh), its lines ours, then this suite's summary. QEMU's
# emulation of a nested SVM host has been seen to freeze, rarely: a run that
# froze (126) or timed out (124) is tried once more. The caller exits after it.
on_nested_host() {
	local suite=$1 secs=$2 out rc
	shift 2
	out=$(bash tests/nested/run.sh -t "$secs" env "$@" bash "$suite" 2>&1)
	rc=$?
	if [ $rc = 124 ] || [ $rc = 126 ]; then
		printf '%s\n' "$out" | tail -1
		echo "the nested host $([ $rc = 124 ] && echo timed out || echo froze): once more"
		out=$(bash tests/nested/run.sh -t "$secs" env "$@" bash "$suite" 2>&1)
		rc=$?
	fi
	printf '%s\n' "$out" | grep -v "^$(basename "$suite" .sh): [0-9]* passed"
	PASSED=$(printf '%s\n' "$out" | grep -c '^ok   - ')
	FAILED=$(printf '%s\n' "$out" | grep -c '^FAIL - ')
	SKIPPED=$(printf '%s\n' "$out" | grep -c '^skip - ')
	# a suite that died there without a FAIL line (killed, out of memory)
	# fails here too; 124/125: timed out, or the host did not come up
	[ $rc = 0 ] || [ "$FAILED" -gt 0 ] ||
		not_ok "the nested host (Debian 12's kernel under QEMU) ran $suite to its end (exit $rc)"
	summary
}
# nested_unless_kvm SUITE SECONDS [VAR=VALUE...]: without /dev/kvm here,
# SUITE runs on the nested host instead and this script ends with its summary
nested_unless_kvm() {
	if kvm_here || [ -n "${NESTED_OUT:-}" ]; then
		return 0
	fi
	on_nested_host "$@"
	exit
}

# next_bpf_map_id: the id the next BPF map created will have at least
# (maps from then on are the ones a suite starts)
next_bpf_map_id() {
	bpftool -j map show | python3 -c 'import json, sys; print(max([m["id"] for m in json.load(sys.stdin)] + [0]) + 1)'
}
# bpf_map_entries NAME FIRST_ID: entries in the live maps named NAME with
# an id from FIRST_ID on ("none" if there is none)
bpf_map_entries() {
	bpftool -j map show | python3 -c '
import json, subprocess, sys
ids = [m["id"] for m in json.load(sys.stdin)
       if m.get("name") == sys.argv[1] and m["id"] >= int(sys.argv[2])]
n = 0
for i in ids:
    out = subprocess.run(["bpftool", "-j", "map", "dump", "id", str(i)],
                         capture_output=True, text=True).stdout
    n += len(json.loads(out or "[]"))
print(n if ids else "none")' "$1" "$2"
}
