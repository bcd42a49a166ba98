#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs every benchmark workload under every variant (no filter, the bare
# supervisor, strace and nativemon), interleaved over several rounds. Prints
# the median of each pair with its ratio to the unfiltered run and to the
# bare supervisor, then nativemon's performance goals and whether the
# medians meet them. Builds nothing in BUILD_DIR.

set -eu

usage() {
	cat <<'EOF'
Usage: bench/run.sh [BUILD_DIR]
Run the benchmark workloads with the programs in BUILD_DIR (default: the
current directory) under each variant, interleaved over several rounds,
and print the medians, their ratios and nativemon's performance goals.
Environment, with defaults in brackets:
  BENCH_ROUNDS           runs of each workload under each variant [5]
  BENCH_WORKLOADS        workloads to run, from: unwatched mprotect memfd
                         direct jit alert exec-miss start build http
                         memory
                         [unwatched mprotect alert start build http memory]
  BENCH_VARIANTS         variants to run, from: native bare bare-poll
                         bare-maps bare-syscall bare-checks strace nativemon
                         nativemon-no-preload nativemon-callsite
                         [native bare strace nativemon]
  BENCH_CALLS            watched calls per run of mprotect, memfd,
                         direct, jit and exec-miss [50000]
  BENCH_UNWATCHED_CALLS  getppid() calls per run of unwatched [5000000]
  BENCH_ALERTS           direct syscalls per run of alert [20000]
  BENCH_STARTS           runs of /bin/true per run of start [500]
  BENCH_BUILD_TARGETS    make targets that build makes after configure
                         [all]
  BENCH_BUILD_JOBS       make jobs of build [2]
  BENCH_HTTP_SECONDS     seconds of load per run of http, after one
                         second of warm-up [5]
  BENCH_HTTP_THREADS     client threads of http, 1-64 [2]
  BENCH_PROCESSES        processes alive at once in memory [100]
  BENCH_TIMEOUT          seconds one run may take before it counts as
                         failed [600]
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
srcdir=$(cd "$(dirname "$0")/.." && pwd)
rounds=${BENCH_ROUNDS:-5}
workloads=${BENCH_WORKLOADS:-unwatched mprotect alert start build http memory}
variants=${BENCH_VARIANTS:-native bare strace nativemon}
calls=${BENCH_CALLS:-50000}
unwatched_calls=${BENCH_UNWATCHED_CALLS:-5000000}
alerts=${BENCH_ALERTS:-20000}
starts=${BENCH_STARTS:-500}
build_targets=${BENCH_BUILD_TARGETS:-all}
build_jobs=${BENCH_BUILD_JOBS:-2}
http_seconds=${BENCH_HTTP_SECONDS:-5}
http_threads=${BENCH_HTTP_THREADS:-2}
processes=${BENCH_PROCESSES:-100}
timeout_seconds=${BENCH_TIMEOUT:-600}

# Prints $1 if the word list after it contains it.
contains() {
	word=$1
	shift
	for item in "$@"; do
		if [ "$item" = "$word" ]; then
			echo "$word"
			return 0
		fi
	done
	return 1
}

check_arguments() {
	for program in bench/workload bench/bare_supervisor bench/http_load \
		nativemon; do
		if [ ! -x "$build/$program" ]; then
			echo "run.sh: $build/$program not found; run" \
				"'make bench' in the build directory or pass" \
				"it as BUILD_DIR" >&2
			exit 2
		fi
	done
	for variant in $variants; do
		case "$variant" in
		native | bare | bare-poll | bare-maps | bare-syscall) ;;
		bare-checks) ;;
		strace | nativemon | nativemon-no-preload) ;;
		nativemon-callsite) ;;
		*)
			echo "run.sh: unknown variant '$variant' in" \
				"BENCH_VARIANTS" >&2
			exit 2
			;;
		esac
	done
	for workload in $workloads; do
		case "$workload" in
		unwatched | mprotect | memfd | direct | jit | alert) ;;
		exec-miss) ;;
		start | build | http | memory) ;;
		*)
			echo "run.sh: unknown workload '$workload' in" \
				"BENCH_WORKLOADS" >&2
			exit 2
			;;
		esac
	done
	for number in "$rounds" "$calls" "$unwatched_calls" "$alerts" \
		"$starts" "$build_jobs" "$http_seconds" "$http_threads" \
		"$processes" "$timeout_seconds"; do
		case "$number" in
		'' | *[!0-9]* | 0)
			echo "run.sh: invalid count '$number', expected a" \
				"positive integer" >&2
			exit 2
			;;
		esac
	done
	if [ -z "$build_targets" ]; then
		echo "run.sh: BENCH_BUILD_TARGETS is empty, expected make" \
			"targets such as 'all'" >&2
		exit 2
	fi
}

