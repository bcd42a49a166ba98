/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tests of the remote unwinder on real processes from tests/targets,
 * blocked in a syscall at the end of a known call chain, and on hostile
 * stacks that a target builds for itself. The chain targets print the
 * return address each of their functions saw, which is the truth the
 * frames are compared with.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "unwind_helpers.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct target_process target = { .pid = -1 };
static struct module_cache *cache;
static struct unwinder *unwinder;
static struct stack stack;

static void start_unwinder(const struct unwind_limits *limits)
{
	cache = module_cache_new(16);
	cr_assert_not_null(cache);
	unwinder = unwinder_new(cache, limits);
	cr_assert_not_null(unwinder);
}

static void set_up(void)
{
	start_unwinder(&test_limits);
}

/* The hostile stacks run against the default bounds. */
static void set_up_defaults(void)
{
	start_unwinder(NULL);
}

static void tear_down(void)
{
	unwind_stack_fini(&stack);
	target_stop(&target);
	unwinder_free(unwinder);
	module_cache_free(cache);
	unwinder = NULL;
	cache = NULL;
}

TestSuite(unwind_chain, .init = set_up, .fini = tear_down, .timeout = 30);
TestSuite(unwind_hostile, .init = set_up_defaults, .fini = tear_down,
	  .timeout = 30);
TestSuite(unwind_limits, .fini = tear_down, .timeout = 30);

/* Starts the target, waits until it blocks in read(2) and unwinds it. */
static void unwind_blocked(const char *name, char *const arguments[])
{
	target_start(&target, name, arguments);
	target_read_report(&target);
	target_wait_blocked(&target, target.report.thread, SYS_read);
	target_unwind(&target, unwinder, &stack);
}

static void expect_symbol(size_t index, const char *symbol)
{
	const struct frame *frame = &stack.frames[index];

	cr_assert_lt(index, stack.count, "frame #%zu missing\n%s", index,
		     describe_stack(&stack));
	cr_assert_not_null(frame->symbol, "frame #%zu has no symbol\n%s", index,
			   describe_stack(&stack));
	cr_assert_str_eq(frame->symbol, symbol, "frame #%zu\n%s", index,
			 describe_stack(&stack));
}

/*
 * Checks frames first.. against the return addresses that the target
 * recorded, innermost first.
 */
static void expect_recorded_returns(size_t first)
{
	const struct target_report *report = &target.report;

	cr_assert_geq(stack.count, first + report->return_count,
		      "too few frames for %zu recorded returns\n%s",
		      report->return_count, describe_stack(&stack));
	for (size_t i = 0; i < report->return_count; i++)
		cr_assert_eq(
			stack.frames[first + i].address, report->returns[i],
			"frame #%zu is not the recorded %#" PRIx64 "\n%s",
			first + i, report->returns[i], describe_stack(&stack));
}

static void expect_chain(const char *program)
{
	static const char *const symbols[] = {
		"chain_block", "chain_three", "chain_two",
		"chain_one",   "run_round",   "main",
	};

	cr_assert_eq(stack.frames[0].origin, ORIGIN_LIBC, "%s",
		     describe_stack(&stack));
	for (size_t i = 0; i < ARRAY_SIZE(symbols); i++) {
		expect_symbol(i + 1, symbols[i]);
		cr_assert_str_eq(frame_module_name(&stack.frames[i + 1]),
				 program);
	}
	expect_recorded_returns(2);
	cr_assert_eq(stack.status, STACK_COMPLETE, "%s",
		     describe_stack(&stack));
	cr_assert_eq(stack.stack_pointer, STACK_POINTER_STACK);
}

static void expect_methods_from(size_t first, enum frame_method method,
				size_t count)
{
	for (size_t i = first; i < first + count && i < stack.count; i++)
		cr_assert_eq(stack.frames[i].method, method,
			     "frame #%zu method %s\n%s", i,
			     unwind_frame_method_name(stack.frames[i].method),
			     describe_stack(&stack));
}

