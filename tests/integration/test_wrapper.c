/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integration tests of nativemon as a command wrapper: exit statuses, exec
 * failures, signal forwarding, orphan reaping, idling, the command line and
 * what the command inherits. Each test runs the real binary, which installs
 * its seccomp filter on real commands and on the wrap_* targets.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/ttydefaults.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* Deadline for nativemon to finish, well below the Criterion timeout. */
#define DEADLINE_MS 20000
#define TEST_TIMEOUT_S 30

/*
 * How soon nativemon must exit once the last filtered task is gone. Its
 * poll() has timeouts of 1 s for folded alerts and 10 s for sweeping the
 * process table, so an exit that waited for one of them fails the test.
 */
#define PROMPT_EXIT_MS 500

/* CPU time nativemon may use while its only task sleeps for IDLE_MS. */
#define IDLE_MS 1000
#define IDLE_CPU_MAX_MS 50

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The nativemon of the current test. It is static so that the suite's fini
 * can still end it after a failed assertion left the test function.
 */
static struct harness_session test_session;
static char *scratch_dir;

/*
 * Copies builddir/relative into path, taking builddir from the location of
 * this program, builddir/tests/integration/test_wrapper.
 */
static void build_path(const char *relative, char *path, size_t size)
{
	char exe[PATH_MAX];
	ssize_t length = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	cr_assert_gt(length, 0, "cannot read /proc/self/exe: %s",
		     strerror(errno));
	exe[length] = '\0';
	for (int i = 0; i < 3; i++) {
		char *slash = strrchr(exe, '/');

		cr_assert_not_null(slash, "no build directory above %s", exe);
		*slash = '\0';
	}
	cr_assert_lt((size_t)snprintf(path, size, "%s/%s", exe, relative),
		     size, "path too long: %s/%s", exe, relative);
}

/* Returns $NATIVEMON, or the nativemon binary of this build tree. */
static char *nativemon_path(void)
{
	static char path[PATH_MAX];
	const char *env = getenv("NATIVEMON");

	if (env && *env)
		return (char *)env;
	if (!path[0])
		build_path("nativemon", path, sizeof(path));
	return path;
}

/* Copies the path of target name, in $TARGETS or this build, into path. */
static char *target_path(const char *name, char *path, size_t size)
{
	const char *dir = getenv("TARGETS");
	char built[PATH_MAX];

	if (!dir || !*dir) {
		build_path("tests/targets", built, sizeof(built));
		dir = built;
	}
	cr_assert_lt((size_t)snprintf(path, size, "%s/%s", dir, name), size,
		     "path too long: %s/%s", dir, name);
	return path;
}

/* Creates the test's scratch directory, which end_test() removes. */
static const char *make_scratch_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	char pattern[PATH_MAX];

	snprintf(pattern, sizeof(pattern), "%s/nativemon-wrapper-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	cr_assert_not_null(mkdtemp(pattern), "mkdtemp %s: %s", pattern,
			   strerror(errno));
	scratch_dir = strdup(pattern);
	cr_assert_not_null(scratch_dir, "out of memory");
	return scratch_dir;
}

static char *scratch_path(const char *name, char *path, size_t size)
{
	cr_assert_lt((size_t)snprintf(path, size, "%s/%s", scratch_dir, name),
		     size, "path too long: %s/%s", scratch_dir, name);
	return path;
}

static int remove_entry(const char *path, const struct stat *st, int type,
			struct FTW *ftw)
{
	remove(path);
	return 0;
}

