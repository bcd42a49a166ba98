/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The accuracy matrix: the unwind_chain target built in several
 * configurations, each unwound once while it is blocked in read(2), and
 * the first MATRIX_FRAMES frames compared with what the target knew about
 * its own stack. The reference is
 *   - frame 0: the read (or syscall) function in libc;
 *   - frame 1: chain_block in the program;
 *   - frames 2 and up: the return addresses that the functions of the
 *     chain recorded with __builtin_return_address(0), exact in every
 *     configuration.
 * The target's backtrace(3) output is compared as well, where it reaches.
 * Configurations with unwind tables must match exactly; the others must
 * name the right module for every frame. The test prints the table as
 * Markdown on stderr, which docs/unwinding.md reproduces.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "maps.h"
#include "unwind_helpers.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MATRIX_FRAMES 8

struct configuration {
	const char *label;
	const char *program;
	const char *library; /* for unwind_chain_dlopen, in $TARGETS */
	const char *libc_symbol;
	bool has_tables;
};

static const struct configuration configurations[] = {
	{ "-O0", "unwind_chain_o0", NULL, "read", true },
	{ "-O2", "unwind_chain_o2", NULL, "read", true },
	{ "-O2 -fomit-frame-pointer", "unwind_chain_omit_fp", NULL, "read",
	  true },
	{ "-O2 -fno-omit-frame-pointer", "unwind_chain_fp", NULL, "read",
	  true },
	{ "-O2, no unwind tables", "unwind_chain_no_tables", NULL, "read",
	  false },
	{ "-O2 -fno-omit-frame-pointer, no unwind tables",
	  "unwind_chain_no_tables_fp", NULL, "read", false },
	{ "-O2, no unwind tables, stripped", "unwind_chain_no_tables_stripped",
	  NULL, "read", false },
	{ "through a linked library", "unwind_chain_linked", NULL, "read",
	  true },
	{ "through a dlopen()ed library", "unwind_chain_dlopen",
	  "unwind_relay.so", "read", true },
	{ "through a dlopen()ed library stripped to .dynsym",
	  "unwind_chain_dlopen", "unwind_relay_stripped.so", "read", true },
	{ "through libc's syscall()", "unwind_chain_syscall", NULL, "syscall",
	  true },
};

struct score {
	size_t exact;
	size_t module;
	size_t backtrace_frames; /* frames that backtrace(3) reached */
	size_t backtrace_agree;
	char methods[64];
};

static struct target_process target = { .pid = -1 };
static struct module_cache *cache;
static struct unwinder *unwinder;
static struct stack stack;
static struct maps maps;

static void tear_down(void)
{
	unwind_stack_fini(&stack);
	target_stop(&target);
	unwinder_free(unwinder);
	module_cache_free(cache);
	maps_fini(&maps);
}

TestSuite(unwind_matrix, .fini = tear_down, .timeout = 120);

static const char *base_name(const char *path)
{
	const char *slash;

	if (!path)
		return "";
	slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* Returns the base name of the file mapped at address in the target. */
static const char *module_at(uint64_t address)
{
	const struct mapping *mapping = maps_lookup(&maps, address);

	return mapping ? base_name(mapping->path) : "";
}

static bool is_frame(size_t index, const char *symbol, const char *module)
{
	const struct frame *frame = &stack.frames[index];

	return frame->symbol && strcmp(frame->symbol, symbol) == 0 &&
	       strcmp(frame_module_name(frame), module) == 0;
}

/* Returns the index in the backtrace(3) output of the first recorded return. */
static size_t find_backtrace_start(void)
{
	const struct target_report *report = &target.report;

	for (size_t i = 0; i < report->backtrace_count; i++) {
		if (report->backtrace[i] == report->returns[0])
			return i;
	}
	return report->backtrace_count;
}

static void score_address_frame(size_t index, struct score *score)
{
	const struct target_report *report = &target.report;
	const struct frame *frame = &stack.frames[index];
	size_t backtrace_index = find_backtrace_start() + index - 2;
	uint64_t expected = report->returns[index - 2];

	score->exact += frame->address == expected;
	score->module +=
		strcmp(frame_module_name(frame), module_at(expected)) == 0;
	if (backtrace_index < report->backtrace_count) {
		score->backtrace_frames++;
		score->backtrace_agree +=
			frame->address == report->backtrace[backtrace_index];
	}
}

static void score_stack(const struct configuration *configuration,
			struct score *score)
{
	const char *program = configuration->program;
	size_t used = 0;

	memset(score, 0, sizeof(*score));
	cr_assert_geq(target.report.return_count, MATRIX_FRAMES - 2);
	for (size_t i = 0; i < MATRIX_FRAMES && i < stack.count; i++) {
		const struct frame *frame = &stack.frames[i];

		if (i == 0) {
			score->exact += is_frame(0, configuration->libc_symbol,
						 "libc.so.6");
			score->module += strcmp(frame_module_name(frame),
						"libc.so.6") == 0;
		} else if (i == 1) {
			score->exact += is_frame(1, "chain_block", program);
			score->module +=
				strcmp(frame_module_name(frame), program) == 0;
		} else {
			score_address_frame(i, score);
		}
		used += (size_t)snprintf(
			score->methods + used, sizeof(score->methods) - used,
			"%s%s", i ? " " : "",
			unwind_frame_method_name(frame->method));
	}
}

static void run_configuration(const struct configuration *configuration,
			      struct score *score)
{
	char *arguments[] = { NULL, NULL };

	if (configuration->library)
		arguments[0] = (char *)target_path(configuration->library);
	target_start(&target, configuration->program, arguments);
	target_read_report(&target);
	target_wait_blocked(&target, 0, SYS_read);
	cr_assert_eq(maps_read(&maps, target.pid), 0);
	target_unwind(&target, unwinder, &stack);
	score_stack(configuration, score);
	unwind_stack_fini(&stack);
	target_stop(&target);
}

Test(unwind_matrix, first_frames_match)
{
	cache = module_cache_new(64);
	unwinder = unwinder_new(cache, &test_limits);
	cr_assert_not_null(unwinder);
	fprintf(stderr,
		"| configuration | exact | right module | backtrace(3) reached"
		" | agrees with backtrace(3) | methods |\n"
		"|---|---:|---:|---:|---:|---|\n");
	for (size_t i = 0; i < ARRAY_SIZE(configurations); i++) {
		const struct configuration *configuration = &configurations[i];
		struct score score;

		run_configuration(configuration, &score);
		fprintf(stderr, "| %s | %zu/%d | %zu/%d | %zu | %zu | %s |\n",
			configuration->label, score.exact, MATRIX_FRAMES,
			score.module, MATRIX_FRAMES, score.backtrace_frames,
			score.backtrace_agree, score.methods);
		if (configuration->has_tables) {
			cr_expect_eq(score.exact, MATRIX_FRAMES, "%s",
				     configuration->label);
			cr_expect_eq(score.backtrace_agree,
				     score.backtrace_frames, "%s",
				     configuration->label);
		}
		cr_expect_eq(score.module, MATRIX_FRAMES, "%s",
			     configuration->label);
	}
}
