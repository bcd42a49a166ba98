/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tests of rule matching with the default policy, of the matcher's field
 * semantics, and of the names that the policy's enumerations have in events.
 */
#include <criterion/criterion.h>
#include <stddef.h>

#include "abi.h"
#include "policy/policy.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct match_case {
	const char *label;
	struct policy_facts facts;
	const char *rule_id; /* NULL: no rule matches */
	enum policy_action action;
};

#define DIRECT(kind, libc)                                               \
	{                                                                \
		.event = EVENT_DIRECT_SYSCALL, .abi = ABI_X86_64,        \
		.syscall = "mprotect", .origin = (kind),                 \
		.libc_mapped = (libc),                                   \
	}

#define MODULE_LOAD(file_path, kind, writable)                          \
	{                                                                \
		.event = EVENT_MODULE_LOAD, .abi = ABI_X86_64,           \
		.syscall = "mmap", .origin = ORIGIN_LOADER,              \
		.path = (file_path), .file_kind = (kind),                \
		.path_in_writable_dir = (writable), .libc_mapped = true, \
	}

#define NATIVE_API(name)                                                  \
	{                                                                 \
		.event = EVENT_NATIVE_API, .abi = ABI_X86_64,             \
		.syscall = (name), .origin = ORIGIN_LIBC,                 \
		.libc_mapped = true,                                      \
	}

static const struct match_case match_cases[] = {
	{ "direct from anonymous", DIRECT(ORIGIN_ANONYMOUS, true), "nm-0002",
	  POLICY_ALERT },
	{ "direct from heap", DIRECT(ORIGIN_HEAP, true), "nm-0002",
	  POLICY_ALERT },
	{ "direct from stack", DIRECT(ORIGIN_STACK, true), "nm-0002",
	  POLICY_ALERT },
	{ "direct from memfd", DIRECT(ORIGIN_MEMFD, true), "nm-0002",
	  POLICY_ALERT },
	{ "direct from deleted", DIRECT(ORIGIN_DELETED, true), "nm-0002",
	  POLICY_ALERT },
	{ "direct from unknown", DIRECT(ORIGIN_UNKNOWN, true), "nm-0002",
	  POLICY_ALERT },
	{ "direct from anonymous without libc",
	  DIRECT(ORIGIN_ANONYMOUS, false), "nm-0002", POLICY_ALERT },
	{ "direct from static executable", DIRECT(ORIGIN_EXECUTABLE, false),
	  "nm-0003", POLICY_LOG },
	{ "direct from library without libc", DIRECT(ORIGIN_LIBRARY, false),
	  "nm-0003", POLICY_LOG },
	{ "direct from executable with libc",
	  DIRECT(ORIGIN_EXECUTABLE, true), "nm-0004", POLICY_ALERT },
	{ "direct from library with libc", DIRECT(ORIGIN_LIBRARY, true),
	  "nm-0004", POLICY_ALERT },
	{ "non-native ABI",
	  { .event = EVENT_NON_NATIVE_ABI, .abi = ABI_I386,
	    .syscall = "execve", .origin = ORIGIN_EXECUTABLE },
	  "nm-0001", POLICY_ALERT },
	{ "fileless exec",
	  { .event = EVENT_FILELESS_EXEC, .abi = ABI_X86_64,
	    .syscall = "execveat", .origin = ORIGIN_LIBC,
	    .path = "/memfd:payload", .file_kind = ORIGIN_MEMFD },
	  "nm-0005", POLICY_ALERT },
	{ "module from memfd", MODULE_LOAD("/memfd:lib", ORIGIN_MEMFD, false),
	  "nm-0006", POLICY_ALERT },
	{ "module from deleted file",
	  MODULE_LOAD("/opt/app/old.so", ORIGIN_DELETED, false), "nm-0006",
	  POLICY_ALERT },
	{ "module from /tmp",
	  MODULE_LOAD("/tmp/x/lib.so", ORIGIN_LIBRARY, true), "nm-0007",
	  POLICY_ALERT },
	{ "module from /dev/shm",
	  MODULE_LOAD("/dev/shm/lib.so", ORIGIN_LIBRARY, false), "nm-0007",
	  POLICY_ALERT },
	{ "module from /var/tmp",
	  MODULE_LOAD("/var/tmp/lib.so", ORIGIN_LIBRARY, false), "nm-0007",
	  POLICY_ALERT },
	{ "module from writable directory",
	  MODULE_LOAD("/srv/upload/lib.so", ORIGIN_LIBRARY, true), "nm-0008",
	  POLICY_ALERT },
	{ "module from system directory",
	  MODULE_LOAD("/usr/lib/x86_64-linux-gnu/libm.so.6", ORIGIN_LIBRARY,
		      false),
	  "nm-0009", POLICY_LOG },
	{ "module with unknown path", MODULE_LOAD(NULL, ORIGIN_LIBRARY, false),
	  "nm-0009", POLICY_LOG },
	{ "exec",
	  { .event = EVENT_EXEC, .abi = ABI_X86_64, .syscall = "execve",
	    .origin = ORIGIN_LIBC, .path = "/usr/bin/ls",
	    .file_kind = ORIGIN_LIBRARY, .libc_mapped = true },
	  "nm-0010", POLICY_LOG },
	{ "ptrace", NATIVE_API("ptrace"), "nm-0011", POLICY_LOG },
	{ "process_vm_writev", NATIVE_API("process_vm_writev"), "nm-0011",
	  POLICY_LOG },
	{ "finit_module", NATIVE_API("finit_module"), "nm-0011", POLICY_LOG },
	{ "memfd_create", NATIVE_API("memfd_create"), NULL, POLICY_ALLOW },
	{ "mprotect", NATIVE_API("mprotect"), NULL, POLICY_ALLOW },
	{ "unknown syscall name", NATIVE_API(NULL), NULL, POLICY_ALLOW },
};

