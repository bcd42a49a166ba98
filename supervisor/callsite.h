/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Recognition of x86-64 call instructions from the bytes in front of a
 * return address. A value on a stack is taken for a return address only if
 * a call instruction ends exactly where it points, which is what separates
 * real frames from stale or forged words.
 */
#ifndef NATIVEMON_CALLSITE_H
#define NATIVEMON_CALLSITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The maximum length of a recognized call: REX, FF, ModRM, SIB, disp32. */
#define CALLSITE_BYTES_MAX 8

enum callsite_kind {
	CALLSITE_NONE,
	CALLSITE_DIRECT,   /* E8 rel32: the target is known */
	CALLSITE_INDIRECT, /* FF /2: through a register or memory */
};

struct callsite {
	enum callsite_kind kind;
	uint8_t length;	 /* bytes of the instruction, prefixes excluded */
	uint64_t target; /* CALLSITE_DIRECT only */
};

/*
 * Decodes the call instruction that ends at return_address. before
 * contains the length bytes that precede return_address in the target,
 * fewer than
 * CALLSITE_BYTES_MAX only when return_address is near the start of its
 * mapping. Returns true and fills *site if the bytes end with a call.
 *
 * The test is a heuristic: code bytes that only look like a call, such as
 * FF D0 inside a longer instruction, also pass. Prefer a direct call when
 * both readings fit, because its target can be checked.
 */
bool callsite_decode(const uint8_t *before, size_t length,
		     uint64_t return_address, struct callsite *site);

#endif
