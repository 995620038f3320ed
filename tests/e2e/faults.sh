#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kvmrt control under faults, on live vCPU threads: whatever happens
# (normal exit, SIGTERM in the middle of applying the shield, kill -9 of
# the controller, of the controller and its guardian, a thread changed by
# someone else, a second controller, a full or read-only filesystem, the VM
# exiting while boosted, bad arguments), every thread's policy, affinity
# and cpuset and every IRQ's affinity end as they were, compared in full
# (sched_snapshot.py), or the change is refused before anything is touched.
# Every wait is for a condition, not a time. Needs root and KVM: without
# /dev/kvm here, it runs on the nested host (tests/nested/run.sh).
# CPU hotplug is out of reach (no host here can take a CPU offline).
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
nested_unless_kvm tests/e2e/faults.sh 1500
whole_suite_needs_kvm
. tests/e2e/control_lib.sh

# the shield's cpusets: cgroup v1's cpuset hierarchy, else v2's root
CS=/sys/fs/cgroup/cpuset
[ -e $CS/tasks ] || CS=/sys/fs/cgroup/unified
[ -e $CS/cgroup.procs ] || [ -e $CS/tasks ] || CS=/sys/fs/cgroup
shield_tasks() { cat $CS/kvmrt.rt/tasks $CS/kvmrt.rt/cgroup.threads 2>/dev/null; }
ours_gone() { test ! -e $CS/kvmrt.rt -a ! -e $CS/kvmrt.hk; }
# exactly_as_before NAME: every thread and IRQ as in before.json/irq.before
exactly_as_before() {
	$SNAP snapshot "$TMP/after.json"
	irqs >"$TMP/irq.after"
	check "$1: every thread's policy, affinity and cpuset as before" \
		$SNAP compare "$TMP/before.json" "$TMP/after.json"
	check "$1: every IRQ's affinity as before" diff "$TMP/irq.before" "$TMP/irq.after"
}
snapshot_before() {
	$SNAP snapshot "$TMP/before.json"
	irqs >"$TMP/irq.before"
}

guest ctl-fault 3600 # killed at the end of section 6
tid=$(vcpu_tid "$GPID")
snapshot_before

# 1. --dry-run changes nothing
out=$("$KVMRT" control --rt ctl-fault --cosched --dry-run --state "$STATE")
rc=$?
check "--dry-run prints the plan" bash -c "test $rc = 0 && grep -q 'dry run' <<<'$out' && grep -q 'SCHED_FIFO 50' <<<'$out'"
check "--dry-run writes no state" test ! -e "$STATE"
exactly_as_before "--dry-run"

guest_alive "before section 2"
# 2. static priority: applied while running; restored at SIGTERM, and when
#    -d ends
start_control "$TMP/static.out" --rt ctl-fault --prio 40 --state "$STATE"
during=$(policy_of "$GPID" "$tid")
kill -TERM $cp
wait $cp
rc=$?
check "--prio 40: vCPU thread at SCHED_FIFO 40 while running" test "$during" = "1/40"
check "SIGTERM: exit 0, state file removed" test $rc = 0 -a ! -e "$STATE"
exactly_as_before "SIGTERM"
check "-d: ends by itself, exit 0" "$KVMRT" control --rt ctl-fault --prio 40 -d 0.5 --state "$STATE"
exactly_as_before "-d ended"
check "--prio: reset-on-fork set" bash -c "grep -q 'reset-on-fork' <<<'$("$KVMRT" control --rt ctl-fault --prio 40 --dry-run --state "$STATE")'"

guest_alive "before section 3"
# 3. kill -9: the guardian restores; with the guardian killed too, --restore
start_control "$TMP/kill.out" --rt ctl-fault --prio 30 --state "$STATE"
during=$(policy_of "$GPID" "$tid")
kill9_control
check "kill -9: was boosted ($during)" test "$during" = 1/30
exactly_as_before "kill -9, the guardian"
start_control "$TMP/kill2.out" --rt ctl-fault --prio 30 --state "$STATE"
pkill -9 -x kvmrt-guardian
kill -9 $cp
wait $cp 2>/dev/null
for _ in $(seq 100); do pgrep -x kvmrt-guardian >/dev/null || break; sleep 0.1; done
check "controller and guardian killed: still boosted, the state file kept" \
	test "$(policy_of "$GPID" "$tid")" = "1/30" -a -e "$STATE"
"$KVMRT" control --restore --state "$STATE"
check "--restore: state file removed" test ! -e "$STATE"
exactly_as_before "--restore"

