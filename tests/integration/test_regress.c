/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Regression tests for behaviours that a run of nativemon as a new user
 * found broken. They cover a thread group without its leader, paths longer
 * than PATH_MAX, a closed or stalled stderr, the loader run as a program,
 * signals that would end nativemon, nesting, long argument lists, a full
 * log device, non-dumpable targets and -v. Each test runs the real binary.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* Timeout of a test that runs targets, in seconds. */
#define TEST_TIMEOUT 60

/* Deadline of a background nativemon, well below TEST_TIMEOUT. */
#define DEADLINE_MS 20000

/*
 * How soon nativemon must exit once its last task is gone. Its poll()
 * waits up to 1 s for folded alerts and 10 s for sweeping the process
 * table, so an exit that waited for either timeout fails the test.
 */
#define PROMPT_EXIT_MS 500

/* How long nativemon may take with a stderr that no process reads. */
#define STALLED_DEADLINE_MS 10000

/* The user and group that the unprivileged test runs as: nobody/nogroup. */
#define UNPRIVILEGED_ID 65534

/* Arguments of the exec in the argument-count test, argv[0] included. */
#define MANY_ARGS 10000
/* Maximum number of entries that nativemon copies into process.args. */
#define COPIED_ARGS_MAX 256

/* The exit status of count_signals. */
#define COUNT_SIGNALS_EXIT 42

/*
 * Length of each directory name in the long-path chain. The chain has
 * PATH_MAX / (LONG_NAME_LENGTH + 1) + 1 levels, so its path is longer than
 * PATH_MAX even without the directory it starts in.
 */
#define LONG_NAME_LENGTH 200

#define SCRATCH_MAX 2
#define STRINGS_MAX 16

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct capture {
	int fd; /* read end of a pipe, -1 after end of file */
	char *data;
	size_t length;
};

/* A nativemon running in the background with pipes on stdin and stdout. */
struct session {
	pid_t pid; /* also its process group */
	int pidfd;
	int input; /* write end of its stdin, -1 once closed */
	struct capture out;
	struct capture err; /* fd -1 when stderr goes elsewhere */
	size_t out_consumed; /* bytes of out returned as lines */
	bool exited;
	int wait_status;
};

/*
 * Resources of the current test, released by the suite's fini hook, which
 * Criterion also runs after a failed assertion.
 */
static struct {
	char *scratch[SCRATCH_MAX];
	char *strings[STRINGS_MAX]; /* see own() */
	const char *log;
	struct harness_result result;
	json_t *events;
	char *seen; /* harness_events_describe() of events */
	struct session session;
	/* The directory chain of the long-path tests: parent/chain_name. */
	const char *chain_parent;
	char chain_name[LONG_NAME_LENGTH + 1];
} run;

/*
 * nativemon responds to notifications with SECCOMP_USER_NOTIF_FLAG_CONTINUE,
 * which Linux 5.5 added. The kernel offers no probe for that flag, so the
 * test checks the release number instead.
 */
static void require_user_notification(void)
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

static void end_session(struct session *session);
static int remove_tree_at(int parent, const char *name);

