/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Two frames of the unwind_chain call chain inside a shared library:
 * relay_call(), exported, and relay_inner(), static, so that a stripped
 * copy of the library names only the first one (from .dynsym).
 */
#include "unwind_relay.h"

__attribute__((noinline, noclone)) static long
relay_inner(relay_next_fn next, relay_record_fn record, long depth)
{
	long result;

	record(__builtin_return_address(0));
	result = next(depth + 1);
	/* Keeps the call from becoming a tail call. */
	__asm__ volatile("" ::: "memory");
	return result + 1;
}

__attribute__((noinline)) long relay_call(relay_next_fn next,
					  relay_record_fn record, long depth)
{
	long result;

	record(__builtin_return_address(0));
	result = relay_inner(next, record, depth + 1);
	__asm__ volatile("" ::: "memory");
	return result + 1;
}
