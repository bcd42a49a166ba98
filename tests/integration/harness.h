/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers for the integration tests. They run the real nativemon binary
 * with a deadline and capture what it prints, or start it in the
 * background and talk to it through pipes. They keep the resources of the
 * current test, read nativemon's JSON Lines log and query the records.
 * Setup failures end the current Criterion test with a failed assertion,
 * so callers need not check for them.
 */
#ifndef NATIVEMON_TESTS_HARNESS_H
#define NATIVEMON_TESTS_HARNESS_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Deadline of harness_run() when the options give none, in milliseconds. */
#define HARNESS_TIMEOUT_MS 30000

struct harness_options {
	/* NULL-terminated "NAME=value" list; NULL keeps the test's own. */
	char *const *env;
	/* Working directory of the command; NULL keeps the test's own. */
	const char *cwd;
	/*
	 * When set_ids is true, the command runs with these real, effective
	 * and saved ids and no supplementary groups. Needs root.
	 */
	bool set_ids;
	uid_t uid;
	gid_t gid;
	/* 0 means HARNESS_TIMEOUT_MS. */
	int timeout_ms;
	/*
	 * NULL-terminated options of `nativemon run` placed before --log,
	 * such as "--policy", FILE; NULL for none.
	 */
	const char *const *run_options;
};

struct harness_result {
	pid_t pid;	/* of the command harness_run() started */
	int wait_status; /* as waitpid(2) stored it; 0 after a timeout */
	/* Exit status, 128 + N after signal N, or -1 after a timeout. */
	int exit_code;
	bool timed_out;
	char *out; /* stdout, NUL-terminated */
	size_t out_length;
	char *err; /* stderr, NUL-terminated */
	size_t err_length;
};

/*
 * Return the nativemon binary under test ($NATIVEMON) or the directory of
 * the target programs ($TARGETS). The strings belong to the environment.
 */
const char *harness_nativemon_path(void);
const char *harness_targets_dir(void);

/*
 * Return the absolute path of target program name in $TARGETS, with
 * symbolic links resolved as /proc/PID/maps shows them. The caller frees
 * the string.
 */
char *harness_target_path(const char *name);

/*
 * Run argv[0] (looked up in PATH) with stdin on /dev/null, stdout and
 * stderr captured, in a new process group. From Linux 5.11 on, no other
 * descriptor of the test runner stays open in the command. On the
 * deadline the whole group is killed with SIGKILL and result->timed_out
 * is set. Once the command has exited, the rest of its process group is
 * killed too, so no helper process outlives the test. Release the result
 * with harness_result_fini().
 */
void harness_run(char *const argv[], const struct harness_options *options,
		 struct harness_result *result);

/*
 * Run `$NATIVEMON ARG...`. The argument list ends with NULL, and options
 * may be NULL.
 */
void harness_run_nativemon(struct harness_result *result,
			   const struct harness_options *options, ...)
	__attribute__((sentinel));

/*
 * Run `$NATIVEMON run [RUN-OPTIONS] --log LOG -- COMMAND ARG...` with the
 * run options of options. The argument list ends with NULL, and options
 * may be NULL.
 */
void harness_run_monitored(struct harness_result *result, const char *log,
			   const struct harness_options *options,
			   const char *command, ...)
	__attribute__((sentinel));

/* The same with the command and its arguments in a NULL-terminated array. */
void harness_run_monitored_argv(struct harness_result *result,
				const char *log,
				const struct harness_options *options,
				char *const command[]);

void harness_result_fini(struct harness_result *result);

/* Count the occurrences of needle in text, which may be NULL. */
size_t harness_count_substring(const char *text, const char *needle);

/* Count the lines of text that contain needle. text may be NULL. */
size_t harness_count_lines_with(const char *text, const char *needle);

/* Return the CLOCK_MONOTONIC time in milliseconds, for deadlines. */
long long harness_now_ms(void);

/* Sleep for 1 ms between two looks at /proc while waiting for a state. */
void harness_wait_poll_interval(void);

/* Create a pipe whose two ends are close-on-exec. */
void harness_open_pipe(int fds[2]);

/*
 * Skip the current test unless the kernel has seccomp user notification
 * and SECCOMP_USER_NOTIF_FLAG_CONTINUE (Linux 5.5), which nativemon needs.
 * Meant as the .init hook of a suite that runs nativemon.
 */
void harness_require_user_notification(void);

/*
 * Create a directory with mode 0700 and a random name under parent. With
 * parent NULL it goes under $XDG_CACHE_HOME or $HOME/.cache, which are not
 * temporary places in nativemon's default policy: code mapped from /tmp
 * raises an alert by itself. The caller releases the path with
 * harness_scratch_remove().
 */
