/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Stack and ancestry tests against the real supervisor. Alerts carry the
 * caller's symbolized stack, the caller module with its hashes and the
 * process lineage. The detections that need a stack fire: a libc call
 * from shellcode and a pivoted stack pointer.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define TEST_TIMEOUT 60

static struct harness_test run;

static void release_run(void)
{
	harness_test_fini(&run);
}

TestSuite(stack, .init = harness_require_user_notification,
	  .fini = release_run);

static json_t *find_alert(const char *action)
{
	json_t *event = harness_events_find(run.events, "event.kind", "alert",
					    "event.action", action, NULL);

	cr_assert(event, "no %s alert; seen: %s; stderr: %s", action,
		  run.seen, run.result.err);
	return event;
}

static bool has_suffix(const char *text, const char *suffix)
{
	size_t length = text ? strlen(text) : 0, tail = strlen(suffix);

	return length >= tail && strcmp(text + length - tail, suffix) == 0;
}

/* Returns the frames of a record's stack; the test fails without one. */
static json_t *stack_frames(const json_t *event)
{
	json_t *frames = harness_event_get(event, "nativemon.stack");

	cr_assert(json_is_array(frames) && json_array_size(frames) > 0,
		  "the alert has no stack");
	return frames;
}

static size_t count_frames_of_origin(const json_t *frames, const char *origin)
{
	size_t i, count = 0;
	json_t *frame;

	json_array_foreach(frames, i, frame) {
		const char *value = harness_event_string(frame, "origin");

		count += value && strcmp(value, origin) == 0;
	}
	return count;
}

/* Runs `sha256sum PATH` and returns the digest, which test owns. */
static const char *sha256_of(const char *path)
{
	char *argv[] = { "sha256sum", (char *)path, NULL };
	struct harness_result result;
	char digest[65];

	harness_run(argv, NULL, &result);
	cr_assert(result.exit_code == 0 && sscanf(result.out, "%64s", digest),
		  "sha256sum failed: %s", result.err);
	harness_result_fini(&result);
	return harness_test_format(&run, "%s", digest);
}

Test(stack, direct_syscall_alert_has_symbolized_stack,
     .timeout = TEST_TIMEOUT)
{
	char *program = harness_test_target(&run, "raw_memfd");
	char *command[] = { program, NULL };
	json_t *event, *frames, *first;
	const char *symbol;

	harness_test_observe(&run, NULL, command);

	harness_test_expect_exit_code(&run, 0);
	event = find_alert("direct-syscall");
	frames = stack_frames(event);
	first = json_array_get(frames, 0);
	cr_expect(has_suffix(harness_event_string(first, "module"),
			     "/raw_memfd"),
		  "frame 0 is not in the program");
	symbol = harness_event_string(first, "symbol");
	cr_expect(symbol && strncmp(symbol, "main+0x", 7) == 0,
		  "frame 0 symbol: %s", symbol ? symbol : "(none)");
	harness_event_expect_string(first, "method", "ip");
	cr_expect(harness_event_string(first, "build_id"),
		  "frame 0 has no build-id");
	cr_expect_geq(count_frames_of_origin(frames, "libc"), 1,
		      "no libc frame below main");
	cr_expect(has_suffix(harness_event_string(event,
						  "nativemon.stack_summary"),
			     "libc.so.6|raw_memfd"),
		  "summary: %s",
		  harness_event_string(event, "nativemon.stack_summary"));
}

static const char *frame_string(const json_t *frames, size_t index,
				const char *key)
{
	const char *value =
		harness_event_string(json_array_get(frames, index), key);

	return value ? value : "(none)";
}

/* Fills stacks with the stacks of the run's two direct-syscall alerts. */
static void collect_two_stacks(json_t *stacks[2])
{
	size_t i, count = 0;
	json_t *event;

	json_array_foreach(run.events, i, event) {
		const char *action = harness_event_string(event, "event.action");

		if (action && strcmp(action, "direct-syscall") == 0 &&
		    count < 2)
			stacks[count++] = stack_frames(event);
	}
	cr_assert_eq(count, 2, "%zu direct-syscall alerts; seen: %s", count,
		     run.seen);
}

/*
 * Two alerts whose stacks share the frames below main. The records reuse
 * the objects of frames seen before, yet each names its own function and
 * its own return address in main.
 */
