/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tests of origin classification: which origin kind each kind of mapping
 * gets, and which file names count as libc or as the dynamic loader.
 */
#include <criterion/criterion.h>
#include <stddef.h>

#include "origin.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct classify_case {
	const char *label;
	const char *path;
	bool deleted;
	uint64_t inode;
	unsigned int dev_major;
	unsigned int dev_minor;
	const struct exe_identity *exe;
	enum origin_kind expected;
};

/* The main executable as stat() of /proc/PID/exe shows it. */
static const struct exe_identity app_exe = {
	.dev_major = 8,
	.dev_minor = 1,
	.inode = 500,
	.path = "/usr/bin/app",
};

/* On overlayfs the device and inode differ from those in maps. */
static const struct exe_identity overlay_exe = {
	.dev_major = 0,
	.dev_minor = 51,
	.inode = 999,
	.path = "/usr/bin/app",
};

/* An identity whose stat() failed: no inode, no path. */
static const struct exe_identity unknown_exe = { 0 };

static const struct classify_case classify_cases[] = {
	{ "libc", "/usr/lib/x86_64-linux-gnu/libc.so.6", false, 10, 8, 1,
	  &app_exe, ORIGIN_LIBC },
	{ "old glibc name", "/lib/x86_64-linux-gnu/libc-2.31.so", false, 11,
	  8, 1, NULL, ORIGIN_LIBC },
	{ "musl loader is libc", "/lib/ld-musl-x86_64.so.1", false, 12, 8, 1,
	  NULL, ORIGIN_LIBC },
	{ "loader", "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", false,
	  13, 8, 1, &app_exe, ORIGIN_LOADER },
	{ "vdso", "[vdso]", false, 0, 0, 0, &app_exe, ORIGIN_VDSO },
	{ "anonymous named like the vdso", "[anon:[vdso]]", false, 0, 0, 0,
	  &app_exe, ORIGIN_ANONYMOUS },
	{ "shared anonymous with a name", "[anon_shmem:buf]", false, 0, 0, 0,
	  NULL, ORIGIN_ANONYMOUS },
	{ "executable by device and inode", "/usr/bin/app", false, 500, 8, 1,
	  &app_exe, ORIGIN_EXECUTABLE },
	{ "executable by path on overlayfs", "/usr/bin/app", false, 600, 0,
	  50, &overlay_exe, ORIGIN_EXECUTABLE },
	{ "same inode on another device", "/mnt/other/tool", false, 500, 8, 2,
	  &app_exe, ORIGIN_LIBRARY },
	{ "unknown executable matches no inode 0 file",
	  "/usr/lib/x86_64-linux-gnu/libfoo.so", false, 0, 0, 0,
	  &unknown_exe, ORIGIN_LIBRARY },
	{ "library", "/usr/lib/x86_64-linux-gnu/libm.so.6", false, 14, 8, 1,
	  &app_exe, ORIGIN_LIBRARY },
	{ "library without exe identity", "/usr/lib/libssl.so.3", false, 15,
	  8, 1, NULL, ORIGIN_LIBRARY },
	{ "library named like libc", "/usr/lib/libcrypto.so.3", false, 16, 8,
	  1, NULL, ORIGIN_LIBRARY },
	{ "unnamed anonymous", NULL, false, 0, 0, 0, &app_exe,
	  ORIGIN_ANONYMOUS },
	{ "heap", "[heap]", false, 0, 0, 0, &app_exe, ORIGIN_HEAP },
	{ "stack", "[stack]", false, 0, 0, 0, &app_exe, ORIGIN_STACK },
	{ "memfd", "/memfd:x", true, 2048, 0, 1, &app_exe, ORIGIN_MEMFD },
	{ "deleted file", "/tmp/payload.so", true, 77, 8, 1, &app_exe,
	  ORIGIN_DELETED },
	{ "deleted libc", "/usr/lib/x86_64-linux-gnu/libc.so.6", true, 10, 8,
	  1, &app_exe, ORIGIN_DELETED },
	{ "shared anonymous", "/dev/zero", true, 3, 0, 5, &app_exe,
	  ORIGIN_ANONYMOUS },
	{ "System V shared memory", "/SYSV00000000", true, 32768, 0, 1,
	  &app_exe, ORIGIN_ANONYMOUS },
	{ "vvar", "[vvar]", false, 0, 0, 0, &app_exe, ORIGIN_UNKNOWN },
	{ "vsyscall", "[vsyscall]", false, 0, 0, 0, &app_exe,
	  ORIGIN_UNKNOWN },
	{ "anonymous inode file", "anon_inode:[perf_event]", false, 9, 0, 14,
	  &app_exe, ORIGIN_UNKNOWN },
};

