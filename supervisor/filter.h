/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The seccomp filter: built from the policy's watch set with libseccomp in
 * the supervisor, then installed by the child with seccomp(2) directly, so
 * that the child can ask for flags libseccomp 2.5 does not know.
 */
#ifndef NATIVEMON_FILTER_H
#define NATIVEMON_FILTER_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

struct filter_program {
	struct sock_fprog fprog;
	bool notifies_all; /* built by filter_build_all() */
};

/* A native syscall that runs unnotified when argument arg equals value. */
struct filter_exemption {
	int nr;
	unsigned int arg; /* 0-5, as in seccomp_data.args */
	uint64_t value;
};

/*
 * Builds the BPF program: watched syscalls of the native ABI whose
 * argument conditions hold, and every syscall of another ABI, return
 * SECCOMP_RET_USER_NOTIF; everything else is allowed. Returns 0 or a
 * negative errno; *bad_watch is set to the watch libseccomp rejected, if
 * one was.
 */
int filter_build(const struct policy *policy, struct filter_program *program,
		 const struct policy_watch **bad_watch);

/*
 * Builds a BPF program that returns SECCOMP_RET_USER_NOTIF for every
 * syscall of every ABI, apart from the native calls that match one of the
 * count exemptions, which are allowed. Returns 0 or a negative errno.
 */
int filter_build_all(const struct filter_exemption *exemptions, size_t count,
		     struct filter_program *program);

/*
 * Writes the filter that filter_build() would make to fd as libseccomp's
 * readable pseudo filter code. Returns 0 or a negative errno, with
 * *bad_watch as filter_build() sets it.
 */
int filter_print(const struct policy *policy, int fd,
		 const struct policy_watch **bad_watch);

void filter_program_fini(struct filter_program *program);

/*
 * Returns true if the kernel, as libseccomp probes it, offers seccomp user
 * notification; else logs why not and how to fix it.
 */
bool filter_check_support(void);

/*
 * Installs the program on the calling thread and returns the listener fd,
 * or a negative errno. Asks for SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV and
 * falls back without it on kernels older than 5.19. *killable_recv is set
 * when the flag was accepted. Makes only seccomp(2) calls, so it is safe
 * in a forked child.
 */
int filter_install(const struct filter_program *program, bool *killable_recv);

#endif
