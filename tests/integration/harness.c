/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers for the integration tests: running commands with a deadline and
 * captured output, background sessions of nativemon, scratch directories
 * and the other resources of a test, and reading and querying the JSON
 * Lines log that nativemon writes.
 */
#include "harness.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Enough for the longest argument list a test builds. */
#define ARGS_MAX 64

/* What a child that could not run its command reports to the parent. */
struct spawn_error {
	int step; /* one of the SPAWN_STEP_* values */
	int error;
};

enum {
	SPAWN_STEP_CHDIR,
	SPAWN_STEP_SET_IDS,
	SPAWN_STEP_EXEC,
};

static const char *const spawn_step_names[] = {
	[SPAWN_STEP_CHDIR] = "change to the working directory",
	[SPAWN_STEP_SET_IDS] = "switch user and group ids",
	[SPAWN_STEP_EXEC] = "execute",
};

struct capture {
	int fd;
	char *bytes;
	size_t length;
	size_t capacity;
};

const char *harness_nativemon_path(void)
{
	const char *path = getenv("NATIVEMON");

	cr_assert(path && *path,
		  "NATIVEMON is not set; run the tests with 'make check'");
	return path;
}

const char *harness_targets_dir(void)
{
	const char *path = getenv("TARGETS");

	cr_assert(path && *path,
		  "TARGETS is not set; run the tests with 'make check'");
	return path;
}

char *harness_target_path(const char *name)
{
	char joined[PATH_MAX], *resolved;
	int n;

	n = snprintf(joined, sizeof(joined), "%s/%s", harness_targets_dir(),
		     name);
	cr_assert(n > 0 && (size_t)n < sizeof(joined),
		  "target path too long: %s/%s", harness_targets_dir(), name);
	resolved = realpath(joined, NULL);
	cr_assert(resolved, "target program %s not found: %s", joined,
		  strerror(errno));
	cr_assert(access(resolved, R_OK) == 0, "target %s is not readable: %s",
		  resolved, strerror(errno));
	return resolved;
}

/*
 * nativemon responds to notifications with SECCOMP_USER_NOTIF_FLAG_CONTINUE,
 * which Linux 5.5 added. The kernel offers no probe for that flag, so the
 * test checks the release number instead.
 */
void harness_require_user_notification(void)
{
	unsigned int action = SECCOMP_RET_USER_NOTIF;
	struct utsname name;
	int major = 0, minor = 0;

	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) < 0)
		cr_skip_test("kernel without seccomp user notification: %s",
			     strerror(errno));
	if (uname(&name) == 0 &&
	    sscanf(name.release, "%d.%d", &major, &minor) == 2 &&
	    (major < 5 || (major == 5 && minor < 5)))
		cr_skip_test("kernel %s predates SECCOMP_USER_NOTIF_FLAG_"
			     "CONTINUE (Linux 5.5)",
			     name.release);
}

long long harness_now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

void harness_wait_poll_interval(void)
{
	const struct timespec interval = { .tv_nsec = 1000000 };

	nanosleep(&interval, NULL);
}

/*
 * Marks every descriptor above stderr close-on-exec, so the command does
 * not inherit the test runner's. close_range(2) came in Linux 5.11; on
 * older kernels the descriptors stay open.
 */
static void mark_descriptors_cloexec(void)
{
#ifdef SYS_close_range
	syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
#endif
}

/* Runs in the forked child, which reports a failure on error_fd. */
static void run_child(char *const argv[], const struct harness_options *options,
		      int out_fd, int err_fd, int error_fd)
{
	struct spawn_error failure = { 0 };
	int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	setpgid(0, 0);
	signal(SIGPIPE, SIG_DFL);
	dup2(null_fd, STDIN_FILENO);
	dup2(out_fd, STDOUT_FILENO);
	dup2(err_fd, STDERR_FILENO);
	mark_descriptors_cloexec();
	if (options->cwd && chdir(options->cwd) < 0) {
		failure.step = SPAWN_STEP_CHDIR;
		goto fail;
	}
	if (options->set_ids &&
	    (setgroups(0, NULL) < 0 ||
	     setresgid(options->gid, options->gid, options->gid) < 0 ||
	     setresuid(options->uid, options->uid, options->uid) < 0)) {
		failure.step = SPAWN_STEP_SET_IDS;
		goto fail;
	}
	if (options->env)
		environ = (char **)options->env;
	execvp(argv[0], argv);
	failure.step = SPAWN_STEP_EXEC;
fail:
	failure.error = errno;
	if (write(error_fd, &failure, sizeof(failure)) < 0)
		_exit(126);
	_exit(126);
}

