#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A fresh-machine rehearsal, not part of make test: this host put as close
# to a new one as it can be without a reboot (tracefs unmounted, no
# /run/kvmrt, no kvmrt.* cpusets, no kvmrt package, no build directory, no
# leftover test directories), then CI's own run (.ci/run) from a fresh
# clone of the committed HEAD, timed. Needs root; refuses while kvmrt runs.
#
#   tests/fresh.sh [-n RUNS]    RUNS in a row (default 1), each from fresh
set -u
cd "$(dirname "$0")/.." || exit 1
runs=1
[ "${1:-}" = -n ] && runs=${2:?}
[ "$(id -u)" = 0 ] || { echo "fresh: needs root" >&2; exit 1; }
busy=$(for c in kvmrt kvmrt-guardian kvmrt-guest; do pgrep -x "$c"; done | tr '\n' ' ')
[ -z "$busy" ] || { echo "fresh: kvmrt is running (pids $busy): stop it first" >&2; exit 1; }

forget() { # what earlier runs can leave on a host
	local t cs task
	for t in /sys/kernel/tracing /sys/kernel/debug/tracing; do
		while mountpoint -q "$t"; do umount "$t" || break; done
	done
	rm -rf /run/kvmrt
	# cpusets of a shield: their tasks back to the root, then the sets
	for cs in /sys/fs/cgroup/cpuset/kvmrt.* /sys/fs/cgroup/kvmrt.* /sys/fs/cgroup/unified/kvmrt.*; do
		[ -d "$cs" ] || continue
		for task in $(cat "$cs/tasks" "$cs/cgroup.procs" 2>/dev/null); do
			echo "$task" >"${cs%/*}/cgroup.procs" 2>/dev/null
		done
		rmdir "$cs" || echo "fresh: cannot remove $cs" >&2
	done
	if dpkg -s kvmrt >/dev/null 2>&1; then
		dpkg --purge kvmrt >/dev/null || echo "fresh: cannot purge the kvmrt package" >&2
	fi
	rm -rf build /tmp/kvmrt-e2e.* /tmp/kvmrt-ci.log
}

total=0 failed=0
for i in $(seq "$runs"); do
	forget
	clone=$(mktemp -d /tmp/kvmrt-fresh.XXXXXX)
	git clone -q . "$clone" || exit 1
	head=$(git -C "$clone" rev-parse --short HEAD)
	t0=$(date +%s)
	(cd "$clone" && CI=true bash .ci/run </dev/null) >"$clone.log" 2>&1
	rc=$?
	secs=$(($(date +%s) - t0))
	total=$((total + secs))
	line=$(grep '^total:' "$clone.log" | tail -1)
	echo "fresh run $i/$runs ($head): exit $rc in ${secs} s; ${line:-no total line}; log $clone.log"
	[ "$rc" = 0 ] || { failed=$((failed + 1)); grep '^FAIL' "$clone.log" | head -20; }
	rm -rf "$clone"
done
echo "fresh: $((runs - failed)) of $runs runs passed, $total s in all"
[ "$failed" = 0 ]