Test(policy_match, applies_default_rules)
{
	const struct policy *policy = policy_default();
	size_t n = ARRAY_SIZE(match_cases);

	for (size_t i = 0; i < n; i++) {
		const struct match_case *c = &match_cases[i];
		const struct policy_rule *rule;

		rule = policy_match(policy, &c->facts);

		if (!c->rule_id) {
			cr_expect_null(rule, "%s: matched %s", c->label,
				       rule ? rule->id : "");
			continue;
		}
		cr_expect_not_null(rule, "%s: no rule matched", c->label);
		if (!rule)
			continue;
		cr_expect_str_eq(rule->id, c->rule_id,
				 "%s: matched %s, expected %s", c->label,
				 rule->id, c->rule_id);
		cr_expect_eq(rule->action, c->action,
			     "%s: action %s, expected %s", c->label,
			     policy_action_name(rule->action),
			     policy_action_name(c->action));
	}
}

Test(policy_default, has_unique_ids_and_valid_severities)
{
	const struct policy *policy = policy_default();

	cr_assert_not_null(policy);
	cr_assert_gt(policy->rule_count, 0);
	for (size_t i = 0; i < policy->rule_count; i++) {
		const struct policy_rule *rule = &policy->rules[i];

		cr_expect_not_null(rule->id, "rule %zu has no id", i);
		cr_expect_not_null(rule->name, "rule %zu has no name", i);
		cr_expect_leq(rule->severity, 100, "%s: severity %d", rule->id,
			      rule->severity);
		cr_expect_geq(rule->severity, 0, "%s: severity %d", rule->id,
			      rule->severity);
		for (size_t j = 0; j < i; j++)
			cr_expect_str_neq(policy->rules[j].id, rule->id,
					  "rules %zu and %zu share an id", j,
					  i);
	}
}

/* A misspelt name would silently watch or match nothing. */
Test(policy_default, names_only_known_syscalls)
{
	const struct policy *policy = policy_default();

	cr_assert_gt(policy->watch_count, 0);
	for (size_t i = 0; i < policy->watch_count; i++) {
		const char *name = policy->watches[i].syscall;

		cr_expect_not_null(name, "watch %zu has no syscall", i);
		if (name)
			cr_expect_geq(abi_native_nr(name), 0,
				      "watch %zu: unknown syscall \"%s\"", i,
				      name);
	}
	for (size_t i = 0; i < policy->rule_count; i++) {
		const char *const *names = policy->rules[i].syscalls;

		for (; names && *names; names++)
			cr_expect_geq(abi_native_nr(*names), 0,
				      "%s: unknown syscall \"%s\"",
				      policy->rules[i].id, *names);
	}
}

static const char *const ptrace_only[] = { "ptrace", NULL };
static const char *const tmp_glob[] = { "/tmp/*", NULL };

Test(policy_rule_matches, requires_known_syscall_and_path)
{
	const struct policy_rule rule = {
		.id = "test-1",
		.event = EVENT_NATIVE_API,
		.syscalls = ptrace_only,
		.paths = tmp_glob,
	};
	struct policy_facts facts = {
		.event = EVENT_NATIVE_API,
		.syscall = "ptrace",
		.path = "/tmp/a",
	};

	cr_expect(policy_rule_matches(&rule, &facts));
	facts.syscall = NULL;
	cr_expect_not(policy_rule_matches(&rule, &facts));
	facts.syscall = "ptrace";
	facts.path = NULL;
	cr_expect_not(policy_rule_matches(&rule, &facts));
	facts.path = "/var/a";
	cr_expect_not(policy_rule_matches(&rule, &facts));
	facts.path = "/tmp/a";
	facts.event = EVENT_EXEC;
	cr_expect_not(policy_rule_matches(&rule, &facts));
}