void harness_open_pipe(int fds[2])
{
	cr_assert(pipe2(fds, O_CLOEXEC) == 0, "pipe2 failed: %s",
		  strerror(errno));
}

/* Reads the bytes available and returns false at end of file. */
static bool read_capture(struct capture *capture)
{
	ssize_t n;

	if (capture->capacity - capture->length < 4096) {
		capture->capacity = capture->capacity * 2 + 8192;
		capture->bytes = realloc(capture->bytes, capture->capacity);
		cr_assert(capture->bytes, "out of memory for command output");
	}
	do {
		n = read(capture->fd, capture->bytes + capture->length,
			 capture->capacity - capture->length - 1);
	} while (n < 0 && errno == EINTR);
	cr_assert(n >= 0, "reading command output failed: %s", strerror(errno));
	capture->length += (size_t)n;
	capture->bytes[capture->length] = '\0';
	return n > 0;
}

static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	return -1;
#endif
}

/*
 * Polls the two output pipes and the child's pidfd until the child exited
 * and both pipes reached end of file, or until the deadline. Without a
 * pidfd (Linux before 5.3) the end of the output is taken as the exit.
 */
static bool collect(struct capture captures[2], pid_t pid, long long deadline)
{
	int pidfd = open_pidfd(pid);
	bool exited = pidfd < 0;
	bool open_pipes[2] = { true, true };

	while (!exited || open_pipes[0] || open_pipes[1]) {
		struct pollfd fds[3];
		long long left = deadline - harness_now_ms();
		int ready;

		if (left <= 0)
			break;
		for (int i = 0; i < 2; i++) {
			fds[i].fd = open_pipes[i] ? captures[i].fd : -1;
			fds[i].events = POLLIN;
		}
		fds[2].fd = exited ? -1 : pidfd;
		fds[2].events = POLLIN;
		ready = poll(fds, 3, (int)left);
		cr_assert(ready >= 0 || errno == EINTR, "poll failed: %s",
			  strerror(errno));
		for (int i = 0; ready > 0 && i < 2; i++) {
			if (fds[i].revents && !read_capture(&captures[i]))
				open_pipes[i] = false;
		}
		if (ready > 0 && fds[2].revents)
			exited = true;
	}
	if (pidfd >= 0)
		close(pidfd);
	return exited && !open_pipes[0] && !open_pipes[1];
}

/*
 * Fails the test if the child reported that it could not run its command.
 * A successful exec closes the child's end of error_fd (O_CLOEXEC), so the
 * read returns 0 then.
 */
static void check_spawn(int error_fd, pid_t pid, char *const argv[])
{
	struct spawn_error failure;
	ssize_t n;

	do {
		n = read(error_fd, &failure, sizeof(failure));
	} while (n < 0 && errno == EINTR);
	close(error_fd);
	if (n == 0)
		return;
	waitpid(pid, NULL, 0);
	cr_assert(n == sizeof(failure),
		  "incomplete error report from the child for '%s'", argv[0]);
	cr_assert_fail("cannot %s '%s': %s", spawn_step_names[failure.step],
		       argv[0], strerror(failure.error));
}

static void decode_status(struct harness_result *result)
{
	int status = result->wait_status;

	if (result->timed_out)
		result->exit_code = -1;
	else if (WIFEXITED(status))
		result->exit_code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		result->exit_code = 128 + WTERMSIG(status);
	else
		result->exit_code = -1;
}

void harness_run(char *const argv[], const struct harness_options *options,
		 struct harness_result *result)
{
	static const struct harness_options defaults = { 0 };
	struct capture captures[2] = { { 0 }, { 0 } };
	int out_pipe[2], err_pipe[2], error_pipe[2];
	long long deadline;

	if (!options)
		options = &defaults;
	memset(result, 0, sizeof(*result));
	harness_open_pipe(out_pipe);
	harness_open_pipe(err_pipe);
	harness_open_pipe(error_pipe);
	deadline = harness_now_ms() + (options->timeout_ms > 0
					       ? options->timeout_ms
					       : HARNESS_TIMEOUT_MS);
	result->pid = fork();
	cr_assert(result->pid >= 0, "fork failed: %s", strerror(errno));
	if (result->pid == 0)
		run_child(argv, options, out_pipe[1], err_pipe[1],
			  error_pipe[1]);
	/* Also here, so that the group exists before kill() can need it. */
	setpgid(result->pid, result->pid);
	close(out_pipe[1]);
	close(err_pipe[1]);
	close(error_pipe[1]);
	check_spawn(error_pipe[0], result->pid, argv);
	captures[0].fd = out_pipe[0];
	captures[1].fd = err_pipe[0];
	result->timed_out = !collect(captures, result->pid, deadline);
	/* The group id is the child's pid: setpgid(0, 0) ran before exec. */
	kill(-result->pid, SIGKILL);
	if (result->timed_out)
		waitpid(result->pid, NULL, 0);
	else
		waitpid(result->pid, &result->wait_status, 0);
	close(out_pipe[0]);
	close(err_pipe[0]);
	decode_status(result);
	result->out = captures[0].bytes ? captures[0].bytes : strdup("");
	result->out_length = captures[0].length;
	result->err = captures[1].bytes ? captures[1].bytes : strdup("");
	result->err_length = captures[1].length;
}

