/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Loading the policy that the command line selects, with its diagnostics
 * printed for the user, and the `nativemon policy` subcommand that checks
 * and shows policies without running anything.
 */
#ifndef NATIVEMON_POLICY_COMMAND_H
#define NATIVEMON_POLICY_COMMAND_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/policy.h"

/* The policy files of a command line, layered over the default. */
struct policy_selection {
	const char **paths; /* in the order given; rules match in this order */
	size_t count;
	bool without_default; /* --no-default-policy */
};

/*
 * Loads the selected files, then the default policy unless it is left
 * out, and builds the filter once to catch watches libseccomp rejects.
 * Prints every problem as `FILE:LINE:COLUMN: message` on stderr. Returns
 * the policy, which the caller frees with policy_free(), or NULL after
 * printing why.
 */
struct policy *policy_command_load(const struct policy_selection *selection);

/*
 * Runs `nativemon policy check FILE...` or `nativemon policy show
 * [FILE...]`; argv[0] is "policy". Returns the exit status.
 */
int policy_command_main(int argc, char **argv);

#endif
