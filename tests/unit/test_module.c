/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tests of the module cache through real processes: symbols from .symtab
 * and from .dynsym alone, GNU build-ids, SHA-256 digests compared with
 * sha256sum(1) and eviction. Other tests replace a file on disk, or load
 * another file at the same address, while a target has it mapped.
 *
 * unwind_relay_a.so and unwind_relay_b.so are the same library linked with
 * the build-ids below, so the build-id tells which file a frame came from.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "unwind_helpers.h"

#define BUILD_ID_A "a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4"
#define BUILD_ID_B "b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4"

static struct target_process target = { .pid = -1 };
static struct module_cache *cache;
static struct unwinder *unwinder;
static struct stack stack;
static char scratch[PATH_MAX];

static void start_cache(size_t capacity)
{
	cache = module_cache_new(capacity);
	cr_assert_not_null(cache);
	unwinder = unwinder_new(cache, &test_limits);
	cr_assert_not_null(unwinder);
}

static void set_up(void)
{
	start_cache(16);
}

static void tear_down(void)
{
	unwind_stack_fini(&stack);
	target_stop(&target);
	unwinder_free(unwinder);
	module_cache_free(cache);
	unwinder = NULL;
	cache = NULL;
	scratch_remove(scratch);
	scratch[0] = '\0';
}

TestSuite(module, .init = set_up, .fini = tear_down, .timeout = 30);
TestSuite(module_small_cache, .fini = tear_down, .timeout = 30);

static void make_scratch(void)
{
	scratch_create(scratch, sizeof(scratch));
}

/* Returns scratch/name in one of four static buffers, reused in turn. */
static char *scratch_path(const char *name)
{
	static char paths[4][2 * PATH_MAX];
	static int next;
	char *path = paths[next++ % 4];

	snprintf(path, sizeof(paths[0]), "%s/%s", scratch, name);
	return path;
}

/* Starts unwind_chain_dlopen on the libraries and unwinds its first round. */
static void unwind_dlopen(char *const libraries[])
{
	target_start(&target, "unwind_chain_dlopen", libraries);
	target_read_report(&target);
	target_wait_blocked(&target, 0, SYS_read);
	target_unwind(&target, unwinder, &stack);
}

/* Lets the target go on to its next library, and unwinds that round. */
static void unwind_next_round(bool mark_dirty)
{
	unwind_stack_fini(&stack);
	target_release(&target);
	target_read_report(&target);
	target_wait_blocked(&target, 0, SYS_read);
	/* monitor.c marks the maps doubtful on the mmap() of a library. */
	if (mark_dirty)
		process_mark_dirty(target.process, target.tid, 0, 0);
	target_unwind(&target, unwinder, &stack);
}

static const struct frame *find_frame(const char *symbol)
{
	for (size_t i = 0; i < stack.count; i++) {
		const char *name = stack.frames[i].symbol;

		if (name && strcmp(name, symbol) == 0)
			return &stack.frames[i];
	}
	cr_assert_fail("no frame of %s\n%s", symbol, describe_stack(&stack));
	return NULL;
}

/* Returns the build-id of a frame's module in hexadecimal. */
static const char *build_id_hex(const struct frame *frame)
{
	static char hex[2 * MODULE_BUILD_ID_MAX + 1];
	const uint8_t *build_id;
	size_t length;

	cr_assert_not_null(frame->module, "the frame has no module\n%s",
			   describe_stack(&stack));
	length = module_build_id(frame->module, &build_id);
	for (size_t i = 0; i < length; i++)
		snprintf(hex + 2 * i, 3, "%02x", build_id[i]);
	hex[2 * length] = '\0';
	return hex;
}

Test(module, symtab_names_static_function)
{
	char *libraries[] = { (char *)target_path("unwind_relay_a.so"), NULL };
	const struct frame *inner;

	unwind_dlopen(libraries);
	inner = find_frame("relay_inner");
	cr_assert(module_has_symtab(inner->module));
	cr_assert_str_eq(frame_module_name(inner), "unwind_relay_a.so");
	cr_assert_eq(inner->origin, ORIGIN_LIBRARY);
	find_frame("relay_call");
}

Test(module, dynsym_names_exported_only)
{
	char *libraries[] = { (char *)target_path("unwind_relay_stripped.so"),
			      NULL };
	const struct frame *relay = NULL, *unnamed = NULL;

	unwind_dlopen(libraries);
	relay = find_frame("relay_call");
	cr_assert_not(module_has_symtab(relay->module));
	/* relay_inner is static: .dynsym does not name it. */
	for (size_t i = 0; i < stack.count; i++) {
		if (stack.frames[i].module == relay->module &&
		    &stack.frames[i] != relay)
			unnamed = &stack.frames[i];
	}
	cr_assert_not_null(unnamed, "%s", describe_stack(&stack));
	cr_assert_null(unnamed->symbol, "%s", describe_stack(&stack));
	cr_assert_lt(unnamed - stack.frames, relay - stack.frames);
}

