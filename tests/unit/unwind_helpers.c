/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Target processes for the unwinding tests. Waiting polls /proc with a
 * deadline instead of sleeping for a fixed time.
 */
#include "unwind_helpers.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "file_key.h"
#include "procfs.h"

#define DEADLINE_MS 10000

const struct unwind_limits test_limits = { .time_ns = 2000000000ull };

static long long now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

const char *target_path(const char *name)
{
	static char paths[TARGET_PATHS][4096];
	static unsigned int next;
	char *path = paths[next++ % TARGET_PATHS];
	const char *directory = getenv("TARGETS");
	int n;

	cr_assert_not_null(
		directory,
		"TARGETS is not set; run the tests with 'make check'");
	n = snprintf(path, sizeof(paths[0]), "%s/%s", directory, name);
	cr_assert(n > 0 && (size_t)n < sizeof(paths[0]),
		  "target path too long");
	return path;
}

static void exec_target(const char *path, char *const arguments[], int input[2],
			int output[2], pid_t parent)
{
	char *argv[16] = { (char *)path };
	size_t count = 1;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	for (size_t i = 0; arguments && arguments[i] && count < 15; i++)
		argv[count++] = arguments[i];
	argv[count] = NULL;
	if (dup2(input[0], 0) < 0 || dup2(output[1], 1) < 0)
		_exit(127);
	execv(path, argv);
	_exit(127);
}

void wait_until_settled(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0, "cannot stat %s: %s", path,
		     strerror(errno));
	while (!file_key_is_settled(&st))
		usleep(100000);
}

static int settle_entry(const char *path, const struct stat *st, int type)
{
	(void)st;
	if (type == FTW_F)
		wait_until_settled(path);
	return 0;
}

static void settle_targets(void)
{
	static bool settled;

	if (settled)
		return;
	cr_assert_eq(ftw(target_path("."), settle_entry, 16), 0,
		     "cannot list the targets: %s", strerror(errno));
	settled = true;
}

void target_start(struct target_process *target, const char *name,
		  char *const arguments[])
{
	const char *path = target_path(name);
	pid_t parent = getpid();
	int input[2], output[2];

	settle_targets();
	memset(target, 0, sizeof(*target));
	target->pid = -1;
	proc_table_init(&target->table);
	cr_assert_eq(pipe2(input, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(output, O_CLOEXEC), 0);
	target->pid = fork();
	cr_assert_geq(target->pid, 0, "fork: %s", strerror(errno));
	if (target->pid == 0)
		exec_target(path, arguments, input, output, parent);
	close(input[0]);
	close(output[1]);
	target->input = input[1];
	target->output = output[0];
}

static void parse_line(struct target_report *report, const char *line)
{
	uint64_t value;
	int tid;

	if (sscanf(line, "return %" SCNx64, &value) == 1 &&
	    report->return_count < REPORT_ADDRESSES_MAX)
		report->returns[report->return_count++] = value;
	else if (sscanf(line, "backtrace %" SCNx64, &value) == 1 &&
		 report->backtrace_count < REPORT_ADDRESSES_MAX)
		report->backtrace[report->backtrace_count++] = value;
	else if (sscanf(line, "stub %" SCNx64, &value) == 1)
		report->stub = value;
	else if (sscanf(line, "thread %d", &tid) == 1)
		report->thread = tid;
	else if (strncmp(line, "library ", 8) == 0)
		snprintf(report->library, sizeof(report->library), "%s",
			 line + 8);
}

/* Parses complete lines; returns true once "ready" was among them. */
static bool parse_pending(struct target_process *target)
{
	char *line = target->pending, *newline;
	bool ready = false;

	while ((newline = memchr(line, '\n',
				 target->pending_length -
					 (size_t)(line - target->pending)))) {
		*newline = '\0';
		if (strcmp(line, "ready") == 0)
			ready = true;
		else
			parse_line(&target->report, line);
		line = newline + 1;
	}
	target->pending_length -= (size_t)(line - target->pending);
	memmove(target->pending, line, target->pending_length);
	return ready;
}

void target_read_report(struct target_process *target)
{
	long long deadline = now_ms() + DEADLINE_MS;

	memset(&target->report, 0, sizeof(target->report));
	for (;;) {
		struct pollfd poll_fd = { .fd = target->output,
					  .events = POLLIN };
		size_t room = sizeof(target->pending) - target->pending_length;
		ssize_t n;

		cr_assert_lt(now_ms(), deadline,
			     "the target printed no \"ready\" line in time");
		if (poll(&poll_fd, 1, 100) <= 0)
			continue;
		cr_assert_gt(room, 1, "the target printed too much");
		n = read(target->output,
			 target->pending + target->pending_length, room - 1);
		cr_assert_gt(n, 0, "the target exited before \"ready\"");
		target->pending_length += (size_t)n;
		if (parse_pending(target))
			return;
	}
}

/* Reads the syscall number and the last two fields of .../syscall. */
static bool read_syscall_file(pid_t pid, pid_t tid, long *nr, uint64_t *sp,
			      uint64_t *ip)
{
	char path[96], text[256];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)pid,
		 (int)tid);
	if (procfs_read_small(path, text, sizeof(text)) < 0)
		return false;
	return sscanf(text, "%ld %*x %*x %*x %*x %*x %*x %" SCNx64 " %" SCNx64,
		      nr, sp, ip) == 3;
}

