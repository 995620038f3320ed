#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Hostile input, for real. A VM whose process and vCPU thread have names
# nobody should choose (a comm that looks like the end of a stat comm, a
# newline, invalid UTF-8, a 200-byte --name) is found, traced, exported and
# controlled, named everywhere in the one escaped form (agent/lib/escape.c).
# And what a new user met: a state file that is not one, a web config whose
# certificate is not one, a JSON path that cannot be written. Needs root
# and /dev/kvm.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
export PYTHONPATH=$PWD/tests/e2e
CHECK="/usr/bin/python3 tests/e2e/hostile_check.py"
PORT=19986

# 1. the VM: the tests' VMM (vCPU in a thread of its own) under these names
comm=') R 1 1 ('
vname=$'\n\xff) x ('
long=$'rt\n\xff"q\\ '$(head -c 192 /dev/zero | tr '\0' n)
export HOSTILE_NAME=$long
check "the name is 200 bytes" test "$(printf '%s' "$long" | wc -c)" = 200
if needs_kvm "1-3: a VM with hostile names traced, exported, controlled"; then
	"$B/tests/vmm" --comm "$comm" --vcpu-name "$vname" --name "$long" -d 30 \
		"$B/rtguest-lapic.bin" >"$TMP/vmm.out" &
	BG_PIDS+=($!)
	for _ in $(seq 100); do [ -s "$TMP/vmm.out" ] && break; sleep 0.1; done
	read -r _ _ VPID _ VTID <"$TMP/vmm.out"
	check "the VMM runs (pid $VPID, vCPU thread $VTID)" kill -0 "$VPID"
	want=$(/usr/bin/python3 -c 'from escape import kvmrt_escape; import os; print(kvmrt_escape(os.environb[b"HOSTILE_NAME"]))')

	"$KVMRT" trace -d 2 -p "$VPID" --json="$TMP/t.json" 2>"$TMP/t.err"
	check "trace: exit 0" test $? = 0
	check "trace JSON: valid UTF-8, the VM under its escaped name, interrupts counted" \
		$CHECK json "$TMP/t.json" "$VPID"
	"$KVMRT" trace -d 1.5 -p "$VPID" >"$TMP/t.txt" 2>&1
	check "trace text: no control byte, the escaped name" $CHECK text "$TMP/t.txt"

	# 2. exported
	"$KVMRT" export --listen "127.0.0.1:$PORT" -i 0.5 2>"$TMP/export.err" &
	EXPORT_PID=$!
	BG_PIDS+=("$EXPORT_PID")
	for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/metrics" && break; sleep 0.1; done
	sleep 1.5
	check "export: promtool parses the exposition" bash -c \
		"curl -s http://127.0.0.1:$PORT/metrics | promtool check metrics"
	check "export: the VM's series under its escaped name" \
		$CHECK metrics "http://127.0.0.1:$PORT/metrics" "$VPID"
	kill -INT "$EXPORT_PID"
	wait "$EXPORT_PID"

	# 3. controlled, by the name as kvmrt shows it
	threads() { ls "/proc/$VPID/task" | sort -n | tr '\n' ' '; }
	others() { local t; for t in /proc/$VPID/task/*; do
		[ "${t##*/}" = "$VTID" ] || printf '%s ' "$($CHECK policy "$VPID" "${t##*/}")"; done; }
	before=$($CHECK policy "$VPID" "$VTID") before_others=$(others)
	"$KVMRT" control --rt "$want" --prio 30 -d 3 --state "$TMP/st" >"$TMP/ctl.out" 2>&1 &
	ctl=$!
	for _ in $(seq 100); do grep -q "kvmrt: controlling" "$TMP/ctl.out" && break; sleep 0.1; done
	during=$($CHECK policy "$VPID" "$VTID") during_others=$(others)
	wait "$ctl"
	rc=$?
	check "control --rt <escaped name>: the vCPU thread at FIFO 30, no other thread touched" \
		bash -c "[ '$during' = 1/30 ] && [ '$during_others' = '$before_others' ] || { cat $TMP/ctl.out; echo '$during $during_others'; exit 1; }"
	check "control: exit 0, the thread restored, the state file gone" \
		bash -c "[ $rc = 0 ] && [ \"\$($CHECK policy $VPID $VTID)\" = '$before' ] && [ ! -e $TMP/st ]"
	check "control's output: no control byte" $CHECK text "$TMP/ctl.out"
fi

# 4. a state file that is not one: one line, escaped, exit 1, kept
{ printf '\x7fELF\x1b[2J\x1b]0;pwned\x07\xff\n'; head -c 2048 /dev/urandom; } >"$TMP/junk.state"
cp "$TMP/junk.state" "$TMP/junk.copy"
check "--restore from random bytes: exit 1, one line" \
	bad 1 "$KVMRT" control --restore --state "$TMP/junk.state"
