#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bench/ab.sh [--cost] OLD NEW [ROUNDS]: the BPF cost per event of two
# commits, side by side. One run's mean moves by several ns on this machine
# (its floor alone does), more than a change may add; alternating rounds, in
# turn first, cancel that drift. Prints per program the median over rounds
# of each build's mean, and their difference.
#   default: a guest at its maximum rate under each side's kvmrt trace
#            (the events this host fires; needs /dev/kvm);
#   --cost:  each side's build/prog-cost (every program driven with
#            BPF_PROG_TEST_RUN with its hot path's arguments: also the
#            events this host never fires; no /dev/kvm needed).
# Needs root. Not part of make test.
set -eu
cd "$(dirname "$0")/.."
COST=0
[ "${1:-}" = --cost ] && { COST=1; shift; }
OLD=$1 NEW=$2 ROUNDS=${3:-6} SECS=${SECS:-3}
W=$(mktemp -d /tmp/kvmrt-ab.XXXXXX)
trap 'git worktree remove --force "$W/old" >/dev/null 2>&1;
      git worktree remove --force "$W/new" >/dev/null 2>&1; rm -rf "$W"' EXIT

for side in old new; do
	rev=$OLD
	[ $side = new ] && rev=$NEW
	git worktree add -q --detach "$W/$side" "$rev"
	make -s -C "$W/$side" all build/prog-cost >/dev/null 2>&1 ||
		{ echo "ab: $rev does not build" >&2; exit 1; }
done

if [ $COST = 1 ]; then
	for r in $(seq "$ROUNDS"); do
		for side in $([ $((r % 2)) = 1 ] && echo old new || echo new old); do
			"$W/$side/build/prog-cost" 20000 1 >"$W/$side.$r.md"
		done
	done
	python3 - "$W" "$ROUNDS" "$OLD" "$NEW" <<'PY'
import statistics, sys
w, rounds, old, new = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def rows(side):  # case -> ([ns per round], [floor per round])
    per = {}
    for r in range(1, rounds + 1):
        for line in open(f"{w}/{side}.{r}.md"):
            f = [x.strip() for x in line.strip().strip("|").split("|")]
            if len(f) == 4 and f[1].isdigit():
                ns, fl = per.setdefault(f[0], ([], []))
                ns.append(float(f[1])); fl.append(float(f[2]))
    return per
po, pn = rows("old"), rows("new")
print(f"## BPF cost per event (prog-cost), {old} -> {new}, median of {rounds} alternating rounds\n")
print("| case | old ns | new ns | new - old | new / floor |")
print("|---|---:|---:|---:|---:|")
for case in [c for c in pn if c in po]:
    a, b = statistics.median(po[case][0]), statistics.median(pn[case][0])
    fl = statistics.median(po[case][1] + pn[case][1])
    print(f"| {case} | {a:.0f} | {b:.0f} | {b - a:+.0f} | {b / fl:.1f}x |")
PY
	exit 0
fi
GUEST=$W/new/build/kvmrt-guest # the same load for both

one() { # one SIDE ROUND: a guest at its maximum rate under that side's trace
	"$W/$1/build/kvmrt" trace -d $((SECS + 2)) --bpf-stats --json="$W/$1.$2.json" \
		>/dev/null 2>"$W/$1.$2.err" &
	local tp=$! i
	for i in $(seq 100); do
		grep -q tracing "$W/$1.$2.err" 2>/dev/null && break
		sleep 0.1
	done
	"$GUEST" -r 0 -d "$SECS" -q
	wait $tp
}
for r in $(seq "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then one old "$r"; one new "$r"; else one new "$r"; one old "$r"; fi
done

python3 - "$W" "$ROUNDS" "$OLD" "$NEW" <<'PY'
import json, statistics, sys
w, rounds, old, new = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def means(side):
    per, total = {}, []
    for r in range(1, rounds + 1):
        st = json.load(open(f"{w}/{side}.{r}.json"))["bpf_stats"]
        runs = sum(v["runs"] for v in st.values())
        ns = sum(v["run_ns"] for v in st.values())
        total.append(ns / runs if runs else 0)
        for p, v in st.items():
            if v["runs"]:
                per.setdefault(p, []).append(v["run_ns"] / v["runs"])
    return per, total
po, to = means("old")
pn, tn = means("new")
print(f"## BPF cost per event, {old} -> {new}, median of {rounds} alternating rounds\n")
print("| program | old ns | new ns | new - old |")
print("|---|---:|---:|---:|")
for p in sorted(set(po) & set(pn), key=lambda p: -statistics.median(pn[p])):
    a, b = statistics.median(po[p]), statistics.median(pn[p])
    print(f"| {p} | {a:.0f} | {b:.0f} | {b - a:+.0f} |")
a, b = statistics.median(to), statistics.median(tn)
print(f"| **all** | {a:.1f} | {b:.1f} | **{b - a:+.1f}** |")
print("\nper round, all events (old, new):", ", ".join(f"{x:.0f}/{y:.0f}" for x, y in zip(to, tn)))
PY
