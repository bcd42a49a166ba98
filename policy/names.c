/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The words of the policy language and of events: names of actions, events,
 * origin kinds, ABIs, modes and errno values, their reverse lookup, and the
 * "did you mean" suggestion for a misspelt name.
 */
#include "policy/internal.h"

#include <ctype.h>
#include <string.h>

static const char *const origin_kind_names[ORIGIN_KIND_COUNT] = {
	[ORIGIN_UNKNOWN] = "unknown",	    [ORIGIN_LIBC] = "libc",
	[ORIGIN_LOADER] = "loader",	    [ORIGIN_VDSO] = "vdso",
	[ORIGIN_EXECUTABLE] = "executable", [ORIGIN_LIBRARY] = "library",
	[ORIGIN_ANONYMOUS] = "anonymous",   [ORIGIN_HEAP] = "heap",
	[ORIGIN_STACK] = "stack",	    [ORIGIN_MEMFD] = "memfd",
	[ORIGIN_DELETED] = "deleted",
};

static const char *const load_source_names[LOAD_SOURCE_COUNT] = {
	[LOAD_SOURCE_UNKNOWN] = "unknown",
	[LOAD_SOURCE_LOADER] = "loader",
	[LOAD_SOURCE_DLOPEN] = "dlopen",
	[LOAD_SOURCE_DLMOPEN] = "dlmopen",
	[LOAD_SOURCE_MANUAL_MAP] = "manual-map",
};

const char *const policy_event_names[EVENT_COUNT] = {
	[EVENT_NATIVE_API] = "native-api",
	[EVENT_DIRECT_SYSCALL] = "direct-syscall",
	[EVENT_UNBACKED_CALLER] = "unbacked-caller",
	[EVENT_NON_NATIVE_ABI] = "non-native-abi",
	[EVENT_FILELESS_EXEC] = "fileless-exec",
	[EVENT_MODULE_LOAD] = "module-load",
	[EVENT_STACK_PIVOT] = "stack-pivot",
	[EVENT_EXEC] = "exec",
};

const char *const policy_action_names[] = {
	[POLICY_ALLOW] = "allow", [POLICY_LOG] = "log",
	[POLICY_ALERT] = "alert", [POLICY_DENY] = "deny",
	[POLICY_KILL] = "kill",
};

const size_t policy_action_count = ARRAY_SIZE(policy_action_names);

static const char *const abi_names[] = {
	[ABI_X86_64] = "x86_64",
	[ABI_I386] = "i386",
	[ABI_X32] = "x32",
};

static const char *const mode_names[] = {
	[POLICY_MODE_UNSET] = "unset",
	[POLICY_MODE_MONITOR] = "monitor",
	[POLICY_MODE_ENFORCE] = "enforce",
};

/* Severities of rules without `severity`: ECS's low, medium and high bands
 * start at 21, 47 and 73, and deny and kill are alerts too. */
static const int default_severities[] = {
	[POLICY_ALLOW] = 0, [POLICY_LOG] = 0,	[POLICY_ALERT] = 47,
	[POLICY_DENY] = 47, [POLICY_KILL] = 73,
};

static const char *name_or_unknown(const char *const *names, size_t count,
				   unsigned int value)
{
	if (value >= count || !names[value])
		return "unknown";
	return names[value];
}

const char *origin_kind_name(enum origin_kind kind)
{
	return name_or_unknown(origin_kind_names, ORIGIN_KIND_COUNT, kind);
}

const char *load_source_name(enum load_source source)
{
	return name_or_unknown(load_source_names, LOAD_SOURCE_COUNT, source);
}

const char *abi_name(enum abi abi)
{
	return name_or_unknown(abi_names, ARRAY_SIZE(abi_names), abi);
}

const char *policy_event_name(enum policy_event event)
{
	return name_or_unknown(policy_event_names, EVENT_COUNT, event);
}

const char *policy_action_name(enum policy_action action)
{
	return name_or_unknown(policy_action_names, policy_action_count,
			       action);
}

const char *policy_mode_name(enum policy_mode mode)
{
	return name_or_unknown(mode_names, ARRAY_SIZE(mode_names), mode);
}

int default_severity(enum policy_action action)
{
	if ((unsigned int)action >= ARRAY_SIZE(default_severities))
		return 0;
	return default_severities[action];
}

