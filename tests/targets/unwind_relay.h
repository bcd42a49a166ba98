/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The interface of unwind_relay.c, a shared library that the unwind_chain
 * targets call through, linked or loaded with dlopen().
 */
#ifndef NATIVEMON_TARGETS_UNWIND_RELAY_H
#define NATIVEMON_TARGETS_UNWIND_RELAY_H

/* Receives the return address of each function of the chain. */
typedef void (*relay_record_fn)(void *return_address);
typedef long (*relay_next_fn)(long depth);

/*
 * Records its return address, calls a static function of the library
 * that records its own, and that one calls next(depth + 2).
 */
long relay_call(relay_next_fn next, relay_record_fn record, long depth);

#endif
