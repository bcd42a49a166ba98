/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Starting the monitored command: fork, install the filter in the child,
 * pass its listener to the supervisor, and exec the command once the
 * supervisor is ready to respond.
 */
#ifndef NATIVEMON_LAUNCH_H
#define NATIVEMON_LAUNCH_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "filter.h"

/* Exit statuses of the child when it cannot run the command. */
#define LAUNCH_EXIT_SETUP_FAILED 125
#define LAUNCH_EXIT_CANNOT_EXECUTE 126
#define LAUNCH_EXIT_NOT_FOUND 127

/*
 * The calls the child makes before the supervisor can respond to them,
 * which a filter of filter_build_all() must leave unnotified.
 */
extern const struct filter_exemption launch_exemptions[];
extern const size_t launch_exemption_count;

struct launch {
	pid_t pid;
	int listener;
	int socket; /* to the child, until launch_exec_error() */
	bool killable_recv;
};

/*
 * Forks and starts argv[0] (searched in PATH like a shell) under the
 * filter. child_mask is the signal mask the command starts with. On
 * success the child is blocked in exec's prelude until launch_release().
 * Returns 0 or a negative errno; the child's own setup errors (such as
 * seccomp(2) failing) come back as their errno.
 */
int launch_start(char *const argv[], const struct filter_program *program,
		 bool no_new_privs, const sigset_t *child_mask,
		 struct launch *launch);

/* Lets the child exec the command. Returns 0 or a negative errno. */
int launch_release(struct launch *launch);

/*
 * Returns the errno with which the child failed to exec the command, or 0
 * when it did not report one: the exec succeeded, or the child died
 * before it. Call once the child has exited. Closes the socket.
 */
int launch_exec_error(struct launch *launch);

#endif
