/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Declarations shared by the files of the policy library and by its fuzz
 * target: the parser's state, the tokens of one statement, the name tables
 * and the limits that keep hostile input bounded. Nothing here is part of
 * the interface that policy.h gives the supervisor.
 */
#ifndef NATIVEMON_POLICY_INTERNAL_H
#define NATIVEMON_POLICY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <bsd/sys/tree.h>

#include "policy/policy.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The maximum size of one policy file, in bytes. */
#define POLICY_FILE_MAX (4u << 20)
/* The deepest chain of includes below the file given to a load call. */
#define POLICY_INCLUDE_DEPTH_MAX 16
/*
 * Bounds on one load call. A file may include the same file many times
 * without a cycle, so without them sixteen levels of includes could
 * expand exponentially.
 */
#define POLICY_FILES_MAX 1024
#define POLICY_TEXT_MAX (64u << 20)
/* Loading stops after this many diagnostics, which bounds their memory. */
#define POLICY_DIAGNOSTICS_MAX 1000

/* Room for a value quoted in a message, escapes and ellipsis included. */
#define SHOWN_MAX 256

/* One token of a statement, with its escapes resolved. */
struct token {
	const char *text; /* NUL-terminated; contains no NUL */
	size_t length;
	unsigned int line, column;
	bool quoted;
};

/* A map from strings to indexes: a red-black tree from libbsd. */
struct string_map_entry {
	RB_ENTRY(string_map_entry) node;
	const char *key; /* not owned */
	size_t value;
};

RB_HEAD(string_map, string_map_entry);

void string_map_init(struct string_map *map);
void string_map_fini(struct string_map *map);
/* Returns 0 or -ENOMEM. Stores the key pointer, not a copy. */
int string_map_put(struct string_map *map, const char *key, size_t value);
bool string_map_get(const struct string_map *map, const char *key,
		    size_t *value);

/* One file being parsed, on the include stack. */
struct source {
	const char *name; /* owned by the policy's files */
	dev_t device;
	ino_t inode;
	bool has_identity; /* device and inode are set: not in-memory text */
};

struct parser {
	struct policy *policy;
	struct policy_diagnostics *diagnostics;
	size_t first_diagnostic; /* count when this load call started */
	/* Below this directory (or -1 for none) includes are opened with
	 * openat2(2) RESOLVE_IN_ROOT, so they cannot reach outside it. */
	int root_fd;
	struct source stack[POLICY_INCLUDE_DEPTH_MAX + 1];
	unsigned int depth; /* sources on the stack; the last is parsed */
	size_t files_loaded, text_loaded;
	bool stopped;		       /* too many diagnostics */
	struct string_map ids;	       /* rule id to rule index */
	struct string_map id_suffixes; /* derived id to next "-N" to try */
	bool ids_ready;
	char **syscall_names; /* x86-64 names first, then i386 names */
	size_t syscall_name_count, native_name_count;
};

/* Appends a diagnostic that takes over message. Returns 0 or -ENOMEM, and
 * frees message either way on failure. */
int append_diagnostic(struct policy_diagnostics *diagnostics, const char *file,
		      unsigned int line, unsigned int column, char *message);

/*
 * Appends a diagnostic at a token of the file being parsed (or at line 0
 * for the whole file when token is NULL). Returns -EINVAL, so a caller can
 * return its result as the statement's, or -ENOMEM.
 */
int parser_report(struct parser *parser, const struct token *token,
		  const char *format, ...)
	__attribute__((format(printf, 3, 4)));
int parser_report_at(struct parser *parser, const char *file, unsigned int line,
		     unsigned int column, const char *format, ...)
	__attribute__((format(printf, 5, 6)));

/* Writes text into buffer (SHOWN_MAX bytes) with control bytes escaped
 * and long values cut, for quoting a user's value in a message. */
const char *show_value(char *buffer, const char *text);

/* Statement parsers: return 0, -EINVAL after reporting, or -ENOMEM. */
int parse_rule(struct parser *parser, const struct token *tokens, size_t count);
int parse_watch(struct parser *parser, const struct token *tokens,
		size_t count);

/*
 * Like policy_load_text(), but includes are resolved below the directory
 * root_fd and can never open a file outside it, even through "..", an
 * absolute path or a symbolic link. The fuzz target uses it.
 */
int policy_load_text_in_root(struct policy *policy, int root_fd,
			     const char *name, const char *text, size_t length,
			     struct policy_diagnostics *diagnostics);

/* Splits a list value into a NULL-terminated array of copies. A quoted
 * token is one member. Returns 0, or -EINVAL after reporting or -ENOMEM
 * with *members set to NULL. */
int split_list(struct parser *parser, const struct token *token,
	       char ***members);
void free_list(char **members);
size_t list_length(char *const *members);

/* Rules: freeing the strings of one rule, and the canonical text. */
void policy_rule_fini(struct policy_rule *rule);
int format_rule(const struct policy_rule *rule, bool with_identity,
		char *buffer, size_t size);

/* names.c: the words of the language. */
extern const char *const policy_action_names[];
extern const size_t policy_action_count;
extern const char *const policy_event_names[EVENT_COUNT];
/* Parses a decimal, 0x hexadecimal or 0 octal number of length bytes.
 * Returns 0, -EINVAL or -ERANGE past 64 bits. */
int parse_number(const char *text, size_t length, uint64_t *number);

int lookup_name(const char *const *names, size_t count, const char *text);
const char *suggest_name(const char *text, const char *const *names,
			 size_t count);
int lookup_errno(const char *name);
const char *suggest_errno(const char *name);
const char *errno_name(int error);
int default_severity(enum policy_action action);

/* syscalls.c: syscall numbers, argument names and constants. */
int native_syscall_nr(const char *name);
bool is_syscall_name(const char *name);
bool is_compat_syscall_name(const char *name);
int load_syscall_names(struct parser *parser);
void free_syscall_names(struct parser *parser);
/* Returns the index of the named argument, -ENOENT when the syscall has
 * no argument of that name, or -ESRCH when its names are not known. */
int syscall_argument_index(const char *syscall, const char *argument);
const char *syscall_argument_name(const char *syscall, unsigned int arg);
size_t syscall_argument_names(const char *syscall, const char **names);
bool lookup_constant(const char *name, uint64_t *value);
const char *suggest_constant(const char *name);
const char *argument_constant_prefix(const char *syscall, unsigned int arg,
				     bool *flags);
size_t format_constants(const char *prefix, uint64_t value, bool flags,
			char *buffer, size_t size);

#endif
