/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The policy library: the watch set that decides which syscalls reach the
 * supervisor, and the ordered rules that decide what each event becomes
 * (silence, telemetry or an alert). It reads no files and has no side
 * effects, so the supervisor, the tools and the tests all link it.
 */
#ifndef NATIVEMON_POLICY_H
#define NATIVEMON_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The kind of memory that contains a syscall instruction or a mapped file. */
enum origin_kind {
	ORIGIN_UNKNOWN,
	ORIGIN_LIBC,
	ORIGIN_LOADER,
	ORIGIN_VDSO,
	ORIGIN_EXECUTABLE,
	ORIGIN_LIBRARY,
	ORIGIN_ANONYMOUS,
	ORIGIN_HEAP,
	ORIGIN_STACK,
	ORIGIN_MEMFD,
	ORIGIN_DELETED,
	ORIGIN_KIND_COUNT
};

/* The system call convention a syscall was made through. */
enum abi {
	ABI_X86_64,
	ABI_I386,
	ABI_X32,
	ABI_UNKNOWN,
};

/* The finding kind, written as ECS event.action. */
enum policy_event {
	EVENT_NATIVE_API,
	EVENT_DIRECT_SYSCALL,
	EVENT_UNBACKED_CALLER,
	EVENT_NON_NATIVE_ABI,
	EVENT_FILELESS_EXEC,
	EVENT_MODULE_LOAD,
	EVENT_STACK_PIVOT,
	EVENT_EXEC,
	EVENT_COUNT
};

enum policy_action {
	POLICY_ALLOW, /* silent */
	POLICY_LOG,   /* telemetry: ECS event.kind "event" */
	POLICY_ALERT, /* detection: ECS event.kind "alert" */
};

/* A three-way matcher for a boolean fact. */
enum policy_tristate {
	POLICY_ANY,
	POLICY_YES,
	POLICY_NO,
};

#define ORIGIN_BIT(kind) (1u << (kind))

/*
 * The facts one event is judged on. Strings may be NULL when the fact is
 * unknown; a rule that needs an unknown fact does not match.
 */
struct policy_facts {
	enum policy_event event;
	enum abi abi;
	const char *syscall; /* name in the caller's ABI */
	enum origin_kind origin; /* of the syscall instruction */
	const char *module;	 /* file holding the syscall instruction */
	const char *exe;	 /* executable of the calling process */
	const char *path;	 /* file loaded or executed; see path_unknown */
	bool path_unknown;	 /* that file's path could not be read */
	enum origin_kind file_kind; /* of that file: LIBRARY, MEMFD, DELETED */
	bool path_in_writable_dir;  /* some ancestor directory is o+w */
	bool libc_mapped;	    /* the process has a libc mapped */
	bool program_abi;	    /* the program was built for the call's ABI */
	uid_t uid;
};

struct policy_rule {
	const char *id;
	const char *name;
	enum policy_action action;
	int severity;		 /* ECS event.severity, 0-100 */
	const char *techniques;	 /* ATT&CK ids, comma-separated */
	enum policy_event event;
	const char *const *syscalls; /* NULL-terminated; NULL matches any */
	uint32_t origins;	     /* ORIGIN_BIT set; 0 matches any */
	uint32_t file_kinds;	     /* ORIGIN_BIT set; 0 matches any */
	const char *const *paths;    /* fnmatch(3) globs; NULL matches any */
	enum policy_tristate writable_dir;
	enum policy_tristate path_unknown;
	enum policy_tristate libc_mapped;
	enum policy_tristate program_abi;
};

/* The BPF comparison on a watched syscall's integer argument. */
enum policy_compare {
	POLICY_ALWAYS,	     /* no condition */
	POLICY_MASK_ANY,     /* (arg & value) != 0 */
};

/*
 * One entry of the watch set: the syscall reaches the supervisor when the
 * condition on argument arg holds. Several entries for one syscall OR
 * together.
 */
struct policy_watch {
	const char *syscall;
	enum policy_compare compare;
	unsigned int arg;
	uint64_t value;
};

struct policy {
	const struct policy_rule *rules;
	size_t rule_count;
	const struct policy_watch *watches;
	size_t watch_count;
};

/* Returns the policy compiled into nativemon. Never NULL. */
const struct policy *policy_default(void);

/*
 * Returns the first rule that matches the facts, or NULL when none does
 * (the event is then allowed silently).
 */
const struct policy_rule *policy_match(const struct policy *policy,
				       const struct policy_facts *facts);

bool policy_rule_matches(const struct policy_rule *rule,
			 const struct policy_facts *facts);

/* Names as they appear in events; "unknown" for out-of-range values. */
const char *origin_kind_name(enum origin_kind kind);
const char *abi_name(enum abi abi);
const char *policy_event_name(enum policy_event event);
const char *policy_action_name(enum policy_action action);

#endif
