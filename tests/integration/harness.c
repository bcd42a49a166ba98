/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers for the integration tests: running commands with a deadline and
 * captured output, scratch directories, and reading and querying the JSON
 * Lines log that nativemon writes.
 */
#include "harness.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

static long long now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
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

static void make_pipe(int fds[2])
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
		long long left = deadline - now_ms();
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
	make_pipe(out_pipe);
	make_pipe(err_pipe);
	make_pipe(error_pipe);
	deadline = now_ms() + (options->timeout_ms > 0 ? options->timeout_ms
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
	for (; prefix && *prefix; prefix++)
		argv[count++] = (char *)*prefix;
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
	const char *prefix[] = { "run", "--log", log, "--", NULL };

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

/* Returns $XDG_CACHE_HOME, or $HOME/.cache created if missing. */
static char *default_scratch_parent(void)
{
	const char *cache = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	char *parent;

	if (cache && cache[0] == '/')
		return strdup(cache);
	cr_assert(home && home[0] == '/',
		  "neither XDG_CACHE_HOME nor HOME is an absolute path; set "
		  "one to a writable directory outside /tmp");
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