Test(unwind_chain, o2_matches_recorded_chain)
{
	unwind_blocked("unwind_chain_o2", NULL);
	expect_chain("unwind_chain_o2");
	expect_symbol(0, "read");
	cr_assert_eq(stack.frames[0].method, FRAME_METHOD_REGISTER);
	expect_methods_from(1, FRAME_METHOD_CFI, 6);
}

Test(unwind_chain, o0_recovers_rbp)
{
	unwind_blocked("unwind_chain_o0", NULL);
	expect_chain("unwind_chain_o0");
	expect_methods_from(1, FRAME_METHOD_CFI, 6);
}

Test(unwind_chain, frame_pointers_without_tables)
{
	size_t fp_frames = 0;

	unwind_blocked("unwind_chain_no_tables_fp", NULL);
	expect_chain("unwind_chain_no_tables_fp");
	for (size_t i = 0; i < stack.count; i++)
		fp_frames += stack.frames[i].method == FRAME_METHOD_FP;
	cr_assert_geq(fp_frames, 3, "%s", describe_stack(&stack));
}

Test(unwind_chain, scan_without_tables)
{
	unwind_blocked("unwind_chain_no_tables", NULL);
	expect_chain("unwind_chain_no_tables");
	expect_methods_from(2, FRAME_METHOD_SCAN, 5);
}

Test(unwind_chain, syscall_wrapper_frame)
{
	const struct frame *caller;

	unwind_blocked("unwind_chain_syscall", NULL);
	expect_chain("unwind_chain_syscall");
	expect_symbol(0, "syscall");
	caller = unwind_stack_caller(&stack);
	cr_assert_eq(caller, &stack.frames[1]);
}

Test(unwind_chain, linked_library_frames)
{
	unwind_blocked("unwind_chain_linked", NULL);
	expect_symbol(3, "chain_two");
	expect_symbol(4, "relay_inner");
	expect_symbol(5, "relay_call");
	expect_symbol(6, "chain_one");
	cr_assert_str_eq(frame_module_name(&stack.frames[4]),
			 "unwind_relay.so");
	cr_assert_eq(stack.frames[4].origin, ORIGIN_LIBRARY);
	expect_recorded_returns(2);
	cr_assert_eq(stack.status, STACK_COMPLETE);
}

Test(unwind_chain, caller_skips_libc)
{
	const struct frame *caller;

	unwind_blocked("unwind_chain_o2", NULL);
	caller = unwind_stack_caller(&stack);
	cr_assert_not_null(caller);
	cr_assert_eq(caller, &stack.frames[1]);
	cr_assert_eq(caller->origin, ORIGIN_EXECUTABLE);
}

Test(unwind_chain, to_caller_stops_at_caller)
{
	struct unwind_target unwind_target;
	struct stack partial;
	const struct frame *caller;

	unwind_blocked("unwind_chain_o2", NULL);
	caller = unwind_stack_caller(&stack);
	cr_assert_not_null(caller);

	target_describe(&target, &unwind_target);
	cr_assert_eq(unwind_thread_to_caller(unwinder, &unwind_target,
					     target.ip, target.sp, &partial),
		     0);
	cr_expect_eq(partial.status, STACK_CALLER_FOUND, "%s",
		     describe_stack(&partial));
	cr_expect_eq(partial.count, (size_t)(caller - stack.frames) + 1,
		     "%s", describe_stack(&partial));
	cr_expect_eq(unwind_stack_caller(&partial),
		     &partial.frames[partial.count - 1]);
	cr_expect_eq(partial.frames[partial.count - 1].address,
		     caller->address);
	cr_expect_eq(partial.frames[partial.count - 1].offset, caller->offset);
	cr_expect_eq(partial.frames[partial.count - 1].module, caller->module);
	cr_expect_lt(partial.count, stack.count);
	unwind_stack_fini(&partial);
}