char *harness_scratch_new(const char *parent);

/* Remove a scratch directory and everything in it, then free the path. */
void harness_scratch_remove(char *path);

/* Copy a regular file and give the copy the permission bits mode. */
void harness_copy_file(const char *from, const char *to, mode_t mode);

#define HARNESS_SCRATCH_MAX 4
#define HARNESS_STRINGS_MAX 32

/*
 * Resources of the current test. A test file keeps one in a static
 * variable and releases it with harness_test_fini() in its suite's .fini
 * hook, which Criterion also runs after a failed assertion.
 */
struct harness_test {
	char *scratch[HARNESS_SCRATCH_MAX]; /* see harness_test_scratch_new() */
	char *strings[HARNESS_STRINGS_MAX]; /* see harness_test_own() */
	const char *log; /* path of the JSON Lines log, or NULL */
	struct harness_result result;
	json_t *events; /* records of the log, see harness_test_read_log() */
	char *seen; /* harness_events_describe() of events */
};

/*
 * Remove the scratch directories, free the owned strings, the result and
 * the records, and zero test.
 */
void harness_test_fini(struct harness_test *test);

/*
 * Create a scratch directory as harness_scratch_new() does and return its
 * path, which harness_test_fini() removes. At most HARNESS_SCRATCH_MAX.
 */
const char *harness_test_scratch_new(struct harness_test *test,
				     const char *parent);

/*
 * Hand text, allocated with malloc(), over to test, which frees it in
 * harness_test_fini(), and return it. The test fails if text is NULL or
 * test already owns HARNESS_STRINGS_MAX strings.
 */
char *harness_test_own(struct harness_test *test, char *text);

