/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `nativemon learn`: run a command like `nativemon run`, note every
 * finding of its process tree as the baseline rule that would allow it,
 * and write the baseline (policy/baseline.h) as a policy file.
 */
#ifndef NATIVEMON_LEARN_H
#define NATIVEMON_LEARN_H

#include <stdbool.h>

#include "policy/baseline.h"
#include "policy/policy.h"
#include "proc.h"
#include "target.h"

/* The facts that learning pins each rule to, as POLICY_NEEDS_* bits. */
#define LEARN_NEEDS                                                   \
	(POLICY_NEEDS_CALLER | POLICY_NEEDS_BUILD_ID |                \
	 POLICY_NEEDS_CALLER_BUILD_ID | POLICY_NEEDS_FILE_BUILD_ID)

struct learn_options {
	const struct policy *policy; /* the policy the command runs under */
	const char *output;	     /* the baseline file, "-" for stdout */
	bool append;		     /* merge into the rules of output */
	enum policy_mode mode;	     /* of the baseline; UNSET: alert */
	const char *log_path;	     /* NULL: no JSON Lines */
	bool no_preload;
	/* Route every syscall and append the syscall profile to output. */
	bool all_syscalls;
	char **argv; /* the command, NULL-terminated */
};

/*
 * Notes one finding in baseline as the rule that matches it and calls
 * like it: the same event at the same call site of the same build. rule
 * is the one the policy chose (NULL for none): a finding that it allows
 * is learned as allowed, any other one as logged, so a baseline keeps the
 * telemetry and silences the alerts of what it has seen. The command line
 * of args (a new program's) or else of process is the rule's example.
 */
void learn_note(struct baseline *baseline, const struct policy_facts *facts,
		const struct policy_rule *rule, struct process *process,
		const struct target_args *args);

/*
 * Runs the command and writes its baseline. Returns the exit status for
 * nativemon, as run_command() does, or RUN_EXIT_FAILURE when the baseline
 * could not be written (the file then keeps its earlier contents).
 */
int learn_command(const struct learn_options *options);

#endif
