/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integration tests of `nativemon learn --all-syscalls`: the syscall
 * profile at the end of the baseline, baselines that still contain rules of
 * watched calls only, and threaded targets whose every syscall goes
 * through the supervisor.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* Deadline for nativemon to finish, well below the Criterion timeout. */
#define DEADLINE_MS 40000
#define TEST_TIMEOUT_S 60

#define PROFILE_HEADING "# Syscalls by module, from learn --all-syscalls"

/* The thread_storm run: threads, and memfd_create calls per thread. */
#define STORM_THREADS 8
#define STORM_CALLS 200

static struct harness_test run;

static void release_run(void)
{
	harness_test_fini(&run);
}

TestSuite(learn_all, .init = harness_require_user_notification,
	  .fini = release_run);

/* Reads the whole file at path into a string that run owns. */
static char *read_text(const char *path)
{
	FILE *file = fopen(path, "r");
	char *text = NULL;
	size_t size = 0;
	ssize_t length;

	cr_assert_not_null(file, "cannot open the baseline %s", path);
	/* A policy file contains no NUL, so this reads up to the end. */
	length = getdelim(&text, &size, '\0', file);
	fclose(file);
	cr_assert_gt(length, 0, "cannot read the baseline %s", path);
	return harness_test_own(&run, text);
}

/* Runs `nativemon learn [--all-syscalls] -o FILE -- argv...`. */
static const char *learn(bool all_syscalls, char *const argv[])
{
	const char *scratch = harness_test_scratch_new(&run, NULL);
	const char *output = harness_test_format(&run, "%s/baseline.policy",
						 scratch);
	const char *command[16];
	size_t count = 0;

	command[count++] = harness_nativemon_path();
	command[count++] = "learn";
	if (all_syscalls)
		command[count++] = "--all-syscalls";
	command[count++] = "-o";
	command[count++] = output;
	command[count++] = "--";
	for (size_t i = 0; argv[i]; i++) {
		cr_assert_lt(count, sizeof(command) / sizeof(command[0]) - 1);
		command[count++] = argv[i];
	}
	command[count] = NULL;
	harness_result_fini(&run.result);
	harness_run((char *const *)command,
		    &(struct harness_options){ .cwd = scratch,
					       .timeout_ms = DEADLINE_MS },
		    &run.result);
	cr_assert_not(run.result.timed_out, "nativemon learn timed out");
	harness_test_expect_exit_code(&run, 0);
	return output;
}

/*
 * Returns the syscall list of the first module of the profile whose path
 * contains needle, joined into one line, or NULL. The string is run's.
 */
static const char *module_calls(const char *text, const char *needle)
{
	const char *at = strstr(text, PROFILE_HEADING);
	char *calls;

	cr_assert_not_null(at, "the baseline has no syscall profile:\n%s",
			   text);
	calls = harness_test_own(&run, calloc(1, strlen(text) + 1));
	while ((at = strstr(at, "\n# /")) != NULL) {
		const char *end = strchr(at + 1, '\n');
		size_t length = end ? (size_t)(end - at) : strlen(at);
		bool matches = memmem(at, length, needle, strlen(needle));

		at += length;
		while (matches && strncmp(at, "\n#   ", 5) == 0) {
			end = strchr(at + 1, '\n');
			length = end ? (size_t)(end - at) - 5 : strlen(at + 5);
			strncat(calls, at + 5, length);
			strcat(calls, " ");
			at += length + 5;
		}
		if (matches)
			return calls;
	}
	return NULL;
}

/* Returns true if a line outside comments contains needle. */
static bool has_rule_with(const char *text, const char *needle)
{
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t length = end ? (size_t)(end - line) : strlen(line);

		if (line[0] != '#' && memmem(line, length, needle,
					     strlen(needle)))
			return true;
		line = end ? end + 1 : NULL;
	}
	return false;
}

Test(learn_all, profiles_loader_and_libc_calls, .timeout = TEST_TIMEOUT_S)
{
	char *const command[] = { "/bin/true", NULL };
	const char *text = read_text(learn(true, command));
	const char *loader = module_calls(text, "/ld-linux");
	const char *closing;

	cr_assert_not_null(loader, "the profile lists no loader:\n%s", text);
	cr_expect(strstr(loader, "openat ") || strstr(loader, "brk "),
		  "the loader's calls lack openat and brk: %s", loader);
	closing = strstr(text, "id baseline-exec");
	cr_assert_not_null(closing, "the baseline lacks its closing rules");
	cr_expect_gt(strstr(text, PROFILE_HEADING), closing,
		     "the profile must follow the closing rules:\n%s", text);
}

Test(learn_all, learns_rules_of_watched_calls_only,
     .timeout = TEST_TIMEOUT_S)
{
	static const char *const unwatched[] = {
		"syscall brk", "syscall openat", "syscall read",
		"syscall close", "syscall newfstatat", "syscall exit_group",
	};
	char *const command[] = { "/bin/true", NULL };
	const char *output = learn(true, command);
	const char *text = read_text(output);

	for (size_t i = 0; i < sizeof(unwatched) / sizeof(unwatched[0]); i++)
		cr_expect_not(has_rule_with(text, unwatched[i]),
			      "the baseline has a rule with '%s':\n%s",
			      unwatched[i], text);
	cr_expect(has_rule_with(text, "syscall mmap"),
		  "the watched mmap calls gave no rule:\n%s", text);
	harness_result_fini(&run.result);
	harness_run_nativemon(&run.result, NULL, "policy", "check", output,
			      NULL);
	cr_expect_eq(run.result.exit_code, 0,
		     "policy check rejected the baseline: %s", run.result.err);
}

Test(learn_all, leaves_profile_out_by_default, .timeout = TEST_TIMEOUT_S)
{
	char *const command[] = { "/bin/true", NULL };
	const char *text = read_text(learn(false, command));

	cr_expect_null(strstr(text, PROFILE_HEADING),
		       "learn without --all-syscalls wrote a profile:\n%s",
		       text);
	cr_expect(has_rule_with(text, "id baseline-exec"),
		  "the baseline lacks its closing rules:\n%s", text);
}

/*
 * Every call of every thread waits in the supervisor. Each memfd_create
 * must be counted once: a lost or repeated notification changes the sum.
 */
Test(learn_all, completes_threaded_target, .timeout = TEST_TIMEOUT_S)
{
	char *target = harness_test_target(&run, "thread_storm");
	char threads[16], calls[16];
	char *const command[] = { target, threads, calls, NULL };
	const char *text, *storm, *found;
	char expected[64], after;

	snprintf(threads, sizeof(threads), "%d", STORM_THREADS);
	snprintf(calls, sizeof(calls), "%d", STORM_CALLS);
	text = read_text(learn(true, command));
	storm = module_calls(text, "/thread_storm");
	cr_assert_not_null(storm, "the profile lists no thread_storm:\n%s",
			   text);
	snprintf(expected, sizeof(expected), "memfd_create %d",
		 STORM_THREADS * STORM_CALLS);
	found = strstr(storm, expected);
	cr_assert_not_null(found, "expected '%s' in thread_storm's calls: %s",
			   expected, storm);
	after = found[strlen(expected)];
	cr_expect(after == ',' || after == ' ',
		  "expected '%s' in thread_storm's calls: %s", expected,
		  storm);
}
