#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Checks what libnativemon.so exports: the interposed functions and no
# other symbol, so that the shim adds nothing to the programs it is
# preloaded into. Also checks that its dlopen and dlmopen make no indirect
# call. They reach the real function through the trampoline or by a tail
# call, and an ordinary call would make the shim the module from which
# the loader resolves $ORIGIN, DT_RUNPATH and the namespace.

set -eu

: "${SHIM:?SHIM must name libnativemon.so}"
expected='dlmopen dlopen memfd_create mmap mmap64 mprotect pkey_mprotect'
status=0

exported=$(nm -D --defined-only "$SHIM" | awk '{ sub(/@.*/, "", $3); print $3 }' |
	sort | tr '\n' ' ' | sed 's/ $//')
if [ "$exported" != "$expected" ]; then
	echo "test_preload_symbols: $SHIM exports '$exported'," \
		"expected '$expected'"
	status=1
fi

disassembly=$(objdump -d --no-show-raw-insn "$SHIM")
for function in dlopen dlmopen; do
	# The function and the cold part that GCC may split off it.
	body=$(printf '%s\n' "$disassembly" | awk -v name="$function" '
		$2 == "<" name ">:" || $2 == "<" name ".cold>:" { inside = 1; print; next }
		/^$/ { inside = 0 }
		inside { print }')
	if [ -z "$body" ]; then
		echo "test_preload_symbols: no code of $function in $SHIM"
		status=1
		continue
	fi
	if printf '%s\n' "$body" | grep -E 'call +\*' >/dev/null; then
		echo "test_preload_symbols: $function makes an indirect call:"
		printf '%s\n' "$body" | grep -E 'call +\*'
		status=1
	fi
	if ! printf '%s\n' "$body" | grep -E 'jmp +\*' >/dev/null; then
		echo "test_preload_symbols: $function has no tail call"
		status=1
	fi
done

[ "$status" -eq 0 ] && echo "test_preload_symbols: exports and tail calls as expected"
exit "$status"
