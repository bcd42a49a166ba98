/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The syscall profile of `nativemon learn --all-syscalls`: how many calls
 * of each syscall each module made, written as comments after a baseline.
 */
#ifndef NATIVEMON_PROFILE_H
#define NATIVEMON_PROFILE_H

#include <stdio.h>

/* The module of calls whose code lies in memory without a file. */
#define PROFILE_NO_FILE "memory without a file"

struct syscall_profile;

/* Returns an empty profile, or NULL without memory. */
struct syscall_profile *syscall_profile_new(void);
void syscall_profile_free(struct syscall_profile *profile);

/*
 * Counts one call of syscall from module, a file path or PROFILE_NO_FILE.
 * Copies both strings. Returns 0 or -ENOMEM.
 */
int syscall_profile_count(struct syscall_profile *profile, const char *module,
			  const char *syscall);

/* Returns the number of calls counted. */
unsigned long syscall_profile_total(const struct syscall_profile *profile);

/*
 * Writes the profile to out as comment lines of the policy language,
 * sorted by module, then syscall name, so that the same calls always give
 * the same bytes. Control bytes of a path are written as '?'. Returns 0,
 * or -EIO when out failed.
 */
int syscall_profile_write(const struct syscall_profile *profile, FILE *out);

#endif