Test(stack, alerts_keep_their_own_frames, .timeout = TEST_TIMEOUT)
{
	char *command[] = { harness_test_target(&run, "raw_memfd_sites"),
			    NULL };
	json_t *stacks[2];

	/* Frames are shared only for a module that the cache keeps. */
	harness_wait_until_settled(command[0]);
	harness_test_observe(&run, NULL, command);

	harness_test_expect_exit_code(&run, 0);
	collect_two_stacks(stacks);
	cr_expect(strncmp(frame_string(stacks[0], 0, "symbol"), "create_first+",
			  13) == 0,
		  "first alert, frame 0: %s",
		  frame_string(stacks[0], 0, "symbol"));
	cr_expect(strncmp(frame_string(stacks[1], 0, "symbol"),
			  "create_second+", 14) == 0,
		  "second alert, frame 0: %s",
		  frame_string(stacks[1], 0, "symbol"));
	cr_expect(strncmp(frame_string(stacks[1], 1, "symbol"), "main+", 5) ==
			  0,
		  "second alert, frame 1: %s",
		  frame_string(stacks[1], 1, "symbol"));
	cr_expect_str_neq(frame_string(stacks[0], 1, "address"),
			  frame_string(stacks[1], 1, "address"),
			  "both alerts return to the same place in main");
	cr_expect_eq(json_array_size(stacks[0]), json_array_size(stacks[1]));
	for (size_t i = 2; i < json_array_size(stacks[0]); i++)
		cr_expect(json_equal(json_array_get(stacks[0], i),
				     json_array_get(stacks[1], i)),
			  "frame %zu differs below main", i);
}

static bool has_randomized_layout(void)
{
	FILE *file = fopen("/proc/sys/kernel/randomize_va_space", "r");
	int level = 0;

	if (file) {
		if (fscanf(file, "%d", &level) != 1)
			level = 0;
		fclose(file);
	}
	return level > 0;
}

/*
 * The same program run twice has the same frames at other addresses, so
 * the second record must not reuse the objects of the first.
 */
Test(stack, alerts_of_two_runs_keep_their_addresses, .timeout = TEST_TIMEOUT)
{
	const char *program = harness_test_target(&run, "raw_memfd");
	json_t *stacks[2];

	if (!has_randomized_layout())
		cr_skip_test("address space layout randomization is off");
	harness_wait_until_settled(program);
	harness_test_observe(&run, NULL,
			     (char *[]){ "sh", "-c",
					 harness_test_format(&run, "%s && %s",
							     program, program),
					 NULL });

	harness_test_expect_exit_code(&run, 0);
	collect_two_stacks(stacks);
	cr_expect_str_eq(frame_string(stacks[0], 0, "offset"),
			 frame_string(stacks[1], 0, "offset"));
	cr_expect_str_neq(frame_string(stacks[0], 0, "address"),
			  frame_string(stacks[1], 0, "address"),
			  "the second run shows the first run's address");
}

Test(stack, caller_carries_path_and_hashes, .timeout = TEST_TIMEOUT)
{
	char *program = harness_test_target(&run, "raw_memfd");
	char *command[] = { program, NULL };
	const char *expected = sha256_of(program);
	json_t *event;

	harness_test_observe(&run, NULL, command);

	event = find_alert("direct-syscall");
	harness_event_expect_string(event, "nativemon.caller.path", program);
	harness_event_expect_string(event, "nativemon.caller.sha256", expected);
	cr_expect(harness_event_string(event, "nativemon.caller.build_id"),
		  "the caller has no build-id");
}

Test(stack, libc_call_from_shellcode_is_unbacked_caller,
     .timeout = TEST_TIMEOUT)
{
	char *command[] = { harness_test_target(&run, "shellcode_libc_call"),
			    NULL };
	const char *summary;
	json_t *event, *frames;

	harness_test_observe(&run, NULL, command);

	harness_test_expect_exit_code(&run, 0);
	event = find_alert("unbacked-caller");
	harness_event_expect_string(event, "rule.id", "nm-0014");
	harness_event_expect_string(event, "nativemon.syscall.name",
				    "memfd_create");
	harness_event_expect_string(event, "nativemon.origin.kind", "libc");
	harness_event_expect_string(event, "nativemon.caller.origin",
				    "anonymous");
	frames = stack_frames(event);
	cr_expect_eq(count_frames_of_origin(frames, "anonymous"), 1,
		     "expected one anonymous frame");
	/* The preload shim's memfd_create wrapper may sit in between. */
	summary = harness_event_string(event, "nativemon.stack_summary");
	cr_expect(summary && (strncmp(summary, "libc.so.6|[anonymous]|", 22) ==
				      0 ||
			      strncmp(summary,
				      "libc.so.6|libnativemon.so|[anonymous]|",
				      38) == 0),
		  "summary: %s", summary);
	cr_expect_eq(harness_events_count(run.events, "event.action",
					  "direct-syscall", NULL),
		     0, "a libc call is no direct syscall; seen: %s", run.seen);
}