"$KVMRT" control --restore --state "$TMP/junk.state" 2>"$TMP/junk.err"
check "  ... printable, saying what it is not" \
	bash -c "$CHECK printable $TMP/junk.err && grep -q 'not a kvmrt control state file' $TMP/junk.err"
check "  ... the file left as it was" cmp "$TMP/junk.state" "$TMP/junk.copy"
#    a good line then a bad one: nothing restored in part
sleep 60 &
sp=$!
BG_PIDS+=("$sp")
chrt -f -p 10 "$sp"
start=$(awk '{print $22}' "/proc/$sp/stat")
printf '# kvmrt control state\ntask %s %s %s 0 0 0 0\ntask 1 2\n' "$sp" "$sp" "$start" >"$TMP/half.state"
check "--restore of a file with a bad line: exit 1, naming line 3" \
	bash -c "! '$KVMRT' control --restore --state $TMP/half.state 2>$TMP/half.err && grep -q 'line 3: expected' $TMP/half.err"
check "  ... nothing restored in part (still FIFO 10)" test "$($CHECK policy "$sp" "$sp")" = 1/10
printf '# kvmrt control state\ntask %s %s %s 0 0 0 0\n' "$sp" "$sp" "$start" >"$TMP/half.state"
check "  ... the line fixed: restored" \
	bash -c "'$KVMRT' control --restore --state $TMP/half.state && [ \"\$($CHECK policy $sp $sp)\" = 0/0 ]"

#    without CAP_SYS_NICE: refused at once, in one line, no state file
#    (it used to run on, failing every boost, and leave its state file)
check "control without CAP_SYS_NICE: exit 1, one line naming it, no state file" bash -c "
	out=\$(setpriv --bounding-set=-sys_nice -- '$KVMRT' control --rt x --cosched --state '$TMP/nice.state' 2>&1)
	[ \$? = 1 ] && [ \$(printf '%s\n' \"\$out\" | wc -l) = 1 ] && grep -q CAP_SYS_NICE <<<\"\$out\" &&
		[ ! -e '$TMP/nice.state' ] || { echo \"\$out\"; exit 1; }"

#    a --state path too long to keep whole: refused before anything, not cut
long_state=/tmp/$(head -c 5000 /dev/zero | tr '\0' s)
check "--state longer than PATH_MAX: usage error, one line" \
	bad 2 "$KVMRT" control --rt x --cosched --state "$long_state"

# 5. a web config whose certificate or key is not one: the file is named
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	-keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other \
	-keyout "$TMP/key2.pem" -out "$TMP/cert2.pem" 2>/dev/null
echo "not a certificate" >"$TMP/junk.pem"
web() { printf 'tls_server_config:\n  cert_file: %s\n  key_file: %s\n' "$1" "$2" >"$TMP/web.yml"; }
web junk.pem key.pem
check "web config, cert_file not a certificate: exit 1, one line" \
	bad 1 "$KVMRT" export --listen "127.0.0.1:$PORT" --web-config "$TMP/web.yml"
check "  ... naming cert_file junk.pem, not the listen step" bash -c \
	"'$KVMRT' export --listen 127.0.0.1:$PORT --web-config $TMP/web.yml 2>&1 | grep 'cert_file junk.pem: not a PEM certificate' | grep -vq listen"
web cert.pem junk.pem
check "web config, key_file not a key: naming key_file junk.pem" bash -c \
	"'$KVMRT' export --listen 127.0.0.1:$PORT --web-config $TMP/web.yml 2>&1 | grep -q 'key_file junk.pem: not a PEM private key'"
web cert.pem key2.pem
check "web config, a key of another certificate: said so" bash -c \
	"'$KVMRT' export --listen 127.0.0.1:$PORT --web-config $TMP/web.yml 2>&1 | grep -q 'key_file key2.pem is not the key of cert_file cert.pem'"

# 6. an output that cannot be written fails before the run, not after it
check "trace -d 600 --json=/no/such/dir/x.json: exit 1 at once, naming it" bash -c \
	"timeout 30 '$KVMRT' trace -d 600 --json=/no/such/dir/x.json 2>$TMP/nodir.err; [ \$? = 1 ] && grep -q '/no/such/dir/x.json' $TMP/nodir.err"
check "  ... and a bad option after it leaves no file behind" bash -c \
	"! '$KVMRT' trace -d 1 --json=$TMP/new.json -T abc 2>/dev/null && [ ! -e $TMP/new.json ]"
echo keep >"$TMP/old.json"
check "  ... nor empties a file that was there" bash -c \
	"! '$KVMRT' trace -d 1 --json=$TMP/old.json -T abc 2>/dev/null && [ \"\$(cat $TMP/old.json)\" = keep ]"

summary
