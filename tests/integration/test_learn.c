/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Baseline tests: `nativemon learn` records what a command does as a
 * policy, and `nativemon run` under that policy alerts only on what the
 * command did not do while it was learned. `nativemon policy merge` and
 * `policy diff` are checked on baselines written by hand.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define TEST_TIMEOUT 120

/* Maximum number of arguments of one `nativemon learn` command line. */
#define LEARN_ARGV_MAX 32

/* Exit status of baseline_app when its direct syscall fails with EPERM. */
#define BASELINE_APP_DIRECT_DENIED 3

static const char python_imports[] = "import ssl, ctypes, sqlite3";

static struct harness_test run;

static void release_run(void)
{
	harness_test_fini(&run);
}

TestSuite(learn, .init = harness_require_user_notification,
	  .fini = release_run);

TestSuite(baseline, .fini = release_run);

/* Appends the NULL-terminated list to argv at *count, within the maximum. */
static void append_arguments(char **argv, size_t *count,
			     const char *const arguments[])
{
	for (size_t i = 0; arguments && arguments[i]; i++) {
		cr_assert_lt(*count, LEARN_ARGV_MAX - 1,
			     "more than %d arguments to nativemon learn",
			     LEARN_ARGV_MAX - 1);
		argv[(*count)++] = (char *)arguments[i];
	}
}

/*
 * Runs `nativemon learn -o POLICY OPTION... -- COMMAND...` in directory
 * cwd into run.result and returns its exit code. options may be NULL.
 */
static int learn(const char *policy, const char *cwd,
		 const char *const options[], char *const command[])
{
	const char *head[] = { harness_nativemon_path(), "learn", "-o", policy,
			       NULL };
	const char *separator[] = { "--", NULL };
	struct harness_options run_options = { .cwd = cwd };
	char *argv[LEARN_ARGV_MAX];
	size_t count = 0;

	append_arguments(argv, &count, head);
	append_arguments(argv, &count, options);
	append_arguments(argv, &count, separator);
	append_arguments(argv, &count, (const char *const *)command);
	argv[count] = NULL;

	harness_result_fini(&run.result);
	harness_run(argv, &run_options, &run.result);
	cr_assert(!run.result.timed_out,
		  "nativemon learn timed out; stderr: %s", run.result.err);
	return run.result.exit_code;
}

/* Learns command into policy and fails the test unless learn exits 0. */
static void learn_or_fail(const char *policy, const char *cwd,
			  const char *const options[], char *const command[])
{
	int exit_code = learn(policy, cwd, options, command);

	cr_assert_eq(exit_code, 0, "nativemon learn exited with %d; stderr: %s",
		     exit_code, run.result.err);
}

/* Runs command under `nativemon run --policy POLICY` and reads the log. */
static void observe_under(const char *policy, char *const command[])
{
	const char *run_options[] = { "--policy", policy, NULL };
	struct harness_options options = { .run_options = run_options };

	harness_test_observe(&run, &options, command);
}

static long long count_alerts(void)
{
	return harness_events_count(run.events, "event.kind", "alert", NULL);
}

/* Counts the entries of a directory, without "." and "..". */
static size_t count_entries(const char *path)
{
	DIR *directory = opendir(path);
	struct dirent *entry;
	size_t count = 0;

	cr_assert(directory, "cannot open %s", path);
	while ((entry = readdir(directory))) {
		if (strcmp(entry->d_name, ".") && strcmp(entry->d_name, ".."))
			count++;
	}
	closedir(directory);
	return count;
}

/* Reads a whole file into a string that run owns, storing its size. */
static char *read_whole_file(const char *path, size_t *size)
{
	FILE *file = fopen(path, "r");
	char *text = NULL;
	size_t length = 0;
	FILE *stream;
	char buffer[4096];
	size_t n;

	cr_assert(file, "cannot open %s: %s", path, strerror(errno));
	stream = open_memstream(&text, &length);
	cr_assert(stream, "open_memstream failed");
	while ((n = fread(buffer, 1, sizeof(buffer), file)) > 0)
		cr_assert_eq(fwrite(buffer, 1, n, stream), n);
	cr_assert(!ferror(file), "cannot read %s", path);
	fclose(file);
	cr_assert_eq(fclose(stream), 0);
	*size = length;
	return harness_test_own(&run, text);
}

