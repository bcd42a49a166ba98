/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The policy library: the watch set that decides which syscalls reach the
 * supervisor, and the ordered rules that decide what each event becomes
 * (silence, telemetry, an alert, a denied call or a killed process). It
 * parses the policy language of nativemon.policy(5). Apart from reading the
 * files it is given it has no side effects, so the supervisor, the tools
 * and the tests all link it.
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

/*
 * The way a module-load arrived. The preload shim's reports distinguish the
 * loader's own mappings. Any other code that maps a file executable makes
 * a manual map, as reflective loaders do.
 */
enum load_source {
	LOAD_SOURCE_UNKNOWN,
	LOAD_SOURCE_LOADER, /* the program's dependencies, at start-up */
	LOAD_SOURCE_DLOPEN,
	LOAD_SOURCE_DLMOPEN,
	LOAD_SOURCE_MANUAL_MAP,
	LOAD_SOURCE_COUNT
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

/* Ordered by strength: when one call yields several findings, the
 * strongest action decides what happens to the call. */
enum policy_action {
	POLICY_ALLOW, /* silent */
	POLICY_LOG,   /* telemetry: ECS event.kind "event" */
	POLICY_ALERT, /* detection: ECS event.kind "alert" */
	POLICY_DENY,  /* the call fails with the rule's errno; an alert */
	POLICY_KILL,  /* the calling process is killed; an alert */
};

/* Whether deny and kill are carried out or only reported as would-deny
 * and would-kill. */
enum policy_mode {
	POLICY_MODE_UNSET,
	POLICY_MODE_MONITOR,
	POLICY_MODE_ENFORCE,
};

/* A three-way matcher for a boolean fact. */
enum policy_tristate {
	POLICY_ANY,
	POLICY_YES,
	POLICY_NO,
};

#define ORIGIN_BIT(kind) (1u << (kind))
#define ABI_BIT(abi) (1u << (abi))

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
	const char *caller;	 /* first frame's file outside libc, loader */
	bool offset_known;	 /* offset is set, as module is */
	uint64_t offset;	 /* file offset of the syscall instruction */
	const char *build_id;	 /* module's GNU build-id, lower-case hex */
	bool caller_offset_known;
	uint64_t caller_offset; /* file offset of the caller frame's address */
	const char *caller_build_id; /* caller's GNU build-id, lower-case hex */
	bool caller_origin_known;    /* caller_origin is set */
	enum origin_kind caller_origin; /* of the caller frame's memory */
	const char *exe;	 /* executable of the calling process */
	const char *path;	 /* file loaded or executed; see path_unknown */
	bool path_unknown;	 /* that file's path could not be read */
	const char *file_build_id;  /* that file's build-id, lower-case hex */
	enum origin_kind file_kind; /* of that file: LIBRARY, MEMFD, DELETED */
	enum load_source load_source; /* of a module-load */
	bool path_in_writable_dir;  /* some ancestor directory is o+w */
	bool libc_mapped;	    /* the process has a libc mapped */
	bool program_abi;	    /* the program was built for the call's ABI */
	bool uid_known;
	uid_t uid; /* real uid of the caller, as user.id */
	const char *const *ancestors; /* executables, parent first */
	size_t ancestor_count;
};

/* The source line of a rule or watch, for messages and `policy show`. */
struct policy_location {
	const char *file; /* owned by the policy; "<default>" for built-ins */
	unsigned int line;
};

/* The file offsets of a rule matcher. A count of 0 matches any offset. */
struct policy_offsets {
	uint64_t *values;
	size_t count;
};

/* The max length of a GNU build-id in a rule, in hex digits (64 bytes). */
#define POLICY_BUILD_ID_HEX_MAX 128

/*
 * One rule. String lists are NULL-terminated; a NULL list matches any
 * value. All strings are owned by the policy that contains the rule.
 */