Test(stack, ordinary_libc_calls_are_not_unbacked, .timeout = TEST_TIMEOUT)
{
	char *command[] = { harness_test_target(&run, "libc_memfd"), NULL };

	harness_test_observe(&run, NULL, command);

	harness_test_expect_exit_code(&run, 0);
	cr_expect_eq(harness_events_count(run.events, "event.kind", "alert",
					  NULL),
		     0, "unexpected alerts: %s", run.seen);
}

Test(stack, pivot_into_heap_is_stack_pivot, .timeout = TEST_TIMEOUT)
{
	char *command[] = { harness_test_target(&run, "pivot_stack"), NULL };
	json_t *event;

	harness_test_observe(&run, NULL, command);

	harness_test_expect_exit_code(&run, 0);
	event = find_alert("stack-pivot");
	harness_event_expect_string(event, "rule.id", "nm-0015");
	harness_event_expect_string(event, "nativemon.stack_status", "pivoted");
	harness_event_expect_string(event, "nativemon.syscall.name",
				    "memfd_create");
}

/* Counts the lineage entries that ran `sh -c ...`. */
static size_t count_shells(const json_t *ancestry)
{
	size_t i, count = 0;
	json_t *entry;

	json_array_foreach(ancestry, i, entry) {
		json_t *args = harness_event_get(entry, "args");
		const char *first = json_string_value(json_array_get(args, 0));
		const char *second = json_string_value(json_array_get(args, 1));

		count += first && second && strcmp(first, "sh") == 0 &&
			 strcmp(second, "-c") == 0;
	}
	return count;
}

Test(stack, ancestry_names_both_shells, .timeout = TEST_TIMEOUT)
{
	char *inner = harness_test_format(
		&run, "sh -c %s", harness_test_target(&run, "raw_memfd"));
	char *command[] = { "sh", "-c", inner, NULL };
	json_t *event, *ancestry;
	long long parent;

	harness_test_observe(&run, NULL, command);

	harness_test_expect_exit_code(&run, 0);
	event = find_alert("direct-syscall");
	ancestry = harness_event_get(event, "nativemon.ancestry");
	cr_assert(json_is_array(ancestry), "no nativemon.ancestry");
	cr_expect_geq(count_shells(ancestry), 2,
		      "expected both shells in the ancestry");
	cr_expect(harness_event_integer(event, "process.parent.pid", &parent),
		  "no process.parent.pid");
	cr_expect(harness_event_string(json_array_get(ancestry, 0), "start"),
		  "ancestors have no start time");
}

/*
 * The inner shell runs the same program as the outer one, so only its new
 * command line shows that its exec happened.
 */
Test(stack, parent_is_shell_that_exec_d_a_shell, .timeout = TEST_TIMEOUT)
{
	char *inner = harness_test_format(
		&run, "sh -c \"%s; true\"; true",
		harness_test_target(&run, "raw_memfd"));
	char *command[] = { "sh", "-c", inner, NULL };
	json_t *event, *args;

	harness_test_observe(&run, NULL, command);

	harness_test_expect_exit_code(&run, 0);
	event = find_alert("direct-syscall");
	args = harness_event_get(event, "process.parent.args");
	cr_assert(json_is_array(args), "no process.parent.args");
	cr_expect(strstr(json_string_value(json_array_get(args, 2)),
			 "raw_memfd; true") &&
			  !strstr(json_string_value(json_array_get(args, 2)),
				  "sh -c"),
		  "the parent is the inner shell, not %s",
		  json_string_value(json_array_get(args, 2)));
	cr_expect_eq(count_shells(harness_event_get(event,
						    "nativemon.ancestry")),
		     2, "expected exactly the two shells");
}

Test(stack, caller_matcher_uses_stack, .timeout = TEST_TIMEOUT)
{
	char *program = harness_test_target(&run, "libc_memfd");
	char *text = harness_test_format(
		&run, "alert syscall memfd_create caller %s id t-caller\n",
		program);
	const char *scratch = harness_test_scratch_new(&run, NULL);
	char *policy = harness_test_format(&run, "%s/caller.policy", scratch);
	const char *options[] = { "--policy", policy, NULL };
	struct harness_options run_options = { .run_options = options };
	char *command[] = { program, NULL };
	FILE *file = fopen(policy, "w");

	cr_assert(file && fputs(text, file) >= 0 && fclose(file) == 0,
		  "cannot write %s", policy);

	harness_test_observe(&run, &run_options, command);

	harness_test_expect_exit_code(&run, 0);
	cr_expect_eq(harness_events_count(run.events, "rule.id", "t-caller",
					  NULL),
		     2, "both memfd_create calls come from the program through"
			" libc; seen: %s",
		     run.seen);
	/* The caller matcher walks to the caller only; alerts walk on. */
	cr_expect_eq(harness_events_count(run.events, "rule.id", "t-caller",
					  "nativemon.stack_status", "complete",
					  NULL),
		     2, "alert stacks stopped early; seen: %s", run.seen);
}