/* Writes text to name in directory and returns the path, which run owns. */
static const char *write_file(const char *directory, const char *name,
			      const char *text)
{
	char *path = harness_test_format(&run, "%s/%s", directory, name);
	FILE *file = fopen(path, "w");

	cr_assert(file, "cannot create %s", path);
	cr_assert(fputs(text, file) >= 0 && fclose(file) == 0,
		  "cannot write %s", path);
	return path;
}

/* Returns whether a line of text starts with prefix and contains needle. */
static bool has_line(const char *text, char prefix, const char *needle)
{
	while (text && *text) {
		const char *end = strchrnul(text, '\n');
		const char *hit = strstr(text, needle);

		/* The "--- OLD" and "+++ NEW" header of a diff is no change. */
		bool header = strncmp(text, "--- ", 4) == 0 ||
			      strncmp(text, "+++ ", 4) == 0;

		if (*text == prefix && hit && hit <= end && !header)
			return true;
		text = *end ? end + 1 : end;
	}
	return false;
}

static bool is_rule_line(const char *line, size_t length)
{
	size_t blanks = strspn(line, " \t");

	return blanks < length && line[blanks] != '#';
}

/*
 * Fails the test unless the last three statements of a policy text are
 * the catch-all rules, in the order call, module, exec.
 */
static void expect_catch_alls_at_end(const char *text)
{
	static const char *const ids[] = { "id baseline-call",
					   "id baseline-module",
					   "id baseline-exec" };
	const char *lines[3] = { NULL };
	size_t lengths[3] = { 0 };
	bool continued = false;

	/* A statement runs on over lines that end with a backslash. */
	while (*text) {
		const char *end = strchrnul(text, '\n');
		size_t length = (size_t)(end - text);
		bool statement = continued || is_rule_line(text, length);

		if (continued) {
			lengths[2] = (size_t)(end - lines[2]);
		} else if (statement) {
			memmove(lines, lines + 1, 2 * sizeof(*lines));
			memmove(lengths, lengths + 1, 2 * sizeof(*lengths));
			lines[2] = text;
			lengths[2] = length;
		}
		continued = statement && length > 0 && text[length - 1] == '\\';
		text = *end ? end + 1 : end;
	}
	for (size_t i = 0; i < 3; i++) {
		char *line = lines[i] ? strndup(lines[i], lengths[i]) : NULL;

		cr_expect(line && strstr(line, ids[i]),
			  "statement %zu from the end is '%s', not the rule "
			  "with %s",
			  3 - i, line ? line : "(none)", ids[i]);
		free(line);
	}
}

static void expect_policy_check_passes(const char *policy)
{
	harness_result_fini(&run.result);
	harness_run_nativemon(&run.result, NULL, "policy", "check", policy,
			      NULL);
	cr_expect_eq(run.result.exit_code, 0,
		     "policy check of %s failed; stderr: %s", policy,
		     run.result.err);
}

Test(learn, exit_status_is_command_status, .timeout = TEST_TIMEOUT)
{
	const char *scratch = harness_test_scratch_new(&run, NULL);
	char *policy = harness_test_format(&run, "%s/exit.policy", scratch);
	char *command[] = { "/bin/sh", "-c", "exit 7", NULL };

	cr_expect_eq(learn(policy, scratch, NULL, command), 7,
		     "learn did not pass on the exit status; stderr: %s",
		     run.result.err);
}

Test(learn, missing_command_keeps_file, .timeout = TEST_TIMEOUT)
{
	const char *scratch = harness_test_scratch_new(&run, NULL);
	char *policy = harness_test_format(&run, "%s/kept.policy", scratch);
	char *missing = harness_test_format(&run, "%s/no-such-program",
					    scratch);
	char *command[] = { missing, NULL };
	const char *before = "# an earlier baseline\n";
	size_t size;
	FILE *file = fopen(policy, "w");

	cr_assert(file, "cannot create %s", policy);
	fputs(before, file);
	fclose(file);

	cr_expect_eq(learn(policy, scratch, NULL, command), 127,
		     "stderr: %s", run.result.err);
	cr_expect(strstr(run.result.err, "learned nothing"),
		  "no message that nothing was learned: %s", run.result.err);
	cr_expect_str_eq(read_whole_file(policy, &size), before);
	cr_expect_eq(count_entries(scratch), 1,
		     "a temporary file was left next to %s", policy);
}