/* Fills list with first and the rest of args up to their NULL. */
static void collect_args(char *list[ARGS_MAX], const char *first,
			 va_list args)
{
	size_t count = 0;

	for (const char *arg = first; arg; arg = va_arg(args, const char *)) {
		cr_assert(count < ARGS_MAX - 1, "more than %d arguments",
			  ARGS_MAX - 1);
		list[count++] = (char *)arg;
	}
	list[count] = NULL;
}

/* Runs $NATIVEMON with the arguments in prefix, then those in rest. */
static void run_nativemon(struct harness_result *result,
			  const struct harness_options *options,
			  const char *const *prefix, char *const *rest)
{
	char *argv[2 * ARGS_MAX];
	size_t count = 0;

	argv[count++] = (char *)harness_nativemon_path();
	for (; prefix && *prefix; prefix++) {
		cr_assert(count < ARGS_MAX, "too many options");
		argv[count++] = (char *)*prefix;
	}
	for (; *rest; rest++) {
		cr_assert(count < 2 * ARGS_MAX - 1, "too many arguments");
		argv[count++] = *rest;
	}
	argv[count] = NULL;
	harness_run(argv, options, result);
}

void harness_run_nativemon(struct harness_result *result,
			   const struct harness_options *options, ...)
{
	char *list[ARGS_MAX];
	va_list args;

	va_start(args, options);
	collect_args(list, va_arg(args, const char *), args);
	va_end(args);
	run_nativemon(result, options, NULL, list);
}

void harness_run_monitored(struct harness_result *result, const char *log,
			   const struct harness_options *options,
			   const char *command, ...)
{
	char *list[ARGS_MAX];
	va_list args;

	va_start(args, command);
	collect_args(list, command, args);
	va_end(args);
	harness_run_monitored_argv(result, log, options, list);
}

void harness_run_monitored_argv(struct harness_result *result,
				const char *log,
				const struct harness_options *options,
				char *const command[])
{
	const char *prefix[ARGS_MAX + 4];
	const char *const *extra = options ? options->run_options : NULL;
	size_t count = 0;

	prefix[count++] = "run";
	for (; extra && *extra; extra++) {
		cr_assert(count < ARGS_MAX, "too many run options");
		prefix[count++] = *extra;
	}
	prefix[count++] = "--log";
	prefix[count++] = log;
	prefix[count++] = "--";
	prefix[count] = NULL;
	run_nativemon(result, options, prefix, command);
}

void harness_result_fini(struct harness_result *result)
{
	free(result->out);
	free(result->err);
	memset(result, 0, sizeof(*result));
}

size_t harness_count_substring(const char *text, const char *needle)
{
	size_t count = 0, length = strlen(needle);

	if (!text || length == 0)
		return 0;
	while ((text = strstr(text, needle))) {
		count++;
		text += length;
	}
	return count;
}

size_t harness_count_lines_with(const char *text, const char *needle)
{
	size_t count = 0;

	while (text && *text) {
		const char *end = strchrnul(text, '\n');
		const char *hit = strstr(text, needle);

		if (hit && hit < end)
			count++;
		text = *end ? end + 1 : end;
	}
	return count;
}

/*
 * Returns $XDG_CACHE_HOME, or .cache in the home directory ($HOME, else the
 * password database's), created if missing.
 */
static char *default_scratch_parent(void)
{
	const char *cache = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	struct passwd *user;
	char *parent;

	if (cache && cache[0] == '/')
		return strdup(cache);
	if (!home || home[0] != '/') {
		user = getpwuid(getuid());
		home = user ? user->pw_dir : NULL;
	}
	cr_assert(home && home[0] == '/',
		  "no home directory: set XDG_CACHE_HOME or HOME to a writable "
		  "directory outside /tmp");
	cr_assert(asprintf(&parent, "%s/.cache", home) > 0, "out of memory");
	if (mkdir(parent, 0700) < 0)
		cr_assert(errno == EEXIST, "cannot create %s: %s", parent,
			  strerror(errno));
	return parent;
}