struct policy_rule {
	char *id;	  /* given with `id`, or derived from the rule's text */
	char *name;	  /* given with `name`, or the rule's text */
	enum policy_action action;
	int severity;	  /* ECS event.severity, 0-100 */
	char *techniques; /* ATT&CK ids, comma-separated; may be empty */
	int deny_errno;	  /* positive errno of a deny rule */
	enum policy_event event;
	char **syscalls;   /* names, compared with the caller's ABI's name */
	uint32_t origins;  /* ORIGIN_BIT set; 0 matches any */
	uint32_t file_kinds; /* ORIGIN_BIT set; 0 matches any */
	uint32_t load_sources; /* bits of enum load_source; 0 matches any */
	uint32_t abis;	     /* ABI_BIT set; 0 matches any */
	char **modules;	     /* fnmatch(3) globs */
	char **callers;
	struct policy_offsets offsets;	      /* of the syscall instruction */
	char *build_id;			      /* lower-case hex, NULL for any */
	struct policy_offsets caller_offsets; /* of the caller frame */
	char *caller_build_id;		      /* lower-case hex, NULL for any */
	uint32_t caller_origins; /* ORIGIN_BIT set; 0 matches any */
	char **paths;
	char *file_build_id; /* lower-case hex, NULL for any */
	char **exes;
	char **ancestors;
	uid_t *uids;	     /* uid_count entries; none matches any */
	size_t uid_count;
	enum policy_tristate writable_dir;
	enum policy_tristate path_unknown;
	enum policy_tristate libc_mapped;
	enum policy_tristate program_abi;
	struct policy_location location;

	/* Private to the library. */
	bool default_name; /* name is the rule's text: formats leave it out */
	bool default_id;   /* id derived from the rule's text */
};

/* The BPF comparison on a watched syscall's integer argument. */
enum policy_compare {
	POLICY_ALWAYS,	 /* no condition */
	POLICY_MASK_ANY, /* (arg & mask) != 0 */
	POLICY_MASK_EQ,	 /* (arg & mask) == value */
	POLICY_EQ,	 /* arg == value */
	POLICY_NE,
	POLICY_LT, /* unsigned, as seccomp compares */
	POLICY_LE,
	POLICY_GT,
	POLICY_GE,
};

/*
 * One entry of the watch set: the syscall reaches the supervisor when the
 * condition on argument arg (0-5, as in seccomp_data.args) holds. Entries
 * for one syscall OR together, so an unconditional entry watches every
 * call. Conditions apply to the native ABI: every i386 and x32 syscall
 * reaches the supervisor.
 */
struct policy_watch {
	char *syscall;
	int nr; /* native syscall number, resolved through libseccomp */
	enum policy_compare compare;
	unsigned int arg;
	uint64_t mask;	/* MASK_ANY and MASK_EQ */
	uint64_t value; /* all but ALWAYS and MASK_ANY */
	struct policy_location location;
};

/* Facts that cost the supervisor a read of /proc or of a file. It gathers
 * them only when a rule uses them, as the needs field of struct policy
 * records. */
#define POLICY_NEEDS_UID (1u << 0)
#define POLICY_NEEDS_ANCESTRY (1u << 1)
#define POLICY_NEEDS_CALLER (1u << 2)
#define POLICY_NEEDS_BUILD_ID (1u << 3)	       /* of the syscall's module */
#define POLICY_NEEDS_CALLER_BUILD_ID (1u << 4) /* of the caller's module */
/* The build-id of the file loaded or executed. */
#define POLICY_NEEDS_FILE_BUILD_ID (1u << 5)

struct policy {
	struct policy_rule *rules; /* in matching order */
	size_t rule_count;
	struct policy_watch *watches;
	size_t watch_count;
	enum policy_mode mode;
	struct policy_location mode_location;
	unsigned int needs; /* POLICY_NEEDS_* of all rules */

	/* Private to the library. */
	size_t rule_capacity, watch_capacity;
	char **files; /* names for locations, and for include cycles */
	size_t file_count;
};

