# SPDX-License-Identifier: GPL-2.0
# Helpers of the suites that run kvmrt control on live guests (control.sh,
# faults.sh), after tests/lib.sh. Every wait is for a condition, bounded
# generously: loading is slow where the CPU is emulated.
SNAP="python3 tests/e2e/sched_snapshot.py"
STATE="$TMP/control.state"
CPU=$(($(nproc) - 1))

guest() { # guest NAME SECONDS [args]: a guest on the last CPU, in the background,
	# returning once its vCPU thread is there to be found (however slow the machine)
	local name=$1 secs=$2 i
	shift 2
	# its stderr kept: should it end early, guest_alive says why
	"$GUEST" -m msi -r 1000 -d "$secs" -C "$CPU" -q --name "$name" "$@" 2>"$TMP/guest-$name.err" &
	GPID=$!
	GNAME=$name
	BG_PIDS+=("$GPID")
	for i in $(seq 600); do
		grep -qs '^CPU 0/KVM' /proc/"$GPID"/task/*/comm && break
		sleep 0.1
	done
}
# guest_alive WHEN: the last guest() still runs; if not, its stderr and the
# kernel's last words (an OOM kill, a KVM error) go with the FAIL
guest_alive() {
	check "the guest $GNAME still runs ($1)" bash -c "kill -0 $GPID 2>/dev/null ||
		{ echo 'its stderr:'; cat '$TMP/guest-$GNAME.err'; dmesg | tail -5; exit 1; }"
}
# wait_for FILE PATTERN SEC: until a line of FILE matches (1 if not in time)
wait_for() {
	local i
	for i in $(seq $(($3 * 10))); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# start_control OUT ARGS...: kvmrt control in the background (pid in cp),
# returning once it has acted
start_control() {
	local out=$1
	shift
	"$KVMRT" control "$@" >"$out" 2>&1 &
	cp=$!
	# loading is slow on an emulated CPU (over a minute for --cosched)
	wait_for "$out" "kvmrt: controlling" 600 ||
		{ echo "start_control: not controlling after 600 s: $(tail -1 "$out")" >&2; return 1; }
	sleep 0.5
}
# kill9_control: kill -9 the controller, and wait for its guardian to have
# restored (it removes the state file, then exits)
kill9_control() {
	local i
	kill -9 $cp
	wait $cp 2>/dev/null
	for i in $(seq 600); do
		[ ! -e "$STATE" ] && ! pgrep -x kvmrt-guardian >/dev/null && return 0
		sleep 0.1
	done
	echo "kill9_control: the guardian did not finish in 60 s" >&2
}
# metric URL NAME: NAME's value for vCPU 0 in a scrape (empty: not served yet)
metric() { curl -s "$1" | awk -v n="$2" 'index($0, n "{") == 1 && /vcpu="0"}/ { v = $NF } END { print v }'; }
# wait_metric URL NAME N SEC [FILE PATTERN]: until NAME reaches N (or
# FILE shows PATTERN); 1 if not in SEC, saying how far it got
wait_metric() {
	local v i
	for i in $(seq $(($4 * 10))); do
		v=$(metric "$1" "$2")
		[ -n "$v" ] && [ "${v%.*}" -ge "$3" ] && return 0
		[ -n "${5:-}" ] && grep -q -- "$6" "$5" && return 0
		sleep 0.1
	done
	echo "wait_metric: $2 reached ${v:-nothing (not served)} of $3 in $4 s"
	return 1
}
vcpu_tid() { python3 -c "import glob,sys
for p in glob.glob('/proc/$1/task/*/comm'):
    if open(p).read().startswith('CPU 0/KVM'): print(p.split('/')[4])"; }
# policy/rt_priority (stat fields 41 and 40, counted after the comm's ')')
policy_of() { sed 's/.*) //' "/proc/$1/task/$2/stat" 2>/dev/null | awk '{print $39 "/" $38}'; }
# irqs: every IRQ's affinity, one per line
irqs() { for i in /proc/irq/[0-9]*; do echo "$i $(cat "$i/smp_affinity_list")"; done; }