char *harness_scratch_new(const char *parent)
{
	char *owned = parent ? strdup(parent) : default_scratch_parent();
	char *path;

	cr_assert(owned, "out of memory");
	cr_assert(asprintf(&path, "%s/nativemon-test-XXXXXX", owned) > 0,
		  "out of memory");
	cr_assert(mkdtemp(path), "cannot create a directory under %s: %s",
		  owned, strerror(errno));
	free(owned);
	return path;
}

static int remove_entry(const char *path, const struct stat *st, int type,
			struct FTW *ftw)
{
	if (type == FTW_DP)
		return rmdir(path) < 0 ? -1 : 0;
	return unlink(path) < 0 ? -1 : 0;
}

void harness_scratch_remove(char *path)
{
	int err;

	if (!path)
		return;
	err = nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	cr_assert(err == 0, "cannot remove %s: %s", path, strerror(errno));
	free(path);
}

void harness_copy_file(const char *from, const char *to, mode_t mode)
{
	char buffer[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out;
	ssize_t n;

	cr_assert(in >= 0, "cannot open %s: %s", from, strerror(errno));
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	cr_assert(out >= 0, "cannot create %s: %s", to, strerror(errno));
	while ((n = read(in, buffer, sizeof(buffer))) > 0)
		cr_assert(write(out, buffer, (size_t)n) == n,
			  "cannot write %s: %s", to, strerror(errno));
	cr_assert(n == 0, "cannot read %s: %s", from, strerror(errno));
	cr_assert(fchmod(out, mode) == 0, "cannot chmod %s: %s", to,
		  strerror(errno));
	close(in);
	cr_assert(close(out) == 0, "cannot write %s: %s", to, strerror(errno));
}

void harness_test_fini(struct harness_test *test)
{
	for (int i = 0; i < HARNESS_SCRATCH_MAX; i++)
		harness_scratch_remove(test->scratch[i]);
	for (int i = 0; i < HARNESS_STRINGS_MAX; i++)
		free(test->strings[i]);
	harness_result_fini(&test->result);
	json_decref(test->events);
	free(test->seen);
	memset(test, 0, sizeof(*test));
}

const char *harness_test_scratch_new(struct harness_test *test,
				     const char *parent)
{
	for (int i = 0; i < HARNESS_SCRATCH_MAX; i++) {
		if (!test->scratch[i]) {
			test->scratch[i] = harness_scratch_new(parent);
			return test->scratch[i];
		}
	}
	cr_assert_fail("more than %d scratch directories", HARNESS_SCRATCH_MAX);
	return NULL;
}

char *harness_test_own(struct harness_test *test, char *text)
{
	cr_assert(text, "out of memory");
	for (int i = 0; i < HARNESS_STRINGS_MAX; i++) {
		if (!test->strings[i]) {
			test->strings[i] = text;
			return text;
		}
	}
	cr_assert_fail("more than %d strings", HARNESS_STRINGS_MAX);
	return NULL;
}

char *harness_test_format(struct harness_test *test, const char *format, ...)
{
	va_list args;
	char *text;
	int n;

	va_start(args, format);
	n = vasprintf(&text, format, args);
	va_end(args);
	return harness_test_own(test, n < 0 ? NULL : text);
}

char *harness_test_target(struct harness_test *test, const char *name)
{
	return harness_test_own(test, harness_target_path(name));
}

static bool is_recent(const struct timespec *change)
{
	return change->tv_sec + 3 >= time(NULL);
}

void harness_wait_until_settled(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0, "cannot stat %s: %s", path,
		     strerror(errno));
	while (is_recent(&st.st_mtim) || is_recent(&st.st_ctim))
		usleep(100000);
}

void harness_test_read_log(struct harness_test *test)
{
	json_decref(test->events);
	free(test->seen);
	test->events = harness_log_read(test->log);
	test->seen = harness_events_describe(test->events);
}

void harness_test_observe(struct harness_test *test,
			  const struct harness_options *options,
			  char *const command[])
{
	struct harness_options defaults = { 0 };
	const char *scratch = harness_test_scratch_new(test, NULL);

	if (options)
		defaults = *options;
	if (!defaults.cwd)
		defaults.cwd = scratch;
	test->log = harness_test_format(test, "%s/events.jsonl", scratch);
	harness_result_fini(&test->result);
	harness_run_monitored_argv(&test->result, test->log, &defaults,
				   command);
	cr_assert(!test->result.timed_out, "nativemon timed out; stderr: %s",
		  test->result.err);
	harness_test_read_log(test);
}