Test(unwind_chain, frame_offsets_in_file)
{
	const struct frame *frame;

	unwind_blocked("unwind_chain_o2", NULL);
	for (size_t i = 0; i < stack.count; i++) {
		frame = &stack.frames[i];
		cr_assert(frame->has_offset, "frame #%zu\n%s", i,
			  describe_stack(&stack));
		cr_assert_not_null(frame->module);
	}
	/* A position-independent executable maps its text at its offset. */
	frame = &stack.frames[1];
	cr_assert_lt(frame->offset,
		     (uint64_t)module_identity(frame->module)->size);
}

Test(unwind_chain, summary_names_modules)
{
	char summary[512], small[16];
	int n;

	unwind_blocked("unwind_chain_o2", NULL);
	n = unwind_stack_summary(&stack, summary, sizeof(summary));
	cr_assert_gt(n, 0);
	cr_assert_eq((size_t)n, strlen(summary));
	cr_assert_str_eq(summary,
			 "libc.so.6|unwind_chain_o2|unwind_chain_o2|"
			 "unwind_chain_o2|unwind_chain_o2|unwind_chain_o2|"
			 "unwind_chain_o2|libc.so.6|libc.so.6|unwind_chain_o2");
	cr_assert_eq(unwind_stack_summary(&stack, small, sizeof(small)),
		     -ENOSPC);
	cr_assert_str_eq(small, "libc.so.6");
}

Test(unwind_chain, anonymous_stub_scans_to_caller)
{
	char summary[256];

	unwind_blocked("unwind_anon", NULL);
	cr_assert_eq(stack.frames[0].origin, ORIGIN_ANONYMOUS);
	cr_assert_null(stack.frames[0].module);
	cr_assert_eq(stack.frames[0].address, target.report.stub + 14, "%s",
		     describe_stack(&stack));
	expect_symbol(1, "anon_caller");
	cr_assert_eq(stack.frames[1].method, FRAME_METHOD_SCAN);
	cr_assert_eq(stack.frames[2].address, target.report.returns[0], "%s",
		     describe_stack(&stack));
	expect_symbol(2, "main");
	cr_assert_eq(stack.frames[2].method, FRAME_METHOD_CFI);
	cr_assert_eq(unwind_stack_caller(&stack), &stack.frames[0]);
	cr_assert_gt(unwind_stack_summary(&stack, summary, sizeof(summary)), 0);
	cr_assert_eq(strncmp(summary, "[anonymous]|unwind_anon|", 24), 0,
		     "summary %s", summary);
	cr_assert_eq(stack.status, STACK_COMPLETE);
}

Test(unwind_chain, thread_on_own_stack)
{
	struct unwind_target unwind_target;

	unwind_blocked("unwind_thread", NULL);
	cr_assert_neq(target.tid, target.pid);
	cr_assert_eq(stack.stack_pointer, STACK_POINTER_STACK);
	expect_symbol(1, "thread_block");
	expect_symbol(2, "thread_start");
	cr_assert_eq(stack.status, STACK_COMPLETE, "%s",
		     describe_stack(&stack));
	target_describe(&target, &unwind_target);
	cr_assert_eq(unwind_locate_stack_pointer(&unwind_target, target.sp),
		     STACK_POINTER_STACK);
}

Test(unwind_chain, main_stack_of_other_thread_is_pivot)
{
	struct unwind_target unwind_target;
	uint64_t main_sp, main_ip;

	unwind_blocked("unwind_thread", NULL);
	/* The main thread waits in futex(2), on [stack]. */
	target_wait_blocked(&target, target.pid, SYS_futex);
	main_sp = target.sp;
	main_ip = target.ip;
	target_wait_blocked(&target, target.report.thread, SYS_read);
	target_describe(&target, &unwind_target);
	cr_assert_eq(unwind_locate_stack_pointer(&unwind_target, main_sp),
		     STACK_POINTER_PIVOTED);
	unwind_target.tid = target.pid;
	cr_assert_eq(unwind_locate_stack_pointer(&unwind_target, main_sp),
		     STACK_POINTER_STACK);
	cr_assert_neq(main_ip, 0);
}

