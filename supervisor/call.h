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
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy/policy.h"
#include "module.h"
#include "proc.h"
#include "target.h"
#include "unwind.h"

/*
 * The maximum number of findings of one call. A call yields at most seven:
 * exec and fileless-exec found after an exec, direct-syscall or
 * unbacked-caller, stack-pivot, exec and fileless-exec of the call itself
 * or a module-load, and native-api.
 */
#define CALL_FINDINGS_MAX 8

/* A call changes at most one range; more marks everything out of date. */
#define CALL_CHANGES_MAX 2

struct mapping_change {
	uint64_t start;
	uint64_t length; /* 0: anywhere */
};

/* The fate of the syscall, written as nativemon.verdict. */
enum call_verdict {
	VERDICT_ALLOW,	    /* the call runs */
	VERDICT_DENY,	    /* the call fails with deny_errno */
	VERDICT_KILL,	    /* the calling process is killed */
	VERDICT_WOULD_DENY, /* monitor mode: a deny rule matched */
	VERDICT_WOULD_KILL, /* monitor mode: a kill rule matched */
};

struct finding {
	enum policy_event event;
	const struct policy_rule *rule;
	bool reported; /* the rule logs or alerts, so a record is written */
	bool has_file;
	struct target_file file; /* the module loaded or program executed */
	bool in_writable_dir;
	struct target_args args; /* the new argv of an exec */
	bool after_exec; /* found from the new image, not from the exec call */
	bool static_program; /* an exec of a program without PT_INTERP */

	/* Of a module-load: how the module arrived, and who asked for it. */
	enum load_source load_source;
	const struct load_request *load; /* the shim's report, or NULL */
	const char *load_caller;	 /* file of the code that asked */
	int map_fd; /* the target's descriptor of the file mapped, or -1 */
	bool has_digest; /* digest is set */
	struct module_digest digest;
	char file_build_id[2 * MODULE_BUILD_ID_MAX + 1]; /* hex of digest's */

	/*
	 * The rule keeps the event and its window is not folding: a draft
	 * of its record is made by record_draft_new() after the response.
	 */
	bool record_due;
	char fold_key[TARGET_PATH_MAX + 128]; /* empty: never folded */
	char summary[1024];		      /* empty: no stderr line */
};

/* The executables of the caller's lineage, nearest first. */
struct ancestry {
	const char *exes[LINEAGE_MAX]; /* owned by the process's lineage */
	size_t count;
};

struct call {
	/*
	 * The attach session of the listener, numbered by `nativemon serve`
	 * from 1; 0 under `nativemon run`.
	 */
	unsigned long session;

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
	bool has_module; /* module, its offset, device and inode are set */
	uint64_t module_offset;
	dev_t module_device; /* of the file, as the maps show it */
	uint64_t module_inode;
	bool has_pointers; /* sp and stack_ip were read from /proc */
	uint64_t sp;
	uint64_t stack_ip;
	bool pivoted;		    /* sp is outside the thread's stacks */
	bool has_stack;		    /* stack is set */
	const struct frame *caller; /* in stack; NULL when unknown */
	size_t finding_count;
	size_t changed_count;

	/* Read only when a rule of the policy or a record uses them. */
	bool has_ids;
	struct procfs_ids ids;
	struct ancestry ancestry;
	bool has_build_id;	  /* build_id is set */
	bool has_caller_build_id; /* caller_build_id is set */

	/*
	 * Facts of the caller that records need from /proc. They are read
	 * while the caller still waits, because records are built after the
	 * response.
	 */
	bool has_record_facts; /* read_record_facts() ran */
	bool has_cwd;	       /* cwd is set */
	bool has_parent_exe;   /* parent_exe is set */

	/* From the strongest rule over all findings; see judge(). */
	enum call_verdict verdict;
	int deny_errno; /* positive; for DENY and KILL */

	/*
	 * The large members come last: read_request() clears the call up to
	 * here only, and the counts and flags above mark which of them are set.
	 */
	char module[TARGET_PATH_MAX];
	/* GNU build-ids of module and of the caller's module, in hex. */
	char build_id[2 * MODULE_BUILD_ID_MAX + 1];
	char caller_build_id[2 * MODULE_BUILD_ID_MAX + 1];
	char cwd[TARGET_PATH_MAX];
	char parent_exe[TARGET_PATH_MAX]; /* when the lineage has no parent */
	struct stack stack; /* of the blocked thread, x86-64 only */
	struct finding findings[CALL_FINDINGS_MAX];
	/* Mapping changes the call will make; see mark_changed(). */
	struct mapping_change changed[CALL_CHANGES_MAX];
};

/* The part of struct call that read_request() clears. */
#define CALL_CLEARED_SIZE offsetof(struct call, module)

#endif