/*
 * The shellcode's libc call has its caller frame in anonymous memory, so
 * the caller-origin deleted rule does not match it and the anonymous rule
 * after it does.
 */
Test(stack, caller_origin_matches_unbacked_frame, .timeout = TEST_TIMEOUT)
{
	const char *scratch = harness_test_scratch_new(&run, NULL);
	char *policy = harness_test_format(&run, "%s/origin.policy", scratch);
	const char *options[] = { "--policy", policy, NULL };
	struct harness_options run_options = { .run_options = options };
	char *command[] = { harness_test_target(&run, "shellcode_libc_call"),
			    NULL };
	FILE *file = fopen(policy, "w");

	cr_assert(file &&
			  fputs("alert unbacked-caller caller-origin deleted "
				"id t-del\n"
				"alert unbacked-caller caller-origin anonymous "
				"id t-anon\n",
				file) >= 0 &&
			  fclose(file) == 0,
		  "cannot write %s", policy);

	harness_test_observe(&run, &run_options, command);

	harness_test_expect_exit_code(&run, 0);
	cr_expect(harness_events_find(run.events, "rule.id", "t-anon",
				      "event.action", "unbacked-caller", NULL),
		  "no unbacked-caller alert from t-anon; seen: %s", run.seen);
	cr_expect_eq(harness_events_count(run.events, "rule.id", "t-del",
					  NULL),
		     0, "the caller frame is anonymous, not deleted; seen: %s",
		     run.seen);
}

/* Collects the "return ADDRESS" lines that unwind_chain prints. */
static size_t read_recorded_returns(const char *out, char returns[][24],
				    size_t max)
{
	size_t count = 0;
	const char *line = out;

	while (count < max && (line = strstr(line, "return 0x"))) {
		sscanf(line, "return %23s", returns[count]);
		count++;
		line++;
	}
	return count;
}

/*
 * The supervisor's stack of a real call matches the return addresses the
 * program recorded itself, in each build of the same call chain. Frame 0
 * is libc's read and frame 1 is in chain_block; the recorded addresses
 * follow from frame 2 on.
 */
static void expect_chain_stack(const char *target)
{
	const char *scratch = harness_test_scratch_new(&run, NULL);
	char *policy = harness_test_format(&run, "%s/read.policy", scratch);
	const char *options[] = { "--policy", policy, NULL };
	struct harness_options run_options = { .run_options = options };
	char *command[] = { harness_test_target(&run, target), NULL };
	char returns[6][24];
	FILE *file = fopen(policy, "w");
	json_t *event, *frames;
	size_t count;

	cr_assert(file && fputs("watch read if arg0 == 0\n"
				"alert syscall read id t-read\n",
				file) >= 0 &&
			  fclose(file) == 0,
		  "cannot write %s", policy);

	harness_test_observe(&run, &run_options, command);

	count = read_recorded_returns(run.result.out, returns, 6);
	cr_assert_eq(count, 6, "%s recorded %zu return addresses: %s", target,
		     count, run.result.out);
	event = harness_events_find(run.events, "rule.id", "t-read", NULL);
	cr_assert(event, "%s: no alert for its read; seen: %s", target,
		  run.seen);
	frames = stack_frames(event);
	for (size_t i = 0; i < count; i++) {
		const char *address = harness_event_string(
			json_array_get(frames, i + 2), "address");

		cr_expect(address && strcmp(address, returns[i]) == 0,
			  "%s: frame %zu is %s, the program recorded %s",
			  target, i + 2, address ? address : "(none)",
			  returns[i]);
	}
}

Test(stack, matches_recorded_chain_at_o0, .timeout = TEST_TIMEOUT)
{
	expect_chain_stack("unwind_chain_o0");
}

Test(stack, matches_recorded_chain_at_o2, .timeout = TEST_TIMEOUT)
{
	expect_chain_stack("unwind_chain_o2");
}

Test(stack, matches_chain_without_frame_pointers, .timeout = TEST_TIMEOUT)
{
	expect_chain_stack("unwind_chain_omit_fp");
}

Test(stack, matches_chain_without_unwind_tables, .timeout = TEST_TIMEOUT)
{
	expect_chain_stack("unwind_chain_no_tables");
}

Test(stack, matches_chain_through_generic_syscall, .timeout = TEST_TIMEOUT)
{
	expect_chain_stack("unwind_chain_syscall");
}

Test(stack, matches_chain_through_linked_library, .timeout = TEST_TIMEOUT)
{
	expect_chain_stack("unwind_chain_linked");
}