struct hostile_case {
	const char *mode;
	enum stack_pointer_place place;
	enum stack_status status;
	bool any_status; /* the frames depend on the garbage */
};

static const struct hostile_case hostile_cases[] = {
	{ "heap-garbage", STACK_POINTER_PIVOTED, STACK_PIVOTED, false },
	{ "heap-cycle", STACK_POINTER_PIVOTED, STACK_PIVOTED, false },
	{ "mmap-garbage", STACK_POINTER_ANONYMOUS, STACK_TRUNCATED, true },
	{ "stack-garbage", STACK_POINTER_STACK, STACK_LIMIT, true },
	{ "unmapped", STACK_POINTER_UNMAPPED, STACK_PIVOTED, false },
	{ "noncanonical", STACK_POINTER_UNMAPPED, STACK_PIVOTED, false },
};

/*
 * Criterion copies parameters into the worker, where pointers into the
 * table would not be valid, so the parameters are indexes.
 */
ParameterizedTestParameters(unwind_hostile, bounded)
{
	static int indexes[] = { 0, 1, 2, 3, 4, 5 };

	cr_assert_eq(ARRAY_SIZE(indexes), ARRAY_SIZE(hostile_cases));
	return cr_make_param_array(int, indexes, ARRAY_SIZE(indexes));
}

/* Every hostile stack ends within the bounds, whatever it holds. */
ParameterizedTest(int *index, unwind_hostile, bounded)
{
	const struct hostile_case *c = &hostile_cases[*index];
	char *arguments[] = { (char *)c->mode, NULL };

	unwind_blocked("unwind_hostile", arguments);
	cr_assert_eq(stack.stack_pointer, c->place, "%s: place %s", c->mode,
		     unwind_stack_pointer_place_name(stack.stack_pointer));
	if (!c->any_status)
		cr_assert_eq(stack.status, c->status, "%s: %s", c->mode,
			     describe_stack(&stack));
	cr_assert_neq(stack.status, STACK_COMPLETE, "%s: %s", c->mode,
		      describe_stack(&stack));
	cr_assert_geq(stack.count, 1);
	cr_assert_leq(stack.count, STACK_FRAMES_MAX);
	cr_assert_eq(stack.frames[0].address, target.ip);
	cr_assert_leq(stack.bytes_read, 64u << 10, "%s: %zu bytes", c->mode,
		      stack.bytes_read);
	/* 10 ms by default; the rest is room for a shared machine. */
	cr_assert_lt(stack.elapsed_ns, 100ull * 1000 * 1000,
		     "%s: %" PRIu64 " ns", c->mode, stack.elapsed_ns);
}

Test(unwind_hostile, pivot_is_caller)
{
	char *arguments[] = { "heap-garbage", NULL };

	unwind_blocked("unwind_hostile", arguments);
	cr_assert_eq(stack.count, 1, "%s", describe_stack(&stack));
	cr_assert_eq(stack.frames[0].origin, ORIGIN_EXECUTABLE);
	expect_symbol(0, "block_on");
	cr_assert_eq(unwind_stack_caller(&stack), &stack.frames[0]);
}

Test(unwind_limits, frame_limit)
{
	struct unwind_limits limits = test_limits;

	limits.frames = 3;

	start_unwinder(&limits);
	unwind_blocked("unwind_chain_o2", NULL);
	cr_assert_eq(stack.count, 3);
	cr_assert_eq(stack.status, STACK_LIMIT);
	cr_assert_eq(stack.frames[2].address, target.report.returns[0]);
}

Test(unwind_limits, read_limit)
{
	struct unwind_limits limits = test_limits;

	limits.reads = 1;

	start_unwinder(&limits);
	unwind_blocked("unwind_chain_o2", NULL);
	cr_assert_eq(stack.status, STACK_LIMIT, "%s", describe_stack(&stack));
	cr_assert_lt(stack.count, 4, "%s", describe_stack(&stack));
	cr_assert_leq(stack.bytes_read, 4096);
}