/*
 * The binaries are copied into a directory the user owns, so the run does
 * not depend on the permissions of the build directory and its parents.
 * The directory is not under the default $HOME/.cache, because the user
 * nobody cannot search root's home directory.
 */
const char *harness_test_observe_unprivileged(struct harness_test *test,
					      const char *name)
{
	bool as_root = geteuid() == 0;
	struct harness_options options = {
		.set_ids = as_root,
		.uid = HARNESS_UNPRIVILEGED_ID,
		.gid = HARNESS_UNPRIVILEGED_ID,
	};
	const char *scratch = harness_test_scratch_new(test, "/tmp");
	char *nativemon = harness_test_format(test, "%s/nativemon", scratch);
	char *program = harness_test_format(test, "%s/%s", scratch, name);

	if (as_root)
		cr_assert(chown(scratch, HARNESS_UNPRIVILEGED_ID,
				HARNESS_UNPRIVILEGED_ID) == 0,
			  "cannot chown %s: %s", scratch, strerror(errno));
	harness_copy_file(harness_nativemon_path(), nativemon, 0755);
	harness_copy_file(harness_test_target(test, name), program, 0755);
	options.cwd = scratch;
	test->log = harness_test_format(test, "%s/events.jsonl", scratch);
	harness_run((char *[]){ nativemon, "run", "--log", (char *)test->log,
				"--", program, NULL },
		    &options, &test->result);
	cr_assert(!test->result.timed_out, "nativemon timed out; stderr: %s",
		  test->result.err);
	harness_test_read_log(test);
	return program;
}

void harness_test_expect_exit_code(const struct harness_test *test,
				   int expected)
{
	cr_assert(test->result.exit_code == expected,
		  "nativemon exited with %d, expected %d; stderr: %s",
		  test->result.exit_code, expected, test->result.err);
}

/*
 * Returns the length of the UTF-8 sequence at bytes (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0 if it is invalid.
 */
static size_t utf8_sequence_length(const unsigned char *bytes, size_t left)
{
	unsigned char lead = bytes[0];
	unsigned char low = 0x80, high = 0xbf;
	size_t length;

	if (lead < 0x80)
		return 1;
	if (lead >= 0xc2 && lead <= 0xdf)
		length = 2;
	else if (lead >= 0xe0 && lead <= 0xef)
		length = 3;
	else if (lead >= 0xf0 && lead <= 0xf4)
		length = 4;
	else
		return 0;
	if (lead == 0xe0)
		low = 0xa0;
	else if (lead == 0xed)
		high = 0x9f;
	else if (lead == 0xf0)
		low = 0x90;
	else if (lead == 0xf4)
		high = 0x8f;
	if (left < length || bytes[1] < low || bytes[1] > high)
		return 0;
	for (size_t i = 2; i < length; i++) {
		if (bytes[i] < 0x80 || bytes[i] > 0xbf)
			return 0;
	}
	return length;
}

/* Returns the offset of the first invalid byte, or length if none is. */
static size_t find_invalid_utf8(const char *text, size_t length)
{
	const unsigned char *bytes = (const unsigned char *)text;
	size_t at = 0;

	while (at < length) {
		size_t n = utf8_sequence_length(bytes + at, length - at);

		if (n == 0)
			return at;
		at += n;
	}
	return length;
}

static char *read_whole_file(const char *path, size_t *length)
{
	FILE *file = fopen(path, "rb");
	char *text = NULL;
	size_t capacity = 0;

	cr_assert(file, "cannot open the log %s: %s", path, strerror(errno));
	*length = 0;
	for (;;) {
		size_t n;

		if (capacity - *length < 65536) {
			capacity = capacity * 2 + 65536;
			text = realloc(text, capacity + 1);
			cr_assert(text, "out of memory reading %s", path);
		}
		n = fread(text + *length, 1, capacity - *length, file);
		*length += n;
		if (n == 0)
			break;
	}
	cr_assert(!ferror(file), "cannot read the log %s", path);
	fclose(file);
	text[*length] = '\0';
	return text;
}

static void append_record(json_t *records, const char *path, size_t number,
			  const char *line, size_t length)
{
	json_error_t error;
	json_t *record;

	record = json_loadb(line, length, JSON_REJECT_DUPLICATES, &error);
	cr_assert(record, "%s:%zu: invalid JSON (%s at column %d): %.*s", path,
		  number, error.text, error.column, (int)length, line);
	cr_assert(json_is_object(record),
		  "%s:%zu: a record is not a JSON object: %.*s", path, number,
		  (int)length, line);
	json_array_append_new(records, record);
}

