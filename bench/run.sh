#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs every benchmark workload under every supervisor variant, interleaved
# over several rounds, and prints the median ns per watched call with its
# ratio to the unfiltered run and to the bare supervisor. Builds nothing.

set -eu

usage() {
	cat <<'EOF'
Usage: bench/run.sh [BUILD_DIR]
Run bench/workload from BUILD_DIR (default: the current directory) under
each variant and print median ns per watched call. Environment:
  BENCH_CALLS      watched calls per run (default 50000)
  BENCH_ROUNDS     runs of each workload and variant (default 5)
  BENCH_WORKLOADS  workloads to run (default "mprotect memfd direct jit")
  BENCH_VARIANTS   variants to run (default "native bare bare-poll
                   bare-maps bare-syscall nativemon")
  BENCH_TIMEOUT    seconds one run may take before it counts as failed
                   (default 120)
EOF
}

case "${1:-}" in
-h | --help)
	usage
	exit 0
	;;
esac
if [ $# -gt 1 ]; then
	usage >&2
	exit 2
fi

build=${1:-.}
calls=${BENCH_CALLS:-50000}
rounds=${BENCH_ROUNDS:-5}
workloads=${BENCH_WORKLOADS:-mprotect memfd direct jit}
all_variants='native bare bare-poll bare-maps bare-syscall nativemon'
variants=${BENCH_VARIANTS:-$all_variants}
timeout_seconds=${BENCH_TIMEOUT:-120}

for program in bench/workload bench/bare_supervisor nativemon; do
	if [ ! -x "$build/$program" ]; then
		echo "run.sh: $build/$program not found; run 'make bench'" \
			"in the build directory or pass it as BUILD_DIR" >&2
		exit 2
	fi
done
for variant in $variants; do
	case "$variant" in
	native | bare | bare-poll | bare-maps | bare-syscall | nativemon) ;;
	*)
		echo "run.sh: unknown variant '$variant' in BENCH_VARIANTS" >&2
		exit 2
		;;
	esac
done
for workload in $workloads; do
	case "$workload" in
	mprotect | memfd | direct | jit) ;;
	*)
		echo "run.sh: unknown workload '$workload' in" \
			"BENCH_WORKLOADS" >&2
		exit 2
		;;
	esac
done
for number in "$calls" "$rounds" "$timeout_seconds"; do
	case "$number" in
	'' | *[!0-9]* | 0)
		echo "run.sh: invalid count '$number', expected a positive" \
			"integer" >&2
		exit 2
		;;
	esac
done

build=$(cd "$build" && pwd)
work=$(mktemp -d "$build/bench/run.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
results=$work/results
events=$work/events.jsonl
: >"$results"

if command -v timeout >/dev/null; then
	limit="timeout $timeout_seconds"
else
	limit=
fi

# Runs the command given after $1 under variant $1.
run_variant() {
	variant=$1
	shift
	bare=$build/bench/bare_supervisor
	# shellcheck disable=SC2086 # $limit is a word list
	case "$variant" in
	native) $limit "$@" ;;
	bare) $limit "$bare" -- "$@" ;;
	bare-poll) $limit "$bare" --poll -- "$@" ;;
	bare-maps) $limit "$bare" --read-maps -- "$@" ;;
	bare-syscall) $limit "$bare" --read-syscall -- "$@" ;;
	nativemon)
		$limit "$build/nativemon" run --quiet --log "$events" -- "$@"
		;;
	esac
}

# Runs one workload under one variant and appends its result.
run_one() {
	variant=$1
	workload=$2
	rm -f "$events"
	status=0
	output=$(run_variant "$variant" "$build/bench/workload" \
		"$workload" "$calls") || status=$?
	if [ $status -eq 124 ] && [ -n "$limit" ]; then
		echo "run.sh: $workload under $variant timed out after" \
			"$timeout_seconds s (BENCH_TIMEOUT)" >&2
		exit 1
	elif [ $status -ne 0 ]; then
		echo "run.sh: $workload under $variant failed with exit" \
			"status $status" >&2
		exit 1
	fi
	ns=$(echo "$output" |
		sed -n 's/.* ns_per_call=\(-\{0,1\}[0-9.]*\).*/\1/p')
	if [ -z "$ns" ]; then
		echo "run.sh: no result from $workload under $variant:" \
			"$output" >&2
		exit 1
	fi
	echo "$workload $variant $ns" >>"$results"
	check_alert "$variant" "$workload"
}

# A direct syscall must leave an alert, or nativemon did not see the calls.
check_alert() {
	if [ "$1" = nativemon ] && [ "$2" = direct ] &&
		! grep -q '"nm-0004"' "$events" 2>/dev/null; then
		echo "run.sh: warning: nativemon logged no direct-syscall" \
			"alert (rule nm-0004) for the direct workload" >&2
	fi
	return 0
}

# Prints the variant list rotated left by $1, so no variant always runs
# first after a workload change.
rotate() {
	shift_by=$1
	shift
	count=$#
	index=0
	while [ $index -lt $count ]; do
		position=$(((index + shift_by) % count + 1))
		eval "printf '%s ' \"\${$position}\""
		index=$((index + 1))
	done
}

# Prints "workload variant median min max" for every pair with results.
medians() {
	sort -k1,1 -k2,2 -k3,3g "$results" | awk '
		function flush() {
			if (count == 0)
				return
			middle = int((count + 1) / 2)
			median = value[middle]
			if (count % 2 == 0)
				median = (median + value[middle + 1]) / 2
			print key, median, value[1], value[count]
		}
		$1 " " $2 != key {
			flush()
			key = $1 " " $2
			count = 0
		}
		{ value[++count] = $3 }
		END { flush() }'
}

# Prints the table in the order of BENCH_WORKLOADS and BENCH_VARIANTS:
# ratios first, then the absolute median and the spread of the rounds,
# (max - min) / median.
print_table() {
	medians | awk -v workloads="$workloads" -v variants="$variants" '
		{
			median[$1 " " $2] = $3
			spread[$1 " " $2] = $3 > 0 ? 100 * ($5 - $4) / $3 : 0
		}
		function ratio(value, reference) {
			if (reference == "" || reference <= 0)
				return "-"
			return sprintf("%.2f", value / reference)
		}
		END {
			printf "%-9s %-13s %9s %9s %12s %8s\n", "workload",
				"variant", "x native", "x bare", "ns/call",
				"spread"
			row = "%-9s %-13s %9s %9s %12.1f %7.0f%%\n"
			nw = split(workloads, w, " ")
			nv = split(variants, v, " ")
			for (i = 1; i <= nw; i++) {
				native = median[w[i] " native"]
				bare = median[w[i] " bare"]
				for (j = 1; j <= nv; j++) {
					key = w[i] " " v[j]
					ns = median[key]
					printf row, w[i], v[j],
						ratio(ns, native),
						ratio(ns, bare), ns, spread[key]
				}
			}
		}'
}

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "date:     $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "kernel:   $(uname -r)"
echo "cpu:      ${cpu:-unknown} ($(nproc 2>/dev/null || echo '?') online)"
echo "calls:    $calls watched calls per run"
echo "rounds:   $rounds, median of each workload and variant"
echo

round=0
while [ $round -lt "$rounds" ]; do
	round=$((round + 1))
	printf 'round %d of %d\n' "$round" "$rounds" >&2
	for workload in $workloads; do
		# shellcheck disable=SC2086 # a word list
		for variant in $(rotate "$round" $variants); do
			run_one "$variant" "$workload"
		done
	done
done

print_table