Test(unwind_limits, time_limit)
{
	struct unwind_limits limits = { .time_ns = 1 };

	start_unwinder(&limits);
	unwind_blocked("unwind_chain_o2", NULL);
	cr_assert_eq(stack.status, STACK_LIMIT, "%s", describe_stack(&stack));
	cr_assert_eq(stack.count, 1);
	cr_assert_eq(stack.frames[0].address, target.ip);
}

Test(unwind_limits, defaults_suffice_when_warm)
{
	start_unwinder(NULL);
	unwind_blocked("unwind_chain_o0", NULL);
	unwind_stack_fini(&stack);
	/* The first unwind has read the modules into the cache. */
	target_unwind(&target, unwinder, &stack);
	expect_chain("unwind_chain_o0");
	cr_assert_lt(stack.elapsed_ns, 10ull * 1000 * 1000);
}

/*
 * Unwind tables that a target wrote itself: copies of unwind_relay_a.so
 * whose .eh_frame or .eh_frame_hdr were altered, which dlopen() loads
 * without looking at them.
 */
static char scratch[PATH_MAX];

static void tear_down_tables(void)
{
	tear_down();
	scratch_remove(scratch);
	scratch[0] = '\0';
}

TestSuite(unwind_hostile_tables, .init = set_up, .fini = tear_down_tables,
	  .timeout = 30);

struct section {
	uint64_t offset;
	uint64_t address;
	uint64_t size;
};

struct relay_layout {
	struct section eh_frame;
	struct section eh_frame_hdr;
	uint64_t relay_inner; /* the symbol's value */
};

static void read_symbol(Elf *elf, Elf_Scn *section, const GElf_Shdr *shdr,
			const char *wanted, uint64_t *value)
{
	Elf_Data *data = elf_getdata(section, NULL);
	size_t count = shdr->sh_size / shdr->sh_entsize;

	for (size_t i = 0; data && i < count; i++) {
		GElf_Sym symbol;
		const char *name;

		if (!gelf_getsym(data, (int)i, &symbol))
			continue;
		name = elf_strptr(elf, shdr->sh_link, symbol.st_name);
		if (name && strcmp(name, wanted) == 0)
			*value = symbol.st_value;
	}
}

static void read_layout(const char *path, struct relay_layout *layout)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf_Scn *section = NULL;
	size_t names;
	Elf *elf;

	memset(layout, 0, sizeof(*layout));
	cr_assert_neq(elf_version(EV_CURRENT), EV_NONE);
	cr_assert_geq(fd, 0);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	cr_assert_not_null(elf);
	cr_assert_eq(elf_getshdrstrndx(elf, &names), 0);
	while ((section = elf_nextscn(elf, section))) {
		struct section *found = NULL;
		const char *name;
		GElf_Shdr shdr;

		cr_assert_not_null(gelf_getshdr(section, &shdr));
		name = elf_strptr(elf, names, shdr.sh_name);
		if (shdr.sh_type == SHT_SYMTAB)
			read_symbol(elf, section, &shdr, "relay_inner",
				    &layout->relay_inner);
		if (name && strcmp(name, ".eh_frame") == 0)
			found = &layout->eh_frame;
		else if (name && strcmp(name, ".eh_frame_hdr") == 0)
			found = &layout->eh_frame_hdr;
		if (found) {
			found->offset = shdr.sh_offset;
			found->address = shdr.sh_addr;
			found->size = shdr.sh_size;
		}
	}
	elf_end(elf);
	close(fd);
	cr_assert_neq(layout->eh_frame.size, 0);
	cr_assert_neq(layout->eh_frame_hdr.size, 0);
	cr_assert_neq(layout->relay_inner, 0);
}