json_t *harness_log_read(const char *path)
{
	json_t *records = json_array();
	size_t length, invalid, number = 0;
	char *text = read_whole_file(path, &length);
	const char *line = text, *end = text + length;

	cr_assert(records, "out of memory");
	invalid = find_invalid_utf8(text, length);
	cr_assert(invalid == length,
		  "%s is not valid UTF-8: byte 0x%02x at offset %zu", path,
		  (unsigned char)text[invalid < length ? invalid : 0], invalid);
	cr_assert(length == 0 || text[length - 1] == '\n',
		  "%s does not end with a newline; its last %d bytes: %s", path,
		  length < 200 ? (int)length : 200,
		  text + (length < 200 ? 0 : length - 200));
	while (line < end) {
		const char *newline = memchr(line, '\n', (size_t)(end - line));

		number++;
		append_record(records, path, number, line,
			      (size_t)(newline - line));
		line = newline + 1;
	}
	free(text);
	return records;
}

json_t *harness_event_get(const json_t *event, const char *path)
{
	const json_t *node = event;
	const char *part = path;

	while (json_is_object(node)) {
		const char *dot = strchr(part, '.');
		char key[128];
		size_t n;
		json_t *flat = json_object_get(node, part);

		/* A flattened key such as "event.action" wins over nesting. */
		if (flat)
			return flat;
		if (!dot)
			return NULL;
		n = (size_t)(dot - part);
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, part, n);
		key[n] = '\0';
		node = json_object_get(node, key);
		part = dot + 1;
	}
	return NULL;
}

const char *harness_event_string(const json_t *event, const char *path)
{
	return json_string_value(harness_event_get(event, path));
}

bool harness_event_integer(const json_t *event, const char *path,
			   long long *value)
{
	json_t *found = harness_event_get(event, path);

	if (!json_is_integer(found))
		return false;
	*value = (long long)json_integer_value(found);
	return true;
}

long long harness_event_count(const json_t *event)
{
	long long count;

	if (!harness_event_integer(event, "nativemon.count", &count) ||
	    count < 1)
		return 1;
	return count;
}

void harness_event_expect_string(const json_t *event, const char *path,
				 const char *expected)
{
	const char *value = harness_event_string(event, path);

	cr_assert(value, "%s is missing or not a string", path);
	cr_assert(strcmp(value, expected) == 0, "%s is \"%s\", expected \"%s\"",
		  path, value, expected);
}

static bool value_matches(const json_t *value, const char *expected)
{
	char *end;
	long long number;
	size_t i;
	json_t *element;

	if (json_is_string(value))
		return strcmp(json_string_value(value), expected) == 0;
	if (json_is_boolean(value))
		return strcmp(expected, json_is_true(value) ? "true"
							    : "false") == 0;
	if (json_is_integer(value)) {
		errno = 0;
		number = strtoll(expected, &end, 10);
		return errno == 0 && end != expected && *end == '\0' &&
		       number == (long long)json_integer_value(value);
	}
	json_array_foreach(value, i, element) {
		if (value_matches(element, expected))
			return true;
	}
	return false;
}

static bool event_matches(const json_t *event, va_list conditions)
{
	va_list args;
	const char *path;
	bool matches = true;

	va_copy(args, conditions);
	while (matches && (path = va_arg(args, const char *))) {
		const char *expected = va_arg(args, const char *);

		cr_assert(expected, "condition on %s has no value", path);
		matches = value_matches(harness_event_get(event, path),
					expected);
	}
	va_end(args);
	return matches;
}

json_t *harness_events_find(const json_t *events, ...)
{
	json_t *found = NULL, *event;
	va_list conditions;
	size_t i;

	va_start(conditions, events);
	json_array_foreach(events, i, event) {
		if (event_matches(event, conditions)) {
			found = event;
			break;
		}
	}
	va_end(conditions);
	return found;
}

long long harness_events_count(const json_t *events, ...)
{
	long long total = 0;
	va_list conditions;
	json_t *event;
	size_t i;

	va_start(conditions, events);
	json_array_foreach(events, i, event) {
		if (event_matches(event, conditions))
			total += harness_event_count(event);
	}
	va_end(conditions);
	return total;
}

static const char *text_or_dash(const json_t *event, const char *path)
{
	const char *text = harness_event_string(event, path);

	return text ? text : "-";
}

