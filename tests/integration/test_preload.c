/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tests of the preload shim, libnativemon.so, in the programs of
 * tests/targets: plugins found through $ORIGIN and DT_RUNPATH, watched
 * calls under a storm of signals, nested shells, the results of each
 * interposer, and the loads that the event tests look at. Most run the
 * real nativemon binary.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* Timeout of a test that runs targets, in seconds. */
#define TEST_TIMEOUT 60

/* The default number of mprotect pairs that sigalrm_storm makes. */
#define STORM_PAIRS 5000

/* Pairs of the storm in the innermost of the nested shells. */
#define NESTED_STORM_PAIRS STORM_PAIRS

/* Entries of a command line built by preloaded_command(). */
#define COMMAND_MAX 16

/*
 * Resources of the current test, released by the suite's fini hook, which
 * Criterion also runs after a failed assertion.
 */
static struct harness_test run;
static char *command_line[COMMAND_MAX];

static void release_run(void)
{
	harness_test_fini(&run);
	memset(command_line, 0, sizeof(command_line));
}

TestSuite(preload, .init = harness_require_user_notification,
	  .fini = release_run);

static const char *shim_path(void)
{
	const char *path = getenv("SHIM");

	cr_assert(path && *path,
		  "SHIM is not set; run the tests with 'make check'");
	return path;
}

/*
 * Returns `env LD_PRELOAD=SHIM [VARIABLE] COMMAND...`. The shim goes in
 * through env(1) inside the monitored command, not into nativemon's own
 * environment: nativemon would load it as well, and a sanitizer build
 * rejects a library preloaded ahead of its runtime. Where `nativemon run`
 * preloads the shim too, env sets the same path again.
 */
static char *const *preloaded_command(const char *variable,
				      char *const command[])
{
	size_t count = 0;

	command_line[count++] = "env";
	command_line[count++] =
		harness_test_format(&run, "LD_PRELOAD=%s", shim_path());
	if (variable)
		command_line[count++] = (char *)variable;
	for (; *command; command++) {
		cr_assert(count < COMMAND_MAX - 1, "command too long");
		command_line[count++] = *command;
	}
	command_line[count] = NULL;
	return command_line;
}

/* The lines plugin_host prints when each of its three loads succeeded. */
static void expect_plugins_loaded(void)
{
	static const char *const lines[] = {
		"loaded $ORIGIN/plugins/libplugin.so\n",
		"loaded libplugin_dep.so\n",
		"loaded $ORIGIN/libplugin_dep.so from the plugin\n",
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(*lines); i++)
		cr_expect(strstr(run.result.out, lines[i]),
			  "plugin_host did not print '%.*s'; stdout: %s",
			  (int)strlen(lines[i]) - 1, lines[i], run.result.out);
	harness_test_expect_exit_code(&run, 0);
}

struct storm_result {
	long calls;
	long failures;
	long signals;
};

/* Reads the "calls=N failures=N signals=N" line of sigalrm_storm. */
static struct storm_result read_storm_result(void)
{
	struct storm_result storm = { 0 };
	const char *line = strstr(run.result.out, "calls=");

	cr_assert(line &&
			  sscanf(line, "calls=%ld failures=%ld signals=%ld",
				 &storm.calls, &storm.failures,
				 &storm.signals) == 3,
		  "sigalrm_storm printed no result; stdout: %s; stderr: %s",
		  run.result.out, run.result.err);
	return storm;
}

Test(preload, origin_plugins_load_under_nativemon, .timeout = TEST_TIMEOUT)
{
	char *host = harness_test_target(&run, "plugin_host");

	harness_test_observe(&run, NULL,
			     preloaded_command(NULL, (char *[]){ host, NULL }));

	expect_plugins_loaded();
}

/* Unmonitored, the interposers forward with a tail call. */
Test(preload, origin_plugins_load_unmonitored, .timeout = TEST_TIMEOUT)
{
	char *host = harness_test_target(&run, "plugin_host");

	harness_run(preloaded_command(NULL, (char *[]){ host, NULL }), NULL,
		    &run.result);

	cr_assert(!run.result.timed_out, "plugin_host timed out");
	expect_plugins_loaded();
	cr_expect_eq(run.result.err_length, 0, "stderr: %s", run.result.err);
}