static void remove_chain(void)
{
	int parent;

	if (!run.chain_parent)
		return;
	parent = open(run.chain_parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert(parent >= 0, "cannot open %s: %s", run.chain_parent,
		  strerror(errno));
	cr_assert(remove_tree_at(parent, run.chain_name) == 0,
		  "cannot remove the directory chain in %s: %s",
		  run.chain_parent, strerror(errno));
	close(parent);
}

static void release_run(void)
{
	if (run.session.pid > 0)
		end_session(&run.session);
	/* nftw() in harness_scratch_remove() fails on paths past PATH_MAX. */
	remove_chain();
	for (int i = 0; i < SCRATCH_MAX; i++)
		harness_scratch_remove(run.scratch[i]);
	for (int i = 0; i < STRINGS_MAX; i++)
		free(run.strings[i]);
	harness_result_fini(&run.result);
	json_decref(run.events);
	free(run.seen);
	memset(&run, 0, sizeof(run));
}

TestSuite(regress, .init = require_user_notification, .fini = release_run);

/* Returns a new scratch directory that the fini hook removes. */
static const char *new_scratch(const char *parent)
{
	for (int i = 0; i < SCRATCH_MAX; i++) {
		if (!run.scratch[i]) {
			run.scratch[i] = harness_scratch_new(parent);
			return run.scratch[i];
		}
	}
	cr_assert_fail("more than %d scratch directories", SCRATCH_MAX);
	return NULL;
}

/* Hands text over to the fini hook, which frees it, and returns it. */
static char *own(char *text)
{
	cr_assert(text, "out of memory");
	for (int i = 0; i < STRINGS_MAX; i++) {
		if (!run.strings[i]) {
			run.strings[i] = text;
			return text;
		}
	}
	cr_assert_fail("more than %d strings", STRINGS_MAX);
	return NULL;
}

static char *format(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static char *format(const char *fmt, ...)
{
	va_list args;
	char *text;
	int n;

	va_start(args, fmt);
	n = vasprintf(&text, fmt, args);
	va_end(args);
	return own(n < 0 ? NULL : text);
}

static char *target(const char *name)
{
	return own(harness_target_path(name));
}

static char *nativemon(void)
{
	return (char *)harness_nativemon_path();
}

/* Reads the log at run.log into run.events and describes it. */
static void read_log(void)
{
	run.events = harness_log_read(run.log);
	run.seen = harness_events_describe(run.events);
}

/* Runs `nativemon run --log LOG -- COMMAND...` and reads the log. */
static void observe(char *const command[])
{
	const char *scratch = new_scratch(NULL);

	run.log = format("%s/events.jsonl", scratch);
	harness_run_monitored_argv(&run.result, run.log,
				   &(struct harness_options){ .cwd = scratch },
				   command);
	cr_assert(!run.result.timed_out, "nativemon timed out; stderr: %s",
		  run.result.err);
	read_log();
}

static void expect_exit_code(int expected)
{
	cr_assert(run.result.exit_code == expected,
		  "nativemon exited with %d, expected %d; stderr: %s",
		  run.result.exit_code, expected, run.result.err);
}

static void expect_no_alerts(void)
{
	long long alerts = harness_events_count(run.events, "event.kind",
						"alert", NULL);

	cr_assert(alerts == 0, "%lld alerts; %s", alerts, run.seen);
}

static void expect_string_field(const json_t *event, const char *path,
				const char *expected)
{
	const char *value = harness_event_string(event, path);

	cr_assert(value, "%s is missing or not a string", path);
	cr_assert(strcmp(value, expected) == 0, "%s is \"%s\", expected \"%s\"",
		  path, value, expected);
}

static void expect_true_field(const json_t *event, const char *path)
{
	json_t *value = harness_event_get(event, path);

	cr_assert(json_is_true(value), "%s is %s, expected true", path,
		  value ? "not true" : "missing");
}

/* Counts the lines of text that contain needle. */
static size_t count_lines_with(const char *text, const char *needle)
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

/* Returns the line of text that contains needle, or NULL. */
static const char *line_with(const char *text, const char *needle)
{
	const char *hit = strstr(text, needle);

	if (!hit)
		return NULL;
	while (hit > text && hit[-1] != '\n')
		hit--;
	return hit;
}

static long long now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* The interval between two looks at /proc while waiting for a state. */
static void wait_poll_interval(void)
{
	const struct timespec interval = { .tv_nsec = 1000000 };

	nanosleep(&interval, NULL);
}

/* Sessions: nativemon in the background, for the signal and pipe tests. */

/* Runs in the forked child: sets up what nativemon inherits, then execs. */
static void exec_session(char *const argv[], int input, int output,
			 int error)
{
	struct sigaction action = { .sa_handler = SIG_DFL };
	sigset_t empty;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* An ignored signal would never reach nativemon's signalfd. */
	for (int signo = 1; signo < NSIG; signo++)
		sigaction(signo, &action, NULL);
	sigemptyset(&empty);
	sigprocmask(SIG_SETMASK, &empty, NULL);
	if (dup2(input, STDIN_FILENO) < 0 || dup2(output, STDOUT_FILENO) < 0 ||
	    dup2(error, STDERR_FILENO) < 0)
		_exit(121);
#ifdef SYS_close_range
	syscall(SYS_close_range, 3U, ~0U, 0U);
#endif
	execv(argv[0], argv);
	dprintf(STDERR_FILENO, "cannot execute %s: %s\n", argv[0],
		strerror(errno));
	_exit(122);
}

static void open_pipe(int fds[2])
{
	cr_assert(pipe2(fds, O_CLOEXEC) == 0, "pipe2 failed: %s",
		  strerror(errno));
}

/*
 * Starts argv with a pipe on stdin and stdout in run.session. stderr goes
 * to error_fd, or to a third pipe that the session reads if it is -1.
 */
static struct session *start_session(char *const argv[], int error_fd)
{
	struct session *session = &run.session;
	int input[2], output[2], error[2] = { -1, error_fd };

	memset(session, 0, sizeof(*session));
	open_pipe(input);
	open_pipe(output);
	if (error_fd < 0)
		open_pipe(error);
	session->pid = fork();
	cr_assert(session->pid >= 0, "fork failed: %s", strerror(errno));
	if (session->pid == 0)
		exec_session(argv, input[0], output[1], error[1]);
	close(input[0]);
	close(output[1]);
	if (error_fd < 0)
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
	return session;
}

static const char *text_of(const struct capture *capture)
{
	return capture->data ? capture->data : "";
}

/* Reads what the pipe holds now, without blocking. */
static void drain_capture(struct capture *capture)
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
		capture->data = realloc(capture->data,
					capture->length + (size_t)n + 1);
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
static void pump_session(struct session *session, long long timeout_ms)
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
	if (fds[2].revents &&
	    waitpid(session->pid, &session->wait_status, WNOHANG) ==
		    session->pid)
		session->exited = true;
	drain_capture(&session->out);
	drain_capture(&session->err);
}

/*
 * Copies the next line of stdout, without its newline, into line. Returns
 * false if the deadline passed, stdout ended or nativemon exited first.
 */
static bool read_session_line(struct session *session, char *line,
			      size_t size, long long deadline)
{
	for (;;) {
		const char *start = text_of(&session->out) +
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
			  now_ms() >= deadline;
		if (gave_up)
			return false;
		pump_session(session, deadline - now_ms());
	}
}

/*
 * Waits for nativemon to exit. Processes that outlive it may hold the
 * pipes open, so this stops at its exit. Returns false on the deadline.
 */
static bool wait_session(struct session *session, long long deadline)
{
	while (!session->exited) {
		if (now_ms() >= deadline)
			return false;
		pump_session(session, deadline - now_ms());
	}
	return true;
}

static bool is_session_running(struct session *session)
{
	pump_session(session, 0);
	return !session->exited;
}

static void close_input(struct session *session)
{
	if (session->input >= 0)
		close(session->input);
	session->input = -1;
}

/* Kills what is left of the session's process group and frees it. */
static void end_session(struct session *session)
{
	/* kill(-0) would hit the test's own process group. */
	if (session->pid > 0) {
		kill(-session->pid, SIGKILL);
		if (!session->exited)
			waitpid(session->pid, &session->wait_status, 0);
	}
	close_input(session);
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

static void expect_session_exit_code(const struct session *session,
				     int expected)
{
	int status = session->wait_status;

	cr_assert(WIFEXITED(status),
		  "nativemon did not exit normally: wait status 0x%x; "
		  "stderr: %s",
		  status, text_of(&session->err));
	cr_assert(WEXITSTATUS(status) == expected,
		  "nativemon exited with %d, expected %d; stderr: %s",
		  WEXITSTATUS(status), expected, text_of(&session->err));
}

/* Thread group without its leader. */

Test(regress, leader_exit_keeps_origins, .timeout = TEST_TIMEOUT)
{
	json_t *libm = NULL, *event;
	size_t i;

	observe((char *[]){ target("leader_exit"), NULL });
	expect_exit_code(0);
	cr_assert(strstr(run.result.out, "loaded=libm.so.6"),
		  "the second thread did not load libm; stdout: %s; "
		  "stderr: %s",
		  run.result.out, run.result.err);
	expect_no_alerts();
	json_array_foreach(run.events, i, event) {
		const char *path = harness_event_string(event, "dll.path");

		if (path && strstr(path, "/libm.so"))
			libm = event;
	}
	cr_assert(libm, "no module-load record for libm; %s", run.seen);
	expect_string_field(libm, "event.action", "module-load");
	expect_string_field(libm, "event.kind", "event");
	expect_string_field(libm, "nativemon.origin.kind", "loader");
}

/* Paths longer than PATH_MAX. */

/* Removes name in parent and, if it is a directory, all it contains. */
static int remove_tree_at(int parent, const char *name)
{
	struct dirent *entry;
	int fd, err = 0;
	DIR *directory;

	fd = openat(parent, name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == ENOTDIR || errno == ELOOP))
		return unlinkat(parent, name, 0);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	directory = fdopendir(fd);
	if (!directory) {
		close(fd);
		return -1;
	}
	while (err == 0 && (entry = readdir(directory))) {
		if (strcmp(entry->d_name, ".") != 0 &&
		    strcmp(entry->d_name, "..") != 0)
			err = remove_tree_at(dirfd(directory), entry->d_name);
	}
	closedir(directory);
	return err < 0 ? err : unlinkat(parent, name, AT_REMOVEDIR);
}

/* Copies the file at from into directory as name, with mode 0755. */
static void copy_file_at(const char *from, int directory, const char *name)
{
	char buffer[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out;
	ssize_t n;

	cr_assert(in >= 0, "cannot open %s: %s", from, strerror(errno));
	out = openat(directory, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		     0755);
	cr_assert(out >= 0, "cannot create %s in the long path: %s", name,
		  strerror(errno));
	while ((n = read(in, buffer, sizeof(buffer))) > 0)
		cr_assert(write(out, buffer, (size_t)n) == n,
			  "cannot write %s: %s", name, strerror(errno));
	cr_assert(n == 0, "cannot read %s: %s", from, strerror(errno));
	close(in);
	cr_assert(close(out) == 0, "cannot write %s: %s", name,
		  strerror(errno));
}

/*
 * Creates the chain scratch/NAME/NAME/... one level at a time with
 * mkdirat() and openat(), because its full path is longer than PATH_MAX,
 * and puts the payload as lib.so and /bin/true as prog in its last
 * directory. Returns the number of levels.
 */
static long make_long_path(const char *scratch)
{
	static const char prefix[] = "nativemon-long-path-";
	long depth = PATH_MAX / (LONG_NAME_LENGTH + 1) + 1;
	int directory;

	memset(run.chain_name, 'x', LONG_NAME_LENGTH);
	memcpy(run.chain_name, prefix, strlen(prefix));
	run.chain_name[LONG_NAME_LENGTH] = '\0';
	directory = open(scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert(directory >= 0, "cannot open %s: %s", scratch,
		  strerror(errno));
	run.chain_parent = scratch;
	for (long level = 1; level <= depth; level++) {
		int next;

		cr_assert(mkdirat(directory, run.chain_name, 0755) == 0,
			  "cannot create level %ld of the long path: %s", level,
			  strerror(errno));
		next = openat(directory, run.chain_name,
			      O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		cr_assert(next >= 0, "cannot open level %ld of the long path: %s",
			  level, strerror(errno));
		close(directory);
		directory = next;
	}
	copy_file_at(target("payload.so"), directory, "lib.so");
	copy_file_at("/bin/true", directory, "prog");
	close(directory);
	return depth;
}

/* Runs deep_path with action in a new long path and reads the log. */
static void run_in_long_path(const char *action)
{
	const char *scratch = new_scratch(NULL);
	long depth = make_long_path(scratch);

	run.log = format("%s/events.jsonl", scratch);
	harness_run_monitored(&run.result, run.log,
			      &(struct harness_options){ .cwd = scratch },
			      target("deep_path"), run.chain_name,
			      format("%ld", depth), action, NULL);
	cr_assert(!run.result.timed_out, "nativemon timed out; stderr: %s",
		  run.result.err);
	read_log();
	expect_exit_code(0);
}

Test(regress, long_path_module_load, .timeout = TEST_TIMEOUT)
{
	json_t *load;

	run_in_long_path("load");
	cr_assert(strstr(run.result.out, "loaded=./lib.so"),
		  "deep_path did not load the payload; stdout: %s",
		  run.result.out);
	load = harness_events_find(run.events, "event.action", "module-load",
				   "nativemon.file.path_unknown", "true", NULL);
	cr_assert(load, "no module-load record with path_unknown; %s",
		  run.seen);
	expect_string_field(load, "event.kind", "alert");
	expect_string_field(load, "rule.id", "nm-0012");
}

Test(regress, long_path_exec, .timeout = TEST_TIMEOUT)
{
	json_t *exec;

	run_in_long_path("exec");
	exec = harness_events_find(run.events, "event.action", "exec",
				   "process.args", "./prog", NULL);
	cr_assert(exec, "no exec record for ./prog; %s", run.seen);
	expect_true_field(exec, "nativemon.file.path_unknown");
}

/* Standard streams. */

static char *read_text_file(const char *path)
{
	FILE *file = fopen(path, "r");
	char *text = NULL;
	size_t size = 0;

	cr_assert(file, "cannot open %s: %s", path, strerror(errno));
	/* The log contains no NUL byte, so this reads the whole file. */
	if (getdelim(&text, &size, '\0', file) < 0) {
		cr_assert(feof(file), "cannot read %s", path);
		free(text);
		text = strdup("");
	}
	fclose(file);
	return own(text);
}

/*
 * With stderr closed, the log would be opened as descriptor 2 and receive
 * the child's "cannot execute" error as a line that is not JSON.
 */
Test(regress, closed_stderr_keeps_log_json, .timeout = TEST_TIMEOUT)
{
	static const char script[] =
		"exec \"$0\" run --log \"$1\" -- nativemon-test-no-such-command "
		"2>&-";
	const char *scratch = new_scratch(NULL);
	const char *text;

	run.log = format("%s/events.jsonl", scratch);
	harness_run((char *[]){ "sh", "-c", (char *)script, nativemon(),
				(char *)run.log, NULL },
		    &(struct harness_options){ .cwd = scratch }, &run.result);
	cr_assert(!run.result.timed_out, "nativemon timed out");
	expect_exit_code(127);
	cr_assert(run.result.err_length == 0,
		  "stderr was not closed: it received %s", run.result.err);
	text = read_text_file(run.log);
	cr_assert(!strstr(text, "nativemon["),
		  "a diagnostic went into the log: %s", text);
	read_log();
}

/*
 * The loader run as the program is both the executable and the loader,
 * and its calls count as the loader's.
 */
Test(regress, loader_as_program, .timeout = TEST_TIMEOUT)
{
	static const char loader[] = "/lib64/ld-linux-x86-64.so.2";

	cr_assert(access(loader, X_OK) == 0, "cannot execute %s: %s", loader,
		  strerror(errno));
	observe((char *[]){ (char *)loader, "/bin/true", NULL });
	expect_exit_code(0);
	cr_assert(harness_events_find(run.events, "event.action", "exec",
				      "process.args", loader, NULL),
		  "no exec record for %s; %s", loader, run.seen);
	expect_no_alerts();
}

/* Signals. */

/* Reads the "count SIGNO TIMES" lines that count_signals prints last. */
static void read_signal_counts(struct session *session, const int signals[],
			       int counts[], size_t count, long long deadline)
{
	char line[128];

	for (size_t read_count = 0; read_count < count;) {
		int signo, times;

		cr_assert(read_session_line(session, line, sizeof(line),
					    deadline),
			  "count_signals printed no count line; stdout: %s",
			  text_of(&session->out));
		if (strncmp(line, "received ", 9) == 0)
			continue;
		cr_assert(sscanf(line, "count %d %d", &signo, &times) == 2,
			  "unexpected line from count_signals: %s", line);
		for (size_t i = 0; i < count; i++) {
			if (signals[i] == signo)
				counts[i] = times;
		}
		read_count++;
	}
}

/*
 * Sends signo to nativemon alone and checks that the command reports it
 * and that nativemon is still running afterwards.
 */
static void send_to_nativemon(struct session *session, int signo,
			      long long deadline)
{
	char line[128], expected[32];

	cr_assert(kill(session->pid, signo) == 0, "kill failed: %s",
		  strerror(errno));
	snprintf(expected, sizeof(expected), "received %d", signo);
	cr_assert(read_session_line(session, line, sizeof(line), deadline),
		  "the command did not receive signal %d; nativemon %s, "
		  "wait status 0x%x; stderr: %s",
		  signo, session->exited ? "exited" : "runs",
		  session->wait_status, text_of(&session->err));
	cr_assert(strcmp(line, expected) == 0,
		  "count_signals printed \"%s\", expected \"%s\"", line,
		  expected);
	cr_assert(is_session_running(session),
		  "nativemon exited after signal %d: wait status 0x%x", signo,
		  session->wait_status);
}

/*
 * Signals whose default action would end nativemon are forwarded, not
 * taken, because a killed supervisor leaves the command with ENOSYS on
 * every watched call.
 */
Test(regress, forwards_terminating_signals, .timeout = TEST_TIMEOUT)
{
	const int signals[] = { SIGALRM, SIGRTMIN + 1 };
	int counts[ARRAY_SIZE(signals)] = { 0 };
	long long deadline = now_ms() + DEADLINE_MS;
	struct session *session;
	char line[128];

	session = start_session(
		(char *[]){ nativemon(), "run", "--quiet", "--",
			    target("count_signals"), format("%d", signals[0]),
			    format("%d", signals[1]), NULL },
		-1);
	cr_assert(read_session_line(session, line, sizeof(line), deadline),
		  "count_signals did not report ready; stderr: %s",
		  text_of(&session->err));
	cr_assert(strcmp(line, "ready") == 0, "count_signals printed: %s",
		  line);
	for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
		send_to_nativemon(session, signals[i], deadline);

	close_input(session);
	read_signal_counts(session, signals, counts, ARRAY_SIZE(signals),
			   deadline);
	for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
		cr_assert(counts[i] == 1,
			  "the command received signal %d %d times, expected "
			  "once",
			  signals[i], counts[i]);
	cr_assert(wait_session(session, deadline),
		  "nativemon did not exit after the command; stderr: %s",
		  text_of(&session->err));
	expect_session_exit_code(session, COUNT_SIGNALS_EXIT);
}

/*
 * Reads the children of pid from /proc/PID/task/PID/children, storing the
 * first size pids in pids. Returns how many there are.
 */
static size_t read_children(pid_t pid, pid_t pids[], size_t size)
{
	char path[64];
	size_t count = 0;
	FILE *file;
	int child;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid,
		 (int)pid);
	file = fopen(path, "r");
	cr_assert(file, "cannot open %s: %s", path, strerror(errno));
	while (fscanf(file, "%d", &child) == 1) {
		if (count < size)
			pids[count] = child;
		count++;
	}
	fclose(file);
	return count;
}

/*
 * Waits until nativemon has reaped the shell and the background process
 * is its only child, reparented to nativemon as a child subreaper.
 */
static void wait_only_child(pid_t pid, pid_t child, long long deadline)
{
	pid_t children[1];
	size_t count;

	for (;;) {
		count = read_children(pid, children, ARRAY_SIZE(children));
		if (count == 1 && children[0] == child)
			return;
		cr_assert(now_ms() < deadline,
			  "pid %d is not nativemon's only child: nativemon has "
			  "%zu children, the first %d",
			  (int)child, count, count ? (int)children[0] : 0);
		wait_poll_interval();
	}
}

/* Reads the "started" line of the shell and "ready PID" of await_sigterm. */
static pid_t read_background_pid(struct session *session, long long deadline)
{
	bool started = false;
	char line[128];
	int pid = 0;

	while (!started || pid == 0) {
		cr_assert(read_session_line(session, line, sizeof(line),
					    deadline),
			  "the shell and its background process did not "
			  "report; stdout: %s; stderr: %s",
			  text_of(&session->out), text_of(&session->err));
		if (strcmp(line, "started") == 0)
			started = true;
		else
			cr_assert(sscanf(line, "ready %d", &pid) == 1 && pid > 0,
				  "unexpected line on stdout: %s", line);
	}
	return pid;
}

/*
 * Once the command has exited, a service manager's SIGTERM must still
 * reach the daemons it left behind, which keep nativemon running.
 */
Test(regress, signal_reaches_orphan_after_exit, .timeout = TEST_TIMEOUT)
{
	long long deadline = now_ms() + DEADLINE_MS, sent, waited;
	struct session *session;
	char line[128];
	int sender = 0;
	pid_t orphan;

	session = start_session(
		(char *[]){ nativemon(), "run", "--quiet", "--", "sh", "-c",
			    "\"$0\" & echo started", target("await_sigterm"),
			    NULL },
		-1);
	orphan = read_background_pid(session, deadline);
	wait_only_child(session->pid, orphan, deadline);

	sent = now_ms();
	cr_assert(kill(session->pid, SIGTERM) == 0, "kill failed: %s",
		  strerror(errno));
	cr_assert(read_session_line(session, line, sizeof(line), deadline),
		  "the background process did not receive SIGTERM; nativemon "
		  "%s; stderr: %s",
		  session->exited ? "exited" : "runs", text_of(&session->err));
	cr_assert(sscanf(line, "SIGTERM from pid %d", &sender) == 1,
		  "await_sigterm printed: %s", line);
	cr_assert(sender == session->pid,
		  "SIGTERM came from pid %d, expected nativemon's pid %d",
		  sender, (int)session->pid);
	cr_assert(wait_session(session, deadline),
		  "nativemon did not exit after its last task; stderr: %s",
		  text_of(&session->err));
	waited = now_ms() - sent;
	expect_session_exit_code(session, 0);
	cr_assert(waited < PROMPT_EXIT_MS,
		  "nativemon exited %lld ms after the SIGTERM, expected less "
		  "than %d ms",
		  waited, PROMPT_EXIT_MS);
}

/*
 * Enough orphans that the list of nativemon's children is longer than 4096
 * bytes whatever their pids. Even the smallest pids, 1 to 1500, take 6393
 * bytes with their separators.
 */
#define MANY_ORPHANS 1500

/* Waits until nativemon has reaped fork_orphans and adopted its children. */
static void wait_children_count(pid_t pid, size_t expected,
				long long deadline)
{
	size_t count;

	for (;;) {
		count = read_children(pid, NULL, 0);
		if (count == expected)
			return;
		cr_assert(now_ms() < deadline,
			  "nativemon has %zu children, expected %zu", count,
			  expected);
		wait_poll_interval();
	}
}

Test(regress, signal_reaches_many_orphans, .timeout = TEST_TIMEOUT)
{
	long long deadline = now_ms() + DEADLINE_MS;
	struct session *session;
	char line[128], expected[32];

	session = start_session(
		(char *[]){ nativemon(), "run", "--quiet", "--",
			    target("fork_orphans"),
			    format("%d", MANY_ORPHANS), NULL },
		-1);
	snprintf(expected, sizeof(expected), "started %d", MANY_ORPHANS);
	cr_assert(read_session_line(session, line, sizeof(line), deadline),
		  "fork_orphans did not report; stderr: %s",
		  text_of(&session->err));
	cr_assert(strcmp(line, expected) == 0,
		  "fork_orphans printed \"%s\", expected \"%s\"", line,
		  expected);
	wait_children_count(session->pid, MANY_ORPHANS, deadline);

	cr_assert(kill(session->pid, SIGTERM) == 0, "kill failed: %s",
		  strerror(errno));
	cr_assert(wait_session(session, deadline),
		  "nativemon did not exit after SIGTERM: %zu of %d orphans "
		  "still run; stderr: %s",
		  read_children(session->pid, NULL, 0), MANY_ORPHANS,
		  text_of(&session->err));
	expect_session_exit_code(session, 0);
}

/* Command line and diagnostics. */

/* The kernel allows one seccomp listener per chain of filters. */
Test(regress, nested_run_names_reason, .timeout = TEST_TIMEOUT)
{
	static const char reason[] = "already runs under a seccomp listener";

	harness_run_nativemon(&run.result, NULL, "run", "--", nativemon(),
			      "run", "--", "true", NULL);
	cr_assert(!run.result.timed_out, "nativemon timed out; stderr: %s",
		  run.result.err);
	expect_exit_code(125);
	cr_assert(strstr(run.result.err, reason),
		  "stderr does not say \"%s\": %s", reason, run.result.err);
}

Test(regress, exec_args_count_past_cap, .timeout = TEST_TIMEOUT)
{
	static const char *const prefix[] = { "run", "--log", NULL, "--",
					      "/bin/true" };
	char **argv = calloc(MANY_ARGS + ARRAY_SIZE(prefix) + 1, sizeof(*argv));
	const char *scratch = new_scratch(NULL);
	json_t *exec, *args;
	long long count = 0;
	size_t at = 0;

	cr_assert(argv, "out of memory");
	own((char *)argv);
	run.log = format("%s/events.jsonl", scratch);
	argv[at++] = nativemon();
	for (size_t i = 0; i < ARRAY_SIZE(prefix); i++)
		argv[at++] = (char *)(prefix[i] ? prefix[i] : run.log);
	/* /bin/true, then MANY_ARGS - 1 more. */
	for (int i = 1; i < MANY_ARGS; i++)
		argv[at++] = "x";
	harness_run(argv, &(struct harness_options){ .cwd = scratch },
		    &run.result);
	cr_assert(!run.result.timed_out, "nativemon timed out; stderr: %s",
		  run.result.err);
	read_log();
	expect_exit_code(0);
	exec = harness_events_find(run.events, "event.action", "exec",
				   "process.args", "/bin/true", NULL);
	cr_assert(exec, "no exec record for /bin/true; %s", run.seen);
	cr_assert(harness_event_integer(exec, "process.args_count", &count),
		  "process.args_count is missing or not an integer");
	cr_assert(count == MANY_ARGS, "process.args_count is %lld, expected %d",
		  count, MANY_ARGS);
	expect_true_field(exec, "nativemon.args_truncated");
	args = harness_event_get(exec, "process.args");
	cr_assert(json_is_array(args), "process.args is not an array");
	cr_assert(json_array_size(args) <= COPIED_ARGS_MAX,
		  "process.args has %zu entries, expected at most %d",
		  json_array_size(args), COPIED_ARGS_MAX);
}

Test(regress, lost_events_reported, .timeout = TEST_TIMEOUT)
{
	static const char message[] = "could not be written to '/dev/full'";
	const char *line;
	unsigned long lost = 0;

	harness_run_nativemon(&run.result, NULL, "run", "--log", "/dev/full",
			      "--", "sh", "-c", "exit 3", NULL);
	cr_assert(!run.result.timed_out, "nativemon timed out; stderr: %s",
		  run.result.err);
	expect_exit_code(3);
	line = line_with(run.result.err, message);
	cr_assert(line, "stderr does not say \"%s\": %s", message,
		  run.result.err);
	cr_assert(sscanf(line, "nativemon[%*d]: warning: %lu events", &lost) ==
			  1,
		  "the warning does not count the lost events: %s", line);
	cr_assert(lost > 0, "the warning counts no lost events: %s", line);
}

/*
 * Fills a pipe or a stream socket until a write would block, then makes
 * writes block again.
 */
static void fill_until_blocked(int fd)
{
	static const char chunk[4096];
	int flags = fcntl(fd, F_GETFL);

	cr_assert(flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0,
		  "cannot make descriptor %d non-blocking: %s", fd,
		  strerror(errno));
	while (write(fd, chunk, sizeof(chunk)) > 0)
		;
	/* Whatever room the last chunk did not fit into. */
	while (write(fd, chunk, 1) > 0)
		;
	cr_assert(errno == EAGAIN, "cannot fill descriptor %d: %s", fd,
		  strerror(errno));
	cr_assert(fcntl(fd, F_SETFL, flags) == 0,
		  "cannot make descriptor %d blocking: %s", fd,
		  strerror(errno));
}

/*
 * Runs raw_memfd, whose direct syscall makes nativemon print an alert
 * line, with nativemon's stderr on stalled[1], which is full and never
 * read. A reader that stops reading must not stall the supervisor, and
 * with it every watched call of the command.
 */
static void expect_exit_with_stalled_stderr(int stalled[2])
{
	long long deadline = now_ms() + STALLED_DEADLINE_MS;
	const char *scratch = new_scratch(NULL);
	struct session *session;

	run.log = format("%s/events.jsonl", scratch);
	fill_until_blocked(stalled[1]);
	session = start_session((char *[]){ nativemon(), "run", "--log",
					     (char *)run.log, "--",
					     target("raw_memfd"), NULL },
				stalled[1]);
	close(stalled[1]);
	cr_assert(wait_session(session, deadline),
		  "nativemon did not exit within %d ms with a full stderr; "
		  "stdout: %s",
		  STALLED_DEADLINE_MS, text_of(&session->out));
	close(stalled[0]);
	expect_session_exit_code(session, 0);
	read_log();
	cr_assert(harness_events_find(run.events, "event.kind", "alert",
				      "event.action", "direct-syscall", NULL),
		  "no direct-syscall alert, so no alert line was due; %s",
		  run.seen);
}

Test(regress, stalled_stderr_pipe, .timeout = TEST_TIMEOUT)
{
	int stalled[2];

	open_pipe(stalled);
	expect_exit_with_stalled_stderr(stalled);
}

/* Under systemd, stderr is often a stream socket to the journal. */
Test(regress, stalled_stderr_socket, .timeout = TEST_TIMEOUT)
{
	int stalled[2];

	cr_assert(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
			     stalled) == 0,
		  "socketpair failed: %s", strerror(errno));
	expect_exit_with_stalled_stderr(stalled);
}

/*
 * Without CAP_SYS_PTRACE nativemon cannot read the maps of a non-dumpable
 * target. The calls of that target must not count as coming from unknown
 * memory. The binaries are copied into a directory the user owns, so the
 * test does not depend on the permissions of the build directory.
 */
Test(regress, non_dumpable_target_warns_once, .timeout = TEST_TIMEOUT)
{
	bool as_root = geteuid() == 0;
	struct harness_options options = {
		.set_ids = as_root,
		.uid = UNPRIVILEGED_ID,
		.gid = UNPRIVILEGED_ID,
	};
	const char *scratch = new_scratch("/tmp");
	char *copy = format("%s/nativemon", scratch);
	char *program = format("%s/nondumpable", scratch);
	const char *line, *level;
	size_t warnings;

	if (as_root)
		cr_assert(chown(scratch, UNPRIVILEGED_ID, UNPRIVILEGED_ID) == 0,
			  "cannot chown %s: %s", scratch, strerror(errno));
	harness_copy_file(nativemon(), copy, 0755);
	harness_copy_file(target("nondumpable"), program, 0755);
	options.cwd = scratch;
	run.log = format("%s/events.jsonl", scratch);
	harness_run((char *[]){ copy, "run", "--log", (char *)run.log, "--",
				program, NULL },
		    &options, &run.result);
	cr_assert(!run.result.timed_out, "nativemon timed out; stderr: %s",
		  run.result.err);
	read_log();
	expect_exit_code(0);
	cr_assert(harness_events_find(run.events, "event.action", "exec",
				      "process.args", program, NULL),
		  "no exec record for %s; %s", program, run.seen);
	expect_no_alerts();
	warnings = harness_count_substring(run.result.err, "CAP_SYS_PTRACE");
	cr_assert(warnings == 1,
		  "CAP_SYS_PTRACE appears %zu times on stderr, expected once: "
		  "%s",
		  warnings, run.result.err);
	line = line_with(run.result.err, "CAP_SYS_PTRACE");
	level = strstr(line, ": warning: ");
	cr_assert(level && level < strchrnul(line, '\n'),
		  "the line that names CAP_SYS_PTRACE is not a warning: %s",
		  line);
}

Test(regress, verbose_prints_lifecycle, .timeout = TEST_TIMEOUT)
{
	static const char *const lines[] = {
		"info: supervising pid",
		"info: exiting with status 0",
	};

	harness_run_nativemon(&run.result, NULL, "run", "-v", "--", "true",
			      NULL);
	cr_assert(!run.result.timed_out, "nativemon timed out; stderr: %s",
		  run.result.err);
	expect_exit_code(0);
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
		cr_assert(count_lines_with(run.result.err, lines[i]) == 1,
			  "stderr has %zu lines with \"%s\", expected one: %s",
			  count_lines_with(run.result.err, lines[i]), lines[i],
			  run.result.err);
}
