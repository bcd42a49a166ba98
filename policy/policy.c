/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Rule matching and the names of the policy's enumerations. Rules are tried
 * in order and the first match decides, so specific rules come before
 * general ones.
 */
#include "policy.h"

#include <fnmatch.h>
#include <string.h>

static const char *const origin_kind_names[ORIGIN_KIND_COUNT] = {
	[ORIGIN_UNKNOWN] = "unknown",
	[ORIGIN_LIBC] = "libc",
	[ORIGIN_LOADER] = "loader",
	[ORIGIN_VDSO] = "vdso",
	[ORIGIN_EXECUTABLE] = "executable",
	[ORIGIN_LIBRARY] = "library",
	[ORIGIN_ANONYMOUS] = "anonymous",
	[ORIGIN_HEAP] = "heap",
	[ORIGIN_STACK] = "stack",
	[ORIGIN_MEMFD] = "memfd",
	[ORIGIN_DELETED] = "deleted",
};

static const char *const event_names[EVENT_COUNT] = {
	[EVENT_NATIVE_API] = "native-api",
	[EVENT_DIRECT_SYSCALL] = "direct-syscall",
	[EVENT_UNBACKED_CALLER] = "unbacked-caller",
	[EVENT_NON_NATIVE_ABI] = "non-native-abi",
	[EVENT_FILELESS_EXEC] = "fileless-exec",
	[EVENT_MODULE_LOAD] = "module-load",
	[EVENT_STACK_PIVOT] = "stack-pivot",
	[EVENT_EXEC] = "exec",
};

const char *origin_kind_name(enum origin_kind kind)
{
	if ((unsigned int)kind >= ORIGIN_KIND_COUNT)
		return "unknown";
	return origin_kind_names[kind];
}

const char *abi_name(enum abi abi)
{
	switch (abi) {
	case ABI_X86_64:
		return "x86_64";
	case ABI_I386:
		return "i386";
	case ABI_X32:
		return "x32";
	default:
		return "unknown";
	}
}

const char *policy_event_name(enum policy_event event)
{
	if ((unsigned int)event >= EVENT_COUNT)
		return "unknown";
	return event_names[event];
}

const char *policy_action_name(enum policy_action action)
{
	switch (action) {
	case POLICY_ALLOW:
		return "allow";
	case POLICY_LOG:
		return "log";
	case POLICY_ALERT:
		return "alert";
	default:
		return "unknown";
	}
}

static bool matches_tristate(enum policy_tristate want, bool value)
{
	return want == POLICY_ANY || (want == POLICY_YES) == value;
}

static bool matches_kind(uint32_t kinds, enum origin_kind kind)
{
	return kinds == 0 || (kinds & ORIGIN_BIT(kind)) != 0;
}

static bool matches_name(const char *const *names, const char *name)
{
	if (!names)
		return true;
	if (!name)
		return false;
	for (; *names; names++) {
		if (strcmp(*names, name) == 0)
			return true;
	}
	return false;
}

static bool matches_glob(const char *const *globs, const char *path)
{
	if (!globs)
		return true;
	if (!path)
		return false;
	for (; *globs; globs++) {
		if (fnmatch(*globs, path, 0) == 0)
			return true;
	}
	return false;
}

bool policy_rule_matches(const struct policy_rule *rule,
			 const struct policy_facts *facts)
{
	if (rule->event != facts->event)
		return false;
	if (!matches_name(rule->syscalls, facts->syscall))
		return false;
	if (!matches_kind(rule->origins, facts->origin))
		return false;
	if (!matches_kind(rule->file_kinds, facts->file_kind))
		return false;
	if (!matches_glob(rule->paths, facts->path))
		return false;
	if (!matches_tristate(rule->writable_dir, facts->path_in_writable_dir))
		return false;
	if (!matches_tristate(rule->path_unknown, facts->path_unknown))
		return false;
	if (!matches_tristate(rule->program_abi, facts->program_abi))
		return false;
	return matches_tristate(rule->libc_mapped, facts->libc_mapped);
}

const struct policy_rule *policy_match(const struct policy *policy,
				       const struct policy_facts *facts)
{
	for (size_t i = 0; i < policy->rule_count; i++) {
		if (policy_rule_matches(&policy->rules[i], facts))
			return &policy->rules[i];
	}
	return NULL;
}
