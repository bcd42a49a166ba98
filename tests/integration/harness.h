/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers for the integration tests: run the real nativemon binary with a
 * deadline and capture what it prints, read its JSON Lines log, and query
 * the records. Setup failures end the current Criterion test with a failed
 * assertion, so callers need not check for them.
 */
#ifndef NATIVEMON_TESTS_HARNESS_H
#define NATIVEMON_TESTS_HARNESS_H

#include <jansson.h>
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
 * Run `$NATIVEMON run --log LOG -- COMMAND ARG...`. The argument list ends
 * with NULL, and options may be NULL.
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

#endif
