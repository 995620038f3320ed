#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kvmrt top for real: the full-screen view driven inside tmux (send-keys,
# capture-pane), and batch mode against kvmrt trace. Needs root, /dev/kvm.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
whole_suite_needs_kvm

S=kvmrt-top-test
screen() { tmux capture-pane -p -t "$S"; }
# wait_screen PATTERN: until the screen shows it (5 s)
wait_screen() {
	local i
	for i in $(seq 50); do
		screen | grep -q -- "$1" && return 0
		sleep 0.1
	done
	echo "screen never showed '$1':"
	screen
	return 1
}
# row NAME: the screen line of VM NAME
row() { screen | grep "^$1 "; }
# col NAME N: field N of that line
col() { row "$1" | awk -v n="$2" '{print $n}'; }

tmux kill-session -t "$S" 2>/dev/null
"$GUEST" -m msi -r 1000 -d 40 -q --name top-fast &
fast=$!
"$GUEST" -m msi -r 200 -d 40 -q --name top-slow &
slow=$!
BG_PIDS+=("$fast" "$slow")
sleep 0.5

tmux new-session -d -s "$S" -x 160 -y 30 \
	"$KVMRT top -g 'top-*'; echo \$? > $TMP/top.rc; sleep 60"
BG_PIDS+=("$(tmux display -p -t "$S" '#{pane_pid}')")

# 1. the guests' rows, with the rate they were told to produce
wait_screen "^top-slow " && sleep 2.2
check "rows appear, irq/s as configured (1000 and 200, +-10%)" python3 -c "
fast, slow = float('$(col top-fast 8)'), float('$(col top-slow 8)')
assert 900 <= fast <= 1100 and 180 <= slow <= 220, (fast, slow)
print(f'{fast:.0f} and {slow:.0f} irq/s')"
check "the vCPU thread and its policy are shown" test "$(col top-fast 6)" = "TS/0"

# 2. sorting: by name top-fast comes first, by irq/s too; by vCPU the
#    order is the names' again; '<' and '>' step through the columns
first() { screen | sed -n 5p | awk '{print $1}'; }
tmux send-keys -t "$S" N
wait_screen "sort: VM" && sleep 0.3
a=$(first)
tmux send-keys -t "$S" 9
wait_screen "sort: RESP99"
tmux send-keys -t "$S" '>'
wait_screen "sort: RESPMAX"
tmux send-keys -t "$S" H
wait_screen "sort: HALT%" && sleep 1.2
b=$(first)
tmux send-keys -t "$S" I
wait_screen "sort: IRQ/s" && sleep 1.2
c=$(first)
check "sort keys change the order (VM: $a first, HALT%: $b first, IRQ/s: $c first)" \
	test "$a-$b-$c" = "top-fast-top-slow-top-fast"
tmux send-keys -t "$S" '<'
wait_screen "sort: VCPU"

# 3. filter by name
tmux send-keys -t "$S" f
sleep 0.3
tmux send-keys -t "$S" slow Enter
wait_screen "filter: slow" && sleep 1.2
check "filter shows only matching VMs" test "$(screen | grep -c '^top-')-$(row top-slow | wc -l)" = "1-1"
tmux send-keys -t "$S" f
sleep 0.3
tmux send-keys -t "$S" Enter
sleep 1.2
check "empty filter shows all again" test "$(screen | grep -c '^top-')" = 2

# 4. resize: narrower, then back; the view is redrawn to the new size
tmux resize-window -t "$S" -x 90 -y 20
sleep 1.5
check "narrow: redrawn within 90 columns" test \
	"$(screen | awk 'length > 90' | wc -l)-$(screen | sed -n 4p | cut -c1-2)-$(screen | grep -c '^top-')" = "0-VM-2"
tmux resize-window -t "$S" -x 160 -y 30
sleep 1.5
check "wide again: all columns back" wait_screen "HALT%"