/* Returns the index of text in names, skipping NULL holes, or -1. */
int lookup_name(const char *const *names, size_t count, const char *text)
{
	for (size_t i = 0; i < count; i++) {
		if (names[i] && strcmp(names[i], text) == 0)
			return (int)i;
	}
	return -1;
}

/* Names longer than this get no suggestion, which bounds the cost of the
 * edit distance on hostile input. */
#define SUGGEST_LENGTH_MAX 64

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t min = a < b ? a : b;

	return min < c ? min : c;
}

/*
 * Returns the optimal string alignment distance between a and b, ignoring
 * case: insertions, deletions, substitutions and swaps of two neighbouring
 * bytes each cost 1. Both lengths are at most SUGGEST_LENGTH_MAX.
 */
static size_t edit_distance(const char *a, size_t a_length, const char *b,
			    size_t b_length)
{
	size_t rows[3][SUGGEST_LENGTH_MAX + 1];
	size_t *before = rows[0], *previous = rows[1], *current = rows[2];

	for (size_t j = 0; j <= b_length; j++)
		previous[j] = j;

	for (size_t i = 1; i <= a_length; i++) {
		int ai = tolower((unsigned char)a[i - 1]);

		current[0] = i;
		for (size_t j = 1; j <= b_length; j++) {
			int bj = tolower((unsigned char)b[j - 1]);
			size_t cost = ai != bj;

			current[j] = min3(previous[j] + 1, current[j - 1] + 1,
					  previous[j - 1] + cost);
			if (i > 1 && j > 1 &&
			    ai == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == bj &&
			    before[j - 2] + 1 < current[j])
				current[j] = before[j - 2] + 1;
		}

		size_t *spare = before;

		before = previous;
		previous = current;
		current = spare;
	}
	return previous[b_length];
}

/*
 * Returns the name closest to text, or NULL when none is close: at most
 * one edit for names of up to five bytes and two edits beyond, so that a
 * suggestion is a likely typo and not a guess.
 */
const char *suggest_name(const char *text, const char *const *names,
			 size_t count)
{
	size_t length = strlen(text);
	size_t limit = length <= 5 ? 1 : 2;
	size_t best_distance = limit + 1;
	const char *best = NULL;

	if (length == 0 || length > SUGGEST_LENGTH_MAX)
		return NULL;

	for (size_t i = 0; i < count; i++) {
		size_t name_length;
		size_t distance;

		if (!names[i])
			continue;
		name_length = strlen(names[i]);
		if (name_length > SUGGEST_LENGTH_MAX ||
		    name_length > length + limit ||
		    length > name_length + limit)
			continue;
		distance = edit_distance(text, length, names[i], name_length);
		if (distance < best_distance) {
			best_distance = distance;
			best = names[i];
		}
	}
	return best;
}

/* errno values are below 4096 on Linux: the kernel returns -4095..-1. */
#define ERRNO_MAX 4095

const char *errno_name(int error)
{
	if (error <= 0 || error > ERRNO_MAX)
		return NULL;
	return strerrorname_np(error);
}

/* Returns the errno value of a name such as "EPERM", or -1. The names come
 * from glibc's strerrorname_np(3), so no table here can fall out of date. */
int lookup_errno(const char *name)
{
	/* Names that glibc defines as equal to another, which
	 * strerrorname_np(3) never returns. */
	static const struct {
		const char *alias, *name;
	} aliases[] = {
		{ "EWOULDBLOCK", "EAGAIN" },
		{ "ENOTSUP", "EOPNOTSUPP" },
		{ "EDEADLOCK", "EDEADLK" },
	};

	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
		if (strcmp(name, aliases[i].alias) == 0)
			name = aliases[i].name;
	}
	for (int error = 1; error <= ERRNO_MAX; error++) {
		const char *known = strerrorname_np(error);

		if (known && strcmp(known, name) == 0)
			return error;
	}
	return -1;
}

const char *suggest_errno(const char *name)
{
	const char *names[ERRNO_MAX];
	size_t count = 0;

	for (int error = 1; error <= ERRNO_MAX; error++) {
		const char *known = strerrorname_np(error);

		if (known)
			names[count++] = known;
	}
	return suggest_name(name, names, count);
}