# Finds the programs that some workloads and variants need.
find_tools() {
	# shellcheck disable=SC2086 # word lists
	if contains strace $variants >/dev/null; then
		if ! command -v strace >/dev/null; then
			echo "run.sh: strace not found; install it or leave" \
				"strace out of BENCH_VARIANTS" >&2
			exit 2
		fi
		# strace traces every call of each syscall that nativemon
		# watches, because it cannot test the arguments as the
		# filter does.
		trace_list=$("$build/nativemon" policy show |
			sed -n 's/^watch \([a-z0-9_]*\).*/\1/p' |
			paste -s -d , -)
		if [ -z "$trace_list" ]; then
			echo "run.sh: 'nativemon policy show' listed no" \
				"watched syscalls for strace" >&2
			exit 1
		fi
	fi
	# shellcheck disable=SC2086
	if contains http $workloads >/dev/null; then
		# A launcher script such as pyenv's would add its own exec.
		if ! python=$(python3 -c \
			'import sys; print(sys.executable)' 2>/dev/null) ||
			[ -z "$python" ]; then
			echo "run.sh: python3 not found; install it or leave" \
				"http out of BENCH_WORKLOADS" >&2
			exit 2
		fi
	fi
	# shellcheck disable=SC2086
	if contains build $workloads >/dev/null &&
		[ ! -x "$srcdir/configure" ]; then
		echo "run.sh: $srcdir/configure not found; run 'autoreconf" \
			"-fi' in the source tree or leave build out of" \
			"BENCH_WORKLOADS" >&2
		exit 2
	fi
}

# Copies the source tree that the build workload configures and builds,
# leaving out the version control data and this run's own directory.
prepare_build() {
	mkdir "$work/src"
	case "$work" in
	"$srcdir"/*) exclude="./${work#"$srcdir"/}" ;;
	*) exclude=./.git ;;
	esac
	tar -C "$srcdir" --exclude=./.git --exclude=./autom4te.cache \
		--exclude="$exclude" -cf - . | tar -C "$work/src" -xf -
	# configure refuses to build elsewhere from a configured source tree.
	if [ -f "$work/src/config.status" ]; then
		(cd "$work/src" && make -s distclean >/dev/null)
	fi
}

prepare_http() {
	mkdir "$work/www"
	awk 'BEGIN { for (i = 0; i < 16; i++) printf "%063d\n", i }' \
		>"$work/www/index.html"
}

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
	bare-checks) $limit "$bare" --checks -- "$@" ;;
	strace)
		$limit strace -f --seccomp-bpf -qq -o /dev/null \
			-e trace="$trace_list" -- "$@"
		;;
	nativemon)
		$limit "$build/nativemon" run --quiet --log "$events" -- "$@"
		;;
	nativemon-no-preload)
		$limit "$build/nativemon" run --no-preload --quiet \
			--log "$events" -- "$@"
		;;
	nativemon-callsite)
		$limit "$build/nativemon" run --quiet --log "$events" \
			--policy "$work/callsite.policy" -- "$@"
		;;
	esac
}

# Runs the command given after $1 and $2 under variant $2, with its output
# in $work/out and $work/err, and exits the script if the command fails.
run_checked() {
	workload=$1
	variant=$2
	shift 2
	status=0
	run_variant "$variant" "$@" >"$work/out" 2>"$work/err" || status=$?
	if [ $status -eq 124 ] && [ -n "$limit" ]; then
		echo "run.sh: $workload under $variant timed out after" \
			"$timeout_seconds s (BENCH_TIMEOUT)" >&2
		exit 1
	elif [ $status -ne 0 ]; then
		echo "run.sh: $workload under $variant failed with exit" \
			"status $status:" >&2
		tail -n 20 "$work/err" >&2
		exit 1
	fi
}

# Sets value to the number after "$1=" in the output of the last run.
read_field() {
	value=$(sed -n "s/.*\\<$1=\\(-\\{0,1\\}[0-9.]*\\).*/\\1/p" \
		"$work/out")
	if [ -z "$value" ]; then
		echo "run.sh: no $1 in the output of $workload under" \
			"$variant:" >&2
		cat "$work/out" "$work/err" >&2
		exit 1
	fi
}