static void write_at(const char *path, uint64_t offset, const void *bytes,
		     size_t size)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, bytes, size, (off_t)offset), (ssize_t)size);
	cr_assert_eq(close(fd), 0);
}

/* Copies unwind_relay_a.so into the scratch directory. */
static const char *copy_relay(struct relay_layout *layout)
{
	static char path[2 * PATH_MAX];

	scratch_create(scratch, sizeof(scratch));
	snprintf(path, sizeof(path), "%s/librelay.so", scratch);
	copy_file(target_path("unwind_relay_a.so"), path, O_EXCL);
	read_layout(path, layout);
	return path;
}

static void unwind_relay_copy(const char *path)
{
	char *arguments[] = { (char *)path, NULL };

	/* The target's own backtrace(3) would trip over the same tables. */
	cr_assert_eq(setenv("UNWIND_CHAIN_NO_BACKTRACE", "1", 1), 0);
	unwind_blocked("unwind_chain_dlopen", arguments);
}

/* The frames below the library come from the program's own CFI. */
static void expect_frames_below_library(void)
{
	expect_symbol(1, "chain_block");
	expect_symbol(2, "chain_three");
	expect_symbol(3, "chain_two");
	cr_assert_leq(stack.count, STACK_FRAMES_MAX);
	cr_assert_lt(stack.elapsed_ns, 1000ull * 1000 * 1000);
}

Test(unwind_hostile_tables, garbage_eh_frame)
{
	struct relay_layout layout;
	const char *path = copy_relay(&layout);
	uint8_t *garbage = malloc(layout.eh_frame.size);
	uint64_t state = 0x9e3779b97f4a7c15ull;

	cr_assert_not_null(garbage);
	for (size_t i = 0; i < layout.eh_frame.size; i++) {
		state ^= state << 13;
		state ^= state >> 7;
		state ^= state << 17;
		garbage[i] = (uint8_t)state;
	}
	write_at(path, layout.eh_frame.offset, garbage, layout.eh_frame.size);
	free(garbage);
	unwind_relay_copy(path);
	expect_frames_below_library();
}

/* Returns the file offset of the FDE that the search table gives for pc. */
static uint64_t find_fde(const char *path, const struct relay_layout *layout,
			 uint64_t pc)
{
	const struct section *hdr = &layout->eh_frame_hdr;
	uint8_t *bytes = malloc(hdr->size);
	uint64_t offset = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint32_t count;

	cr_assert_not_null(bytes);
	cr_assert_eq(pread(fd, bytes, hdr->size, (off_t)hdr->offset),
		     (ssize_t)hdr->size);
	close(fd);
	/* GNU ld writes version 1, pcrel|sdata4, udata4, datarel|sdata4. */
	cr_assert_eq(memcmp(bytes, "\x01\x1b\x03\x3b", 4), 0);
	memcpy(&count, bytes + 8, sizeof(count));
	for (uint32_t i = 0; i < count; i++) {
		int32_t start, fde;

		memcpy(&start, bytes + 12 + 8 * i, sizeof(start));
		memcpy(&fde, bytes + 16 + 8 * i, sizeof(fde));
		if (hdr->address + (uint64_t)(int64_t)start == pc)
			offset = layout->eh_frame.offset +
				 (hdr->address + (uint64_t)(int64_t)fde -
				  layout->eh_frame.address);
	}
	free(bytes);
	cr_assert_neq(offset, 0, "no FDE for %#" PRIx64, pc);
	return offset;
}

