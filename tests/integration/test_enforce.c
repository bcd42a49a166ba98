/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Policy tests against the real supervisor: user policies layered over the
 * default, deny and kill carried out in enforce mode and only reported in
 * monitor mode, watch conditions compiled into the filter, and the
 * `nativemon policy` subcommand.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

#define TEST_TIMEOUT 60

static struct harness_test run;

static void release_run(void)
{
	harness_test_fini(&run);
}

TestSuite(enforce, .init = harness_require_user_notification,
	  .fini = release_run);

TestSuite(policy_command, .fini = release_run);

/* Writes text to a new file in a scratch directory and returns its path. */
static const char *write_policy(const char *name, const char *text)
{
	const char *scratch = harness_test_scratch_new(&run, NULL);
	char *path = harness_test_format(&run, "%s/%s", scratch, name);
	FILE *file = fopen(path, "w");

	cr_assert(file, "cannot create %s", path);
	cr_assert(fputs(text, file) >= 0 && fclose(file) == 0,
		  "cannot write %s", path);
	return path;
}

/* Runs a target under nativemon with the given run options. */
static void observe(const char *const run_options[], char *const command[])
{
	struct harness_options options = { .run_options = run_options };

	harness_test_observe(&run, &options, command);
}

static void expect_output(const char *text)
{
	cr_expect(strstr(run.result.out, text),
		  "expected '%s' on stdout; stdout: %s; stderr: %s", text,
		  run.result.out, run.result.err);
}

static long long count_events(const char *action, const char *verdict)
{
	return harness_events_count(run.events, "event.action", action,
				    "nativemon.verdict", verdict, NULL);
}

Test(enforce, deny_returns_errno_and_target_continues,
     .timeout = TEST_TIMEOUT)
{
	const char *policy = write_policy("deny.policy",
					  "deny syscall ptrace id t-deny\n");
	const char *options[] = { "--policy", policy, NULL };
	char *command[] = { harness_test_target(&run, "ptrace_traceme"), NULL };
	json_t *event;

	observe(options, command);

	harness_test_expect_exit_code(&run, 0);
	expect_output("ptrace=-1 errno=EPERM");
	expect_output("alive");
	event = harness_events_find(run.events, "rule.id", "t-deny", NULL);
	cr_assert(event, "no record of rule t-deny; seen: %s", run.seen);
	harness_event_expect_string(event, "event.kind", "alert");
	harness_event_expect_string(event, "nativemon.verdict", "deny");
	harness_event_expect_string(event, "nativemon.errno", "EPERM");
	harness_event_expect_string(event, "nativemon.syscall.name", "ptrace");
}

Test(enforce, deny_uses_the_rule_errno, .timeout = TEST_TIMEOUT)
{
	const char *policy = write_policy(
		"errno.policy", "deny syscall ptrace errno ENOSYS\n");
	const char *options[] = { "--policy", policy, NULL };
	char *command[] = { harness_test_target(&run, "ptrace_traceme"), NULL };

	observe(options, command);

	harness_test_expect_exit_code(&run, 0);
	expect_output("ptrace=-1 errno=ENOSYS");
	cr_expect_eq(count_events("native-api", "deny"), 1,
		     "expected one denied ptrace; seen: %s", run.seen);
}

Test(enforce, kill_stops_shellcode, .timeout = TEST_TIMEOUT)
{
	const char *policy = write_policy(
		"kill.policy",
		"kill direct-syscall origin anonymous id t-kill\n");
	const char *options[] = { "--policy", policy, NULL };
	char *command[] = { harness_test_target(&run, "anon_stub"), NULL };
	json_t *event;

	observe(options, command);

	harness_test_expect_exit_code(&run, 128 + SIGKILL);
	cr_expect_null(strstr(run.result.out, "pid="),
		       "the shellcode's memfd_create ran; stdout: %s",
		       run.result.out);
	event = harness_events_find(run.events, "rule.id", "t-kill", NULL);
	cr_assert(event, "no record of rule t-kill; seen: %s", run.seen);
	harness_event_expect_string(event, "event.kind", "alert");
	harness_event_expect_string(event, "nativemon.verdict", "kill");
	harness_event_expect_string(event, "nativemon.origin.kind",
				    "anonymous");
	cr_expect(strstr(run.result.err, "kill direct-syscall"),
		  "no summary line on stderr: %s", run.result.err);
}