# 4. a vanished thread whose tid is now someone else's is not touched
sleep 3600 &
sp=$!
BG_PIDS+=("$sp")
start=$(awk '{print $22}' /proc/$sp/stat)
printf '# kvmrt control state\ntask %s %s %s 1 16 20 0\n' "$sp" "$sp" "$((start - 1))" >"$STATE"
"$KVMRT" control --restore --state "$STATE" 2>/dev/null
check "reused tid: not touched by --restore" test "$(policy_of $sp $sp)" = "0/0"
kill $sp
rm -f "$STATE"

guest_alive "before section 5"
# 5. a change made by someone else is noticed, reported, and left alone,
#    at exit and after a crash (the state file forgot the thread)
start_control "$TMP/foreign.out" --rt ctl-fault --prio 30 --state "$STATE"
chrt -f -p 10 "$tid"
wait_for "$TMP/foreign.out" "changed by someone else" 60
kill -TERM $cp
wait $cp
check "someone else's change: reported" grep -q "changed by someone else" "$TMP/foreign.out"
check "someone else's change: not reverted" test "$(policy_of "$GPID" "$tid")" = "1/10"
chrt -o -p 0 "$tid"
start_control "$TMP/foreign9.out" --rt ctl-fault --prio 30 --state "$STATE"
chrt -f -p 10 "$tid"
wait_for "$TMP/foreign9.out" "changed by someone else" 60
kill9_control
check "someone else's change, then kill -9: the guardian leaves it (FIFO 10)" \
	test "$(policy_of "$GPID" "$tid")" = "1/10"
chrt -o -p 0 "$tid"

guest_alive "before section 5b"
# 5b. a second controller on a VM one already manages is refused, whatever
#     its mode and state file, before any change (claim.h): two would fight
#     over the thread's policy, and which one restored what would be timing
start_control "$TMP/first.out" --rt ctl-fault --cosched --state "$STATE"
for mode in "--cosched" "--prio 20" "--slo 500"; do
	check "second controller ($mode, its own state file): refused, naming the first" bash -c \
		"! '$KVMRT' control --rt ctl-fault $mode -d 1 --state '$TMP/second.state' 2>'$TMP/second.err' &&
		grep -q 'is managed by kvmrt control pid $cp, state file $STATE: refusing' '$TMP/second.err' &&
		test ! -e '$TMP/second.state' || { cat '$TMP/second.err'; exit 1; }"
done
check "second controller refused: the first kept the VM (no 'someone else')" bash -c \
	"kill -0 $cp && ! grep -q 'changed by someone else' '$TMP/first.out'"
kill $cp
wait $cp
check "after the first exits: the next controller takes the VM" \
	"$KVMRT" control --rt ctl-fault --prio 20 -d 0.5 --state "$TMP/second.state"
exactly_as_before "two controllers in turn"

guest_alive "before section 5c"
# 5c. faults before any change: refused in one line (the state file's
#     filesystem full; /run/kvmrt, where each thread is claimed, read-only)
mkdir -p "$TMP/full"
mount -t tmpfs -o size=64k tmpfs "$TMP/full"
dd if=/dev/zero of="$TMP/full/fill" bs=4k 2>/dev/null
check "state file on a full filesystem: refused in one line, exit 1" \
	bad 1 "$KVMRT" control --rt ctl-fault --prio 30 -d 1 --state "$TMP/full/x.state"
check "state file on a full filesystem: nothing left" \
	test ! -e "$TMP/full/x.state" -a ! -e "$TMP/full/x.state.tmp"
exactly_as_before "full filesystem"
umount "$TMP/full"
mkdir -p /run/kvmrt
mount --bind /run/kvmrt /run/kvmrt && mount -o remount,bind,ro /run/kvmrt
check "/run/kvmrt read-only: refused in one line, exit 1" \
	bad 1 "$KVMRT" control --rt ctl-fault --prio 30 -d 1 --state "$TMP/ro.state"
umount /run/kvmrt
check "/run/kvmrt read-only: no state file" test ! -e "$TMP/ro.state"
exactly_as_before "/run/kvmrt read-only"

guest_alive "before section 6"
# 6. shielding: the vCPU alone on its CPU, everything else and the IRQs
#    elsewhere; after kill -9 the guardian puts every thread, affinity,
#    cpuset and IRQ back
start_control "$TMP/shield.out" --rt ctl-fault --shield "$CPU" --cosched --state "$STATE"
check "--shield: the vCPU thread alone in the shield cpuset" test "$(shield_tasks)" = "$tid"
check "--shield: the vCPU's affinity is the shield CPU" \
	test "$(taskset -cp "$tid" | sed 's/.*: //')" = "$CPU"
