#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run fuzz targets (libFuzzer, ASan, UBSan) for SECONDS each:
#   tests/fuzz/run.sh SECONDS fuzz_cli fuzz_state ...
# Each starts from its checked-in seeds (tests/fuzz/corpus/NAME; the recording
# reader also from tests/recordings) plus what earlier runs found
# (build/fuzz/corpus/NAME, kept between runs). A crash, a leak, a
# sanitizer report or an abort() of the target's own checks fails it and
# leaves the input under build/fuzz/crashes/. Prints per target the
# executions, their rate and the coverage reached, then "fuzz: N passed,
# N failed".
set -u
cd "$(dirname "$0")/../.."
secs=$1
shift
passed=0 failed=0
mkdir -p build/fuzz/crashes
for t in "$@"; do
	name=${t#fuzz_}
	work=build/fuzz/corpus/$name
	seeds=(tests/fuzz/corpus/$name)
	[ "$name" = recording ] && seeds+=(tests/recordings)
	mkdir -p "$work"
	log=build/fuzz/$t.log
	# -max_len: a recording seed is a few kB; the rest are lines
	build/fuzz/$t -max_total_time="$secs" -print_final_stats=1 -max_len=16384 \
		-timeout=10 -rss_limit_mb=2048 -artifact_prefix="build/fuzz/crashes/$t-" \
		"$work" "${seeds[@]}" >"$log" 2>&1 &
	pid=$!
	wait $pid
	rc=$?
	rm -rf /dev/shm/kvmrt-fuzz-*-"$pid" # the target's files (fuzz.h: fuzz_dir)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
	corp=$(ls "$work" | wc -l)
	if [ $rc = 0 ] && [ -n "$execs" ]; then
		passed=$((passed + 1))
		echo "ok   - $t: ${secs} s, $execs runs ($rate/s), $cov, corpus $corp"
	else
		failed=$((failed + 1))
		echo "FAIL - $t (exit $rc): $(grep -m1 -E 'ERROR|runtime error|Assertion|deadly signal' "$log")"
		grep -m3 -E '^ *#[0-9]+ .* in ' "$log" | sed 's/^/       /'
		ls -t build/fuzz/crashes/"$t"-* 2>/dev/null | head -1 | sed 's/^/       input: /'
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ $failed = 0 ]
