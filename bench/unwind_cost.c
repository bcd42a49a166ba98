/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Measures the wall time of one unwind_thread() call on target programs
 * blocked in read(2). A cold run makes a new module cache for every
 * unwind, so each unwind reads and parses every module it meets; a warm
 * run keeps one cache for all unwinds. The process table and its copy of
 * /proc/PID/maps stay warm in both, as in the supervisor. Prints the
 * median and the 90th percentile in microseconds as a Markdown table.
 *
 * Usage: bench/unwind_cost TARGETS_DIR [UNWINDS]
 * TARGETS_DIR is tests/targets of a build tree after `make check`.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"
#include "unwind.h"

#define DEFAULT_UNWINDS 1000
#define UNWINDS_MAX 100000
#define WAIT_MS 10000

struct workload {
	const char *program;
	const char *argument; /* in TARGETS_DIR, or NULL */
	const char *description;
};

static const struct workload workloads[] = {
	{ "unwind_chain_o2", NULL, "-O2, CFI only" },
	{ "unwind_chain_o0", NULL, "-O0, CFI with rbp recovered" },
	{ "unwind_chain_no_tables", NULL, "no unwind tables, scan" },
	{ "unwind_chain_linked", NULL, "through a linked library" },
	{ "unwind_hostile", "heap-garbage", "pivoted onto heap garbage" },
};

struct target {
	pid_t pid;
	int input;
	struct proc_table table;
	struct process *process;
	uint64_t sp;
	uint64_t ip;
};

static uint64_t now_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

static int start_target(const char *directory, const struct workload *workload,
			struct target *target)
{
	char program[4096], argument[4096];
	char *argv[3] = { program, NULL, NULL };
	int input[2], output;

	snprintf(program, sizeof(program), "%s/%s", directory,
		 workload->program);
	if (workload->argument) {
		if (strchr(workload->argument, '.'))
			snprintf(argument, sizeof(argument), "%s/%s", directory,
				 workload->argument);
		else
			snprintf(argument, sizeof(argument), "%s",
				 workload->argument);
		argv[1] = argument;
	}
	if (pipe2(input, O_CLOEXEC) < 0)
		return -errno;
	output = open("/dev/null", O_WRONLY | O_CLOEXEC);
	target->pid = fork();
	if (target->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (dup2(input[0], 0) < 0 || dup2(output, 1) < 0)
			_exit(127);
		execv(program, argv);
		_exit(127);
	}
	close(input[0]);
	close(output);
	target->input = input[1];
	return target->pid < 0 ? -errno : 0;
}

/* Waits until the main thread blocks in read(2) and reads its pointers. */
static int wait_blocked(struct target *target)
{
	uint64_t deadline = now_ns() + WAIT_MS * 1000000ull;
	struct timespec pause = { .tv_nsec = 1000000 };
	char path[96], text[256];
	long nr;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall",
		 (int)target->pid, (int)target->pid);
	while (now_ns() < deadline) {
		FILE *file = fopen(path, "re");
		int fields = 0;

		if (file) {
			if (fgets(text, sizeof(text), file))
				fields = sscanf(
					text,
					"%ld %*x %*x %*x %*x %*x %*x %lx %lx",
					&nr, &target->sp, &target->ip);
			fclose(file);
		}
		if (fields == 3 && nr == SYS_read) {
			target->process = proc_table_resolve(&target->table,
							     target->pid, &err);
			return target->process ? 0 : err;
		}
		nanosleep(&pause, NULL);
	}
	return -ETIMEDOUT;
}

static void stop_target(struct target *target)
{
	kill(target->pid, SIGKILL);
	waitpid(target->pid, NULL, 0);
	close(target->input);
	proc_table_fini(&target->table);
}

static const struct mapping *find_mapping(void *context, uint64_t address,
					  int *err)
{
	return process_find_mapping(context, address, err);
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t left = *(const uint64_t *)a, right = *(const uint64_t *)b;

	return left < right ? -1 : left > right;
}

/* Unwinds count times; a cold run gets a new module cache each time. */
static int measure(struct target *target, bool cold, uint64_t *samples,
		   size_t count, size_t *frames)
{
	struct unwind_target unwind_target = {
		.tgid = target->process->tgid,
		.tid = target->pid,
		.find_mapping = find_mapping,
		.context = target->process,
		.exe = &target->process->exe,
	};
	struct module_cache *cache = NULL;
	struct unwinder *unwinder = NULL;
	struct stack stack;

	for (size_t i = 0; i < count; i++) {
		uint64_t start;

		if (!cache || cold) {
			unwinder_free(unwinder);
			module_cache_free(cache);
			cache = module_cache_new(64);
			unwinder = cache ? unwinder_new(cache, NULL) : NULL;
			if (!unwinder)
				return -ENOMEM;
		}
		start = now_ns();
		unwind_thread(unwinder, &unwind_target, target->ip, target->sp,
			      &stack);
		samples[i] = now_ns() - start;
		*frames = stack.count;
		unwind_stack_fini(&stack);
	}
	unwinder_free(unwinder);
	module_cache_free(cache);
	qsort(samples, count, sizeof(*samples), compare_u64);
	return 0;
}

static double microseconds(uint64_t ns)
{
	return (double)ns / 1000.0;
}

static int run_workload(const char *directory, const struct workload *workload,
			uint64_t *samples, size_t count)
{
	struct target target = { 0 };
	uint64_t cold_median, cold_p90;
	size_t frames = 0;
	int err;

	proc_table_init(&target.table);
	err = start_target(directory, workload, &target);
	if (err == 0)
		err = wait_blocked(&target);
	if (err == 0)
		err = measure(&target, true, samples, count, &frames);
	cold_median = samples[count / 2];
	cold_p90 = samples[count * 9 / 10];
	if (err == 0)
		err = measure(&target, false, samples, count, &frames);
	if (target.pid > 0)
		stop_target(&target);
	if (err < 0) {
		fprintf(stderr, "unwind_cost: %s: %s\n", workload->program,
			strerror(-err));
		return err;
	}
	printf("| %s | %zu | %.1f | %.1f | %.1f | %.1f |\n",
	       workload->description, frames, microseconds(cold_median),
	       microseconds(cold_p90), microseconds(samples[count / 2]),
	       microseconds(samples[count * 9 / 10]));
	return 0;
}

int main(int argc, char **argv)
{
	size_t count = DEFAULT_UNWINDS;
	uint64_t *samples;
	int status = 0;

	if (argc < 2 || argc > 3) {
		fprintf(stderr,
			"Usage: %s TARGETS_DIR [UNWINDS]\n"
			"Unwind each target program in TARGETS_DIR"
			" (tests/targets after 'make check') UNWINDS"
			" times (default %d) and print the median and"
			" 90th percentile in microseconds.\n",
			argv[0], DEFAULT_UNWINDS);
		return 2;
	}
	if (argc == 3) {
		count = strtoul(argv[2], NULL, 10);
		if (count < 10 || count > UNWINDS_MAX) {
			fprintf(stderr,
				"unwind_cost: UNWINDS must be 10 to %d\n",
				UNWINDS_MAX);
			return 2;
		}
	}
	samples = calloc(count, sizeof(*samples));
	if (!samples)
		return 1;
	printf("| target | frames | cold median us | cold p90 us |"
	       " warm median us | warm p90 us |\n"
	       "|---|---:|---:|---:|---:|---:|\n");
	for (size_t i = 0; i < sizeof(workloads) / sizeof(*workloads); i++) {
		if (run_workload(argv[1], &workloads[i], samples, count) < 0)
			status = 1;
	}
	free(samples);
	return status;
}