# Sets value to the mean ns per call of workload KIND over $3 calls.
measure_calls() {
	run_checked "$1" "$2" "$build/bench/workload" "$1" "$3"
	read_field ns_per_call
}

# Sets value to the us per start of /bin/true, started from a shell loop.
measure_start() {
	begin=$(date +%s%N)
	# shellcheck disable=SC2016 # expanded by the shell under test
	run_checked start "$1" /bin/sh -c \
		'i=0
		while [ "$i" -lt "$1" ]; do
			/bin/true
			i=$((i + 1))
		done' sh "$starts"
	end=$(date +%s%N)
	value=$(awk -v ns=$((end - begin)) -v n="$starts" \
		'BEGIN { printf "%.1f", ns / n / 1000 }')
}

# Sets value to the seconds that configure and make take in a new build
# directory of the copied source tree.
measure_build() {
	rm -rf "$work/build-tree"
	mkdir "$work/build-tree"
	begin=$(date +%s%N)
	# The make of `make bench` or `make check` must not lend its jobs.
	# shellcheck disable=SC2016,SC2086 # expanded by the shell under test
	run_checked build "$1" /bin/sh -c \
		'unset MAKEFLAGS MFLAGS MAKELEVEL
		cd "$1" && "$2/configure" -q --disable-tests &&
			make -s -j"$3" $4' \
		sh "$work/build-tree" "$work/src" "$build_jobs" "$build_targets"
	end=$(date +%s%N)
	value=$(awk -v ns=$((end - begin)) 'BEGIN { printf "%.3f", ns / 1e9 }')
}

# Waits up to 30 s for the server started as $wrapper to print its port.
wait_for_port() {
	tries=0
	while [ $tries -lt 300 ]; do
		# The server's shell may not have created the file yet.
		port=$(sed -n 's/^Serving HTTP on .* port \([0-9]*\) .*/\1/p' \
			"$work/server.out" 2>/dev/null)
		if [ -n "$port" ] && [ -s "$work/server.pid" ]; then
			return 0
		fi
		if ! kill -0 "$wrapper" 2>/dev/null; then
			return 1
		fi
		sleep 0.1
		tries=$((tries + 1))
	done
	return 1
}

