#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs bench/run.sh once on tiny sizes, so that `make check` proves that
# every workload runs under the variants that `make bench` compares and
# that the driver prints its table and goals. It asserts nothing about
# speed.

set -eu

: "${NATIVEMON:?NATIVEMON must name the nativemon binary under test}"
build=$(dirname "$NATIVEMON")
driver=${srcdir:-.}/bench/run.sh
workloads='unwatched mprotect memfd direct jit alert exec-miss start build http
memory'
variants='native bare nativemon'

# NOTE: without strace installed the strace variant is left out, and
# only this message reports it.
if command -v strace >/dev/null; then
	variants="$variants strace"
else
	echo "test_bench: strace not found, so its variant does not run"
fi

output=$(
	BENCH_ROUNDS=1 BENCH_WORKLOADS=$workloads BENCH_VARIANTS=$variants \
		BENCH_CALLS=100 BENCH_UNWATCHED_CALLS=1000 BENCH_ALERTS=100 \
		BENCH_STARTS=3 BENCH_BUILD_TARGETS=policy/libpolicy.a \
		BENCH_HTTP_SECONDS=1 BENCH_HTTP_THREADS=1 BENCH_PROCESSES=3 \
		BENCH_TIMEOUT=120 sh "$driver" "$build"
)
echo "$output"

failures=0
for workload in $workloads; do
	for variant in $variants; do
		# The memory workload has no figure without a supervisor.
		if [ "$workload" = memory ] && [ "$variant" = native ]; then
			continue
		fi
		# mprotect's figure subtracts an estimate, so with this few
		# calls under strace's noise its median can come out negative.
		row="^$workload +$variant +[-0-9.]+ +[-0-9.]+ +-?[0-9.]+ "
		if ! echo "$output" | grep -Eq "$row"; then
			echo "test_bench: no row for $workload under $variant"
			failures=$((failures + 1))
		fi
	done
done
for goal in 1 2 3 4 5 6 7; do
	if ! echo "$output" | grep -Eq "^$goal +.* (met|missed)\$"; then
		echo "test_bench: goal $goal has no result"
		failures=$((failures + 1))
	fi
done
if ! echo "$output" | grep -q '^kernel: '; then
	echo "test_bench: the machine description is missing"
	failures=$((failures + 1))
fi
exit $((failures > 0))