/* Format a string that test owns. */
char *harness_test_format(struct harness_test *test, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

/* Return harness_target_path(name) as a string that test owns. */
char *harness_test_target(struct harness_test *test, const char *name);

/*
 * Wait until the file at path was last changed more than three seconds
 * ago. nativemon's caches keep nothing they read from a file changed just
 * now (two seconds at the most), and make check runs the tests right
 * after it links the targets.
 */
void harness_wait_until_settled(const char *path);

/*
 * Read the log at test->log into test->events and describe the records in
 * test->seen, replacing those of an earlier run.
 */
void harness_test_read_log(struct harness_test *test);

/*
 * Run `$NATIVEMON run --log LOG -- COMMAND...` into test->result and read
 * the log, replacing the result and records of an earlier run. The log goes into a new scratch directory, which is also the
 * working directory unless options name another. options may be NULL. The
 * test fails if nativemon times out.
 */
void harness_test_observe(struct harness_test *test,
			  const struct harness_options *options,
			  char *const command[]);

/*
 * User and group id of unprivileged runs as root: the `nobody` user and
 * the `nogroup` group.
 */
#define HARNESS_UNPRIVILEGED_ID 65534

/*
 * Copy nativemon and the target program name into a new scratch directory
 * under /tmp and run the copy of nativemon there as harness_test_observe()
 * does, with the copy of the program as the command. A test that runs as
 * root gives the directory to HARNESS_UNPRIVILEGED_ID and runs nativemon
 * as that user and group. Return the path of the program's copy, which
 * test owns.
 */
const char *harness_test_observe_unprivileged(struct harness_test *test,
					      const char *name);

/* Fail the test unless test->result has the exit code expected. */
void harness_test_expect_exit_code(const struct harness_test *test,
				   int expected);

/*
 * Read a JSON Lines log into a new JSON array of its records. The test
 * fails if the file is missing, is not valid UTF-8, has a line that is not
 * one JSON object, or ends without a newline. The caller releases the
 * array with json_decref().
 */
json_t *harness_log_read(const char *path);

/*
 * Return the value at a dotted path such as "process.parent.pid", nested
 * ({"process": {"parent": ...}}) or with flattened keys, or NULL if it is
 * absent. The value is borrowed from event.
 */
json_t *harness_event_get(const json_t *event, const char *path);

/* Return the string at path, or NULL if it is absent or not a string. */
const char *harness_event_string(const json_t *event, const char *path);

/* Fail the test unless the string at path is equal to expected. */
void harness_event_expect_string(const json_t *event, const char *path,
				 const char *expected);

/* Store the integer at path in value, or return false if there is none. */
bool harness_event_integer(const json_t *event, const char *path,
			   long long *value);

/*
 * Return nativemon.count of a record: how many occurrences nativemon
 * folded into it. A record without a valid count counts as one.
 */
long long harness_event_count(const json_t *event);

/*
 * The functions below take conditions as pairs of arguments, a dotted
 * path and the expected value as text, ended by NULL:
 *
 *	harness_events_count(events, "event.kind", "alert",
 *			     "event.action", "direct-syscall", NULL);
 *
 * A string field matches when it is equal to the text, an integer field
 * when it has the value the text spells, and a boolean when the text is
 * "true" or "false". An array matches when one of its elements does.
 */

/* Return the first record that meets all conditions, or NULL. Borrowed. */
json_t *harness_events_find(const json_t *events, ...)
	__attribute__((sentinel));

/* Return the sum of nativemon.count over the records that match. */
long long harness_events_count(const json_t *events, ...)
	__attribute__((sentinel));

/*
 * Return a one-line summary of the records (kind, action, syscall, origin
 * kind, rule and file of each) for assertion messages. The caller frees
 * the string.
 */
char *harness_events_describe(const json_t *events);

/* One output stream of a session: a pipe and what came through it. */
struct harness_capture {
	int fd; /* read end of the pipe, -1 after end of file */
	char *data; /* NUL-terminated; NULL before the first byte */
	size_t length;
};

/*
 * A nativemon running in the background with pipes on its standard
 * streams, started by harness_session_start().
 */
struct harness_session {
	pid_t pid; /* also its process group */
	int pidfd;
	int input; /* write end of its stdin, or -1 */
	int terminal; /* master of its controlling terminal, or -1 */
	struct harness_capture out;
	struct harness_capture err; /* fd -1 when stderr goes elsewhere */
	size_t out_consumed; /* bytes of out returned as lines */
	bool exited;
	int wait_status; /* as waitpid(2) stored it once exited is true */
};

struct harness_session_options {
	const sigset_t *mask; /* initial signal mask, empty if NULL */
	/*
	 * Connect stdin to a pipe whose write end the test gets as
	 * session.input. Without it, stdin is /dev/null.
	 */
	bool pipe_input;
	/*
	 * Start nativemon as a session leader with a pseudo-terminal as its
	 * controlling terminal, in the foreground process group. The test is
	 * skipped if no pseudo-terminal can be opened.
	 */
	bool terminal;
	const char *path; /* PATH for nativemon, NULL to keep the test's */
	/*
	 * Drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the bounding set,
	 * so that a directory with mode 000 denies search to root as well.
	 */
	bool without_dac_override;
	/*
	 * When set_ids is true, the program runs with these real, effective
	 * and saved ids and no supplementary groups. Needs root.
	 */
	bool set_ids;
	uid_t uid;
	gid_t gid;
	/*
	 * With redirect_stderr, stderr is stderr_fd and session.err stays
	 * empty. Without it, stderr is a pipe that the session reads.
	 */
	bool redirect_stderr;
	int stderr_fd;
};

/*
 * Start argv[0], a path that is not looked up in PATH, in a new process
 * group with default signal dispositions, options->mask as its signal mask
 * and stdout on a pipe. From Linux 5.9 on (close_range(2)), no descriptor
 * above stderr stays open in it. PR_SET_PDEATHSIG kills it if the test
 * process dies first. options may be NULL. The pipes are read only in the
 * functions below. End the session with harness_session_end().
 */
void harness_session_start(struct harness_session *session, char *const argv[],
			   const struct harness_session_options *options);

/* Return the bytes read from capture so far; never NULL. */
const char *harness_capture_text(const struct harness_capture *capture);

/*
 * Copy the next line of stdout, without its newline, into line. Return
 * false if the deadline (of harness_now_ms()) passed, stdout ended or
 * nativemon exited first.
 */
bool harness_session_read_line(struct harness_session *session, char *line,
			       size_t size, long long deadline);

/*
 * Wait for nativemon to exit, reading its output meanwhile. Processes that
 * outlive it may hold the pipes open, so this stops at its exit and takes
 * only what was written by then. Return false if the deadline passed.
 */
bool harness_session_wait(struct harness_session *session, long long deadline);

/* Read the output that is ready and return whether nativemon still runs. */
bool harness_session_is_running(struct harness_session *session);

/* Close the write end of nativemon's stdin, if the session has one. */
void harness_session_close_input(struct harness_session *session);

/*
 * Kill what is left of the session's process group, reap nativemon, close
 * the descriptors, free the output and zero session.
 */
void harness_session_end(struct harness_session *session);

/* Fail the test unless nativemon exited normally with status expected. */
void harness_session_expect_exit_code(const struct harness_session *session,
				      int expected);

#endif