char *harness_events_describe(const json_t *events)
{
	char *summary = NULL;
	size_t length = 0;
	FILE *stream = open_memstream(&summary, &length);
	json_t *event;
	size_t i;

	cr_assert(stream, "out of memory");
	fprintf(stream, "%zu records:", json_array_size(events));
	json_array_foreach(events, i, event) {
		const char *file = harness_event_string(event, "dll.path");

		if (!file)
			file = harness_event_string(event, "file.path");
		fprintf(stream, " [%s %s %s %s %s %s x%lld]",
			text_or_dash(event, "event.kind"),
			text_or_dash(event, "event.action"),
			text_or_dash(event, "nativemon.syscall.name"),
			text_or_dash(event, "nativemon.origin.kind"),
			text_or_dash(event, "rule.id"), file ? file : "-",
			harness_event_count(event));
	}
	cr_assert(fclose(stream) == 0, "out of memory");
	return summary;
}

/* Makes the terminal the controlling one of a new session. */
static void take_terminal(const char *terminal)
{
	int fd;

	if (setsid() < 0)
		_exit(123);
	fd = open(terminal, O_RDWR);
	if (fd < 0 || ioctl(fd, TIOCSCTTY, 0) < 0)
		_exit(124);
	close(fd);
}

/*
 * Runs in the forked child: sets up what nativemon inherits, then execs.
 * terminal is the path of a pseudo-terminal or NULL.
 */
static void exec_session(char *const argv[],
			 const struct harness_session_options *options,
			 const char *terminal, int input, int output, int error)
{
	struct sigaction action = { .sa_handler = SIG_DFL };
	sigset_t empty;

	if (terminal)
		take_terminal(terminal);
	else
		setpgid(0, 0);
	/* Before PR_SET_PDEATHSIG, which a change of ids clears. */
	if (options->set_ids &&
	    (setgroups(0, NULL) < 0 ||
	     setresgid(options->gid, options->gid, options->gid) < 0 ||
	     setresuid(options->uid, options->uid, options->uid) < 0))
		_exit(119);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (options->path && setenv("PATH", options->path, 1) < 0)
		_exit(120);
	/*
	 * The drop needs CAP_SETPCAP, which root has. A test that runs
	 * without it is normally not root and lacks both capabilities.
	 */
	if (options->without_dac_override) {
		prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0);
		prctl(PR_CAPBSET_DROP, CAP_DAC_READ_SEARCH, 0, 0, 0);
	}
	/* An ignored signal would never reach nativemon's signalfd. */
	for (int signo = 1; signo < NSIG; signo++)
		sigaction(signo, &action, NULL);
	sigemptyset(&empty);
	sigprocmask(SIG_SETMASK, options->mask ? options->mask : &empty, NULL);
	if (dup2(input, STDIN_FILENO) < 0 || dup2(output, STDOUT_FILENO) < 0 ||
	    dup2(error, STDERR_FILENO) < 0)
		_exit(121);
#ifdef SYS_close_range
	/* Whatever else is open now would look like a leak of nativemon. */
	syscall(SYS_close_range, 3U, ~0U, 0U);
#endif
	execv(argv[0], argv);
	dprintf(STDERR_FILENO, "cannot execute %s: %s\n", argv[0],
		strerror(errno));
	_exit(122);
}

/* Opens a pseudo-terminal and copies the path of its slave into path. */
static int open_terminal(char *path, size_t size)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (master < 0)
		cr_skip_test("no pseudo-terminal: %s", strerror(errno));
	cr_assert_eq(grantpt(master), 0, "grantpt: %s", strerror(errno));
	cr_assert_eq(unlockpt(master), 0, "unlockpt: %s", strerror(errno));
	cr_assert_eq(ptsname_r(master, path, size), 0, "ptsname: %s",
		     strerror(errno));
	return master;
}