Test(unwind_hostile_tables, looping_cfa_expression)
{
	/*
	 * DW_CFA_def_cfa_expression with the expression DW_OP_skip -3,
	 * which jumps back to itself forever.
	 */
	static const uint8_t loop[] = { 0x0f, 0x03, 0x2f, 0xfd, 0xff };
	struct relay_layout layout;
	const char *path = copy_relay(&layout);
	uint64_t fde = find_fde(path, &layout, layout.relay_inner);
	uint8_t header[17], padding[64] = { 0 };
	uint32_t length;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	/* length, CIE pointer, pc_begin, pc_range, augmentation length 0 */
	cr_assert_eq(pread(fd, header, sizeof(header), (off_t)fde),
		     (ssize_t)sizeof(header));
	close(fd);
	memcpy(&length, header, sizeof(length));
	cr_assert_eq(header[16], 0);
	cr_assert_geq(length, 13 + sizeof(loop));
	cr_assert_leq(length - 13, sizeof(padding));
	/* The rest of the instructions become DW_CFA_nop. */
	write_at(path, fde + 17, padding, length - 13);
	write_at(path, fde + 17, loop, sizeof(loop));
	unwind_relay_copy(path);
	expect_frames_below_library();
	cr_assert_eq(stack.status, STACK_LIMIT, "%s", describe_stack(&stack));
}

Test(unwind_hostile_tables, unsorted_search_table)
{
	struct relay_layout layout;
	const char *path = copy_relay(&layout);
	const struct section *hdr = &layout.eh_frame_hdr;
	uint8_t *bytes = malloc(hdr->size);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint32_t count;

	cr_assert_not_null(bytes);
	cr_assert_eq(pread(fd, bytes, hdr->size, (off_t)hdr->offset),
		     (ssize_t)hdr->size);
	close(fd);
	memcpy(&count, bytes + 8, sizeof(count));
	cr_assert_geq(count, 2);
	/* Swapping the first two entries breaks the order. */
	{
		uint8_t entry[8];

		memcpy(entry, bytes + 12, 8);
		memmove(bytes + 12, bytes + 20, 8);
		memcpy(bytes + 20, entry, 8);
	}
	write_at(path, hdr->offset, bytes, hdr->size);
	free(bytes);
	unwind_relay_copy(path);
	expect_frames_below_library();
	/*
	 * Without a usable table the frames that the library's functions
	 * return to are found by the scan.
	 */
	expect_symbol(4, "relay_inner");
	cr_assert_null(module_unwind_table(stack.frames[4].module));
	expect_symbol(5, "relay_call");
	cr_assert_eq(stack.frames[5].method, FRAME_METHOD_SCAN, "%s",
		     describe_stack(&stack));
	expect_symbol(6, "chain_one");
	cr_assert_eq(stack.frames[6].method, FRAME_METHOD_SCAN);
	cr_assert_eq(stack.status, STACK_COMPLETE, "%s",
		     describe_stack(&stack));
}

static void expect_signal_chain(void)
{
	size_t raiser = 0;

	expect_symbol(1, "signal_handler");
	/* The handler returns into libc's sigreturn trampoline. */
	cr_assert_eq(stack.frames[2].origin, ORIGIN_LIBC, "%s",
		     describe_stack(&stack));
	for (size_t i = 3; i < stack.count; i++) {
		if (stack.frames[i].symbol &&
		    strcmp(stack.frames[i].symbol, "signal_raiser") == 0)
			raiser = i;
	}
	cr_assert_gt(raiser, 3, "%s", describe_stack(&stack));
	cr_assert_eq(stack.frames[raiser + 1].address, target.report.returns[0],
		     "%s", describe_stack(&stack));
	expect_symbol(raiser + 1, "main");
	cr_assert_eq(stack.status, STACK_COMPLETE, "%s",
		     describe_stack(&stack));
}

Test(unwind_chain, through_signal_frame)
{
	unwind_blocked("unwind_signal", NULL);
	cr_assert_eq(stack.stack_pointer, STACK_POINTER_STACK);
	expect_signal_chain();
}

/* After the signal frame the walk goes on on the thread's own stack. */
Test(unwind_chain, from_sigaltstack)
{
	char *arguments[] = { "altstack", NULL };

	unwind_blocked("unwind_signal", arguments);
	cr_assert_eq(stack.stack_pointer, STACK_POINTER_ANONYMOUS);
	expect_signal_chain();
}
