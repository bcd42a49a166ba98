/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tests of ABI decoding: the ABI of seccomp_data's arch and nr, and syscall
 * names and numbers from libseccomp's tables for x86-64, i386 and x32.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <linux/audit.h>
#include <stddef.h>

#include "abi.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct decode_case {
	uint32_t arch;
	int nr;
	enum abi expected;
};

static const struct decode_case decode_cases[] = {
	{ AUDIT_ARCH_X86_64, 0, ABI_X86_64 },
	{ AUDIT_ARCH_X86_64, 59, ABI_X86_64 },
	{ AUDIT_ARCH_X86_64, ABI_X32_SYSCALL_BIT | 39, ABI_X32 },
	{ AUDIT_ARCH_X86_64, ABI_X32_SYSCALL_BIT | 520, ABI_X32 },
	{ AUDIT_ARCH_I386, 11, ABI_I386 },
	{ AUDIT_ARCH_I386, 20, ABI_I386 },
	{ AUDIT_ARCH_AARCH64, 221, ABI_UNKNOWN },
	{ AUDIT_ARCH_ARM, 11, ABI_UNKNOWN },
	{ 0, 59, ABI_UNKNOWN },
};

Test(abi_decode, decodes_arch_and_x32_bit)
{
	size_t n = ARRAY_SIZE(decode_cases);

	for (size_t i = 0; i < n; i++) {
		const struct decode_case *c = &decode_cases[i];
		enum abi got = abi_decode(c->arch, c->nr);

		cr_expect_eq(got, c->expected,
			     "arch %#x nr %#x: got %s, expected %s", c->arch,
			     c->nr, abi_name(got), abi_name(c->expected));
	}
}

struct name_case {
	enum abi abi;
	int nr;
	const char *expected; /* NULL: not a syscall of that ABI */
};

static const struct name_case name_cases[] = {
	{ ABI_X86_64, 59, "execve" },
	{ ABI_X86_64, 39, "getpid" },
	{ ABI_X86_64, 319, "memfd_create" },
	{ ABI_I386, 11, "execve" },
	{ ABI_I386, 20, "getpid" },
	{ ABI_X32, ABI_X32_SYSCALL_BIT | 39, "getpid" },
	{ ABI_X32, ABI_X32_SYSCALL_BIT | 520, "execve" },
	/* x32 calls execve through its own number, never 59. */
	{ ABI_X32, ABI_X32_SYSCALL_BIT | 59, NULL },
	/* 335 to 423 are unassigned on x86-64. */
	{ ABI_X86_64, 400, NULL },
	{ ABI_X86_64, -1, NULL },
	{ ABI_X86_64, 1024, NULL },
	{ ABI_X86_64, 100000, NULL },
	{ ABI_X86_64, INT_MAX, NULL },
	{ ABI_X86_64, INT_MIN, NULL },
	{ ABI_I386, 1023, NULL },
	{ ABI_I386, -20, NULL },
	{ ABI_X32, ABI_X32_SYSCALL_BIT | 5000, NULL },
	{ ABI_UNKNOWN, 39, NULL },
	{ (enum abi)42, 39, NULL },
};

Test(abi_syscall_name, names_calls_of_each_abi)
{
	size_t n = ARRAY_SIZE(name_cases);

	for (size_t i = 0; i < n; i++) {
		const struct name_case *c = &name_cases[i];
		const char *got = abi_syscall_name(c->abi, c->nr);

		if (!c->expected) {
			cr_expect_null(got, "%s nr %#x: got \"%s\"",
				       abi_name(c->abi), c->nr, got);
			continue;
		}
		cr_expect_not_null(got, "%s nr %#x: no name",
				   abi_name(c->abi), c->nr);
		if (got)
			cr_expect_str_eq(got, c->expected,
					 "%s nr %#x: got \"%s\"",
					 abi_name(c->abi), c->nr, got);
	}
}

Test(abi_syscall_name, returns_cached_string)
{
	const char *first = abi_syscall_name(ABI_I386, 20);
	const char *second = abi_syscall_name(ABI_I386, 20);

	cr_assert_not_null(first);
	cr_expect_eq(first, second);
}

Test(abi_syscall_name, keeps_missing_number_missing)
{
	cr_expect_null(abi_syscall_name(ABI_X86_64, 400));
	cr_expect_null(abi_syscall_name(ABI_X86_64, 400));
}

Test(abi_native_nr, resolves_names)
{
	cr_expect_eq(abi_native_nr("memfd_create"), 319);
	cr_expect_eq(abi_native_nr("execve"), 59);
	cr_expect_eq(abi_native_nr("getpid"), 39);
}

Test(abi_native_nr, returns_minus_one_for_unknown_name)
{
	cr_expect_eq(abi_native_nr("no_such_syscall"), -1);
	cr_expect_eq(abi_native_nr(""), -1);
}