/* Writes text to path with the permission bits mode. */
static void write_text(const char *path, const char *text, mode_t mode)
{
	FILE *file = fopen(path, "w");

	cr_assert(file, "cannot create %s", path);
	cr_assert(fputs(text, file) >= 0 && fclose(file) == 0,
		  "cannot write %s", path);
	cr_assert_eq(chmod(path, mode), 0);
}

Test(learn, failed_exec_keeps_file, .timeout = TEST_TIMEOUT)
{
	const char *scratch = harness_test_scratch_new(&run, NULL);
	char *policy = harness_test_format(&run, "%s/kept.policy", scratch);
	char *data = harness_test_format(&run, "%s/data.txt", scratch);
	char *command[] = { data, NULL };
	const char *before = "# an earlier baseline\n";
	size_t size;

	write_text(policy, before, 0644);
	/* A file without execute permission: exec fails with EACCES. */
	write_text(data, "not a program\n", 0644);

	cr_expect_eq(learn(policy, scratch, NULL, command), 126,
		     "stderr: %s", run.result.err);
	cr_expect(strstr(run.result.err, "learned nothing"),
		  "no message that nothing was learned: %s", run.result.err);
	cr_expect_str_eq(read_whole_file(policy, &size), before);
	cr_expect_eq(count_entries(scratch), 2,
		     "a temporary file was left next to %s", policy);
}

Test(learn, rejects_output_not_regular, .timeout = TEST_TIMEOUT)
{
	const char *scratch = harness_test_scratch_new(&run, NULL);
	char *fifo = harness_test_format(&run, "%s/fifo", scratch);
	char *marker = harness_test_format(&run, "%s/ran", scratch);
	char *script = harness_test_format(&run, "touch %s", marker);
	char *command[] = { "/bin/sh", "-c", script, NULL };
	struct stat st;

	cr_assert_eq(mkfifo(fifo, 0600), 0);
	cr_expect_eq(learn(fifo, scratch, NULL, command), 2, "stderr: %s",
		     run.result.err);
	cr_expect(strstr(run.result.err, "not a regular file"), "%s",
		  run.result.err);
	cr_expect_eq(learn(scratch, scratch, NULL, command), 2, "stderr: %s",
		     run.result.err);
	cr_assert_eq(lstat(fifo, &st), 0);
	cr_expect(S_ISFIFO(st.st_mode), "the FIFO was replaced");
	cr_expect_neq(access(marker, F_OK), 0,
		      "the command ran although the output was unusable");
}

Test(learn, rejects_empty_and_log_output, .timeout = TEST_TIMEOUT)
{
	const char *scratch = harness_test_scratch_new(&run, NULL);
	char *policy = harness_test_format(&run, "%s/same", scratch);
	char *marker = harness_test_format(&run, "%s/ran", scratch);
	char *script = harness_test_format(&run, "touch %s", marker);
	char *command[] = { "/bin/sh", "-c", script, NULL };
	const char *log_options[] = { "--log", policy, NULL };

	cr_expect_eq(learn("", scratch, NULL, command), 2, "stderr: %s",
		     run.result.err);
	cr_expect(strstr(run.result.err, "empty file name"), "%s",
		  run.result.err);
	cr_expect_eq(learn(policy, scratch, log_options, command), 2,
		     "stderr: %s", run.result.err);
	cr_expect(strstr(run.result.err, "the same file"), "%s",
		  run.result.err);
	cr_expect_neq(access(marker, F_OK), 0,
		      "the command ran although the output was unusable");
}