check "--shield: IRQs moved off the shield" bash -c "for f in /proc/irq/[0-9]*/smp_affinity_list; do
	c=\$(cat \$f); [ \"\$c\" = $CPU ] && { echo \"\$f \$c\"; exit 1; }; done; exit 0"
check "--shield: a second shield is refused in one line" bad 1 \
	"$KVMRT" control --rt ctl-fault --shield "$CPU" --prio 20 --state "$TMP/other.state"
kill9_control
exactly_as_before "--shield, kill -9"
check "--shield, kill -9: our cpusets removed" ours_gone

guest_alive "before section 6b"
# 6b. SIGTERM in the middle of applying the shield: each write made slow
#     (strace delays every write(2) by 50 ms: the cgroup and IRQ files),
#     the signal sent once the shield's cpuset exists. It stops there, says
#     so, exits 0, and everything is put back.
# (-d: should the signal miss, it ends by itself and the checks fail)
strace -o /dev/null -e trace=write -e inject=write:delay_exit=50000 \
	"$KVMRT" control --rt ctl-fault --shield "$CPU" --cosched -d 30 --state "$STATE" \
	>"$TMP/term.out" 2>&1 &
sp=$!
BG_PIDS+=("$sp")
for _ in $(seq 3000); do [ -e $CS/kvmrt.rt ] && break; sleep 0.1; done
kp=$(pgrep -P $sp -x kvmrt)
[ -e $CS/kvmrt.rt ] || echo "the shield's cpuset never appeared: $(tail -2 "$TMP/term.out")" >>"$TMP/term.out"
[ -n "$kp" ] && kill -TERM "$kp"
wait $sp
rc=$?
check "SIGTERM while applying the shield: stopped there, said so, exit 0" bash -c \
	"test $rc = 0 && grep -q 'stopped by a signal while applying: restoring' '$TMP/term.out' &&
	! grep -q 'kvmrt: controlling' '$TMP/term.out' || { cat '$TMP/term.out'; exit 1; }"
term_clean() { test ! -e "$STATE" && ours_gone; }
check "SIGTERM while applying the shield: state file removed, our cpusets removed" term_clean
exactly_as_before "SIGTERM while applying the shield"

guest_alive "before section 7"
# 7. the VM exits while boosted: let go, and with nothing left to control
#    the run ends by itself (no -d), well, nothing to restore
start_control "$TMP/gone.out" --rt ctl-fault --prio 30 --state "$STATE"
kill "$GPID" 2>/dev/null
wait "$GPID" 2>/dev/null
for _ in $(seq 600); do kill -0 $cp 2>/dev/null || break; sleep 0.1; done
kill -0 $cp 2>/dev/null && { echo "(still running 60 s after its VM: killed)" >>"$TMP/gone.out"; kill $cp; }
wait $cp
rc=$?
check "the VM exits while boosted: control says so, stops by itself, exits 0, leaves no state file" bash -c \
	"test $rc = 0 && grep -q 'is gone: no longer managed' '$TMP/gone.out' &&
	grep -q 'every vCPU thread it managed is gone: stopping' '$TMP/gone.out' &&
	test ! -e '$STATE' || { cat '$TMP/gone.out'; exit 1; }"

# 8. bad arguments: one line, nothing changed
snapshot_before
check "unknown VM" bad 1 "$KVMRT" control --rt no-such-vm --cosched --state "$STATE"
check "priority out of range" bad 2 "$KVMRT" control --rt x --prio 99 --state "$STATE"
check "no mode" bad 2 "$KVMRT" control --rt x --state "$STATE"
check "no VM" bad 2 "$KVMRT" control --cosched --state "$STATE"
check "bad --listen" bad 2 "$KVMRT" control --rt x --cosched --listen nowhere
check "hint port without --cosched" bad 2 "$KVMRT" control --rt x --prio 10 --hint-port 0x7c2
check "invalid CPU list" bad 2 "$KVMRT" control --rt x --shield 1-x
check "shield CPU offline" bad 2 "$KVMRT" control --rt x --shield 64
check "overlapping shield list" bad 2 "$KVMRT" control --rt x --shield 0,0
check "shield leaving no housekeeping CPU" bad 2 "$KVMRT" control --rt x --shield "0-$CPU"
exactly_as_before "bad arguments"

summary
