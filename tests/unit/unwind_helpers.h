/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers of the unwinding tests. They start a program from tests/targets
 * with pipes on its stdin and stdout, read the report it prints before it
 * blocks, and wait until the kernel shows it blocked in a syscall. Then
 * they unwind it through the process table, as the supervisor will. Setup
 * failures end the current Criterion test with a failed assertion.
 */
#ifndef NATIVEMON_TESTS_UNWIND_HELPERS_H
#define NATIVEMON_TESTS_UNWIND_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proc.h"
#include "unwind.h"

#define REPORT_ADDRESSES_MAX 32

/*
 * Bounds for tests that check what an unwind finds, not how long it takes:
 * the defaults except for a time limit that a loaded machine or a
 * sanitizer build, which reads modules several times slower, cannot hit.
 */
extern const struct unwind_limits test_limits;

/* What a target program printed about itself before it blocked. */
struct target_report {
	uint64_t returns[REPORT_ADDRESSES_MAX]; /* "return ADDRESS" lines */
	size_t return_count;
	uint64_t backtrace[REPORT_ADDRESSES_MAX]; /* "backtrace ADDRESS" */
	size_t backtrace_count;
	uint64_t stub;	    /* "stub ADDRESS", or 0 */
	pid_t thread;	    /* "thread TID", or 0 */
	char library[4096]; /* "library PATH", or empty */
};

struct target_process {
	pid_t pid;
	int input;	    /* the write end of the target's stdin */
	int output;	    /* the read end of the target's stdout */
	char pending[8192]; /* output read but not yet parsed */
	size_t pending_length;
	struct target_report report;
	/* The blocked thread and its pointers, from target_wait_blocked(). */
	pid_t tid;
	uint64_t sp;
	uint64_t ip;
	long syscall;
	struct proc_table table;
	struct process *process;
};

/*
 * Returns the path of a program in $TARGETS in one of TARGET_PATHS static
 * buffers, which later calls reuse in turn.
 */
#define TARGET_PATHS 8
const char *target_path(const char *name);

/*
 * Waits until the last change of the file at path is settled, so that the
 * module and program caches keep what they read from it (see
 * file_key_is_settled()).
 */
void wait_until_settled(const char *path);

/*
 * Starts $TARGETS/name with the NULL-terminated arguments after argv[0],
 * which may be NULL, and kills it when the test process dies. The first
 * start waits until every file in $TARGETS is settled: make check runs
 * the tests right after it links them, and the module cache keeps no
 * module of a file changed just now.
 */
void target_start(struct target_process *target, const char *name,
		  char *const arguments[]);

/* Reads the target's output up to "ready" into target->report. */
void target_read_report(struct target_process *target);

/*
 * Waits until thread tid (0 for the main thread) is blocked in syscall
 * number nr and stores its stack and instruction pointers.
 */
void target_wait_blocked(struct target_process *target, pid_t tid, long nr);

/* Lets the target's blocking read return one byte. */
void target_release(struct target_process *target);

/* Kills and reaps the target and frees its process table. Idempotent. */
void target_stop(struct target_process *target);

/*
 * Fills an unwind_target for the blocked thread whose lookups go through
 * the process table's process_find_mapping().
 */
void target_describe(struct target_process *target,
		     struct unwind_target *unwind_target);

/* Unwinds the blocked thread with unwinder into stack. */
void target_unwind(struct target_process *target, struct unwinder *unwinder,
		   struct stack *stack);

/*
 * Creates a directory with a random name under $TMPDIR or /tmp, with
 * symbolic links resolved as /proc/PID/maps shows them, into path.
 */
void scratch_create(char *path, size_t size);

/* Removes a scratch directory and everything in it. Accepts "". */
void scratch_remove(const char *path);

/*
 * Copies the file from into to, opened with O_CREAT and flags (O_EXCL for
 * a new file, O_TRUNC to rewrite one in place), with mode 0755.
 */
void copy_file(const char *from, const char *to, int flags);

/* Returns the base name of a frame's module, or "" without a module. */
const char *frame_module_name(const struct frame *frame);

/* Formats a stack, one frame a line, for assertion messages. */
const char *describe_stack(const struct stack *stack);

#endif