# 5. help, pause, and q: exit status 0, terminal restored
tmux send-keys -t "$S" h
check "h shows the keys" wait_screen "kvmrt top keys"
tmux send-keys -t "$S" x p
check "p pauses" wait_screen "paused"
tmux send-keys -t "$S" q
sleep 1
check "q: exit status 0" test "$(cat "$TMP/top.rc" 2>/dev/null)" = 0
check "q: terminal restored (alternate screen off)" \
	test "$(tmux display -p -t "$S" '#{alternate_on}')" = 0
tmux kill-session -t "$S"

# 6. batch mode: N frames, no escape codes, same figures as trace over the
#    same window
"$KVMRT" trace -q -p "$fast" --json="$TMP/bt.json" 2>"$TMP/bt.err" &
tp=$!
BG_PIDS+=("$tp")
"$KVMRT" top -b -n 3 -d 1 -p "$fast" >"$TMP/batch.txt" 2>"$TMP/batch.err"
kill -INT "$tp"
wait "$tp"
check "batch: 3 frames, plain text" test \
	"$(grep -c '^kvmrt top' "$TMP/batch.txt")-$(grep -c $'\e' "$TMP/batch.txt")" = "3-0"
check "batch frames agree with trace --json" python3 - "$TMP/batch.txt" "$TMP/bt.json" <<'PY'
import json, sys
frames = open(sys.argv[1]).read().split("kvmrt top - ")[1:]
t = json.load(open(sys.argv[2]))
rows = [[l.split() for l in f.splitlines() if l.startswith("top-fast ")][0] for f in frames]
dts = [float(f.split()[1].rstrip("s")) for f in frames]
n_top = sum(float(r[7]) * dt for r, dt in zip(rows, dts))
v = t["vms"][0]["vcpus"][0]
# trace ran a little longer than top's 3 frames (it started first and
# stopped after): its rate must match, its count cover top's
rate_t = v["injections"]["completed"] / t["duration_s"]
rate_top = n_top / sum(dts)
assert abs(rate_top - rate_t) <= 0.05 * rate_t, (rate_top, rate_t)
assert n_top <= v["injections"]["completed"], (n_top, v["injections"]["completed"])
p50s = sorted(float(r[8]) for r in rows)
p50_t = v["response"]["p50_ns"] / 1e3
assert abs(p50s[1] - p50_t) <= 0.25 * p50_t + 3, (p50s, p50_t)
print(f"rate {rate_top:.0f} vs {rate_t:.0f}/s, p50 {p50s[1]:.1f} vs {p50_t:.1f} us")
PY

# 7. -a: under two hogs on the vCPU's CPU, CAUSE names the hog: frames
#    until one does (30 s at most, the guest and hogs lasting as long)
hogs 1
"$GUEST" -m msi -r 1000 -d 40 -C 1 -q --name top-hog &
hg=$!
BG_PIDS+=("$hg")
"$KVMRT" top -a -b -d 1 -g top-hog >"$TMP/cause.txt" 2>"$TMP/cause.err" &
tpa=$!
BG_PIDS+=("$tpa")
for _ in $(seq 300); do
	grep '^top-hog ' "$TMP/cause.txt" 2>/dev/null | grep -q 'kvmrt-hog\[' && break
	sleep 0.1
done
kill -INT "$tpa" 2>/dev/null
kill "$h1" "$h2" "$hg" 2>/dev/null
wait "$tpa" "$hg" 2>/dev/null
check "-a: a CAUSE column; under hogs it names kvmrt-hog" bash -c \
	"grep -q ' CAUSE\$' '$TMP/cause.txt' && grep '^top-hog ' '$TMP/cause.txt' | grep -q 'kvmrt-hog\['"
check "bad delay: usage error" bad 2 "$KVMRT" top -d 0 -b -n 1
check "bad iterations: usage error" bad 2 "$KVMRT" top -b -n x

kill "$fast" "$slow" 2>/dev/null
summary