/* One problem found while loading a policy, for `FILE:LINE:COLUMN: text`.
 * Line and column count from 1; 0 means the whole file or line. */
struct policy_diagnostic {
	char *file;
	unsigned int line, column;
	char *message;
};

struct policy_diagnostics {
	struct policy_diagnostic *items;
	size_t count, capacity;
};

void policy_diagnostics_init(struct policy_diagnostics *diagnostics);
void policy_diagnostics_fini(struct policy_diagnostics *diagnostics);

/* Returns an empty policy (no rules, no watches, mode unset) or NULL when
 * out of memory. policy_free() accepts NULL. */
struct policy *policy_new(void);
void policy_free(struct policy *policy);

/*
 * Appends the rules and watches of the file at path, and of the files it
 * includes, to the policy. Every problem is appended to diagnostics and
 * loading goes on past it, so one run reports all of them. Returns 0, or
 * -EINVAL when diagnostics were added (the policy then contains the valid
 * statements only and must not be used to run anything), or -ENOMEM.
 */
int policy_load_file(struct policy *policy, const char *path,
		     struct policy_diagnostics *diagnostics);

/*
 * Like policy_load_file() for text in memory, named name in diagnostics.
 * An include is resolved relative to the directory of name.
 */
int policy_load_text(struct policy *policy, const char *name,
		     const char *text, size_t length,
		     struct policy_diagnostics *diagnostics);

/* Appends the default policy compiled into nativemon, named "<default>". */
int policy_load_default(struct policy *policy,
			struct policy_diagnostics *diagnostics);

/* The text of policy/default.policy, generated at build time. */
extern const char policy_default_text[];

/*
 * Returns the first rule that matches the facts, or NULL when none does
 * (the event is then allowed silently).
 */
const struct policy_rule *policy_match(const struct policy *policy,
				       const struct policy_facts *facts);

bool policy_rule_matches(const struct policy_rule *rule,
			 const struct policy_facts *facts);

/*
 * Returns true if the watch set routes the native (x86-64) syscall nr with
 * arguments args to the supervisor: some watch of nr has a condition that
 * args meet, compared as the seccomp filter compares them (64 bits,
 * unsigned). It does not count the preload shim's prctl reports, which
 * the filter routes as well, nor the i386 and x32 calls that always reach
 * the supervisor.
 */
bool policy_watch_set_covers(const struct policy *policy, int nr,
			     const uint64_t args[6]);

/* Returns the mode, enforce when no file set one. */
enum policy_mode policy_effective_mode(const struct policy *policy);

/*
 * Formats the rule or the watch as one statement of the policy language
 * into buffer, always with its event and with matchers in a fixed order,
 * so that parsing the output gives the same rule. Returns the length that
 * the full text needs, as snprintf(3) does.
 */
int policy_rule_format(const struct policy_rule *rule, char *buffer,
		       size_t size);
int policy_watch_format(const struct policy_watch *watch, char *buffer,
			size_t size);

/*
 * Formats the rule as its author wrote it: like policy_rule_format(), but
 * without an id that was derived from the rule's text. Rules that differ
 * only in their place in a file format the same.
 */
int policy_rule_format_written(const struct policy_rule *rule, char *buffer,
			       size_t size);

/*
 * Copies text into buffer with a backslash before each byte that fnmatch(3)
 * treats as special, so that a glob matcher matches exactly that text.
 * Returns the length that the full copy needs, as snprintf(3) does.
 */
size_t policy_glob_escape(const char *text, char *buffer, size_t size);

/* Names as they appear in events and policies; "unknown" for out-of-range
 * values. */
const char *origin_kind_name(enum origin_kind kind);
const char *load_source_name(enum load_source source);
const char *abi_name(enum abi abi);
const char *policy_event_name(enum policy_event event);
const char *policy_action_name(enum policy_action action);
const char *policy_mode_name(enum policy_mode mode);

#endif
