/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One watched syscall, as read from its notification and /proc, and the
 * findings derived from it. Valid only while that notification is being
 * handled.
 */
#ifndef NATIVEMON_CALL_H
#define NATIVEMON_CALL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy/policy.h"
#include "proc.h"
#include "target.h"

/*
 * The maximum number of findings of one call. A call yields at most five:
 * exec and fileless-exec found after an exec, direct-syscall, module-load
 * and native-api.
 */
#define CALL_FINDINGS_MAX 6

struct finding {
	enum policy_event event;
	const struct policy_rule *rule;
	bool reported; /* the rule logs or alerts, so a record is written */
	bool has_file;
	struct target_file file; /* the module loaded or program executed */
	bool in_writable_dir;
	struct target_args args; /* the new argv of an exec */
	bool after_exec; /* found from the new image, not from the exec call */

	/* Built by record_build() when the rule keeps the event. */
	json_t *record;
	char fold_key[TARGET_PATH_MAX + 128]; /* empty: never folded */
	char summary[1024];		      /* empty: no stderr line */
};

struct call {
	/* From the kernel's notification. */
	pid_t tid;
	enum abi abi;
	int nr;
	const char *name; /* NULL for a number outside the ABI's table */
	uint64_t args[6];
	uint64_t ip; /* after the syscall instruction */

	/* From /proc, valid only if the notification still is. */
	struct process *process;
	pid_t tgid;
	uint64_t address; /* of the syscall instruction */
	enum origin_kind origin;
	bool origin_unreadable; /* the maps could not be read: origin unknown */
	bool has_module;
	char module[TARGET_PATH_MAX];
	uint64_t module_offset;

	struct finding findings[CALL_FINDINGS_MAX];
	size_t finding_count;
};

#endif