Test(enforce, monitor_mode_only_reports, .timeout = TEST_TIMEOUT)
{
	const char *policy = write_policy(
		"monitor.policy",
		"mode monitor\n"
		"deny syscall ptrace\n"
		"kill direct-syscall origin anonymous\n");
	const char *options[] = { "--policy", policy, NULL };
	char *traceme[] = { harness_test_target(&run, "ptrace_traceme"), NULL };
	char *stub[] = { harness_test_target(&run, "anon_stub"), NULL };

	observe(options, traceme);
	harness_test_expect_exit_code(&run, 0);
	expect_output("ptrace=0");
	expect_output("alive");
	cr_expect_eq(count_events("native-api", "would-deny"), 1,
		     "expected one would-deny; seen: %s", run.seen);
	cr_expect_eq(count_events("native-api", "deny"), 0);

	observe(options, stub);
	harness_test_expect_exit_code(&run, 0);
	expect_output("pid=");
	cr_expect_eq(count_events("direct-syscall", "would-kill"), 1,
		     "expected one would-kill; seen: %s", run.seen);
	cr_expect(strstr(run.result.err, "would-kill direct-syscall"),
		  "no summary line on stderr: %s", run.result.err);
}

Test(enforce, mode_option_overrides_file, .timeout = TEST_TIMEOUT)
{
	const char *policy = write_policy("enforce.policy",
					  "mode enforce\n"
					  "deny syscall ptrace\n");
	const char *monitor[] = { "--policy", policy, "--mode", "monitor",
				  NULL };
	const char *enforce[] = { "--mode", "enforce", "--policy", policy,
				  NULL };
	char *command[] = { harness_test_target(&run, "ptrace_traceme"), NULL };

	observe(monitor, command);
	expect_output("ptrace=0");
	cr_expect_eq(count_events("native-api", "would-deny"), 1,
		     "seen: %s", run.seen);

	observe(enforce, command);
	expect_output("ptrace=-1 errno=EPERM");
	cr_expect_eq(count_events("native-api", "deny"), 1, "seen: %s",
		     run.seen);
}

/*
 * Only openat calls with O_CREAT reach the supervisor, so the log rule
 * matches exactly the creating calls. The others stayed in the kernel.
 */
Test(enforce, watch_condition_filters_in_kernel, .timeout = TEST_TIMEOUT)
{
	const char *policy = write_policy(
		"watch.policy", "watch openat if flags & O_CREAT\n"
				"log syscall openat id t-openat\n");
	const char *scratch = harness_test_scratch_new(&run, NULL);
	const char *options[] = { "--policy", policy, NULL };
	char *command[] = { harness_test_target(&run, "open_files"),
			    (char *)scratch, "5", "7", NULL };

	observe(options, command);

	harness_test_expect_exit_code(&run, 0);
	expect_output("created=5 opened=35");
	cr_expect_eq(harness_events_count(run.events, "rule.id", "t-openat",
					  NULL),
		     5, "expected 5 notified openat calls; seen: %s", run.seen);
}

Test(enforce, denied_module_load_stays_denied, .timeout = TEST_TIMEOUT)
{
	const char *policy = write_policy(
		"module.policy",
		"deny module-load path */payload.so id t-module\n");
	const char *options[] = { "--policy", policy, NULL };
	char *command[] = { harness_test_target(&run, "dlopen_twice"),
			    harness_test_target(&run, "payload.so"), NULL };

	observe(options, command);

	harness_test_expect_exit_code(&run, 0);
	expect_output("first=failed second=failed");
	cr_expect_eq(harness_events_count(run.events, "rule.id", "t-module",
					  "nativemon.verdict", "deny", NULL),
		     2, "expected both loads denied; seen: %s", run.seen);
}