/* Criterion runs this after each test, also after a failed assertion. */
static void end_test(void)
{
	if (test_session.pid > 0)
		harness_session_end(&test_session);
	if (scratch_dir) {
		nftw(scratch_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
		free(scratch_dir);
		scratch_dir = NULL;
	}
}

TestSuite(wrapper, .fini = end_test);
TestSuite(cli, .fini = end_test);

/* Runs nativemon with argv to its end and fails the test on the deadline. */
static void run_session(struct harness_session *session, char *const argv[],
			const struct harness_session_options *options)
{
	harness_session_start(session, argv, options);
	cr_assert(harness_session_wait(session, harness_now_ms() + DEADLINE_MS),
		  "nativemon did not exit within %d ms; stderr: %s",
		  DEADLINE_MS, harness_capture_text(&session->err));
}

static int count_lines(const char *text)
{
	int count = 0;

	for (; *text; text++)
		count += *text == '\n';
	return count;
}

/* Copies a small file into text, which is empty if the read fails. */
static void read_file(const char *path, char *text, size_t size)
{
	FILE *file = fopen(path, "r");
	size_t length;

	text[0] = '\0';
	if (!file)
		return;
	length = fread(text, 1, size - 1, file);
	text[length] = '\0';
	fclose(file);
}

/* Exit statuses. */

struct status_case {
	const char *script;
	int expected;
};

static const struct status_case status_cases[] = {
	{ "exit 42", 42 },
	{ "kill -SEGV $$", 128 + SIGSEGV },
	{ "kill -TERM $$", 128 + SIGTERM },
};

ParameterizedTestParameters(wrapper, exits_with_command_status)
{
	static int indexes[] = { 0, 1, 2 };

	return cr_make_param_array(int, indexes, ARRAY_SIZE(indexes));
}

ParameterizedTest(int *index, wrapper, exits_with_command_status,
		  .timeout = TEST_TIMEOUT_S)
{
	const struct status_case *test = &status_cases[*index];
	char *argv[] = { nativemon_path(), "run", "--", "sh", "-c",
			 (char *)test->script, NULL };
	struct harness_session *session = &test_session;

	cr_log_info("sh -c '%s'", test->script);
	run_session(session, argv, NULL);
	harness_session_expect_exit_code(session, test->expected);
	harness_session_end(session);
}

/* Exec failures. */

/*
 * Runs `nativemon run -- command` and checks that nativemon exits with
 * expected and prints one error line, which names command.
 */
static void assert_exec_error(char *command,
			      const struct harness_session_options *options,
			      int expected)
{
	char *argv[] = { nativemon_path(), "run", "--", command, NULL };
	struct harness_session *session = &test_session;
	const char *err;

	run_session(session, argv, options);
	err = harness_capture_text(&session->err);
	harness_session_expect_exit_code(session, expected);
	cr_assert_eq(harness_count_lines_with(err, "error:"), 1,
		     "expected one error line on stderr, got: %s", err);
	cr_assert_eq(harness_count_lines_with(err, command), 1,
		     "no error line names %s; stderr: %s", command, err);
	harness_session_end(session);
}

Test(wrapper, reports_missing_command, .timeout = TEST_TIMEOUT_S)
{
	/* The caller's PATH may have directories it cannot search. */
	const struct harness_session_options options = {
		.path = "/usr/bin:/bin",
	};
	char command[] = "nativemon-test-no-such-command";

	assert_exec_error(command, &options, 127);
}

/*
 * A PATH directory that cannot be searched makes execvp() fail with
 * EACCES, but the command was not found in it. Shells such as bash and
 * dash exit with 127 then.
 */
Test(wrapper, reports_missing_command_past_denied_dir,
     .timeout = TEST_TIMEOUT_S)
{
	struct harness_session_options options = {
		.without_dac_override = true,
	};
	char command[] = "nativemon-test-no-such-command";
	char denied[PATH_MAX], path[PATH_MAX + 16];

	make_scratch_dir();
	scratch_path("denied", denied, sizeof(denied));
	cr_assert_eq(mkdir(denied, 0), 0, "mkdir %s: %s", denied,
		     strerror(errno));
	snprintf(path, sizeof(path), "%s:/usr/bin:/bin", denied);
	options.path = path;

	assert_exec_error(command, &options, 127);
}

Test(wrapper, reports_command_not_executable, .timeout = TEST_TIMEOUT_S)
{
	char path[PATH_MAX];
	FILE *script;

	make_scratch_dir();
	scratch_path("not-executable.sh", path, sizeof(path));
	script = fopen(path, "w");
	cr_assert_not_null(script, "cannot create %s: %s", path,
			   strerror(errno));
	fputs("#!/bin/sh\nexit 0\n", script);
	fclose(script);
	cr_assert_eq(chmod(path, 0644), 0, "chmod %s: %s", path,
		     strerror(errno));

	assert_exec_error(path, NULL, 126);
}

/* Signal forwarding. */

static const int forwarded_signals[] = {
	SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH,
};

ParameterizedTestParameters(wrapper, forwards_signal_once)
{
	static int signals[ARRAY_SIZE(forwarded_signals)];

	memcpy(signals, forwarded_signals, sizeof(signals));
	return cr_make_param_array(int, signals, ARRAY_SIZE(signals));
}

/*
 * Reads the "count SIGNO N" lines that wrap_signals prints at its end,
 * after the "received" lines of any copies that arrived late.
 */
static void read_signal_counts(struct harness_session *session,
			       int counts[NSIG], long long deadline)
{
	char line[128];
	size_t read_count = 0;

	memset(counts, 0, NSIG * sizeof(int));
	while (read_count < ARRAY_SIZE(forwarded_signals)) {
		int signo, count;

		cr_assert(harness_session_read_line(session, line, sizeof(line),
						    deadline),
			  "wrap_signals printed no count line; stdout: %s",
			  harness_capture_text(&session->out));
		if (strncmp(line, "received ", 9) == 0)
			continue;
		cr_assert_eq(sscanf(line, "count %d %d", &signo, &count), 2,
			     "unexpected line from wrap_signals: %s", line);
		cr_assert(signo > 0 && signo < NSIG,
			  "invalid signal in line: %s", line);
		counts[signo] = count;
		read_count++;
	}
}

/* Reads the state letter and the shared pending signals of a process. */
static void read_task_status(pid_t pid, char *state,
			     unsigned long long *shared_pending)
{
	char path[64], status[4096];
	const char *state_line, *pending_line;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	read_file(path, status, sizeof(status));
	state_line = strstr(status, "\nState:\t");
	pending_line = strstr(status, "\nShdPnd:\t");
	cr_assert(state_line && pending_line, "cannot parse %s: %s", path,
		  status);
	*state = state_line[8];
	*shared_pending = strtoull(pending_line + 9, NULL, 16);
}

static void wait_stopped(pid_t pid, long long deadline)
{
	unsigned long long pending;
	char state;

	for (;;) {
		read_task_status(pid, &state, &pending);
		if (state == 'T')
			return;
		cr_assert_lt(harness_now_ms(), deadline,
			     "nativemon did not stop: state %c", state);
		harness_wait_poll_interval();
	}
}

/*
 * Waits until nativemon has read signo from its signalfd and sleeps again.
 * It forwards a signal right after reading it, so a copy it sent has
 * reached the command by then.
 */
static void wait_signal_taken(pid_t pid, int signo, long long deadline)
{
	unsigned long long bit = 1ULL << (signo - 1), pending;
	char state;

	for (;;) {
		read_task_status(pid, &state, &pending);
		if (!(pending & bit) && state == 'S')
			return;
		cr_assert_lt(harness_now_ms(), deadline,
			     "nativemon did not take signal %d: state %c, "
			     "ShdPnd %016llx",
			     signo, state, pending);
		harness_wait_poll_interval();
	}
}

/* Several rounds check that nativemon forwards every copy, not the first. */
#define SIGNAL_ROUNDS 3

/*
 * Sends signo by kill() to nativemon, or through the terminal to its
 * foreground process group, and reads the command's report of it.
 *
 * The terminal signal reaches nativemon and the command at once. nativemon
 * is stopped meanwhile, so a copy that it wrongly forwards arrives after
 * the command handled the first one. Two copies pending at the same time
 * would merge into one and hide the duplicate.
 */
static void send_signal(struct harness_session *session, int signo,
			bool terminal, long long deadline)
{
	char control = signo == SIGINT ? CINTR : CQUIT;
	char line[128], expected[32];

	if (terminal) {
		cr_assert_eq(kill(session->pid, SIGSTOP), 0, "SIGSTOP: %s",
			     strerror(errno));
		wait_stopped(session->pid, deadline);
		cr_assert_eq(write(session->terminal, &control, 1), 1,
			     "cannot write to the terminal: %s",
			     strerror(errno));
	} else {
		cr_assert_eq(kill(session->pid, signo), 0, "kill: %s",
			     strerror(errno));
	}
	snprintf(expected, sizeof(expected), "received %d", signo);
	cr_assert(harness_session_read_line(session, line, sizeof(line),
					    deadline),
		  "wrap_signals did not receive signal %d; stderr: %s", signo,
		  harness_capture_text(&session->err));
	cr_assert_str_eq(line, expected, "wrap_signals printed: %s", line);
	if (terminal)
		cr_assert_eq(kill(session->pid, SIGCONT), 0, "SIGCONT: %s",
			     strerror(errno));
	wait_signal_taken(session->pid, signo, deadline);
}

/*
 * Runs wrap_signals, sends signo SIGNAL_ROUNDS times by kill() or through
 * the terminal, and checks that the command handled each exactly once.
 */
static void assert_signal_once(int signo, bool terminal)
{
	const struct harness_session_options options = { .pipe_input = true,
							 .terminal = terminal };
	char target[PATH_MAX], line[128];
	char *argv[] = { nativemon_path(), "run", "--quiet", "--",
			 target_path("wrap_signals", target, sizeof(target)),
			 NULL };
	long long deadline = harness_now_ms() + DEADLINE_MS;
	struct harness_session *session = &test_session;
	int counts[NSIG];

	cr_log_info("signal %d (%s) %s", signo, strsignal(signo),
		    terminal ? "from the terminal" : "by kill()");
	harness_session_start(session, argv, &options);
	cr_assert(harness_session_read_line(session, line, sizeof(line),
					    deadline),
		  "wrap_signals did not report ready; stderr: %s",
		  harness_capture_text(&session->err));
	cr_assert_str_eq(line, "ready", "wrap_signals printed: %s", line);

	for (int round = 1; round <= SIGNAL_ROUNDS; round++) {
		cr_log_info("round %d", round);
		send_signal(session, signo, terminal, deadline);
	}

	harness_session_close_input(session);
	read_signal_counts(session, counts, deadline);
	for (size_t i = 0; i < ARRAY_SIZE(forwarded_signals); i++) {
		int other = forwarded_signals[i];

		cr_assert_eq(counts[other], other == signo ? SIGNAL_ROUNDS : 0,
			     "wrap_signals received signal %d %d times after "
			     "signal %d was sent %d times",
			     other, counts[other], signo, SIGNAL_ROUNDS);
	}
	cr_assert(harness_session_wait(session, deadline),
		  "nativemon did not exit after wrap_signals; stderr: %s",
		  harness_capture_text(&session->err));
	harness_session_expect_exit_code(session, 64 + signo);
	harness_session_end(session);
}

ParameterizedTest(int *signo, wrapper, forwards_signal_once,
		  .timeout = TEST_TIMEOUT_S)
{
	assert_signal_once(*signo, false);
}

ParameterizedTestParameters(wrapper, delivers_terminal_signal_once)
{
	static int signals[] = { SIGINT, SIGQUIT };

	return cr_make_param_array(int, signals, ARRAY_SIZE(signals));
}

/*
 * The terminal signals nativemon's whole foreground process group, which
 * includes the command, so nativemon must not forward a second copy.
 */
ParameterizedTest(int *signo, wrapper, delivers_terminal_signal_once,
		  .timeout = TEST_TIMEOUT_S)
{
	assert_signal_once(*signo, true);
}

/* Orphans and exit. */

/*
 * The orphan's exit races with nativemon's own, so one run can pass by
 * luck. Several runs make a missed orphan show up.
 */
#define ORPHAN_RUNS 8

Test(wrapper, waits_for_orphans, .timeout = TEST_TIMEOUT_S)
{
	char file[PATH_MAX], script[PATH_MAX + 64], text[64];
	char *argv[] = { nativemon_path(), "run", "--", "sh", "-c", script,
			 NULL };
	struct harness_session *session = &test_session;
	int status;
	pid_t left;

	/* Processes that outlive nativemon are reparented to this one. */
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0,
		     "PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	left = waitpid(-1, &status, WNOHANG);
	cr_assert(left < 0 && errno == ECHILD,
		  "the test process has children before the test: %d",
		  (int)left);
	make_scratch_dir();
	scratch_path("orphan", file, sizeof(file));
	snprintf(script, sizeof(script),
		 "(sleep 0.3; echo done > '%s') & exit 0", file);

	for (int run = 1; run <= ORPHAN_RUNS; run++) {
		unlink(file);
		run_session(session, argv, NULL);
		harness_session_expect_exit_code(session, 0);
		read_file(file, text, sizeof(text));
		cr_assert_str_eq(text, "done\n",
				 "run %d: the orphan had not finished when "
				 "nativemon exited: %s contains '%s'",
				 run, file, text);
		left = waitpid(-1, &status, WNOHANG);
		cr_assert(left < 0 && errno == ECHILD,
			  "run %d: nativemon left a process behind: "
			  "waitpid(-1) returned %d, status 0x%x",
			  run, (int)left, left > 0 ? status : 0);
		harness_session_end(session);
	}
}

static long read_cpu_ms(pid_t pid)
{
	char path[64], stat[1024];
	unsigned long utime, stime;
	const char *fields;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	read_file(path, stat, sizeof(stat));
	/* The command name may contain spaces, so parse after the last ')'. */
	fields = strrchr(stat, ')');
	cr_assert_not_null(fields, "cannot parse %s: %s", path, stat);
	cr_assert_eq(sscanf(fields + 2,
			    "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			    "%lu %lu",
			    &utime, &stime),
		     2, "cannot parse %s: %s", path, stat);
	return (long)((utime + stime) * 1000 / sysconf(_SC_CLK_TCK));
}

/*
 * Starts wrap_idle, which sleeps IDLE_MS, and returns the CPU time that
 * nativemon used meanwhile. wrap_idle then waits for end of input.
 */
static long start_idle_target(struct harness_session *session, bool orphan,
			      long long deadline)
{
	const struct harness_session_options options = { .pipe_input = true };
	char target[PATH_MAX], sleep_ms[16], line[64];
	char *argv[] = { nativemon_path(), "run", "--quiet", "--",
			 target_path("wrap_idle", target, sizeof(target)),
			 sleep_ms, orphan ? "orphan" : NULL, NULL };
	long before;

	snprintf(sleep_ms, sizeof(sleep_ms), "%d", IDLE_MS);
	harness_session_start(session, argv, &options);
	cr_assert(harness_session_read_line(session, line, sizeof(line),
					    deadline),
		  "wrap_idle did not report ready; stderr: %s",
		  harness_capture_text(&session->err));
	cr_assert_str_eq(line, "ready", "wrap_idle printed: %s", line);
	before = read_cpu_ms(session->pid);
	cr_assert(harness_session_read_line(session, line, sizeof(line),
					    deadline),
		  "wrap_idle did not report the end of its sleep; stderr: %s",
		  harness_capture_text(&session->err));
	cr_assert_str_eq(line, "slept", "wrap_idle printed: %s", line);
	return read_cpu_ms(session->pid) - before;
}

Test(wrapper, idles_while_command_sleeps, .timeout = TEST_TIMEOUT_S)
{
	long long deadline = harness_now_ms() + DEADLINE_MS;
	struct harness_session *session = &test_session;
	long used;

	used = start_idle_target(session, false, deadline);
	cr_assert_lt(used, IDLE_CPU_MAX_MS,
		     "nativemon used %ld ms of CPU time while the command "
		     "slept %d ms",
		     used, IDLE_MS);
	harness_session_close_input(session);
	cr_assert(harness_session_wait(session, deadline),
		  "nativemon did not exit; stderr: %s",
		  harness_capture_text(&session->err));
	harness_session_expect_exit_code(session, 0);
	harness_session_end(session);
}

/* Closes the input of wrap_idle and checks how soon nativemon exits. */
static void assert_prompt_exit(bool orphan)
{
	long long deadline = harness_now_ms() + DEADLINE_MS, released, waited;
	struct harness_session *session = &test_session;

	start_idle_target(session, orphan, deadline);
	released = harness_now_ms();
	harness_session_close_input(session);
	cr_assert(harness_session_wait(session, deadline),
		  "nativemon did not exit; stderr: %s",
		  harness_capture_text(&session->err));
	waited = harness_now_ms() - released;
	harness_session_expect_exit_code(session, 0);
	cr_assert_lt(waited, PROMPT_EXIT_MS,
		     "nativemon exited %lld ms after its last task", waited);
	harness_session_end(session);
}

Test(wrapper, exits_after_last_task, .timeout = TEST_TIMEOUT_S)
{
	assert_prompt_exit(false);
}

Test(wrapper, exits_after_last_orphan, .timeout = TEST_TIMEOUT_S)
{
	assert_prompt_exit(true);
}

/* Command line. */

struct usage_case {
	const char *args[5];
	const char *names; /* what the error must name, or NULL */
};

static const struct usage_case usage_cases[] = {
	{ { NULL }, NULL },
	{ { "frobnicate", NULL }, "frobnicate" },
	{ { "--bogus", NULL }, "--bogus" },
	{ { "run", NULL }, NULL },
	{ { "run", "--bogus", "--", "true", NULL }, "--bogus" },
	{ { "run", "--log", NULL }, "--log" },
	{ { "run", "-Zq", "true", NULL }, "-Z" },
};

/* Builds "nativemon ARG..." into argv, which has room for 6 pointers. */
static void build_argv(const char *const args[5], char *argv[6], char *line,
		       size_t size)
{
	size_t i;

	argv[0] = nativemon_path();
	snprintf(line, size, "nativemon");
	for (i = 0; i < 5 && args[i]; i++) {
		argv[i + 1] = (char *)args[i];
		strncat(line, " ", size - strlen(line) - 1);
		strncat(line, args[i], size - strlen(line) - 1);
	}
	argv[i + 1] = NULL;
}

ParameterizedTestParameters(cli, rejects_usage_error)
{
	static int indexes[] = { 0, 1, 2, 3, 4, 5, 6 };

	return cr_make_param_array(int, indexes, ARRAY_SIZE(indexes));
}

ParameterizedTest(int *index, cli, rejects_usage_error,
		  .timeout = TEST_TIMEOUT_S)
{
	const struct usage_case *test = &usage_cases[*index];
	char *argv[6], command[256];
	struct harness_session *session = &test_session;
	const char *err, *second;

	build_argv(test->args, argv, command, sizeof(command));
	cr_log_info("%s", command);
	run_session(session, argv, NULL);
	err = harness_capture_text(&session->err);
	harness_session_expect_exit_code(session, 2);
	cr_assert_eq(session->out.length, 0, "%s printed on stdout: %s",
		     command, harness_capture_text(&session->out));
	cr_assert_eq(count_lines(err), 2,
		     "%s: expected an error and a hint on stderr, got: %s",
		     command, err);
	cr_assert_eq(strncmp(err, "nativemon: ", 11), 0,
		     "%s: the error does not start with 'nativemon: ': %s",
		     command, err);
	second = strchr(err, '\n') + 1;
	cr_assert_eq(strncmp(second, "Try 'nativemon --help'", 22), 0,
		     "%s: the second line is not the hint: %s", command,
		     err);
	if (test->names) {
		const char *name = strstr(err, test->names);

		cr_assert(name && name < second,
			  "%s: the error does not name %s: %s", command,
			  test->names, err);
	}
	harness_session_end(session);
}

struct help_case {
	const char *args[5];
};

static const struct help_case help_cases[] = {
	{ { "--help", NULL } },
	{ { "-h", NULL } },
	{ { "run", "--help", NULL } },
	{ { "run", "-h", NULL } },
};

ParameterizedTestParameters(cli, prints_help)
{
	static int indexes[] = { 0, 1, 2, 3 };

	return cr_make_param_array(int, indexes, ARRAY_SIZE(indexes));
}

ParameterizedTest(int *index, cli, prints_help, .timeout = TEST_TIMEOUT_S)
{
	char *argv[6], command[256];
	struct harness_session *session = &test_session;

	build_argv(help_cases[*index].args, argv, command, sizeof(command));
	cr_log_info("%s", command);
	run_session(session, argv, NULL);
	harness_session_expect_exit_code(session, 0);
	cr_assert_eq(strncmp(harness_capture_text(&session->out), "Usage:", 6),
		     0, "%s: stdout does not start with 'Usage:': %s", command,
		     harness_capture_text(&session->out));
	cr_assert_eq(session->err.length, 0, "%s printed on stderr: %s",
		     command, harness_capture_text(&session->err));
	harness_session_end(session);
}

Test(cli, prints_version, .timeout = TEST_TIMEOUT_S)
{
	char *argv[] = { nativemon_path(), "--version", NULL };
	struct harness_session *session = &test_session;
	const char *out;

	run_session(session, argv, NULL);
	out = harness_capture_text(&session->out);
	harness_session_expect_exit_code(session, 0);
	cr_assert_eq(strncmp(out, "nativemon ", 10), 0,
		     "stdout does not start with 'nativemon ': %s", out);
	cr_assert(out[10] >= '0' && out[10] <= '9',
		  "no version number after 'nativemon ': %s", out);
	cr_assert_eq(count_lines(out), 1, "expected one line: %s", out);
	harness_session_end(session);
}

Test(cli, passes_command_options, .timeout = TEST_TIMEOUT_S)
{
	char *argv[] = { nativemon_path(), "run", "ls", "-l", "/", NULL };
	struct harness_session *session = &test_session;
	const char *out;

	run_session(session, argv, NULL);
	out = harness_capture_text(&session->out);
	harness_session_expect_exit_code(session, 0);
	/* Only `ls -l` starts with this line; `-l /` as --log would fail. */
	cr_assert_eq(strncmp(out, "total ", 6), 0,
		     "ls did not get -l: stdout is: %s", out);
	harness_session_end(session);
}

Test(cli, rejects_unwritable_log, .timeout = TEST_TIMEOUT_S)
{
	char log[PATH_MAX], marker[PATH_MAX];
	char *argv[] = { nativemon_path(), "run", "--log", log, "--",
			 "touch", marker, NULL };
	struct harness_session *session = &test_session;
	struct stat st;
	const char *err;

	make_scratch_dir();
	scratch_path("missing/events.log", log, sizeof(log));
	scratch_path("marker", marker, sizeof(marker));

	run_session(session, argv, NULL);
	err = harness_capture_text(&session->err);
	harness_session_expect_exit_code(session, 125);
	cr_assert_eq(harness_count_lines_with(err, log), 1,
		     "no error line names %s; stderr: %s", log, err);
	cr_assert_neq(stat(marker, &st), 0,
		      "the command ran although the log could not be opened");
	harness_session_end(session);
}

/* What the command inherits. */

struct mask_case {
	int signals[3]; /* blocked when nativemon starts, ended by 0 */
};

static const struct mask_case mask_cases[] = {
	{ { 0 } },
	{ { SIGUSR1, SIGTERM, 0 } },
};

ParameterizedTestParameters(wrapper, keeps_signal_mask)
{
	static int indexes[] = { 0, 1 };

	return cr_make_param_array(int, indexes, ARRAY_SIZE(indexes));
}

ParameterizedTest(int *index, wrapper, keeps_signal_mask,
		  .timeout = TEST_TIMEOUT_S)
{
	const struct mask_case *test = &mask_cases[*index];
	char target[PATH_MAX];
	char *argv[] = { nativemon_path(), "run", "--quiet", "--",
			 target_path("wrap_sigmask", target, sizeof(target)),
			 NULL };
	struct harness_session_options options = { 0 };
	unsigned long long expected = 0, seen;
	struct harness_session *session = &test_session;
	sigset_t mask;

	sigemptyset(&mask);
	for (int i = 0; test->signals[i]; i++) {
		sigaddset(&mask, test->signals[i]);
		expected |= 1ULL << (test->signals[i] - 1);
	}
	options.mask = &mask;

	run_session(session, argv, &options);
	harness_session_expect_exit_code(session, 0);
	cr_assert_eq(sscanf(harness_capture_text(&session->out), "SigBlk: %llx",
			    &seen),
		     1, "wrap_sigmask printed: %s",
		     harness_capture_text(&session->out));
	cr_assert_eq(seen, expected,
		     "the command started with SigBlk %016llx, nativemon "
		     "with %016llx",
		     seen, expected);
	harness_session_end(session);
}

ParameterizedTestParameters(wrapper, leaks_no_descriptors)
{
	static int with_log[] = { 0, 1 };

	return cr_make_param_array(int, with_log, ARRAY_SIZE(with_log));
}

ParameterizedTest(int *with_log, wrapper, leaks_no_descriptors,
		  .timeout = TEST_TIMEOUT_S)
{
	char target[PATH_MAX], log[PATH_MAX];
	char *argv[] = { nativemon_path(), "run", "--log", log, "--",
			 target_path("wrap_fds", target, sizeof(target)),
			 NULL };
	struct harness_session *session = &test_session;

	if (*with_log) {
		make_scratch_dir();
		scratch_path("events.log", log, sizeof(log));
	} else {
		/* Drop "--log LOG" from the arguments. */
		memmove(&argv[2], &argv[4], 3 * sizeof(argv[0]));
	}
	cr_log_info("%s", *with_log ? "with --log" : "without --log");

	run_session(session, argv, NULL);
	harness_session_expect_exit_code(session, 0);
	cr_assert_str_eq(harness_capture_text(&session->out), "0 1 2\n",
			 "the command started with these descriptors open: %s",
			 harness_capture_text(&session->out));
	harness_session_end(session);
}

/* Load and races. */

Test(wrapper, survives_exec_storm, .timeout = TEST_TIMEOUT_S)
{
	char *argv[] = { nativemon_path(), "run", "--quiet", "--", "sh", "-c",
			 "for i in $(seq 200); do /bin/true; done", NULL };
	struct harness_session *session = &test_session;

	run_session(session, argv, NULL);
	harness_session_expect_exit_code(session, 0);
	harness_session_end(session);
}

/*
 * Each child's entry keeps descriptors open until it is dropped. Without sweeps
 * as the table grows, 2000 children would leave at least 4000 open, since
 * the timed sweep comes only every SUPERVISE_SWEEP_INTERVAL_MS.
 */
#define CHURN_CHILDREN 2000
#define CHURN_FDS_MAX 400

Test(wrapper, drops_entries_of_exited_children, .timeout = TEST_TIMEOUT_S)
{
	char target[PATH_MAX], children[16];
	char *argv[] = { nativemon_path(), "run", "--quiet", "--",
			 target_path("wrap_churn", target, sizeof(target)),
			 children, NULL };
	struct harness_session *session = &test_session;
	const char *out, *found;
	long fds;

	snprintf(children, sizeof(children), "%d", CHURN_CHILDREN);
	run_session(session, argv, NULL);
	harness_session_expect_exit_code(session, 0);
	out = harness_capture_text(&session->out);
	found = strstr(out, "supervisor_fds=");
	cr_assert_not_null(found, "wrap_churn printed no count: %s", out);
	fds = strtol(found + strlen("supervisor_fds="), NULL, 10);
	cr_expect_lt(fds, CHURN_FDS_MAX,
		     "nativemon held %ld descriptors after %d children exited",
		     fds, CHURN_CHILDREN);
	harness_session_end(session);
}

Test(wrapper, survives_concurrent_execs, .timeout = TEST_TIMEOUT_S)
{
	char target[PATH_MAX];
	char *argv[] = { nativemon_path(), "run", "--quiet", "--",
			 target_path("wrap_forks", target, sizeof(target)),
			 "50", NULL };
	struct harness_session *session = &test_session;

	run_session(session, argv, NULL);
	harness_session_expect_exit_code(session, 0);
	harness_session_end(session);
}

/*
 * exit_group() kills threads that wait in a watched mprotect(). Their
 * notifications vanish, and the failed response must not be reported as
 * an error. The race is narrow, so the target runs several times.
 */
#define DYING_RUNS 50

Test(wrapper, survives_exit_during_calls, .timeout = 60)
{
	char target[PATH_MAX];
	char *argv[] = { nativemon_path(), "run", "--quiet", "--",
			 target_path("wrap_dying", target, sizeof(target)),
			 "37", NULL };
	struct harness_session *session = &test_session;

	for (int run = 1; run <= DYING_RUNS; run++) {
		const char *err;

		run_session(session, argv, NULL);
		err = harness_capture_text(&session->err);
		cr_log_info("run %d", run);
		harness_session_expect_exit_code(session, 37);
		/* nativemon reports failed receives and responses with it. */
		cr_assert_eq(harness_count_lines_with(err, "notification"), 0,
			     "run %d: nativemon reported a notification error: "
			     "%s",
			     run, err);
		harness_session_end(session);
	}
}
