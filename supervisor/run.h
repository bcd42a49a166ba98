/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `nativemon run`: wrap a command, supervise its process tree until every
 * filtered task has exited, and exit with the command's status.
 */
#ifndef NATIVEMON_RUN_H
#define NATIVEMON_RUN_H

#include <stdbool.h>

#include "policy/policy.h"

/* Exit status when nativemon itself fails before or while supervising. */
#define RUN_EXIT_FAILURE 125
/* Exit status after a usage error or an invalid policy. */
#define RUN_EXIT_USAGE 2

struct baseline;
struct syscall_profile;

struct run_options {
	const struct policy *policy; /* not owned */
	enum policy_mode mode;	     /* UNSET: the policy's mode */
	const char *log_path;	     /* NULL: no JSON Lines */
	bool quiet;	      /* no alert lines on stderr */
	bool no_preload;      /* leave LD_PRELOAD alone */
	char **argv;	      /* the command, NULL-terminated */
	/* Learn every finding into this baseline, and deny nothing. */
	struct baseline *learning;
	/* When not NULL, set to whether the command's exec succeeded. */
	bool *started;
	/*
	 * Route every syscall to the supervisor and count them all in this
	 * profile (see monitor_profile()); NULL keeps the policy's watch set.
	 */
	struct syscall_profile *profile;
};

/*
 * Runs the command under the supervisor. Returns the exit status for
 * nativemon: the command's, 128 + N if signal N killed it, or
 * RUN_EXIT_FAILURE.
 */
int run_command(const struct run_options *options);

#endif