Test(enforce, user_rule_matches_before_default, .timeout = TEST_TIMEOUT)
{
	const char *policy = write_policy(
		"allow.policy",
		"allow direct-syscall exe */raw_memfd origin executable\n");
	const char *options[] = { "--policy", policy, NULL };
	char *command[] = { harness_test_target(&run, "raw_memfd"), NULL };

	observe(options, command);

	harness_test_expect_exit_code(&run, 0);
	cr_expect_eq(harness_events_count(run.events, "event.action",
					  "direct-syscall", NULL),
		     0, "the allow rule did not silence it; seen: %s", run.seen);
	cr_expect_eq(harness_events_count(run.events, "event.action", "exec",
					  NULL),
		     1, "the default rules no longer apply; seen: %s", run.seen);
}

Test(enforce, no_default_policy_drops_defaults, .timeout = TEST_TIMEOUT)
{
	const char *policy = write_policy("only.policy",
					  "watch memfd_create\n"
					  "alert syscall memfd_create id t-only\n");
	const char *options[] = { "--no-default-policy", "--policy", policy,
				  NULL };
	char *command[] = { harness_test_target(&run, "raw_memfd"), NULL };

	observe(options, command);

	harness_test_expect_exit_code(&run, 0);
	cr_expect_eq(harness_events_count(run.events, "rule.id", "t-only",
					  NULL),
		     1, "seen: %s", run.seen);
	cr_expect_eq(json_array_size(run.events), 1,
		     "default rules still applied; seen: %s", run.seen);
}

/* The outer shell forks for the command list instead of exec'ing it. */
Test(enforce, ancestor_matches_shell, .timeout = TEST_TIMEOUT)
{
	const char *policy = write_policy(
		"ancestor.policy",
		"alert native-api syscall memfd_create ancestor */dash,*/bash "
		"id t-ancestor\n");
	const char *options[] = { "--policy", policy, NULL };
	char *script = harness_test_format(
		&run, "%s; true", harness_test_target(&run, "libc_memfd"));
	char *in_shell[] = { "/bin/sh", "-c", script, NULL };
	char *direct[] = { harness_test_target(&run, "libc_memfd"), NULL };

	observe(options, in_shell);
	harness_test_expect_exit_code(&run, 0);
	cr_expect_eq(harness_events_count(run.events, "rule.id", "t-ancestor",
					  NULL),
		     2, "expected both memfds under the shell; seen: %s",
		     run.seen);

	observe(options, direct);
	harness_test_expect_exit_code(&run, 0);
	cr_expect_eq(harness_events_count(run.events, "rule.id", "t-ancestor",
					  NULL),
		     0, "matched without a shell ancestor; seen: %s", run.seen);
}

Test(enforce, uid_matcher_uses_real_uid, .timeout = TEST_TIMEOUT)
{
	char *text = harness_test_format(
		&run, "alert syscall memfd_create uid %u id t-uid\n",
		(unsigned int)getuid());
	const char *policy = write_policy("uid.policy", text);
	const char *other = write_policy(
		"other.policy",
		"alert syscall memfd_create uid 4000000000 id t-other\n");
	const char *options[] = { "--policy", policy, "--policy", other, NULL };
	char *command[] = { harness_test_target(&run, "libc_memfd"), NULL };

	observe(options, command);

	harness_test_expect_exit_code(&run, 0);
	cr_expect_eq(harness_events_count(run.events, "rule.id", "t-uid", NULL),
		     2, "seen: %s", run.seen);
	cr_expect_eq(harness_events_count(run.events, "rule.id", "t-other",
					  NULL),
		     0, "seen: %s", run.seen);
}