Test(module, build_id_from_note)
{
	char *libraries[] = { (char *)target_path("unwind_relay_a.so"), NULL };

	unwind_dlopen(libraries);
	cr_assert_str_eq(build_id_hex(find_frame("relay_call")), BUILD_ID_A);
}

/* Returns the digest that sha256sum(1) prints for path. */
static const char *sha256sum(const char *path)
{
	static char digest[2 * MODULE_SHA256_SIZE + 1];
	char command[PATH_MAX + 32];
	FILE *output;

	snprintf(command, sizeof(command), "sha256sum '%s'", path);
	output = popen(command, "r");
	cr_assert_not_null(output);
	cr_assert_eq(fscanf(output, "%64s", digest), 1);
	cr_assert_eq(pclose(output), 0);
	return digest;
}

static const char *module_sha256_hex(struct module *module)
{
	static char hex[2 * MODULE_SHA256_SIZE + 1];
	uint8_t digest[MODULE_SHA256_SIZE];

	cr_assert_eq(module_sha256(module, digest), 0);
	for (size_t i = 0; i < MODULE_SHA256_SIZE; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	return hex;
}

Test(module, sha256_matches_sha256sum)
{
	char *libraries[] = { (char *)target_path("unwind_relay_a.so"), NULL };
	struct module *modules[] = { NULL, NULL, NULL };

	unwind_dlopen(libraries);
	modules[0] = find_frame("relay_call")->module;
	modules[1] = find_frame("main")->module;
	modules[2] = stack.frames[0].module; /* libc */
	for (size_t i = 0; i < 3; i++) {
		const char *path = module_path(modules[i]);

		cr_assert_str_eq(module_sha256_hex(modules[i]), sha256sum(path),
				 "%s", path);
		/* The second call returns the stored digest. */
		cr_assert_str_eq(module_sha256_hex(modules[i]), sha256sum(path),
				 "%s", path);
	}
}

Test(module, renamed_file_gets_new_entry)
{
	char *libraries[] = { NULL, NULL };
	struct target_process first;

	make_scratch();
	libraries[0] = scratch_path("librelay.so");
	copy_file(target_path("unwind_relay_a.so"), libraries[0], O_EXCL);
	unwind_dlopen(libraries);
	cr_assert_str_eq(build_id_hex(find_frame("relay_call")), BUILD_ID_A);
	unwind_stack_fini(&stack);

	/* A package upgrade: the new file is renamed over the old one. */
	copy_file(target_path("unwind_relay_b.so"), scratch_path("new.so"),
		  O_EXCL);
	cr_assert_eq(rename(scratch_path("new.so"), libraries[0]), 0);
	first = target;
	unwind_dlopen(libraries);
	cr_assert_str_eq(build_id_hex(find_frame("relay_call")), BUILD_ID_B);
	unwind_stack_fini(&stack);
	target_stop(&target);

	/* The first process still maps the old, now deleted, file. */
	target = first;
	target_unwind(&target, unwinder, &stack);
	cr_assert_str_eq(build_id_hex(find_frame("relay_call")), BUILD_ID_A);
}

static bool same_times(const struct stat *a, const struct stat *b)
{
	return a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/*
 * Rewrites path in place with the bytes of from until its timestamps
 * differ from before, which on kernels with coarse timestamps can take a
 * tick of the clock.
 */
static void rewrite_in_place(const char *from, const char *path,
			     const struct stat *before)
{
	struct timespec pause = { .tv_nsec = 1000000 };
	struct stat after;

	for (int attempt = 0; attempt < 1000; attempt++) {
		copy_file(from, path, O_TRUNC);
		cr_assert_eq(stat(path, &after), 0);
		cr_assert_eq(after.st_ino, before->st_ino);
		if (!same_times(before, &after))
			return;
		nanosleep(&pause, NULL);
	}
	cr_assert_fail("the timestamps of %s did not change", path);
}

Test(module, rewritten_file_gets_new_entry)
{
	char *libraries[] = { NULL, NULL };
	struct stat before;

	make_scratch();
	libraries[0] = scratch_path("librelay.so");
	copy_file(target_path("unwind_relay_a.so"), libraries[0], O_EXCL);
	unwind_dlopen(libraries);
	cr_assert_str_eq(build_id_hex(find_frame("relay_call")), BUILD_ID_A);
	unwind_stack_fini(&stack);

	/* The same inode and size, new contents: cp(1) over the old file. */
	cr_assert_eq(stat(libraries[0], &before), 0);
	rewrite_in_place(target_path("unwind_relay_b.so"), libraries[0],
			 &before);
	target_unwind(&target, unwinder, &stack);
	cr_assert_str_eq(build_id_hex(find_frame("relay_call")), BUILD_ID_B);
}

Test(module, other_file_at_same_address)
{
	char *libraries[] = { (char *)target_path("unwind_relay_a.so"),
			      (char *)target_path("unwind_relay_b.so"), NULL };

	uint64_t address_a;

	unwind_dlopen(libraries);
	cr_assert_str_eq(build_id_hex(find_frame("relay_call")), BUILD_ID_A);
	address_a = find_frame("relay_call")->address;

	/*
	 * The target unloads A and loads B, often at the same address. The
	 * process table still contains A's mapping there, so the module is
	 * missing, never A's.
	 */
	unwind_next_round(false);
	for (size_t i = 0; i < stack.count; i++) {
		if (stack.frames[i].module)
			cr_assert_str_neq(build_id_hex(&stack.frames[i]),
					  BUILD_ID_A, "%s",
					  describe_stack(&stack));
	}
	unwind_stack_fini(&stack);
	process_mark_dirty(target.process, target.tid, 0, 0);
	target_unwind(&target, unwinder, &stack);
	cr_assert_str_eq(build_id_hex(find_frame("relay_call")), BUILD_ID_B);
	if (find_frame("relay_call")->address != address_a)
		cr_log_warn("B was loaded elsewhere than A, so only the cache"
			    " key was tested, not a stale mapping");
}

/* Returns the cached executable mapping whose path ends in name. */
static const struct mapping *find_cached_code(const char *name)
{
	const struct maps *maps = &target.process->maps;
	size_t length = strlen(name);

	for (size_t i = 0; i < maps->count; i++) {
		const struct mapping *mapping = &maps->items[i];
		size_t path_length = mapping->path ? strlen(mapping->path) : 0;

		if ((mapping->perms & MAPPING_EXEC) && path_length >= length &&
		    strcmp(mapping->path + path_length - length, name) == 0)
			return mapping;
	}
	return NULL;
}

/*
 * Settling a range marked out of date puts the library mapped there since
 * into the cache, and clears the mark.
 */
Test(module, settling_marked_range_adds_new_code)
{
	char *libraries[] = { (char *)target_path("unwind_relay_a.so"),
			      (char *)target_path("unwind_relay_b.so"), NULL };

	unwind_dlopen(libraries);
	if (!target.process->maps_executable_only)
		cr_skip_test("the kernel lacks the PROCMAP_QUERY ioctl (Linux 6.11)");
	unwind_stack_fini(&stack);
	target_release(&target);
	target_read_report(&target);
	target_wait_blocked(&target, 0, SYS_read);
	cr_assert_null(find_cached_code("unwind_relay_b.so"),
		       "nothing has looked up the new library yet");

	process_mark_dirty(target.process, target.tid, 4096,
			   (1ull << 47) - 8192);
	cr_assert_eq(target.process->dirty_count, 1);
	process_settle_changes(target.process, target.tid + 1);
	cr_expect_eq(target.process->dirty_count, 1,
		     "another thread's call may still be under way");
	process_settle_changes(target.process, target.tid);
	cr_expect_eq(target.process->dirty_count, 0);
	cr_expect(target.process->maps_valid);
	cr_expect_not_null(find_cached_code("unwind_relay_b.so"));
	cr_expect_null(find_cached_code("unwind_relay_a.so"),
		       "the unloaded library is still cached");
}

Test(module, anonymous_mapping_has_no_module)
{
	struct mapping mapping = {
		.start = 0x10000,
		.end = 0x20000,
		.perms = MAPPING_READ,
	};
	struct module *module = (struct module *)&mapping;

	cr_assert_eq(module_cache_get(cache, getpid(), &mapping, &module),
		     -ENOENT);
	cr_assert_null(module);
}

Test(module, cache_hits_on_second_unwind)
{
	struct module_cache_stats first, second;

	target_start(&target, "unwind_chain_linked", NULL);
	target_read_report(&target);
	target_wait_blocked(&target, 0, SYS_read);
	target_unwind(&target, unwinder, &stack);
	module_cache_get_stats(cache, &first);
	unwind_stack_fini(&stack);
	target_unwind(&target, unwinder, &stack);
	module_cache_get_stats(cache, &second);
	/* The program, unwind_relay.so and libc. */
	cr_assert_eq(first.loads, 3, "%zu loads", first.loads);
	cr_assert_eq(second.loads, first.loads);
	cr_assert_gt(second.hits, first.hits);
	cr_assert_eq(second.count, 3);
}

Test(module_small_cache, eviction_keeps_frames_valid)
{
	struct module_cache_stats stats;

	start_cache(1);
	target_start(&target, "unwind_chain_linked", NULL);
	target_read_report(&target);
	target_wait_blocked(&target, 0, SYS_read);
	target_unwind(&target, unwinder, &stack);
	module_cache_get_stats(cache, &stats);
	cr_assert_eq(stats.count, 1);
	cr_assert_geq(stats.evictions, 2);
	/* The frames hold their own references to evicted modules. */
	cr_assert_str_eq(frame_module_name(&stack.frames[0]), "libc.so.6");
	cr_assert_str_eq(frame_module_name(find_frame("relay_call")),
			 "unwind_relay.so");
	cr_assert_str_eq(frame_module_name(find_frame("main")),
			 "unwind_chain_linked");
}

/*
 * Drops CAP_SYS_ADMIN and CAP_CHECKPOINT_RESTORE from this worker's
 * effective set, as nativemon runs without root, so /proc/PID/map_files
 * refuses to open and the cache falls back to the mapped paths.
 */
static void drop_map_files_capabilities(void)
{
	struct __user_cap_header_struct header = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	static const int dropped[] = { CAP_SYS_ADMIN, CAP_CHECKPOINT_RESTORE };

	cr_assert_eq(syscall(SYS_capget, &header, data), 0);
	for (size_t i = 0; i < sizeof(dropped) / sizeof(*dropped); i++)
		data[CAP_TO_INDEX(dropped[i])].effective &=
			~CAP_TO_MASK(dropped[i]);
	cr_assert_eq(syscall(SYS_capset, &header, data), 0, "capset: %s",
		     strerror(errno));
}

/* Checks that map_files is refused for the target's first mapping. */
static void expect_map_files_refused(void)
{
	const struct mapping *mapping = &target.process->maps.items[0];
	char link[128];
	struct stat st;

	snprintf(link, sizeof(link), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64,
		 (int)target.pid, mapping->start, mapping->end);
	cr_assert_eq(stat(link, &st), -1);
	cr_assert_eq(errno, EPERM, "stat %s: %s", link, strerror(errno));
}

TestSuite(module_unprivileged, .init = set_up, .fini = tear_down,
	  .timeout = 30);

Test(module_unprivileged, path_fallback)
{
	char *libraries[] = { (char *)target_path("unwind_relay_a.so"), NULL };

	drop_map_files_capabilities();
	unwind_dlopen(libraries);
	expect_map_files_refused();
	cr_assert_str_eq(build_id_hex(find_frame("relay_call")), BUILD_ID_A);
	cr_assert_str_eq(frame_module_name(&stack.frames[0]), "libc.so.6");
	cr_assert_eq(stack.status, STACK_COMPLETE, "%s",
		     describe_stack(&stack));
}

Test(module_unprivileged, renamed_file_not_confused)
{
	char *libraries[] = { NULL, NULL };

	drop_map_files_capabilities();
	make_scratch();
	libraries[0] = scratch_path("librelay.so");
	copy_file(target_path("unwind_relay_a.so"), libraries[0], O_EXCL);
	unwind_dlopen(libraries);
	cr_assert_str_eq(build_id_hex(find_frame("relay_call")), BUILD_ID_A);
	unwind_stack_fini(&stack);

	/*
	 * The path now names B, whose inode differs from the mapping's: the
	 * process table's copy of the maps still shows the old path, and
	 * the frame must get no module rather than B's.
	 */
	copy_file(target_path("unwind_relay_b.so"), scratch_path("new.so"),
		  O_EXCL);
	cr_assert_eq(rename(scratch_path("new.so"), libraries[0]), 0);
	module_cache_free(cache);
	unwinder_free(unwinder);
	set_up();
	target_unwind(&target, unwinder, &stack);
	for (size_t i = 0; i < stack.count; i++) {
		if (stack.frames[i].module)
			cr_assert_str_neq(build_id_hex(&stack.frames[i]),
					  BUILD_ID_B, "%s",
					  describe_stack(&stack));
	}

	/* Once the maps are read again the mapping shows as deleted. */
	unwind_stack_fini(&stack);
	process_mark_dirty(target.process, target.tid, 0, 0);
	target_unwind(&target, unwinder, &stack);
	for (size_t i = 0; i < stack.count; i++) {
		if (stack.frames[i].module)
			cr_assert_str_neq(build_id_hex(&stack.frames[i]),
					  BUILD_ID_B, "%s",
					  describe_stack(&stack));
	}
}