Test(learn, skips_exec_without_permission, .timeout = TEST_TIMEOUT)
{
	const char *scratch = harness_test_scratch_new(&run, NULL);
	char *policy = harness_test_format(&run, "%s/shell.policy", scratch);
	char *data = harness_test_format(&run, "%s/data.sh", scratch);
	char *script = harness_test_format(&run, "%s; true", data);
	char *command[] = { "/bin/sh", "-c", script, NULL };
	size_t size;

	write_text(data, "#!/bin/sh\n", 0644);
	learn_or_fail(policy, scratch, NULL, command);
	cr_expect_null(strstr(read_whole_file(policy, &size),
			      harness_test_format(&run, "exec path %s", data)),
		       "a failed exec was learned:\n%s",
		       read_whole_file(policy, &size));
}

Test(learn, follows_link_keeps_mode, .timeout = TEST_TIMEOUT)
{
	const char *scratch = harness_test_scratch_new(&run, NULL);
	char *target = harness_test_format(&run, "%s/real.policy", scratch);
	char *link = harness_test_format(&run, "%s/link.policy", scratch);
	char *command[] = { "/bin/true", NULL };
	struct stat st;
	size_t size;

	write_text(target, "# an earlier baseline\n", 0600);
	cr_assert_eq(symlink("real.policy", link), 0);

	learn_or_fail(link, scratch, NULL, command);
	cr_assert_eq(lstat(link, &st), 0);
	cr_expect(S_ISLNK(st.st_mode), "the link was replaced by a file");
	cr_assert_eq(stat(target, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0600, "mode %04o",
		     (unsigned int)(st.st_mode & 07777));
	cr_expect(strstr(read_whole_file(target, &size), "id baseline-exec"),
		  "the link's target holds no baseline");
}

Test(learn, parallel_appends_add_up, .timeout = TEST_TIMEOUT)
{
	static const char *const programs[] = { "uname", "id", "date",
						"hostname" };
	const char *scratch = harness_test_scratch_new(&run, NULL);
	char *policy = harness_test_format(&run, "%s/shared.policy", scratch);
	pid_t pids[ARRAY_SIZE(programs)];
	const char *text;
	size_t size;

	for (size_t i = 0; i < ARRAY_SIZE(programs); i++) {
		char script[64];

		snprintf(script, sizeof(script), "sleep 0.5; %s >/dev/null",
			 programs[i]);
		pids[i] = fork();
		cr_assert_geq(pids[i], 0);
		if (pids[i] == 0) {
			execl(harness_nativemon_path(), "nativemon", "learn",
			      "--append", "-o", policy, "--", "/bin/sh", "-c",
			      script, (char *)NULL);
			_exit(127);
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(programs); i++) {
		int status;

		cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
		cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			  "learn of %s: status %#x", programs[i], status);
	}
	text = read_whole_file(policy, &size);
	for (size_t i = 0; i < ARRAY_SIZE(programs); i++) {
		char *rule = harness_test_format(&run, "log exec path /usr/bin/%s",
						 programs[i]);

		cr_expect(strstr(text, rule), "no '%s' in:\n%s", rule, text);
	}
}

Test(learn, python_baseline_is_quiet, .timeout = TEST_TIMEOUT)
{
	const char *scratch = harness_test_scratch_new(&run, NULL);
	char *policy = harness_test_format(&run, "%s/python.policy", scratch);
	char *command[] = { "python3", "-c", (char *)python_imports, NULL };
	size_t size;

	learn_or_fail(policy, scratch, NULL, command);
	expect_catch_alls_at_end(read_whole_file(policy, &size));
	expect_policy_check_passes(policy);

	observe_under(policy, command);
	harness_test_expect_exit_code(&run, 0);
	cr_expect_eq(count_alerts(), 0,
		     "alerts under the learned baseline; seen: %s", run.seen);
}

Test(learn, same_command_same_bytes, .timeout = TEST_TIMEOUT)
{
	const char *scratch = harness_test_scratch_new(&run, NULL);
	char *first = harness_test_format(&run, "%s/first.policy", scratch);
	char *second = harness_test_format(&run, "%s/second.policy", scratch);
	char *command[] = { "python3", "-c", (char *)python_imports, NULL };
	const char *first_text, *second_text;
	size_t first_size, second_size, i;

	learn_or_fail(first, scratch, NULL, command);
	learn_or_fail(second, scratch, NULL, command);
	first_text = read_whole_file(first, &first_size);
	second_text = read_whole_file(second, &second_size);

	for (i = 0; i < first_size && i < second_size; i++) {
		if (first_text[i] != second_text[i])
			break;
	}
	cr_expect_eq(first_size, second_size,
		     "the files have %zu and %zu bytes", first_size,
		     second_size);
	cr_expect_eq(i, first_size < second_size ? first_size : second_size,
		     "the files differ from byte %zu: '%.80s' against '%.80s'",
		     i, first_text + i, second_text + i);
}

/*
 * Learns baseline_app, run without options of its own, into a new baseline
 * file with the given learn options, which may be NULL.
 */
static const char *learn_baseline_app(const char *const options[])
{
	const char *scratch = harness_test_scratch_new(&run, NULL);
	char *policy = harness_test_format(&run, "%s/app.policy", scratch);
	char *command[] = { harness_test_target(&run, "baseline_app"), NULL };

	learn_or_fail(policy, scratch, options, command);
	return policy;
}

Test(learn, baseline_app_default_is_quiet, .timeout = TEST_TIMEOUT)
{
	const char *policy = learn_baseline_app(NULL);
	char *command[] = { harness_test_target(&run, "baseline_app"), NULL };

	observe_under(policy, command);

	harness_test_expect_exit_code(&run, 0);
	cr_expect_eq(count_alerts(), 0,
		     "alerts under the learned baseline; seen: %s", run.seen);
}

Test(learn, new_direct_syscall_alerts_once, .timeout = TEST_TIMEOUT)
{
	const char *policy = learn_baseline_app(NULL);
	char *target = harness_test_target(&run, "baseline_app");
	char *command[] = { target, "--direct", NULL };
	json_t *alert;

	observe_under(policy, command);

	harness_test_expect_exit_code(&run, 0);
	cr_expect_eq(count_alerts(), 1, "expected one alert; seen: %s",
		     run.seen);
	alert = harness_events_find(run.events, "event.kind", "alert",
				    "event.action", "direct-syscall", NULL);
	cr_assert(alert, "no direct-syscall alert; seen: %s", run.seen);
	harness_event_expect_string(alert, "rule.id", "nm-0004");
	harness_event_expect_string(alert, "nativemon.syscall.name",
				    "memfd_create");
	harness_event_expect_string(alert, "nativemon.origin.path", target);
}

Test(learn, new_module_alerts_once, .timeout = TEST_TIMEOUT)
{
	const char *policy = learn_baseline_app(NULL);
	const char *directory = harness_test_scratch_new(&run, "/tmp");
	char *copy = harness_test_format(&run, "%s/libnmcopy.so", directory);
	char *command[] = { harness_test_target(&run, "baseline_app"),
			    "--dlopen", copy, NULL };
	const char *rule;
	json_t *alert;

	harness_copy_file(harness_test_target(&run, "plugins/libplugin_dep.so"),
			  copy, 0644);
	observe_under(policy, command);

	harness_test_expect_exit_code(&run, 0);
	cr_expect_eq(count_alerts(), 1, "expected one alert; seen: %s",
		     run.seen);
	alert = harness_events_find(run.events, "event.kind", "alert",
				    "event.action", "module-load", NULL);
	cr_assert(alert, "no module-load alert; seen: %s", run.seen);
	/* Module loads name the file in dll.path, as ECS has it. */
	harness_event_expect_string(alert, "dll.path", copy);
	rule = harness_event_string(alert, "rule.id");
	cr_expect(rule && (strcmp(rule, "nm-0007") == 0 ||
			   strcmp(rule, "nm-0008") == 0),
		  "a load from /tmp has rule %s, not a default rule for "
		  "temporary directories",
		  rule ? rule : "(none)");
}

/*
 * The shellcode's memfd_create gives one direct-syscall alert, and the
 * mmap call site of its mapping is outside the baseline.
 */
Test(learn, new_program_alerts_once, .timeout = TEST_TIMEOUT)
{
	const char *scratch = harness_test_scratch_new(&run, NULL);
	char *policy = harness_test_format(&run, "%s/shell.policy", scratch);
	char *learned[] = { "/bin/sh", "-c", "/bin/true", NULL };
	char *changed[] = { "/bin/sh", "-c", "/bin/true; /bin/uname >/dev/null",
			    NULL };

	learn_or_fail(policy, scratch, NULL, learned);
	observe_under(policy, changed);

	harness_test_expect_exit_code(&run, 0);
	/* The loader maps libc into uname from a site the baseline holds. */
	cr_expect_eq(harness_events_count(run.events, "event.kind", "alert",
					  "rule.id", "baseline-exec",
					  "file.path", "/usr/bin/uname", NULL),
		     1, "expected one baseline-exec alert; seen: %s", run.seen);
	cr_expect_eq(count_alerts(), 1, "expected one alert; seen: %s",
		     run.seen);
}

Test(learn, unbacked_caller_names_memory, .timeout = TEST_TIMEOUT)
{
	const char *scratch = harness_test_scratch_new(&run, NULL);
	char *policy = harness_test_format(&run, "%s/shellcode.policy",
					   scratch);
	char *command[] = { harness_test_target(&run, "shellcode_libc_call"),
			    NULL };
	const char *text;
	size_t size;

	learn_or_fail(policy, scratch, NULL, command);
	text = read_whole_file(policy, &size);
	cr_expect(strstr(text, "log unbacked-caller syscall memfd_create"),
		  "no unbacked-caller rule:\n%s", text);
	/* A rule without the kind would also allow a deleted file's code. */
	cr_expect(strstr(text, "caller-origin anonymous"),
		  "the rules do not name the caller's memory:\n%s", text);

	observe_under(policy, command);
	harness_test_expect_exit_code(&run, 0);
	cr_expect_eq(count_alerts(), 0, "alerts after learning; seen: %s",
		     run.seen);
	cr_expect_eq(harness_events_count(run.events, "event.kind", "event",
					  "event.action", "unbacked-caller",
					  NULL),
		     1, "the learned finding is no longer telemetry; seen: %s",
		     run.seen);
}

Test(learn, shellcode_alerts_call_and_site, .timeout = TEST_TIMEOUT)
{
	const char *policy = learn_baseline_app(NULL);
	char *command[] = { harness_test_target(&run, "baseline_app"),
			    "--shellcode", NULL };

	observe_under(policy, command);

	harness_test_expect_exit_code(&run, 0);
	cr_expect_eq(harness_events_count(run.events, "event.kind", "alert",
					  "rule.id", "nm-0002",
					  "nativemon.syscall.name",
					  "memfd_create",
					  "nativemon.origin.kind", "anonymous",
					  NULL),
		     1, "expected one nm-0002 alert; seen: %s", run.seen);
	cr_expect_eq(harness_events_count(run.events, "event.kind", "alert",
					  "rule.id", "baseline-call",
					  "event.action", "native-api",
					  "nativemon.syscall.name", "mmap",
					  NULL),
		     1, "expected one baseline-call alert for mmap; seen: %s",
		     run.seen);
	cr_expect_eq(count_alerts(), 2, "expected two alerts; seen: %s",
		     run.seen);
}

Test(learn, monitor_mode_reports_would_deny, .timeout = TEST_TIMEOUT)
{
	const char *options[] = { "--mode", "monitor", NULL };
	const char *policy = learn_baseline_app(options);
	char *command[] = { harness_test_target(&run, "baseline_app"),
			    "--direct", NULL };
	size_t size, i;
	json_t *event;

	cr_expect(has_line(read_whole_file(policy, &size), 'm', "mode monitor"),
		  "the baseline has no `mode monitor` statement");
	observe_under(policy, command);

	harness_test_expect_exit_code(&run, 0);
	cr_expect_eq(harness_events_count(run.events, "rule.id",
					  "baseline-call", "nativemon.verdict",
					  "would-deny", NULL),
		     1, "expected a would-deny of baseline-call; seen: %s",
		     run.seen);
	cr_expect_gt(harness_events_count(run.events, "event.action",
					  "direct-syscall", NULL),
		     0, "no direct-syscall record; seen: %s", run.seen);
	/* All records of one call carry the verdict of its strongest rule. */
	json_array_foreach(run.events, i, event) {
		const char *kind = harness_event_string(event, "event.kind");

		if (kind && strcmp(kind, "alert") == 0)
			harness_event_expect_string(event, "nativemon.verdict",
						    "would-deny");
	}
}

Test(learn, enforce_mode_denies_new_site, .timeout = TEST_TIMEOUT)
{
	const char *options[] = { "--mode", "enforce", NULL };
	const char *policy = learn_baseline_app(options);
	char *target = harness_test_target(&run, "baseline_app");
	char *learned[] = { target, NULL };
	char *direct[] = { target, "--direct", NULL };

	observe_under(policy, learned);
	harness_test_expect_exit_code(&run, 0);
	cr_expect_eq(count_alerts(), 0,
		     "alerts under the learned baseline; seen: %s", run.seen);

	observe_under(policy, direct);
	cr_expect_eq(run.result.exit_code, BASELINE_APP_DIRECT_DENIED,
		     "the direct memfd_create was not denied; exit code %d; "
		     "stderr: %s",
		     run.result.exit_code, run.result.err);
	cr_expect_eq(harness_events_count(run.events, "rule.id",
					  "baseline-call", "nativemon.verdict",
					  "deny", NULL),
		     1, "expected a deny of baseline-call; seen: %s", run.seen);
}

Test(learn, append_adds_to_baseline, .timeout = TEST_TIMEOUT)
{
	const char *policy = learn_baseline_app(NULL);
	const char *append[] = { "--append", NULL };
	char *command[] = { harness_test_target(&run, "baseline_app"),
			    "--direct", NULL };

	learn_or_fail(policy, NULL, append, command);
	expect_policy_check_passes(policy);
	observe_under(policy, command);

	harness_test_expect_exit_code(&run, 0);
	cr_expect_eq(count_alerts(), 0,
		     "alerts under the appended baseline; seen: %s", run.seen);
}

/*
 * Baselines written by hand for merge and diff. They share the mprotect
 * site at offset 0x1a10. The memfd_create site at 0x1a20 and liba.so are
 * only in the first, the site at 0x1a30 and libb.so only in the second.
 */
#define CATCH_ALL_RULES                          \
	"alert native-api id baseline-call\n"    \
	"alert module-load id baseline-module\n" \
	"alert exec id baseline-exec\n"

#define LIBC_SITE                                                       \
	"module /usr/lib/x86_64-linux-gnu/libc.so.6 build-id 1111aaaa " \
	"caller /opt/app/bin/app caller-build-id 2222bbbb "

static const char first_baseline[] =
	"allow native-api syscall mprotect " LIBC_SITE
	"offset 0x1a10 caller-offset 0x2b10\n"
	"allow native-api syscall memfd_create " LIBC_SITE
	"offset 0x1a20 caller-offset 0x2b20\n"
	"log module-load path /opt/app/lib/liba.so file-build-id 3333cccc "
	"source dlopen\n" CATCH_ALL_RULES;

static const char second_baseline[] =
	"allow native-api syscall mprotect " LIBC_SITE
	"offset 0x1a10 caller-offset 0x2b10\n"
	"allow native-api syscall mmap " LIBC_SITE
	"offset 0x1a30 caller-offset 0x2b30\n"
	"log module-load path /opt/app/lib/libb.so file-build-id 4444dddd "
	"source dlopen\n" CATCH_ALL_RULES;

static void run_policy_command(const char *command, const char *first,
			       const char *second)
{
	harness_result_fini(&run.result);
	harness_run_nativemon(&run.result, NULL, "policy", command, first,
			      second, NULL);
}

Test(baseline, merge_keeps_each_rule_once)
{
	const char *scratch = harness_test_scratch_new(&run, NULL);
	const char *first = write_file(scratch, "first.policy", first_baseline);
	const char *second =
		write_file(scratch, "second.policy", second_baseline);
	static const char *const once[] = {
		" offset 0x1a10", " offset 0x1a20", " offset 0x1a30",
		"/opt/app/lib/liba.so", "/opt/app/lib/libb.so",
		"id baseline-call", "id baseline-module", "id baseline-exec",
	};
	const char *merged;

	run_policy_command("merge", first, second);

	cr_assert_eq(run.result.exit_code, 0, "merge failed; stderr: %s",
		     run.result.err);
	for (size_t i = 0; i < sizeof(once) / sizeof(once[0]); i++)
		cr_expect_eq(harness_count_substring(run.result.out, once[i]),
			     1, "'%s' is not in the merge exactly once: %s",
			     once[i], run.result.out);
	expect_catch_alls_at_end(run.result.out);

	merged = write_file(scratch, "merged.policy", run.result.out);
	expect_policy_check_passes(merged);
}

Test(baseline, diff_prints_added_and_removed)
{
	const char *scratch = harness_test_scratch_new(&run, NULL);
	const char *first = write_file(scratch, "first.policy", first_baseline);
	const char *second =
		write_file(scratch, "second.policy", second_baseline);
	const char *out;

	run_policy_command("diff", first, second);
	out = run.result.out;

	cr_expect_eq(run.result.exit_code, 1, "exit code %d; stderr: %s",
		     run.result.exit_code, run.result.err);
	cr_expect(has_line(out, '+', " offset 0x1a30"),
		  "no '+' line for the mmap site: %s", out);
	cr_expect(has_line(out, '+', "/opt/app/lib/libb.so"),
		  "no '+' line for libb.so: %s", out);
	cr_expect(has_line(out, '-', " offset 0x1a20"),
		  "no '-' line for the memfd_create site: %s", out);
	cr_expect(has_line(out, '-', "/opt/app/lib/liba.so"),
		  "no '-' line for liba.so: %s", out);
	cr_expect(!has_line(out, '+', " offset 0x1a10") &&
			  !has_line(out, '-', " offset 0x1a10"),
		  "the shared mprotect site is in the diff: %s", out);
	cr_expect(!has_line(out, '+', "baseline-") &&
			  !has_line(out, '-', "baseline-"),
		  "a catch-all rule is in the diff: %s", out);
}

Test(baseline, diff_of_same_file_is_empty)
{
	const char *scratch = harness_test_scratch_new(&run, NULL);
	const char *first = write_file(scratch, "first.policy", first_baseline);

	run_policy_command("diff", first, first);

	cr_expect_eq(run.result.exit_code, 0, "exit code %d; stderr: %s",
		     run.result.exit_code, run.result.err);
	cr_expect(!has_line(run.result.out, '+', "") &&
			  !has_line(run.result.out, '-', ""),
		  "rule lines in the diff of a file with itself: %s",
		  run.result.out);
}

Test(baseline, merge_rejects_different_modes)
{
	const char *scratch = harness_test_scratch_new(&run, NULL);
	const char *monitor = write_file(
		scratch, "monitor.policy",
		harness_test_format(&run, "mode monitor\n%s", first_baseline));
	const char *enforce = write_file(
		scratch, "enforce.policy",
		harness_test_format(&run, "mode enforce\n%s", second_baseline));

	run_policy_command("merge", monitor, enforce);

	cr_expect_eq(run.result.exit_code, 2, "exit code %d; stderr: %s",
		     run.result.exit_code, run.result.err);
	cr_expect(strstr(run.result.err, monitor),
		  "the message does not name %s: %s", monitor, run.result.err);
	cr_expect(strstr(run.result.err, enforce),
		  "the message does not name %s: %s", enforce, run.result.err);
}

Test(baseline, merge_rejects_other_rules)
{
	const char *scratch = harness_test_scratch_new(&run, NULL);
	const char *first = write_file(scratch, "first.policy", first_baseline);
	const char *other =
		write_file(scratch, "other.policy",
			   "allow native-api syscall mprotect " LIBC_SITE
			   "offset 0x1a10 caller-offset 0x2b10\n"
			   "# A rule that no learn run writes:\n"
			   "deny syscall ptrace\n" CATCH_ALL_RULES);
	char *position = harness_test_format(&run, "%s:3:", other);

	run_policy_command("merge", first, other);

	cr_expect_eq(run.result.exit_code, 2, "exit code %d; stderr: %s",
		     run.result.exit_code, run.result.err);
	cr_expect(strstr(run.result.err, position),
		  "the message does not name %s; stderr: %s", position,
		  run.result.err);
}