Test(enforce, invalid_policy_runs_nothing, .timeout = TEST_TIMEOUT)
{
	const char *policy = write_policy("bad.policy",
					  "deny syscall ptrace\n"
					  "alrt direct-syscall\n");
	const char *scratch = harness_test_scratch_new(&run, NULL);
	char *marker = harness_test_format(&run, "%s/ran", scratch);
	struct stat st;

	harness_run_nativemon(&run.result, NULL, "run", "--policy", policy,
			      "--", "/usr/bin/touch", marker, NULL);

	cr_expect_eq(run.result.exit_code, 2, "exit code %d; stderr: %s",
		     run.result.exit_code, run.result.err);
	cr_expect(strstr(run.result.err, "bad.policy:2:1: "),
		  "no positioned diagnostic; stderr: %s", run.result.err);
	cr_expect_neq(stat(marker, &st), 0, "the command ran");
}

Test(policy_command, check_reports_position_and_exit_code)
{
	const char *bad = write_policy("bad.policy",
				       "watch mprotet\n"
				       "alert direct-syscall severity 300\n");
	const char *good = write_policy("good.policy",
					"watch openat\n"
					"deny syscall ptrace\n");

	harness_run_nativemon(&run.result, NULL, "policy", "check", bad, NULL);
	cr_expect_eq(run.result.exit_code, 1, "stderr: %s", run.result.err);
	cr_expect(strstr(run.result.err, "bad.policy:1:7: "),
		  "stderr: %s", run.result.err);
	cr_expect(strstr(run.result.err, "'mprotect'"),
		  "no suggestion; stderr: %s", run.result.err);
	cr_expect(strstr(run.result.err, "bad.policy:2:"),
		  "the second error is missing; stderr: %s", run.result.err);
	harness_result_fini(&run.result);

	harness_run_nativemon(&run.result, NULL, "policy", "check", good, NULL);
	cr_expect_eq(run.result.exit_code, 0, "stderr: %s", run.result.err);
	cr_expect(strstr(run.result.out, "good.policy: valid"),
		  "stdout: %s", run.result.out);
}

Test(policy_command, check_rejects_rule_on_unwatched_syscall)
{
	const char *policy = write_policy("unwatched.policy",
					  "deny syscall openat\n");

	harness_run_nativemon(&run.result, NULL, "policy", "check", policy,
			      NULL);

	cr_expect_eq(run.result.exit_code, 1, "stderr: %s", run.result.err);
	cr_expect(strstr(run.result.err, "unwatched.policy:1: "),
		  "stderr: %s", run.result.err);
	cr_expect(strstr(run.result.err, "add `watch openat`"), "stderr: %s",
		  run.result.err);
}

Test(policy_command, check_includes_default_policy)
{
	const char *policy = write_policy("clash.policy",
					  "alert exec id nm-0001\n");

	harness_run_nativemon(&run.result, NULL, "policy", "check", policy,
			      NULL);
	cr_expect_eq(run.result.exit_code, 1,
		     "an id clash with the default policy passed; stderr: %s",
		     run.result.err);
	harness_result_fini(&run.result);

	harness_run_nativemon(&run.result, NULL, "policy", "check",
			      "--no-default-policy", policy, NULL);
	cr_expect_eq(run.result.exit_code, 1,
		     "exec rules need a watch on execve; stderr: %s",
		     run.result.err);
}

