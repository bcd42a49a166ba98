/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tests of call-instruction recognition from the bytes in front of a
 * return address, as a table of encodings that compilers emit and of
 * near misses.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdint.h>

#include "callsite.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define RETURN_ADDRESS 0x401000ull

struct decode_case {
	const char *name;
	uint8_t bytes[CALLSITE_BYTES_MAX];
	size_t length;
	bool is_call;
	enum callsite_kind kind;
	uint8_t instruction_length;
	uint64_t target;
};

/* clang-format off: one case per block of three lines */
static const struct decode_case cases[] = {
	{ "call rel32 forward",
	  { 0x90, 0x90, 0x90, 0xe8, 0x10, 0, 0, 0 }, 8,
	  true, CALLSITE_DIRECT, 5, RETURN_ADDRESS + 0x10 },
	{ "call rel32 backward",
	  { 0x90, 0x90, 0x90, 0xe8, 0xf0, 0xff, 0xff, 0xff }, 8,
	  true, CALLSITE_DIRECT, 5, RETURN_ADDRESS - 0x10 },
	{ "call rax",
	  { 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0xff, 0xd0 }, 8,
	  true, CALLSITE_INDIRECT, 2, 0 },
	{ "call r11 with REX",
	  { 0x90, 0x90, 0x90, 0x90, 0x90, 0x41, 0xff, 0xd3 }, 8,
	  true, CALLSITE_INDIRECT, 2, 0 },
	{ "call [rax]",
	  { 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0xff, 0x10 }, 8,
	  true, CALLSITE_INDIRECT, 2, 0 },
	{ "call [rax+disp8]",
	  { 0x90, 0x90, 0x90, 0x90, 0x90, 0xff, 0x50, 0x08 }, 8,
	  true, CALLSITE_INDIRECT, 3, 0 },
	{ "call [rsp+disp8] with SIB",
	  { 0x90, 0x90, 0x90, 0x90, 0xff, 0x54, 0x24, 0x08 }, 8,
	  true, CALLSITE_INDIRECT, 4, 0 },
	{ "call [rip+disp32]",
	  { 0x90, 0x90, 0xff, 0x15, 0x10, 0x20, 0x30, 0x00 }, 8,
	  true, CALLSITE_INDIRECT, 6, 0 },
	{ "call [rax+disp32]",
	  { 0x90, 0x90, 0xff, 0x90, 0x10, 0x20, 0x30, 0x00 }, 8,
	  true, CALLSITE_INDIRECT, 6, 0 },
	{ "call [rax*8+disp32]",
	  { 0x90, 0xff, 0x14, 0xc5, 0x10, 0x20, 0x30, 0x00 }, 8,
	  true, CALLSITE_INDIRECT, 7, 0 },
	{ "call [r12+disp32] with REX",
	  { 0x41, 0xff, 0x94, 0x24, 0x10, 0x20, 0x30, 0x00 }, 8,
	  true, CALLSITE_INDIRECT, 7, 0 },
	{ "jmp rax is no call",
	  { 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0xff, 0xe0 }, 8,
	  false, CALLSITE_NONE, 0, 0 },
	{ "push [rax] is no call",
	  { 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0xff, 0x30 }, 8,
	  false, CALLSITE_NONE, 0, 0 },
	{ "ModRM needing disp8 is cut",
	  { 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0xff, 0x50 }, 8,
	  false, CALLSITE_NONE, 0, 0 },
	{ "ret padding is no call",
	  { 0xc3, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc }, 8,
	  false, CALLSITE_NONE, 0, 0 },
	{ "too few bytes",
	  { 0xd0 }, 1,
	  false, CALLSITE_NONE, 0, 0 },
	{ "rel32 call at mapping start",
	  { 0xe8, 0x00, 0x00, 0x00, 0x00 }, 5,
	  true, CALLSITE_DIRECT, 5, RETURN_ADDRESS },
};
/* clang-format on */

/*
 * Criterion copies parameters into the worker, where pointers into the
 * table would not be valid, so the parameters are indexes.
 */
ParameterizedTestParameters(callsite_decode, table)
{
	static int indexes[ARRAY_SIZE(cases)];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		indexes[i] = (int)i;
	return cr_make_param_array(int, indexes, ARRAY_SIZE(indexes));
}

ParameterizedTest(int *index, callsite_decode, table)
{
	const struct decode_case *c = &cases[*index];
	struct callsite site;
	bool is_call = callsite_decode(c->bytes, c->length, RETURN_ADDRESS,
				       &site);

	cr_assert_eq(is_call, c->is_call, "%s: decoded as call: %d", c->name,
		     is_call);
	cr_assert_eq(site.kind, c->kind, "%s: kind %d", c->name, site.kind);
	cr_assert_eq(site.length, c->instruction_length, "%s: length %u",
		     c->name, site.length);
	cr_assert_eq(site.target, c->target, "%s: target %#llx", c->name,
		     (unsigned long long)site.target);
}