Test(preload, signals_held_during_watched_calls, .timeout = TEST_TIMEOUT)
{
	char *storm = harness_test_target(&run, "sigalrm_storm");
	struct storm_result result;

	harness_test_observe(&run, NULL,
			     preloaded_command(NULL, (char *[]){ storm, NULL }));

	harness_test_expect_exit_code(&run, 0);
	result = read_storm_result();
	cr_expect_eq(result.calls, 2 * STORM_PAIRS, "stdout: %s",
		     run.result.out);
	/* Without a signal the storm proves nothing about holding them. */
	cr_expect_gt(result.signals, 0, "no SIGALRM arrived; stdout: %s",
		     run.result.out);
	cr_expect_eq(result.failures, 0,
		     "%ld of %ld mprotect calls failed; stdout: %s",
		     result.failures, result.calls, run.result.out);
}

/*
 * Each nested process sends HELLO and, monitored, never tries to attach
 * to the server named by NATIVEMON_SOCKET: its filter would be a second
 * listener, which the kernel rejects with EBUSY. The storm's result shows
 * that the innermost process blocks signals, so it took itself for
 * monitored.
 */
Test(preload, nested_shells_stay_monitored, .timeout = TEST_TIMEOUT)
{
	const char *scratch = harness_test_scratch_new(&run, NULL);
	char *socket = harness_test_format(&run, "NATIVEMON_SOCKET=%s/none.sock",
					   scratch);
	char *inner = harness_test_format(
		&run, "sh -c '%s %d'",
		harness_test_target(&run, "sigalrm_storm"), NESTED_STORM_PAIRS);
	static const char *const forbidden[] = {
		"EBUSY",
		"Device or resource busy",
		"warning",
	};
	struct storm_result result;

	harness_test_observe(&run, NULL,
			     preloaded_command(socket, (char *[]){
							   "sh", "-c", inner,
							   NULL }));

	harness_test_expect_exit_code(&run, 0);
	result = read_storm_result();
	cr_expect_eq(result.failures, 0, "stdout: %s", run.result.out);
	for (size_t i = 0; i < sizeof(forbidden) / sizeof(*forbidden); i++)
		cr_expect(!strstr(run.result.err, forbidden[i]),
			  "stderr contains '%s': %s", forbidden[i],
			  run.result.err);
}

/*
 * shim_calls checks the result, errno and signal mask after each
 * interposer, monitored (signals held) and unmonitored (plain forward).
 */
Test(preload, calls_keep_results_and_mask, .timeout = TEST_TIMEOUT)
{
	char *calls = harness_test_target(&run, "shim_calls");

	harness_test_observe(&run, NULL,
			     preloaded_command(NULL, (char *[]){ calls, NULL }));

	cr_expect(strstr(run.result.out, " failed=0\n"),
		  "monitored: stdout: %s; stderr: %s", run.result.out,
		  run.result.err);
	harness_test_expect_exit_code(&run, 0);

	harness_result_fini(&run.result);
	harness_run(preloaded_command(NULL, (char *[]){ calls, NULL }), NULL,
		    &run.result);

	cr_assert(!run.result.timed_out, "shim_calls timed out");
	cr_expect(strstr(run.result.out, " failed=0\n"),
		  "unmonitored: stdout: %s; stderr: %s", run.result.out,
		  run.result.err);
	harness_test_expect_exit_code(&run, 0);
}

struct load_target {
	const char *name;
	const char *argument; /* a target file name, or NULL */
};

/* The loads that the event tests examine run to their end with the shim. */
Test(preload, load_targets_exit_cleanly, .timeout = TEST_TIMEOUT)
{
	static const struct load_target targets[] = {
		{ "dlmopen_load", NULL },
		{ "iconv_load", NULL },
		{ "manual_map", "payload.so" },
	};

	for (size_t i = 0; i < sizeof(targets) / sizeof(*targets); i++) {
		char *argv[3] = {
			harness_test_target(&run, targets[i].name),
			targets[i].argument ? harness_test_target(
						      &run, targets[i].argument)
					    : NULL,
			NULL,
		};

		harness_test_observe(&run, NULL,
				     preloaded_command(NULL, argv));

		cr_expect_eq(run.result.exit_code, 0,
			     "%s exited with %d; stderr: %s", targets[i].name,
			     run.result.exit_code, run.result.err);
	}
}
