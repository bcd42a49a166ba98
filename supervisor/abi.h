/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Decoding of the system call convention of a notification: which ABI the
 * caller used and the syscall's name in that ABI's table.
 */
#ifndef NATIVEMON_ABI_H
#define NATIVEMON_ABI_H

#include <stdint.h>

#include "policy/policy.h"

/* The x32 ABI marks its syscall numbers with this bit on x86-64. */
#define ABI_X32_SYSCALL_BIT 0x40000000

/* Returns the ABI of a syscall from seccomp_data's arch and nr fields. */
enum abi abi_decode(uint32_t audit_arch, int nr);

/*
 * Returns the syscall's name in the ABI's table, or NULL when the number
 * is not a known syscall. The string is owned by a process-wide cache and
 * lives until exit. Not thread-safe.
 */
const char *abi_syscall_name(enum abi abi, int nr);

/* Returns the native (x86-64) number of a syscall name, or -1. */
int abi_native_nr(const char *name);

#endif
