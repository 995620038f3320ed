#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The layers (docs/layout.md): each folder includes only from itself and the
# folders before it in this order, and kvmrt-guest only from agent/lib/ and
# include/. A file that reaches up a layer fails, named with what it includes.
cd "$(dirname "$0")/.." || exit 1
ORDER="include agent/lib agent/collect agent/control agent/commands"
rank() {
	local i=0 o
	for o in $ORDER; do
		[ "$o" = "$1" ] && { echo $i; return; }
		i=$((i + 1))
	done
	echo 99
}
where() { # the layer folder holding header $1, or nothing
	local d
	for d in $ORDER; do
		[ -e "$d/$1" ] && { echo "$d"; return; }
	done
}
bad=0 n=0
check_file() { # file, its rank
	local h t
	for h in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$1"); do
		t=$(where "$h")
		[ -n "$t" ] || continue
		n=$((n + 1))
		if [ "$(rank "$t")" -gt "$2" ]; then
			echo "not ok - $1 includes $t/$h (a layer above it)"
			bad=$((bad + 1))
		fi
	done
}
for d in $ORDER; do
	for f in "$d"/*.[ch]; do
		check_file "$f" "$(rank "$d")"
	done
done
check_file guest/kvmrt-guest.c "$(rank agent/lib)"
[ "$n" -gt 100 ] || { echo "not ok - only $n includes seen"; bad=$((bad + 1)); }
echo "layers: $n includes, $bad reaching up"
[ "$bad" = 0 ]
