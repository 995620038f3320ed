#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The Debian package, built, checked and installed for real: make deb
# (dpkg-buildpackage), lintian, every man page rendered without a warning,
# the units verified by systemd-analyze; installed: the installed kvmrt
# traces, its version is the package's, each unit's command runs under the
# unit's own capability bounding set (the exporter serves /metrics; control
# boosts a VM and, killed -9 with its guardian, is restored by the unit's
# ExecStopPost); make install lays out the same tree; purge leaves nothing.
# Needs root and /dev/kvm; systemd need not be running.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
PORT=19987

if dpkg -s kvmrt >/dev/null 2>&1; then
	not_ok "a kvmrt package is installed already: not touching it"
	summary
	exit 1
fi
run_dir=0 # /run/kvmrt as found: left as found
[ -d /run/kvmrt ] && run_dir=1
make -s deb >"$TMP/deb.out" 2>&1
check "make deb: a package built" bash -c "ls build/deb/kvmrt_*_amd64.deb || { cat $TMP/deb.out; exit 1; }"
DEB=$(ls build/deb/kvmrt_*_amd64.deb | head -1)
VERSION=$(dpkg-parsechangelog -l debian/changelog -S Version)

lintian -I --fail-on error,warning build/deb/*.changes >"$TMP/lintian.out" 2>&1
rc=$?
info=$(grep -c '^I:' "$TMP/lintian.out")
check "lintian: no error, no warning ($info info tags)" \
	bash -c "[ $rc = 0 ] && ! grep -q '^[EW]:' $TMP/lintian.out || { cat $TMP/lintian.out; exit 1; }"

# the file lists before, to find what a purge leaves
snapshot() { find /usr /etc /lib /var/lib/systemd 2>/dev/null | grep -v '^/var/lib/dpkg' | sort; }
snapshot >"$TMP/files.before"
check "dpkg -i" dpkg -i "$DEB"

check "installed kvmrt --version is the package's ($VERSION)" \
	test "$(/usr/bin/kvmrt --version)" = "kvmrt $VERSION"
if needs_kvm "the installed guest traced by the installed kvmrt"; then
	/usr/bin/kvmrt-guest -m msi -r 500 -d 4 -q --name pkg-rt &
	g=$!
	BG_PIDS+=("$g")
	/usr/bin/kvmrt trace -d 1 --json="$TMP/t.json" 2>"$TMP/t.err"
	check "installed kvmrt trace -d 1: exit 0, the installed guest traced" bash -c \
		"[ $? = 0 ] && python3 -c 'import json,sys; t=json.load(open(sys.argv[1])); assert any(v[\"name\"]==\"pkg-rt\" and v[\"vcpus\"][0][\"response\"][\"count\"]>0 for v in t[\"vms\"]), t[\"vms\"]' $TMP/t.json"
	wait "$g"
fi

# every page: rendered by man with its warnings on, none said
for p in /usr/share/man/man1/kvmrt*.1.gz; do
	w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$p" 2>&1 >/dev/null)
	check "man --warnings $(basename "$p"): no warning" test -z "$w"
done
check "a man page per command and program" bash -c \
	"for c in kvmrt kvmrt-trace kvmrt-report kvmrt-top kvmrt-export kvmrt-control kvmrt-guest kvmrt-record; do
		[ -e /usr/share/man/man1/\$c.1.gz ] || { echo missing \$c; exit 1; }; done"
check "bash completion: kvmrt tr<TAB> -> trace" bash -c \
	". /usr/share/bash-completion/bash_completion; . /usr/share/bash-completion/completions/kvmrt;
	 COMP_WORDS=(kvmrt tr); COMP_CWORD=1; COMP_LINE='kvmrt tr'; COMP_POINT=8; _kvmrt kvmrt tr kvmrt; [ \"\${COMPREPLY[*]}\" = trace ]"

U=/lib/systemd/system
check "systemd-analyze verify: kvmrt-export.service, kvmrt-control@rt1.service" bash -c \
	"mkdir -p /etc/kvmrt/control && cp /usr/share/kvmrt/control.conf.example /etc/kvmrt/control/rt1.conf &&
	 out=\$(systemd-analyze verify $U/kvmrt-export.service $U/kvmrt-control@rt1.service 2>&1);
	 rm -f /etc/kvmrt/control/rt1.conf; [ -z \"\$out\" ] || { echo \"\$out\"; exit 1; }"

# a unit's command line, as systemd would run it: its Exec line with the
# instance and the environment file's variables put in, under the unit's
# capability bounding set (setpriv: no other capability)
unit_cmd() { # UNIT KEY INSTANCE ENVVAR VALUE
	sed -n "s/^$2=//p" "$U/$1" | sed -e "s/%[iI]/$3/g" -e "s|\$$4|$5|"
}
caps_of() { sed -n 's/^CapabilityBoundingSet=//p' "$U/$1" | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g'; }
# (setpriv execs the command: started with &, $! is the command's pid)
as_unit() { echo setpriv --bounding-set=-all,"$(caps_of "$1")" --inh-caps=-all --; }

. /etc/default/kvmrt
exp=$(unit_cmd kvmrt-export.service ExecStart "" KVMRT_EXPORT_OPTS "--listen 127.0.0.1:$PORT")
check "kvmrt-export.service's default is loopback" bash -c "[[ '$KVMRT_EXPORT_OPTS' == *--listen\ 127.0.0.1:* ]]"
# with KVM, a guest's series; without, the exporter's own
want='kvmrt_build_info'
if kvm_here; then
	/usr/bin/kvmrt-guest -m msi -r 500 -d 6 -q --name pkg-exp &
	BG_PIDS+=($!)
	want='kvmrt_irq_injections_total{vm="pkg-exp"'
fi
$(as_unit kvmrt-export.service) $exp 2>"$TMP/exp.err" &
ep=$!
BG_PIDS+=("$ep")
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/metrics" && break; sleep 0.1; done
sleep 1.5
check "the exporter under its unit's capabilities serves ${want%%\{*} ($exp)" bash -c \
	"curl -s http://127.0.0.1:$PORT/metrics | grep -qF '$want' || { cat $TMP/exp.err; exit 1; }"
kill -INT "$ep"
wait "$ep"

if needs_kvm "kvmrt-control@'s command on the installed guest"; then
	/usr/bin/kvmrt-guest -m msi -r 500 -d 20 -q --name pkgctl &
	gp=$!
	BG_PIDS+=("$gp")
	sleep 0.5
	opts='--prio 20'
	start=$(unit_cmd kvmrt-control@.service ExecStart pkgctl KVMRT_CONTROL_OPTS "$opts")
	stop=$(unit_cmd kvmrt-control@.service ExecStopPost pkgctl KVMRT_CONTROL_OPTS "$opts")
	policy() { local t; for t in /proc/$gp/task/*; do sed 's/.*) //' "$t/stat" | awk '{print $39 "/" $38}'; done | sort | tr '\n' ' '; }
	before=$(policy)
	mkdir -p /run/kvmrt
	$(as_unit kvmrt-control@.service) $start >"$TMP/ctl.out" 2>&1 &
	cp=$!
	for _ in $(seq 100); do grep -qs "kvmrt: controlling" "$TMP/ctl.out" && break; sleep 0.1; done
	during=$(policy)
	check "kvmrt-control@pkgctl's command under its capabilities boosts the vCPU ($start)" \
		bash -c "[[ '$during' == *1/20* ]] || { cat $TMP/ctl.out; echo '$during'; exit 1; }"
	pkill -9 -x kvmrt-guardian
	kill -9 "$cp"
	wait "$cp" 2>/dev/null
	check "  ... killed -9 with its guardian: still boosted, its state file left" \
		bash -c "[[ '$(policy)' == *1/20* ]] && [ -e /run/kvmrt/control-pkgctl.state ]"
	$(as_unit kvmrt-control@.service) $stop
	check "  ... the unit's ExecStopPost restores every thread ($stop)" \
		bash -c "[ '$(policy)' = '$before' ] && [ ! -e /run/kvmrt/control-pkgctl.state ]"
	kill "$gp" 2>/dev/null
	wait "$gp" 2>/dev/null
fi

# make install: the package's tree (less what dh adds: docs, compression)
make -s install DESTDIR="$TMP/root" PREFIX=/usr >/dev/null 2>&1
(cd "$TMP/root" && find . -type f | sed 's/^\.//' | sort) >"$TMP/make.files"
dpkg -L kvmrt | while read -r f; do [ -f "$f" ] && echo "$f"; done |
	grep -v '^/usr/share/doc/' | sed 's/\.gz$//' | sort >"$TMP/deb.files"
check "make install DESTDIR= PREFIX=/usr: the same files as the package" \
	diff "$TMP/make.files" "$TMP/deb.files"

check "dpkg --purge" dpkg --purge kvmrt
[ $run_dir = 1 ] || rmdir /run/kvmrt 2>/dev/null
snapshot >"$TMP/files.after"
check "purge leaves nothing behind" diff "$TMP/files.before" "$TMP/files.after"

summary