# Sets value to the requests per second that python3 -m http.server,
# started under variant $1 on a port that the kernel picks, completes.
measure_http() {
	rm -f "$work/server.pid" "$work/server.out"
	# The shell writes its pid and becomes the server, so that the
	# server itself, not the variant's supervisor, gets the SIGTERM.
	# shellcheck disable=SC2016 # expanded by the shell under test
	run_variant "$1" /bin/sh -c 'echo "$$" >"$1"; shift; exec "$@"' sh \
		"$work/server.pid" "$python" -u -m http.server \
		--bind 127.0.0.1 --directory "$work/www" 0 \
		>"$work/server.out" 2>"$work/server.err" &
	wrapper=$!
	if ! wait_for_port; then
		echo "run.sh: http.server under $1 printed no port within" \
			"30 s:" >&2
		tail -n 20 "$work/server.err" >&2
		if [ -s "$work/server.pid" ]; then
			kill "$(cat "$work/server.pid")" 2>/dev/null || true
		fi
		kill "$wrapper" 2>/dev/null || true
		exit 1
	fi
	server_pid=$(cat "$work/server.pid")
	status=0
	"$build/bench/http_load" "$port" "$http_seconds" "$http_threads" \
		/index.html >"$work/out" 2>"$work/err" || status=$?
	kill "$server_pid"
	wait "$wrapper" || true
	server_pid=
	if [ $status -ne 0 ]; then
		echo "run.sh: the HTTP load under $1 failed with exit status" \
			"$status:" >&2
		cat "$work/err" >&2
		exit 1
	fi
	read_field requests_per_second
}

# Sets value to the peak RSS in KiB of the supervisor of variant $1 with
# $processes processes under it at once.
measure_memory() {
	run_checked memory "$1" "$build/bench/workload" processes "$processes"
	read_field parent_hwm_kib
}

# Every alert must reach the log, or the alert figure is not per alert.
check_events() {
	case "$1" in
	nativemon | nativemon-no-preload | nativemon-callsite) ;;
	*) return 0 ;;
	esac
	case "$2" in
	direct)
		if ! grep -q '"nm-0004"' "$events" 2>/dev/null; then
			echo "run.sh: warning: nativemon logged no" \
				"direct-syscall alert (rule nm-0004) for the" \
				"direct workload" >&2
		fi
		;;
	alert)
		logged=$(grep -c '"nm-0004"' "$events" 2>/dev/null || true)
		if [ "${logged:-0}" -lt "$alerts" ]; then
			echo "run.sh: nativemon logged ${logged:-0}" \
				"direct-syscall alerts for the $alerts calls" \
				"of the alert workload: it folded some, so" \
				"the figure is not per alert" >&2
			exit 1
		fi
		;;
	esac
}

# Runs one workload under one variant and appends its result. The memory
# workload reads its parent's peak RSS, which is no supervisor's without
# one, so it does not run without a filter.
run_one() {
	variant=$1
	workload=$2
	rm -f "$events"
	case "$workload" in
	unwatched) measure_calls unwatched "$variant" "$unwatched_calls" ;;
	mprotect | memfd | direct | jit | exec-miss)
		measure_calls "$workload" "$variant" "$calls"
		;;
	alert) measure_calls alert "$variant" "$alerts" ;;
	start) measure_start "$variant" ;;
	build) measure_build "$variant" ;;
	http) measure_http "$variant" ;;
	memory)
		if [ "$variant" = native ]; then
			return 0
		fi
		measure_memory "$variant"
		;;
	esac
	echo "$workload $variant $value" >>"$results"
	check_events "$variant" "$workload"
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
		function unit(workload) {
			if (workload == "start")
				return "us/start"
			if (workload == "build")
				return "s/build"
			if (workload == "http")
				return "req/s"
			if (workload == "memory")
				return "KiB"
			return "ns/call"
		}
		END {
			printf "%-9s %-20s %9s %9s %12s %-8s %7s\n",
				"workload", "variant", "x native", "x bare",
				"median", "unit", "spread"
			row = "%-9s %-20s %9s %9s %12.1f %-8s %6.0f%%\n"
			nw = split(workloads, w, " ")
			nv = split(variants, v, " ")
			for (i = 1; i <= nw; i++) {
				# Reading a missing element would create it.
				native = bare = ""
				if ((w[i] " native") in median)
					native = median[w[i] " native"]
				if ((w[i] " bare") in median)
					bare = median[w[i] " bare"]
				for (j = 1; j <= nv; j++) {
					key = w[i] " " v[j]
					if (!(key in median))
						continue
					printf row, w[i], v[j],
						ratio(median[key], native),
						ratio(median[key], bare),
						median[key], unit(w[i]),
						spread[key]
				}
			}
		}'
}

