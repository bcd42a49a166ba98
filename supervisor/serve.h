/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `nativemon serve`: listen on a unix socket for processes that the
 * preload shim attaches (NATIVEMON_SOCKET), and supervise each of them,
 * with its descendants, as one session until it ends.
 */
#ifndef NATIVEMON_SERVE_H
#define NATIVEMON_SERVE_H

#include <stdbool.h>

#include "policy/policy.h"

struct serve_options {
	const struct policy *policy; /* not owned */
	enum policy_mode mode;	     /* UNSET: the policy's mode */
	const char *log_path;	     /* NULL: no JSON Lines */
	bool quiet;		     /* no alert lines on stderr */
	const char *socket_path;
};

/*
 * Checks that the policy can serve attached processes: the shim calls
 * sendmsg between installing the filter and handing its listener over,
 * so a watch on sendmsg would leave it waiting forever. Prints the
 * problem. Returns 0 or -EINVAL.
 */
int serve_check_policy(const struct policy *policy);

/*
 * Serves until a signal stops it: SIGINT, SIGTERM or SIGHUP closes the
 * socket and waits for the attached sessions to end, and a second one
 * exits at once. Returns the exit status for nativemon: 0 after such a
 * stop, RUN_EXIT_FAILURE (run.h) if serving could not start or failed.
 */
int serve_command(const struct serve_options *options);

#endif