Test(policy_command, show_prints_rules_and_filter)
{
	const char *policy = write_policy("show.policy",
					  "watch openat if flags & O_CREAT\n"
					  "deny syscall ptrace id t-show\n");

	harness_run_nativemon(&run.result, NULL, "policy", "show", policy,
			      NULL);

	cr_assert_eq(run.result.exit_code, 0, "stderr: %s", run.result.err);
	cr_expect(strstr(run.result.out, "mode enforce"), "stdout: %s",
		  run.result.out);
	cr_expect(strstr(run.result.out, "show.policy:2"), "stdout: %s",
		  run.result.out);
	cr_expect(strstr(run.result.out, "id t-show"), "stdout: %s",
		  run.result.out);
	/* The default rules follow the file's. */
	cr_expect(strstr(run.result.out, "id nm-0004"), "stdout: %s",
		  run.result.out);
	cr_expect(strstr(run.result.out, "<default>:"), "stdout: %s",
		  run.result.out);
	/* libseccomp's pseudo filter code names the syscalls it tests. */
	cr_expect(strstr(run.result.out, "openat"), "stdout: %s",
		  run.result.out);
	cr_expect(strstr(run.result.out, "if ($syscall =="), "stdout: %s",
		  run.result.out);
}

Test(policy_command, show_prints_call_site_matchers)
{
	const char *policy = write_policy(
		"site.policy", "allow direct-syscall build-id 0123ABCD "
			       "offset 4263 caller-offset 0X10 "
			       "caller-build-id 89abcdef id t-site\n");

	harness_run_nativemon(&run.result, NULL, "policy", "show", policy,
			      NULL);

	cr_assert_eq(run.result.exit_code, 0, "stderr: %s", run.result.err);
	expect_output("allow direct-syscall offset 0x10a7 build-id 0123abcd "
		      "caller-offset 0x10 caller-build-id 89abcdef id t-site");
}

/*
 * Call sites: the offset and build-id matchers against facts that
 * nativemon reads from the running target.
 */

/* Reads the GNU build-id of the ELF file at path with readelf(1) from
 * binutils, a source independent of nativemon. */
static const char *read_build_id(const char *path)
{
	char *argv[] = { "readelf", "-n", (char *)path, NULL };
	struct harness_result result;
	const char *found;
	char *build_id;
	size_t length;

	harness_run(argv, NULL, &result);
	cr_assert_eq(result.exit_code, 0, "readelf -n %s failed: %s", path,
		     result.err);
	found = strstr(result.out, "Build ID: ");
	cr_assert(found, "%s has no GNU build-id; link it with --build-id",
		  path);
	found += strlen("Build ID: ");
	length = strspn(found, "0123456789abcdef");
	cr_assert_gt(length, 0, "readelf printed no build-id: %s", result.out);
	build_id = harness_test_own(&run, strndup(found, length));
	harness_result_fini(&result);
	return build_id;
}

static long long count_rule(const char *id)
{
	return harness_events_count(run.events, "rule.id", id, NULL);
}

/* Returns a string field of a record, failing the test without it. */
static const char *event_field(const json_t *event, const char *path)
{
	const char *value = harness_event_string(event, path);

	cr_assert(value, "the record has no %s; seen: %s", path, run.seen);
	return value;
}

static bool has_address(const json_t *frame, const char *address)
{
	const char *text = harness_event_string(frame, "address");

	return text && strcmp(text, address) == 0;
}

/* Returns the file offset of the record's caller frame. The stack entry
 * at the caller's address carries it. */
static const char *caller_offset(const json_t *event)
{
	const char *address = event_field(event, "nativemon.caller.address");
	const json_t *frames = harness_event_get(event, "nativemon.stack");
	const char *offset;
	size_t i;

	cr_assert(json_is_array(frames), "the record has no stack; seen: %s",
		  run.seen);
	for (i = 0; i < json_array_size(frames); i++) {
		const json_t *frame = json_array_get(frames, i);

		offset = harness_event_string(frame, "offset");
		if (offset && has_address(frame, address))
			return harness_test_own(&run, strdup(offset));
	}
	cr_assert_fail("no frame at the caller address %s; seen: %s", address,
		       run.seen);
	return NULL;
}

/*
 * The first rule that matches decides, so rules with a wrong offset or
 * build-id come first and must be passed over. If a matcher were ignored,
 * such a rule would fire. If a fact were wrong, the last rule would not.
 */