# Prints nativemon's performance goals, each with the median figure it
# is judged on and whether that figure meets it.
print_goals() {
	medians | awk -v processes="$processes" '
		{ median[$1 " " $2] = $3 }
		function quotient(a, b) {
			if (!(a in median) || !(b in median) || median[b] <= 0)
				return ""
			return median[a] / median[b]
		}
		function scaled(key, divisor) {
			return key in median ? median[key] / divisor : ""
		}
		function goal(number, text, value, operator, target) {
			if (value == "")
				result = "not run"
			else if (operator == "<=")
				result = value <= target ? "met" : "missed"
			else
				result = value >= target ? "met" : "missed"
			printf "%-2s %-50s %8s %2s %-6s %s\n", number, text,
				value == "" ? "-" : sprintf("%.2f", value),
				operator, target, result
		}
		END {
			printf "%-2s %-50s %8s %9s %s\n", "", "goal",
				"measured", "target", "result"
			goal(1, "unwatched syscall, nativemon x native",
				quotient("unwatched nativemon",
					"unwatched native"),
				"<=", 1.02)
			goal(2, "watched mprotect, nativemon x bare",
				quotient("mprotect nativemon", "mprotect bare"),
				"<=", 1.3)
			goal(2, "watched mprotect, strace / nativemon",
				quotient("mprotect strace",
					"mprotect nativemon"),
				">=", 2)
			goal(3, "process start, nativemon x native",
				quotient("start nativemon", "start native"),
				"<=", 1.5)
			goal(4, "build, nativemon x native",
				quotient("build nativemon", "build native"),
				"<=", 1.05)
			goal(5, "alert path, us per alert under nativemon",
				scaled("alert nativemon", 1000), "<=", 50)
			goal(6, "service, nativemon x native requests/s",
				quotient("http nativemon", "http native"),
				">=", 0.97)
			goal(7, "memory, nativemon MiB peak RSS, " processes \
				" processes", scaled("memory nativemon", 1024),
				"<=", 16)
		}'
}

print_machine() {
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo |
		head -n 1)
	memory=$(awk '/^MemTotal:/ { printf "%d MiB", $2 / 1024 }' \
		/proc/meminfo)
	echo "date:      $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "kernel:    $(uname -r)"
	echo "cpu:       ${cpu:-unknown} ($(nproc 2>/dev/null || echo '?')" \
		"online)"
	echo "memory:    $memory"
	echo "load:      $(cut -d ' ' -f 1-3 /proc/loadavg) (1, 5, 15 min)"
	echo "nativemon: $("$build/nativemon" --version | head -n 1)"
	if [ -n "$trace_list" ]; then
		echo "strace:    $(strace -V | head -n 1)"
	fi
	if [ -n "$python" ]; then
		echo "python:    $("$python" -V) ($python)"
	fi
	echo "rounds:    $rounds, median of each workload and variant"
	echo "sizes:     calls $calls, unwatched calls $unwatched_calls," \
		"alerts $alerts, starts $starts, make -j$build_jobs" \
		"$build_targets, HTTP load $http_seconds s, HTTP threads" \
		"$http_threads, processes $processes"
	echo
}

check_arguments
trace_list=
python=
find_tools

build=$(cd "$build" && pwd)
work=$(mktemp -d "$build/bench/run.XXXXXX")
server_pid=
cleanup() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
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

# shellcheck disable=SC2086 # word lists
if contains build $workloads >/dev/null; then
	prepare_build
fi
# shellcheck disable=SC2086
if contains http $workloads >/dev/null; then
	prepare_http
fi
# A rule that matches nothing but needs every fact that the rules of a
# learned baseline need: the build-ids and offsets of the syscall's module
# and of the caller, so each watched call is unwound to its caller.
cat >"$work/callsite.policy" <<'EOF'
allow native-api module /nonexistent offset 0 build-id 00 \
	caller /nonexistent caller-offset 0 caller-build-id 00 \
	id bench-callsite
EOF

print_machine
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
echo
print_goals