Test(origin_classify, classifies_mapping_kinds)
{
	size_t n = ARRAY_SIZE(classify_cases);

	for (size_t i = 0; i < n; i++) {
		const struct classify_case *c = &classify_cases[i];
		struct mapping mapping = {
			.start = 0x7f0000000000,
			.end = 0x7f0000001000,
			.inode = c->inode,
			.dev_major = c->dev_major,
			.dev_minor = c->dev_minor,
			.perms = MAPPING_READ | MAPPING_EXEC,
			.deleted = c->deleted,
			.path = (char *)c->path,
		};
		enum origin_kind got = origin_classify(&mapping, c->exe);

		cr_expect_eq(got, c->expected, "%s: got %s, expected %s",
			     c->label, origin_kind_name(got),
			     origin_kind_name(c->expected));
	}
}

Test(origin_classify, returns_unknown_for_no_mapping)
{
	cr_expect_eq(origin_classify(NULL, &app_exe), ORIGIN_UNKNOWN);
	cr_expect_eq(origin_classify(NULL, NULL), ORIGIN_UNKNOWN);
}

/* The kernel's vDSO is the only [vdso] mapping with inode 0. */
Test(origin_classify, rejects_vdso_name_with_inode)
{
	struct mapping mapping = {
		.start = 0x7f0000000000,
		.end = 0x7f0000002000,
		.inode = 4242,
		.dev_major = 8,
		.dev_minor = 1,
		.perms = MAPPING_READ | MAPPING_EXEC,
		.path = "[vdso]",
	};

	cr_expect_neq(origin_classify(&mapping, &app_exe), ORIGIN_VDSO);
	cr_expect_neq(origin_classify(&mapping, NULL), ORIGIN_VDSO);
}

struct path_case {
	const char *path;
	bool expected;
};

static const struct path_case libc_paths[] = {
	{ "/usr/lib/x86_64-linux-gnu/libc.so.6", true },
	{ "libc.so.6", true },
	{ "/lib/x86_64-linux-gnu/libc-2.31.so", true },
	{ "/lib/libc.musl-x86_64.so.1", true },
	{ "/lib/ld-musl-x86_64.so.1", true },
	{ "/usr/lib/libc.so", true },
	{ "/usr/lib/libcrypt.so.1", false },
	{ "/usr/lib/libcrypto.so.3", false },
	{ "/opt/libc.so.6.bak", false },
	{ "/libc.so.6/evil.so", false },
	{ "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", false },
	{ "", false },
};

static const struct path_case loader_paths[] = {
	{ "/lib64/ld-linux-x86-64.so.2", true },
	{ "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", true },
	{ "/lib/ld-linux.so.2", true },
	{ "/libx32/ld-linux-x32.so.2", true },
	{ "/lib/x86_64-linux-gnu/ld-2.31.so", true },
	{ "/usr/lib/x86_64-linux-gnu/libc.so.6", false },
	{ "/usr/bin/ld", false },
	{ "/ld-linux-x86-64.so.2/evil.so", false },
	{ "", false },
};

Test(origin_is_libc_path, matches_base_name)
{
	size_t n = ARRAY_SIZE(libc_paths);

	for (size_t i = 0; i < n; i++)
		cr_expect_eq(origin_is_libc_path(libc_paths[i].path),
			     libc_paths[i].expected, "\"%s\": expected %d",
			     libc_paths[i].path, libc_paths[i].expected);
}

Test(origin_is_loader_path, matches_base_name)
{
	size_t n = ARRAY_SIZE(loader_paths);

	for (size_t i = 0; i < n; i++)
		cr_expect_eq(origin_is_loader_path(loader_paths[i].path),
			     loader_paths[i].expected, "\"%s\": expected %d",
			     loader_paths[i].path, loader_paths[i].expected);
}