/* Opens what becomes nativemon's stdin: a pipe or /dev/null. */
static void open_input(int input[2], bool pipe_input)
{
	if (pipe_input)
		harness_open_pipe(input);
	else
		input[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	cr_assert(input[0] >= 0, "cannot open stdin: %s", strerror(errno));
}

void harness_session_start(struct harness_session *session, char *const argv[],
			   const struct harness_session_options *options)
{
	static const struct harness_session_options defaults = { 0 };
	int input[2] = { -1, -1 }, output[2], error[2] = { -1, -1 };
	char terminal[PATH_MAX];

	if (!options)
		options = &defaults;
	memset(session, 0, sizeof(*session));
	session->input = -1;
	session->terminal = -1;
	session->out.fd = -1;
	session->err.fd = -1;
	session->pidfd = -1;
	if (options->terminal)
		session->terminal = open_terminal(terminal, sizeof(terminal));
	open_input(input, options->pipe_input);
	harness_open_pipe(output);
	if (options->redirect_stderr)
		error[1] = options->stderr_fd;
	else
		harness_open_pipe(error);
	session->pid = fork();
	cr_assert(session->pid >= 0, "fork failed: %s", strerror(errno));
	if (session->pid == 0)
		exec_session(argv, options, options->terminal ? terminal : NULL,
			     input[0], output[1], error[1]);
	close(input[0]);
	close(output[1]);
	if (!options->redirect_stderr)
		close(error[1]);
	session->input = input[1];
	session->out.fd = output[0];
	session->err.fd = error[0];
	fcntl(output[0], F_SETFL, O_NONBLOCK);
	if (error[0] >= 0)
		fcntl(error[0], F_SETFL, O_NONBLOCK);
	session->pidfd = (int)syscall(SYS_pidfd_open, session->pid, 0);
	cr_assert(session->pidfd >= 0, "pidfd_open failed: %s",
		  strerror(errno));
}

const char *harness_capture_text(const struct harness_capture *capture)
{
	return capture->data ? capture->data : "";
}

/* Reads what the pipe holds now, without blocking. */
static void drain_capture(struct harness_capture *capture)
{
	char buffer[4096];
	ssize_t n;

	while (capture->fd >= 0) {
		n = read(capture->fd, buffer, sizeof(buffer));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return;
		if (n == 0) {
			close(capture->fd);
			capture->fd = -1;
			return;
		}
		capture->data =
			realloc(capture->data, capture->length + (size_t)n + 1);
		cr_assert(capture->data, "out of memory");
		memcpy(capture->data + capture->length, buffer, (size_t)n);
		capture->length += (size_t)n;
		capture->data[capture->length] = '\0';
	}
}

/*
 * Waits up to timeout_ms for output or the exit of nativemon. The pipes
 * are drained after the reap, so they hold everything written before the
 * exit.
 */
static void pump_session(struct harness_session *session, long long timeout_ms)
{
	struct pollfd fds[3] = {
		{ .fd = session->out.fd, .events = POLLIN },
		{ .fd = session->err.fd, .events = POLLIN },
		{ .fd = session->exited ? -1 : session->pidfd,
		  .events = POLLIN },
	};

	if (timeout_ms < 0)
		timeout_ms = 0;
	if (poll(fds, 3, (int)timeout_ms) < 0 && errno != EINTR)
		cr_assert_fail("poll failed: %s", strerror(errno));
	if (fds[2].revents && waitpid(session->pid, &session->wait_status,
				      WNOHANG) == session->pid)
		session->exited = true;
	drain_capture(&session->out);
	drain_capture(&session->err);
}

bool harness_session_read_line(struct harness_session *session, char *line,
			       size_t size, long long deadline)
{
	for (;;) {
		const char *start = harness_capture_text(&session->out) +
				    session->out_consumed;
		const char *newline = strchr(start, '\n');
		bool gave_up;

		if (newline) {
			size_t length = (size_t)(newline - start);

			snprintf(line, size, "%.*s", (int)length, start);
			session->out_consumed += length + 1;
			return true;
		}
		gave_up = session->exited || session->out.fd < 0 ||
			  harness_now_ms() >= deadline;
		if (gave_up)
			return false;
		pump_session(session, deadline - harness_now_ms());
	}
}

bool harness_session_wait(struct harness_session *session, long long deadline)
{
	while (!session->exited) {
		if (harness_now_ms() >= deadline)
			return false;
		pump_session(session, deadline - harness_now_ms());
	}
	return true;
}

bool harness_session_is_running(struct harness_session *session)
{
	pump_session(session, 0);
	return !session->exited;
}

void harness_session_close_input(struct harness_session *session)
{
	if (session->input >= 0)
		close(session->input);
	session->input = -1;
}

void harness_session_end(struct harness_session *session)
{
	/* kill(-0) would hit the test's own process group. */
	if (session->pid > 0) {
		kill(-session->pid, SIGKILL);
		if (!session->exited)
			waitpid(session->pid, &session->wait_status, 0);
	}
	harness_session_close_input(session);
	if (session->terminal >= 0)
		close(session->terminal);
	if (session->out.fd >= 0)
		close(session->out.fd);
	if (session->err.fd >= 0)
		close(session->err.fd);
	if (session->pidfd >= 0)
		close(session->pidfd);
	free(session->out.data);
	free(session->err.data);
	memset(session, 0, sizeof(*session));
}

void harness_session_expect_exit_code(const struct harness_session *session,
				      int expected)
{
	int status = session->wait_status;

	cr_assert(WIFEXITED(status),
		  "nativemon did not exit normally: wait status 0x%x; "
		  "stderr: %s",
		  status, harness_capture_text(&session->err));
	cr_assert(WEXITSTATUS(status) == expected,
		  "nativemon exited with %d, expected %d; stderr: %s",
		  WEXITSTATUS(status), expected,
		  harness_capture_text(&session->err));
}
