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
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Resources of the current test, released by the suite's fini hook, which
 * Criterion also runs after a failed assertion.
 */
static struct harness_test run;
/* The nativemon that a signal or pipe test runs in the background. */
static struct harness_session test_session;
/* The directory chain of the long-path tests: parent/name. */
static struct {
	const char *parent;
	char name[LONG_NAME_LENGTH + 1];
} chain;

static int remove_tree_at(int parent, const char *name);

static void remove_chain(void)
{
	int parent;

	if (!chain.parent)
		return;
	parent = open(chain.parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert(parent >= 0, "cannot open %s: %s", chain.parent,
		  strerror(errno));
	cr_assert(remove_tree_at(parent, chain.name) == 0,
		  "cannot remove the directory chain in %s: %s", chain.parent,
		  strerror(errno));
	close(parent);
}

static void release_run(void)
{
	if (test_session.pid > 0)
		harness_session_end(&test_session);
	/* nftw() in harness_scratch_remove() fails on paths past PATH_MAX. */
	remove_chain();
	memset(&chain, 0, sizeof(chain));
	harness_test_fini(&run);
}

TestSuite(regress, .init = harness_require_user_notification,
	  .fini = release_run);

static char *nativemon(void)
{
	return (char *)harness_nativemon_path();
}

static void expect_no_alerts(void)
{
	long long alerts = harness_events_count(run.events, "event.kind",
						"alert", NULL);

	cr_assert(alerts == 0, "%lld alerts; %s", alerts, run.seen);
}

static void expect_true_field(const json_t *event, const char *path)
{
	json_t *value = harness_event_get(event, path);

	cr_assert(json_is_true(value), "%s is %s, expected true", path,
		  value ? "not true" : "missing");
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

/* Sessions: nativemon in the background, for the signal and pipe tests. */

/*
 * Starts argv in test_session with a pipe on stdin and stdout. stderr goes
 * to error_fd, or to a third pipe that the session reads if it is -1.
 */
static struct harness_session *start_session(char *const argv[], int error_fd)
{
	const struct harness_session_options options = {
		.pipe_input = true,
		.redirect_stderr = error_fd >= 0,
		.stderr_fd = error_fd,
	};

	harness_session_start(&test_session, argv, &options);
	return &test_session;
}

/* Thread group without its leader. */

Test(regress, leader_exit_keeps_origins, .timeout = TEST_TIMEOUT)
{
	json_t *libm = NULL, *event;
	size_t i;

	harness_test_observe(
		&run, NULL,
		(char *[]){ harness_test_target(&run, "leader_exit"), NULL });
	harness_test_expect_exit_code(&run, 0);
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
	harness_event_expect_string(libm, "event.action", "module-load");
	harness_event_expect_string(libm, "event.kind", "event");
	harness_event_expect_string(libm, "nativemon.origin.kind", "loader");
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

	memset(chain.name, 'x', LONG_NAME_LENGTH);
	memcpy(chain.name, prefix, strlen(prefix));
	chain.name[LONG_NAME_LENGTH] = '\0';
	directory = open(scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert(directory >= 0, "cannot open %s: %s", scratch,
		  strerror(errno));
	chain.parent = scratch;
	for (long level = 1; level <= depth; level++) {
		int next;

		cr_assert(mkdirat(directory, chain.name, 0755) == 0,
			  "cannot create level %ld of the long path: %s", level,
			  strerror(errno));
		next = openat(directory, chain.name,
			      O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		cr_assert(next >= 0, "cannot open level %ld of the long path: %s",
			  level, strerror(errno));
		close(directory);
		directory = next;
	}
	copy_file_at(harness_test_target(&run, "payload.so"), directory,
		     "lib.so");
	copy_file_at("/bin/true", directory, "prog");
	close(directory);
	return depth;
}

/* Runs deep_path with action in a new long path and reads the log. */
static void run_in_long_path(const char *action)
{
	const char *scratch = harness_test_scratch_new(&run, NULL);
	long depth = make_long_path(scratch);

	run.log = harness_test_format(&run, "%s/events.jsonl", scratch);
	harness_run_monitored(
		&run.result, run.log,
		&(struct harness_options){ .cwd = scratch },
		harness_test_target(&run, "deep_path"), chain.name,
		harness_test_format(&run, "%ld", depth), action, NULL);
	cr_assert(!run.result.timed_out, "nativemon timed out; stderr: %s",
		  run.result.err);
	harness_test_read_log(&run);
	harness_test_expect_exit_code(&run, 0);
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
	harness_event_expect_string(load, "event.kind", "alert");
	harness_event_expect_string(load, "rule.id", "nm-0012");
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
	return harness_test_own(&run, text);
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
	const char *scratch = harness_test_scratch_new(&run, NULL);
	const char *text;

	run.log = harness_test_format(&run, "%s/events.jsonl", scratch);
	harness_run((char *[]){ "sh", "-c", (char *)script, nativemon(),
				(char *)run.log, NULL },
		    &(struct harness_options){ .cwd = scratch }, &run.result);
	cr_assert(!run.result.timed_out, "nativemon timed out");
	harness_test_expect_exit_code(&run, 127);
	cr_assert(run.result.err_length == 0,
		  "stderr was not closed: it received %s", run.result.err);
	text = read_text_file(run.log);
	cr_assert(!strstr(text, "nativemon["),
		  "a diagnostic went into the log: %s", text);
	harness_test_read_log(&run);
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
	harness_test_observe(&run, NULL,
			     (char *[]){ (char *)loader, "/bin/true", NULL });
	harness_test_expect_exit_code(&run, 0);
	cr_assert(harness_events_find(run.events, "event.action", "exec",
				      "process.args", loader, NULL),
		  "no exec record for %s; %s", loader, run.seen);
	expect_no_alerts();
}

/* Signals. */

/* Reads the "count SIGNO TIMES" lines that count_signals prints last. */
static void read_signal_counts(struct harness_session *session,
			       const int signals[], int counts[], size_t count,
			       long long deadline)
{
	char line[128];

	for (size_t read_count = 0; read_count < count;) {
		int signo, times;

		cr_assert(harness_session_read_line(session, line, sizeof(line),
						    deadline),
			  "count_signals printed no count line; stdout: %s",
			  harness_capture_text(&session->out));
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
static void send_to_nativemon(struct harness_session *session, int signo,
			      long long deadline)
{
	char line[128], expected[32];

	cr_assert(kill(session->pid, signo) == 0, "kill failed: %s",
		  strerror(errno));
	snprintf(expected, sizeof(expected), "received %d", signo);
	cr_assert(harness_session_read_line(session, line, sizeof(line),
					    deadline),
		  "the command did not receive signal %d; nativemon %s, "
		  "wait status 0x%x; stderr: %s",
		  signo, session->exited ? "exited" : "runs",
		  session->wait_status, harness_capture_text(&session->err));
	cr_assert(strcmp(line, expected) == 0,
		  "count_signals printed \"%s\", expected \"%s\"", line,
		  expected);
	cr_assert(harness_session_is_running(session),
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
	long long deadline = harness_now_ms() + DEADLINE_MS;
	struct harness_session *session;
	char line[128];

	session = start_session(
		(char *[]){ nativemon(), "run", "--quiet", "--",
			    harness_test_target(&run, "count_signals"),
			    harness_test_format(&run, "%d", signals[0]),
			    harness_test_format(&run, "%d", signals[1]), NULL },
		-1);
	cr_assert(harness_session_read_line(session, line, sizeof(line),
					    deadline),
		  "count_signals did not report ready; stderr: %s",
		  harness_capture_text(&session->err));
	cr_assert(strcmp(line, "ready") == 0, "count_signals printed: %s",
		  line);
	for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
		send_to_nativemon(session, signals[i], deadline);

	harness_session_close_input(session);
	read_signal_counts(session, signals, counts, ARRAY_SIZE(signals),
			   deadline);
	for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
		cr_assert(counts[i] == 1,
			  "the command received signal %d %d times, expected "
			  "once",
			  signals[i], counts[i]);
	cr_assert(harness_session_wait(session, deadline),
		  "nativemon did not exit after the command; stderr: %s",
		  harness_capture_text(&session->err));
	harness_session_expect_exit_code(session, COUNT_SIGNALS_EXIT);
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
		cr_assert(harness_now_ms() < deadline,
			  "pid %d is not nativemon's only child: nativemon has "
			  "%zu children, the first %d",
			  (int)child, count, count ? (int)children[0] : 0);
		harness_wait_poll_interval();
	}
}

/* Reads the "started" line of the shell and "ready PID" of await_sigterm. */
static pid_t read_background_pid(struct harness_session *session,
				 long long deadline)
{
	bool started = false;
	char line[128];
	int pid = 0;

	while (!started || pid == 0) {
		cr_assert(harness_session_read_line(session, line, sizeof(line),
						    deadline),
			  "the shell and its background process did not "
			  "report; stdout: %s; stderr: %s",
			  harness_capture_text(&session->out),
			  harness_capture_text(&session->err));
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
	long long deadline = harness_now_ms() + DEADLINE_MS, sent, waited;
	struct harness_session *session;
	char line[128];
	int sender = 0;
	pid_t orphan;

	session = start_session(
		(char *[]){ nativemon(), "run", "--quiet", "--", "sh", "-c",
			    "\"$0\" & echo started",
			    harness_test_target(&run, "await_sigterm"), NULL },
		-1);
	orphan = read_background_pid(session, deadline);
	wait_only_child(session->pid, orphan, deadline);

	sent = harness_now_ms();
	cr_assert(kill(session->pid, SIGTERM) == 0, "kill failed: %s",
		  strerror(errno));
	cr_assert(harness_session_read_line(session, line, sizeof(line),
					    deadline),
		  "the background process did not receive SIGTERM; nativemon "
		  "%s; stderr: %s",
		  session->exited ? "exited" : "runs",
		  harness_capture_text(&session->err));
	cr_assert(sscanf(line, "SIGTERM from pid %d", &sender) == 1,
		  "await_sigterm printed: %s", line);
	cr_assert(sender == session->pid,
		  "SIGTERM came from pid %d, expected nativemon's pid %d",
		  sender, (int)session->pid);
	cr_assert(harness_session_wait(session, deadline),
		  "nativemon did not exit after its last task; stderr: %s",
		  harness_capture_text(&session->err));
	waited = harness_now_ms() - sent;
	harness_session_expect_exit_code(session, 0);
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
		cr_assert(harness_now_ms() < deadline,
			  "nativemon has %zu children, expected %zu", count,
			  expected);
		harness_wait_poll_interval();
	}
}

Test(regress, signal_reaches_many_orphans, .timeout = TEST_TIMEOUT)
{
	long long deadline = harness_now_ms() + DEADLINE_MS;
	struct harness_session *session;
	char line[128], expected[32];

	session = start_session(
		(char *[]){ nativemon(), "run", "--quiet", "--",
			    harness_test_target(&run, "fork_orphans"),
			    harness_test_format(&run, "%d", MANY_ORPHANS),
			    NULL },
		-1);
	snprintf(expected, sizeof(expected), "started %d", MANY_ORPHANS);
	cr_assert(harness_session_read_line(session, line, sizeof(line),
					    deadline),
		  "fork_orphans did not report; stderr: %s",
		  harness_capture_text(&session->err));
	cr_assert(strcmp(line, expected) == 0,
		  "fork_orphans printed \"%s\", expected \"%s\"", line,
		  expected);
	wait_children_count(session->pid, MANY_ORPHANS, deadline);

	cr_assert(kill(session->pid, SIGTERM) == 0, "kill failed: %s",
		  strerror(errno));
	cr_assert(harness_session_wait(session, deadline),
		  "nativemon did not exit after SIGTERM: %zu of %d orphans "
		  "still run; stderr: %s",
		  read_children(session->pid, NULL, 0), MANY_ORPHANS,
		  harness_capture_text(&session->err));
	harness_session_expect_exit_code(session, 0);
}

/* Command line and diagnostics. */

/* The kernel allows one seccomp listener per chain of filters. */
Test(regress, nested_run_names_reason, .timeout = TEST_TIMEOUT)
{
	static const char reason[] = "already runs under a seccomp listener";

	/*
	 * Without --no-preload the inner nativemon of a sanitizer build would
	 * refuse to start, because the shim would come before ASan's runtime.
	 */
	harness_run_nativemon(&run.result, NULL, "run", "--no-preload", "--",
			      nativemon(), "run", "--", "true", NULL);
	cr_assert(!run.result.timed_out, "nativemon timed out; stderr: %s",
		  run.result.err);
	harness_test_expect_exit_code(&run, 125);
	cr_assert(strstr(run.result.err, reason),
		  "stderr does not say \"%s\": %s", reason, run.result.err);
}

Test(regress, exec_args_count_past_cap, .timeout = TEST_TIMEOUT)
{
	static const char *const prefix[] = { "run", "--log", NULL, "--",
					      "/bin/true" };
	char **argv = calloc(MANY_ARGS + ARRAY_SIZE(prefix) + 1, sizeof(*argv));
	const char *scratch = harness_test_scratch_new(&run, NULL);
	json_t *exec, *args;
	long long count = 0;
	size_t at = 0;

	cr_assert(argv, "out of memory");
	harness_test_own(&run, (char *)argv);
	run.log = harness_test_format(&run, "%s/events.jsonl", scratch);
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
	harness_test_read_log(&run);
	harness_test_expect_exit_code(&run, 0);
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
	harness_test_expect_exit_code(&run, 3);
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
	long long deadline = harness_now_ms() + STALLED_DEADLINE_MS;
	const char *scratch = harness_test_scratch_new(&run, NULL);
	struct harness_session *session;

	run.log = harness_test_format(&run, "%s/events.jsonl", scratch);
	fill_until_blocked(stalled[1]);
	session = start_session(
		(char *[]){ nativemon(), "run", "--log", (char *)run.log, "--",
			    harness_test_target(&run, "raw_memfd"), NULL },
		stalled[1]);
	close(stalled[1]);
	cr_assert(harness_session_wait(session, deadline),
		  "nativemon did not exit within %d ms with a full stderr; "
		  "stdout: %s",
		  STALLED_DEADLINE_MS, harness_capture_text(&session->out));
	close(stalled[0]);
	harness_session_expect_exit_code(session, 0);
	harness_test_read_log(&run);
	cr_assert(harness_events_find(run.events, "event.kind", "alert",
				      "event.action", "direct-syscall", NULL),
		  "no direct-syscall alert, so no alert line was due; %s",
		  run.seen);
}

Test(regress, stalled_stderr_pipe, .timeout = TEST_TIMEOUT)
{
	int stalled[2];

	harness_open_pipe(stalled);
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
 * Without CAP_SYS_PTRACE nativemon cannot open the maps of a process that
 * was non-dumpable before its first watched call: the target's child. Its
 * calls must not count as coming from unknown memory, and the warning
 * comes once. The target itself keeps the maps descriptor opened before
 * its prctl, so it warns nothing.
 */
Test(regress, non_dumpable_target_warns_once, .timeout = TEST_TIMEOUT)
{
	const char *program;
	const char *line, *level;
	size_t warnings;

	program = harness_test_observe_unprivileged(&run, "nondumpable");
	harness_test_expect_exit_code(&run, 0);
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
	harness_test_expect_exit_code(&run, 0);
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		size_t count =
			harness_count_lines_with(run.result.err, lines[i]);

		cr_assert(count == 1,
			  "stderr has %zu lines with \"%s\", expected one: %s",
			  count, lines[i], run.result.err);
	}
}

/*
 * A path in a userfaultfd page that the process serves late must not
 * stall nativemon, and with it the watched calls of other processes.
 */
Test(regress, userfaultfd_page_does_not_stall_others, .timeout = 60)
{
	char *command[] = { harness_test_target(&run, "uffd_exec"), NULL };
	const char *line;
	long child_ms = -1;
	int fd_ok = 0;

	harness_test_observe(&run, NULL, command);

	if (strstr(run.result.out, "unsupported"))
		cr_skip_test("userfaultfd is not allowed here");
	line = strstr(run.result.out, "child_ms=");
	cr_assert(line && sscanf(line, "child_ms=%ld fd_ok=%d", &child_ms,
				 &fd_ok) == 2,
		  "stdout: %s; stderr: %s", run.result.out, run.result.err);
	cr_expect_eq(fd_ok, 1);
	cr_expect_lt(child_ms, 1500,
		     "the child's watched call waited %ld ms for nativemon",
		     child_ms);
}