void target_wait_blocked(struct target_process *target, pid_t tid, long nr)
{
	long long deadline = now_ms() + DEADLINE_MS;
	struct timespec pause = { .tv_nsec = 1000000 };
	int err;

	target->tid = tid ? tid : target->pid;
	for (;;) {
		if (read_syscall_file(target->pid, target->tid,
				      &target->syscall, &target->sp,
				      &target->ip) &&
		    target->syscall == nr)
			break;
		cr_assert_lt(now_ms(), deadline,
			     "thread %d did not block in syscall %ld in time",
			     (int)target->tid, nr);
		nanosleep(&pause, NULL);
	}
	target->process = proc_table_resolve(&target->table, target->tid, &err);
	cr_assert_not_null(target->process, "proc_table_resolve: %s",
			   strerror(-err));
}

void target_release(struct target_process *target)
{
	char byte = 'x';

	cr_assert_eq(write(target->input, &byte, 1), 1);
	target->process = NULL;
}

void target_stop(struct target_process *target)
{
	if (target->pid > 0) {
		kill(target->pid, SIGKILL);
		waitpid(target->pid, NULL, 0);
		close(target->input);
		close(target->output);
		proc_table_fini(&target->table);
	}
	target->pid = -1;
}

void scratch_create(char *path, size_t size)
{
	const char *tmp = getenv("TMPDIR");
	char template[PATH_MAX];

	snprintf(template, sizeof(template), "%s/nativemon-unwind-XXXXXX",
		 tmp && strlen(tmp) < 256 ? tmp : "/tmp");
	cr_assert_not_null(mkdtemp(template), "mkdtemp: %s", strerror(errno));
	cr_assert_geq(size, (size_t)PATH_MAX);
	cr_assert_not_null(realpath(template, path));
}

static int remove_entry(const char *path, const struct stat *st, int type,
			struct FTW *ftw)
{
	return remove(path);
}

void scratch_remove(const char *path)
{
	if (path[0])
		nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void copy_file(const char *from, const char *to, int flags)
{
	char buffer[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out = open(to, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0755);
	ssize_t n;

	cr_assert_geq(in, 0, "open %s: %s", from, strerror(errno));
	cr_assert_geq(out, 0, "open %s: %s", to, strerror(errno));
	while ((n = read(in, buffer, sizeof(buffer))) > 0)
		cr_assert_eq(write(out, buffer, (size_t)n), n);
	cr_assert_eq(n, 0);
	close(in);
	cr_assert_eq(close(out), 0);
}

static const struct mapping *find_mapping(void *context, uint64_t address,
					  int *err)
{
	return process_find_mapping(context, address, err);
}

void target_describe(struct target_process *target,
		     struct unwind_target *unwind_target)
{
	memset(unwind_target, 0, sizeof(*unwind_target));
	unwind_target->tgid = target->process->tgid;
	unwind_target->tid = target->tid;
	unwind_target->find_mapping = find_mapping;
	unwind_target->context = target->process;
	unwind_target->exe = &target->process->exe;
}

void target_unwind(struct target_process *target, struct unwinder *unwinder,
		   struct stack *stack)
{
	struct unwind_target unwind_target;

	target_describe(target, &unwind_target);
	cr_assert_eq(unwind_thread(unwinder, &unwind_target, target->ip,
				   target->sp, stack),
		     0);
}

const char *frame_module_name(const struct frame *frame)
{
	const char *path, *slash;

	if (!frame->module)
		return "";
	path = module_path(frame->module);
	slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

const char *describe_stack(const struct stack *stack)
{
	static char text[8192];
	size_t used = 0;
	int n;

	n = snprintf(text, sizeof(text), "status %s, %zu frames:\n",
		     unwind_stack_status_name(stack->status), stack->count);
	used = n > 0 ? (size_t)n : 0;
	for (size_t i = 0; i < stack->count && used < sizeof(text); i++) {
		const struct frame *frame = &stack->frames[i];

		n = snprintf(text + used, sizeof(text) - used,
			     "  #%zu %#" PRIx64 " %s %s+%#" PRIx64 " (%s)\n", i,
			     frame->address, frame_module_name(frame),
			     frame->symbol ? frame->symbol : "?",
			     frame->symbol_offset,
			     unwind_frame_method_name(frame->method));
		if (n < 0)
			break;
		used += (size_t)n;
	}
	return text;
}