Test(enforce, offset_and_build_id_match_the_syscall_site,
     .timeout = TEST_TIMEOUT)
{
	char *target = harness_test_target(&run, "raw_memfd");
	const char *build_id = read_build_id(target);
	char *command[] = { target, NULL };
	const char *offset, *policy;
	const char *options[] = { "--policy", NULL, NULL };
	json_t *event;

	/* The default policy alerts on the direct syscall and its offset. */
	observe(NULL, command);
	event = harness_events_find(run.events, "event.action",
				    "direct-syscall", NULL);
	cr_assert(event, "no direct-syscall record; seen: %s", run.seen);
	harness_event_expect_string(event, "nativemon.origin.path", target);
	offset = harness_test_own(
		&run, strdup(event_field(event, "nativemon.origin.offset")));

	policy = write_policy(
		"site.policy",
		harness_test_format(
			&run,
			"alert direct-syscall offset 0xBAD id t-wrong-offset\n"
			"alert direct-syscall build-id 00112233 offset %s "
			"id t-wrong-build-id\n"
			"alert direct-syscall build-id %s offset %s "
			"id t-site\n",
			offset, build_id, offset));
	options[1] = policy;
	observe(options, command);

	harness_test_expect_exit_code(&run, 0);
	cr_expect_eq(count_rule("t-site"), 1,
		     "expected t-site for offset %s and build-id %s; "
		     "seen: %s",
		     offset, build_id, run.seen);
	cr_expect_eq(count_rule("t-wrong-offset"), 0, "seen: %s", run.seen);
	cr_expect_eq(count_rule("t-wrong-build-id"), 0, "seen: %s", run.seen);
}

/*
 * libc_memfd calls memfd_create twice from main, through libc's wrapper
 * and through syscall(3). Both syscall instructions are in libc and both
 * callers are in the program. The build-id of libc must not match as the
 * caller's, and the caller offset tells the two call sites apart.
 */
Test(enforce, caller_offset_and_build_id_match_the_caller,
     .timeout = TEST_TIMEOUT)
{
	char *target = harness_test_target(&run, "libc_memfd");
	const char *build_id = read_build_id(target);
	const char *probe = write_policy(
		"probe.policy", "alert syscall memfd_create id t-probe\n");
	const char *options[] = { "--policy", probe, NULL };
	char *command[] = { target, NULL };
	const char *libc_build_id, *first_offset, *policy;
	json_t *event;

	observe(options, command);
	event = harness_events_find(run.events, "rule.id", "t-probe", NULL);
	cr_assert(event, "no record of rule t-probe; seen: %s", run.seen);
	harness_event_expect_string(event, "nativemon.caller.path", target);
	libc_build_id =
		read_build_id(event_field(event, "nativemon.origin.path"));
	first_offset = caller_offset(event);

	policy = write_policy(
		"caller.policy",
		harness_test_format(
			&run,
			"log syscall memfd_create caller-build-id %s "
			"id t-libc\n"
			"log syscall memfd_create caller-build-id 00112233 "
			"id t-wrong-build-id\n"
			"log syscall memfd_create caller-offset %s "
			"caller-build-id %s id t-first\n"
			"log syscall memfd_create caller-build-id %s "
			"id t-other\n",
			libc_build_id, first_offset, build_id, build_id));
	options[1] = policy;
	observe(options, command);

	harness_test_expect_exit_code(&run, 0);
	cr_expect_eq(count_rule("t-first"), 1,
		     "expected t-first for caller offset %s; seen: %s",
		     first_offset, run.seen);
	cr_expect_eq(count_rule("t-other"), 1,
		     "expected t-other for the second call; seen: %s",
		     run.seen);
	cr_expect_eq(count_rule("t-libc"), 0,
		     "libc's build-id matched as the caller's; seen: %s",
		     run.seen);
	cr_expect_eq(count_rule("t-wrong-build-id"), 0, "seen: %s", run.seen);
}