Test(policy_rule_matches, honours_tristates_and_kinds)
{
	const struct policy_rule rule = {
		.id = "test-2",
		.event = EVENT_MODULE_LOAD,
		.origins = ORIGIN_BIT(ORIGIN_LOADER),
		.file_kinds = ORIGIN_BIT(ORIGIN_MEMFD),
		.writable_dir = POLICY_NO,
		.libc_mapped = POLICY_YES,
	};
	struct policy_facts facts = {
		.event = EVENT_MODULE_LOAD,
		.origin = ORIGIN_LOADER,
		.file_kind = ORIGIN_MEMFD,
		.path_in_writable_dir = false,
		.libc_mapped = true,
	};

	cr_expect(policy_rule_matches(&rule, &facts));
	facts.origin = ORIGIN_LIBC;
	cr_expect_not(policy_rule_matches(&rule, &facts));
	facts.origin = ORIGIN_LOADER;
	facts.file_kind = ORIGIN_DELETED;
	cr_expect_not(policy_rule_matches(&rule, &facts));
	facts.file_kind = ORIGIN_MEMFD;
	facts.path_in_writable_dir = true;
	cr_expect_not(policy_rule_matches(&rule, &facts));
	facts.path_in_writable_dir = false;
	facts.libc_mapped = false;
	cr_expect_not(policy_rule_matches(&rule, &facts));
}

static const char *const origin_names[] = {
	[ORIGIN_UNKNOWN] = "unknown",	[ORIGIN_LIBC] = "libc",
	[ORIGIN_LOADER] = "loader",	[ORIGIN_VDSO] = "vdso",
	[ORIGIN_EXECUTABLE] = "executable", [ORIGIN_LIBRARY] = "library",
	[ORIGIN_ANONYMOUS] = "anonymous", [ORIGIN_HEAP] = "heap",
	[ORIGIN_STACK] = "stack",	[ORIGIN_MEMFD] = "memfd",
	[ORIGIN_DELETED] = "deleted",
};

static const char *const event_names[] = {
	[EVENT_NATIVE_API] = "native-api",
	[EVENT_DIRECT_SYSCALL] = "direct-syscall",
	[EVENT_UNBACKED_CALLER] = "unbacked-caller",
	[EVENT_NON_NATIVE_ABI] = "non-native-abi",
	[EVENT_FILELESS_EXEC] = "fileless-exec",
	[EVENT_MODULE_LOAD] = "module-load",
	[EVENT_STACK_PIVOT] = "stack-pivot",
	[EVENT_EXEC] = "exec",
};

static const char *const abi_names[] = {
	[ABI_X86_64] = "x86_64",
	[ABI_I386] = "i386",
	[ABI_X32] = "x32",
	[ABI_UNKNOWN] = "unknown",
};

static const char *const action_names[] = {
	[POLICY_ALLOW] = "allow",
	[POLICY_LOG] = "log",
	[POLICY_ALERT] = "alert",
};

Test(origin_kind_name, names_every_kind)
{
	for (int kind = 0; kind < ORIGIN_KIND_COUNT; kind++)
		cr_expect_str_eq(origin_kind_name(kind), origin_names[kind],
				 "kind %d", kind);
	cr_expect_str_eq(origin_kind_name(ORIGIN_KIND_COUNT), "unknown");
	cr_expect_str_eq(origin_kind_name((enum origin_kind)-1), "unknown");
}

Test(policy_event_name, names_every_event)
{
	for (int event = 0; event < EVENT_COUNT; event++)
		cr_expect_str_eq(policy_event_name(event), event_names[event],
				 "event %d", event);
	cr_expect_str_eq(policy_event_name(EVENT_COUNT), "unknown");
	cr_expect_str_eq(policy_event_name((enum policy_event)-1), "unknown");
}

Test(abi_name, names_every_abi)
{
	for (int abi = 0; abi <= ABI_UNKNOWN; abi++)
		cr_expect_str_eq(abi_name(abi), abi_names[abi], "abi %d", abi);
	cr_expect_str_eq(abi_name((enum abi)(ABI_UNKNOWN + 1)), "unknown");
	cr_expect_str_eq(abi_name((enum abi)-1), "unknown");
}

Test(policy_action_name, names_every_action)
{
	for (int action = 0; action <= POLICY_ALERT; action++)
		cr_expect_str_eq(policy_action_name(action),
				 action_names[action], "action %d", action);
	cr_expect_str_eq(policy_action_name((enum policy_action)7),
			 "unknown");
}
